/* e2e_auth.c: the login backend of the real binary over TLS: registration
 * and its validation, login and its one generic failure, /api/me. Every
 * refused registration is checked to have created no user (the admin
 * list's total does not move). Sessions: e2e_session.c. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/jwt_forge.h"
#include "support/support.h"

#define PW "correct horse battery"

static struct srv g_srv;
static struct api_session g_admin;
static int g_teardown_failed;

static void shared_setup(void)
{
    if (api_start(&g_srv, "{\"limits\": {\"max_body_bytes\": 4096}}") != 0) {
        fprintf(stderr, "e2e_auth: server did not start\n");
        exit(1);
    }
    if (api_make_admin(&g_srv, "boss", "boss password 1", &g_admin) != 0) {
        fprintf(stderr, "e2e_auth: no admin\n");
        srv_stop(&g_srv, SIGKILL);
        exit(1);
    }
}

static void shared_teardown(void)
{
    /* Non-zero: the server crashed, leaked (ASan) or did not stop cleanly. */
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

static long long total(void) { return api_user_total(&g_srv, g_admin.access); }

static int post_raw(const char *path, const char *ctype, const char *body, struct api_resp *r)
{
    struct api_req q = { .method = "POST", .path = path, .content_type = ctype, .body = body };
    return api_request(&g_srv, &q, r);
}

