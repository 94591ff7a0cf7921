/* gateway.c: the gateway's route table, matching, and the request head
 * sent upstream (see gateway.h; connections live in upstream.c). */
#include "server/gateway.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/gateway_int.h"
#include "server/hex.h"

static int gateway_resolve(struct gateway_route *gr, const char *url, char *err, size_t errlen)
{
    char host[CONFIG_ITEM_MAX], port[8], why[200];
    int p;
    if (config_upstream_split(url, host, sizeof host, &p, why, sizeof why) != 0) {
        snprintf(err, errlen, "gateway upstream %s: %s", url, why);
        return -1;
    }
    snprintf(port, sizeof port, "%d", p);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || ai == NULL || ai->ai_addrlen > sizeof gr->addr) {
        snprintf(err, errlen, "gateway upstream %s: %s", url, rc ? gai_strerror(rc) : "no address");
        if (ai)
            freeaddrinfo(ai);
        return -1;
    }
    memcpy(&gr->addr, ai->ai_addr, ai->ai_addrlen);
    gr->alen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int gateway_create(struct gateway **out, const struct gateway_config *cfg,
                   const struct gateway_hooks *hooks, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->n == 0)
        return 0;
    struct gateway *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(err, errlen, "gateway: out of memory");
        return -1;
    }
    if (hooks)
        g->hooks = *hooks;
    for (int i = 0; i < cfg->n; i++) {
        const struct gateway_route_config *rc = &cfg->routes[i];
        struct gateway_route *gr = &g->routes[i];
        snprintf(gr->prefix, sizeof gr->prefix, "%s", rc->prefix);
        gr->plen = strlen(gr->prefix);
        gr->strip_prefix = rc->strip_prefix;
        gr->forward_authorization = rc->forward_authorization;
        gr->timeout_ms = rc->timeout_ms;
        gr->max_connections = rc->max_connections;
        gr->access = strcmp(rc->access, "public") == 0 ? 0
                     : g->hooks.access_level ? g->hooks.access_level(rc->access, g->hooks.arg)
                                             : -1;
        if (gr->access < 0) {
            snprintf(err, errlen, "gateway route %s: access '%s' is not known here", rc->prefix,
                     rc->access);
            goto fail;
        }
        if (gateway_resolve(gr, rc->upstream, err, errlen) != 0)
            goto fail;
        snprintf(gr->authority, sizeof gr->authority, "%s", rc->upstream + 7);
    }
    g->n = cfg->n;
    *out = g;
    return 0;
fail:
    free(g);
    return -1;
}

void gateway_free(struct gateway *g) { free(g); }

const struct gateway_route *gateway_match(const struct gateway *g, struct str path)
{
    const struct gateway_route *best = NULL;
    if (g == NULL)
        return NULL;
    for (int i = 0; i < g->n; i++) {
        const struct gateway_route *r = &g->routes[i];
        if (path.n >= r->plen && memcmp(path.p, r->prefix, r->plen) == 0 &&
            (best == NULL || r->plen > best->plen))
            best = r;
    }
    return best;
}

/* Is the "%XY" at p[0..2] (n bytes left) well formed and of a byte that
 * must not be spelled encoded? */
static bool pct_refused(const char *p, size_t n)
{
    int hi = n >= 3 ? hex_value((unsigned char)p[1]) : -1;
    int lo = n >= 3 ? hex_value((unsigned char)p[2]) : -1;
    if (hi < 0 || lo < 0)
        return true;
    char c = (char)(hi * 16 + lo);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~/\\", c) != NULL;
}

bool gateway_path_safe(struct str path)
{
    if (path.n == 0 || path.p[0] != '/')
        return false;
    size_t seg = 1; /* start of the current segment */
    for (size_t i = 1; i <= path.n; i++) {
        if (i < path.n && path.p[i] == '\\')
            return false;
        if (i < path.n && path.p[i] == '%' && pct_refused(path.p + i, path.n - i))
            return false;
        if (i < path.n && path.p[i] != '/')
            continue;
        size_t len = i - seg;
        if (len == 0 && i < path.n) /* "//"; a trailing '/' is fine */
            return false;
        const char *semi = memchr(path.p + seg, ';', len); /* "..;x" is ".." to some servers */
        if (semi != NULL)
            len = (size_t)(semi - (path.p + seg));
        if ((len == 1 && path.p[seg] == '.') || (len == 2 && memcmp(path.p + seg, "..", 2) == 0))
            return false;
        seg = i + 1;
    }
    return true;
}

int gateway_route_access(const struct gateway_route *r) { return r->access; }
const char *gateway_route_label(const struct gateway_route *r) { return r->prefix; }
int gateway_route_index(const struct gateway *g, const struct gateway_route *r)
{
    return (int)(r - g->routes);
}
int gateway_route_count(const struct gateway *g) { return g ? g->n : 0; }
const char *gateway_route_prefix(const struct gateway *g, int i) { return g->routes[i].prefix; }

/* ---- the request head for the upstream ---- */

/* Does the comma-separated token list `list` hold `name`? */
bool gateway_token_listed(struct str list, struct str name)
{
    size_t i = 0;
    while (i < list.n) {
        while (i < list.n && (list.p[i] == ' ' || list.p[i] == '\t' || list.p[i] == ','))
            i++;
        size_t start = i;
        while (i < list.n && list.p[i] != ',' && list.p[i] != ' ' && list.p[i] != '\t')
            i++;
        if (i - start == name.n && name.n > 0 && strncasecmp(list.p + start, name.p, name.n) == 0)
            return true;
    }
    return false;
}

