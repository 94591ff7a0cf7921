/* e2e_pg_instances.c: three portcullis processes (A, B, C) on different
 * ports sharing one PostgreSQL store (a fresh schema of the test cluster,
 * PC_TEST_PG_URL) and one signing key file: what one instance writes, the
 * others see. Registered only with the PostgreSQL fixture.
 *
 * Most cases run with auth.user_cache_ms 0 (each token check reads the
 * store). The revocation case runs with a one-minute cache, warmed on every
 * instance first: what refuses the token there within seconds is the
 * store's announcement (LISTEN/NOTIFY), nothing else. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db_fixture.h"
#include "support/support.h"

#define PW "correct horse battery staple"

static struct srv g[3];

static void start_three_cached(int cache_ms)
{
    char key[400], master[400];
    fx_make_dir();
    for (int i = 0; i < 3; i++) {
        /* A creates the signing key; B and C use the same file. */
        if (i == 0)
            snprintf(key, sizeof key, "%s", "");
        json_t *x = json_pack("{s:{s:s}, s:{s:i}, s:{s:i, s:i, s:i}}", "db", "url", fx_path, "auth",
                              "user_cache_ms", cache_ms, "rate_limits", "lockout_threshold", 3,
                              "lockout_base_s", 30, "lockout_max_s", 60);
        if (i > 0) {
            json_object_set_new(json_object_get(x, "auth"), "jwt_key_file", json_string(key));
            /* The key set in the store is sealed under A's master key. */
            json_object_set_new(json_object_get(x, "auth"), "master_key_file", json_string(master));
        }
        char *xs = json_dumps(x, JSON_COMPACT);
        ck_assert_int_eq(api_start(&g[i], xs), 0);
        free(xs);
        json_decref(x);
        if (i == 0)
            snprintf(key, sizeof key, "%s/data/jwt-es256.pem", g[0].dir);
        if (i == 0)
            snprintf(master, sizeof master, "%s/data/master.key", g[0].dir);
    }
}

static void start_three(void) { start_three_cached(0); }

static void stop_three(void)
{
    for (int i = 2; i >= 0; i--)
        ck_assert_int_eq(srv_stop(&g[i], SIGTERM), 0);
}

static int me(const struct srv *s, const char *access)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "GET", "/api/me", access, &r, NULL);
    api_resp_free(&r);
    return st;
}

static int refresh(const struct srv *s, const char *token, char *next, size_t cap)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", token);
    if (st == 200 && next)
        snprintf(next, cap, "%s", api_str(&r, "refresh_token"));
    api_resp_free(&r);
    return st;
}

START_TEST(register_on_a_login_on_b_token_on_c)
{
    struct api_session b, b2;
    struct api_resp r = { 0 };
    int64_t id = 0;

    start_three();
    ck_assert_int_eq(api_register(&g[0], "erin", PW, &id), 201);
    ck_assert_int_eq(api_register(&g[1], "ERIN", PW, NULL), 409); /* one namespace */
    ck_assert_int_eq(api_login(&g[1], "erin", PW, &b), 200);
    ck_assert_int_eq(me(&g[2], b.access), 200);

    /* Logout-all on A refuses B's token on B and C at once. */
    ck_assert_int_eq(api_login(&g[1], "erin", PW, &b2), 200);
    ck_assert_int_eq(api_json(&g[0], "POST", "/api/logout-all", b2.access, &r, NULL), 204);
    api_resp_free(&r);
    ck_assert_int_eq(me(&g[1], b.access), 401);
    ck_assert_int_eq(me(&g[2], b.access), 401);
    ck_assert_int_eq(refresh(&g[2], b.refresh, NULL, 0), 401);
    stop_three();
}
END_TEST

/* Polls GET /api/me on s until it answers want, for at most 5 s: the
 * announcement travels through PostgreSQL to another process. */
static int me_becomes(const struct srv *s, const char *access, int want)
{
    int st = 0;
    for (int i = 0; i < 50 && (st = me(s, access)) != want; i++)
        usleep(100 * 1000);
    return st;
}

START_TEST(revocations_reach_cached_instances)
{
    struct api_session a, b, c, s1, s2;
    struct api_resp r = { 0 };
    char out[512];

    start_three_cached(60000);
    ck_assert_int_eq(api_new_user(&g[0], "ivan", PW, &a), 0);
    ck_assert_int_eq(api_login(&g[1], "ivan", PW, &b), 200);
    ck_assert_int_eq(api_login(&g[2], "ivan", PW, &c), 200);
    for (int i = 0; i < 3; i++) /* every cache holds ivan now */
        ck_assert_int_eq(me(&g[i], b.access), 200);

    /* Logout-all on A. */
    ck_assert_int_eq(api_json(&g[0], "POST", "/api/logout-all", a.access, &r, NULL), 204);
    api_resp_free(&r);
    ck_assert_int_eq(me_becomes(&g[1], b.access, 401), 401);
    ck_assert_int_eq(me_becomes(&g[2], c.access, 401), 401);

    /* One session ended on B: its token is refused on C, the other
     * session's token still works there. */
    ck_assert_int_eq(api_login(&g[0], "ivan", PW, &s1), 200);
    ck_assert_int_eq(api_login(&g[0], "ivan", PW, &s2), 200);
    ck_assert_int_eq(me(&g[2], s1.access), 200);
    ck_assert_int_eq(
        api_json(&g[1], "POST", "/api/logout", s1.access, &r, "{s:s}", "refresh_token", s1.refresh),
        204);
    api_resp_free(&r);
    ck_assert_int_eq(me_becomes(&g[2], s1.access, 401), 401);
    ck_assert_int_eq(me(&g[2], s2.access), 200);

    /* Disabled by the CLI (another process): refused on every instance. */
    ck_assert_int_eq(me(&g[1], s2.access), 200);
    ck_assert_msg(api_cli(&g[2], "user disable ivan", NULL, out, sizeof out) == 0, "%s", out);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(me_becomes(&g[i], s2.access, 401), 401);
    stop_three();
}
END_TEST

/* A refresh token rotated on A and then reused on B revokes the family:
 * the successor is refused on C. */
START_TEST(refresh_reuse_across_instances)
{
    struct api_session s;
    char next[128];

    start_three();
    ck_assert_int_eq(api_new_user(&g[0], "frank", PW, &s), 0);
    ck_assert_int_eq(refresh(&g[0], s.refresh, next, sizeof next), 200);
    ck_assert_int_eq(refresh(&g[1], s.refresh, NULL, 0), 401);
    ck_assert_int_eq(refresh(&g[2], next, NULL, 0), 401);
    stop_three();
}
END_TEST

/* Failed logins spread over A, B and C count together (threshold 3). */
START_TEST(failures_spread_over_instances_lock)
{
    struct api_session s;
    struct api_resp r = { 0 };

    start_three();
    ck_assert_int_eq(api_register(&g[0], "grace", PW, NULL), 201);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(api_json(&g[i], "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                                  "grace", "password", "wrong password"),
                         401);
        api_resp_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(api_login(&g[i], "grace", PW, &s), 429);
    }
    stop_three();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pg_instances");
    TCase *tc = tcase_create("instances");
    tcase_add_checked_fixture(tc, NULL, fx_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, register_on_a_login_on_b_token_on_c);
    tcase_add_test(tc, refresh_reuse_across_instances);
    tcase_add_test(tc, revocations_reach_cached_instances);
    tcase_add_test(tc, failures_spread_over_instances_lock);
    suite_add_tcase(su, tc);
    return fx_run(su);
}
