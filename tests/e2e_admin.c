/* e2e_admin.c: the admin API (users list, PATCH, DELETE, audit log) and
 * the `portcullis user` CLI against the database of a running server.
 * The first admin is made the only way there is: with the CLI. */
#include <check.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/clock.h"
#include "support/api.h"
#include "support/support.h"

#define PW "admin test password"

static struct srv g_srv;
static struct api_session g_admin;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, NULL) != 0) {
        fprintf(stderr, "e2e_admin: server did not start\n");
        exit(1);
    }
    if (api_make_admin(&g_srv, "boss", "boss password 1", &g_admin) != 0) {
        fprintf(stderr, "e2e_admin: no admin\n");
        srv_stop(&g_srv, SIGKILL);
        exit(1);
    }
}

static void shared_teardown(void)
{
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

static const char *user_path(int64_t id)
{
    static char path[64];
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)id);
    return path;
}

static int me(const char *access)
{
    struct api_resp r = { 0 };
    int st = api_json(&g_srv, "GET", "/api/me", access, &r, NULL);
    api_resp_free(&r);
    return st;
}

/* GET /api/me on a kept-alive connection: the same event loop each time,
 * so a token it verified before is one it may have remembered. */
static int me_on(struct api_conn *c, const char *access)
{
    struct api_resp r = { 0 };
    struct api_req q = { .method = "GET", .path = "/api/me", .bearer = access };
    int st = api_send(c, &q, &r);
    api_resp_free(&r);
    return st;
}

static double now_s(void) { return (double)clock_mono_us() / 1e6; }

static void open_conn(struct api_conn *c)
{
    char err[256];
    ck_assert_msg(api_open(c, &g_srv, err, sizeof err) == 0, "%s", err);
}

START_TEST(list_users_paged)
{
    struct api_resp r = { 0 };
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "page.%d", i);
        ck_assert_int_eq(api_register(&g_srv, name, PW, NULL), 201);
    }
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/admin/users", g_admin.access, &r, NULL), 200);
    long long total = api_int(&r, "total");
    ck_assert_int_ge(total, 6);
    ck_assert_int_eq(api_int(&r, "offset"), 0);
    ck_assert_int_eq(api_int(&r, "limit"), 50);
    json_t *users = json_object_get(r.json, "users");
    ck_assert_uint_eq(json_array_size(users), (size_t)(total < 50 ? total : 50));
    json_int_t prev = 0;
    for (size_t i = 0; i < json_array_size(users); i++) {
        json_t *u = json_array_get(users, i);
        json_int_t id = json_integer_value(json_object_get(u, "id"));
        ck_assert_int_gt(id, prev); /* ordered by id */
        prev = id;
        ck_assert(json_is_integer(json_object_get(u, "failed_logins")));
        ck_assert_ptr_nonnull(json_object_get(u, "locked_until"));
        ck_assert_ptr_null(json_object_get(u, "password_hash"));
    }
    char path[96];
    snprintf(path, sizeof path, "/api/admin/users?offset=%lld&limit=2", total - 5);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    users = json_object_get(r.json, "users");
    ck_assert_uint_eq(json_array_size(users), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(users, 0), "username")),
                     "page.0");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(users, 1), "username")),
                     "page.1");
    ck_assert_int_eq(api_int(&r, "total"), total);
    ck_assert_int_eq(api_int(&r, "limit"), 2);
    snprintf(path, sizeof path, "/api/admin/users?limit=2&offset=%lld", total - 1);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "users")), 1);
    snprintf(path, sizeof path, "/api/admin/users?offset=%lld", total);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "users")), 0);
    static const char *const bad[] = { "limit=0",   "limit=501", "limit=abc", "limit=",
                                       "offset=-1", "offset=+1", "limit=1e2", "limit=%32" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "/api/admin/users?%s", bad[i]);
        api_expect_error(&r, api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 400,
                         "bad_query");
    }
    api_resp_free(&r);
}
END_TEST

