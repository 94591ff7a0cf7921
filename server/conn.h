/* conn.h: one client connection, internal to server/. conn.c runs the state
 * machine and the socket I/O; conn_http.c turns buffered bytes into
 * exchanges and responses. */
#ifndef PC_CONN_H
#define PC_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/buf.h"
#include "server/http_msg.h"
#include "server/http_parse.h"
#include "server/loop.h"
#include "server/worker.h"
#include "tls/tls.h"

enum conn_state {
    CONN_HANDSHAKE, /* TLS handshake in progress */
    CONN_READ,      /* reading / parsing a request (or idle between requests) */
    CONN_ASYNC,     /* a pool job is producing the response */
    CONN_WRITE,     /* response queued in out, draining to the socket */
};

struct conn {
    struct loop_io io;
    struct loop_timer timer;
    struct worker *w;
    struct conn *prev, *next; /* worker's list of live connections */
    struct tls_conn *tls;     /* NULL on the plain-HTTP listener */
    enum conn_state state;
    bool is_tls;
    bool idle;        /* between requests, nothing buffered */
    bool closed;      /* conn_close ran; memory freed later */
    bool dead;        /* must close at the next chance */
    bool job_pending; /* a pool job holds &ex */
    bool close_after_write;
    bool keep_alive; /* of the current request */
    bool sent_continue;
    uint32_t want; /* epoll interest while waiting */
    char client_ip[INET6_ADDRSTRLEN];
    int client_port;

    void *obs; /* the server observer's handle; NULL: not observed */

    struct buf in, out;
    size_t write_len; /* length of a TLS write to retry */

    /* the request being read */
    struct http_request_head head;
    struct http_header *hdrs; /* max_headers entries, allocated lazily */
    size_t last_len;          /* bytes of head already scanned */
    size_t head_len;          /* 0 until the head is complete */
    unsigned head_moves;      /* in.moves when head was parsed */
    struct http_framing fr;
    struct http_chunked chunked;
    size_t body_len;     /* body bytes at in[head_len..] */
    uint64_t started_us; /* monotonic, first byte of the request */
    int requests;

    struct http_exchange ex;
};

enum { CONN_NEED_MORE = 0, CONN_PROGRESS = 1, CONN_CLOSED = -1 };

/* conn.c */
void conn_close(struct conn *c);
/* Completion of an asynchronous exchange (on the owning loop). */
void conn_resume(struct conn *c);

/* conn_http.c */
/* Parses what is buffered and, once a request is complete, dispatches it.
 * Returns CONN_NEED_MORE (read more), CONN_PROGRESS (state changed: a
 * response is queued, or a job runs) or CONN_CLOSED. */
int conn_parse_and_dispatch(struct conn *c);
/* Serializes ex.resp onto out, logs the access line, resets the request
 * state and switches to CONN_WRITE. */
void conn_finish_exchange(struct conn *c);
/* Queues an error response with Connection: close (framing errors, limits,
 * timeouts: the connection's byte stream can no longer be trusted). */
void conn_fail(struct conn *c, int status, const char *code, const char *detail);

/* dispatch.c */
/* Routes the complete request in c (head + body buffered): redirect on the
 * plain listener, OPTIONS, router, access check, handler, static files.
 * Leaves c in CONN_WRITE (response queued) or CONN_ASYNC (job running). */
void conn_dispatch(struct conn *c);

#endif
