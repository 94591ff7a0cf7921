/* request.c: see request.h. */
#include "auth/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/portcullis_int.h"

int auth_req_is_json(const struct http_exchange *ex) { return http_req_is_json(&ex->req); }

json_t *auth_req_json(struct http_exchange *ex) { return pc_body_json(pc_req_of(ex)); }

static int field_take(json_t *v, const struct auth_field *f)
{
    if (f->type == AUTH_F_STRING) {
        if (!json_is_string(v))
            return -1;
        *f->str = json_string_value(v);
        *f->len = json_string_length(v);
    } else {
        if (!json_is_boolean(v))
            return -1;
        *f->boolean = json_is_true(v);
    }
    if (f->present)
        *f->present = 1;
    return 0;
}

int auth_req_fields(struct http_exchange *ex, json_t *obj, const struct auth_field *f, size_t n)
{
    json_t *bad = json_array();
    char detail[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(obj, f[i].name);
        if (f[i].present)
            *f[i].present = 0;
        if (v == NULL && !f[i].required)
            continue;
        if (v != NULL && field_take(v, &f[i]) == 0)
            continue;
        json_array_append_new(bad, json_string(f[i].name));
        int w = snprintf(detail + used, sizeof detail - used, "%s%s %s", used ? "; " : "",
                         f[i].name,
                         v == NULL                    ? "is required"
                         : f[i].type == AUTH_F_STRING ? "must be a string"
                                                      : "must be a boolean");
        if (w > 0 && used + (size_t)w < sizeof detail)
            used += (size_t)w;
    }
    if (json_array_size(bad) == 0) {
        json_decref(bad);
        return 0;
    }
    http_resp_json(
        &ex->resp, 422,
        json_pack("{s:s, s:s, s:o}", "error", "invalid_fields", "detail", detail, "fields", bad));
    return -1;
}

int auth_username_valid(const char *name, size_t len)
{
    if (len < AUTH_USERNAME_MIN || len > AUTH_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Finds name=value in an unencoded query; value as a slice. */
static int query_find(struct str q, const char *name, struct str *val)
{
    size_t nl = strlen(name), i = 0;
    while (q.p && i < q.n) {
        const char *amp = memchr(q.p + i, '&', q.n - i);
        size_t end = amp ? (size_t)(amp - q.p) : q.n;
        if (end - i > nl && memcmp(q.p + i, name, nl) == 0 && q.p[i + nl] == '=') {
            *val = str_make(q.p + i + nl + 1, end - i - nl - 1);
            return 0;
        }
        i = end + 1;
    }
    return -1;
}

int auth_req_query_int(struct http_exchange *ex, const char *name, long def, long min, long max,
                       long *out)
{
    struct str v;
    char buf[24], detail[128];
    *out = def;
    if (query_find(ex->req.head.query, name, &v) != 0)
        return 0;
    if (v.n > 0 && v.n < sizeof buf) {
        memcpy(buf, v.p, v.n);
        buf[v.n] = '\0';
        char *end;
        errno = 0;
        long x = strtol(buf, &end, 10);
        if (errno == 0 && *end == '\0' && buf[0] != '+' && buf[0] != ' ' && x >= min && x <= max) {
            *out = x;
            return 0;
        }
    }
    snprintf(detail, sizeof detail, "query parameter '%s' must be an integer from %ld to %ld", name,
             min, max);
    http_resp_error(&ex->resp, 400, "bad_query", detail);
    return -1;
}

int auth_req_query_word(struct http_exchange *ex, const char *name, char *out, size_t outlen)
{
    struct str v;
    char detail[128];
    out[0] = '\0';
    if (query_find(ex->req.head.query, name, &v) != 0)
        return 0;
    int ok = v.n > 0 && v.n < outlen;
    for (size_t i = 0; ok && i < v.n; i++)
        ok = (v.p[i] >= 'a' && v.p[i] <= 'z') || (v.p[i] >= '0' && v.p[i] <= '9') ||
             v.p[i] == '_' || v.p[i] == '-';
    if (!ok) {
        snprintf(detail, sizeof detail, "query parameter '%s' must be 1 to %zu of [a-z0-9_-]", name,
                 outlen - 1);
        http_resp_error(&ex->resp, 400, "bad_query", detail);
        return -1;
    }
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
    return 0;
}

int auth_req_cookie(const struct http_exchange *ex, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (size_t h = 0; h < ex->req.head.num_headers; h++) {
        if (!str_ieq(ex->req.head.headers[h].name, "Cookie"))
            continue;
        struct str c = ex->req.head.headers[h].value;
        size_t i = 0;
        while (i < c.n) {
            while (i < c.n && (c.p[i] == ' ' || c.p[i] == ';'))
                i++;
            const char *semi = memchr(c.p + i, ';', c.n - i);
            size_t end = semi ? (size_t)(semi - c.p) : c.n;
            if (end - i > nl && memcmp(c.p + i, name, nl) == 0 && c.p[i + nl] == '=') {
                size_t vn = end - i - nl - 1;
                if (vn >= outlen)
                    return -1;
                memcpy(out, c.p + i + nl + 1, vn);
                out[vn] = '\0';
                return 0;
            }
            i = end;
        }
    }
    return -1;
}