START_TEST(non_admin_forbidden)
{
    struct api_resp r = { 0 };
    struct api_session u;
    ck_assert_int_eq(api_new_user(&g_srv, "plain.user", PW, &u), 0);
    api_expect_error(&r, api_json(&g_srv, "GET", "/api/admin/users", u.access, &r, NULL), 403,
                     "forbidden");
    api_expect_error(&r, api_json(&g_srv, "GET", "/api/admin/audit", u.access, &r, NULL), 403,
                     "forbidden");
    api_expect_error(
        &r, api_json(&g_srv, "PATCH", user_path(u.id), u.access, &r, "{s:s}", "role", "admin"), 403,
        "forbidden");
    api_expect_error(&r, api_json(&g_srv, "DELETE", user_path(g_admin.id), u.access, &r, NULL), 403,
                     "forbidden");
    api_expect_error(&r, api_json(&g_srv, "GET", "/api/admin/users", NULL, &r, NULL), 401,
                     "unauthorized");
    /* Nothing changed: still a plain user, the admin still there. */
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", u.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "role"), "user");
    ck_assert_int_eq(me(g_admin.access), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(disable_takes_effect_at_once)
{
    struct api_resp r = { 0 };
    struct api_session u;
    struct api_conn c;
    ck_assert_int_eq(api_new_user(&g_srv, "dis.user", PW, &u), 0);
    open_conn(&c);
    ck_assert_int_eq(me_on(&c, u.access), 200);
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:b}", "disabled", 1),
        200);
    ck_assert(json_is_true(json_object_get(r.json, "disabled")));
    ck_assert_int_eq(api_int(&r, "id"), u.id);
    ck_assert_int_eq(me_on(&c, u.access), 401);
    api_close(&c);
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "dis.user", "password", PW),
                     401, "invalid_credentials");
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", u.refresh),
                     401, "invalid_grant");
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:b}", "disabled", 0),
        200);
    ck_assert(json_is_false(json_object_get(r.json, "disabled")));
    ck_assert_int_eq(api_login(&g_srv, "dis.user", PW, &u), 200);
    ck_assert_int_eq(me(u.access), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(role_change_and_bad_patches)
{
    struct api_resp r = { 0 };
    struct api_session u, again;
    struct api_conn c;
    ck_assert_int_eq(api_new_user(&g_srv, "role.user", PW, &u), 0);
    open_conn(&c);
    ck_assert_int_eq(me_on(&c, u.access), 200);
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:s}", "role", "admin"),
        200);
    ck_assert_str_eq(api_str(&r, "role"), "admin");
    ck_assert_int_eq(me_on(&c, u.access), 401); /* re-roled: old tokens die */
    ck_assert_int_eq(api_login(&g_srv, "role.user", PW, &again), 200);
    struct api_req list = { .method = "GET", .path = "/api/admin/users", .bearer = again.access };
    ck_assert_int_eq(api_send(&c, &list, &r), 200);
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:s}", "role", "user"),
        200);
    api_expect_error(&r, api_send(&c, &list, &r), 401, "invalid_token");
    api_close(&c);
    static const char *const bodies[] = { "{\"role\":\"root\"}", "{\"role\":\"Admin\"}",
                                          "{\"role\":5}",        "{\"disabled\":\"yes\"}",
                                          "{\"disabled\":1}",    "{}",
                                          "{\"name\":\"x\"}" };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct api_req q = {
            .method = "PATCH", .path = user_path(u.id), .bearer = g_admin.access, .body = bodies[i]
        };
        api_expect_error(&r, api_request(&g_srv, &q, &r), 422, "invalid_fields");
        ck_assert(json_array_size(json_object_get(r.json, "fields")) >= 1);
    }
    api_expect_error(&r,
                     api_json(&g_srv, "PATCH", "/api/admin/users/999999", g_admin.access, &r,
                              "{s:b}", "disabled", 1),
                     404, "not_found");
    static const char *const ids[] = { "abc", "0", "-1", "1e3", "99999999999999999999" };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char path[96];
        snprintf(path, sizeof path, "/api/admin/users/%s", ids[i]);
        api_expect_error(
            &r, api_json(&g_srv, "PATCH", path, g_admin.access, &r, "{s:b}", "disabled", 1), 404,
            "not_found");
    }
    ck_assert_int_eq(api_login(&g_srv, "role.user", PW, &again), 200); /* untouched */
    api_resp_free(&r);
}
END_TEST

