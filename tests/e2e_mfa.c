/* e2e_mfa.c: TOTP two-factor on the real binary: enrolment (secret, URI,
 * QR code, first code, recovery codes shown once), the two-step login with
 * codes computed here by auth/totp.c and, in one flow, by oathtool (an
 * independent implementation), replay refused, the mfa token single-use
 * and useless as an access or refresh token, recovery codes single-use,
 * wrong codes locking the name out, disable, admin and CLI reset, and the
 * secret sealed at rest. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/totp.h"
#include "support/api.h"
#include "support/support.h"

#define PW "two factor password"

static struct srv g_srv;
static struct api_session g_admin;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0 ||
        api_make_admin(&g_srv, "boss", "boss password 1", &g_admin) != 0) {
        fprintf(stderr, "e2e_mfa: server or admin did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

/* RFC 4648 base32 without padding into out; the byte count. */
/* The next step's code from oathtool: -w 1 prints this step's and the next. */
static void oath_next(const char *b32, char out[7])
{
    char cmd[160], line[32] = "";
    snprintf(cmd, sizeof cmd, "oathtool --totp -b -w 1 %s", b32);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_uint_eq(strspn(line, "0123456789"), 6);
    snprintf(out, 7, "%.6s", line);
}

static void oath_now(const char *b32, char out[7])
{
    char cmd[160], line[32] = "";
    snprintf(cmd, sizeof cmd, "oathtool --totp -b %s", b32);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
    ck_assert_int_eq(pclose(p), 0);
    snprintf(out, 7, "%.6s", line);
}

struct enrolled {
    struct api_session s;
    char secret[TOTP_SECRET_B32_BUF];
    char recovery[10][32];
};

/* Registers name and turns two-factor on; codes from oathtool if oath. */
static void enrol(const struct srv *srv, const char *name, struct enrolled *e, int oath)
{
    struct api_resp r = { 0 };
    char code[7];
    memset(e, 0, sizeof *e);
    ck_assert_int_eq(api_new_user(srv, name, PW, &e->s), 0);
    ck_assert_int_eq(api_json(srv, "POST", "/api/mfa/totp/setup", e->s.access, &r, NULL), 200);
    snprintf(e->secret, sizeof e->secret, "%s", api_str(&r, "secret"));
    ck_assert_uint_eq(strlen(e->secret), 32); /* 160 bits */
    if (oath)
        oath_now(e->secret, code);
    else
        api_totp_code(e->secret, 0, code);
    ck_assert_int_eq(
        api_json(srv, "POST", "/api/mfa/totp/enable", e->s.access, &r, "{s:s}", "code", code), 200);
    json_t *codes = json_object_get(r.json, "recovery_codes");
    ck_assert_uint_eq(json_array_size(codes), 10);
    for (size_t i = 0; i < 10; i++)
        snprintf(e->recovery[i], sizeof e->recovery[i], "%s",
                 json_string_value(json_array_get(codes, i)));
    api_resp_free(&r);
}

/* POST /api/login expecting the second step: its mfa_token into tok. */
static void login_step1(const struct srv *srv, const char *name, char tok[128])
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(srv, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username", name,
                              "password", PW),
                     200);
    ck_assert(json_is_true(json_object_get(r.json, "mfa_required")));
    ck_assert_int_eq(api_int(&r, "expires_in"), 300);
    ck_assert_ptr_null(json_object_get(r.json, "access_token"));
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
    snprintf(tok, 128, "%s", api_str(&r, "mfa_token"));
    ck_assert_uint_eq(strlen(tok), 43);
    api_resp_free(&r);
}

static int login_step2(const struct srv *srv, const char *tok, const char *field, const char *code,
                       struct api_resp *r)
{
    return api_json(srv, "POST", "/api/login/mfa", NULL, r, "{s:s, s:s}", "mfa_token", tok, field,
                    code);
}

static int me_mfa(const struct srv *srv, const char *access)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(srv, "GET", "/api/me", access, &r, NULL), 200);
    json_t *v = json_object_get(r.json, "mfa");
    ck_assert(json_is_boolean(v));
    int on = json_is_true(v);
    api_resp_free(&r);
    return on;
}

