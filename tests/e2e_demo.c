/* e2e_demo.c: the HTTP vs HTTPS demo against the real binary:
 * in demo mode the wire view shows a plain-HTTP login's password and only
 * TLS records of an HTTPS one; POST /demo/run and `portcullis demo` compare
 * both sides; without demo mode the /demo routes do not exist and HTTP
 * redirects; demo mode refuses non-loopback addresses unless forced. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo/wire.h"
#include "server/hex.h"
#include "support/api.h"

#define PW       "Eavesdrop-Me-7f3a"
#define BODY_MAX (32u * 1024 * 1024)

static struct srv g_srv; /* demo mode, shared by the "demo" tests */

static void demo_setup_srv(void)
{
    if (api_start(&g_srv, "{\"server\": {\"demo\": true}, \"demo\": {\"wire_capture_bytes\": 16384,"
                          " \"wire_capture_connections\": 64}}") != 0) {
        fprintf(stderr, "e2e_demo: demo server did not start\n");
        exit(1);
    }
}

static void demo_teardown_srv(void) { srv_stop(&g_srv, SIGTERM); }

/* ---- whole responses, however large (the wire view is) ---- */

struct fetched {
    int status;
    char *raw; /* head + body, NUL-terminated */
    size_t len;
    const char *body;
    json_t *json;
};

static void fetched_free(struct fetched *f)
{
    free(f->raw);
    json_decref(f->json);
    memset(f, 0, sizeof *f);
}

static void fetched_parse(struct fetched *f)
{
    f->raw[f->len] = '\0';
    const char *end = strstr(f->raw, "\r\n\r\n");
    ck_assert_msg(end != NULL, "no response head");
    f->status = atoi(f->raw + 9);
    f->body = end + 4;
    f->json = json_loads(f->body, 0, NULL);
}

/* method path with Connection: close, read to the end of the stream; over
 * TLS (trusting the dev CA) or plain HTTP. */
static void fetch(const struct srv *s, int tls, const char *method, const char *path,
                  const char *body, struct fetched *f)
{
    char req[4096];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, body ? strlen(body) : 0, body ? body : "");
    memset(f, 0, sizeof *f);
    f->raw = malloc(BODY_MAX + 1);
    ck_assert_ptr_nonnull(f->raw);
    if (tls) {
        struct tc_conn c;
        struct tc_opts o = { .ca_file = s->ca_file, .timeout_ms = 20000 };
        char err[256];
        ck_assert_msg(tc_connect(&c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0, "%s",
                      err);
        ck_assert_int_eq(tc_write_all(&c, req, strlen(req), 20000), 0);
        ssize_t n;
        while (f->len < BODY_MAX &&
               (n = tc_read(&c, f->raw + f->len, BODY_MAX - f->len, 60000)) > 0)
            f->len += (size_t)n;
        tc_close(&c);
    } else {
        int fd = tcp_connect(s->http_port);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(tcp_write_all(fd, req, strlen(req)), 0);
        ssize_t n;
        while (f->len < BODY_MAX &&
               (n = fd_read_timeout(&fd, f->raw + f->len, BODY_MAX - f->len, 60000)) > 0)
            f->len += (size_t)n;
        close(fd);
    }
    fetched_parse(f);
}

/* All bytes of one direction of a captured connection, as hex. */
static char *conn_hex(const json_t *conn, const char *dir)
{
    size_t total = 1, i;
    const json_t *seg;
    json_array_foreach(json_object_get(conn, "segments"), i, seg)
        total += strlen(json_string_value(json_object_get(seg, "hex")));
    char *out = calloc(1, total);
    ck_assert_ptr_nonnull(out);
    json_array_foreach(json_object_get(conn, "segments"), i,
                       seg) if (strcmp(json_string_value(json_object_get(seg, "dir")), dir) == 0)
        strcat(out, json_string_value(json_object_get(seg, "hex")));
    return out;
}

/* 1 when hex (of whole bytes) holds the bytes of needle. */
static int hex_has(const char *hex, const char *needle)
{
    char nh[256];
    hex_encode(nh, (const unsigned char *)needle, strlen(needle));
    for (const char *p = strstr(hex, nh); p != NULL; p = strstr(p + 1, nh))
        if ((p - hex) % 2 == 0)
            return 1;
    return 0;
}

