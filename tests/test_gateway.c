/* test_gateway.c: the gateway's pure parts (server/gateway.c,
 * server/upstream_resp.c): the upstream's answer head, parsed strictly and
 * framed per RFC 9112; the head the client gets (hop-by-hop headers gone,
 * security headers only where the upstream sent none, framing per client
 * version); the request head sent upstream (forged identity and hop-by-hop
 * headers gone, Authorization per route, strip_prefix); route matching. The
 * I/O is covered end to end by tests/script_gateway.sh. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/gateway_int.h"

static struct upstream_head h;
static const char *why;

static long parse(const char *text, bool head_request)
{
    return upstream_parse_head(text, strlen(text), head_request, &h, &why);
}

START_TEST(test_parse_ok)
{
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello";
    ck_assert_int_eq(parse(t, false), (long)(strlen(t) - 5));
    ck_assert_int_eq(h.status, 200);
    ck_assert_int_eq(h.body, UP_BODY_LENGTH);
    ck_assert_uint_eq(h.content_length, 5);
    ck_assert(h.keep_alive);
    ck_assert_uint_eq(h.num_headers, 2);
    ck_assert(str_eq(h.headers[1].value, "b"));
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Len", false), 0); /* more needed */
    ck_assert_int_gt(parse("HTTP/1.1 204\r\n\r\n", false), 0);
    ck_assert_int_eq(h.body, UP_BODY_NONE);
    ck_assert_int_gt(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false), 0);
    ck_assert_int_eq(h.body, UP_BODY_CHUNKED);
    ck_assert_int_gt(parse("HTTP/1.1 200 OK\r\n\r\n", false), 0);
    ck_assert_int_eq(h.body, UP_BODY_CLOSE);
    ck_assert(!h.keep_alive);
    ck_assert_int_gt(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true), 0);
    ck_assert_int_eq(h.body, UP_BODY_NONE); /* HEAD: no body whatever the length */
    ck_assert(h.has_length);
    ck_assert_int_gt(
        parse("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\n", false), 0);
    ck_assert(!h.keep_alive);
    ck_assert_int_gt(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false), 0);
    ck_assert(!h.keep_alive);
    ck_assert_int_gt(parse("HTTP/1.1 100 Continue\r\n\r\n", false), 0);
    ck_assert_int_eq(h.status, 100);
}
END_TEST

START_TEST(test_parse_malformed)
{
    static const char *const bad[] = {
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 2OO Fine\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\nX: y\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i], false) == -1, "accepted: %s", bad[i]);
    ck_assert_int_eq(
        parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false) > 0,
        1); /* repeated but equal: one length */
}
END_TEST

static char text[4096];

static const char *client_head(const char *upstream, int minor, int keep, bool *chunked,
                               bool *close)
{
    struct buf out;
    struct http_stream_info info = { &out, keep, minor, 1, 600 };
    buf_init(&out, 1 << 16);
    ck_assert_int_gt(parse(upstream, false), 0);
    ck_assert_int_eq(upstream_client_head(&h, &info, "rid1", &out, chunked, close), 0);
    ck_assert_uint_lt(out.len, sizeof text);
    memcpy(text, buf_head(&out), out.len);
    text[out.len] = '\0';
    buf_free(&out);
    return text;
}