START_TEST(delete_user)
{
    struct api_resp r = { 0 };
    struct api_session u;
    ck_assert_int_eq(api_new_user(&g_srv, "del.user", PW, &u), 0);
    long long before = api_user_total(&g_srv, g_admin.access);
    ck_assert_int_eq(api_json(&g_srv, "DELETE", user_path(u.id), g_admin.access, &r, NULL), 204);
    ck_assert_uint_eq(r.http.body_len, 0);
    ck_assert_int_eq(api_user_total(&g_srv, g_admin.access), before - 1);
    api_expect_error(&r, api_json(&g_srv, "DELETE", user_path(u.id), g_admin.access, &r, NULL), 404,
                     "not_found");
    api_expect_error(
        &r, api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:b}", "disabled", 0),
        404, "not_found");
    ck_assert_int_eq(me(u.access), 401);
    api_expect_error(&r,
                     api_json(&g_srv, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "del.user", "password", PW),
                     401, "invalid_credentials");
    /* The name is free again. */
    ck_assert_int_eq(api_register(&g_srv, "DEL.user", PW, NULL), 201);
    api_resp_free(&r);
}
END_TEST

START_TEST(admin_cannot_lock_self_out)
{
    struct api_resp r = { 0 };
    const char *self = user_path(g_admin.id);
    ck_assert_int_gt(g_admin.id, 0);
    api_expect_error(&r,
                     api_json(&g_srv, "PATCH", self, g_admin.access, &r, "{s:b}", "disabled", 1),
                     409, "self_change");
    api_expect_error(&r,
                     api_json(&g_srv, "PATCH", self, g_admin.access, &r, "{s:s}", "role", "user"),
                     409, "self_change");
    api_expect_error(&r,
                     api_json(&g_srv, "PATCH", self, g_admin.access, &r, "{s:s, s:b}", "role",
                              "admin", "disabled", 1),
                     409, "self_change");
    api_expect_error(&r, api_json(&g_srv, "DELETE", self, g_admin.access, &r, NULL), 409,
                     "self_change");
    ck_assert_int_eq(me(g_admin.access), 200);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", g_admin.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "role"), "admin");
    ck_assert(json_is_false(json_object_get(r.json, "disabled")));
    api_resp_free(&r);
}
END_TEST

/* The event of the audit log named `event` (NULL if absent). */
static json_t *find_event(json_t *events, const char *event)
{
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        if (strcmp(json_string_value(json_object_get(e, "event")), event) == 0)
            return e;
    }
    return NULL;
}

START_TEST(audit_log_records_events)
{
    struct api_resp r = { 0 };
    struct api_session u;
    char rotated[128], path[96];
    ck_assert_int_eq(api_new_user(&g_srv, "audit.user", PW, &u), 0);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username",
                              "audit.user", "password", "wrong password"),
                     401);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", u.refresh),
                     200);
    snprintf(rotated, sizeof rotated, "%s", u.refresh);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", rotated),
        401);
    /* The reuse ended that session, its access token with it: a new one. */
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", u.access, &r, NULL), 401);
    int64_t uid = u.id;
    ck_assert_int_eq(api_login(&g_srv, "audit.user", PW, &u), 200);
    u.id = uid;
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/password", u.access, &r, "{s:s, s:s}",
                              "old_password", PW, "new_password", "the next password"),
                     204);
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:b}", "disabled", 1),
        200);
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld", (long long)u.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    json_t *events = json_object_get(r.json, "events");
    static const char *const want[] = { "register",      "login_success",   "login_failure",
                                        "refresh_reuse", "password_change", "admin_update" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *e = find_event(events, want[i]);
        ck_assert_msg(e != NULL, "no %s event in %s", want[i], r.http.body);
        ck_assert_int_eq(json_integer_value(json_object_get(e, "user_id")), u.id);
        ck_assert_str_eq(json_string_value(json_object_get(e, "ip")), "127.0.0.1");
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(e, "at"))), 20);
    }
    json_t *upd = find_event(events, "admin_update");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(upd, "detail")), "disabled=true"));
    /* Only this user's events under the filter; secrets never logged. */
    for (size_t i = 0; i < json_array_size(events); i++)
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(events, i), "user_id")),
                         u.id);
    ck_assert_ptr_null(strstr(r.http.body, PW));
    ck_assert_ptr_null(strstr(r.http.body, "the next password"));
    ck_assert_ptr_null(strstr(r.http.body, rotated));
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld&limit=2", (long long)u.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "events")), 2);
    api_expect_error(
        &r, api_json(&g_srv, "GET", "/api/admin/audit?limit=1001", g_admin.access, &r, NULL), 400,
        "bad_query");
    api_resp_free(&r);
}
END_TEST

