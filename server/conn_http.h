/* conn_http.h: the HTTP half of a connection (internal to server/): from the
 * bytes conn.c reads into `in` to a dispatched exchange, and from the answer
 * to the bytes on `out` that conn.c writes. It knows nothing of sockets,
 * timers or TLS, and calls nothing above it: each step returns what the
 * connection must do next. Every call runs on the connection's loop thread. */
#ifndef PC_CONN_HTTP_H
#define PC_CONN_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/buf.h"
#include "server/config.h"
#include "server/dispatch.h"
#include "server/http_msg.h"
#include "server/http_parse.h"
#include "server/loop.h"
#include "server/static_cache.h"

/* The largest read conn.c makes into `in`. */
#define CONN_READ_CHUNK 16384

/* What the HTTP halves of one loop's connections share (the worker owns it). */
struct conn_http_shared {
    const struct config *cfg;
    const struct dispatch_site *site;
    struct loop *loop;
    void *loop_data;              /* the composition root's, for ex.loop_data */
    struct static_cache files;    /* this loop's small static files */
    struct gateway_loop *gateway; /* this loop's upstream connections; NULL: none */
    bool draining;                /* stopping: every answer closes its connection */
};

struct conn_http {
    struct conn_http_shared *sh;
    bool is_tls;
    bool keep_alive; /* of the current request */
    bool sent_continue;
    bool close_after_write;           /* the queued answer is the last one */
    char client_ip[INET6_ADDRSTRLEN]; /* the peer, or the PROXY header's source */
    int client_port;
    char fwd_ip[INET6_ADDRSTRLEN]; /* the client named by a trusted proxy, or "" */

    struct buf in, out;

    /* the request being read; its parsed head is ex.req.head */
    struct http_header *hdrs; /* max_headers entries, allocated lazily */
    size_t last_len;          /* bytes of head already scanned */
    size_t head_len;          /* 0 until the head is complete */
    unsigned head_moves;      /* in.moves when head was parsed */
    struct http_framing fr;
    struct http_chunked chunked;
    size_t body_len;     /* body bytes at in[head_len..] */
    bool early;          /* dispatched before its body (a streamed request body) */
    uint64_t started_us; /* monotonic, first byte of the request */
    int requests;

    struct http_exchange ex;
};

/* What the connection does after conn_http_advance. */
enum conn_http_step {
    CONN_HTTP_NEED_MORE, /* read more into `in`, then call again */
    CONN_HTTP_BODY,      /* a head with a body arrived: arm the body timeout, call again */
    CONN_HTTP_WRITE,     /* `out` holds an answer (or a 100 Continue): write it */
    CONN_HTTP_LATER,     /* a handler's job runs: conn_http_finish once it completed */
    CONN_HTTP_CLOSE,     /* out of memory: close the connection */
};

/* Empty buffers sized from sh->cfg; client_ip/client_port are the caller's
 * to fill. Cannot fail (buffers allocate on first use). */
void conn_http_init(struct conn_http *h, struct conn_http_shared *sh, bool is_tls);
/* Frees the buffers and the exchange's principal. */
void conn_http_free(struct conn_http *h);
/* Between requests, nothing buffered: gives the buffers' memory back. */
void conn_http_idle(struct conn_http *h);

/* `in` moved (grown or compacted to make room for a read): the slice of a
 * streamed body (ex.req.body) follows its bytes at once, since its producer
 * may send from it before the next conn_http_advance. */
void conn_http_input_moved(struct conn_http *h);
/* Parses what `in` holds and, once a request is complete, dispatches it. */
enum conn_http_step conn_http_advance(struct conn_http *h);
/* Serializes ex.resp onto `out`, logs the access line and resets the
 * request state (after DISPATCH_LATER's completion). */
void conn_http_finish(struct conn_http *h);
/* Whether the connection may stay open after the current answer (the
 * client's wish, limits, a drain). */
bool conn_http_keep(const struct conn_http *h);
/* The end of an exchange whose answer is already on `out` (a streamed
 * one): metrics, access log, request state reset; keep = false closes the
 * connection once `out` is written. */
void conn_http_done(struct conn_http *h, int status, size_t bytes, bool keep);
/* Queues an error answer with Connection: close (framing errors, limits,
 * timeouts: the byte stream can no longer be trusted). */
void conn_http_fail(struct conn_http *h, int status, const char *code, const char *detail);

#endif