START_TEST(enrol_and_login_with_codes)
{
    struct api_resp r = { 0 };
    struct api_session s;
    char secret[TOTP_SECRET_B32_BUF], code[7], first[7], tok[128];
    ck_assert_int_eq(api_new_user(&g_srv, "mfa.alice", PW, &s), 0);
    ck_assert_int_eq(me_mfa(&g_srv, s.access), 0);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/mfa/totp/setup", s.access, &r, NULL), 200);
    snprintf(secret, sizeof secret, "%s", api_str(&r, "secret"));
    ck_assert_uint_eq(strlen(secret), 32);
    ck_assert_ptr_nonnull(
        strstr(api_str(&r, "otpauth_uri"), "otpauth://totp/portcullis:mfa.alice?"));
    ck_assert_ptr_nonnull(strstr(api_str(&r, "otpauth_uri"), secret));
    ck_assert_ptr_nonnull(strstr(api_str(&r, "qr_svg"), "<svg"));
    /* Pending: not on until a code confirms it; a wrong code does not. */
    ck_assert_int_eq(me_mfa(&g_srv, s.access), 0);
    api_expect_error(
        &r,
        api_json(&g_srv, "POST", "/api/mfa/totp/enable", s.access, &r, "{s:s}", "code", "000000"),
        422, "invalid_code");
    api_totp_code(secret, 0, first);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/mfa/totp/enable", s.access, &r, "{s:s}", "code", first),
        200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "recovery_codes")), 10);
    ck_assert_int_eq(me_mfa(&g_srv, s.access), 1);
    api_expect_error(&r, api_json(&g_srv, "POST", "/api/mfa/totp/setup", s.access, &r, NULL), 409,
                     "mfa_enabled");
    /* The password alone gives only the second step... */
    login_step1(&g_srv, "mfa.alice", tok);
    /* ...whose token opens nothing else: not an access token, not a refresh token. */
    api_expect_error(&r, api_json(&g_srv, "GET", "/api/me", tok, &r, NULL), 401, "invalid_token");
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", tok),
        401, "invalid_grant");
    /* The code that enabled it was used: replay refused. */
    api_expect_error(&r, login_step2(&g_srv, tok, "code", first, &r), 401, "invalid_code");
    api_totp_code(secret, 1, code);
    ck_assert_int_eq(login_step2(&g_srv, tok, "code", code, &r), 200);
    ck_assert_uint_gt(strlen(api_str(&r, "access_token")), 20);
    ck_assert_uint_eq(strlen(api_str(&r, "refresh_token")), 43);
    char access[API_TOKEN_MAX + 1];
    snprintf(access, sizeof access, "%s", api_str(&r, "access_token"));
    ck_assert_int_eq(me_mfa(&g_srv, access), 1);
    /* The mfa token is single-use; the code is single-use too. */
    api_expect_error(&r, login_step2(&g_srv, tok, "code", code, &r), 401, "invalid_mfa_token");
    login_step1(&g_srv, "mfa.alice", tok);
    api_expect_error(&r, login_step2(&g_srv, tok, "code", code, &r), 401, "invalid_code");
    api_expect_error(&r, login_step2(&g_srv, "not-a-token", "code", code, &r), 401,
                     "invalid_mfa_token");
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/login/mfa", NULL, &r, "{s:s}", "mfa_token", tok), 422,
        "invalid_fields");
    api_resp_free(&r);
}
END_TEST

/* The same with oathtool computing every code (an independent RFC 6238
 * implementation): enrolment and the login's second step. */
START_TEST(oathtool_codes_accepted)
{
    struct enrolled e;
    struct api_resp r = { 0 };
    char code[7], tok[128];
    enrol(&g_srv, "mfa.oath", &e, 1);
    login_step1(&g_srv, "mfa.oath", tok);
    oath_next(e.secret, code);
    ck_assert_int_eq(login_step2(&g_srv, tok, "code", code, &r), 200);
    ck_assert_int_eq(me_mfa(&g_srv, api_str(&r, "access_token")), 1);
    api_resp_free(&r);
}
END_TEST

