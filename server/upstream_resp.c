/* upstream_resp.c: an upstream's response head, parsed strictly (a
 * malformed one becomes a 502), and the head the client gets for it
 * (see gateway_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/gateway_int.h"
#include "server/static.h"

static bool value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

/* "HTTP/1.x NNN reason": 0 or -1. */
static int parse_status_line(const char *p, size_t n, struct upstream_head *h)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return -1;
    h->minor_version = p[7] - '0';
    for (int i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (h->status < 100)
        return -1;
    if (n > 12 && p[12] != ' ')
        return -1;
    h->reason = n > 13 ? str_make(p + 13, n - 13) : str_make("", 0);
    for (size_t i = 0; i < h->reason.n; i++)
        if (!value_char((unsigned char)h->reason.p[i]))
            return -1;
    return 0;
}

static int parse_header_line(const char *p, size_t n, struct http_header *x)
{
    size_t i = 0;
    while (i < n && http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ':')
        return -1;
    x->name = str_make(p, i);
    i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    for (size_t k = i; k < end; k++)
        if (!value_char((unsigned char)p[k]))
            return -1;
    x->value = str_make(p + i, end - i);
    return 0;
}

/* Content-Length: digits only; repeated ones must agree. */
static int parse_length(struct str v, uint64_t *out)
{
    uint64_t n = 0;
    if (v.n == 0 || v.n > 18)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return 0;
}

/* RFC 9112 §6.3, strictly: a Transfer-Encoding other than chunked, or with
 * a Content-Length, or lengths that disagree, are malformed. */
static int parse_framing(struct upstream_head *h, bool head_request, const char **why)
{
    bool chunked = false, te = false;
    h->keep_alive = h->minor_version == 1;
    for (size_t i = 0; i < h->num_headers; i++) {
        const struct http_header *x = &h->headers[i];
        uint64_t n;
        if (str_ieq(x->name, "Content-Length")) {
            if (parse_length(x->value, &n) != 0 || (h->has_length && n != h->content_length)) {
                *why = "bad Content-Length";
                return -1;
            }
            h->has_length = true;
            h->content_length = n;
        } else if (str_ieq(x->name, "Transfer-Encoding")) {
            te = true;
            chunked = str_ieq(x->value, "chunked") && !chunked;
        } else if (str_ieq(x->name, "Connection")) {
            if (gateway_token_listed(x->value, STR_LIT("close")))
                h->keep_alive = false;
            else if (h->minor_version == 0 && gateway_token_listed(x->value, STR_LIT("keep-alive")))
                h->keep_alive = true;
        }
    }
    if (te && (!chunked || h->has_length || h->minor_version == 0)) {
        *why = "Transfer-Encoding other than chunked, or with Content-Length";
        return -1;
    }
    if (head_request || h->status < 200 || h->status == 204 || h->status == 304)
        h->body = UP_BODY_NONE;
    else if (chunked)
        h->body = UP_BODY_CHUNKED;
    else if (h->has_length)
        h->body = h->content_length > 0 ? UP_BODY_LENGTH : UP_BODY_NONE;
    else
        h->body = UP_BODY_CLOSE;
    if (h->body == UP_BODY_CLOSE)
        h->keep_alive = false;
    return 0;
}

long upstream_parse_head(const char *buf, size_t len, bool head_request, struct upstream_head *h,
                         const char **why)
{
    const char *end = NULL;
    for (size_t i = 3; i < len && end == NULL; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            end = buf + i + 1;
    if (end == NULL)
        return 0;
    memset(h, 0, sizeof *h);
    *why = "malformed response head";
    const char *p = buf;
    int line = 0;
    while (p < end - 2) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL || nl == p || nl[-1] != '\r' || memchr(p, '\r', (size_t)(nl - p - 1)))
            return -1; /* bare LF or CR */
        size_t n = (size_t)(nl - 1 - p);
        if (line == 0 && parse_status_line(p, n, h) != 0)
            return -1;
        if (line > 0) {
            if (h->num_headers == UPSTREAM_MAX_HEADERS) {
                *why = "too many headers";
                return -1;
            }
            if (parse_header_line(p, n, &h->headers[h->num_headers++]) != 0)
                return -1;
        }
        line++;
        p = nl + 1;
    }
    if (h->status == 101) {
        *why = "protocol switch (Upgrade is not forwarded)";
        return -1;
    }
    if (parse_framing(h, head_request, why) != 0)
        return -1;
    return (long)(end - buf);
}

