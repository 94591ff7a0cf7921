/* api.c: see api.h. */
#include "support/api.h"

#include "auth/totp.h"

#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 20000

static ssize_t tls_source(void *ctx, void *p, size_t n, int timeout_ms)
{
    ssize_t r = tc_read(ctx, p, n, timeout_ms);
    return r > 0 ? r : (r == TC_CLOSED ? 0 : -1);
}

int api_start(struct srv *s, const char *extra_json)
{
    return api_start_bin(s, PC_BINARY, extra_json, NULL);
}

int api_start_bin(struct srv *s, const char *binary, const char *extra_json,
                  const char *const *extra_args)
{
    static const char relaxed[] =
        "{\"rate_limits\": {\"login_ip_per_minute\": 100000, \"login_user_per_minute\": 100000,"
        " \"register_ip_per_minute\": 100000, \"lockout_threshold\": 1000}}";
    json_t *cfg = json_loads(relaxed, 0, NULL), *extra = NULL;
    char *text = NULL;
    int rc = -1;
    if (extra_json != NULL && (extra = json_loads(extra_json, 0, NULL)) == NULL) {
        fprintf(stderr, "api: bad extra_json %s\n", extra_json);
        goto out;
    }
    if (cfg == NULL || (extra != NULL && json_object_update_recursive(cfg, extra) != 0) ||
        (text = json_dumps(cfg, JSON_COMPACT)) == NULL)
        goto out;
    rc = srv_start_bin(s, binary, text, extra_args);
out:
    free(text);
    json_decref(extra);
    json_decref(cfg);
    return rc;
}

/* tc_connect leaves Nagle on: the client's last handshake flight goes out
 * in three writes, and the second waits for the server's delayed ACK
 * (40 ms per connection). Connecting here with TCP_NODELAY avoids that. */
int api_open(struct api_conn *c, const struct srv *s, char *err, size_t errlen)
{
    struct tc_opts o = { .ca_file = s->ca_file, .timeout_ms = IO_TIMEOUT_MS };
    int one = 1, ret = TC_ERROR;
    c->carry_len = 0;
    c->attached = 0;
    c->fd = tcp_connect(s->https_port);
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "api: cannot connect to port %d", s->https_port);
        return -1;
    }
    if (tc_attach(&c->tc, c->fd, &o, err, errlen) != 0)
        return -1;
    c->attached = 1;
    while ((ret = tc_handshake_step(&c->tc)) == TC_WANT_READ || ret == TC_WANT_WRITE) {
        struct pollfd p = { c->fd, (short)(ret == TC_WANT_WRITE ? POLLOUT : POLLIN), 0 };
        if (poll(&p, 1, IO_TIMEOUT_MS) <= 0) {
            ret = TC_TIMEOUT;
            break;
        }
    }
    if (ret != 0)
        snprintf(err, errlen, "api: handshake: %d %s", ret, tc_error(&c->tc));
    return ret == 0 ? 0 : -1;
}