static int reg(const char *user, const char *pw, struct api_resp *r)
{
    return api_json(&g_srv, "POST", "/api/register", NULL, r, "{s:s, s:s}", "username", user,
                    "password", pw);
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

/* ---- register ---------------------------------------------------------- */

START_TEST(register_created)
{
    struct api_resp r = { 0 };
    char v[128];
    long long before = total();
    ck_assert_int_eq(reg("Alice", PW, &r), 201);
    ck_assert_uint_eq(json_object_size(r.json), 2);
    ck_assert_int_gt(api_int(&r, "id"), 0);
    ck_assert_str_eq(api_str(&r, "username"), "Alice");
    ck_assert_int_eq(api_header(&r, "Content-Type", v, sizeof v), 0);
    ck_assert_str_eq(v, "application/json; charset=utf-8");
    ck_assert_int_eq(total(), before + 1);
    ck_assert_int_eq(login("Alice", PW, &r), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_duplicate_any_case)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(reg("Carol.X", PW, &r), 201);
    long long before = total();
    const char *dups[] = { "Carol.X", "carol.x", "CAROL.X", "cArOl.x" };
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++)
        api_expect_error(&r, reg(dups[i], "another password", &r), 409, "username_taken");
    ck_assert_int_eq(total(), before);
    /* The original password still works: nothing was overwritten. */
    ck_assert_int_eq(login("carol.x", PW, &r), 200);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_username_rules)
{
    struct api_resp r = { 0 };
    char long65[66], long64[65];
    memset(long65, 'n', 65);
    long65[65] = '\0';
    memset(long64, 'm', 64);
    long64[64] = '\0';
    /* Injection-looking strings are simply outside the alphabet. */
    const char *bad[] = { "",
                          "ab",
                          long65,
                          "has space",
                          "x'OR'1'='1",
                          "x'_OR_1=1",
                          "Robert');DROP TABLE users;--",
                          "a/b",
                          "a@b.c",
                          "tab\there",
                          "line\nbreak",
                          "\xc3\xbcser",
                          "semi;colon",
                          "quote\"d",
                          "%00abc" };
    long long before = total();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_expect_error(&r, reg(bad[i], PW, &r), 422, "invalid_username");
        ck_assert_int_eq(login(bad[i], PW, &r), 401);
    }
    ck_assert_int_eq(total(), before);
    const char *good[] = { "abc", long64, "a.b-c_d", "Z9._-" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(reg(good[i], PW, &r) == 201, "'%s' refused: %s", good[i], r.http.body);
        ck_assert_str_eq(api_str(&r, "username"), good[i]);
        ck_assert_int_eq(login(good[i], PW, &r), 200);
    }
    ck_assert_int_eq(total(), before + 4);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_password_lengths)
{
    struct api_resp r = { 0 };
    char p1024[1025], p1025[1026];
    memset(p1024, 'k', 1024);
    p1024[1024] = '\0';
    memset(p1025, 'k', 1025);
    p1025[1025] = '\0';
    long long before = total();
    api_expect_error(&r, reg("pw.short", "1234567", &r), 422, "invalid_password");
    api_expect_error(&r, reg("pw.long", p1025, &r), 422, "invalid_password");
    api_expect_error(&r, reg("pw.empty", "", &r), 422, "invalid_password");
    ck_assert_int_eq(total(), before);
    ck_assert_int_eq(login("pw.short", "1234567", &r), 401);
    ck_assert_int_eq(reg("pw.eight", "12345678", &r), 201);
    ck_assert_int_eq(reg("pw.max", p1024, &r), 201);
    /* Bytes, not characters: four two-byte characters are eight bytes. */
    ck_assert_int_eq(reg("pw.utf8", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &r), 201);
    ck_assert_int_eq(login("pw.max", p1024, &r), 200);
    ck_assert_int_eq(login("pw.utf8", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &r), 200);
    ck_assert_int_eq(total(), before + 3);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_malformed_json)
{
    static const struct {
        const char *body, *where;
    } cases[] = {
        { "{\"username\": \"mj.a\",", "line 1, column" },
        { "{\n  \"username\": \"mj.b\",\n  \"password\": oops\n}", "line 3, column" },
        { "", "line " },
        { "{\"username\":\"mj.c\",\"username\":\"mj.d\",\"password\":\"12345678\"}", "line 1" },
        { "{\"username\":\"mj.e\",\"password\":\"12345678\"} trailing", "line 1" },
        { "{'username':'mj.f','password':'12345678'}", "line 1, column" },
        { "{\"username\":\"mj.g\",\"password\":\"\xff\xfe\"}", "line 1" },
    };
    struct api_resp r = { 0 };
    long long before = total();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_expect_error(&r, post_raw("/api/register", NULL, cases[i].body, &r), 400,
                         "malformed_json");
        const char *detail = api_str(&r, "detail");
        ck_assert_msg(strstr(detail, cases[i].where) != NULL, "case %zu: detail '%s'", i, detail);
    }
    /* Valid JSON that is not an object. */
    api_expect_error(&r, post_raw("/api/register", NULL, "[]", &r), 422, "invalid_body");
    api_expect_error(&r, post_raw("/api/register", NULL, "\"mj.h\"", &r), 422, "invalid_body");
    api_expect_error(&r, post_raw("/api/register", NULL, "12345678", &r), 422, "invalid_body");
    api_expect_error(&r, post_raw("/api/register", NULL, "null", &r), 422, "invalid_body");
    ck_assert_int_eq(total(), before);
    ck_assert_int_eq(login("mj.c", "12345678", &r), 401);
    ck_assert_int_eq(login("mj.d", "12345678", &r), 401);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_content_type)
{
    static const char body[] = "{\"username\":\"ct.user\",\"password\":\"12345678\"}";
    const char *bad[] = { "text/plain",
                          "",
                          "application/jsonp",
                          "application/json-seq",
                          "application/x-www-form-urlencoded",
                          "multipart/form-data" };
    struct api_resp r = { 0 };
    long long before = total();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        api_expect_error(&r, post_raw("/api/register", bad[i], body, &r), 415,
                         "unsupported_media_type");
    ck_assert_int_eq(total(), before);
    ck_assert_int_eq(post_raw("/api/register", "Application/JSON; charset=utf-8", body, &r), 201);
    api_resp_free(&r);
}
END_TEST

START_TEST(register_missing_and_mistyped_fields)
{
    static const struct {
        const char *body;
        const char *fields;
    } cases[] = {
        { "{}", "[\"username\",\"password\"]" },
        { "{\"username\":\"mf.a\"}", "[\"password\"]" },
        { "{\"password\":\"12345678\"}", "[\"username\"]" },
        { "{\"username\":5,\"password\":\"12345678\"}", "[\"username\"]" },
        { "{\"username\":\"mf.b\",\"password\":null}", "[\"password\"]" },
        { "{\"username\":true,\"password\":[\"12345678\"]}", "[\"username\",\"password\"]" },
        { "{\"username\":{\"$ne\":1},\"password\":12345678}", "[\"username\",\"password\"]" },
    };
    struct api_resp r = { 0 };
    long long before = total();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_expect_error(&r, post_raw("/api/register", NULL, cases[i].body, &r), 422,
                         "invalid_fields");
        json_t *want = json_loads(cases[i].fields, 0, NULL);
        ck_assert_msg(json_equal(json_object_get(r.json, "fields"), want), "case %zu: %s", i,
                      r.http.body);
        json_decref(want);
    }
    ck_assert_int_eq(total(), before);
    /* Unknown members are ignored. */
    ck_assert_int_eq(
        post_raw("/api/register", NULL,
                 "{\"username\":\"mf.c\",\"password\":\"12345678\",\"role\":\"admin\"}", &r),
        201);
    ck_assert_int_eq(login("mf.c", "12345678", &r), 200);
    ck_assert_int_eq(me(api_str(&r, "access_token"), &r), 200);
    ck_assert_str_eq(api_str(&r, "role"), "user");
    api_resp_free(&r);
}
END_TEST

