/* demo_compare.c: the comparison's steps (credentials, one login per side
 * for the transcript, timed runs) and its JSON document. demo.c measures
 * single exchanges. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/buf.h"
#include "demo/demo_int.h"

#define DEMO_TEXT_MAX (4u * 1024 * 1024)

/* ---- small JSON helpers -------------------------------------------------- */

static json_t *demo_ms_json(const struct demo_probe *p)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "connect", p->connect_ms, "handshake", p->handshake_ms,
                     "ttfb", p->ttfb_ms, "total", p->total_ms);
}

static json_t *demo_bytes_json(const struct demo_probe *p)
{
    return json_pack("{s:I, s:I}", "sent", (json_int_t)p->sent, "received",
                     (json_int_t)p->received);
}

/* Marks a side failed; the first error is the one reported. */
static void demo_fail(json_t *side, const char *fmt, ...) PC_PRINTF(2, 3);
static void demo_fail(json_t *side, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!json_is_true(json_object_get(side, "ok")))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object_set_new(side, "ok", json_false());
    json_object_set_new(side, "error", json_string(msg));
}

static int demo_ok(const json_t *side)
{
    return side != NULL && json_is_true(json_object_get(side, "ok"));
}

static json_t *demo_side_new(const char *scheme, const char *host, int port)
{
    char url[320];
    int v6 = strchr(host, ':') != NULL;
    snprintf(url, sizeof url, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
    return json_pack("{s:s, s:b, s:s, s:i}", "url", url, "ok", 1, "error", "", "status", 0);
}

/* ---- medians ------------------------------------------------------------- */

static int demo_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double demo_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, demo_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Each field's own median over n probes. */
static void demo_median_probe(const struct demo_probe *ps, int n, struct demo_probe *out)
{
    static const size_t fields[] = {
        offsetof(struct demo_probe, connect_ms), offsetof(struct demo_probe, handshake_ms),
        offsetof(struct demo_probe, ttfb_ms),    offsetof(struct demo_probe, total_ms),
        offsetof(struct demo_probe, sent),       offsetof(struct demo_probe, received),
    };
    double v[DEMO_RUNS_MAX];
    memset(out, 0, sizeof *out);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (int i = 0; i < n; i++)
            memcpy(&v[i], (const char *)&ps[i] + fields[f], sizeof v[i]);
        double m = demo_median(v, n);
        memcpy((char *)out + fields[f], &m, sizeof m);
    }
    for (int i = 0; i < n; i++)
        v[i] = ps[i].round_trips;
    out->round_trips = (int)(demo_median(v, n) + 0.5);
}

/* ---- requests ------------------------------------------------------------ */

#define DEMO_REQ_MAX (64 * 1024)

/* Appends method path with an optional JSON body, Connection: close, to an
 * empty b. 0 or -1. */
static int demo_request(struct buf *b, const char *method, const char *path, const char *host,
                        int port, const char *body)
{
    int v6 = strchr(host, ':') != NULL;
    if (buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n", method, path, v6 ? "[" : "", host,
                   v6 ? "]" : "", port) != 0 ||
        buf_append_str(b, "User-Agent: portcullis-demo\r\nAccept: application/json\r\n"
                          "Connection: close\r\n") != 0)
        return -1;
    if (body != NULL)
        return buf_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          strlen(body), body);
    return buf_append_str(b, "\r\n");
}

static char *demo_credentials(const char *user, const char *password)
{
    json_t *j = json_pack("{s:s, s:s}", "username", user, "password", password);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* POST path {username, password} on a fresh connection; e gets the result,
 * req (empty, initialised) the request. 0, or -1 with err. */
static int demo_post_credentials(const struct demo_run *x, int tls, const char *path,
                                 const char *user, const char *password, struct demo_exchange *e,
                                 struct buf *req, char *err, size_t errlen)
{
    char *body = demo_credentials(user, password);
    int rc = -1;
    if (body == NULL || demo_request(req, "POST", path, tls ? x->o->https_host : x->o->http_host,
                                     tls ? x->o->https_port : x->o->http_port, body) != 0) {
        snprintf(err, errlen, "out of memory");
    } else {
        e->tls = tls;
        e->request = buf_head(req);
        e->request_len = req->len;
        rc = demo_exchange_run(x, e, err, errlen);
    }
    free(body);
    return rc;
}

/* ---- the transcript ------------------------------------------------------ */

static void demo_hexdump(struct buf *b, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        buf_append(b, hex + 2 * i, 2);
        buf_append(b, (i % 16 == 15 || i + 1 == n) ? "\n" : " ", 1);
    }
}

