/* e2e_limits.c: abuse limits of the real binary, each on a server of its
 * own with small limits: lockout after repeated failures (the same for
 * unknown names: a 429 reveals no account), per-IP and per-username login
 * buckets, per-IP registration bucket; and login timing, which must not
 * tell unknown users from wrong passwords. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/clock.h"
#include "support/api.h"
#include "support/support.h"

#define PW "limits test password"

static int login(const struct srv *s, const char *user, const char *pw, struct api_resp *r)
{
    return api_json(s, "POST", "/api/login", NULL, r, "{s:s, s:s}", "username", user, "password",
                    pw);
}

/* A 429 with error `code` and 1 <= Retry-After <= max_s; returns it. */
static int expect_429(const struct api_resp *r, int st, const char *code, int max_s)
{
    char v[32];
    ck_assert_msg(st == 429, "status %d, want 429: %s", st, r->http.body);
    ck_assert_str_eq(api_error(r), code);
    ck_assert_int_eq(api_header(r, "Retry-After", v, sizeof v), 0);
    int secs = atoi(v);
    ck_assert_msg(secs >= 1 && secs <= max_s, "Retry-After %s", v);
    return secs;
}

START_TEST(lockout_same_for_known_and_unknown_names)
{
    struct srv s;
    struct api_resp r = { 0 };
    char body[1024], names[1024], names2[1024];
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 3,"
                                   " \"lockout_base_s\": 2, \"lockout_max_s\": 8}}"),
                     0);
    ck_assert_int_eq(api_register(&s, "victim", PW, NULL), 201);
    ck_assert_int_eq(api_register(&s, "bystander", PW, NULL), 201);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(login(&s, "victim", "wrong password", &r), 401);
        ck_assert_int_eq(login(&s, "ghost", "wrong password", &r), 401);
    }
    int wait = expect_429(&r, login(&s, "victim", "wrong password", &r), "locked", 2);
    snprintf(body, sizeof body, "%.1000s", r.http.body);
    api_header_names(&r, names, sizeof names);
    /* Locked means not even the right password is tried. */
    expect_429(&r, login(&s, "VICTIM", PW, &r), "locked", 2);
    /* An unknown name locks the same way, with the same answer. */
    expect_429(&r, login(&s, "ghost", "wrong password", &r), "locked", 2);
    ck_assert_str_eq(r.http.body, body);
    api_header_names(&r, names2, sizeof names2);
    ck_assert_str_eq(names2, names);
    /* Per name: others are not affected. */
    ck_assert_int_eq(login(&s, "bystander", PW, &r), 200);
    /* The account's lock is also in the database, visible to admins. */
    struct api_session boss;
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/users", boss.access, &r, NULL), 200);
    json_t *v = json_array_get(json_object_get(r.json, "users"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "username")), "victim");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "failed_logins")), 3);
    ck_assert(json_is_string(json_object_get(v, "locked_until")));
    /* After Retry-After, the right password works and clears the count. */
    sleep((unsigned)wait + 1);
    ck_assert_int_eq(login(&s, "victim", PW, &r), 200);
    ck_assert_int_eq(login(&s, "victim", "wrong password", &r), 401);
    ck_assert_int_eq(login(&s, "victim", PW, &r), 200);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* After a restart only the database remembers a lock, and only for real
 * accounts: it must refuse (even the right password) without a 429, so a
 * locked account still looks exactly like an unknown name. */
START_TEST(database_lock_after_restart_reveals_nothing)
{
    char dir[] = "/tmp/pc-lock-XXXXXX", cfg[512], body[1024];
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cfg, sizeof cfg,
             "{\"db\": {\"path\": \"%s/pc.db\"}, \"auth\": {\"jwt_key_file\":"
             " \"%s/jwt.pem\"}, \"rate_limits\": {\"lockout_threshold\": 3,"
             " \"lockout_base_s\": 60, \"lockout_max_s\": 120}}",
             dir, dir);
    ck_assert_int_eq(api_start(&s, cfg), 0);
    ck_assert_int_eq(api_register(&s, "victim", PW, NULL), 201);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(login(&s, "victim", "wrong password", &r), 401);
    expect_429(&r, login(&s, "victim", PW, &r), "locked", 60);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);

    ck_assert_int_eq(api_start(&s, cfg), 0);
    ck_assert_int_eq(login(&s, "ghost", "wrong password", &r), 401);
    snprintf(body, sizeof body, "%.1000s", r.http.body);
    ck_assert_int_eq(login(&s, "victim", PW, &r), 401);
    ck_assert_str_eq(r.http.body, body);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    snprintf(cfg, sizeof cfg, "rm -rf %s", dir);
    ck_assert_int_eq(system(cfg), 0);
}
END_TEST