bool gateway_hop_by_hop(struct str name, const struct http_header *hdrs, size_t n)
{
    static const char *const hop[] = { "Connection",        "Keep-Alive", "TE", "Trailer",
                                       "Transfer-Encoding", "Upgrade",    NULL };
    for (int i = 0; hop[i] != NULL; i++)
        if (str_ieq(name, hop[i]))
            return true;
    if (name.n >= 6 && strncasecmp(name.p, "Proxy-", 6) == 0)
        return true;
    if (str_ieq(name, "Host")) /* end to end, whatever Connection names */
        return false;
    for (size_t i = 0; i < n; i++)
        if (str_ieq(hdrs[i].name, "Connection") && gateway_token_listed(hdrs[i].value, name))
            return true;
    return false;
}

/* Client headers never forwarded: framing we redo, and whatever would let
 * a client speak for Portcullis (the identity and forwarding headers).
 * Any name with '_' goes too: CGI-style upstreams (WSGI, PHP) read '_' and
 * '-' alike, so X_Portcullis_Role would reach them as X-Portcullis-Role. */
static bool gateway_dropped(const struct gateway_route *r, struct str name)
{
    if (memchr(name.p, '_', name.n) != NULL)
        return true;
    static const char *const drop[] = { "Content-Length",
                                        "Expect",
                                        "X-Request-Id",
                                        "X-Forwarded-For",
                                        "X-Forwarded-Proto",
                                        "Forwarded",
                                        "X-Forwarded-Host",
                                        "X-Forwarded-Port",
                                        "X-Forwarded-Prefix",
                                        "X-Real-IP",
                                        "X-Original-URL",
                                        "X-Rewrite-URL",
                                        NULL };
    for (int i = 0; drop[i] != NULL; i++)
        if (str_ieq(name, drop[i]))
            return true;
    if (name.n >= 13 && strncasecmp(name.p, "X-Portcullis-", 13) == 0)
        return true;
    return !r->forward_authorization && str_ieq(name, "Authorization");
}

static int put_header(struct buf *out, const char *name, struct str value)
{
    int rc = buf_append_str(out, name);
    rc |= buf_append(out, ": ", 2);
    rc |= buf_append(out, value.p, value.n);
    rc |= buf_append(out, "\r\n", 2);
    return rc;
}

static int put_identity(const struct gateway *g, const struct http_exchange *ex, struct buf *out)
{
    struct gateway_identity id;
    if (g->hooks.identity == NULL || ex->principal == NULL ||
        g->hooks.identity(ex, &id, g->hooks.arg) != 0)
        return 0;
    int rc = put_header(out, "X-Portcullis-User-Id", str_make(id.user_id, strlen(id.user_id)));
    rc |= put_header(out, "X-Portcullis-Username", str_make(id.username, strlen(id.username)));
    rc |= put_header(out, "X-Portcullis-Role", str_make(id.role, strlen(id.role)));
    return rc;
}

int gateway_request_head(const struct gateway *g, const struct gateway_route *r,
                         const struct http_exchange *ex, struct buf *out)
{
    const struct http_request_head *h = &ex->req.head;
    struct str target = h->target;
    if (r->strip_prefix) /* "/notes/x?y" -> "/x?y": the prefix's last '/' stays */
        target = str_make(target.p + r->plen - 1, target.n - (r->plen - 1));
    int rc = buf_append(out, h->method.p, h->method.n);
    rc |= buf_append(out, " ", 1);
    rc |= buf_append(out, target.p, target.n);
    rc |= buf_append_str(out, " HTTP/1.1\r\n");
    for (size_t i = 0; i < h->num_headers; i++) {
        const struct http_header *x = &h->headers[i];
        if (gateway_hop_by_hop(x->name, h->headers, h->num_headers) || gateway_dropped(r, x->name))
            continue;
        rc |= buf_append(out, x->name.p, x->name.n);
        rc |= buf_append(out, ": ", 2);
        rc |= buf_append(out, x->value.p, x->value.n);
        rc |= buf_append(out, "\r\n", 2);
    }
    if (http_req_header(&ex->req, "Host").p == NULL) /* HTTP/1.0 may omit it; 1.1 may not */
        rc |= put_header(out, "Host", str_make(r->authority, strlen(r->authority)));
    if (ex->req.body_chunked) /* re-framed as it arrives (upstream.c) */
        rc |= buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    else if (ex->req.body_total > 0 || http_req_header(&ex->req, "Content-Length").p != NULL)
        rc |= buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)ex->req.body_total);
    rc |= put_identity(g, ex, out);
    rc |= put_header(out, "X-Request-Id", str_make(ex->request_id, strlen(ex->request_id)));
    rc |= put_header(out, "X-Forwarded-For",
                     str_make(ex->req.client_ip, strlen(ex->req.client_ip)));
    rc |= buf_append_str(out, ex->req.is_tls ? "X-Forwarded-Proto: https\r\n\r\n"
                                             : "X-Forwarded-Proto: http\r\n\r\n");
    return rc == 0 ? 0 : -1;
}
