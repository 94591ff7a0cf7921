/* portcullis.c: the request half of the public API (server/portcullis.h):
 * adding routes, reading a request, answering, deferring work to the job
 * pool. Thin wrappers over the router, the exchange and the pool; the
 * server's start and stop live in the composition root (server/root.c). */
#include "server/portcullis_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/hex.h"
#include "server/log.h"
#include "server/pool.h"

int pc_api_version(void) { return PORTCULLIS_API_VERSION; }

int pc_route(struct pc_server *s, const char *method, const char *pattern, const char *access,
             pc_handler handler, void *arg)
{
    int level = -1;
    if (s == NULL || method == NULL || pattern == NULL || access == NULL || handler == NULL)
        return -1;
    if (strcmp(access, "public") == 0)
        level = 0;
    else if (s->access_parse != NULL)
        level = s->access_parse(access);
    if (level < 0) {
        log_error("route %s %s: unknown access rule '%s' (public, token or role:NAME)", method,
                  pattern, access);
        return -1;
    }
    if (router_add(&s->router, method, pattern, handler, level, arg) != 0) {
        log_error("route %s %s: invalid or already present", method, pattern);
        return -1;
    }
    return 0;
}

/* Percent-decodes src into out (NUL-terminated); plus: '+' is a space.
 * Returns the length, or -2 when it does not fit, is malformed, or holds a
 * NUL byte. */
static int pct_decode(struct str src, int plus, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < src.n; i++) {
        int c = (unsigned char)src.p[i];
        if (c == '%') {
            int hi = i + 2 < src.n ? hex_value((unsigned char)src.p[i + 1]) : -1;
            int lo = i + 2 < src.n ? hex_value((unsigned char)src.p[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return -2;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (o + 1 >= outlen)
            return -2;
        out[o++] = (char)c;
    }
    if (outlen == 0)
        return -2;
    out[o] = '\0';
    return o > (size_t)0x7fffffff ? -2 : (int)o;
}

int pc_param(struct pc_req *req, const char *name, char *out, size_t outlen)
{
    struct str v = route_param(&pc_exchange(req)->req.params, name);
    if (v.p == NULL)
        return -1;
    return pct_decode(v, 0, out, outlen);
}

int pc_param_id(struct pc_req *req, const char *name, long long *out)
{
    char buf[24], *end;
    if (pc_param(req, name, buf, sizeof buf) <= 0 || buf[0] < '1' || buf[0] > '9')
        return -1;
    for (const char *p = buf; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = x;
    return 0;
}

int pc_query(struct pc_req *req, const char *name, char *out, size_t outlen)
{
    struct str q = pc_exchange(req)->req.head.query;
    size_t nl = strlen(name), i = 0;
    while (q.p != NULL && i < q.n) {
        const char *amp = memchr(q.p + i, '&', q.n - i);
        size_t end = amp ? (size_t)(amp - q.p) : q.n;
        if (end - i >= nl && memcmp(q.p + i, name, nl) == 0 &&
            (end - i == nl || q.p[i + nl] == '=')) {
            size_t skip = end - i == nl ? nl : nl + 1;
            return pct_decode(str_make(q.p + i + skip, end - i - skip), 1, out, outlen);
        }
        i = end + 1;
    }
    return -1;
}

int pc_header_get(const struct pc_req *req, const char *name, char *out, size_t outlen)
{
    struct str v = http_req_header(&pc_exchange_const(req)->req, name);
    if (v.p == NULL)
        return -1;
    if (v.n >= outlen || v.n > 0x7fffffff)
        return -2;
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
    return (int)v.n;
}

const char *pc_request_id(const struct pc_req *req) { return pc_exchange_const(req)->request_id; }

int pc_user(const struct pc_req *req, struct pc_user *out)
{
    const struct http_exchange *ex = pc_exchange_const(req);
    if (ex->user_id <= 0 || ex->user_name == NULL || ex->user_role == NULL)
        return -1;
    *out = (struct pc_user){ ex->user_id, ex->user_name, ex->user_role };
    return 0;
}

int pc_json(struct pc_req *req, int status, json_t *body)
{
    struct http_response *resp = &pc_exchange(req)->resp;
    if (body == NULL)
        return http_resp_bytes(resp, status, NULL, HTTP_CONTENT_NONE, NULL, 0);
    return http_resp_json(resp, status, body);
}

int pc_error(struct pc_req *req, int status, const char *code, const char *detail)
{
    return http_resp_error(&pc_exchange(req)->resp, status, code, detail);
}

int pc_header(struct pc_req *req, const char *name, const char *value)
{
    /* The framing is the server's: a second length or coding would let
     * the client read a different message than the one we wrote. */
    static const char *const framing[] = { "Content-Length", "Transfer-Encoding", "Connection" };
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
        if (strcasecmp(name, framing[i]) == 0)
            return -1;
    return http_resp_header(&pc_exchange(req)->resp, name, value);
}
