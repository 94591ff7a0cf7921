/* test_dispatch.c: the dispatcher answers an exchange or says it continues
 * later, without a connection: the plain listener's redirect (and its
 * serving mode), handlers synchronous and asynchronous, the access check,
 * 404/405, OPTIONS. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/dispatch.h"
#include "server/loop.h"

static struct config cfg;
static struct router router;
static struct dispatch_site site;
static struct dispatch_live live;
static struct static_cache files;
static struct loop *lp;
static int denied_access; /* the access value the check refuses */

static int h_sync(struct pc_req *req, void *arg)
{
    (void)arg;
    pc_json(req, 200, json_pack("{s:s}", "handler", "sync"));
    return PC_DONE;
}

static struct http_exchange ex;

static int h_async(struct pc_req *req, void *arg)
{
    (void)req;
    (void)arg;
    ex.job_pending = true; /* as pc_defer does: its job completes the exchange later */
    return PC_LATER;
}

/* Handler bugs: PC_LATER with no job; PC_DONE with a job queued. */
static int h_later_no_job(struct pc_req *req, void *arg)
{
    (void)req;
    (void)arg;
    return PC_LATER;
}

static int h_done_with_job(struct pc_req *req, void *arg)
{
    (void)arg;
    ex.job_pending = true;
    pc_json(req, 200, json_pack("{s:s}", "handler", "too early"));
    return PC_DONE;
}

static int check_access(struct http_exchange *e, int access, void *arg)
{
    (void)arg;
    if (access != denied_access)
        return 0;
    http_resp_error(&e->resp, 401, "unauthorized", "no token");
    return -1;
}

static void setup(void)
{
    char err[128];
    config_defaults(&cfg);
    router_init(&router);
    ck_assert_int_eq(router_add(&router, "GET", "/sync", h_sync, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "POST", "/async", h_async, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "GET", "/later-no-job", h_later_no_job, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "GET", "/done-with-job", h_done_with_job, 0, NULL), 0);
    ck_assert_int_eq(router_add(&router, "GET", "/private", h_sync, 7, NULL), 0);
    denied_access = 7;
    site = (struct dispatch_site){
        .cfg = &cfg, .router = &router, .access_check = check_access, .https_port = 8443
    };
    dispatch_live_fill(&live, &cfg);
    atomic_init(&site.live, &live);
    static_cache_init(&files, 0);
    ck_assert_int_eq(loop_create(&lp, err, sizeof err), 0);
    memset(&ex, 0, sizeof ex);
    buf_init(&ex.resp.headers, 4096);
    buf_init(&ex.resp.body, 4096);
    ex.loop = lp;
}

static void teardown(void)
{
    buf_free(&ex.resp.headers);
    buf_free(&ex.resp.body);
    loop_free(lp);
    static_cache_free(&files);
    router_free(&router);
}

static struct str s_(const char *p) { return str_make(p, strlen(p)); }

static const char *req_host = "example.test:8080"; /* "" = no Host header */

static enum dispatch_result run(int tls, const char *method, const char *target)
{
    const char *q = strchr(target, '?');
    ex.resp.status = 0;
    ex.resp.close = 0;
    buf_reset(&ex.resp.headers, 4096);
    buf_reset(&ex.resp.body, 4096);
    ex.req.head.method = s_(method);
    ex.req.head.target = s_(target);
    ex.req.head.path = str_make(target, q ? (size_t)(q - target) : strlen(target));
    ex.req.head.query = q ? s_(q + 1) : str_make(NULL, 0);
    ex.req.head.minor_version = 1;
    ex.req.is_tls = tls;
    ex.req.is_head = strcmp(method, "HEAD") == 0;
    ex.req.client_ip = "127.0.0.1";
    return dispatch_request(&site, &files, &ex, s_(req_host));
}

static const char *resp_headers(void)
{
    buf_append(&ex.resp.headers, "", 1);
    return buf_head(&ex.resp.headers);
}