START_TEST(register_body_too_large)
{
    struct api_resp r = { 0 };
    static char big[5001];
    memset(big, 'b', sizeof big - 1);
    long long before = total();
    api_expect_error(&r, reg("big.user", big, &r), 413, "body_too_large");
    ck_assert_int_eq(total(), before);
    ck_assert_int_eq(login("big.user", big, &r), 413);
    ck_assert_int_eq(login("big.user", PW, &r), 401);
    /* The route accepts only POST. */
    struct api_req q = { .method = "GET", .path = "/api/register" };
    ck_assert_int_eq(api_request(&g_srv, &q, &r), 405);
    api_resp_free(&r);
}
END_TEST

/* ---- login -------------------------------------------------------------- */

START_TEST(login_returns_tokens)
{
    struct api_resp r = { 0 };
    char v[64];
    int64_t id = 0;
    ck_assert_int_eq(api_register(&g_srv, "tok.user", PW, &id), 201);
    ck_assert_int_eq(login("TOK.user", PW, &r), 200); /* names are case-insensitive */
    ck_assert_uint_eq(json_object_size(r.json), 4);
    ck_assert_str_eq(api_str(&r, "token_type"), "Bearer");
    ck_assert_int_eq(api_int(&r, "expires_in"), 900);
    const char *rt = api_str(&r, "refresh_token");
    ck_assert_uint_eq(strlen(rt), 43);
    ck_assert_uint_eq(strspn(rt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_"),
                      43);
    ck_assert_int_eq(api_header(&r, "Cache-Control", v, sizeof v), 0);
    ck_assert_str_eq(v, "no-store");
    json_t *h = forge_token_part(api_str(&r, "access_token"), 0);
    json_t *c = forge_token_part(api_str(&r, "access_token"), 1);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "ES256");
    ck_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
    ck_assert(json_is_string(json_object_get(h, "kid")));
    ck_assert_str_eq(json_string_value(json_object_get(c, "iss")), "portcullis");
    ck_assert_str_eq(json_string_value(json_object_get(c, "aud")), "portcullis-api");
    ck_assert_str_eq(json_string_value(json_object_get(c, "role")), "user");
    snprintf(v, sizeof v, "%lld", (long long)id);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), v);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")) -
                         json_integer_value(json_object_get(c, "iat")),
                     900);
    ck_assert(json_is_integer(json_object_get(c, "nbf")));
    ck_assert(json_is_string(json_object_get(c, "jti")));
    ck_assert_ptr_null(json_object_get(c, "password"));
    json_decref(h);
    json_decref(c);
    api_resp_free(&r);
}
END_TEST

START_TEST(login_failures_identical)
{
    static const struct {
        const char *user, *pw;
    } cases[] = {
        { "same.user", "wrong password" }, /* wrong password */
        { "no.such.user", PW },            /* unknown user */
        { "same.off", PW },                /* disabled, right password */
        { "bad name!", PW },               /* not even a valid name */
        { "SAME.USER", "wrong password 2" },
    };
    struct api_resp r = { 0 };
    char first_body[1024] = "", first_names[1024] = "", names[1024], path[64], v[256];
    int64_t off = 0;
    ck_assert_int_eq(api_register(&g_srv, "same.user", PW, NULL), 201);
    ck_assert_int_eq(api_register(&g_srv, "same.off", PW, &off), 201);
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)off);
    ck_assert_int_eq(api_json(&g_srv, "PATCH", path, g_admin.access, &r, "{s:b}", "disabled", 1),
                     200);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_expect_error(&r, login(cases[i].user, cases[i].pw, &r), 401, "invalid_credentials");
        ck_assert_int_eq(api_header(&r, "WWW-Authenticate", v, sizeof v), 0);
        api_header_names(&r, names, sizeof names);
        if (i == 0) {
            snprintf(first_body, sizeof first_body, "%.1000s", r.http.body);
            snprintf(first_names, sizeof first_names, "%s", names);
            continue;
        }
        ck_assert_msg(strcmp(r.http.body, first_body) == 0, "case %zu body %s vs %s", i,
                      r.http.body, first_body);
        ck_assert_msg(strcmp(names, first_names) == 0, "case %zu headers %s vs %s", i, names,
                      first_names);
    }
    ck_assert_int_eq(login("Same.User", PW, &r), 200);
    api_resp_free(&r);
}
END_TEST