START_TEST(cli_user_commands)
{
    struct api_resp r = { 0 };
    struct api_session u, made;
    char out[8192];
    ck_assert_int_eq(api_new_user(&g_srv, "cli.user", PW, &u), 0);
    ck_assert_int_eq(api_cli(&g_srv, "user list", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "boss"));
    ck_assert_ptr_nonnull(strstr(out, "cli.user"));
    ck_assert_int_eq(me(u.access), 200); /* the account state may now be cached */
    ck_assert_int_eq(api_cli(&g_srv, "user disable CLI.user", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "disabled 'cli.user'"));
    /* Another process's change reaches the running server within
     * auth.user_cache_ms (1000 by default). */
    double t0 = now_s();
    while (me(u.access) != 401 && now_s() - t0 < 5.0)
        usleep(50000);
    ck_assert_msg(now_s() - t0 < 2.5, "CLI disable seen after %.2f s", now_s() - t0);
    ck_assert_int_eq(api_login(&g_srv, "cli.user", PW, &u), 401);
    ck_assert_int_eq(api_cli(&g_srv, "user list", NULL, out, sizeof out), 0);
    const char *line = strstr(out, "cli.user");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(line, "disabled"));
    ck_assert_int_eq(api_cli(&g_srv, "user enable cli.user", NULL, out, sizeof out), 0);
    ck_assert_int_eq(api_login(&g_srv, "cli.user", PW, &u), 200);
    ck_assert_int_eq(api_cli(&g_srv, "user disable no.such.user", NULL, out, sizeof out), 1);
    /* The same username and password rules as the API. */
    long long before = api_user_total(&g_srv, g_admin.access);
    ck_assert_int_eq(
        api_cli(&g_srv, "user add \"x'OR'1'='1\"", "a good password\n", out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "3 to 64"));
    ck_assert_int_eq(api_cli(&g_srv, "user add cli.new", "short\n", out, sizeof out), 1);
    ck_assert_int_eq(api_cli(&g_srv, "user add CLI.USER", "a good password\n", out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "already exists"));
    ck_assert_int_eq(api_user_total(&g_srv, g_admin.access), before);
    ck_assert_int_eq(api_cli(&g_srv, "user add cli.new", "a good password\n", out, sizeof out), 0);
    ck_assert_int_eq(api_login(&g_srv, "cli.new", "a good password", &made), 200);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", made.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "role"), "user");
    ck_assert_int_eq(api_cli(&g_srv, "user frobnicate", NULL, out, sizeof out), 2);
    api_resp_free(&r);
}
END_TEST

/* Admin events name the acting admin; a deleted user's events keep the
 * name (before: actor unknown, and events recorded without a name, such
 * as a logout or the delete itself, lost it with the user). */
START_TEST(audit_names_actor_and_keeps_deleted_names)
{
    struct api_resp r = { 0 };
    struct api_session u;
    char path[96];
    ck_assert_int_eq(api_new_user(&g_srv, "gone.user", PW, &u), 0);
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/api/logout", u.access, &r, "{s:s}", "refresh_token", u.refresh),
        204);
    ck_assert_int_eq(
        api_json(&g_srv, "PATCH", user_path(u.id), g_admin.access, &r, "{s:b}", "disabled", 1),
        200);
    ck_assert_int_eq(api_json(&g_srv, "DELETE", user_path(u.id), g_admin.access, &r, NULL), 204);
    snprintf(path, sizeof path, "/api/admin/audit?user_id=%lld", (long long)u.id);
    ck_assert_int_eq(api_json(&g_srv, "GET", path, g_admin.access, &r, NULL), 200);
    json_t *events = json_object_get(r.json, "events");
    ck_assert_uint_ge(json_array_size(events), 5);
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        const char *ev = json_string_value(json_object_get(e, "event"));
        ck_assert_msg(json_is_string(json_object_get(e, "username")), "%s without a name", ev);
        ck_assert_str_eq(json_string_value(json_object_get(e, "username")), "gone.user");
        json_t *actor = json_object_get(e, "actor_id");
        if (strncmp(ev, "admin_", 6) == 0)
            ck_assert_int_eq(json_integer_value(actor), g_admin.id);
        else
            ck_assert_msg(json_is_null(actor), "%s has an actor", ev);
    }
    ck_assert_ptr_nonnull(find_event(events, "admin_delete"));
    ck_assert_ptr_nonnull(find_event(events, "logout"));
    api_resp_free(&r);
}
END_TEST

