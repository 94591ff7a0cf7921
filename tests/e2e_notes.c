/* e2e_notes.c: the notes example (examples/notes), an application on the
 * public C API, run as its own binary over TLS: two users register and log
 * in on its built-in API, each creates notes, neither can read or delete
 * the other's (404, like an id that does not exist), lists show only one's
 * own; no token is a 401, bad JSON a 400, bad fields a 422; the notes are
 * rows of the example's own SQLite file, owned by the token's user id. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/api.h"
#include "support/support.h"

#define PW "notes password"

static struct srv g_srv;
static char g_dir[64], g_db[128];
static int g_teardown_failed;

static void shared_setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/pc-notes-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        exit(1);
    snprintf(g_db, sizeof g_db, "%s/notes.db", g_dir);
    const char *args[] = { "--notes-db", g_db, NULL };
    if (api_start_bin(&g_srv, PC_NOTES_BINARY, NULL, args) != 0) {
        fprintf(stderr, "e2e_notes: the notes server did not start\n");
        exit(1);
    }
}

static void shared_teardown(void)
{
    char path[160];
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
    const char *suffix[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", g_db, suffix[i]);
        unlink(path);
    }
    rmdir(g_dir);
}

static void user(const char *name, struct api_session *t)
{
    int64_t id = 0;
    ck_assert_int_eq(api_register(&g_srv, name, PW, &id), 201);
    ck_assert_int_eq(api_login(&g_srv, name, PW, t), 200);
    t->id = id;
}

/* POST /notes; the new note's id. */
static long long create(const struct api_session *t, const char *title, const char *body)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(&g_srv, "POST", "/notes", t->access, &r, "{s:s, s:s}", "title", title,
                              "body", body),
                     201);
    ck_assert_str_eq(api_str(&r, "title"), title);
    ck_assert_str_eq(api_str(&r, "body"), body);
    long long id = api_int(&r, "id");
    ck_assert_int_gt(id, 0);
    api_resp_free(&r);
    return id;
}

/* GET /notes: the titles, comma-separated, in order. */
static void titles(const struct api_session *t, char *out, size_t outlen)
{
    struct api_resp r = { 0 };
    size_t used = 0;
    ck_assert_int_eq(api_json(&g_srv, "GET", "/notes", t->access, &r, NULL), 200);
    json_t *notes = json_object_get(r.json, "notes");
    ck_assert(json_is_array(notes));
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(notes); i++) {
        const char *title = json_string_value(json_object_get(json_array_get(notes, i), "title"));
        ck_assert_ptr_nonnull(title);
        int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", title);
        ck_assert(w > 0 && used + (size_t)w < outlen);
        used += (size_t)w;
    }
    api_resp_free(&r);
}

static int status_of(const char *method, const char *path, const char *token)
{
    struct api_resp r = { 0 };
    int st = api_json(&g_srv, method, path, token, &r, NULL);
    api_resp_free(&r);
    return st;
}

START_TEST(users_see_only_their_own_notes)
{
    struct api_session alice, bob;
    char path[64], list[512];
    user("notes.alice", &alice);
    user("notes.bob", &bob);
    long long a1 = create(&alice, "shopping", "milk, bread");
    long long a2 = create(&alice, "ideas", "a notes app in C");
    long long b1 = create(&bob, "bob's", "secret plans");
    titles(&alice, list, sizeof list);
    ck_assert_str_eq(list, "shopping,ideas");
    titles(&bob, list, sizeof list);
    ck_assert_str_eq(list, "bob's");

    /* Another user's note does not exist for bob: 404, never 403. */
    struct api_resp r = { 0 };
    snprintf(path, sizeof path, "/notes/%lld", a1);
    api_expect_error(&r, api_json(&g_srv, "GET", path, bob.access, &r, NULL), 404, "not_found");
    api_expect_error(&r, api_json(&g_srv, "DELETE", path, bob.access, &r, NULL), 404, "not_found");
    ck_assert_int_eq(api_json(&g_srv, "GET", path, alice.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "body"), "milk, bread");
    ck_assert_int_eq(api_int(&r, "id"), a1);
    snprintf(path, sizeof path, "/notes/%lld", b1);
    ck_assert_int_eq(status_of("GET", path, alice.access), 404);
    ck_assert_int_eq(status_of("GET", path, bob.access), 200);

    /* Deleting one's own: 204, then gone. */
    snprintf(path, sizeof path, "/notes/%lld", a2);
    ck_assert_int_eq(status_of("DELETE", path, alice.access), 204);
    ck_assert_int_eq(status_of("GET", path, alice.access), 404);
    ck_assert_int_eq(status_of("DELETE", path, alice.access), 404);
    titles(&alice, list, sizeof list);
    ck_assert_str_eq(list, "shopping");
    titles(&bob, list, sizeof list);
    ck_assert_str_eq(list, "bob's");
    api_resp_free(&r);

    /* The rows are in the example's own table, owned by the token's user. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "SELECT user_id FROM notes WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, b1);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int64(st, 0), bob.id);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

START_TEST(every_route_needs_a_token)
{
    struct api_session carol;
    struct api_resp r = { 0 };
    char hdr[256];
    user("notes.carol", &carol);
    long long id = create(&carol, "mine", "");
    char path[64];
    snprintf(path, sizeof path, "/notes/%lld", id);
    const char *routes[][2] = {
        { "GET", "/notes" }, { "POST", "/notes" }, { "GET", path }, { "DELETE", path }
    };
    for (size_t i = 0; i < 4; i++) {
        api_expect_error(&r, api_json(&g_srv, routes[i][0], routes[i][1], NULL, &r, NULL), 401,
                         "unauthorized");
        ck_assert_int_eq(api_header(&r, "WWW-Authenticate", hdr, sizeof hdr), 0);
        api_expect_error(&r, api_json(&g_srv, routes[i][0], routes[i][1], "not.a.token", &r, NULL),
                         401, "invalid_token");
    }
    /* Still there: nothing above reached a handler. */
    ck_assert_int_eq(status_of("GET", path, carol.access), 200);
    api_resp_free(&r);
}
END_TEST

