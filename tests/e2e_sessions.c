/* e2e_sessions.c: sessions per device on the real binary: each login is a
 * session with its times, client IP and User-Agent; GET /api/sessions
 * lists the caller's, marking the current one; DELETE ends one (its
 * refresh family revoked, its access tokens refused at once); logout ends
 * its session's access tokens too; the scheduled purge removes dead
 * refresh tokens and sessions but keeps rotated tokens of live ones. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/api.h"
#include "support/support.h"

#define PW "sessions password"

static struct srv g_srv;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0) {
        fprintf(stderr, "e2e_sessions: server did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

/* Logs in with a User-Agent; the pair into t. */
static void login_as(const struct srv *s, const char *user, const char *ua, struct api_session *t)
{
    char body[256], hdr[160];
    struct api_resp r = { 0 };
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, PW);
    snprintf(hdr, sizeof hdr, "User-Agent: %s\r\n", ua);
    struct api_req q = { .method = "POST", .path = "/api/login", .body = body, .headers = hdr };
    ck_assert_int_eq(api_request(s, &q, &r), 200);
    snprintf(t->access, sizeof t->access, "%s", api_str(&r, "access_token"));
    snprintf(t->refresh, sizeof t->refresh, "%s", api_str(&r, "refresh_token"));
    api_resp_free(&r);
}

/* GET /api/sessions: the list (new reference) and the current one's id. */
static json_t *sessions(const struct srv *s, const char *access, long long *current)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(s, "GET", "/api/sessions", access, &r, NULL), 200);
    json_t *list = json_incref(json_object_get(r.json, "sessions"));
    ck_assert(json_is_array(list));
    *current = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        if (json_is_true(json_object_get(e, "current"))) {
            ck_assert_int_eq(*current, 0); /* exactly one */
            *current = json_integer_value(json_object_get(e, "id"));
        }
    }
    api_resp_free(&r);
    return list;
}

static json_t *find(json_t *list, long long id)
{
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "id")) == id)
            return json_array_get(list, i);
    return NULL;
}

START_TEST(listed_per_device_and_ended_one_by_one)
{
    struct api_resp r = { 0 };
    struct api_session a, b, c, other;
    long long ca = 0, cb = 0, cur = 0;
    char path[64];
    ck_assert_int_eq(api_register(&g_srv, "sess.user", PW, NULL), 201);
    ck_assert_int_eq(api_register(&g_srv, "sess.other", PW, NULL), 201);
    login_as(&g_srv, "sess.user", "Laptop-Firefox/1.0", &a);
    login_as(&g_srv, "sess.user", "Phone-App/2.0", &b);
    login_as(&g_srv, "sess.user", "Tablet\tEvil<script>", &c);
    login_as(&g_srv, "sess.other", "Other/1.0", &other);
    json_t *list = sessions(&g_srv, a.access, &ca);
    ck_assert_uint_eq(json_array_size(list), 3);
    json_t *mine = find(list, ca);
    ck_assert_ptr_nonnull(mine);
    ck_assert_str_eq(json_string_value(json_object_get(mine, "user_agent")), "Laptop-Firefox/1.0");
    ck_assert_str_eq(json_string_value(json_object_get(mine, "ip")), "127.0.0.1");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(mine, "created_at"))), 20);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(mine, "last_used_at"))), 20);
    json_decref(list);
    list = sessions(&g_srv, b.access, &cb);
    ck_assert_int_ne(ca, cb);
    /* Control characters never reach the list. */
    char *dump = json_dumps(list, 0);
    ck_assert_ptr_nonnull(strstr(dump, "Tablet?Evil<script>"));
    free(dump);
    json_decref(list);
    /* Another user's session is not ours to end. */
    json_decref(sessions(&g_srv, other.access, &cur));
    snprintf(path, sizeof path, "/api/sessions/%lld", cur);
    api_expect_error(&r, api_json(&g_srv, "DELETE", path, a.access, &r, NULL), 404, "not_found");
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", other.access, &r, NULL), 200);
    /* End b from a: b's access token is refused at once, its refresh too. */
    snprintf(path, sizeof path, "/api/sessions/%lld", cb);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", b.access, &r, NULL), 200);
    ck_assert_int_eq(api_json(&g_srv, "DELETE", path, a.access, &r, NULL), 204);
    api_expect_error(&r, api_json(&g_srv, "GET", "/api/me", b.access, &r, NULL), 401,
                     "invalid_token");
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", b.refresh),
                     401, "invalid_grant");
    api_expect_error(&r, api_json(&g_srv, "DELETE", path, a.access, &r, NULL), 404, "not_found");
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", a.access, &r, NULL), 200);
    list = sessions(&g_srv, a.access, &cur);
    ck_assert_uint_eq(json_array_size(list), 2);
    ck_assert_ptr_null(find(list, cb));
    json_decref(list);
    api_expect_error(&r, api_json(&g_srv, "DELETE", "/api/sessions/abc", a.access, &r, NULL), 404,
                     "not_found");
    /* Signing out this very device. */
    snprintf(path, sizeof path, "/api/sessions/%lld", ca);
    ck_assert_int_eq(api_json(&g_srv, "DELETE", path, a.access, &r, NULL), 204);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", a.access, &r, NULL), 401);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", c.access, &r, NULL), 200);
    api_resp_free(&r);
}
END_TEST

