/* conn_http.c: from buffered bytes to a dispatched exchange and a queued
 * response (the HTTP half of a connection; conn.c does the socket half). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/conn.h"
#include "server/clock.h"
#include "server/log.h"

static const struct config *cfg_of(const struct conn *c) { return c->w->srv->cfg; }

static void conn_reset_request(struct conn *c)
{
    buf_consume(&c->in, c->head_len + c->body_len);
    c->head_len = c->body_len = c->last_len = 0;
    c->sent_continue = false;
    memset(&c->fr, 0, sizeof c->fr);
}

static void conn_reset_response(struct http_exchange *ex)
{
    ex->resp.status = 0;
    ex->resp.content_type = NULL;
    ex->resp.kind = HTTP_CONTENT_NONE;
    ex->resp.close = 0;
    buf_reset(&ex->resp.headers, 4096);
    buf_reset(&ex->resp.body, 16384);
    if (ex->principal_free && ex->principal)
        ex->principal_free(ex->principal);
    ex->principal = NULL;
    ex->principal_free = NULL;
}

static void conn_log(const struct conn *c, int status, size_t bytes)
{
    const struct http_request *r = &c->ex.req;
    char client[INET6_ADDRSTRLEN + 8];
    if (log_get_level() > LOG_INFO)
        return; /* the access log is off: format nothing */
    snprintf(client, sizeof client, "%s:%d", c->client_ip, c->client_port);
    struct log_access a = {
        .client = client,
        .scheme = c->is_tls ? "https" : "http",
        .method = r->method.p ? r->method.p : "-",
        .method_len = r->method.p ? r->method.n : 1,
        .path = r->path.p ? r->path.p : "-",
        .path_len = r->path.p ? r->path.n : 1,
        .status = status,
        .bytes = bytes,
        .duration_ms = c->started_us ? (double)(clock_mono_us() - c->started_us) / 1000.0 : 0.0,
    };
    log_access(&a);
}

void conn_finish_exchange(struct conn *c)
{
    struct http_exchange *ex = &c->ex;
    const struct config *cfg = cfg_of(c);
    bool keep = c->keep_alive && !ex->resp.close && !c->w->draining &&
                !(cfg->limits.max_requests_per_connection > 0 &&
                  c->requests + 1 >= cfg->limits.max_requests_per_connection);
    struct http_writer_opts o = { cfg->tls.hsts_max_age_s, c->is_tls };
    if (!c->is_tls && cfg->server.demo)
        http_resp_header(&ex->resp, "X-Portcullis-Warning",
                         "plaintext HTTP (demo mode): anyone on the path can read this");
    size_t before = c->out.len;
    if (http_resp_write(&ex->resp, &o, ex->req.minor_version, keep, ex->req.is_head, &c->out) !=
        0) {
        keep = false; /* response too large to buffer: nothing sane to send */
        c->out.len = before;
        struct http_response e = { 0 };
        buf_init(&e.headers, 0);
        buf_init(&e.body, 1024);
        http_resp_error(&e, 500, "internal", "response too large");
        http_resp_write(&e, &o, ex->req.minor_version, 0, ex->req.is_head, &c->out);
        buf_free(&e.body);
    }
    conn_log(c, ex->resp.status ? ex->resp.status : 500, c->out.len - before);
    c->requests++;
    if (!keep)
        c->close_after_write = true;
    conn_reset_response(ex);
    conn_reset_request(c);
    memset(&ex->req, 0, sizeof ex->req);
    c->started_us = 0;
    c->state = CONN_WRITE;
}

void conn_fail(struct conn *c, int status, const char *code, const char *detail)
{
    struct http_exchange *ex = &c->ex;
    conn_reset_response(ex);
    http_resp_error(&ex->resp, status, code, detail);
    ex->resp.close = 1;
    if (ex->req.minor_version == 0 && c->head_len == 0)
        ex->req.minor_version = 1; /* head never parsed: answer as 1.1 */
    c->keep_alive = false;
    c->in.len = 0; /* nothing after a framing error is trusted */
    c->head_len = c->body_len = 0;
    conn_finish_exchange(c);
}