/* eavesdropper_text/_hex, segments, records, password_visible. */
static void demo_side_capture(json_t *side, const struct wire_cap *cap, int tls, const char *pw)
{
    json_t *cj = wire_cap_json(cap, tls, 1), *seg;
    struct buf text, hex;
    size_t i;
    buf_init(&text, DEMO_TEXT_MAX);
    buf_init(&hex, DEMO_TEXT_MAX);
    json_array_foreach(json_object_get(cj, "segments"), i, seg)
    {
        const char *t = json_string_value(json_object_get(seg, "text"));
        const char *h = json_string_value(json_object_get(seg, "hex"));
        int client = strcmp(json_string_value(json_object_get(seg, "dir")), "client") == 0;
        char head[96];
        snprintf(head, sizeof head, "%s, %lld bytes\n",
                 client ? "> client -> server" : "< server -> client",
                 (long long)json_integer_value(json_object_get(seg, "size")));
        buf_append_str(&text, head);
        buf_append_str(&text, t ? t : "");
        if (t && t[0] && t[strlen(t) - 1] != '\n')
            buf_append_str(&text, "\n");
        buf_append_str(&hex, head);
        demo_hexdump(&hex, h ? h : "");
    }
    json_object_set_new(side, "eavesdropper_text", json_stringn(buf_head(&text), text.len));
    json_object_set_new(side, "eavesdropper_hex", json_stringn(buf_head(&hex), hex.len));
    json_object_set(side, "segments", json_object_get(cj, "segments"));
    if (tls)
        json_object_set(side, "records", json_object_get(cj, "records"));
    /* The password as it travels: inside a JSON string. */
    json_t *enc = json_string(pw);
    char *dump = enc ? json_dumps(enc, JSON_ENCODE_ANY) : NULL;
    int seen = dump != NULL && wire_cap_contains(cap, dump + 1, strlen(dump) - 2);
    json_object_set_new(side, "password_visible", json_boolean(seen));
    free(dump);
    json_decref(enc);
    buf_free(&text);
    buf_free(&hex);
    json_decref(cj);
}

static void demo_side_login(json_t *side, const struct demo_exchange *e, const struct buf *req,
                            const char *pw)
{
    char *t = malloc(req->len + 1);
    if (t != NULL) {
        size_t n = wire_text(t, (const unsigned char *)buf_head(req), req->len);
        json_object_set_new(side, "request_text", json_stringn(t, n));
        free(t);
    }
    json_object_set_new(side, "status", json_integer(e->p.status));
    json_object_set_new(side, "login_ms", demo_ms_json(&e->p));
    json_object_set_new(side, "login_bytes", demo_bytes_json(&e->p));
    demo_side_capture(side, e->cap, e->tls, pw);
    if (e->tls)
        json_object_set_new(side, "tls",
                            json_pack("{s:s, s:s, s:b}", "version", e->version, "ciphersuite",
                                      e->suite, "verified", e->verified));
}

/* Register (201, or 409 when the name exists), then log in with a capture.
 * Returns the login status, or -1. retry: a 401 is not a failure yet (the
 * caller tries another name). */
static int demo_login(const struct demo_run *x, json_t *side, int tls, const char *user,
                      const char *pw, int do_register, int retry, struct wire_cap *cap)
{
    struct demo_exchange e = { 0 };
    struct buf req;
    char err[256];
    int rc = -1;
    buf_init(&req, DEMO_REQ_MAX);
    if (do_register) {
        if (demo_post_credentials(x, 1, "/api/register", user, pw, &e, &req, err, sizeof err) !=
            0) {
            demo_fail(side, "register: %s", err);
            goto out;
        }
        buf_free(&req);
        if (e.p.status != 201 && e.p.status != 409) {
            if (e.p.status == 429)
                demo_fail(side,
                          "the server rate-limits registrations (429): try again in a minute");
            else
                demo_fail(side, "register answered %d", e.p.status);
            goto out;
        }
    }
    memset(&e, 0, sizeof e);
    e.cap = cap;
    if (demo_post_credentials(x, tls, "/api/login", user, pw, &e, &req, err, sizeof err) != 0) {
        demo_fail(side, "login: %s", err);
        goto out;
    }
    demo_side_login(side, &e, &req, pw);
    rc = e.p.status;
    /* Over plain HTTP any answer makes the point (the 403 "HTTPS required"
     * comes after the password crossed the network); over HTTPS only a login counts. */
    if (rc == 429)
        demo_fail(side, "the server rate-limits logins (429): try again in a minute");
    else if (tls && rc != 200 && !(rc == 401 && retry))
        demo_fail(side, "the login over HTTPS answered %d", rc);
out:
    buf_free(&req);
    return rc;
}

/* ---- timings ------------------------------------------------------------- */

