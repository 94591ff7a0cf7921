/* http_msg.h: the request a handler sees, the response it fills, and the
 * exchange that ties them to a connection.
 *
 * Lifetimes: every struct str in http_request points into the connection's
 * input buffer and stays valid until the exchange completes (the connection
 * reads nothing more while a handler runs). */
#ifndef PC_HTTP_MSG_H
#define PC_HTTP_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/buf.h"
#include "server/http_parse.h"
#include "server/reqid.h"
#include "server/router.h"
#include "server/str.h"

struct pool;

struct http_request {
    struct http_request_head head; /* method, target, path, query, version,
                                      headers: as the parser left them */
    struct str body;               /* what arrived so far when body_more (see below) */
    uint64_t body_total;           /* the body's whole length (chunked: what arrived so far) */
    int body_more;                 /* a streamed body still arriving (gateway routes) */
    int body_chunked;              /* the client framed it with Transfer-Encoding: chunked
                                      (body holds the decoded bytes) */
    struct route_params params;
    const char *client_ip; /* "127.0.0.1" or "::1", NUL-terminated */
    int is_tls;            /* arrived on the HTTPS listener */
    int is_head;           /* HEAD: the writer drops the body */
};

/* Kinds of content, which decide the extra security headers. */
enum http_content { HTTP_CONTENT_NONE, HTTP_CONTENT_JSON, HTTP_CONTENT_HTML, HTTP_CONTENT_OTHER };

struct http_response {
    int status;               /* 0 until a handler sets it */
    const char *content_type; /* static string or NULL */
    enum http_content kind;
    struct buf headers; /* extra "Name: value\r\n" lines */
    struct buf body;
    int close; /* send Connection: close and close after */
};

struct http_stream_ops;
struct gateway_loop;

struct http_exchange {
    struct http_request req;
    struct http_response resp;
    void *loop_data;   /* per-loop data of the composition root */
    struct loop *loop; /* the owning loop */
    void *principal;   /* set by the access check; freed with principal_free */
    void (*principal_free)(void *principal);
    struct conn *conn; /* opaque owner (conn.c) */
    int route;         /* what answered, for the metrics: the router's index of
                          the route, or METRICS_ROUTE_STATIC / _UNMATCHED (< 0) */
    long long user_id; /* the authenticated user (set by the access check); 0: none */
    /* Its name and role, for pc_user: set by the access check with
     * user_id, pointing into the principal (NULL: none). */
    const char *user_name, *user_role;
    struct pool *pool; /* the job pool for pc_defer (set by the dispatcher), or NULL */
    /* A job will complete the exchange: pc_defer's is queued or its done is
     * running (or the demo's run, demo/demo_routes.c); a handler returning
     * "later" must have set it (dispatch.c). job_refused: a pc_defer was
     * refused meanwhile, the answer is a 500 (portcullis_job.c). Both
     * cleared with the request. */
    bool job_pending, job_refused;
    char request_id[REQID_MAX];   /* echoed as X-Request-Id, in every log line */
    struct gateway_loop *gateway; /* this loop's upstream connections (gateway.h) */
    const char *route_label;      /* a gateway route's prefix, for the access log; or NULL */
    /* Set while a streaming producer (the gateway) holds the exchange; the
     * connection calls stream_ops with stream_arg (see http_stream_begin). */
    const struct http_stream_ops *stream_ops;
    void *stream_arg;
};

/* Case-insensitive header lookup on the request; NULL slice p when absent. */
struct str http_req_header(const struct http_request *req, const char *name);

/* 1 when the request says Content-Type: application/json (parameters such
 * as charset allowed). */
int http_req_is_json(const struct http_request *req);

/* Adds a response header. Refuses (-1) names that are not tokens and values
 * with CR, LF or NUL, so no handler can split a response. */
int http_resp_header(struct http_response *resp, const char *name, const char *value);

/* Sets status and a JSON body (compact, jansson). Steals the reference to
 * body (NULL = no body). Marks the response as an API response. 0 or -1. */
int http_resp_json(struct http_response *resp, int status, json_t *body);
/* {"error": code, "detail": detail} with the status. */
int http_resp_error(struct http_response *resp, int status, const char *code, const char *detail);
/* Arbitrary bytes with a content type. */
int http_resp_bytes(struct http_response *resp, int status, const char *content_type,
                    enum http_content kind, const void *p, size_t n);

const char *http_status_text(int status);
/* The Date header value for now, formatted at most once a second per
 * thread; valid on this thread until the next second's call. */
const char *http_date_now(void);

/* Settings the writer needs. */
struct http_writer_opts {
    int hsts_max_age_s;
    int is_tls;
};

/* Serializes status line, standard and security headers, the handler's
 * headers, and the body (unless head_only) onto out. keep_alive decides the
 * Connection header. Returns 0 or -1 when out is full. */
int http_resp_write(const struct http_response *resp, const struct http_writer_opts *o,
                    int minor_version, int keep_alive, int head_only, struct buf *out);

/* Completes an exchange whose handler returned 1 (asynchronous). Must run on
 * the owning loop's thread (the pool's done callback does). */
void http_exchange_complete(struct http_exchange *ex);

/* A streamed answer (docs/ARCHITECTURE.md, Gateway). A producer whose
 * dispatch returned "later" sets ex->stream_ops and ex->stream_arg first;
 * from then on the connection tells it when the client went away (abort:
 * the producer must forget ex at once and never call back) and when every
 * byte queued so far was written (drained: the producer may produce more).
 * Before its head is ready the producer may still answer with ex->resp and
 * http_exchange_complete (clearing ex->stream_ops first). Every call runs on
 * the owning loop's thread. */
struct http_stream_ops {
    void (*drained)(void *arg);
    void (*abort)(void *arg);
    /* A request dispatched with its body still arriving (req.body_more):
     * req.body grew, or is complete (body_more 0). Called from inside the
     * connection's reading: the producer may write, and must neither fail
     * nor answer from here (it does so from its own events). */
    void (*body)(void *arg);
};

/* What the producer needs to write the head, and where it appends bytes. */
struct http_stream_info {
    struct buf *out;   /* the connection's output: append, then http_stream_push */
    int keep_alive;    /* the client's connection may stay open after this answer */
    int minor_version; /* the request's HTTP/1.x */
    int is_tls;
    int hsts_max_age_s;
};

/* Switches the exchange to streaming; fills *info. */
void http_stream_begin(struct http_exchange *ex, struct http_stream_info *info);
/* New bytes are on info->out: the connection writes what the socket takes.
 * May call stream_ops->abort (the client is gone) before it returns. */
void http_stream_push(struct http_exchange *ex);
/* The answer is complete (close = 0) or cut short (close = 1: the client's
 * connection closes once the bytes queued are written). status and bytes
 * go to the access log and metrics. ex belongs to the connection again:
 * the producer must not touch it, and must have released everything it
 * shares with a next request (this may start the next pipelined one). */
void http_stream_end(struct http_exchange *ex, int status, size_t bytes, int close);

#endif