/* The audit row is part of the change: when it cannot be written the
 * change is not made (before: the user was deleted, the event lost). */
START_TEST(audit_failure_undoes_the_change)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session boss, u;
    char path[400];
    sqlite3 *h = NULL;
    ck_assert_int_eq(api_start(&s, NULL), 0);
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_new_user(&s, "kept.user", PW, &u), 0);
    snprintf(path, sizeof path, "%s/data/portcullis.db", s.dir);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h,
                                  "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                                  "WHEN NEW.event = 'admin_delete' "
                                  "BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)u.id);
    api_expect_error(&r, api_json(&s, "DELETE", path, boss.access, &r, NULL), 503, "unavailable");
    ck_assert_int_eq(api_login(&s, "kept.user", PW, &u), 200);
    ck_assert(srv_log_contains(&s, "audit refused"));
    ck_assert_int_eq(sqlite3_exec(h, "DROP TRIGGER no_audit", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(api_json(&s, "DELETE", path, boss.access, &r, NULL), 204);
    ck_assert_int_eq(api_login(&s, "kept.user", PW, &u), 401);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* "At least one enabled admin" is checked inside the transaction of the
 * change. Here admin a1's account was disabled by the CLI while the
 * server still trusts a1's cached state (user_cache_ms): the same window
 * two admins demoting each other at once open. Before, a1 could then
 * demote a2 and leave no admin at all. */
START_TEST(last_admin_rule_inside_transaction)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session a1, a2;
    char path[96], out[4096];
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"user_cache_ms\": 60000}}"), 0);
    ck_assert_int_eq(api_make_admin(&s, "adm1", "admin one password", &a1), 0);
    ck_assert_int_eq(api_make_admin(&s, "adm2", "admin two password", &a2), 0);
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/users", a1.access, &r, NULL), 200);
    ck_assert_int_eq(api_cli(&s, "user disable adm1", NULL, out, sizeof out), 0);
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)a2.id);
    api_expect_error(&r, api_json(&s, "PATCH", path, a1.access, &r, "{s:s}", "role", "user"), 409,
                     "last_admin");
    api_expect_error(&r, api_json(&s, "PATCH", path, a1.access, &r, "{s:b}", "disabled", 1), 409,
                     "last_admin");
    api_expect_error(&r, api_json(&s, "DELETE", path, a1.access, &r, NULL), 409, "last_admin");
    /* The CLI keeps the same rule. */
    ck_assert_int_eq(api_cli(&s, "user role adm2 user", NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "at least one enabled admin"));
    ck_assert_int_eq(api_cli(&s, "user delete adm2", NULL, out, sizeof out), 1);
    ck_assert_int_eq(api_cli(&s, "user disable adm2", NULL, out, sizeof out), 1);
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/users", a2.access, &r, NULL), 200);
    ck_assert_int_eq(api_cli(&s, "user enable adm1", NULL, out, sizeof out), 0);
    ck_assert_int_eq(api_cli(&s, "user role adm2 user", NULL, out, sizeof out), 0);
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(cli_delete_role_unlock)
{
    struct srv s;
    struct api_resp r = { 0 };
    struct api_session boss, u;
    char out[4096];
    ck_assert_int_eq(api_start(&s, "{\"rate_limits\": {\"lockout_threshold\": 2,"
                                   " \"lockout_base_s\": 600, \"lockout_max_s\": 600}}"),
                     0);
    ck_assert_int_eq(api_make_admin(&s, "boss", "boss password 1", &boss), 0);
    ck_assert_int_eq(api_new_user(&s, "cli.target", PW, &u), 0);
    /* role */
    ck_assert_int_eq(api_cli(&s, "user role CLI.target admin", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "'cli.target' is now admin"));
    ck_assert_int_eq(api_login(&s, "cli.target", PW, &u), 200);
    ck_assert_int_eq(api_json(&s, "GET", "/api/me", u.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "role"), "admin");
    ck_assert_int_eq(api_cli(&s, "user role cli.target root", NULL, out, sizeof out), 2);
    ck_assert_int_eq(api_cli(&s, "user role no.such admin", NULL, out, sizeof out), 1);
    ck_assert_int_eq(api_cli(&s, "user role cli.target user", NULL, out, sizeof out), 0);
    /* unlock: any name, known or not */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(api_login(&s, "cli.target", "wrong password", &u), 401);
        ck_assert_int_eq(api_login(&s, "cli.ghost", "wrong password", &u), 401);
    }
    ck_assert_int_eq(api_login(&s, "cli.target", PW, &u), 429);
    ck_assert_int_eq(api_cli(&s, "user unlock cli.target", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "unlocked 'cli.target'"));
    ck_assert_int_eq(api_login(&s, "cli.target", PW, &u), 200);
    ck_assert_int_eq(api_login(&s, "cli.ghost", "wrong password", &u), 429);
    ck_assert_int_eq(api_cli(&s, "user unlock cli.ghost", NULL, out, sizeof out), 0);
    ck_assert_int_eq(api_login(&s, "cli.ghost", "wrong password", &u), 401);
    /* delete */
    ck_assert_int_eq(api_cli(&s, "user delete cli.target", NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "deleted 'cli.target'"));
    ck_assert_int_eq(api_login(&s, "cli.target", PW, &u), 401);
    ck_assert_int_eq(api_cli(&s, "user delete cli.target", NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "no user 'cli.target'"));
    ck_assert_int_eq(api_json(&s, "GET", "/api/admin/audit", boss.access, &r, NULL), 200);
    json_t *del = find_event(json_object_get(r.json, "events"), "cli_user_delete");
    ck_assert_ptr_nonnull(del);
    ck_assert_str_eq(json_string_value(json_object_get(del, "username")), "cli.target");
    ck_assert_int_eq(json_integer_value(json_object_get(del, "actor_id")), 0);
    ck_assert_ptr_nonnull(find_event(json_object_get(r.json, "events"), "cli_user_unlock"));
    api_resp_free(&r);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Before, the CLI silently created an empty database wherever it was run
 * with a wrong path; now it refuses, naming the path, and creates nothing. */
