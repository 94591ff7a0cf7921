/* conn_http.c: from buffered bytes to a dispatched exchange and a queued
 * response (the HTTP half of a connection; conn.c does the socket half). */
#include "server/conn_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/clock.h"
#include "server/cors.h"
#include "server/log.h"
#include "server/metrics.h"

#define CONN_HTTP_OUT_MAX (8u * 1024 * 1024)

void conn_http_init(struct conn_http *h, struct conn_http_shared *sh, bool is_tls)
{
    const struct config *cfg = sh->cfg;
    h->sh = sh;
    h->is_tls = is_tls;
    /* Input holds one head, one body, and the chunk framing of one read. */
    buf_init(&h->in,
             cfg->limits.max_header_bytes + cfg->limits.max_body_bytes + 2 * CONN_READ_CHUNK);
    buf_init(&h->out, CONN_HTTP_OUT_MAX);
    buf_init(&h->ex.resp.headers, 64 * 1024);
    buf_init(&h->ex.resp.body, CONN_HTTP_OUT_MAX / 2);
    h->ex.loop = sh->loop;
    h->ex.loop_data = sh->loop_data;
    h->ex.gateway = sh->gateway;
    h->ex.route = METRICS_ROUTE_UNMATCHED;
}

static void conn_http_drop_principal(struct http_exchange *ex)
{
    if (ex->principal_free && ex->principal)
        ex->principal_free(ex->principal);
    ex->principal = NULL;
    ex->principal_free = NULL;
}

void conn_http_free(struct conn_http *h)
{
    conn_http_drop_principal(&h->ex);
    buf_free(&h->in);
    buf_free(&h->out);
    buf_free(&h->ex.resp.headers);
    buf_free(&h->ex.resp.body);
    free(h->hdrs);
    h->hdrs = NULL;
}

void conn_http_idle(struct conn_http *h)
{
    /* The response buffers too: the next exchange allocates its own. */
    buf_reset(&h->in, 0);
    buf_reset(&h->out, 0);
    buf_reset(&h->ex.resp.headers, 0);
    buf_reset(&h->ex.resp.body, 0);
}

static void conn_http_reset_request(struct conn_http *h)
{
    buf_consume(&h->in, h->head_len + h->body_len);
    h->head_len = h->body_len = h->last_len = 0;
    h->sent_continue = false;
    h->early = false;
    memset(&h->fr, 0, sizeof h->fr);
}

static void conn_http_reset_response(struct http_exchange *ex)
{
    ex->resp.status = 0;
    ex->resp.content_type = NULL;
    ex->resp.kind = HTTP_CONTENT_NONE;
    ex->resp.close = 0;
    buf_reset(&ex->resp.headers, 4096);
    buf_reset(&ex->resp.body, 16384);
    conn_http_drop_principal(ex);
}

static void conn_http_log(const struct conn_http *h, int status, size_t bytes, uint64_t dur_us)
{
    const struct http_request_head *r = &h->ex.req.head;
    const struct router *rt = h->sh->site->router;
    int route = h->ex.route;
    if (log_get_level() > LOG_INFO)
        return; /* the access log is off: format nothing */
    int fwd = h->ex.req.client_ip == h->fwd_ip && h->fwd_ip[0];
    struct log_access a = {
        .client_ip = fwd ? h->fwd_ip : h->client_ip,
        .client_port = fwd ? 0 : h->client_port,
        .scheme = h->is_tls ? "https" : "http",
        .method = r->method.p ? r->method.p : "-",
        .method_len = r->method.p ? r->method.n : 1,
        .path = r->path.p ? r->path.p : "-",
        .path_len = r->path.p ? r->path.n : 1,
        .status = status,
        .bytes = bytes,
        .duration_ms = (double)dur_us / 1000.0,
        .request_id = h->ex.request_id,
        .route = route >= 0 && rt != NULL && (size_t)route < rt->n ? rt->routes[route].pattern
                 : route == METRICS_ROUTE_STATIC                   ? "static"
                                                                   : h->ex.route_label,
        .user_id = h->ex.user_id,
    };
    log_access(&a);
}

static void conn_http_reparse_head(struct conn_http *h);

/* Whether the connection may stay open after this exchange's answer. */
bool conn_http_keep(const struct conn_http *h)
{
    const struct config *cfg = h->sh->cfg;
    return h->keep_alive && !h->ex.resp.close && !h->sh->draining &&
           !(cfg->limits.max_requests_per_connection > 0 &&
             h->requests + 1 >= cfg->limits.max_requests_per_connection);
}