/* ---- the client's head ---- */

static bool has_header(const struct upstream_head *h, const char *name)
{
    for (size_t i = 0; i < h->num_headers; i++)
        if (str_ieq(h->headers[i].name, name))
            return true;
    return false;
}

static int put_line(struct buf *out, const char *name, const char *value)
{
    return buf_append_str(out, name) | buf_append_str(out, value) | buf_append(out, "\r\n", 2);
}

static int put_length(struct buf *out, uint64_t n)
{
    return buf_append_str(out, "Content-Length: ") | buf_append_uint(out, n) |
           buf_append(out, "\r\n", 2);
}

static int put_framing(const struct upstream_head *h, const struct http_stream_info *info,
                       struct buf *out, bool *chunked, bool *close)
{
    *chunked = false;
    *close = !info->keep_alive;
    switch (h->body) {
    case UP_BODY_NONE:
        if (h->has_length && h->status != 204 && h->status >= 200)
            return put_length(out, h->content_length);
        return 0;
    case UP_BODY_LENGTH: return put_length(out, h->content_length);
    case UP_BODY_CHUNKED:
    case UP_BODY_CLOSE:
        if (info->minor_version == 0) {
            *close = true; /* an HTTP/1.0 client learns the end from our close */
            return 0;
        }
        *chunked = true;
        return buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    }
    return 0;
}

int upstream_client_head(const struct upstream_head *h, const struct http_stream_info *info,
                         const char *request_id, struct buf *out, bool *chunked, bool *close)
{
    int rc = buf_append_str(out, info->minor_version ? "HTTP/1.1 " : "HTTP/1.0 ");
    rc |= buf_append_uint(out, (uint64_t)h->status);
    rc |= buf_append(out, " ", 1);
    rc |= buf_append(out, h->reason.p, h->reason.n);
    rc |= buf_append(out, "\r\n", 2);
    for (size_t i = 0; i < h->num_headers; i++) {
        const struct http_header *x = &h->headers[i];
        if (gateway_hop_by_hop(x->name, h->headers, h->num_headers) ||
            str_ieq(x->name, "Content-Length"))
            continue;
        rc |= buf_append(out, x->name.p, x->name.n);
        rc |= buf_append(out, ": ", 2);
        rc |= buf_append(out, x->value.p, x->value.n);
        rc |= buf_append(out, "\r\n", 2);
    }
    rc |= put_framing(h, info, out, chunked, close);
    if (*close)
        rc |= buf_append_str(out, "Connection: close\r\n");
    else if (info->minor_version == 0)
        rc |= buf_append_str(out, "Connection: keep-alive\r\n");
    if (!has_header(h, "Date")) {
        rc |= put_line(out, "Date: ", http_date_now());
    }
    if (!has_header(h, "X-Request-Id"))
        rc |= put_line(out, "X-Request-Id: ", request_id);
    if (info->is_tls && !has_header(h, "Strict-Transport-Security")) {
        rc |= buf_append_str(out, "Strict-Transport-Security: max-age=");
        rc |= buf_append_uint(out, info->hsts_max_age_s > 0 ? (uint64_t)info->hsts_max_age_s : 0);
        rc |= buf_append_str(out, "; includeSubDomains\r\n");
    }
    if (!has_header(h, "X-Content-Type-Options"))
        rc |= buf_append_str(out, "X-Content-Type-Options: nosniff\r\n");
    if (!has_header(h, "Referrer-Policy"))
        rc |= buf_append_str(out, "Referrer-Policy: no-referrer\r\n");
    if (!has_header(h, "X-Frame-Options"))
        rc |= buf_append_str(out, "X-Frame-Options: DENY\r\n");
    rc |= buf_append(out, "\r\n", 2);
    return rc == 0 ? 0 : -1;
}
