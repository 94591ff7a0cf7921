/* e2e_defer.c: handlers that misuse pc_defer (tests/apps/defer_misuse.c),
 * run as their own binary over TLS: PC_LATER without a job is a 500 rather
 * than a client waiting for ever; PC_DONE with a job queued is answered
 * once, by the job; a second pc_defer for one request (from the handler or
 * from the first job's done) is refused and the request answered once with
 * a 500. Each time the server goes on answering, on the same connection. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/support.h"

static struct srv g_srv;

/* GET path, then GET /ok on the same connection: path's status. */
static int status_then_ok(const char *path, const char *want)
{
    struct api_conn c;
    struct api_resp r = { 0 };
    char err[256];
    ck_assert_int_eq(api_open(&c, &g_srv, err, sizeof err), 0);
    struct api_req q = { .method = "GET", .path = path };
    int status = api_send(&c, &q, &r);
    const char *got = api_error(&r)[0] ? api_error(&r) : api_str(&r, "answered_by");
    ck_assert_msg(strcmp(got, want) == 0, "%s: '%s'", path, got);
    api_resp_free(&r);
    q.path = "/ok"; /* the same connection goes on: nothing was answered twice */
    ck_assert_int_eq(api_send(&c, &q, &r), 200);
    ck_assert_str_eq(api_str(&r, "answered_by"), "handler");
    api_resp_free(&r);
    api_close(&c);
    return status;
}

START_TEST(each_misuse_answered_once)
{
    ck_assert_int_eq(api_start_bin(&g_srv, PC_DEFER_MISUSE_BINARY, NULL, NULL), 0);
    ck_assert_int_eq(status_then_ok("/later-no-job", "internal"), 500);
    ck_assert_int_eq(status_then_ok("/done-with-job", "job"), 200);
    ck_assert_int_eq(status_then_ok("/defer-twice", "internal"), 500);
    ck_assert_int_eq(status_then_ok("/defer-in-done", "internal"), 500);
    ck_assert(srv_log_contains(&g_srv, "handler bug"));
    ck_assert(!srv_log_contains(&g_srv, "a second pc_defer was accepted"));
    ck_assert_int_eq(srv_stop(&g_srv, SIGTERM), 0);
}
END_TEST

static Suite *defer_suite(void)
{
    Suite *s = suite_create("e2e_defer");
    TCase *tc = tcase_create("misuse");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, each_misuse_answered_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(defer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
