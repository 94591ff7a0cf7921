/* e2e_reset.c: password reset without email on the real binary: an admin
 * (or the CLI) issues a one-time token; spending it sets the password and
 * ends every session and access token of the user; wrong, spent and
 * replaced tokens are refused (401) and every attempt takes from the
 * client's login bucket; a reset also lifts a lockout. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/support.h"

#define PW  "reset test password"
#define PW2 "the new password 2"

static struct srv g_srv;
static struct api_session g_admin;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0 ||
        api_make_admin(&g_srv, "boss", "boss password 1", &g_admin) != 0) {
        fprintf(stderr, "e2e_reset: server or admin did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

/* POST /api/admin/users/:id/password-reset as admin: the token into tok. */
static int issue(const struct srv *s, const char *admin, int64_t id, char tok[128])
{
    struct api_resp r = { 0 };
    char path[96];
    snprintf(path, sizeof path, "/api/admin/users/%lld/password-reset", (long long)id);
    int st = api_json(s, "POST", path, admin, &r, NULL);
    if (st == 200) {
        ck_assert_int_eq(api_int(&r, "expires_in"), 1800);
        snprintf(tok, 128, "%s", api_str(&r, "reset_token"));
        ck_assert_uint_eq(strlen(tok), 43);
    }
    api_resp_free(&r);
    return st;
}

static int reset(const struct srv *s, const char *tok, const char *pw, struct api_resp *r)
{
    return api_json(s, "POST", "/api/password/reset", NULL, r, "{s:s, s:s}", "reset_token", tok,
                    "new_password", pw);
}

START_TEST(reset_ends_every_session)
{
    struct api_resp r = { 0 };
    struct api_session a, b;
    char tok[128], path[96];
    ck_assert_int_eq(api_new_user(&g_srv, "reset.alice", PW, &a), 0);
    ck_assert_int_eq(api_login(&g_srv, "reset.alice", PW, &b), 200);
    ck_assert_int_eq(issue(&g_srv, a.access, a.id, tok), 403); /* admins only */
    ck_assert_int_eq(issue(&g_srv, g_admin.access, 999999, tok), 404);
    ck_assert_int_eq(issue(&g_srv, g_admin.access, a.id, tok), 200);
    api_expect_error(&r, reset(&g_srv, "x", PW2, &r), 401, "invalid_reset_token");
    api_expect_error(&r, reset(&g_srv, tok, "short", &r), 422, "invalid_password");
    ck_assert_int_eq(reset(&g_srv, tok, PW2, &r), 204);
    /* Every access token and refresh token of the user is dead. */
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", a.access, &r, NULL), 401);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", b.access, &r, NULL), 401);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", b.refresh),
                     401);
    ck_assert_int_eq(api_login(&g_srv, "reset.alice", PW, &a), 401);
    ck_assert_int_eq(api_login(&g_srv, "reset.alice", PW2, &a), 200);
    /* Spent: once only. */
    api_expect_error(&r, reset(&g_srv, tok, "yet another one", &r), 401, "invalid_reset_token");
    ck_assert_int_eq(api_login(&g_srv, "reset.alice", PW2, &a), 200);
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld", (long long)a.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.http.body, "\"password_reset\""));
    ck_assert_ptr_nonnull(strstr(r.http.body, "password_reset_issued"));
    ck_assert_ptr_null(strstr(r.http.body, tok));
    api_resp_free(&r);
}
END_TEST

START_TEST(new_token_replaces_the_old)
{
    struct api_resp r = { 0 };
    struct api_session a;
    char t1[128], t2[128];
    ck_assert_int_eq(api_new_user(&g_srv, "reset.bob", PW, &a), 0);
    ck_assert_int_eq(issue(&g_srv, g_admin.access, a.id, t1), 200);
    ck_assert_int_eq(issue(&g_srv, g_admin.access, a.id, t2), 200);
    ck_assert_str_ne(t1, t2);
    api_expect_error(&r, reset(&g_srv, t1, PW2, &r), 401, "invalid_reset_token");
    ck_assert_int_eq(reset(&g_srv, t2, PW2, &r), 204);
    api_resp_free(&r);
}
END_TEST

START_TEST(cli_prints_a_token)
{
    struct api_resp r = { 0 };
    struct api_session a;
    char out[2048], tok[128];
    ck_assert_int_eq(api_new_user(&g_srv, "reset.carol", PW, &a), 0);
    ck_assert_int_eq(api_cli(&g_srv, "user reset-password RESET.carol", NULL, out, sizeof out), 0);
    const char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    snprintf(tok, sizeof tok, "%.43s", nl + 1);
    ck_assert_int_eq(reset(&g_srv, tok, PW2, &r), 204);
    ck_assert_int_eq(api_login(&g_srv, "reset.carol", PW2, &a), 200);
    ck_assert_int_eq(api_cli(&g_srv, "user reset-password no.such", NULL, out, sizeof out), 1);
    api_resp_free(&r);
}
END_TEST

/* Wrong tokens take from the client's login bucket: then 429. */
START_TEST(wrong_tokens_are_rate_limited)
{
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"login_ip_per_minute\": 3}}"), 0);
    for (int i = 0; i < 3; i++)
        api_expect_error(&r, reset(&s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PW2, &r), 401,
                         "invalid_reset_token");
    api_expect_error(&r, reset(&s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PW2, &r), 429,
                     "rate_limited");
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* A reset is how a locked-out user gets back in at once. */
START_TEST(reset_lifts_the_lockout)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session boss, u;
    char tok[128];
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 2,"
                                   " \"lockout_base_s\": 600, \"lockout_max_s\": 600}}"),
                     0);
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_new_user(&s, "reset.locked", PW, &u), 0);
    int64_t id = u.id;
    ck_assert_int_eq(api_login(&s, "reset.locked", "wrong password", &u), 401);
    ck_assert_int_eq(api_login(&s, "reset.locked", "wrong password", &u), 401);
    ck_assert_int_eq(api_login(&s, "reset.locked", PW, &u), 429);
    ck_assert_int_eq(issue(&s, boss.access, id, tok), 200);
    ck_assert_int_eq(reset(&s, tok, PW2, &r), 204);
    ck_assert_int_eq(api_login(&s, "reset.locked", PW2, &u), 200);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *reset_suite(void)
{
    Suite *s = suite_create("e2e_reset");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reset_ends_every_session);
    tcase_add_test(tc, new_token_replaces_the_old);
    tcase_add_test(tc, cli_prints_a_token);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, wrong_tokens_are_rate_limited);
    tcase_add_test(own, reset_lifts_the_lockout);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reset_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 && !g_teardown_failed ? EXIT_SUCCESS : EXIT_FAILURE;
}
