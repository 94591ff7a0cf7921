/* gateway_int.h: what the gateway's files share (gateway.c: the table and
 * the request to the upstream; upstream.c: connections; upstream_resp.c:
 * the upstream's answer). Internal to server/gateway*.c and upstream*.c. */
#ifndef PC_GATEWAY_INT_H
#define PC_GATEWAY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/buf.h"
#include "server/gateway.h"
#include "server/http_parse.h"

struct gateway_route {
    char prefix[CONFIG_ITEM_MAX];
    size_t plen;
    int access;
    bool strip_prefix;
    bool forward_authorization;
    int timeout_ms;
    int max_connections;
    char authority[CONFIG_ITEM_MAX]; /* "host:port" of the upstream's URL */
    struct sockaddr_storage addr;    /* the upstream, resolved at start */
    socklen_t alen;
};

struct gateway {
    struct gateway_route routes[GATEWAY_ROUTES_MAX];
    int n;
    struct gateway_hooks hooks;
};

/* Appends the request for the upstream (line and headers, not the body) to
 * out: hop-by-hop headers and every client copy of the identity headers
 * dropped, the identity added, Authorization only when the route says so,
 * the body framed by Content-Length, or chunked when the client's was
 * (req.body_chunked). 0 or -1 (out full). */
int gateway_request_head(const struct gateway *g, const struct gateway_route *r,
                         const struct http_exchange *ex, struct buf *out);

/* Whether the comma-separated token list holds tok (case-insensitive). */
bool gateway_token_listed(struct str list, struct str tok);

/* Whether a header (by name) is hop-by-hop (RFC 9110 §7.6.1) or named by
 * one of the Connection headers among hdrs; never Host, whatever Connection
 * names (the upstream needs it; the names Portcullis sets itself are added
 * after this filter, so Connection cannot remove them either). */
bool gateway_hop_by_hop(struct str name, const struct http_header *hdrs, size_t n);

/* ---- the upstream's answer (upstream_resp.c) ---- */

enum upstream_body { UP_BODY_NONE, UP_BODY_LENGTH, UP_BODY_CHUNKED, UP_BODY_CLOSE };

#define UPSTREAM_MAX_HEADERS 100

struct upstream_head {
    int status;
    int minor_version;
    struct str reason;
    struct http_header headers[UPSTREAM_MAX_HEADERS];
    size_t num_headers;
    enum upstream_body body;
    uint64_t content_length;
    bool has_length; /* a Content-Length header was sent (kept on bodyless answers) */
    bool keep_alive; /* the upstream connection may serve another request */
};

/* Parses a response head at buf[0..len). Returns its length, 0 when more
 * is needed, -1 when malformed (then *why says how). head_request: the
 * request was HEAD (no body whatever the headers say). */
long upstream_parse_head(const char *buf, size_t len, bool head_request, struct upstream_head *h,
                         const char **why);

/* What the client is sent for the upstream's head: its status line and
 * end-to-end headers, the framing for this client, Date, X-Request-Id and
 * the security headers where the upstream sent none. *chunked: the body
 * goes to the client chunked; *close: the client's connection must close
 * after it. 0 or -1 (out full). */
int upstream_client_head(const struct upstream_head *h, const struct http_stream_info *info,
                         const char *request_id, struct buf *out, bool *chunked, bool *close);

#endif