static void demo_side_timings(json_t *side, int tls, const struct demo_probe *full,
                              const struct demo_probe *res, int n, int resumed_runs)
{
    struct demo_probe m;
    demo_median_probe(full, n, &m);
    json_object_set_new(side, "median_ms", demo_ms_json(&m));
    json_object_set_new(side, "bytes", demo_bytes_json(&m));
    json_object_set_new(side, "handshake_round_trips", json_integer(m.round_trips));
    if (!tls)
        return;
    demo_median_probe(res, n, &m);
    json_object_set_new(side, "resumed_median_ms", demo_ms_json(&m));
    json_object_set_new(side, "resumed_bytes", demo_bytes_json(&m));
    json_object_set_new(side, "resumed_handshake_round_trips", json_integer(m.round_trips));
    json_object_set_new(side, "resumed_runs", json_integer(resumed_runs));
}

/* One timed run: a full handshake and, on TLS, one resuming its session. */
static int demo_time_one(const struct demo_run *x, int tls, const struct buf *req,
                         struct demo_probe *full, struct demo_probe *res, char *err, size_t errlen)
{
    struct tls_client_session *sess = NULL;
    struct demo_exchange e = {
        .tls = tls, .save = tls ? &sess : NULL, .request = buf_head(req), .request_len = req->len
    };
    if (demo_exchange_run(x, &e, err, errlen) != 0)
        return -1;
    *full = e.p;
    if (!tls)
        return 0;
    struct demo_exchange r = {
        .tls = tls, .resume = sess, .request = buf_head(req), .request_len = req->len
    };
    int rc = demo_exchange_run(x, &r, err, errlen);
    *res = r.p;
    tls_client_session_free(sess);
    return rc;
}

static void demo_timings(const struct demo_run *x, json_t *side, int tls)
{
    struct demo_probe full[DEMO_RUNS_MAX], res[DEMO_RUNS_MAX];
    struct buf req;
    char err[256];
    int resumed = 0;
    buf_init(&req, DEMO_REQ_MAX);
    if (demo_request(&req, "GET", "/healthz", tls ? x->o->https_host : x->o->http_host,
                     tls ? x->o->https_port : x->o->http_port, NULL) != 0) {
        demo_fail(side, "out of memory");
        buf_free(&req);
        return;
    }
    for (int i = 0; i < x->runs; i++) {
        if (demo_time_one(x, tls, &req, &full[i], &res[i], err, sizeof err) != 0) {
            demo_fail(side, "timed run %d: %s", i + 1, err);
            buf_free(&req);
            return;
        }
        resumed += res[i].resumed;
    }
    demo_side_timings(side, tls, full, res, x->runs, resumed);
    buf_free(&req);
}

/* ---- the whole comparison ------------------------------------------------ */

json_t *demo_compare(const struct demo_opts *o, char *err, size_t errlen)
{
    struct demo_run x;
    struct wire_cap cap_https, cap_http, cap_tls12;
    char user[80], note[96];
    const char *pw = o->password ? o->password : DEMO_DEFAULT_PASSWORD;
    if (demo_run_setup(&x, o, err, errlen) != 0)
        return NULL;
    snprintf(user, sizeof user, "%s", o->user ? o->user : DEMO_DEFAULT_USER);
    snprintf(note, sizeof note, "median of %d run%s, each on a fresh connection", x.runs,
             x.runs == 1 ? "" : "s");
    json_t *doc = json_pack("{s:i, s:s, s:s}", "runs", x.runs, "timed_request", "GET /healthz",
                            "timing_note", note);
    json_t *https = demo_side_new("https", o->https_host, o->https_port);
    json_t *http = o->http_host ? demo_side_new("http", o->http_host, o->http_port) : NULL;
    json_t *tls12 = o->tls12 ? demo_side_new("https", o->https_host, o->https_port) : NULL;
    if (doc == NULL || https == NULL || (o->http_host && http == NULL) || (o->tls12 && !tls12)) {
        snprintf(err, errlen, "demo: out of memory");
        json_decref(doc);
        doc = NULL;
        goto out;
    }
    if (demo_login(&x, https, 1, user, pw, 1, o->user == NULL, &cap_https) == 401 &&
        o->user == NULL) {
        /* The default name belongs to someone with another password. */
        demo_random_user(user, sizeof user);
        demo_login(&x, https, 1, user, pw, 1, 0, &cap_https);
    }
    if (http != NULL)
        demo_login(&x, http, 0, user, pw, 0, 0, &cap_http);
    if (tls12 != NULL)
        demo_login(&x, tls12, DEMO_TLS12, user, pw, 0, 0, &cap_tls12);
    if (demo_ok(https))
        demo_timings(&x, https, 1);
    if (demo_ok(http))
        demo_timings(&x, http, 0);
    if (demo_ok(tls12))
        demo_timings(&x, tls12, DEMO_TLS12);
    json_object_set_new(doc, "user", json_string(user));
    json_object_set_new(doc, "password", json_string(pw));
    json_object_set(doc, "https", https);
    if (http != NULL)
        json_object_set(doc, "http", http);
    if (tls12 != NULL)
        json_object_set(doc, "https_tls12", tls12);
out:
    json_decref(https);
    json_decref(http);
    json_decref(tls12);
    demo_run_free(&x);
    return doc;
}