/* A refresh continues the session: same id, still current. */
START_TEST(refresh_keeps_the_session)
{
    struct api_resp r = { 0 };
    struct api_session a;
    long long before = 0, after = 0;
    ck_assert_int_eq(api_register(&g_srv, "sess.refresh", PW, NULL), 201);
    login_as(&g_srv, "sess.refresh", "Laptop", &a);
    json_decref(sessions(&g_srv, a.access, &before));
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", a.refresh),
                     200);
    json_t *list = sessions(&g_srv, api_str(&r, "access_token"), &after);
    ck_assert_int_eq(after, before);
    ck_assert_uint_eq(json_array_size(list), 1);
    json_decref(list);
    api_resp_free(&r);
}
END_TEST

/* Logout ends the session's access tokens at once, not just its refresh. */
START_TEST(logout_ends_the_sessions_access_tokens)
{
    struct api_resp r = { 0 };
    struct api_session a, b;
    ck_assert_int_eq(api_register(&g_srv, "sess.logout", PW, NULL), 201);
    login_as(&g_srv, "sess.logout", "One", &a);
    login_as(&g_srv, "sess.logout", "Two", &b);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/logout", a.access, &r, "{s:s}", "refresh_token", a.refresh),
        204);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", a.access, &r, NULL), 401);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", b.access, &r, NULL), 200);
    api_resp_free(&r);
}
END_TEST

static long long rows(const struct srv *s, const char *sql)
{
    char path[400];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/data/portcullis.db", s->dir);
    ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Before, db_refresh_purge_expired was never called: rows piled up. */
START_TEST(purge_runs_on_schedule)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session a, b;
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"purge_interval_s\": 1}}"), 0);
    ck_assert_int_eq(api_register(&s, "sess.purge", PW, NULL), 201);
    login_as(&s, "sess.purge", "Keep", &a);
    login_as(&s, "sess.purge", "Drop", &b);
    ck_assert_int_eq(
        api_json(&s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", a.refresh),
        200);
    ck_assert_int_eq(
        api_json(&s, "POST", "/api/logout", b.access, &r, "{s:s}", "refresh_token", b.refresh),
        204);
    ck_assert_int_eq(rows(&s, "SELECT count(*) FROM refresh_tokens"), 3);
    long long left = 0;
    for (int i = 0; i < 50 && (left = rows(&s, "SELECT count(*) FROM refresh_tokens")) != 2; i++)
        usleep(100000);
    ck_assert_int_eq(left, 2); /* the live family: its token and the rotated one */
    ck_assert_int_eq(rows(&s, "SELECT count(*) FROM sessions"), 1);
    ck_assert(srv_log_contains(&s, "purge: 1 refresh tokens and 1 sessions removed"));
    /* The rotated token is still recognised as reused. */
    api_expect_error(
        &r,
        api_json(&s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", a.refresh),
        401, "invalid_grant");
    ck_assert_ptr_nonnull(strstr(api_str(&r, "detail"), "reused"));
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *sessions_suite(void)
{
    Suite *s = suite_create("e2e_sessions");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, listed_per_device_and_ended_one_by_one);
    tcase_add_test(tc, refresh_keeps_the_session);
    tcase_add_test(tc, logout_ends_the_sessions_access_tokens);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, purge_runs_on_schedule);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sessions_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 && !g_teardown_failed ? EXIT_SUCCESS : EXIT_FAILURE;
}
