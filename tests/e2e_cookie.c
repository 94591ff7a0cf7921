/* e2e_cookie.c: browser sessions on the real binary without any server
 * option: a login asking for {"refresh_cookie": true} gets the refresh
 * token only in an HttpOnly; Secure; SameSite=Strict cookie for
 * /api/token; refresh and logout work with the cookie and an empty body
 * but only with Content-Type: application/json (no cross-site form can
 * send it); API clients keep the token in the body and get no cookie;
 * a database failure during a cookie refresh keeps the cookie. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/totp.h"
#include "support/api.h"
#include "support/support.h"

#define PW "cookie test password"

static struct srv g_srv;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0) {
        fprintf(stderr, "e2e_cookie: server did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

/* The refresh cookie set by r (its attributes checked); "" when cleared. */
static void cookie_of(const struct api_resp *r, char *out, size_t outlen, int cleared)
{
    char v[512];
    ck_assert_int_eq(api_header(r, "Set-Cookie", v, sizeof v), 0);
    ck_assert_int_eq(strncmp(v, "pc_refresh=", 11), 0);
    ck_assert_ptr_nonnull(strstr(v, "; HttpOnly"));
    ck_assert_ptr_nonnull(strstr(v, "; Secure"));
    ck_assert_ptr_nonnull(strstr(v, "; SameSite=Strict"));
    ck_assert_ptr_nonnull(strstr(v, "; Path=/api/token"));
    ck_assert_ptr_nonnull(strstr(v, cleared ? "Max-Age=0" : "Max-Age=1209600"));
    snprintf(out, outlen, "%.*s", (int)strcspn(v + 11, ";"), v + 11);
}

/* POST path carrying only the cookie; ct: the Content-Type or NULL. */
static int with_cookie(const struct srv *s, const char *path, const char *tok, const char *ct,
                       struct api_resp *r)
{
    char hdr[256];
    snprintf(hdr, sizeof hdr, "Cookie: pc_refresh=%s\r\n%s%s%s", tok, ct ? "Content-Type: " : "",
             ct ? ct : "", ct ? "\r\n" : "");
    struct api_req q = { .method = "POST", .path = path, .headers = hdr };
    return api_request(s, &q, r);
}

static void browser_login(const struct srv *s, const char *user, char *tok, size_t toklen,
                          char *access, size_t acclen)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(s, "POST", "/api/login", NULL, &r, "{s:s, s:s, s:b}", "username",
                              user, "password", PW, "refresh_cookie", 1),
                     200);
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
    cookie_of(&r, tok, toklen, 0);
    ck_assert_uint_eq(strlen(tok), 43);
    snprintf(access, acclen, "%s", api_str(&r, "access_token"));
    api_resp_free(&r);
}

START_TEST(cookie_refresh_and_logout_with_empty_body)
{
    struct api_resp r = { 0 };
    char tok[128], next[128], access[API_TOKEN_MAX + 1];
    ck_assert_int_eq(api_register(&g_srv, "cookie.browser", PW, NULL), 201);
    browser_login(&g_srv, "cookie.browser", tok, sizeof tok, access, sizeof access);
    /* What a cross-site form could send is refused, and spends nothing. */
    api_expect_error(&r, with_cookie(&g_srv, "/api/token/refresh", tok, NULL, &r), 403,
                     "csrf_check");
    api_expect_error(&r, with_cookie(&g_srv, "/api/token/refresh", tok, "text/plain", &r), 403,
                     "csrf_check");
    api_expect_error(
        &r, with_cookie(&g_srv, "/api/token/refresh", tok, "application/x-www-form-urlencoded", &r),
        403, "csrf_check");
    api_expect_error(&r, with_cookie(&g_srv, "/api/token/logout", tok, "multipart/form-data", &r),
                     403, "csrf_check");
    /* The page's own request: a new cookie, the token never in the body. */
    ck_assert_int_eq(with_cookie(&g_srv, "/api/token/refresh", tok, "application/json", &r), 200);
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
    cookie_of(&r, next, sizeof next, 0);
    ck_assert_str_ne(next, tok);
    snprintf(access, sizeof access, "%s", api_str(&r, "access_token"));
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", access, &r, NULL), 200);
    /* Logout with the cookie alone: 204, the cookie cleared, all gone. */
    ck_assert_int_eq(with_cookie(&g_srv, "/api/token/logout", next, "application/json", &r), 204);
    cookie_of(&r, tok, sizeof tok, 1);
    ck_assert_str_eq(tok, "");
    api_expect_error(&r, with_cookie(&g_srv, "/api/token/refresh", next, "application/json", &r),
                     401, "invalid_grant");
    cookie_of(&r, tok, sizeof tok, 1); /* a refused cookie is cleared */
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", access, &r, NULL), 401);
    /* Logout of an unknown token still answers 204 (reveals nothing). */
    ck_assert_int_eq(with_cookie(&g_srv, "/api/token/logout", "x", "application/json", &r), 204);
    api_resp_free(&r);
}
END_TEST