/* ---- /api/me ------------------------------------------------------------ */

START_TEST(me_with_and_without_token)
{
    struct api_resp r = { 0 };
    struct api_session s;
    char v[256];
    ck_assert_int_eq(api_new_user(&g_srv, "me.user", PW, &s), 0);
    ck_assert_int_eq(me(s.access, &r), 200);
    ck_assert_int_eq(api_int(&r, "id"), s.id);
    ck_assert_str_eq(api_str(&r, "username"), "me.user");
    ck_assert_str_eq(api_str(&r, "role"), "user");
    ck_assert(json_is_false(json_object_get(r.json, "disabled")));
    ck_assert_uint_eq(strlen(api_str(&r, "created_at")), 20); /* 2026-01-02T03:04:05Z */
    ck_assert_ptr_null(json_object_get(r.json, "password_hash"));
    api_expect_error(&r, me(NULL, &r), 401, "unauthorized");
    ck_assert_int_eq(api_header(&r, "WWW-Authenticate", v, sizeof v), 0);
    ck_assert_str_eq(v, "Bearer realm=\"portcullis\"");
    /* Other schemes, an empty token, a token in the URL: all refused. */
    static const char *const hdrs[] = { "Authorization: Basic Ym9zczpib3Nz\r\n",
                                        "Authorization: Bearer\r\n", "Authorization: \r\n",
                                        "X-Access-Token: x\r\n" };
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        struct api_req q = { .method = "GET", .path = "/api/me", .headers = hdrs[i] };
        ck_assert_int_eq(api_request(&g_srv, &q, &r), 401);
        ck_assert_int_eq(api_header(&r, "WWW-Authenticate", v, sizeof v), 0);
    }
    char path[API_TOKEN_MAX + 64];
    snprintf(path, sizeof path, "/api/me?access_token=%s", s.access);
    api_expect_error(&r, api_json(&g_srv, "GET", path, NULL, &r, NULL), 401, "unauthorized");
    /* Scheme names are case-insensitive (RFC 7235). */
    char hdr[API_TOKEN_MAX + 64];
    snprintf(hdr, sizeof hdr, "Authorization: bearer %s\r\n", s.access);
    struct api_req q = { .method = "GET", .path = "/api/me", .headers = hdr };
    ck_assert_int_eq(api_request(&g_srv, &q, &r), 200);
    api_resp_free(&r);
}
END_TEST

/* Runs last in the shared case: everything above went through the log. */
START_TEST(server_log_has_no_secrets)
{
    ck_assert(srv_log_contains(&g_srv, "\"POST /api/login\" 200"));
    ck_assert(srv_log_contains(&g_srv, "\"GET /api/me\" 401"));
    ck_assert(!srv_log_contains(&g_srv, PW));
    ck_assert(!srv_log_contains(&g_srv, "boss password 1"));
    ck_assert(!srv_log_contains(&g_srv, "wrong password"));
    ck_assert(!srv_log_contains(&g_srv, g_admin.refresh));
    ck_assert(!srv_log_contains(&g_srv, g_admin.access));
    /* Not even a token a client put in the URL (me_with_and_without_token). */
    ck_assert(!srv_log_contains(&g_srv, "access_token="));
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("e2e_auth");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, register_created);
    tcase_add_test(tc, register_duplicate_any_case);
    tcase_add_test(tc, register_username_rules);
    tcase_add_test(tc, register_password_lengths);
    tcase_add_test(tc, register_malformed_json);
    tcase_add_test(tc, register_content_type);
    tcase_add_test(tc, register_missing_and_mistyped_fields);
    tcase_add_test(tc, register_body_too_large);
    tcase_add_test(tc, login_returns_tokens);
    tcase_add_test(tc, login_failures_identical);
    tcase_add_test(tc, me_with_and_without_token);
    tcase_add_test(tc, server_log_has_no_secrets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (g_teardown_failed)
        fprintf(stderr, "e2e_auth: the server did not exit cleanly (see its log above)\n");
    return failed == 0 && !g_teardown_failed ? 0 : 1;
}