/* Connections of one listener in the wire view whose bytes (either
 * direction) contain needle. */
static int wire_count(const json_t *wire, const char *listener, const char *needle)
{
    int count = 0;
    size_t i;
    const json_t *conn;
    json_array_foreach(json_object_get(json_object_get(wire, listener), "connections"), i, conn)
    {
        char *c = conn_hex(conn, "client"), *s = conn_hex(conn, "server");
        count += hex_has(c, needle) || hex_has(s, needle);
        free(c);
        free(s);
    }
    return count;
}

/* The newest connection of a listener whose bytes contain needle, or NULL. */
static const json_t *wire_find(const json_t *wire, const char *listener, const char *needle)
{
    size_t i;
    const json_t *conn, *found = NULL;
    json_array_foreach(json_object_get(json_object_get(wire, listener), "connections"), i, conn)
    {
        char *c = conn_hex(conn, "client"), *s = conn_hex(conn, "server");
        if (found == NULL && (hex_has(c, needle) || hex_has(s, needle)))
            found = conn;
        free(c);
        free(s);
    }
    return found;
}

static void login_body(char *out, size_t n, const char *user)
{
    snprintf(out, n, "{\"username\":\"%s\",\"password\":\"%s\"}", user, PW);
}

/* ---- demo mode ---- */

