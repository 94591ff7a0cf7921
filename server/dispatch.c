/* dispatch.c: what answers a complete request: the HTTPS redirect of the
 * plain listener, OPTIONS, the router with its access check, static files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/conn.h"
#include "server/log.h"

static const struct config *cfg_of(const struct conn *c) { return c->w->srv->cfg; }

/* The plain-HTTP listener outside demo mode: 308 to the same path and query
 * on HTTPS. The host comes from the (validated) Host header minus its port. */
static void conn_redirect(struct conn *c)
{
    const struct config *cfg = cfg_of(c);
    struct http_exchange *ex = &c->ex;
    struct str host = c->fr.host;
    char hostbuf[300], loc[4096];
    if (host.n > 0 && host.p[0] == '[') {
        const char *end = memchr(host.p, ']', host.n);
        host.n = end ? (size_t)(end - host.p) + 1 : host.n;
    } else {
        const char *colon = memchr(host.p ? host.p : "", ':', host.n);
        if (colon)
            host.n = (size_t)(colon - host.p);
    }
    if (host.n == 0 || host.n >= sizeof hostbuf)
        host = str_make(cfg->server.https_address, strlen(cfg->server.https_address));
    memcpy(hostbuf, host.p, host.n);
    hostbuf[host.n] = '\0';
    int port = c->w->srv->https_port;
    char portbuf[16] = "";
    if (port != 443)
        snprintf(portbuf, sizeof portbuf, ":%d", port);
    int n = snprintf(loc, sizeof loc, "https://%s%s%.*s", hostbuf, portbuf, (int)ex->req.target.n,
                     ex->req.target.p);
    if (n < 0 || (size_t)n >= sizeof loc) {
        conn_fail(c, 414, "uri_too_long", "the request target is too long");
        return;
    }
    http_resp_error(&ex->resp, 308, "https_required", "this server answers over HTTPS only");
    http_resp_header(&ex->resp, "Location", loc);
    conn_finish_exchange(c);
}

static void conn_fill_request(struct conn *c)
{
    struct http_request *r = &c->ex.req;
    r->method = c->head.method;
    r->target = c->head.target;
    r->path = c->head.path;
    r->query = c->head.query;
    r->minor_version = c->head.minor_version;
    r->headers = c->head.headers;
    r->num_headers = c->head.num_headers;
    r->body = str_make(buf_head(&c->in) + c->head_len, c->body_len);
    r->client_ip = c->client_ip;
    r->is_tls = c->is_tls;
    r->is_head = str_eq(r->method, "HEAD");
    memset(&r->params, 0, sizeof r->params);
    c->ex.loop = c->w->loop;
    c->ex.loop_data = c->w->loop_data;
    c->ex.conn = c;
}

/* Answers with a static file's bytes (`data`, or read from f->fd when
 * NULL), or 304. */
static void conn_static_file(struct conn *c, const struct static_file *f, const unsigned char *data)
{
    struct http_exchange *ex = &c->ex;
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
static int conn_try_static(struct conn *c)
{
    struct server *srv = c->w->srv;
    if (!srv->has_www)
        return 0;
    struct static_file f;
    const struct static_cache_entry *hit;
    int rc = static_cache_lookup(&c->w->files, &srv->www, c->ex.req.path, loop_now(c->w->loop),
                                 &hit, &f);
    if (rc == 400) {
        http_resp_error(&c->ex.resp, 400, "bad_request", "malformed percent-encoding in path");
        return 1;
    }
    if (rc == 0) {
        conn_static_file(c, &hit->meta, hit->data);
        return 1;
    }
    if (rc != STATIC_CACHE_OPEN)
        return 0;
    conn_static_file(c, &f, NULL);
    static_file_close(&f);
    return 1;
}

/* 1 when the www root has a file for this path (no body is read). */
static int conn_static_exists(struct conn *c)
{
    struct static_file f;
    if (!c->w->srv->has_www || static_lookup(&c->w->srv->www, c->ex.req.path, &f) != 0)
        return 0;
    static_file_close(&f);
    return 1;
}

static void conn_options(struct conn *c, int rc, const char *allow)
{
    struct http_response *resp = &c->ex.resp;
    char list[320];
    if (str_eq(c->ex.req.path, "*")) {
        allow = "GET, HEAD, POST, PUT, PATCH, DELETE";
    } else if (rc == 404) {
        if (!conn_static_exists(c)) {
            http_resp_error(resp, 404, "not_found", "no such resource");
            return;
        }
        allow = "GET, HEAD";
    }
    snprintf(list, sizeof list, "%s, OPTIONS", allow);
    http_resp_bytes(resp, 204, NULL, HTTP_CONTENT_NONE, NULL, 0);
    http_resp_header(resp, "Allow", list);
}

static void conn_route(struct conn *c)
{
    struct server *srv = c->w->srv;
    struct http_exchange *ex = &c->ex;
    const struct route *rt = NULL;
    char allow[256] = "";
    int rc = router_match(srv->router, ex->req.method, ex->req.path, &rt, &ex->req.params, allow,
                          sizeof allow);
    int get = str_eq(ex->req.method, "GET") || ex->req.is_head;
    if (rc != 0 && str_eq(ex->req.method, "OPTIONS")) {
        conn_options(c, rc, allow);
    } else if (rc == 404) {
        if (!(get && conn_try_static(c)))
            http_resp_error(&ex->resp, 404, "not_found", "no such resource");
    } else if (rc == 405) {
        http_resp_error(&ex->resp, 405, "method_not_allowed",
                        "this resource does not accept that method");
        http_resp_header(&ex->resp, "Allow", allow);
    } else {
        if (rt->access != 0 && srv->hooks.access_check &&
            srv->hooks.access_check(ex, rt->access, srv->hooks.arg) != 0) {
            conn_finish_exchange(c);
            return;
        }
        if (rt->handler(ex, rt->arg) == 1) {
            c->state = CONN_ASYNC;
            c->job_pending = true;
            loop_timer_cancel(c->w->loop, &c->timer);
            return;
        }
    }
    conn_finish_exchange(c);
}

void conn_dispatch(struct conn *c)
{
    conn_fill_request(c);
    if (!c->is_tls && !cfg_of(c)->server.demo) {
        conn_redirect(c);
        return;
    }
    conn_route(c);
}

void http_exchange_complete(struct http_exchange *ex) { conn_resume(ex->conn); }