static int conn_head(struct conn *c)
{
    const struct config *cfg = cfg_of(c);
    if (c->hdrs == NULL) {
        c->hdrs = calloc(cfg->limits.max_headers, sizeof *c->hdrs);
        if (c->hdrs == NULL) {
            conn_close(c);
            return CONN_CLOSED;
        }
    }
    if (c->started_us == 0)
        c->started_us = clock_mono_us();
    struct http_parse_limits lim = { cfg->limits.max_header_bytes, cfg->limits.max_uri_bytes,
                                     cfg->limits.max_headers };
    c->head.headers = c->hdrs;
    c->head.num_headers = cfg->limits.max_headers;
    int status = 400;
    const char *why = "malformed request";
    int rc = http_parse_request(buf_head(&c->in), c->in.len, c->last_len, &c->head, &lim, &status,
                                &why);
    if (rc == HTTP_PARSE_PARTIAL) {
        c->last_len = c->in.len;
        return CONN_NEED_MORE;
    }
    if (rc < 0 || http_request_framing(&c->head, &c->fr, &status, &why) != 0) {
        c->ex.req.minor_version = rc > 0 ? c->head.minor_version : 1;
        conn_fail(c, status, status == 400 ? "bad_request" : "rejected", why);
        return CONN_PROGRESS;
    }
    c->head_len = (size_t)rc;
    c->head_moves = c->in.moves;
    c->keep_alive = c->fr.keep_alive;
    c->ex.req.minor_version = c->head.minor_version;
    if (c->fr.body == HTTP_BODY_LENGTH && c->fr.content_length > cfg->limits.max_body_bytes) {
        conn_fail(c, 413, "body_too_large", "the request body exceeds max_body_bytes");
        return CONN_PROGRESS;
    }
    if (c->fr.body == HTTP_BODY_CHUNKED)
        http_chunked_init(&c->chunked, 1024, cfg->limits.max_header_bytes);
    return CONN_PROGRESS;
}

/* Reading the body grew or compacted the input buffer, so the head's slices
 * point into freed memory: parse the same bytes again (microseconds, and
 * only for requests whose body arrived in later reads). */
static void conn_reparse_head(struct conn *c)
{
    const struct config *cfg = cfg_of(c);
    struct http_parse_limits lim = { cfg->limits.max_header_bytes, cfg->limits.max_uri_bytes,
                                     cfg->limits.max_headers };
    int status;
    const char *why;
    c->head.num_headers = cfg->limits.max_headers;
    /* Same bytes, same result: neither call can fail now. */
    http_parse_request(buf_head(&c->in), c->head_len, 0, &c->head, &lim, &status, &why);
    http_request_framing(&c->head, &c->fr, &status, &why);
    c->head_moves = c->in.moves;
}

/* Returns CONN_PROGRESS when the whole body is buffered. */
static int conn_body(struct conn *c)
{
    const struct config *cfg = cfg_of(c);
    if (c->fr.body == HTTP_BODY_NONE)
        return CONN_PROGRESS;
    if (c->fr.body == HTTP_BODY_LENGTH) {
        c->body_len = c->in.len - c->head_len;
        if (c->body_len >= c->fr.content_length) {
            c->body_len = (size_t)c->fr.content_length;
            return CONN_PROGRESS;
        }
    } else {
        char *raw = buf_head(&c->in) + c->head_len + c->body_len;
        size_t n = c->in.len - c->head_len - c->body_len;
        ssize_t rc = http_chunked_decode(&c->chunked, raw, &n);
        if (rc == HTTP_PARSE_ERROR) {
            conn_fail(c, 400, "bad_chunked_body", "malformed chunked encoding");
            return CONN_CLOSED;
        }
        c->body_len += n;
        c->in.len = c->head_len + c->body_len + (rc >= 0 ? (size_t)rc : 0);
        if (c->body_len > cfg->limits.max_body_bytes) {
            conn_fail(c, 413, "body_too_large", "the request body exceeds max_body_bytes");
            return CONN_CLOSED;
        }
        if (rc >= 0)
            return CONN_PROGRESS;
    }
    if (c->fr.expect_continue && !c->sent_continue && c->in.len == c->head_len) {
        /* The client waits for our go-ahead before sending the body. */
        c->sent_continue = true;
        buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    return CONN_NEED_MORE;
}

int conn_parse_and_dispatch(struct conn *c)
{
    if (c->head_len == 0) {
        if (c->in.len == 0)
            return CONN_NEED_MORE;
        int rc = conn_head(c);
        if (rc != CONN_PROGRESS || c->head_len == 0)
            return rc;
        if (c->fr.body != HTTP_BODY_NONE)
            loop_timer_set(c->w->loop, &c->timer, (uint64_t)cfg_of(c)->timeouts.body_ms);
    }
    int rc = conn_body(c);
    if (rc == CONN_CLOSED)
        return CONN_PROGRESS; /* conn_fail queued the error response */
    if (rc == CONN_NEED_MORE) {
        if (c->out.len > 0) { /* 100 Continue: send it before waiting */
            c->state = CONN_WRITE;
            c->close_after_write = false;
            return CONN_PROGRESS;
        }
        return CONN_NEED_MORE;
    }
    if (c->in.moves != c->head_moves)
        conn_reparse_head(c);
    conn_dispatch(c);
    return c->closed ? CONN_CLOSED : CONN_PROGRESS;
}