START_TEST(http_login_capture_shows_password)
{
    struct fetched f;
    char body[256];
    ck_assert_int_eq(api_register(&g_srv, "wire-http", PW, NULL), 201);
    login_body(body, sizeof body, "wire-http");
    fetch(&g_srv, 0, "POST", "/api/login", body, &f);
    ck_assert_int_eq(f.status, 200); /* demo mode: served, not redirected */
    ck_assert_ptr_nonnull(strstr(f.raw, "X-Portcullis-Warning: plaintext HTTP"));
    fetched_free(&f);
    fetch(&g_srv, 1, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    ck_assert_ptr_nonnull(f.json);
    ck_assert_int_ge(wire_count(f.json, "http", PW), 1);
    ck_assert_int_ge(wire_count(f.json, "http", "POST /api/login HTTP/1.1"), 1);
    ck_assert_int_ge(wire_count(f.json, "http", "\"access_token\""), 1); /* the answer too */
    ck_assert_int_eq(wire_count(f.json, "https", PW), 0);
    fetched_free(&f);
}
END_TEST

START_TEST(https_login_capture_shows_only_records)
{
    struct fetched f;
    struct api_session t;
    ck_assert_int_eq(api_new_user(&g_srv, "wire-https", PW, &t), 0);
    fetch(&g_srv, 1, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    ck_assert_int_eq(wire_count(f.json, "https", PW), 0);
    ck_assert_int_eq(wire_count(f.json, "https", "/api/login"), 0);
    int hello = 0, appdata = 0;
    size_t i, k;
    const json_t *conn, *rec;
    json_array_foreach(json_object_get(json_object_get(f.json, "https"), "connections"), i, conn)
    {
        char *c = conn_hex(conn, "client");
        hello += strncmp(c, "160303", 6) == 0 || strncmp(c, "160301", 6) == 0;
        appdata += strstr(c, "170303") != NULL;
        free(c);
        json_array_foreach(json_object_get(conn, "records"), k, rec)
        {
            const char *hs = json_string_value(json_object_get(rec, "handshake"));
            if (k == 0)
                ck_assert_msg(hs && strcmp(hs, "client_hello") == 0, "first record %s", hs);
        }
    }
    ck_assert_int_ge(hello, 2); /* the register and the login */
    ck_assert_int_ge(appdata, 2);
    fetched_free(&f);
}
END_TEST

START_TEST(wire_document_shape)
{
    struct fetched f;
    fetch(&g_srv, 1, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(f.json, "capture_bytes")), 16384);
    ck_assert_int_eq(json_integer_value(json_object_get(f.json, "capture_connections")), 64);
    const json_t *https = json_object_get(f.json, "https"), *http = json_object_get(f.json, "http");
    ck_assert_int_eq(json_integer_value(json_object_get(https, "port")), g_srv.https_port);
    ck_assert_int_eq(json_integer_value(json_object_get(http, "port")), g_srv.http_port);
    ck_assert(json_is_true(json_object_get(https, "tls")));
    ck_assert(json_is_false(json_object_get(http, "tls")));
    /* This very request is the newest HTTPS connection, still open. */
    const json_t *me = json_array_get(json_object_get(https, "connections"), 0);
    ck_assert(json_is_true(json_object_get(me, "open")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(me, "client")), "127.0.0.1:"));
    ck_assert_int_gt(json_integer_value(json_object_get(me, "bytes_read")), 0);
    fetched_free(&f);
    /* The same over plain HTTP in demo mode, with the warning header. */
    fetch(&g_srv, 0, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    ck_assert_ptr_nonnull(strstr(f.raw, "X-Portcullis-Warning:"));
    fetched_free(&f);
    fetch(&g_srv, 1, "GET", "/healthz", NULL, &f);
    ck_assert_ptr_null(strstr(f.raw, "X-Portcullis-Warning:"));
    fetched_free(&f);
}
END_TEST

/* What the server writes reaches the wire view, its own answer to cleartext
 * on the HTTPS port too, and a closed connection says so. */
START_TEST(wire_sees_closed_and_cleartext_connections)
{
    static const char req[] = "GET /healthz?cleartext-probe HTTP/1.1\r\nHost: localhost\r\n"
                              "Connection: close\r\n\r\n";
    char buf[2048];
    size_t len = 0;
    ssize_t n;
    int fd = tcp_connect(g_srv.https_port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tcp_write_all(fd, req, strlen(req)), 0);
    while (len < sizeof buf - 1 &&
           (n = fd_read_timeout(&fd, buf + len, sizeof buf - 1 - len, 10000)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    buf[len] = '\0';
    ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "answer: %s", buf);

    struct fetched f;
    fetch(&g_srv, 0, "GET", "/healthz?plain-probe", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    fetched_free(&f);

    fetch(&g_srv, 1, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 200);
    /* The request was only peeked at, never read: the answer shows. */
    const json_t *clear = wire_find(f.json, "https", "this port speaks HTTPS");
    ck_assert_ptr_nonnull(clear);
    ck_assert(json_is_false(json_object_get(clear, "open")));
    const json_t *plain = wire_find(f.json, "http", "plain-probe");
    ck_assert_ptr_nonnull(plain);
    ck_assert(json_is_false(json_object_get(plain, "open")));
    ck_assert_int_gt(json_integer_value(json_object_get(plain, "bytes_written")), 0);
    char *served = conn_hex(plain, "server");
    ck_assert(hex_has(served, "{\"status\":\"ok\"}"));
    free(served);
    fetched_free(&f);
}
END_TEST

static const json_t *side(const json_t *doc, const char *name)
{
    const json_t *s = json_object_get(doc, name);
    ck_assert_msg(s != NULL, "no %s side", name);
    ck_assert_msg(json_is_true(json_object_get(s, "ok")), "%s failed: %s", name,
                  json_string_value(json_object_get(s, "error")));
    return s;
}

START_TEST(demo_run_compares_both_sides)
{
    struct fetched f;
    fetch(&g_srv, 1, "POST", "/demo/run", NULL, &f);
    ck_assert_msg(f.status == 200, "status %d: %s", f.status, f.body);
    const json_t *http = side(f.json, "http"), *https = side(f.json, "https");
    const char *pw = json_string_value(json_object_get(f.json, "password"));
    ck_assert_ptr_nonnull(pw);
    ck_assert_int_eq(json_integer_value(json_object_get(f.json, "runs")), 5);
    ck_assert(json_is_true(json_object_get(http, "password_visible")));
    ck_assert(json_is_false(json_object_get(https, "password_visible")));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(http, "eavesdropper_text")), pw));
    ck_assert_ptr_null(strstr(json_string_value(json_object_get(https, "eavesdropper_text")), pw));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(https, "request_text")), pw));
    ck_assert_int_eq(json_integer_value(json_object_get(http, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(https, "status")), 200);
    ck_assert_uint_gt(json_array_size(json_object_get(https, "records")), 5);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(https, "records"), 0), "handshake")),
                     "client_hello");
    ck_assert(json_is_true(json_object_get(json_object_get(https, "tls"), "verified")));
    /* A ticket resumes the session: fewer round trips, fewer bytes received. */
    long long full_rt = json_integer_value(json_object_get(https, "handshake_round_trips"));
    long long res_rt = json_integer_value(json_object_get(https, "resumed_handshake_round_trips"));
    ck_assert_int_ge(json_integer_value(json_object_get(https, "resumed_runs")), 1);
    ck_assert_int_ge(res_rt, 1);
    ck_assert_int_ge(full_rt, res_rt);
    ck_assert_int_lt(
        json_integer_value(json_object_get(json_object_get(https, "resumed_bytes"), "received")),
        json_integer_value(json_object_get(json_object_get(https, "bytes"), "received")));
    ck_assert_int_eq(json_integer_value(json_object_get(http, "handshake_round_trips")), 0);
    ck_assert(json_number_value(json_object_get(json_object_get(https, "median_ms"), "handshake")) >
              0);
    fetched_free(&f);
}
END_TEST

