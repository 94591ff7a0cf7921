/* e2e_session.c: the session lifecycle of the real binary over TLS:
 * refresh rotation and reuse detection (also when two uses race), logout
 * of one family, logout-all, password change; API requests pipelined on
 * one connection; the refresh cookie mode for browsers. */
#include <check.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/support.h"

#define PW "correct horse battery"

static struct srv g_srv;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0) {
        fprintf(stderr, "e2e_session: server did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    /* Non-zero: the server crashed, leaked (ASan) or did not stop cleanly. */
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

static int post_raw(const char *path, const char *body, struct api_resp *r)
{
    struct api_req q = { .method = "POST", .path = path, .body = body };
    return api_request(&g_srv, &q, r);
}

static int login(const char *user, const char *pw, struct api_resp *r)
{
    return api_json(&g_srv, "POST", "/api/login", NULL, r, "{s:s, s:s}", "username", user,
                    "password", pw);
}

static int me(const char *access, struct api_resp *r)
{
    return api_json(&g_srv, "GET", "/api/me", access, r, NULL);
}

/* /api/me on a kept-alive connection: one event loop throughout, so a
 * token it verified before is one it may have remembered. */
static int me_on(struct api_conn *c, const char *access, struct api_resp *r)
{
    struct api_req q = { .method = "GET", .path = "/api/me", .bearer = access };
    return api_send(c, &q, r);
}

static void open_conn(struct api_conn *c)
{
    char err[256];
    ck_assert_msg(api_open(c, &g_srv, err, sizeof err) == 0, "%s", err);
}

static int refresh(const char *token, struct api_resp *r)
{
    return api_json(&g_srv, "POST", "/api/token/refresh", NULL, r, "{s:s}", "refresh_token", token);
}

START_TEST(refresh_rotates_and_reuse_revokes_family)
{
    struct api_resp r = { 0 };
    struct api_session s, other;
    char r2[128], a2[API_TOKEN_MAX + 1];
    ck_assert_int_eq(api_new_user(&g_srv, "rot.user", PW, &s), 0);
    ck_assert_int_eq(api_login(&g_srv, "rot.user", PW, &other), 200);
    ck_assert_int_eq(refresh(s.refresh, &r), 200);
    ck_assert_uint_eq(json_object_size(r.json), 4);
    ck_assert_str_eq(api_str(&r, "token_type"), "Bearer");
    snprintf(r2, sizeof r2, "%s", api_str(&r, "refresh_token"));
    snprintf(a2, sizeof a2, "%s", api_str(&r, "access_token"));
    ck_assert_str_ne(r2, s.refresh);
    ck_assert_str_ne(a2, s.access);
    ck_assert_int_eq(me(a2, &r), 200);
    ck_assert_str_eq(api_str(&r, "username"), "rot.user");
    /* The rotated-out token again: refused, and its whole family dies. */
    api_expect_error(&r, refresh(s.refresh, &r), 401, "invalid_grant");
    api_expect_error(&r, refresh(r2, &r), 401, "invalid_grant");
    /* Another login is another family: untouched. */
    ck_assert_int_eq(refresh(other.refresh, &r), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(refresh_bad_input)
{
    struct api_resp r = { 0 };
    char fake[44];
    memset(fake, 'A', 43);
    fake[43] = '\0';
    api_expect_error(&r, refresh(fake, &r), 401, "invalid_grant");
    api_expect_error(&r, refresh("short", &r), 401, "invalid_grant");
    api_expect_error(&r, refresh("", &r), 401, "invalid_grant");
    api_expect_error(&r, api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{}"), 422,
                     "invalid_fields");
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:i}", "refresh_token", 7),
        422, "invalid_fields");
    api_expect_error(&r, post_raw("/api/token/refresh", "{", &r), 400, "malformed_json");
    api_resp_free(&r);
}
END_TEST

START_TEST(logout_revokes_one_family)
{
    struct api_resp r = { 0 };
    struct api_session s, other, stranger;
    ck_assert_int_eq(api_new_user(&g_srv, "out.user", PW, &s), 0);
    ck_assert_int_eq(api_login(&g_srv, "out.user", PW, &other), 200);
    ck_assert_int_eq(api_new_user(&g_srv, "out.stranger", PW, &stranger), 0);
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/logout", NULL, &r, "{s:s}", "refresh_token", s.refresh),
        401, "unauthorized");
    /* Someone else's refresh token is ignored, not revoked. */
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/logout", s.access, &r, "{s:s}", "refresh_token",
                              stranger.refresh),
                     204);
    ck_assert_int_eq(refresh(stranger.refresh, &r), 200);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/logout", s.access, &r, "{s:s}", "refresh_token", s.refresh),
        204);
    ck_assert_uint_eq(r.http.body_len, 0);
    api_expect_error(&r, refresh(s.refresh, &r), 401, "invalid_grant");
    ck_assert_int_eq(refresh(other.refresh, &r), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(logout_all_ends_every_session)
{
    struct api_resp r = { 0 };
    struct api_conn c;
    struct api_session s1, s2, fresh;
    ck_assert_int_eq(api_new_user(&g_srv, "all.user", PW, &s1), 0);
    ck_assert_int_eq(api_login(&g_srv, "all.user", PW, &s2), 200);
    open_conn(&c);
    ck_assert_int_eq(me_on(&c, s2.access, &r), 200);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/logout-all", s1.access, &r, NULL), 204);
    api_expect_error(&r, me_on(&c, s1.access, &r), 401, "invalid_token");
    api_expect_error(&r, me_on(&c, s2.access, &r), 401, "invalid_token");
    api_expect_error(&r, refresh(s1.refresh, &r), 401, "invalid_grant");
    api_expect_error(&r, refresh(s2.refresh, &r), 401, "invalid_grant");
    ck_assert_int_eq(api_login(&g_srv, "all.user", PW, &fresh), 200);
    ck_assert_int_eq(me_on(&c, fresh.access, &r), 200);
    api_close(&c);
    api_resp_free(&r);
}
END_TEST

START_TEST(password_change_revokes_old_tokens)
{
    static const char next[] = "a brand new password";
    struct api_resp r = { 0 };
    struct api_conn c;
    struct api_session s, s2, fresh;
    ck_assert_int_eq(api_new_user(&g_srv, "pwc.user", PW, &s), 0);
    ck_assert_int_eq(api_login(&g_srv, "pwc.user", PW, &s2), 200);
    open_conn(&c);
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/password", s.access, &r, "{s:s, s:s}",
                              "old_password", "not the password", "new_password", next),
                     403, "wrong_password");
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/password", s.access, &r, "{s:s, s:s}",
                              "old_password", PW, "new_password", "short"),
                     422, "invalid_password");
    api_expect_error(
        &r, api_json(&g_srv, "POST", "/api/password", s.access, &r, "{s:s}", "old_password", PW),
        422, "invalid_fields");
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/password", NULL, &r, "{s:s, s:s}",
                              "old_password", PW, "new_password", next),
                     401, "unauthorized");
    /* None of the refusals changed anything. */
    ck_assert_int_eq(me_on(&c, s.access, &r), 200);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/password", s.access, &r, "{s:s, s:s}",
                              "old_password", PW, "new_password", next),
                     204);
    api_expect_error(&r, me_on(&c, s.access, &r), 401, "invalid_token");
    api_expect_error(&r, me_on(&c, s2.access, &r), 401, "invalid_token");
    api_expect_error(&r, refresh(s.refresh, &r), 401, "invalid_grant");
    api_expect_error(&r, refresh(s2.refresh, &r), 401, "invalid_grant");
    api_expect_error(&r, login("pwc.user", PW, &r), 401, "invalid_credentials");
    ck_assert_int_eq(api_login(&g_srv, "pwc.user", next, &fresh), 200);
    ck_assert_int_eq(me_on(&c, fresh.access, &r), 200);
    api_close(&c);
    api_resp_free(&r);
}
END_TEST