START_TEST(login_ip_bucket)
{
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"login_ip_per_minute\": 3}}"), 0);
    ck_assert_int_eq(api_register(&s, "ip.user", PW, NULL), 201);
    ck_assert_int_eq(login(&s, "ip.user", PW, &r), 200);
    ck_assert_int_eq(login(&s, "ip.user", "wrong password", &r), 401);
    ck_assert_int_eq(login(&s, "somebody", PW, &r), 401);
    /* The bucket is per address: any name, right or wrong, is refused. */
    expect_429(&r, login(&s, "ip.user", PW, &r), "rate_limited", 20);
    expect_429(&r, login(&s, "other.name", PW, &r), "rate_limited", 20);
    /* Registration has its own bucket. */
    ck_assert_int_eq(api_register(&s, "ip.user2", PW, NULL), 201);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(login_user_bucket)
{
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"login_user_per_minute\": 2}}"), 0);
    ck_assert_int_eq(api_register(&s, "user.a", PW, NULL), 201);
    ck_assert_int_eq(login(&s, "user.a", "wrong password", &r), 401);
    ck_assert_int_eq(login(&s, "user.a", PW, &r), 200);
    expect_429(&r, login(&s, "USER.A", PW, &r), "rate_limited", 30);
    ck_assert_int_eq(login(&s, "nobody.b", PW, &r), 401);
    ck_assert_int_eq(login(&s, "nobody.b", PW, &r), 401);
    expect_429(&r, login(&s, "nobody.b", PW, &r), "rate_limited", 30);
    ck_assert_int_eq(login(&s, "nobody.c", PW, &r), 401); /* another name: its own bucket */
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(register_ip_bucket)
{
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"register_ip_per_minute\": 2}}"), 0);
    ck_assert_int_eq(api_register(&s, "reg.one", PW, NULL), 201);
    ck_assert_int_eq(api_register(&s, "reg.two", PW, NULL), 201);
    expect_429(&r,
               api_json(&s, "POST", "/api/register", NULL, &r, "{s:s, s:s}", "username",
                        "reg.three", "password", PW),
               "rate_limited", 30);
    /* Refused before anything was created. */
    ck_assert_int_eq(login(&s, "reg.three", PW, &r), 401);
    ck_assert_int_eq(login(&s, "reg.two", PW, &r), 200);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static double now_s(void) { return (double)clock_mono_us() / 1e6; }

/* Seconds one login takes on a kept-alive connection. */
static double timed_login(struct api_conn *c, const char *body, struct api_resp *r)
{
    struct api_req q = { .method = "POST", .path = "/api/login", .body = body };
    double t0 = now_s();
    int st = api_send(c, &q, r);
    double t = now_s() - t0;
    ck_assert_int_eq(st, 401);
    return t;
}

START_TEST(unknown_user_costs_like_wrong_password)
{
    enum { TRIES = 15 };
    struct srv s;
    struct api_resp r = { 0 };
    struct api_conn c;
    char err[256];
    static const char unknown[] = "{\"username\":\"nobody.here\",\"password\":\"" PW "\"}";
    static const char wrong[] = "{\"username\":\"timed.user\",\"password\":\"not " PW "\"}";
    /* The production hashing cost, so a skipped hash would stand out. */
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"argon2_memory_kib\": 19456,"
                                   " \"argon2_iterations\": 2}}"),
                     0);
    ck_assert_int_eq(api_register(&s, "timed.user", PW, NULL), 201);
    ck_assert_int_eq(api_open(&c, &s, err, sizeof err), 0);
    timed_login(&c, unknown, &r); /* warm-up: caches, lazily allocated memory */
    timed_login(&c, wrong, &r);
    double t_unknown = 0, t_wrong = 0;
    for (int i = 0; i < TRIES; i++) { /* interleaved: drift hits both alike */
        t_unknown += timed_login(&c, unknown, &r);
        t_wrong += timed_login(&c, wrong, &r);
    }
    api_close(&c);
    double ratio = t_unknown / t_wrong;
    fprintf(stderr, "timing: unknown user %.1f ms, wrong password %.1f ms (ratio %.2f)\n",
            t_unknown * 1000 / TRIES, t_wrong * 1000 / TRIES, ratio);
    ck_assert_msg(ratio >= 0.5 && ratio <= 2.0, "unknown/wrong ratio %.2f", ratio);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("e2e_limits");
    TCase *tc = tcase_create("own_server");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lockout_same_for_known_and_unknown_names);
    tcase_add_test(tc, database_lock_after_restart_reveals_nothing);
    tcase_add_test(tc, login_ip_bucket);
    tcase_add_test(tc, login_user_bucket);
    tcase_add_test(tc, register_ip_bucket);
    tcase_add_test(tc, unknown_user_costs_like_wrong_password);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