static int post_raw(const char *token, const char *content_type, const char *body,
                    struct api_resp *r)
{
    struct api_req q = { .method = "POST",
                         .path = "/notes",
                         .bearer = token,
                         .content_type = content_type,
                         .body = body };
    return api_request(&g_srv, &q, r);
}

START_TEST(bad_input_gets_json_errors)
{
    struct api_session dave;
    struct api_resp r = { 0 };
    char list[512], long_title[300];
    user("notes.dave", &dave);
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"title\": ", &r), 400, "malformed_json");
    ck_assert_ptr_nonnull(strstr(api_str(&r, "detail"), "line 1"));
    api_expect_error(&r, post_raw(dave.access, NULL, "", &r), 400, "malformed_json");
    api_expect_error(&r, post_raw(dave.access, "text/plain", "{\"title\":\"x\"}", &r), 415,
                     "unsupported_media_type");
    api_expect_error(&r, post_raw(dave.access, NULL, "[1]", &r), 422, "invalid_body");
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"body\":\"no title\"}", &r), 422,
                     "invalid_fields");
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"title\":\"\"}", &r), 422,
                     "invalid_fields");
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"title\":7}", &r), 422, "invalid_fields");
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"title\":\"t\",\"body\":[]}", &r), 422,
                     "invalid_fields");
    /* jansson refuses an escaped NUL: no string reaches C cut short. */
    api_expect_error(&r, post_raw(dave.access, NULL, "{\"title\":\"a\\u0000b\"}", &r), 400,
                     "malformed_json");
    memset(long_title, 'x', 201);
    long_title[201] = '\0';
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/notes", dave.access, &r, "{s:s}", "title", long_title), 422);
    long_title[200] = '\0';
    ck_assert_int_eq(
        api_json(&g_srv, "POST", "/notes", dave.access, &r, "{s:s}", "title", long_title), 201);
    /* Unknown or impossible ids. */
    api_expect_error(&r, api_json(&g_srv, "GET", "/notes/999999999", dave.access, &r, NULL), 404,
                     "not_found");
    ck_assert_int_eq(status_of("GET", "/notes/abc", dave.access), 404);
    ck_assert_int_eq(status_of("GET", "/notes/0", dave.access), 404);
    ck_assert_int_eq(status_of("DELETE", "/notes/-1", dave.access), 404);
    ck_assert_int_eq(status_of("PUT", "/notes", dave.access), 405);
    titles(&dave, list, sizeof list);
    ck_assert_int_eq((long)strlen(list), 200); /* only the one valid note */
    api_resp_free(&r);
}
END_TEST

START_TEST(the_builtin_api_is_served_too)
{
    struct api_session erin;
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(&g_srv, "GET", "/healthz", NULL, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "status"), "ok");
    user("notes.erin", &erin);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/me", erin.access, &r, NULL), 200);
    ck_assert_str_eq(api_str(&r, "username"), "notes.erin");
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/auth/check?role=user", erin.access, &r, NULL),
                     204);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/auth/check?role=admin", erin.access, &r, NULL),
                     403);
    api_resp_free(&r);
}
END_TEST

static Suite *notes_suite(void)
{
    Suite *s = suite_create("e2e_notes");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, users_see_only_their_own_notes);
    tcase_add_test(tc, every_route_needs_a_token);
    tcase_add_test(tc, bad_input_gets_json_errors);
    tcase_add_test(tc, the_builtin_api_is_served_too);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(notes_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 && !g_teardown_failed ? EXIT_SUCCESS : EXIT_FAILURE;
}