START_TEST(recovery_code_single_use)
{
    struct enrolled e;
    struct api_resp r = { 0 };
    char tok[128], path[96];
    enrol(&g_srv, "mfa.recover", &e, 0);
    login_step1(&g_srv, "mfa.recover", tok);
    ck_assert_int_eq(login_step2(&g_srv, tok, "recovery_code", e.recovery[2], &r), 200);
    login_step1(&g_srv, "mfa.recover", tok);
    api_expect_error(&r, login_step2(&g_srv, tok, "recovery_code", e.recovery[2], &r), 401,
                     "invalid_code");
    /* Typed in capitals without dashes, another one works, once. */
    char typed[32];
    snprintf(typed, sizeof typed, "%.4s%.4s%.4s", e.recovery[5], e.recovery[5] + 5,
             e.recovery[5] + 10);
    for (char *p = typed; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    ck_assert_int_eq(login_step2(&g_srv, tok, "recovery_code", typed, &r), 200);
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld", (long long)e.s.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.http.body, "recovery_code_used"));
    ck_assert_ptr_nonnull(strstr(r.http.body, "mfa_enable"));
    ck_assert_ptr_null(strstr(r.http.body, e.recovery[5]));
    ck_assert_ptr_null(strstr(r.http.body, e.secret));
    api_resp_free(&r);
}
END_TEST

/* The mfa token is bound to the password check: ending every session of
 * the user (a new epoch) voids it. */
START_TEST(mfa_token_dies_with_the_epoch)
{
    struct enrolled e;
    struct api_resp r = { 0 };
    char tok[128], code[7];
    enrol(&g_srv, "mfa.epoch", &e, 0);
    login_step1(&g_srv, "mfa.epoch", tok);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/logout-all", e.s.access, &r, NULL), 204);
    api_totp_code(e.secret, 1, code);
    api_expect_error(&r, login_step2(&g_srv, tok, "code", code, &r), 401, "invalid_mfa_token");
    api_resp_free(&r);
}
END_TEST

START_TEST(disable_needs_password_and_code)
{
    struct enrolled e;
    struct api_resp r = { 0 };
    enrol(&g_srv, "mfa.off", &e, 0);
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/mfa/totp/disable", e.s.access, &r, "{s:s, s:s}",
                              "password", "not the password", "code", e.recovery[0]),
                     403, "wrong_password");
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/mfa/totp/disable", e.s.access, &r, "{s:s, s:s}",
                              "password", PW, "code", "aaaa-bbbb-cccc"),
                     403, "invalid_code");
    ck_assert_int_eq(me_mfa(&g_srv, e.s.access), 1);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/mfa/totp/disable", e.s.access, &r, "{s:s, s:s}",
                              "password", PW, "code", e.recovery[0]),
                     204);
    ck_assert_int_eq(me_mfa(&g_srv, e.s.access), 0);
    ck_assert_int_eq(api_login(&g_srv, "mfa.off", PW, &e.s), 200); /* one step again */
    api_resp_free(&r);
}
END_TEST

START_TEST(admin_and_cli_reset)
{
    struct enrolled a, b;
    struct api_resp r = { 0 };
    char path[96], out[1024];
    enrol(&g_srv, "mfa.lost1", &a, 0);
    enrol(&g_srv, "mfa.lost2", &b, 0);
    snprintf(path, sizeof path, "/api/admin/users/%lld/mfa-reset", (long long)a.s.id);
    api_expect_error(&r, api_json(&g_srv, "POST", path, a.s.access, &r, NULL), 403, "forbidden");
    ck_assert_int_eq(api_json(&g_srv, "POST", path, g_admin.access, &r, NULL), 204);
    ck_assert_int_eq(me_mfa(&g_srv, a.s.access), 0);
    ck_assert_int_eq(api_login(&g_srv, "mfa.lost1", PW, &a.s), 200);
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/admin/users/999999/mfa-reset", g_admin.access, &r, NULL),
        404, "not_found");
    ck_assert_int_eq(api_cli(&g_srv, "user mfa-reset mfa.lost2", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "turned off"));
    ck_assert_int_eq(api_login(&g_srv, "mfa.lost2", PW, &b.s), 200);
    ck_assert_int_eq(api_cli(&g_srv, "user mfa-reset no.such", NULL, out, sizeof out), 1);
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld", (long long)a.s.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    json_t *ev = json_object_get(r.json, "events");
    int found = 0;
    for (size_t i = 0; i < json_array_size(ev); i++) {
        json_t *e = json_array_get(ev, i);
        if (strcmp(json_string_value(json_object_get(e, "event")), "admin_mfa_reset") == 0) {
            found = 1;
            ck_assert_int_eq(json_integer_value(json_object_get(e, "actor_id")), g_admin.id);
        }
    }
    ck_assert(found);
    api_resp_free(&r);
}
END_TEST

/* The database holds the secret sealed (AES-256-GCM, 12 + 20 + 16 bytes),
 * never in clear or base32. */