/* API clients: the body as before, no cookie; body-based logout works. */
START_TEST(api_clients_keep_the_body)
{
    struct api_resp r = { 0 };
    struct api_session s;
    char v[256];
    ck_assert_int_eq(api_new_user(&g_srv, "cookie.api", PW, &s), 0);
    ck_assert_uint_eq(strlen(s.refresh), 43);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", s.refresh),
                     200);
    ck_assert_uint_eq(strlen(api_str(&r, "refresh_token")), 43);
    ck_assert_int_ne(api_header(&r, "Set-Cookie", v, sizeof v), 0);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/logout", NULL, &r, "{s:s}",
                              "refresh_token", api_str(&r, "refresh_token")),
                     204);
    ck_assert_int_ne(api_header(&r, "Set-Cookie", v, sizeof v), 0);
    api_resp_free(&r);
}
END_TEST

/* The second login step can ask for the cookie too. */
START_TEST(mfa_login_in_cookie_mode)
{
    struct api_resp r = { 0 };
    struct api_session s;
    char secret[64], code[8], tok[128], cookie[128];
    unsigned char key[32];
    uint32_t c = 0;
    ck_assert_int_eq(api_new_user(&g_srv, "cookie.mfa", PW, &s), 0);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/mfa/totp/setup", s.access, &r, NULL), 200);
    snprintf(secret, sizeof secret, "%s", api_str(&r, "secret"));
    /* base32 -> key */
    size_t n = 0;
    unsigned bits = 0, acc = 0;
    for (const char *p = secret; *p; p++) {
        acc = (acc << 5) | (unsigned)(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p) -
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        if ((bits += 5) >= 8) {
            key[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    ck_assert_int_eq(totp_code(key, n, totp_step(time(NULL)), 6, &c), 0);
    snprintf(code, sizeof code, "%06u", c);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/mfa/totp/enable", s.access, &r, "{s:s}", "code", code), 200);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/login", NULL, &r, "{s:s, s:s, s:b}", "username",
                              "cookie.mfa", "password", PW, "refresh_cookie", 1),
                     200);
    snprintf(tok, sizeof tok, "%s", api_str(&r, "mfa_token"));
    ck_assert_int_eq(totp_code(key, n, totp_step(time(NULL)) + 1, 6, &c), 0);
    snprintf(code, sizeof code, "%06u", c);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/login/mfa", NULL, &r, "{s:s, s:s, s:b}",
                              "mfa_token", tok, "code", code, "refresh_cookie", 1),
                     200);
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
    cookie_of(&r, cookie, sizeof cookie, 0);
    ck_assert_int_eq(with_cookie(&g_srv, "/api/token/refresh", cookie, "application/json", &r),
                     200);
    api_resp_free(&r);
}
END_TEST

/* A busy database during a cookie refresh: 503 and no Set-Cookie, so the
 * browser keeps a cookie that still works. */
START_TEST(busy_database_keeps_the_cookie)
{
    struct srv s;
    struct api_resp r = { 0 };
    char tok[128], access[API_TOKEN_MAX + 1], path[400], v[256];
    sqlite3 *h = NULL;
    ck_assert_int_eq(api_start(&s, "{\"db\": {\"busy_timeout_ms\": 50}}"), 0);
    ck_assert_int_eq(api_register(&s, "cookie.busy", PW, NULL), 201);
    browser_login(&s, "cookie.busy", tok, sizeof tok, access, sizeof access);
    snprintf(path, sizeof path, "%s/data/portcullis.db", s.dir);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    api_expect_error(&r, with_cookie(&s, "/api/token/refresh", tok, "application/json", &r), 503,
                     "unavailable");
    ck_assert_int_ne(api_header(&r, "Set-Cookie", v, sizeof v), 0);
    ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(with_cookie(&s, "/api/token/refresh", tok, "application/json", &r), 200);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *cookie_suite(void)
{
    Suite *s = suite_create("e2e_cookie");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cookie_refresh_and_logout_with_empty_body);
    tcase_add_test(tc, api_clients_keep_the_body);
    tcase_add_test(tc, mfa_login_in_cookie_mode);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, busy_database_keeps_the_cookie);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cookie_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 && !g_teardown_failed ? EXIT_SUCCESS : EXIT_FAILURE;
}