START_TEST(concurrent_refresh_one_wins)
{
    struct api_resp r = { 0 };
    struct api_session s;
    struct api_conn c[2];
    char body[256], err[256];
    int st[2];
    ck_assert_int_eq(api_new_user(&g_srv, "race.user", PW, &s), 0);
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", s.refresh);
    struct api_req q = { .method = "POST", .path = "/api/token/refresh", .body = body };
    for (int i = 0; i < 2; i++)
        ck_assert_msg(api_open(&c[i], &g_srv, err, sizeof err) == 0, "%s", err);
    /* Both uses in flight before either answer is read. */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(api_write(&c[i], &q), 0);
    char winner[128] = "";
    for (int i = 0; i < 2; i++) {
        st[i] = api_read(&c[i], &r);
        if (st[i] == 200)
            snprintf(winner, sizeof winner, "%s", api_str(&r, "refresh_token"));
        else
            api_expect_error(&r, st[i], 401, "invalid_grant");
        api_close(&c[i]);
    }
    ck_assert_msg((st[0] == 200) != (st[1] == 200), "statuses %d %d", st[0], st[1]);
    /* The loser's use counts as reuse: the winner's new token dies too. */
    api_expect_error(&r, refresh(winner, &r), 401, "invalid_grant");
    api_resp_free(&r);
}
END_TEST