void conn_http_done(struct conn_http *h, int status, size_t bytes, bool keep)
{
    struct http_exchange *ex = &h->ex;
    if (h->early && h->in.moves != h->head_moves)
        conn_http_reparse_head(h); /* a streamed body grew the buffer: the log reads the head */
    uint64_t dur_us = h->started_us ? clock_mono_us() - h->started_us : 0;
    metrics_request(ex->route, status, dur_us);
    conn_http_log(h, status, bytes, dur_us);
    h->requests++;
    if (!keep)
        h->close_after_write = true;
    conn_http_reset_response(ex);
    conn_http_reset_request(h);
    memset(&ex->req, 0, sizeof ex->req);
    ex->route = METRICS_ROUTE_UNMATCHED;
    ex->route_label = NULL;
    ex->job_pending = ex->job_refused = false;
    ex->user_id = 0;
    ex->request_id[0] = '\0';
    log_set_request(NULL);
    h->started_us = 0;
}

void conn_http_finish(struct conn_http *h)
{
    struct http_exchange *ex = &h->ex;
    const struct config *cfg = h->sh->cfg;
    const char *warning = h->sh->site->plain_warning;
    if (h->early && h->in.moves != h->head_moves)
        conn_http_reparse_head(h); /* a streamed body grew the buffer under the head */
    int minor = ex->req.head.minor_version;
    bool keep = conn_http_keep(h);
    struct http_writer_opts o = { cfg->tls.hsts_max_age_s, h->is_tls };
    if (!h->is_tls && warning != NULL)
        http_resp_header(&ex->resp, "X-Portcullis-Warning", warning);
    if (ex->request_id[0] == '\0') /* refused before its head was read */
        reqid_assign(ex->request_id, str_make(NULL, 0));
    http_resp_header(&ex->resp, "X-Request-Id", ex->request_id);
    if (h->is_tls || warning != NULL)
        cors_response(&dispatch_live(h->sh->site)->cors_origins, &ex->req, &ex->resp);
    size_t before = h->out.len;
    if (http_resp_write(&ex->resp, &o, minor, keep, ex->req.is_head, &h->out) != 0) {
        keep = false; /* response too large to buffer: nothing sane to send */
        h->out.len = before;
        struct http_response e = { 0 };
        buf_init(&e.headers, 0);
        buf_init(&e.body, 1024);
        http_resp_error(&e, 500, "internal", "response too large");
        http_resp_write(&e, &o, minor, 0, ex->req.is_head, &h->out);
        buf_free(&e.body);
    }
    conn_http_done(h, ex->resp.status ? ex->resp.status : 500, h->out.len - before, keep);
}

void conn_http_fail(struct conn_http *h, int status, const char *code, const char *detail)
{
    struct http_exchange *ex = &h->ex;
    if (ex->stream_ops != NULL) {
        /* A streamed body broke off (timeout): the producer lets go first. */
        const struct http_stream_ops *ops = ex->stream_ops;
        ex->stream_ops = NULL;
        ops->abort(ex->stream_arg);
    }
    /* Reading the body may have moved the buffer under the head's slices
     * (a body timeout, a body too large): the access line and the answer's
     * headers read them, so point them at the bytes' new place first. */
    if (h->head_len != 0 && h->in.moves != h->head_moves)
        conn_http_reparse_head(h);
    conn_http_reset_response(ex);
    http_resp_error(&ex->resp, status, code, detail);
    ex->resp.close = 1;
    if (ex->req.head.minor_version == 0 && h->head_len == 0)
        ex->req.head.minor_version = 1; /* head never parsed: answer as 1.1 */
    h->keep_alive = false;
    h->in.len = 0; /* nothing after a framing error is trusted */
    h->head_len = h->body_len = 0;
    conn_http_finish(h);
}

static struct http_parse_limits conn_http_limits(const struct config *cfg)
{
    return (struct http_parse_limits){ cfg->limits.max_header_bytes, cfg->limits.max_uri_bytes,
                                       cfg->limits.max_headers };
}

/* The X-Request-Id to adopt: a proxy in server.trusted_proxies may hand
 * us its id (as it may X-Forwarded-For); a client's own copy is ignored,
 * so the id in our logs and sent upstream is always ours or our proxy's. */
static struct str conn_http_incoming_id(const struct conn_http *h)
{
    const struct dispatch_live *live = dispatch_live(h->sh->site);
    if (live->ntrusted == 0 || !proxy_cidr_match(live->trusted, live->ntrusted, h->client_ip))
        return str_make(NULL, 0);
    return http_req_header(&h->ex.req, "X-Request-Id");
}