START_TEST(plain_listener_redirects)
{
    ck_assert_int_eq(run(0, "GET", "/sync?a=1"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 308);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Location: https://example.test:8443/sync?a=1"));
    ck_assert_int_eq(ex.resp.close, 0);
}
END_TEST

/* The JSON API is refused, not redirected: a client would follow the 308
 * and send the password a second time. */
START_TEST(plain_listener_refuses_api)
{
    static const char *api[] = { "/api/login", "/api", "/api/me?x=1", "/api/" };
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
        ck_assert_int_eq(run(0, "POST", api[i]), DISPATCH_ANSWERED);
        ck_assert_int_eq(ex.resp.status, 403);
        ck_assert_ptr_null(strstr(resp_headers(), "Location:"));
        buf_append(&ex.resp.body, "", 1);
        ck_assert_ptr_nonnull(strstr(buf_head(&ex.resp.body), "\"https_required\""));
    }
    ck_assert_int_eq(run(0, "GET", "/apiary"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 308);
}
END_TEST

/* Never a broken Location: no path, no Host with a wildcard listen address,
 * and IPv6 listen addresses in brackets. */
START_TEST(redirect_location_always_valid)
{
    ck_assert_int_eq(run(0, "OPTIONS", "*"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 403);
    ck_assert_ptr_null(strstr(resp_headers(), "Location:"));

    req_host = "";
    snprintf(cfg.server.https_address, sizeof cfg.server.https_address, "0.0.0.0");
    ck_assert_int_eq(run(0, "GET", "/x"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 403);
    ck_assert_ptr_null(strstr(resp_headers(), "Location:"));
    snprintf(cfg.server.https_address, sizeof cfg.server.https_address, "::");
    ck_assert_int_eq(run(0, "GET", "/x"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 403);
    snprintf(cfg.server.https_address, sizeof cfg.server.https_address, "::1");
    ck_assert_int_eq(run(0, "GET", "/x"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 308);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Location: https://[::1]:8443/x\r\n"));
    snprintf(cfg.server.https_address, sizeof cfg.server.https_address, "127.0.0.1");
    ck_assert_int_eq(run(0, "GET", "/x"), DISPATCH_ANSWERED);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Location: https://127.0.0.1:8443/x\r\n"));

    req_host = "[fe80::1]:8080";
    ck_assert_int_eq(run(0, "GET", "/y"), DISPATCH_ANSWERED);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Location: https://[fe80::1]:8443/y\r\n"));
    req_host = "example.test:8080";
}
END_TEST

START_TEST(redirect_too_long_closes)
{
    static char target[5000];
    memset(target, 'a', sizeof target - 1);
    target[0] = '/';
    ck_assert_int_eq(run(0, "GET", target), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 414);
    ck_assert_int_eq(ex.resp.close, 1);
}
END_TEST

START_TEST(plain_listener_serves_when_asked)
{
    site.plain_warning = "cleartext";
    ck_assert_int_eq(run(0, "GET", "/sync"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 200);
}
END_TEST

START_TEST(sync_and_async_handlers)
{
    ck_assert_int_eq(run(1, "GET", "/sync"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 200);
    ck_assert_int_eq(run(1, "POST", "/async"), DISPATCH_LATER);
}
END_TEST

/* A handler that says "later" with no job would leave the client waiting
 * for ever: 500 now. One that says "done" with a job queued must not be
 * answered now too (the job's completion answers): later. */
START_TEST(handler_result_follows_the_job)
{
    ck_assert_int_eq(run(1, "GET", "/later-no-job"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 500);
    ex.job_pending = false;
    ck_assert_int_eq(run(1, "GET", "/done-with-job"), DISPATCH_LATER);
}
END_TEST

START_TEST(access_check_refuses)
{
    ck_assert_int_eq(run(1, "GET", "/private"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 401);
    denied_access = 0;
    ck_assert_int_eq(run(1, "GET", "/private"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 200);
}
END_TEST

START_TEST(not_found_not_allowed_options)
{
    ck_assert_int_eq(run(1, "GET", "/nothing"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 404);
    ck_assert_int_eq(run(1, "DELETE", "/sync"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 405);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Allow: GET"));
    ck_assert_int_eq(run(1, "OPTIONS", "/async"), DISPATCH_ANSWERED);
    ck_assert_int_eq(ex.resp.status, 204);
    ck_assert_ptr_nonnull(strstr(resp_headers(), "Allow: POST, OPTIONS"));
}
END_TEST

static Suite *dispatch_suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_listener_redirects);
    tcase_add_test(tc, redirect_too_long_closes);
    tcase_add_test(tc, plain_listener_refuses_api);
    tcase_add_test(tc, redirect_location_always_valid);
    tcase_add_test(tc, plain_listener_serves_when_asked);
    tcase_add_test(tc, sync_and_async_handlers);
    tcase_add_test(tc, handler_result_follows_the_job);
    tcase_add_test(tc, access_check_refuses);
    tcase_add_test(tc, not_found_not_allowed_options);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dispatch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