void api_close(struct api_conn *c)
{
    if (c->attached)
        tc_close(&c->tc);
    c->attached = 0;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void api_resp_free(struct api_resp *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* The request bytes: head, then the body. Caller frees. */
static char *build_request(const struct api_req *q, size_t *len)
{
    size_t blen = q->body ? (q->body_len ? q->body_len : strlen(q->body)) : 0;
    size_t cap = 1024 + strlen(q->path) + (q->bearer ? strlen(q->bearer) : 0) +
                 (q->headers ? strlen(q->headers) : 0) + blen;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    int n = snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\n", q->method, q->path);
    if (q->bearer)
        n += snprintf(buf + n, cap - (size_t)n, "Authorization: Bearer %s\r\n", q->bearer);
    if (q->body) {
        const char *ct = q->content_type ? q->content_type : "application/json";
        if (ct[0]) /* "" sends no Content-Type at all */
            n += snprintf(buf + n, cap - (size_t)n, "Content-Type: %s\r\n", ct);
        n += snprintf(buf + n, cap - (size_t)n, "Content-Length: %zu\r\n", blen);
    }
    n += snprintf(buf + n, cap - (size_t)n, "%s\r\n", q->headers ? q->headers : "");
    if (blen > 0)
        memcpy(buf + n, q->body, blen);
    *len = (size_t)n + blen;
    return buf;
}

int api_write(struct api_conn *c, const struct api_req *q)
{
    size_t len = 0;
    char *req = build_request(q, &len);
    if (req == NULL)
        return -1;
    int rc = tc_write_all(&c->tc, req, len, IO_TIMEOUT_MS);
    free(req);
    return rc == 0 ? 0 : -1;
}

int api_read(struct api_conn *c, struct api_resp *r)
{
    api_resp_free(r);
    memset(&r->http, 0, sizeof r->http);
    if (resp_read(tls_source, &c->tc, &r->http, IO_TIMEOUT_MS, c->carry, sizeof c->carry,
                  &c->carry_len) != 0)
        return -1;
    if (r->http.body_len > 0)
        r->json = json_loadb(r->http.body, r->http.body_len, 0, NULL);
    return r->http.status;
}

int api_send(struct api_conn *c, const struct api_req *q, struct api_resp *r)
{
    /* Written before the old response goes: q may point into it. A refused
     * body may be cut short by the server: read its answer even when the
     * write failed. */
    (void)api_write(c, q);
    return api_read(c, r);
}

int api_request(const struct srv *s, const struct api_req *q, struct api_resp *r)
{
    struct api_conn c;
    char err[256];
    if (api_open(&c, s, err, sizeof err) != 0) {
        fprintf(stderr, "api: connect: %s\n", err);
        api_close(&c);
        return -1;
    }
    int st = api_send(&c, q, r);
    api_close(&c);
    return st;
}

int api_json(const struct srv *s, const char *method, const char *path, const char *bearer,
             struct api_resp *r, const char *fmt, ...)
{
    struct api_req q = { .method = method, .path = path, .bearer = bearer };
    char *body = NULL;
    if (fmt != NULL) {
        json_error_t je;
        va_list ap;
        va_start(ap, fmt);
        json_t *j = json_vpack_ex(&je, 0, fmt, ap);
        va_end(ap);
        if (j == NULL) {
            fprintf(stderr, "api: json_pack '%s': %s\n", fmt, je.text);
            return -1;
        }
        body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (body == NULL)
            return -1;
        q.body = body;
    }
    int st = api_request(s, &q, r);
    free(body);
    return st;
}

const char *api_str(const struct api_resp *r, const char *key)
{
    const char *v = json_string_value(json_object_get(r->json, key));
    return v ? v : "";
}

long long api_int(const struct api_resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

const char *api_error(const struct api_resp *r) { return api_str(r, "error"); }

int api_header(const struct api_resp *r, const char *name, char *out, size_t outlen)
{
    return resp_header(&r->http, name, out, outlen);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void api_header_names(const struct api_resp *r, char *out, size_t outlen)
{
    char names[64][64];
    char *sorted[64];
    size_t n = 0, used = 0;
    const char *p = strstr(r->http.head, "\r\n");
    while (p != NULL && n < 64) {
        p += 2;
        const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
        if (colon == NULL || eol == NULL || colon > eol)
            break;
        size_t len = (size_t)(colon - p) < 63 ? (size_t)(colon - p) : 63;
        for (size_t i = 0; i < len; i++)
            names[n][i] = (char)tolower((unsigned char)p[i]);
        names[n][len] = '\0';
        if (strcmp(names[n], "date") != 0) {
            sorted[n] = names[n];
            n++;
        }
        p = eol;
    }
    qsort(sorted, n, sizeof sorted[0], cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", sorted[i]);
        if (w < 0 || used + (size_t)w >= outlen)
            break;
        used += (size_t)w;
    }
}

int api_register(const struct srv *s, const char *user, const char *pw, int64_t *id)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "POST", "/api/register", NULL, &r, "{s:s, s:s}", "username", user,
                      "password", pw);
    if (st == 201 && id != NULL)
        *id = (int64_t)api_int(&r, "id");
    api_resp_free(&r);
    return st;
}

int api_login(const struct srv *s, const char *user, const char *pw, struct api_session *t)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username", user, "password",
                      pw);
    if (st == 200) {
        snprintf(t->access, sizeof t->access, "%s", api_str(&r, "access_token"));
        snprintf(t->refresh, sizeof t->refresh, "%s", api_str(&r, "refresh_token"));
    }
    api_resp_free(&r);
    return st;
}

