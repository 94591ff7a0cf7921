/* http_msg.c: request helpers and the response writer (see http_msg.h). */
#include "server/http_msg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/static.h"

struct str http_req_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->head.num_headers; i++)
        if (str_ieq(req->head.headers[i].name, name))
            return req->head.headers[i].value;
    return (struct str){ NULL, 0 };
}

int http_req_is_json(const struct http_request *req)
{
    static const char want[] = "application/json";
    struct str ct = http_req_header(req, "Content-Type");
    size_t n = sizeof want - 1;
    if (ct.p == NULL || ct.n < n || strncasecmp(ct.p, want, n) != 0)
        return 0;
    /* Only parameters may follow ("; charset=utf-8"). */
    return ct.n == n || ct.p[n] == ';' || ct.p[n] == ' ';
}

static int http_value_ok(const char *v)
{
    for (; *v; v++)
        if (*v == '\r' || *v == '\n')
            return 0;
    return 1;
}

int http_resp_header(struct http_response *resp, const char *name, const char *value)
{
    if (*name == '\0' || !http_value_ok(value))
        return -1;
    for (const char *p = name; *p; p++)
        if (!http_is_tchar((unsigned char)*p))
            return -1;
    size_t n = strlen(name), v = strlen(value);
    if (buf_reserve(&resp->headers, n + v + 4) != 0)
        return -1;
    /* Reserved above: these cannot fail. */
    buf_append(&resp->headers, name, n);
    buf_append(&resp->headers, ": ", 2);
    buf_append(&resp->headers, value, v);
    return buf_append(&resp->headers, "\r\n", 2);
}

int http_resp_bytes(struct http_response *resp, int status, const char *content_type,
                    enum http_content kind, const void *p, size_t n)
{
    resp->status = status;
    resp->content_type = content_type;
    resp->kind = kind;
    buf_reset(&resp->body, resp->body.cap);
    return buf_append(&resp->body, p, n);
}

static int http_json_sink(const char *p, size_t n, void *arg) { return buf_append(arg, p, n); }

int http_resp_json(struct http_response *resp, int status, json_t *body)
{
    int rc = http_resp_bytes(resp, status, "application/json; charset=utf-8", HTTP_CONTENT_JSON,
                             NULL, 0);
    if (body != NULL) {
        if (rc == 0)
            rc = json_dump_callback(body, http_json_sink, &resp->body, JSON_COMPACT);
        json_decref(body);
    }
    return rc == 0 ? 0 : -1;
}

int http_resp_error(struct http_response *resp, int status, const char *code, const char *detail)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "detail", detail ? detail : "");
    if (o == NULL)
        return -1;
    return http_resp_json(resp, status, o);
}

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

const char *http_date_now(void)
{
    static _Thread_local time_t last;
    static _Thread_local char text[32];
    time_t now = time(NULL);
    if (now != last) {
        static_http_date(now, text);
        last = now;
    }
    return text;
}

static int http_write_security(const struct http_response *resp, const struct http_writer_opts *o,
                               struct buf *out)
{
    int rc = 0;
    if (o->is_tls) {
        rc |= buf_append_str(out, "Strict-Transport-Security: max-age=");
        rc |= buf_append_uint(out, o->hsts_max_age_s > 0 ? (uint64_t)o->hsts_max_age_s : 0);
        rc |= buf_append_str(out, "; includeSubDomains\r\n");
    }
    rc |= buf_append_str(out, "X-Content-Type-Options: nosniff\r\n"
                              "Referrer-Policy: no-referrer\r\n"
                              "X-Frame-Options: DENY\r\n");
    if (resp->kind == HTTP_CONTENT_JSON)
        rc |= buf_append_str(out, "Cache-Control: no-store\r\n");
    if (resp->kind == HTTP_CONTENT_HTML)
        rc |= buf_append_str(out,
                             "Content-Security-Policy: default-src 'self'; "
                             "frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n");
    return rc;
}

int http_resp_write(const struct http_response *resp, const struct http_writer_opts *o,
                    int minor_version, int keep_alive, int head_only, struct buf *out)
{
    int status = resp->status ? resp->status : 500;
    int rc = buf_append_str(out, minor_version ? "HTTP/1.1 " : "HTTP/1.0 ");
    if (status < 100 || status > 999)
        status = 500; /* a status is three digits on the wire */
    rc |= buf_append_uint(out, (uint64_t)status);
    rc |= buf_append(out, " ", 1);
    rc |= buf_append_str(out, http_status_text(status));
    rc |= buf_append_str(out, "\r\nDate: ");
    rc |= buf_append_str(out, http_date_now());
    rc |= buf_append(out, "\r\n", 2);
    /* 1xx, 204 and 304 carry no body and, for 204/1xx, no Content-Length. */
    int bodyless = status < 200 || status == 204 || status == 304;
    if (status != 204 && status >= 200 && status != 304) {
        rc |= buf_append_str(out, "Content-Length: ");
        rc |= buf_append_uint(out, resp->body.len);
        rc |= buf_append(out, "\r\n", 2);
    }
    if (resp->content_type && !bodyless) {
        rc |= buf_append_str(out, "Content-Type: ");
        rc |= buf_append_str(out, resp->content_type);
        rc |= buf_append(out, "\r\n", 2);
    }
    if (!keep_alive)
        rc |= buf_append_str(out, "Connection: close\r\n");
    else if (minor_version == 0)
        rc |= buf_append_str(out, "Connection: keep-alive\r\n");
    rc |= http_write_security(resp, o, out);
    rc |= buf_append(out, buf_head(&resp->headers), resp->headers.len);
    rc |= buf_append(out, "\r\n", 2);
    if (!head_only && !bodyless)
        rc |= buf_append(out, buf_head(&resp->body), resp->body.len);
    return rc == 0 ? 0 : -1;
}
