/* e2e_http.c: one real portcullis binary on loopback, spoken to by a real
 * mbedTLS client, curl and raw sockets: handshake and TLS policy,
 * keep-alive, pipelining, HEAD/OPTIONS/100-continue, static files, the
 * HTTPS redirect, every rejection status, and what the log must not hold. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/https.h"

static struct srv g_srv; /* shared by every test of this file */

static void shared_setup(void)
{
    if (srv_start(&g_srv,
                  "{\"limits\": {\"max_body_bytes\": 1024, \"max_uri_bytes\": 512,"
                  " \"max_header_bytes\": 4096}}",
                  NULL) != 0) {
        fprintf(stderr, "e2e: server did not start\n");
        exit(1);
    }
}

static void shared_teardown(void) { srv_stop(&g_srv, SIGTERM); }

START_TEST(healthz_over_tls_with_security_headers)
{
    struct http_resp r;
    char v[256];
    https_request(&g_srv, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    ck_assert_int_eq(resp_header(&r, "Strict-Transport-Security", v, sizeof v), 0);
    ck_assert_str_eq(v, "max-age=63072000; includeSubDomains");
    ck_assert_int_eq(resp_header(&r, "X-Content-Type-Options", v, sizeof v), 0);
    ck_assert_str_eq(v, "nosniff");
    ck_assert_int_eq(resp_header(&r, "Cache-Control", v, sizeof v), 0);
    ck_assert_str_eq(v, "no-store");
    ck_assert_int_eq(resp_header(&r, "Content-Type", v, sizeof v), 0);
    ck_assert_str_eq(v, "application/json; charset=utf-8");
    ck_assert_int_eq(resp_header(&r, "Date", v, sizeof v), 0);
    ck_assert_int_ne(resp_header(&r, "Server", v, sizeof v), 0);
}
END_TEST

START_TEST(tls_policy_negotiated)
{
    /* _i == 0: the library's defaults (TLS 1.3 is chosen); 1: TLS 1.2 only. */
    struct tc_conn c;
    const char *alpn[] = { "http/1.1", NULL };
    struct tc_opts o = { .ca_file = g_srv.ca_file,
                         .alpn = alpn,
                         .timeout_ms = 20000,
                         .max_version = _i ? TC_TLS1_2 : TC_VERSION_DEFAULT };
    char err[256];
    ck_assert_msg(tc_connect(&c, "127.0.0.1", g_srv.https_port, &o, err, sizeof err) == 0, "%s",
                  err);
    if (_i) {
        ck_assert_str_eq(tc_version(&c), "TLSv1.2");
        ck_assert_ptr_nonnull(strstr(tc_ciphersuite(&c), "ECDHE"));
    } else {
        ck_assert_str_eq(tc_version(&c), "TLSv1.3");
        ck_assert_ptr_nonnull(strstr(tc_ciphersuite(&c), "TLS1-3-"));
    }
    ck_assert_msg(strstr(tc_ciphersuite(&c), "GCM") ||
                      strstr(tc_ciphersuite(&c), "CHACHA20-POLY1305"),
                  "not an AEAD suite: %s", tc_ciphersuite(&c));
    ck_assert_ptr_nonnull(tc_alpn(&c));
    ck_assert_str_eq(tc_alpn(&c), "http/1.1");
    tc_close(&c);
}
END_TEST

START_TEST(keepalive_several_requests)
{
    struct tc_conn c;
    struct http_resp r;
    tls_open(&c, &g_srv);
    for (int i = 0; i < 5; i++) {
        tls_exchange(&c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_null(strstr(r.head, "Connection: close"));
    }
    tc_close(&c);
}
END_TEST

START_TEST(pipelined_in_order)
{
    struct tc_conn c;
    struct http_resp r;
    char carry[16384];
    size_t cl = 0;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                      "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                      "POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n0\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    tls_open(&c, &g_srv);
    ck_assert_int_eq(tc_write_all(&c, req, strlen(req), 10000), 0);
    int want[] = { 200, 404, 405, 200 };
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
        ck_assert_int_eq(r.status, want[i]);
    }
    ck_assert_ptr_nonnull(strstr(r.head, "Connection: close"));
    tc_close(&c);
}
END_TEST

START_TEST(errors_with_status)
{
    struct http_resp r;
    char big[8192];
    https_request(&g_srv, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"detail\""));
    https_request(&g_srv, "DELETE /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 405);
    char allow[64];
    ck_assert_int_eq(resp_header(&r, "Allow", allow, sizeof allow), 0);
    ck_assert_str_eq(allow, "GET, HEAD");
    https_request(&g_srv, "POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 413);
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    snprintf(big + 1000, sizeof big - 1000, " HTTP/1.1\r\nHost: a\r\n\r\n");
    https_request(&g_srv, big, &r);
    ck_assert_int_eq(r.status, 414);
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\n");
    while (n < 4500)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-%d: 1234567890\r\n", n);
    ck_assert_int_eq(https_raw_status(&g_srv, big, (size_t)n), 431);
    https_request(&g_srv,
                  "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.head, "Connection: close"));
    https_request(&g_srv, "GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 505);
    https_request(&g_srv, "GET /healthz HTTP/1.1\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 400);
}
END_TEST

START_TEST(head_and_options)
{
    struct http_resp r;
    struct tc_conn c;
    char v[64], carry[256];
    size_t cl = 0;
    const char *head = "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    tls_open(&c, &g_srv);
    ck_assert_int_eq(tc_write_all(&c, head, strlen(head), 10000), 0);
    ck_assert_int_eq(resp_read_ex(tls_source, &c, &r, 20000, carry, sizeof carry, &cl, 1), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_int_eq(resp_header(&r, "Content-Length", v, sizeof v), 0);
    ck_assert_str_eq(v, "15");
    /* No body bytes were sent for HEAD: the next response follows at once. */
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    tc_close(&c);
    https_request(&g_srv, "OPTIONS /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_int_eq(resp_header(&r, "Allow", v, sizeof v), 0);
    ck_assert_str_eq(v, "GET, HEAD, OPTIONS");
}
END_TEST

START_TEST(expect_continue)
{
    struct tc_conn c;
    struct http_resp r;
    char carry[4096];
    size_t cl = 0;
    const char *head = "POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                       "Expect: 100-continue\r\n\r\n";
    tls_open(&c, &g_srv);
    ck_assert_int_eq(tc_write_all(&c, head, strlen(head), 10000), 0);
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 100);
    ck_assert_int_eq(tc_write_all(&c, "body", 4, 10000), 0);
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 405);
    tc_close(&c);
}
END_TEST

START_TEST(static_files_etag)
{
    struct http_resp r;
    char etag[128], req[512], v[512];
    https_request(&g_srv, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(resp_header(&r, "Content-Type", v, sizeof v), 0);
    ck_assert_str_eq(v, "text/html; charset=utf-8");
    ck_assert_int_eq(resp_header(&r, "Content-Security-Policy", v, sizeof v), 0);
    ck_assert_int_eq(resp_header(&r, "ETag", etag, sizeof etag), 0);
    snprintf(req, sizeof req, "GET /index.html HTTP/1.1\r\nHost: a\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    https_request(&g_srv, req, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.body_len, 0);
    https_request(&g_srv, "GET /../CMakeLists.txt HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 404);
    https_request(&g_srv, "GET /%2e%2e/CMakeLists.txt HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 404);
}
END_TEST

START_TEST(http_redirects_to_https)
{
    int fd = tcp_connect(g_srv.http_port);
    struct http_resp r;
    char carry[1], loc[256], want[256];
    size_t cl = 0;
    const char *req = "GET /login?x=1 HTTP/1.1\r\nHost: localhost:1234\r\n\r\n";
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tcp_write_all(fd, req, strlen(req)), 0);
    ck_assert_int_eq(resp_read(fd_read_timeout, &fd, &r, 20000, carry, sizeof carry, &cl), 0);
    close(fd);
    ck_assert_int_eq(r.status, 308);
    ck_assert_int_eq(resp_header(&r, "Location", loc, sizeof loc), 0);
    snprintf(want, sizeof want, "https://localhost:%d/login?x=1", g_srv.https_port);
    ck_assert_str_eq(loc, want);
    ck_assert_int_ne(resp_header(&r, "Strict-Transport-Security", loc, sizeof loc), 0);
}
END_TEST

START_TEST(plain_http_on_tls_port)
{
    int fd = tcp_connect(g_srv.https_port);
    struct http_resp r;
    char carry[1];
    size_t cl = 0;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tcp_write_all(fd, req, strlen(req)), 0);
    ck_assert_int_eq(resp_read(fd_read_timeout, &fd, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 400);
    char b;
    ck_assert_int_eq(fd_read_timeout(&fd, &b, 1, 20000), 0); /* then closed */
    close(fd);
}
END_TEST

START_TEST(garbage_on_tls_port_closed)
{
    int fd = tcp_connect(g_srv.https_port);
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    junk[0] = 0x16; /* looks like a handshake record, then nonsense */
    ck_assert_int_eq(tcp_write_all(fd, junk, sizeof junk), 0);
    char b[64];
    ssize_t n;
    while ((n = fd_read_timeout(&fd, b, sizeof b, 20000)) > 0)
        ;                                                   /* an alert may come first */
    ck_assert_msg(n == 0 || n == -1, "not closed: %zd", n); /* FIN or reset, no hang */
    close(fd);
    struct http_resp r;
    https_request(&g_srv, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(curl_with_cacert)
{
    char cmd[1024], out[256] = "";
    snprintf(cmd, sizeof cmd,
             "curl -sS --max-time 20 --cacert %s https://localhost:%d/healthz -w ' %%{http_code}'",
             g_srv.ca_file, g_srv.https_port);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_str_eq(out, "{\"status\":\"ok\"} 200");
}
END_TEST

START_TEST(secrets_never_logged)
{
    static const char pw[] = "Sup3r-Secret-Passw0rd";
    char req[512], body[128];
    struct http_resp r;
    int n = snprintf(body, sizeof body, "{\"username\":\"logcheck\",\"password\":\"%s\"}", pw);
    for (int i = 0; i < 2; i++) {
        snprintf(req, sizeof req,
                 "POST /api/%s?token=QueryS3cret HTTP/1.1\r\nHost: a\r\n"
                 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                 i == 0 ? "register" : "login", n, body);
        https_request(&g_srv, req, &r);
        ck_assert_int_eq(r.status, i == 0 ? 201 : 200);
    }
    char token[1024], sig[32];
    const char *tok = strstr(r.body, "\"access_token\":\"");
    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(sscanf(tok + 16, "%1000[^\"]", token), 1);
    snprintf(sig, sizeof sig, "%.20s", strrchr(token, '.') + 1);
    char me[1200];
    snprintf(me, sizeof me, "GET /api/me HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n\r\n",
             token);
    https_request(&g_srv, me, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(srv_log_contains(&g_srv, "\"POST /api/login\" 200"));
    ck_assert(!srv_log_contains(&g_srv, pw));
    ck_assert(!srv_log_contains(&g_srv, "QueryS3cret"));
    ck_assert(!srv_log_contains(&g_srv, sig));
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("e2e_http");
    TCase *shared = tcase_create("shared");
    tcase_add_unchecked_fixture(shared, shared_setup, shared_teardown);
    tcase_set_timeout(shared, 120);
    tcase_add_test(shared, healthz_over_tls_with_security_headers);
    tcase_add_loop_test(shared, tls_policy_negotiated, 0, 2);
    tcase_add_test(shared, keepalive_several_requests);
    tcase_add_test(shared, pipelined_in_order);
    tcase_add_test(shared, errors_with_status);
    tcase_add_test(shared, head_and_options);
    tcase_add_test(shared, expect_continue);
    tcase_add_test(shared, static_files_etag);
    tcase_add_test(shared, http_redirects_to_https);
    tcase_add_test(shared, plain_http_on_tls_port);
    tcase_add_test(shared, garbage_on_tls_port_closed);
    tcase_add_test(shared, curl_with_cacert);
    tcase_add_test(shared, secrets_never_logged);
    suite_add_tcase(s, shared);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
