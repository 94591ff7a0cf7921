/* e2e_pg_copy.c: moving a single node to PostgreSQL with the real binary.
 * A server on SQLite gets an admin (CLI), a user with two-factor on and a
 * session (HTTPS API); `portcullis db copy` copies its file into a fresh
 * schema of the test cluster (PC_TEST_PG_URL, see pg_cluster.sh); a second
 * server on that store (db.url, the first's TOTP sealing key file) then
 * takes the old passwords, the old two-factor secret and the old refresh
 * token; `db copy` into it again is refused; `db migrate` reports the
 * version. Registered only with the PostgreSQL fixture. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "support/api.h"
#include "support/db_fixture.h"
#include "support/support.h"

#define PW "correct horse battery staple"

/* Registers name on s and turns two-factor on; its secret into b32. */
static void enrol(const struct srv *s, const char *name, struct api_session *t, char *b32,
                  size_t cap)
{
    struct api_resp r = { 0 };
    char code[7];
    ck_assert_int_eq(api_new_user(s, name, PW, t), 0);
    ck_assert_int_eq(api_json(s, "POST", "/api/mfa/totp/setup", t->access, &r, NULL), 200);
    snprintf(b32, cap, "%s", api_str(&r, "secret"));
    api_totp_code(b32, 0, code);
    ck_assert_int_eq(
        api_json(s, "POST", "/api/mfa/totp/enable", t->access, &r, "{s:s}", "code", code), 200);
    api_resp_free(&r);
}

/* Logs name in with password and the next TOTP code: 0 or the status. */
static int login_mfa(const struct srv *s, const char *name, const char *b32)
{
    struct api_resp r = { 0 };
    char tok[128], code[7];
    int st = api_json(s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username", name, "password",
                      PW);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_true(json_object_get(r.json, "mfa_required")));
    snprintf(tok, sizeof tok, "%s", api_str(&r, "mfa_token"));
    api_resp_free(&r);
    /* One step ahead: the code of this step was spent enabling. */
    api_totp_code(b32, 1, code);
    st = api_json(s, "POST", "/api/login/mfa", NULL, &r, "{s:s, s:s}", "mfa_token", tok, "code",
                  code);
    if (st == 200)
        ck_assert_ptr_nonnull(api_str(&r, "access_token"));
    api_resp_free(&r);
    return st == 200 ? 0 : st;
}

START_TEST(copy_then_log_in_on_postgresql)
{
    struct srv a, b;
    struct api_session admin, carol, again;
    struct api_resp r = { 0 };
    char b32[64], cmd[PATH_MAX + 600], out[2048], extra[PATH_MAX + 1200], totp_key[400],
        master_key[400];

    ck_assert_ptr_nonnull(fx_pg());
    fx_make_dir(); /* a fresh schema; fx_path is its URL */
    ck_assert_int_eq(api_start(&a, NULL), 0);
    ck_assert_int_eq(api_make_admin(&a, "root", PW, &admin), 0);
    enrol(&a, "carol", &carol, b32, sizeof b32);

    snprintf(cmd, sizeof cmd, "db copy --from %s/data/portcullis.db --to '%s'", a.dir, fx_path);
    ck_assert_msg(api_cli(&a, cmd, NULL, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "copied 2 users"));
    ck_assert_ptr_null(strstr(out, "postgresql://")); /* a URL is never printed */

    snprintf(totp_key, sizeof totp_key, "%s/data/totp.key", a.dir);
    /* The key set travels with the store; its master key file with it. */
    snprintf(master_key, sizeof master_key, "%s/data/master.key", a.dir);
    json_t *x = json_pack("{s:{s:s}, s:{s:s, s:s}}", "db", "url", fx_path, "auth", "totp_key_file",
                          totp_key, "master_key_file", master_key);
    char *xs = json_dumps(x, JSON_COMPACT);
    snprintf(extra, sizeof extra, "%s", xs);
    free(xs);
    json_decref(x);
    ck_assert_int_eq(api_start(&b, extra), 0);
    ck_assert(srv_log_contains(&b, "database PostgreSQL (db.url)"));

    /* The old signing key (an access token of A's), the old passwords, the
     * old second factor, the old session. */
    ck_assert_int_eq(api_json(&b, "GET", "/api/me", admin.access, &r, NULL), 200);
    api_resp_free(&r);
    ck_assert_int_eq(api_login(&b, "root", PW, &again), 200);
    ck_assert_int_eq(api_json(&b, "GET", "/api/me", again.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "role"), "admin");
    api_resp_free(&r);
    ck_assert_int_eq(login_mfa(&b, "carol", b32), 0);
    ck_assert_int_eq(api_json(&b, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token",
                              carol.refresh),
                     200);
    api_resp_free(&r);
    /* New rows continue after the copied ids. */
    int64_t id = 0;
    ck_assert_int_eq(api_register(&b, "dave", PW, &id), 201);
    ck_assert_int_gt(id, carol.id);
    ck_assert_int_eq(api_json(&b, "GET", "/healthz", NULL, &r, NULL), 200);
    api_resp_free(&r);

    /* Never into a store that holds data; the failed copy wrote nothing. */
    ck_assert_int_eq(api_cli(&a, cmd, NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "not empty"));
    snprintf(cmd, sizeof cmd, "db migrate");
    ck_assert_msg(api_cli(&b, cmd, NULL, out, sizeof out) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "schema version"));
    ck_assert_int_eq(api_login(&b, "dave", PW, &again), 200);

    ck_assert_int_eq(srv_stop(&b, SIGTERM), 0);
    ck_assert_int_eq(srv_stop(&a, SIGTERM), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_copy");
    TCase *tc = tcase_create("copy");
    tcase_add_checked_fixture(tc, NULL, fx_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, copy_then_log_in_on_postgresql);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