START_TEST(cli_missing_database_is_an_error)
{
    char dir[] = "/tmp/pc-cli-XXXXXX", cfg[512], cmd[1400], out[2048] = "", db[400];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/nowhere/portcullis.db", dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"db\": {\"path\": \"%s\"}}\n", db);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' user list 2>&1", PC_BINARY, cfg);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_msg(strstr(out, db) != NULL, "output: %s", out);
    ck_assert_int_ne(access(db, F_OK), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *admin_suite(void)
{
    Suite *s = suite_create("e2e_admin");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, list_users_paged);
    tcase_add_test(tc, non_admin_forbidden);
    tcase_add_test(tc, disable_takes_effect_at_once);
    tcase_add_test(tc, role_change_and_bad_patches);
    tcase_add_test(tc, delete_user);
    tcase_add_test(tc, admin_cannot_lock_self_out);
    tcase_add_test(tc, audit_log_records_events);
    tcase_add_test(tc, cli_user_commands);
    tcase_add_test(tc, audit_names_actor_and_keeps_deleted_names);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 120);
    tcase_add_test(own, audit_failure_undoes_the_change);
    tcase_add_test(own, last_admin_rule_inside_transaction);
    tcase_add_test(own, cli_delete_role_unlock);
    tcase_add_test(own, cli_missing_database_is_an_error);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(admin_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (g_teardown_failed)
        fprintf(stderr, "e2e_admin: the server did not exit cleanly (see its log above)\n");
    return failed == 0 && !g_teardown_failed ? 0 : 1;
}
