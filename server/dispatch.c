/* dispatch.c: what answers a complete request (see dispatch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/dispatch.h"
#include "server/cors.h"
#include "server/portcullis_int.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/metrics.h"

/* "/api" or "/api/...": a client of the JSON API, which must not be told
 * to repeat its request elsewhere (it would resend the password). */
static int dispatch_is_api(struct str path)
{
    return path.n >= 4 && memcmp(path.p, "/api", 4) == 0 && (path.n == 4 || path.p[4] == '/');
}

/* The host for the Location of a redirect: the (validated) Host header minus
 * its port, else the HTTPS listen address unless it is a wildcard; IPv6
 * literals bracketed. 0, or -1 when there is no usable host. */
static int dispatch_redirect_host(const struct dispatch_site *site, struct str host, char *out,
                                  size_t outlen)
{
    if (host.n > 0 && host.p[0] == '[') {
        const char *end = memchr(host.p, ']', host.n);
        host.n = end ? (size_t)(end - host.p) + 1 : host.n;
    } else if (host.n > 0) {
        const char *colon = memchr(host.p, ':', host.n);
        if (colon)
            host.n = (size_t)(colon - host.p);
    }
    if (host.n > 0) {
        if (host.n >= outlen)
            return -1;
        memcpy(out, host.p, host.n);
        out[host.n] = '\0';
        return 0;
    }
    const char *addr = site->cfg->server.https_address;
    if (strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0)
        return -1;
    int n = snprintf(out, outlen, strchr(addr, ':') ? "[%s]" : "%s", addr);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* The plain-HTTP listener, unless it serves (server_serve_plain): 308 to the
 * same path and query on HTTPS. The JSON API is refused instead (403): its
 * clients follow redirects silently, with the password already sent in the
 * clear. So is a request with no usable host or no path (OPTIONS *). */
static void dispatch_redirect(const struct dispatch_site *site, struct http_exchange *ex,
                              struct str host)
{
    char hostbuf[300], loc[4096];
    struct str target = ex->req.head.target;
    if (dispatch_is_api(ex->req.head.path)) {
        http_resp_error(&ex->resp, 403, "https_required",
                        "the API answers over HTTPS only; what this request carried crossed "
                        "the network unencrypted");
        return;
    }
    if (target.n == 0 || target.p[0] != '/' ||
        dispatch_redirect_host(site, host, hostbuf, sizeof hostbuf) != 0) {
        http_resp_error(&ex->resp, 403, "https_required", "this server answers over HTTPS only");
        return;
    }
    int port = site->https_port;
    char portbuf[16] = "";
    if (port != 443)
        snprintf(portbuf, sizeof portbuf, ":%d", port);
    int n = snprintf(loc, sizeof loc, "https://%s%s%.*s", hostbuf, portbuf, (int)target.n,
                     target.p);
    if (n < 0 || (size_t)n >= sizeof loc) {
        http_resp_error(&ex->resp, 414, "uri_too_long", "the request target is too long");
        ex->resp.close = 1;
        return;
    }
    http_resp_error(&ex->resp, 308, "https_required", "this server answers over HTTPS only");
    http_resp_header(&ex->resp, "Location", loc);
}

/* Answers with a static file's bytes (`data`, or read from f->fd when
 * NULL), or 304. */
static void dispatch_file(struct http_exchange *ex, const struct static_file *f,
                          const unsigned char *data)
{
    char date[32];
    static_http_date(f->mtime, date);
    struct str inm = http_req_header(&ex->req, "If-None-Match");
    struct str ims = http_req_header(&ex->req, "If-Modified-Since");
    enum http_content kind = strncmp(f->mime, "text/html", 9) == 0 ? HTTP_CONTENT_HTML
                                                                   : HTTP_CONTENT_OTHER;
    if (static_not_modified(f, inm, ims)) {
        http_resp_bytes(&ex->resp, 304, NULL, kind, NULL, 0);
    } else if ((size_t)f->size > ex->resp.body.max ||
               buf_reserve(&ex->resp.body, (size_t)f->size) != 0) {
        http_resp_error(&ex->resp, 500, "internal", "file too large to serve");
        return;
    } else {
        ssize_t n = (ssize_t)f->size;
        if (data != NULL)
            memcpy(buf_tail(&ex->resp.body), data, (size_t)f->size);
        else
            n = pread(f->fd, buf_tail(&ex->resp.body), (size_t)f->size, 0);
        if (n != (ssize_t)f->size) {
            http_resp_error(&ex->resp, 500, "internal", "cannot read file");
            return;
        }
        ex->resp.body.len = (size_t)n;
        ex->resp.status = 200;
        ex->resp.content_type = f->mime;
        ex->resp.kind = kind;
    }
    http_resp_header(&ex->resp, "ETag", f->etag);
    http_resp_header(&ex->resp, "Last-Modified", date);
    http_resp_header(&ex->resp, "Cache-Control", "no-cache");
}

/* GET/HEAD of a path no route claims. Returns 1 when a file answered. */
static int dispatch_static(const struct dispatch_site *site, struct static_cache *files,
                           struct http_exchange *ex)
{
    if (site->www == NULL)
        return 0;
    struct static_file f;
    const struct static_cache_entry *hit;
    int rc = static_cache_lookup(files, site->www, ex->req.head.path, loop_now(ex->loop), &hit, &f);
    if (rc == 400) {
        http_resp_error(&ex->resp, 400, "bad_request", "malformed percent-encoding in path");
        return 1;
    }
    if (rc == 0) {
        dispatch_file(ex, &hit->meta, hit->data);
        return 1;
    }
    if (rc != STATIC_CACHE_OPEN)
        return 0;
    dispatch_file(ex, &f, NULL);
    static_file_close(&f);
    return 1;
}

/* 1 when the www root has a file for this path (no body is read). */
static int dispatch_static_exists(const struct dispatch_site *site, const struct http_exchange *ex)
{
    struct static_file f;
    if (site->www == NULL || static_lookup(site->www, ex->req.head.path, &f) != 0)
        return 0;
    static_file_close(&f);
    return 1;
}

static void dispatch_options(const struct dispatch_site *site, struct http_exchange *ex, int rc,
                             const char *allow)
{
    struct http_response *resp = &ex->resp;
    char list[320];
    if (str_eq(ex->req.head.path, "*")) {
        allow = "GET, HEAD, POST, PUT, PATCH, DELETE";
    } else if (rc == 404) {
        if (!dispatch_static_exists(site, ex)) {
            http_resp_error(resp, 404, "not_found", "no such resource");
            return;
        }
        allow = "GET, HEAD";
    }
    snprintf(list, sizeof list, "%s, OPTIONS", allow);
    http_resp_bytes(resp, 204, NULL, HTTP_CONTENT_NONE, NULL, 0);
    http_resp_header(resp, "Allow", list);
    const struct dispatch_live *live = dispatch_live(site);
    cors_preflight(&live->cors_origins, live->cors_max_age_s, &ex->req, resp, list);
}

/* A path under a gateway prefix: the route's access check, exactly as a
 * route's, then the upstream answers (later). */
static enum dispatch_result dispatch_gateway(const struct dispatch_site *site,
                                             const struct gateway_route *gr,
                                             struct http_exchange *ex)
{
    int access = gateway_route_access(gr);
    ex->route_label = gateway_route_label(gr);
    if (!gateway_path_safe(ex->req.head.path)) { /* see gateway.h: could mean another prefix */
        http_resp_error(&ex->resp, 400, "bad_request",
                        "dot segments, empty segments or encoded unreserved characters in a "
                        "gateway path");
        return DISPATCH_ANSWERED;
    }
    if (access != 0 &&
        (site->access_check == NULL || site->access_check(ex, access, site->access_arg) != 0)) {
        if (site->access_check == NULL)
            http_resp_error(&ex->resp, 500, "internal", "no access check for this route");
        return DISPATCH_ANSWERED;
    }
    if (ex->gateway == NULL) {
        http_resp_error(&ex->resp, 503, "unavailable", "the gateway is not ready on this loop");
        return DISPATCH_ANSWERED;
    }
    return gateway_forward(ex->gateway, gr, ex) ? DISPATCH_LATER : DISPATCH_ANSWERED;
}

/* Runs the route's handler. Only a job queued by pc_defer completes the
 * exchange later: PC_LATER without one would leave the client waiting for
 * ever, and PC_DONE with one would answer twice. */
static enum dispatch_result dispatch_handler(const struct route *rt, struct http_exchange *ex)
{
    int rc = rt->handler(pc_req_of(ex), rt->arg);
    if (ex->job_pending) {
        if (rc != PC_LATER)
            log_error("handler bug: %s returned PC_DONE with its pc_defer job pending; the job "
                      "answers",
                      rt->pattern);
        return DISPATCH_LATER;
    }
    if (rc == PC_LATER) {
        log_error("handler bug: %s returned PC_LATER without a pc_defer job; answering 500",
                  rt->pattern);
        http_resp_error(&ex->resp, 500, "internal", "the handler gave no answer");
    } else if (ex->resp.status == 0) {
        http_resp_error(&ex->resp, 500, "internal", "the handler gave no answer");
    }
    return DISPATCH_ANSWERED;
}

static enum dispatch_result dispatch_route(const struct dispatch_site *site,
                                           struct static_cache *files, struct http_exchange *ex)
{
    const struct gateway_route *gr = gateway_match(site->gateway, ex->req.head.path);
    if (gr != NULL)
        return dispatch_gateway(site, gr, ex);
    const struct route *rt = NULL;
    char allow[256] = "";
    struct str method = ex->req.head.method;
    int rc = router_match(site->router, method, ex->req.head.path, &rt, &ex->req.params, allow,
                          sizeof allow);
    int get = str_eq(method, "GET") || ex->req.is_head;
    if (rc != 0 && str_eq(method, "OPTIONS")) {
        dispatch_options(site, ex, rc, allow);
    } else if (rc == 404) {
        if (get && dispatch_static(site, files, ex))
            ex->route = METRICS_ROUTE_STATIC;
        else
            http_resp_error(&ex->resp, 404, "not_found", "no such resource");
    } else if (rc == 405) {
        http_resp_error(&ex->resp, 405, "method_not_allowed",
                        "this resource does not accept that method");
        http_resp_header(&ex->resp, "Allow", allow);
    } else if ((ex->route = (int)(rt - site->router->routes)) >= 0 &&
               (rt->access == 0 || site->access_check == NULL ||
                site->access_check(ex, rt->access, site->access_arg) == 0)) {
        ex->pool = site->pool;
        return dispatch_handler(rt, ex);
    }
    return DISPATCH_ANSWERED;
}

int dispatch_early(const struct dispatch_site *site, const struct http_exchange *ex)
{
    if (!ex->req.is_tls && site->plain_warning == NULL)
        return 0; /* the plain listener only redirects */
    return gateway_match(site->gateway, ex->req.head.path) != NULL;
}

void dispatch_live_fill(struct dispatch_live *l, const struct config *cfg)
{
    memset(l, 0, sizeof *l);
    l->cors_origins = cfg->http.cors_origins;
    l->cors_max_age_s = cfg->http.cors_max_age_s;
    const struct config_list *tp = &cfg->server.trusted_proxies;
    for (int i = 0; i < tp->n; i++)
        if (proxy_cidr_parse(tp->item[i], &l->trusted[l->ntrusted]) == 0)
            l->ntrusted++;
}

enum dispatch_result dispatch_request(const struct dispatch_site *site, struct static_cache *files,
                                      struct http_exchange *ex, struct str host)
{
    ex->route = METRICS_ROUTE_UNMATCHED;
    if (!ex->req.is_tls && site->plain_warning == NULL) {
        dispatch_redirect(site, ex, host);
        return DISPATCH_ANSWERED;
    }
    return dispatch_route(site, files, ex);
}
