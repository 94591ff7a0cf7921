/* e2e_metrics.c: GET /metrics on its own listener, checked with Prometheus's
 * own promtool, and numbers that must move when requests are made. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/https.h"

/* The metrics port from the server's log. */
static int metrics_port(const struct srv *s)
{
    int port = srv_metrics_port(s);
    ck_assert_int_gt(port, 0);
    return port;
}

/* GET path over plain HTTP; the whole answer into r. */
static void scrape(int port, const char *path, struct http_resp *r)
{
    char req[256], carry[1];
    size_t cl = 0;
    int fd = tcp_connect(port);
    ck_assert_int_ge(fd, 0);
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path);
    ck_assert_int_eq(tcp_write_all(fd, req, (size_t)n), 0);
    ck_assert_int_eq(resp_read(fd_read_timeout, &fd, r, 10000, carry, sizeof carry, &cl), 0);
    close(fd);
}

/* The value of one sample line ("name{labels} value"), or -1 if absent. */
static double sample(const char *body, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = body; (p = strstr(p, series)) != NULL; p += n)
        if ((p == body || p[-1] == '\n') && p[n] == ' ')
            return atof(p + n + 1);
    return -1;
}

/* promtool check metrics reads the exposition on stdin; exit 0 = clean. */
static void promtool_ok(const char *body, size_t len)
{
    char path[] = "/tmp/pc-metrics-XXXXXX", cmd[256], out[4096];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, len), (ssize_t)len);
    close(fd);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    unlink(path);
    ck_assert_msg(st == 0, "promtool check metrics failed:\n%s", out);
}

START_TEST(metrics_listener_and_format)
{
    struct srv s;
    struct http_resp r;
    ck_assert_int_eq(srv_start(&s, "{\"metrics\": {\"port\": 0}}", NULL), 0);
    int port = metrics_port(&s);
    scrape(port, "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    char v[128];
    ck_assert_int_eq(resp_header(&r, "Content-Type", v, sizeof v), 0);
    ck_assert_ptr_nonnull(strstr(v, "text/plain; version=0.0.4"));
    promtool_ok(r.body, r.body_len);
    ck_assert_ptr_nonnull(strstr(r.body, "portcullis_build_info{version=\"" PC_VERSION "\"} 1"));
    ck_assert(sample(r.body, "portcullis_pool_rejected_total") == 0);
    ck_assert(sample(r.body, "portcullis_connections{state=\"idle\"}") >= 0);
    scrape(port, "/other", &r);
    ck_assert_int_eq(r.status, 404);
    /* Never served with the API. */
    https_request(&s, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Numbers that must move: requests per route and class, handshakes, token
 * refusals by reason, static files, open connections. */
START_TEST(metrics_move_with_traffic)
{
    struct srv s;
    struct http_resp r;
    ck_assert_int_eq(srv_start(&s, "{\"metrics\": {\"port\": 0}}", NULL), 0);
    int port = metrics_port(&s);
    for (int i = 0; i < 5; i++) {
        https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
        ck_assert_int_eq(r.status, 200);
    }
    https_request(&s, "GET /api/me HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 401);
    https_request(&s,
                  "GET /api/me HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x.y.z\r\n"
                  "Connection: close\r\n\r\n",
                  &r);
    ck_assert_int_eq(r.status, 401);
    https_request(&s, "GET /nothing-here HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 404);
    https_request(&s, "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    /* A registration: store statements (timed), none failing. */
    static const char reg[] = "{\"username\":\"metrics.user\",\"password\":\"correct horse "
                              "battery staple\"}";
    char req[512];
    snprintf(req, sizeof req,
             "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(reg), reg);
    https_request(&s, req, &r);
    ck_assert_int_eq(r.status, 201);
    /* One connection left open and idle while the scrape runs. */
    struct tc_conn idle;
    tls_open(&idle, &s);
    tls_exchange(&idle, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    /* The server counts the connection idle just after its answer left, so
     * a scrape may come a moment too early: wait for it (at most 5 s). */
    for (int i = 0; i < 50; i++) {
        scrape(port, "/metrics", &r);
        if (sample(r.body, "portcullis_connections{state=\"idle\"}") >= 1)
            break;
        usleep(100 * 1000);
    }

    scrape(port, "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    promtool_ok(r.body, r.body_len);
    const char *b = r.body;
    ck_assert(sample(b, "portcullis_http_requests_total{method=\"GET\",route=\"/healthz\","
                        "code=\"2xx\"}") == 6);
    ck_assert(sample(b, "portcullis_http_requests_total{method=\"GET\",route=\"/api/me\","
                        "code=\"4xx\"}") == 2);
    ck_assert(sample(b, "portcullis_http_requests_total{method=\"\",route=\"unmatched\","
                        "code=\"4xx\"}") == 1);
    ck_assert(sample(b, "portcullis_http_requests_total{method=\"\",route=\"static\","
                        "code=\"2xx\"}") == 1);
    ck_assert(sample(b, "portcullis_http_request_duration_seconds_count{method=\"GET\","
                        "route=\"/healthz\"}") == 6);
    ck_assert(sample(b, "portcullis_tls_handshakes_total{kind=\"full\",version=\"TLSv1.3\"}") +
                  sample(b, "portcullis_tls_handshakes_total{kind=\"full\",version=\"TLSv1.2\"}") >=
              10);
    ck_assert(sample(b, "portcullis_token_refusals_total{reason=\"missing\"}") == 1);
    ck_assert(sample(b, "portcullis_db_statement_seconds_count") >= 2);
    ck_assert(sample(b, "portcullis_db_statement_errors_total{kind=\"error\"}") == 0);
    ck_assert(sample(b, "portcullis_token_refusals_total{reason=\"invalid\"}") == 1);
    ck_assert(sample(b, "portcullis_connections{state=\"idle\"}") >= 1);
    tc_close(&idle);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(metrics_off_by_default)
{
    struct srv s;
    ck_assert_int_eq(srv_start(&s, NULL, NULL), 0);
    ck_assert(!srv_log_contains(&s, "metrics on http://"));
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("e2e_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, metrics_listener_and_format);
    tcase_add_test(tc, metrics_move_with_traffic);
    tcase_add_test(tc, metrics_off_by_default);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