START_TEST(test_client_head)
{
    bool chunked, close;
    const char *t = client_head("HTTP/1.1 201 Made\r\nX-Frame-Options: SAMEORIGIN\r\n"
                                "Connection: X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
                                "Content-Length: 3\r\nX-Request-Id: up\r\n\r\n",
                                1, 1, &chunked, &close);
    ck_assert_msg(strncmp(t, "HTTP/1.1 201 Made\r\n", 19) == 0, "%s", t);
    ck_assert_ptr_nonnull(strstr(t, "X-Frame-Options: SAMEORIGIN\r\n"));
    ck_assert_ptr_null(strstr(t, "X-Frame-Options: DENY"));
    ck_assert_ptr_null(strstr(t, "X-Secret"));
    ck_assert_ptr_null(strstr(t, "Keep-Alive"));
    ck_assert_ptr_null(strstr(t, "Connection:"));
    ck_assert_ptr_nonnull(strstr(t, "Content-Length: 3\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Request-Id: up\r\n"));
    ck_assert_ptr_null(strstr(t, "rid1"));
    ck_assert_ptr_nonnull(
        strstr(t, "Strict-Transport-Security: max-age=600; includeSubDomains\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Content-Type-Options: nosniff\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "Date: "));
    ck_assert(!chunked && !close);

    t = client_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 1, &chunked,
                    &close);
    ck_assert_ptr_nonnull(strstr(t, "Transfer-Encoding: chunked\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Request-Id: rid1\r\n"));
    ck_assert(chunked && !close);
    t = client_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 1, &chunked,
                    &close);
    ck_assert_ptr_null(strstr(t, "Transfer-Encoding"));
    ck_assert_ptr_nonnull(strstr(t, "Connection: close\r\n"));
    ck_assert(!chunked && close);
    t = client_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", 0, 1, &chunked, &close);
    ck_assert_ptr_nonnull(strstr(t, "Connection: keep-alive\r\n"));
    ck_assert_msg(strncmp(t, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", t);
    t = client_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", 1, 0, &chunked, &close);
    ck_assert_ptr_nonnull(strstr(t, "Connection: close\r\n"));
}
END_TEST

/* ---- the request head sent upstream ---- */

static struct gateway_route route;
static struct gateway g;

static int fake_identity(const struct http_exchange *ex, struct gateway_identity *out, void *arg)
{
    (void)ex;
    (void)arg;
    snprintf(out->user_id, sizeof out->user_id, "7");
    snprintf(out->username, sizeof out->username, "alice");
    snprintf(out->role, sizeof out->role, "user");
    return 0;
}

static const char *request_head(const char *raw, bool strip, bool fwd_auth, int principal)
{
    static struct http_header hdrs[32];
    static char copy[2048];
    struct http_exchange ex;
    struct http_parse_limits lim = { 8192, 2048, 32 };
    struct buf out;
    memset(&ex, 0, sizeof ex);
    snprintf(copy, sizeof copy, "%s", raw);
    ex.req.head.headers = hdrs;
    ex.req.head.num_headers = 32;
    ck_assert_int_gt(http_parse_request(copy, strlen(copy), 0, &ex.req.head, &lim, NULL, NULL), 0);
    ex.req.client_ip = "192.0.2.9";
    ex.req.is_tls = 1;
    ex.req.body_chunked = strstr(raw, "Transfer-Encoding: chunked") != NULL;
    ex.principal = principal ? &ex : NULL;
    snprintf(ex.request_id, sizeof ex.request_id, "abc123");
    memset(&g, 0, sizeof g);
    g.hooks.identity = fake_identity;
    memset(&route, 0, sizeof route);
    snprintf(route.prefix, sizeof route.prefix, "/notes/");
    route.plen = 7;
    route.strip_prefix = strip;
    route.forward_authorization = fwd_auth;
    snprintf(route.authority, sizeof route.authority, "127.0.0.1:3000");
    buf_init(&out, 1 << 16);
    ck_assert_int_eq(gateway_request_head(&g, &route, &ex, &out), 0);
    memcpy(text, buf_head(&out), out.len);
    text[out.len] = '\0';
    buf_free(&out);
    return text;
}

START_TEST(test_request_head)
{
    const char *t = request_head("GET /notes/a/b?c=1 HTTP/1.1\r\nHost: x.example\r\n"
                                 "Authorization: Bearer T\r\nX-Portcullis-User-Id: 1\r\n"
                                 "x-portcullis-role: admin\r\nX-Forwarded-For: 6.6.6.6\r\n"
                                 "X-Request-Id: forged\r\nConnection: keep-alive, X-Hop\r\n"
                                 "X-Hop: 1\r\nTE: trailers\r\nProxy-Authorization: p\r\n"
                                 "Accept: */*\r\n\r\n",
                                 true, false, 1);
    ck_assert_msg(strncmp(t, "GET /a/b?c=1 HTTP/1.1\r\n", 23) == 0, "%s", t);
    ck_assert_ptr_nonnull(strstr(t, "Host: x.example\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "Accept: */*\r\n"));
    ck_assert_ptr_null(strstr(t, "Authorization"));
    ck_assert_ptr_null(strstr(t, "admin"));
    ck_assert_ptr_null(strstr(t, "forged"));
    ck_assert_ptr_null(strstr(t, "6.6.6.6"));
    ck_assert_ptr_null(strstr(t, "X-Hop"));
    ck_assert_ptr_null(strstr(t, "TE:"));
    ck_assert_ptr_null(strstr(t, "Connection"));
    ck_assert_ptr_null(strstr(t, "Content-Length"));
    ck_assert_ptr_nonnull(strstr(t, "X-Portcullis-User-Id: 7\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Portcullis-Username: alice\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Portcullis-Role: user\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Request-Id: abc123\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Forwarded-For: 192.0.2.9\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "X-Forwarded-Proto: https\r\n\r\n"));

    t = request_head(
        "POST /notes/x HTTP/1.0\r\nAuthorization: Bearer T\r\nContent-Length: 0\r\n\r\n", false,
        true, 0);
    ck_assert_msg(strncmp(t, "POST /notes/x HTTP/1.1\r\n", 24) == 0, "%s", t);
    ck_assert_ptr_nonnull(strstr(t, "Authorization: Bearer T\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "Host: 127.0.0.1:3000\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "Content-Length: 0\r\n"));
    ck_assert_ptr_null(strstr(t, "X-Portcullis")); /* public: no identity */

    /* A chunked body goes upstream chunked (re-framed), never with a length;
     * the client's trailers are not forwarded, nor their announcement. */
    t = request_head("POST /notes/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                     "Trailer: X-T\r\n\r\n",
                     false, false, 0);
    const char *te = strstr(t, "Transfer-Encoding: chunked\r\n");
    ck_assert_msg(te != NULL, "%s", t);
    ck_assert_ptr_null(strstr(te + 1, "Transfer-Encoding"));
    ck_assert_ptr_null(strstr(t, "Content-Length"));
    ck_assert_ptr_null(strstr(t, "Trailer"));
}
END_TEST

START_TEST(test_match)
{
    struct gateway_config cfg;
    struct gateway *gw = NULL;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.n = 2;
    snprintf(cfg.routes[0].prefix, sizeof cfg.routes[0].prefix, "/a/");
    snprintf(cfg.routes[1].prefix, sizeof cfg.routes[1].prefix, "/a/b/");
    for (int i = 0; i < 2; i++) {
        snprintf(cfg.routes[i].upstream, sizeof cfg.routes[i].upstream, "http://127.0.0.1:1");
        snprintf(cfg.routes[i].access, sizeof cfg.routes[i].access, "public");
        cfg.routes[i].timeout_ms = 1000;
        cfg.routes[i].max_connections = 1;
    }
    ck_assert_int_eq(gateway_create(&gw, &cfg, NULL, err, sizeof err), 0);
    ck_assert_ptr_nonnull(gw);
    ck_assert_ptr_null(gateway_match(gw, STR_LIT("/a")));
    ck_assert_ptr_null(gateway_match(gw, STR_LIT("/ab/")));
    ck_assert_int_eq(gateway_route_index(gw, gateway_match(gw, STR_LIT("/a/x"))), 0);
    ck_assert_int_eq(gateway_route_index(gw, gateway_match(gw, STR_LIT("/a/b/x"))), 1);
    gateway_free(gw);
    /* A token rule without the composition root's hook cannot be built. */
    snprintf(cfg.routes[0].access, sizeof cfg.routes[0].access, "token");
    ck_assert_int_eq(gateway_create(&gw, &cfg, NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "access"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_ok);
    tcase_add_test(tc, test_parse_malformed);
    tcase_add_test(tc, test_client_head);
    tcase_add_test(tc, test_request_head);
    tcase_add_test(tc, test_match);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