START_TEST(cli_side_by_side)
{
    static char out[1 << 17];
    char args[256];
    snprintf(args, sizeof args,
             "demo https://127.0.0.1:%d --http http://127.0.0.1:%d "
             "--password %s --width 240 --runs 2",
             g_srv.https_port, g_srv.http_port, PW);
    /* No --cacert: the dev CA named by the config is the default. */
    ck_assert_msg(api_cli(&g_srv, args, NULL, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "HTTP  http://127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(out, "HTTPS  https://127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(out, "median of 2 runs"));
    ck_assert_ptr_nonnull(strstr(out, "client_hello"));
    int left = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *pw = strstr(line, PW), *bar = strstr(line, " | ");
        if (pw == NULL)
            continue;
        ck_assert_msg(bar != NULL && pw < bar, "password outside the HTTP column: %s", line);
        ck_assert_ptr_null(strstr(bar, PW));
        left++;
    }
    ck_assert_int_ge(left, 1);
}
END_TEST

START_TEST(cli_json_and_failures)
{
    static char out[1 << 20];
    char args[600];
    snprintf(args, sizeof args,
             "demo https://127.0.0.1:%d --http http://127.0.0.1:%d "
             "--cacert %s --json --runs 1",
             g_srv.https_port, g_srv.http_port, g_srv.ca_file);
    ck_assert_msg(api_cli(&g_srv, args, NULL, out, sizeof out) == 0, "%s", out);
    json_t *doc = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert(json_is_true(json_object_get(side(doc, "http"), "password_visible")));
    ck_assert(json_is_false(json_object_get(side(doc, "https"), "password_visible")));
    json_decref(doc);
    /* Nobody listening: exit 1 and say why. */
    ck_assert_int_eq(
        api_cli(&g_srv, "demo https://127.0.0.1:1 --no-http --runs 1", NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "FAILED"));
    ck_assert_int_eq(api_cli(&g_srv, "demo ftp://127.0.0.1", NULL, out, sizeof out), 2);
    ck_assert_int_eq(api_cli(&g_srv, "demo --runs 0", NULL, out, sizeof out), 2);
    ck_assert_int_eq(api_cli(&g_srv, "demo --bogus", NULL, out, sizeof out), 2);
    ck_assert_int_eq(api_cli(&g_srv, "demo --cacert /nonexistent/ca.crt", NULL, out, sizeof out),
                     2);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/ca.crt"));
    ck_assert_int_eq(api_cli(&g_srv, "demo --help", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: portcullis"));
}
END_TEST

/* 1 when a side's records show a cleartext Certificate message. */
static int cert_in_clear(const json_t *side)
{
    const json_t *r;
    size_t i;
    int n = 0;
    json_array_foreach(json_object_get(side, "records"), i, r)
    {
        const char *hs = json_string_value(json_object_get(r, "handshake"));
        n += hs != NULL && strcmp(hs, "certificate") == 0;
    }
    return n > 0;
}

/* --tls12: TLS 1.3 by default (one round trip, certificate encrypted), and
 * TLS 1.2 beside it (two round trips, certificate in the clear). */
START_TEST(cli_tls13_beside_tls12)
{
    static char out[1 << 20];
    char args[600];
    snprintf(args, sizeof args, "demo https://127.0.0.1:%d --no-http --tls12 --json --runs 1",
             g_srv.https_port);
    ck_assert_msg(api_cli(&g_srv, args, NULL, out, sizeof out) == 0, "%s", out);
    json_t *doc = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    const json_t *t13 = side(doc, "https"), *t12 = side(doc, "https_tls12");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t13, "tls"), "version")),
                     "TLSv1.3");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t12, "tls"), "version")),
                     "TLSv1.2");
    ck_assert_int_eq(json_integer_value(json_object_get(t13, "handshake_round_trips")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(t12, "handshake_round_trips")), 2);
    ck_assert_int_eq(cert_in_clear(t13), 0);
    ck_assert_int_eq(cert_in_clear(t12), 1);
    ck_assert(json_is_false(json_object_get(t12, "password_visible")));
    ck_assert_int_eq(json_integer_value(json_object_get(t12, "resumed_runs")), 1);
    json_decref(doc);
}
END_TEST