/* Returns true when the head is complete, else false with *next. */
static bool conn_http_head(struct conn_http *h, enum conn_http_step *next)
{
    const struct config *cfg = h->sh->cfg;
    struct http_request_head *head = &h->ex.req.head;
    if (h->hdrs == NULL) {
        h->hdrs = calloc(cfg->limits.max_headers, sizeof *h->hdrs);
        if (h->hdrs == NULL) {
            *next = CONN_HTTP_CLOSE;
            return false;
        }
    }
    if (h->started_us == 0)
        h->started_us = clock_mono_us();
    struct http_parse_limits lim = conn_http_limits(cfg);
    head->headers = h->hdrs;
    head->num_headers = cfg->limits.max_headers;
    int status = 400;
    const char *why = "malformed request";
    int rc = http_parse_request(buf_head(&h->in), h->in.len, h->last_len, head, &lim, &status,
                                &why);
    if (rc == HTTP_PARSE_PARTIAL) {
        h->last_len = h->in.len;
        *next = CONN_HTTP_NEED_MORE;
        return false;
    }
    if (rc < 0 || http_request_framing(head, &h->fr, &status, &why) != 0) {
        if (rc < 0)
            head->minor_version = 1;
        conn_http_fail(h, status, status == 400 ? "bad_request" : "rejected", why);
        *next = CONN_HTTP_WRITE;
        return false;
    }
    h->head_len = (size_t)rc;
    h->head_moves = h->in.moves;
    reqid_assign(h->ex.request_id, conn_http_incoming_id(h));
    h->keep_alive = h->fr.keep_alive;
    if (h->fr.body == HTTP_BODY_LENGTH && h->fr.content_length > cfg->limits.max_body_bytes) {
        conn_http_fail(h, 413, "body_too_large", "the request body exceeds max_body_bytes");
        *next = CONN_HTTP_WRITE;
        return false;
    }
    if (h->fr.body == HTTP_BODY_CHUNKED)
        http_chunked_init(&h->chunked, 1024, cfg->limits.max_header_bytes);
    return true;
}

/* Reading the body grew or compacted the input buffer, so the head's slices
 * point into freed memory: parse the same bytes again (microseconds, and
 * only for requests whose body arrived in later reads). */
static void conn_http_reparse_head(struct conn_http *h)
{
    const struct config *cfg = h->sh->cfg;
    struct http_request_head *head = &h->ex.req.head;
    struct http_parse_limits lim = conn_http_limits(cfg);
    int status;
    const char *why;
    head->num_headers = cfg->limits.max_headers;
    /* Same bytes, same result: neither call can fail now. */
    http_parse_request(buf_head(&h->in), h->head_len, 0, head, &lim, &status, &why);
    http_request_framing(head, &h->fr, &status, &why);
    h->head_moves = h->in.moves;
}

/* Returns true when the whole body is buffered, else false with *next
 * (CONN_HTTP_WRITE: an error or a 100 Continue is queued; after an error
 * head_len is 0). A chunked body is decoded in place as it arrives, so
 * in[head_len..head_len + body_len) is always the decoded body so far and
 * its limit holds for the decoded total, streamed or not. */
static bool conn_http_body(struct conn_http *h, enum conn_http_step *next)
{
    const struct config *cfg = h->sh->cfg;
    if (h->fr.body == HTTP_BODY_NONE)
        return true;
    if (h->fr.body == HTTP_BODY_LENGTH) {
        h->body_len = h->in.len - h->head_len;
        if (h->body_len >= h->fr.content_length) {
            h->body_len = (size_t)h->fr.content_length;
            return true;
        }
    } else {
        char *raw = buf_head(&h->in) + h->head_len + h->body_len;
        size_t n = h->in.len - h->head_len - h->body_len;
        ssize_t rc = http_chunked_decode(&h->chunked, raw, &n);
        if (rc == HTTP_PARSE_ERROR) {
            conn_http_fail(h, 400, "bad_chunked_body", "malformed chunked encoding");
            *next = CONN_HTTP_WRITE;
            return false;
        }
        h->body_len += n;
        h->in.len = h->head_len + h->body_len + (rc >= 0 ? (size_t)rc : 0);
        if (h->body_len > cfg->limits.max_body_bytes) {
            conn_http_fail(h, 413, "body_too_large", "the request body exceeds max_body_bytes");
            *next = CONN_HTTP_WRITE;
            return false;
        }
        if (rc >= 0)
            return true;
    }
    if (h->fr.expect_continue && !h->sent_continue && h->in.len == h->head_len) {
        /* The client waits for our go-ahead before sending the body. */
        h->sent_continue = true;
        buf_append_str(&h->out, "HTTP/1.1 100 Continue\r\n\r\n");
        h->close_after_write = false;
        *next = CONN_HTTP_WRITE;
        return false;
    }
    *next = CONN_HTTP_NEED_MORE;
    return false;
}

