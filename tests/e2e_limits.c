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

/* The lockout has one record for every name, in the database: after a
 * restart a locked name is still locked, known or unknown, with the same
 * answer (before, only real accounts kept a lock, refused with a 401 that
 * the next failures never turned into a 429, so they stood out). */
START_TEST(locks_survive_restart_for_every_name)
{
    char dir[] = "/tmp/pc-lock-XXXXXX", cfg[512], body[1024];
    struct srv s;
    struct api_resp r = { 0 };
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cfg, sizeof cfg,
             "{\"db\": {\"path\": \"%s/pc.db\"}, \"auth\": {\"jwt_key_file\":"
             " \"%s/jwt.pem\", \"master_key_file\": \"%s/master.key\"}, \"rate_limits\":"
             " {\"lockout_threshold\": 3, \"lockout_base_s\": 60, \"lockout_max_s\": 120}}",
             dir, dir, dir);
    ck_assert_int_eq(api_start(&s, cfg), 0);
    ck_assert_int_eq(api_register(&s, "victim", PW, NULL), 201);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(login(&s, "victim", "wrong password", &r), 401);
        ck_assert_int_eq(login(&s, "ghost", "wrong password", &r), 401);
    }
    expect_429(&r, login(&s, "victim", PW, &r), "locked", 60);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);

    ck_assert_int_eq(api_start(&s, cfg), 0);
    expect_429(&r, login(&s, "ghost", "wrong password", &r), "locked", 60);
    snprintf(body, sizeof body, "%.1000s", r.http.body);
    expect_429(&r, login(&s, "victim", PW, &r), "locked", 60);
    ck_assert_str_eq(r.http.body, body);
    ck_assert_int_eq(login(&s, "fresh.name", "wrong password", &r), 401);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    snprintf(cfg, sizeof cfg, "rm -rf %s", dir);
    ck_assert_int_eq(system(cfg), 0);
}
END_TEST

/* Failures decay the same way for every name. Before, the memory count of
 * an existing name decayed after lockout_max_s but its database count did
 * not: its next failure locked it in the database only, every later try
 * was a plain 401, and it never got the 429 an unknown name gets. */
START_TEST(decay_same_for_known_and_unknown_names)
{
    struct srv s;
    struct api_resp r = { 0 };
    /* Windows of seconds, not one: each try costs an argon2id hash, and a
     * busy machine must not let a lock run out between two tries. */
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 3,"
                                   " \"lockout_base_s\": 3, \"lockout_max_s\": 6}}"),
                     0);
    ck_assert_int_eq(api_register(&s, "victim", PW, NULL), 201);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(login(&s, "victim", "wrong password", &r), 401);
        ck_assert_int_eq(login(&s, "ghost", "wrong password", &r), 401);
    }
    sleep(7); /* past lockout_max_s: every count starts afresh */
    const char *names[] = { "victim", "ghost" };
    int seen[2][4];
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 4; i++)
            seen[n][i] = login(&s, names[n], "wrong password", &r);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(seen[0][i] == seen[1][i], "try %d: victim %d, ghost %d", i, seen[0][i],
                      seen[1][i]);
    ck_assert_int_eq(seen[1][2], 401);
    ck_assert_int_eq(seen[1][3], 429);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Passwords over the 1024-byte limit are refused before any lookup: the
 * same answer for every name, and no failure is written for a real
 * account (before, only a known name paid a database write). */
START_TEST(overlong_password_refused_before_lookup)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session boss;
    char body_known[1024], big[1100];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(api_start(&s, NULL), 0);
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_register(&s, "long.pw", PW, NULL), 201);
    api_expect_error(&r, login(&s, "long.pw", big, &r), 401, "invalid_credentials");
    snprintf(body_known, sizeof body_known, "%.1000s", r.http.body);
    api_expect_error(&r, login(&s, "no.such.user", big, &r), 401, "invalid_credentials");
    ck_assert_str_eq(r.http.body, body_known);
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/users", boss.access, &r, NULL), 200);
    json_t *v = json_array_get(json_object_get(r.json, "users"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(v, "username")), "long.pw");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "failed_logins")), 0);
    /* No event either: nothing was looked up. */
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/audit", boss.access, &r, NULL), 200);
    ck_assert_ptr_null(strstr(r.http.body, "login_failure"));
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* A stolen access token must not allow unlimited guesses of the current
 * password (before: 40 wrong tries, all 403, then the right one worked). */
START_TEST(password_change_guesses_lock_out)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session t;
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 3,"
                                   " \"lockout_base_s\": 60, \"lockout_max_s\": 120}}"),
                     0);
    ck_assert_int_eq(api_new_user(&s, "pw.victim", PW, &t), 0);
    for (int i = 0; i < 3; i++)
        api_expect_error(&r,
                         api_json(&s, "POST", "/api/password", t.access, &r, "{s:s, s:s}",
                                  "old_password", "a wrong guess", "new_password",
                                  "attacker password"),
                         403, "wrong_password");
    int st = api_json(&s, "POST", "/api/password", t.access, &r, "{s:s, s:s}", "old_password", PW,
                      "new_password", "attacker password");
    expect_429(&r, st, "locked", 60);
    /* The same lock as logins: the account is locked there too. */
    expect_429(&r, login(&s, "pw.victim", PW, &r), "locked", 60);
    ck_assert_int_eq(login(&s, "pw.victim", "attacker password", &r), 429);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* The per-user bucket applies to password changes too. */
START_TEST(password_change_user_bucket)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session t;
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"login_user_per_minute\": 2}}"), 0);
    ck_assert_int_eq(api_new_user(&s, "bucket.pw", PW, &t), 0); /* 1 of 2 */
    ck_assert_int_eq(api_json(&s, "POST", "/api/password", t.access, &r, "{s:s, s:s}",
                              "old_password", "a wrong guess", "new_password", "another one 1"),
                     403);
    expect_429(&r,
               api_json(&s, "POST", "/api/password", t.access, &r, "{s:s, s:s}", "old_password",
                        "a wrong guess", "new_password", "another one 1"),
               "rate_limited", 30);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
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
    tcase_add_test(tc, locks_survive_restart_for_every_name);
    tcase_add_test(tc, decay_same_for_known_and_unknown_names);
    tcase_add_test(tc, overlong_password_refused_before_lookup);
    tcase_add_test(tc, password_change_guesses_lock_out);
    tcase_add_test(tc, password_change_user_bucket);
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