START_TEST(secret_sealed_at_rest)
{
    struct enrolled e;
    unsigned char raw[32];
    char path[400];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    enrol(&g_srv, "mfa.rest", &e, 0);
    size_t n = api_b32_decode(e.secret, raw, sizeof raw);
    snprintf(path, sizeof path, "%s/data/portcullis.db", g_srv.dir);
    ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(h, "SELECT secret FROM mfa_totp WHERE user_id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, e.s.id);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *blob = sqlite3_column_blob(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    ck_assert_int_eq(len, 48);
    ck_assert_ptr_null(memmem(blob, (size_t)len, raw, n));
    ck_assert_ptr_null(memmem(blob, (size_t)len, e.secret, strlen(e.secret)));
    sqlite3_finalize(st);
    sqlite3_close(h);
}
END_TEST

/* Wrong codes count toward the same lockout as wrong passwords. */
START_TEST(wrong_codes_lock_out)
{
    struct srv s;
    struct enrolled e;
    struct api_resp r = { 0 };
    char tok[128], code[7], v[16];
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 3,"
                                   " \"lockout_base_s\": 60, \"lockout_max_s\": 120}}"),
                     0);
    enrol(&s, "mfa.guess", &e, 0);
    login_step1(&s, "mfa.guess", tok);
    for (int i = 0; i < 3; i++)
        api_expect_error(&r, login_step2(&s, tok, "code", i == 1 ? "zzzz-zzzz-zzzz" : "123456", &r),
                         401, "invalid_code");
    api_totp_code(e.secret, 1, code);
    api_expect_error(&r, login_step2(&s, tok, "code", code, &r), 429, "locked");
    ck_assert_int_eq(api_header(&r, "Retry-After", v, sizeof v), 0);
    ck_assert_int_ge(atoi(v), 1);
    /* The name is locked for passwords too. */
    api_expect_error(&r,
                     api_json(&s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "mfa.guess", "password", PW),
                     429, "locked");
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* The sealing key is created 0600 on first start; a group-readable one
 * (or one of the wrong size) stops the server from starting, naming it. */
START_TEST(sealing_key_file_checked)
{
    struct srv s;
    struct stat st;
    char path[400], cfg[512];
    ck_assert_int_eq(api_start(&s, NULL), 0);
    snprintf(path, sizeof path, "%s/data/totp.key", s.dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 32);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);

    char dir[] = "/tmp/pc-totpkey-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/totp.key", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("0123456789abcdef0123456789abcdef", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0640), 0);
    snprintf(cfg, sizeof cfg, "{\"auth\": {\"totp_key_file\": \"%s\"}}", path);
    ck_assert_int_ne(srv_run_to_exit(&s, cfg, 20000), 0);
    ck_assert(srv_log_contains(&s, path));
    ck_assert(srv_log_contains(&s, "group/others"));
    srv_stop(&s, SIGTERM);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* The per-user login bucket meters second steps too. */
START_TEST(second_steps_share_the_user_bucket)
{
    struct srv s;
    struct enrolled e;
    struct api_resp r = { 0 };
    char tok[128];
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"login_user_per_minute\": 3}}"), 0);
    enrol(&s, "mfa.bucket", &e, 0);     /* its login takes 1 */
    login_step1(&s, "mfa.bucket", tok); /* 2 */
    api_expect_error(&r, login_step2(&s, tok, "code", "123456", &r), 401, "invalid_code"); /* 3 */
    api_expect_error(&r, login_step2(&s, tok, "recovery_code", e.recovery[0], &r), 429,
                     "rate_limited");
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *mfa_suite(void)
{
    Suite *s = suite_create("e2e_mfa");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, enrol_and_login_with_codes);
    tcase_add_test(tc, oathtool_codes_accepted);
    tcase_add_test(tc, recovery_code_single_use);
    tcase_add_test(tc, mfa_token_dies_with_the_epoch);
    tcase_add_test(tc, disable_needs_password_and_code);
    tcase_add_test(tc, admin_and_cli_reset);
    tcase_add_test(tc, secret_sealed_at_rest);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, wrong_codes_lock_out);
    tcase_add_test(own, second_steps_share_the_user_bucket);
    tcase_add_test(own, sealing_key_file_checked);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mfa_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 && !g_teardown_failed ? EXIT_SUCCESS : EXIT_FAILURE;
}