/* ---- without demo mode ---- */

START_TEST(no_demo_routes_and_redirects)
{
    struct srv s;
    struct fetched f;
    static char out[1 << 20];
    char args[256];
    ck_assert_int_eq(api_start(&s, NULL), 0);
    fetch(&s, 1, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 404);
    fetched_free(&f);
    fetch(&s, 1, "POST", "/demo/run", NULL, &f);
    ck_assert_int_eq(f.status, 404);
    fetched_free(&f);
    fetch(&s, 0, "GET", "/demo/wire", NULL, &f);
    ck_assert_int_eq(f.status, 308);
    ck_assert_ptr_nonnull(strstr(f.raw, "Location: https://localhost:"));
    ck_assert_ptr_null(strstr(f.raw, "X-Portcullis-Warning"));
    fetched_free(&f);
    /* The API is refused over plain HTTP, not redirected: a client would
     * follow the redirect and send the password again. */
    fetch(&s, 0, "POST", "/api/login", "{}", &f);
    ck_assert_int_eq(f.status, 403);
    ck_assert_ptr_null(strstr(f.raw, "Location:"));
    ck_assert_ptr_nonnull(strstr(f.raw, "https_required"));
    fetched_free(&f);
    /* The client still shows the point: the refusal came after the
     * password had crossed the network in the clear. */
    snprintf(args, sizeof args,
             "demo https://127.0.0.1:%d --http http://127.0.0.1:%d --json "
             "--runs 1",
             s.https_port, s.http_port);
    /* Outside demo mode the demo's account is refused (its password is
     * published), so the HTTPS side cannot log in: exit status 1. */
    ck_assert_msg(api_cli(&s, args, NULL, out, sizeof out) == 1, "%s", out);
    json_t *doc = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    const json_t *https = json_object_get(doc, "https");
    ck_assert(json_is_false(json_object_get(https, "ok")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(https, "error")), "422"));
    ck_assert_int_eq(json_integer_value(json_object_get(side(doc, "http"), "status")), 403);
    ck_assert(json_is_true(json_object_get(side(doc, "http"), "password_visible")));
    json_decref(doc);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Runs the binary with a config of its own (no port is bound when start-up
 * is refused); returns the exit status, output in out. */