START_TEST(pipelined_api_requests_answered_in_order)
{
    struct api_resp r = { 0 };
    struct api_session s;
    struct api_conn c;
    char err[256], ok[128], bad[128], reg[128];
    ck_assert_int_eq(api_new_user(&g_srv, "pipe.user", PW, &s), 0);
    snprintf(ok, sizeof ok, "{\"username\":\"pipe.user\",\"password\":\"%s\"}", PW);
    snprintf(bad, sizeof bad, "{\"username\":\"pipe.user\",\"password\":\"not it\"}");
    snprintf(reg, sizeof reg, "{\"username\":\"pipe.new\",\"password\":\"%s\"}", PW);
    /* Pool jobs (hashing) and inline answers mixed: order must hold. */
    const struct api_req q[] = {
        { .method = "POST", .path = "/api/login", .body = ok },
        { .method = "GET", .path = "/healthz" },
        { .method = "POST", .path = "/api/login", .body = bad },
        { .method = "GET", .path = "/api/me", .bearer = s.access },
        { .method = "POST", .path = "/api/register", .body = reg },
        { .method = "POST", .path = "/api/register", .body = "{" },
    };
    const int want[] = { 200, 200, 401, 200, 201, 400 };
    ck_assert_msg(api_open(&c, &g_srv, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        ck_assert_int_eq(api_write(&c, &q[i]), 0);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        ck_assert_msg(api_read(&c, &r) == want[i], "response %zu: %d %s", i, r.http.status,
                      r.http.body);
    api_close(&c);
    ck_assert_int_eq(login("pipe.new", PW, &r), 200);
    api_resp_free(&r);
}
END_TEST

/* pc_refresh=<value> from a Set-Cookie header, with its attributes checked. */
static void cookie_value(const struct api_resp *r, char *out, size_t outlen)
{
    char v[512];
    ck_assert_int_eq(api_header(r, "Set-Cookie", v, sizeof v), 0);
    ck_assert_ptr_nonnull(strstr(v, "; HttpOnly"));
    ck_assert_ptr_nonnull(strstr(v, "; Secure"));
    ck_assert_ptr_nonnull(strstr(v, "; SameSite=Strict"));
    ck_assert_ptr_nonnull(strstr(v, "; Path=/api/token"));
    ck_assert_int_eq(strncmp(v, "pc_refresh=", 11), 0);
    snprintf(out, outlen, "%.*s", (int)strcspn(v + 11, ";"), v + 11);
}

START_TEST(refresh_cookie_mode)
{
    struct srv s;
    struct api_resp r = { 0 };
    char tok[128], hdr[256], access[API_TOKEN_MAX + 1];
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"refresh_cookie\": true}}"), 0);
    ck_assert_int_eq(api_register(&s, "cookie.user", PW, NULL), 201);
    ck_assert_int_eq(api_json(&s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "cookie.user", "password", PW),
                     200);
    cookie_value(&r, tok, sizeof tok);
    ck_assert_str_eq(tok, api_str(&r, "refresh_token"));
    /* A browser sends only the cookie, no body, and the JSON content type
     * no cross-site form can send: without it, 403. */
    snprintf(hdr, sizeof hdr, "Cookie: theme=dark; pc_refresh=%s\r\n", tok);
    struct api_req q = { .method = "POST", .path = "/api/token/refresh", .headers = hdr };
    api_expect_error(&r, api_request(&s, &q, &r), 403, "csrf_check");
    snprintf(hdr, sizeof hdr,
             "Cookie: theme=dark; pc_refresh=%s\r\nContent-Type: application/json\r\n", tok);
    ck_assert_int_eq(api_request(&s, &q, &r), 200);
    snprintf(access, sizeof access, "%s", api_str(&r, "access_token"));
    cookie_value(&r, tok, sizeof tok);
    ck_assert_ptr_null(json_object_get(r.json, "refresh_token")); /* only in the cookie */
    ck_assert_int_eq(api_json(&s, "GET", "/api/me", access, &r, NULL), 200);
    ck_assert_int_eq(api_request(&s, &q, &r), 401); /* the old cookie: reuse */
    /* Reuse ends the session: its access tokens are refused at once too. */
    ck_assert_int_eq(api_json(&s, "GET", "/api/me", access, &r, NULL), 401);
    /* Log out by cookie on the path the cookie is sent to; it is cleared. */
    ck_assert_int_eq(api_json(&s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "cookie.user", "password", PW),
                     200);
    cookie_value(&r, tok, sizeof tok);
    snprintf(access, sizeof access, "%s", api_str(&r, "access_token"));
    snprintf(hdr, sizeof hdr, "Cookie: pc_refresh=%s\r\nContent-Type: application/json\r\n", tok);
    struct api_req out = {
        .method = "POST", .path = "/api/token/revoke", .headers = hdr, .bearer = access
    };
    ck_assert_int_eq(api_request(&s, &out, &r), 204);
    cookie_value(&r, tok, sizeof tok);
    ck_assert_str_eq(tok, "");
    char v[512];
    ck_assert_int_eq(api_header(&r, "Set-Cookie", v, sizeof v), 0);
    ck_assert_ptr_nonnull(strstr(v, "Max-Age=0"));
    ck_assert_int_eq(api_request(&s, &q, &r), 401);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(no_cookie_without_cookie_mode)
{
    struct api_resp r = { 0 };
    char v[256];
    ck_assert_int_eq(api_register(&g_srv, "nocookie.user", PW, NULL), 201);
    ck_assert_int_eq(login("nocookie.user", PW, &r), 200);
    ck_assert_int_ne(api_header(&r, "Set-Cookie", v, sizeof v), 0);
    struct api_req q = { .method = "POST", .path = "/api/token/revoke", .bearer = "x" };
    ck_assert_int_eq(api_request(&g_srv, &q, &r), 404);
    api_resp_free(&r);
}
END_TEST

/* A logged-out token is refused as revoked, not described as reused, and
 * its refusal does not touch the user's other sessions. */
START_TEST(logged_out_token_not_called_reused)
{
    struct api_resp r = { 0 };
    struct api_session s, other;
    ck_assert_int_eq(api_new_user(&g_srv, "stale.user", PW, &s), 0);
    ck_assert_int_eq(api_login(&g_srv, "stale.user", PW, &other), 200);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/logout", s.access, &r, "{s:s}", "refresh_token", s.refresh),
        204);
    api_expect_error(&r, refresh(s.refresh, &r), 401, "invalid_grant");
    ck_assert_ptr_null(strstr(api_str(&r, "detail"), "reuse"));
    ck_assert_int_eq(refresh(other.refresh, &r), 200);
    api_resp_free(&r);
}
END_TEST

