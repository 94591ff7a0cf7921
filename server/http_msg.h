/* http_msg.h: the request a handler sees, the response it fills, and the
 * exchange that ties them to a connection.
 *
 * Lifetimes: every struct str in http_request points into the connection's
 * input buffer and stays valid until the exchange completes (the connection
 * reads nothing more while a handler runs). */
#ifndef PC_HTTP_MSG_H
#define PC_HTTP_MSG_H

#include <jansson.h>
#include <stddef.h>

#include "server/buf.h"
#include "server/http_parse.h"
#include "server/reqid.h"
#include "server/router.h"
#include "server/str.h"

struct pool;

struct http_request {
    struct http_request_head head; /* method, target, path, query, version,
                                      headers: as the parser left them */
    struct str body;
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
    struct pool *pool;          /* the job pool for pc_defer (set by the dispatcher), or NULL */
    char request_id[REQID_MAX]; /* echoed as X-Request-Id, in every log line */
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

#endif