static int run_with_config(const char *json, const char *extra, char *out, size_t outlen)
{
    char dir[] = "/tmp/pc-demo-XXXXXX", cfg[64], cmd[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cfg, sizeof cfg, "%s/c.json", dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s", json);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd %s && timeout 30 '%s' --config c.json %s 2>&1", dir, PC_BINARY,
             extra);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(non_loopback_demo_refused)
{
    char out[4096];
    static const char wild[] =
        "{\"server\": {\"demo\": true, \"https_address\": \"0.0.0.0\", \"https_port\": 0,"
        " \"http_address\": \"::\", \"http_port\": 0}}";
    ck_assert_int_eq(run_with_config(wild, "", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "demo_allow_non_loopback"));
    /* --demo on the command line is checked the same way. */
    ck_assert_int_eq(run_with_config("{\"server\": {\"https_address\": \"0.0.0.0\","
                                     " \"https_port\": 0, \"http_port\": 0}}",
                                     "--demo", out, sizeof out),
                     2);
    ck_assert_ptr_nonnull(strstr(out, "demo_allow_non_loopback"));
    ck_assert_int_eq(
        run_with_config("{\"server\": {\"demo\": true, \"http_port\": -1}}", "", out, sizeof out),
        2);
    /* Forced: the configuration is accepted (checked without binding). */
    ck_assert_int_eq(run_with_config("{\"server\": {\"demo\": true, \"demo_allow_non_loopback\":"
                                     " true, \"https_address\": \"0.0.0.0\"}}",
                                     "--check-config", out, sizeof out),
                     0);
}
END_TEST

/* The demo's account logs in with a published password: it must not
 * outlive the demo (before, it stayed in the real database and worked
 * outside demo mode). */
START_TEST(demo_user_does_not_outlive_the_demo)
{
    char dir[] = "/tmp/pc-demo-user-XXXXXX", plain[700], demo[800], out[4096], unknown[1024];
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session t, boss;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(plain, sizeof plain,
             "{\"db\": {\"path\": \"%s/pc.db\"}, \"auth\": {\"jwt_key_file\": \"%s/jwt.pem\","
             " \"totp_key_file\": \"%s/totp.key\", \"master_key_file\": \"%s/master.key\"}}",
             dir, dir, dir, dir);
    snprintf(demo, sizeof demo,
             "{\"server\": {\"demo\": true}, \"db\": {\"path\": \"%s/pc.db\"}, \"auth\":"
             " {\"jwt_key_file\": \"%s/jwt.pem\", \"totp_key_file\": \"%s/totp.key\","
             " \"master_key_file\": \"%s/master.key\"}}",
             dir, dir, dir, dir);
    ck_assert_int_eq(api_start(&s, demo), 0);
    ck_assert_int_eq(api_new_user(&s, "demo-eavesdrop", PW, &t), 0);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0); /* the demo ends: its user goes */

    ck_assert_int_eq(api_start(&s, plain), 0);
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_json(&s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "nobody-at-all", "password", PW),
                     401);
    snprintf(unknown, sizeof unknown, "%.1000s", r.http.body);
    ck_assert_int_eq(api_login(&s, "demo-eavesdrop", PW, &t), 401);
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/audit", boss.access, &r, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.http.body, "demo_user_removed"));
    /* Outside demo mode the name is reserved... */
    api_expect_error(&r,
                     api_json(&s, "POST", "/api/register", NULL, &r, "{s:s, s:s}", "username",
                              "Demo-Eavesdrop", "password", PW),
                     422, "invalid_username");
    /* ...and even when an operator creates it, it cannot log in. */
    snprintf(out, sizeof out, "%s\n", PW);
    ck_assert_int_eq(api_cli(&s, "user add demo-eavesdrop", out, out, sizeof out), 0);
    ck_assert_int_eq(api_json(&s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "demo-eavesdrop", "password", PW),
                     401);
    ck_assert_str_eq(r.http.body, unknown);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    /* A leftover is removed when a server starts outside demo mode. */
    ck_assert_int_eq(api_start(&s, plain), 0);
    ck_assert_int_eq(api_cli(&s, "user list", NULL, out, sizeof out), 0);
    ck_assert_ptr_null(strstr(out, "demo-eavesdrop"));
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    snprintf(out, sizeof out, "rm -rf %s", dir);
    ck_assert_int_eq(system(out), 0);
}
END_TEST

static Suite *demo_suite(void)
{
    Suite *s = suite_create("e2e_demo");
    TCase *demo = tcase_create("demo");
    tcase_add_unchecked_fixture(demo, demo_setup_srv, demo_teardown_srv);
    tcase_set_timeout(demo, 240);
    tcase_add_test(demo, http_login_capture_shows_password);
    tcase_add_test(demo, https_login_capture_shows_only_records);
    tcase_add_test(demo, wire_document_shape);
    tcase_add_test(demo, wire_sees_closed_and_cleartext_connections);
    tcase_add_test(demo, demo_run_compares_both_sides);
    tcase_add_test(demo, cli_side_by_side);
    tcase_add_test(demo, cli_json_and_failures);
    tcase_add_test(demo, cli_tls13_beside_tls12);
    suite_add_tcase(s, demo);
    TCase *plain = tcase_create("plain");
    tcase_set_timeout(plain, 240);
    tcase_add_test(plain, no_demo_routes_and_redirects);
    tcase_add_test(plain, non_loopback_demo_refused);
    tcase_add_test(plain, demo_user_does_not_outlive_the_demo);
    suite_add_tcase(s, plain);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(demo_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