/* The database cannot be written while a token is rotated (here: another
 * process holds the write lock past busy_timeout): 503, and the token is
 * still valid afterwards (before: 401 invalid_grant, and clients threw
 * their tokens away). */
START_TEST(database_busy_during_refresh_is_503)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session t;
    char path[400], v[32];
    sqlite3 *h = NULL;
    ck_assert_int_eq(api_start(&s, "{\"db\": {\"busy_timeout_ms\": 50}}"), 0);
    ck_assert_int_eq(api_new_user(&s, "busy.user", PW, &t), 0);
    snprintf(path, sizeof path, "%s/data/portcullis.db", s.dir);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    int st = api_json(&s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token",
                      t.refresh);
    api_expect_error(&r, st, 503, "unavailable");
    ck_assert_int_eq(api_header(&r, "Retry-After", v, sizeof v), 0);
    ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(
        api_json(&s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", t.refresh),
        200);
    api_resp_free(&r);
    ck_assert(srv_log_contains(&s, "database error during refresh rotation"));
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("e2e_session");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, refresh_rotates_and_reuse_revokes_family);
    tcase_add_test(tc, refresh_bad_input);
    tcase_add_test(tc, logout_revokes_one_family);
    tcase_add_test(tc, logout_all_ends_every_session);
    tcase_add_test(tc, password_change_revokes_old_tokens);
    tcase_add_test(tc, concurrent_refresh_one_wins);
    tcase_add_test(tc, pipelined_api_requests_answered_in_order);
    tcase_add_test(tc, no_cookie_without_cookie_mode);
    tcase_add_test(tc, logged_out_token_not_called_reused);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, refresh_cookie_mode);
    tcase_add_test(own, database_busy_during_refresh_is_503);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (g_teardown_failed)
        fprintf(stderr, "e2e_session: the server did not exit cleanly (see its log above)\n");
    return failed == 0 && !g_teardown_failed ? 0 : 1;
}
