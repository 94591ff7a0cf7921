/* test_conn_http.c: the HTTP half of a connection on bare buffers, with no
 * socket: each step says what the connection does next (read more, arm the
 * body timeout, write, wait for a job), and what lands on `out`. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/conn_http.h"
#include "server/log.h"
#include "server/portcullis_int.h"

static struct config cfg;
static struct router router;
static struct dispatch_site site;
static struct dispatch_live live;
static struct conn_http_shared sh;
static struct conn_http h;

/* Answers with the length of the request body. */
static int h_echo_len(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    (void)arg;
    return http_resp_json(&ex->resp, 200, json_pack("{s:i}", "len", (int)ex->req.body.n));
}

static int h_async(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    (void)arg;
    ex->job_pending = true; /* as pc_defer does: the test completes it */
    return PC_LATER;
}

static void setup(void)
{
    char err[128];
    log_set_level(LOG_WARN);
    config_defaults(&cfg);
    router_init(&router);
    ck_assert_int_eq(router_add(&router, "GET", "/len", h_echo_len, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "POST", "/len", h_echo_len, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "GET", "/async", h_async, 0, NULL), 0);
    site = (struct dispatch_site){ .cfg = &cfg, .router = &router, .https_port = 8443 };
    dispatch_live_fill(&live, &cfg);
    atomic_init(&site.live, &live);
    memset(&sh, 0, sizeof sh);
    sh.cfg = &cfg;
    sh.site = &site;
    ck_assert_int_eq(loop_create(&sh.loop, err, sizeof err), 0);
    static_cache_init(&sh.files, 0);
    memset(&h, 0, sizeof h);
    conn_http_init(&h, &sh, true);
    snprintf(h.client_ip, sizeof h.client_ip, "127.0.0.1");
}

static void teardown(void)
{
    conn_http_free(&h);
    static_cache_free(&sh.files);
    loop_free(sh.loop);
    router_free(&router);
}

static void feed(const char *s) { ck_assert_int_eq(buf_append_str(&h.in, s), 0); }

/* What is queued on `out`, as a string; the "socket" then takes it all. */
static char *take_out(void)
{
    static char text[8192];
    ck_assert_uint_lt(h.out.len, sizeof text);
    memcpy(text, buf_head(&h.out), h.out.len);
    text[h.out.len] = '\0';
    buf_consume(&h.out, h.out.len);
    return text;
}

START_TEST(get_answers_at_once)
{
    feed("GET /len HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    char *out = take_out();
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "{\"len\":0}"));
    ck_assert(!h.close_after_write);
    ck_assert_uint_eq(h.in.len, 0);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
}
END_TEST

START_TEST(partial_head_needs_more)
{
    feed("GET /len HTTP/1.1\r\nHo");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    feed("st: a\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "200 OK"));
}
END_TEST

START_TEST(body_arms_its_timeout_first)
{
    feed("POST /len HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_BODY);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    feed("cde");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "{\"len\":5}"));
}
END_TEST

/* A body that moves the input buffer, then times out: the 408 and its
 * access line read the head where it now is (under ASan, a stale slice
 * would be a use after free). */
START_TEST(body_timeout_after_the_buffer_moved)
{
    log_set_level(LOG_INFO); /* the access line reads method and path */
    feed("POST /len HTTP/1.1\r\nHost: a\r\nOrigin: https://x.example\r\n"
         "Content-Length: 30000\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_BODY);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    unsigned moves = h.in.moves;
    static char chunk[20000];
    memset(chunk, 'x', sizeof chunk - 1);
    feed(chunk); /* grows the buffer past its first allocation */
    ck_assert_uint_ne(h.in.moves, moves);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    conn_http_fail(&h, 408, "timeout", "the request did not arrive in time");
    char *out = take_out();
    ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 408 "));
    ck_assert_ptr_nonnull(strstr(out, "X-Request-Id: "));
    log_set_level(LOG_WARN);
}
END_TEST

START_TEST(expect_continue_is_written_first)
{
    feed("POST /len HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_BODY);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_str_eq(take_out(), "HTTP/1.1 100 Continue\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    feed("xyz");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "{\"len\":3}"));
}
END_TEST

START_TEST(pipelined_one_at_a_time)
{
    feed("GET /len HTTP/1.1\r\nHost: a\r\n\r\nPOST /len HTTP/1.1\r\nHost: a\r\n"
         "Content-Length: 2\r\n\r\nhi");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    char *first = take_out();
    ck_assert_ptr_nonnull(strstr(first, "{\"len\":0}"));
    ck_assert_ptr_null(strstr(first, "{\"len\":2}"));
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_BODY);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "{\"len\":2}"));
}
END_TEST