int api_new_user(const struct srv *s, const char *user, const char *pw, struct api_session *t)
{
    memset(t, 0, sizeof *t);
    if (api_register(s, user, pw, &t->id) != 201 || api_login(s, user, pw, t) != 200)
        return -1;
    return 0;
}

long long api_user_total(const struct srv *s, const char *admin_token)
{
    struct api_resp r = { 0 };
    long long total = -1;
    if (api_json(s, "GET", "/api/admin/users?limit=1", admin_token, &r, NULL) == 200)
        total = api_int(&r, "total");
    api_resp_free(&r);
    return total;
}

int api_cli(const struct srv *s, const char *args, const char *stdin_text, char *out, size_t outlen)
{
    char outfile[400], cmd[1200];
    snprintf(outfile, sizeof outfile, "%s/cli-%d.out", s->dir, (int)getpid());
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' %s >'%s' 2>&1", PC_BINARY, s->config, args,
             outfile);
    /* The CLI may exit without reading its input (a refused name). */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    FILE *p = popen(cmd, "w");
    int st = -1;
    if (p != NULL) {
        if (stdin_text != NULL)
            fputs(stdin_text, p);
        int ws = pclose(p);
        st = ws != -1 && WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    }
    signal(SIGPIPE, old);
    if (out != NULL && outlen > 0) {
        out[0] = '\0';
        FILE *f = fopen(outfile, "r");
        if (f != NULL) {
            size_t n = fread(out, 1, outlen - 1, f);
            out[n] = '\0';
            fclose(f);
        }
    }
    unlink(outfile);
    return st;
}

int api_make_admin(const struct srv *s, const char *name, const char *pw, struct api_session *t)
{
    char args[128], input[256], out[1024];
    memset(t, 0, sizeof *t);
    snprintf(args, sizeof args, "user add %s --admin", name);
    snprintf(input, sizeof input, "%s\n", pw);
    if (api_cli(s, args, input, out, sizeof out) != 0) {
        fprintf(stderr, "api: cli %s: %s\n", args, out);
        return -1;
    }
    const char *id = strstr(out, "(id ");
    if (id != NULL)
        t->id = strtoll(id + 4, NULL, 10);
    return api_login(s, name, pw, t) == 200 ? 0 : -1;
}

void api_expect_error(const struct api_resp *r, int st, int want, const char *code)
{
    ck_assert_msg(st == want, "status %d, want %d: %s", st, want, r->http.body);
    ck_assert_msg(strcmp(api_error(r), code) == 0, "error '%s', want '%s'", api_error(r), code);
    ck_assert_msg(json_is_string(json_object_get(r->json, "detail")), "no detail: %s",
                  r->http.body);
}

size_t api_b32_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned bits = 0, acc = 0;
    for (; *s; s++) {
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(a, *s);
        ck_assert_ptr_nonnull(p);
        acc = (acc << 5) | (unsigned)(p - a);
        bits += 5;
        if (bits >= 8) {
            ck_assert_uint_lt(n, cap);
            out[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return n;
}

void api_totp_code(const char *b32, int ahead, char out[7])
{
    unsigned char key[64];
    uint32_t c = 0;
    size_t n = api_b32_decode(b32, key, sizeof key);
    ck_assert_int_eq(totp_code(key, n, totp_step(time(NULL)) + ahead, 6, &c), 0);
    snprintf(out, 7, "%06u", c);
}