/* Behind a trusted proxy, the client is the right-most untrusted address of
 * the last X-Forwarded-For header; otherwise (or without a usable header)
 * the peer itself. */
static const char *conn_http_client(struct conn_http *h)
{
    const struct dispatch_live *live = dispatch_live(h->sh->site);
    const struct http_request_head *head = &h->ex.req.head;
    h->fwd_ip[0] = '\0';
    if (live->ntrusted == 0 || !proxy_cidr_match(live->trusted, live->ntrusted, h->client_ip))
        return h->client_ip;
    for (size_t i = head->num_headers; i-- > 0;) {
        const struct http_header *x = &head->headers[i];
        if (x->name.n == 15 && strncasecmp(x->name.p, "X-Forwarded-For", 15) == 0) {
            if (proxy_xff_client(x->value.p, x->value.n, live->trusted, live->ntrusted, h->fwd_ip,
                                 sizeof h->fwd_ip) != 0)
                h->fwd_ip[0] = '\0';
            break;
        }
    }
    return h->fwd_ip[0] ? h->fwd_ip : h->client_ip;
}

/* The request as handlers see it: the head is already in place. */
static void conn_http_fill_request(struct conn_http *h)
{
    struct http_request *r = &h->ex.req;
    r->body = str_make(buf_head(&h->in) + h->head_len, h->body_len);
    r->body_total = h->fr.body == HTTP_BODY_LENGTH ? h->fr.content_length : h->body_len;
    r->body_more = 0;
    r->body_chunked = h->fr.body == HTTP_BODY_CHUNKED;
    r->client_ip = conn_http_client(h);
    r->is_tls = h->is_tls;
    r->is_head = str_eq(r->head.method, "HEAD");
    memset(&r->params, 0, sizeof r->params);
}

/* Dispatches the request in `in` (complete, or its head alone when early). */
static enum conn_http_step conn_http_dispatch(struct conn_http *h, bool early)
{
    if (h->in.moves != h->head_moves)
        conn_http_reparse_head(h);
    conn_http_fill_request(h);
    h->ex.req.body_more = early;
    log_set_request(h->ex.request_id); /* cleared by conn_http_finish */
    if (dispatch_request(h->sh->site, &h->sh->files, &h->ex, h->fr.host) == DISPATCH_LATER) {
        log_set_request(NULL);
        h->early = early;
        return early ? CONN_HTTP_BODY : CONN_HTTP_LATER;
    }
    if (early)
        h->ex.resp.close = 1; /* answered before its body: the rest is not read */
    conn_http_finish(h);
    return CONN_HTTP_WRITE;
}

void conn_http_input_moved(struct conn_http *h)
{
    if (h->early && h->head_len != 0)
        h->ex.req.body = str_make(buf_head(&h->in) + h->head_len, h->body_len);
}

/* A streamed body: what arrived goes to the producer as it comes. */
static enum conn_http_step conn_http_stream_body(struct conn_http *h)
{
    enum conn_http_step next;
    size_t had = h->ex.req.body.n;
    bool done = conn_http_body(h, &next);
    struct http_exchange *ex = &h->ex;
    if (!done && h->head_len == 0)
        return next; /* malformed or too large: conn_http_fail let the producer go */
    ex->req.body = str_make(buf_head(&h->in) + h->head_len, h->body_len);
    ex->req.body_more = !done;
    if (ex->req.body_chunked)
        ex->req.body_total = h->body_len;
    if (ex->stream_ops != NULL && ex->stream_ops->body != NULL && (done || h->body_len > had))
        ex->stream_ops->body(ex->stream_arg);
    return done ? CONN_HTTP_LATER : next;
}

enum conn_http_step conn_http_advance(struct conn_http *h)
{
    enum conn_http_step next;
    if (h->head_len == 0) {
        if (h->in.len == 0)
            return CONN_HTTP_NEED_MORE;
        if (!conn_http_head(h, &next))
            return next;
        h->ex.req.is_tls = h->is_tls;
        bool streamable = h->fr.body == HTTP_BODY_CHUNKED ||
                          (h->fr.body == HTTP_BODY_LENGTH && h->fr.content_length > 0);
        if (streamable && dispatch_early(h->sh->site, &h->ex))
            return conn_http_dispatch(h, true); /* then the body timeout */
        if (h->fr.body != HTTP_BODY_NONE)
            return CONN_HTTP_BODY; /* the connection arms the body timeout first */
    }
    if (h->early)
        return conn_http_stream_body(h);
    if (!conn_http_body(h, &next))
        return next;
    return conn_http_dispatch(h, false);
}