START_TEST(async_handler_finishes_later)
{
    feed("GET /async HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_LATER);
    ck_assert_uint_eq(h.out.len, 0);
    http_resp_json(&h.ex.resp, 202, json_pack("{s:b}", "done", 1));
    conn_http_finish(&h);
    ck_assert_ptr_nonnull(strstr(take_out(), "HTTP/1.1 202 "));
}
END_TEST

START_TEST(malformed_closes)
{
    feed("GET /len HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    char *out = take_out();
    ck_assert_msg(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "Connection: close"));
    ck_assert(h.close_after_write);
    ck_assert_uint_eq(h.in.len, 0);
}
END_TEST

/* A built-in route collects a chunked body whole, decoded, before it
 * runs; the pipelined request after it is read next. */
START_TEST(chunked_body_collected_for_routes)
{
    feed("POST /len HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_BODY);
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_NEED_MORE);
    feed("2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\nGET /len HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "{\"len\":5}"));
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "{\"len\":0}"));
}
END_TEST

/* A chunked request to a gateway route is dispatched at its head, like one
 * by length (here no upstream connections exist on this loop: 503, and the
 * body is never read, so the connection closes). */
START_TEST(chunked_gateway_request_dispatched_at_its_head)
{
    struct gateway_config gc;
    struct gateway *gw = NULL;
    char err[256];
    memset(&gc, 0, sizeof gc);
    gc.n = 1;
    snprintf(gc.routes[0].prefix, sizeof gc.routes[0].prefix, "/gw/");
    snprintf(gc.routes[0].upstream, sizeof gc.routes[0].upstream, "http://127.0.0.1:1");
    snprintf(gc.routes[0].access, sizeof gc.routes[0].access, "public");
    gc.routes[0].timeout_ms = 1000;
    gc.routes[0].max_connections = 1;
    ck_assert_int_eq(gateway_create(&gw, &gc, NULL, err, sizeof err), 0);
    site.gateway = gw;
    feed("POST /gw/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    char *out = take_out();
    ck_assert_msg(strncmp(out, "HTTP/1.1 503 ", 13) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "Connection: close"));
    ck_assert(h.close_after_write);
    site.gateway = NULL;
    gateway_free(gw);
}
END_TEST

START_TEST(draining_answers_close)
{
    sh.draining = true;
    feed("GET /len HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_int_eq(conn_http_advance(&h), CONN_HTTP_WRITE);
    ck_assert_ptr_nonnull(strstr(take_out(), "Connection: close"));
    ck_assert(h.close_after_write);
}
END_TEST

static Suite *conn_http_suite(void)
{
    Suite *s = suite_create("conn_http");
    TCase *tc = tcase_create("steps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, get_answers_at_once);
    tcase_add_test(tc, partial_head_needs_more);
    tcase_add_test(tc, body_arms_its_timeout_first);
    tcase_add_test(tc, expect_continue_is_written_first);
    tcase_add_test(tc, body_timeout_after_the_buffer_moved);
    tcase_add_test(tc, pipelined_one_at_a_time);
    tcase_add_test(tc, async_handler_finishes_later);
    tcase_add_test(tc, malformed_closes);
    tcase_add_test(tc, draining_answers_close);
    tcase_add_test(tc, chunked_body_collected_for_routes);
    tcase_add_test(tc, chunked_gateway_request_dispatched_at_its_head);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conn_http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
