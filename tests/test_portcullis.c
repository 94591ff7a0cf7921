/* test_portcullis.c: the request half of the public API
 * (server/portcullis.h) on hand-made exchanges: routes and their access
 * rules, path and query parameters decoded, the JSON body's errors, the
 * user, answers with and without a body, pc_defer without a pool. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/portcullis_int.h"

static struct http_exchange ex;
static struct http_header hdrs[4];
static struct pc_server srv;

static struct pc_req *req(void) { return pc_req_of(&ex); }

static int h_none(struct pc_req *r, void *arg)
{
    (void)r;
    (void)arg;
    return PC_DONE;
}

/* token -> 1, role:x -> 2; anything else is not a rule. */
static int parse_rule(const char *rule)
{
    return strcmp(rule, "token") == 0 ? 1 : strcmp(rule, "role:x") == 0 ? 2 : -1;
}

static void setup(void)
{
    memset(&ex, 0, sizeof ex);
    memset(&srv, 0, sizeof srv);
    buf_init(&ex.resp.headers, 4096);
    buf_init(&ex.resp.body, 4096);
    ex.req.head.headers = hdrs;
    router_init(&srv.router);
}

static void teardown(void)
{
    buf_free(&ex.resp.headers);
    buf_free(&ex.resp.body);
    router_free(&srv.router);
}

/* Matches path against the routes, filling ex's parameters. */
static void match(const char *method, const char *path)
{
    const struct route *rt;
    char allow[64];
    ck_assert_int_eq(router_match(&srv.router, str_make(method, strlen(method)),
                                  str_make(path, strlen(path)), &rt, &ex.req.params, allow,
                                  sizeof allow),
                     0);
}

static void set_body(const char *content_type, const char *body)
{
    ex.req.head.num_headers = 0;
    if (content_type != NULL) {
        hdrs[0].name = STR_LIT("Content-Type");
        hdrs[0].value = str_make(content_type, strlen(content_type));
        ex.req.head.num_headers = 1;
    }
    ex.req.body = str_make(body, strlen(body));
}

/* The answer's "error" member ("" when none). */
static const char *answer_error(char *out, size_t outlen)
{
    json_t *o = json_loadb(ex.resp.body.data ? buf_head(&ex.resp.body) : "", ex.resp.body.len, 0,
                           NULL);
    snprintf(out, outlen, "%s", o ? json_string_value(json_object_get(o, "error")) : "");
    json_decref(o);
    return out;
}

START_TEST(routes_take_the_access_rules)
{
    ck_assert_int_eq(pc_api_version(), PORTCULLIS_API_VERSION);
    ck_assert_int_eq(pc_route(&srv, "GET", "/open", "public", h_none, NULL), 0);
    /* Without a layer that checks tokens, only public routes exist. */
    ck_assert_int_eq(pc_route(&srv, "GET", "/a", "token", h_none, NULL), -1);
    srv.access_parse = parse_rule;
    ck_assert_int_eq(pc_route(&srv, "GET", "/a", "token", h_none, NULL), 0);
    ck_assert_int_eq(pc_route(&srv, "GET", "/b/:id", "role:x", h_none, NULL), 0);
    ck_assert_int_eq(pc_route(&srv, "GET", "/c", "role:y", h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "GET", "/c", "", h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "GET", "/c", NULL, h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "GET", "/c", "public", NULL, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, NULL, "/c", "public", h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "GET", NULL, "public", h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "GET", "/a", "public", h_none, NULL), -1); /* twice */
    ck_assert_int_eq(pc_route(&srv, "GET", "no-slash", "public", h_none, NULL), -1);
    ck_assert_int_eq(pc_route(&srv, "G T", "/d", "public", h_none, NULL), -1);
    ck_assert_int_eq((int)srv.router.n, 3);
    ck_assert_int_eq(srv.router.routes[0].access, 0);
    ck_assert_int_eq(srv.router.routes[1].access, 1);
    ck_assert_int_eq(srv.router.routes[2].access, 2);
}
END_TEST

START_TEST(path_parameters_decoded)
{
    char out[16];
    long long id = 0;
    ck_assert_int_eq(pc_route(&srv, "GET", "/n/:id/:name", "public", h_none, NULL), 0);
    match("GET", "/n/42/a%20b%2Fc");
    ck_assert_int_eq(pc_param(req(), "name", out, sizeof out), 5);
    ck_assert_str_eq(out, "a b/c");
    ck_assert_int_eq(pc_param(req(), "nope", out, sizeof out), -1);
    ck_assert_int_eq(pc_param(req(), "name", out, 5), -2); /* does not fit */
    ck_assert_int_eq(pc_param_id(req(), "id", &id), 0);
    ck_assert_int_eq(id, 42);
    ck_assert_int_eq(pc_param_id(req(), "name", &id), -1);
    const char *bad_ids[] = { "/n/0/x",
                              "/n/-1/x",
                              "/n/+1/x",
                              "/n/007/x",
                              "/n/1e3/x",
                              "/n/9223372036854775808/x",
                              "/n/12345678901234567890123/x" };
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        match("GET", bad_ids[i]);
        ck_assert_msg(pc_param_id(req(), "id", &id) == -1, "%s", bad_ids[i]);
    }
    match("GET", "/n/9223372036854775807/%zz");
    ck_assert_int_eq(pc_param_id(req(), "id", &id), 0);
    ck_assert_int_eq(pc_param(req(), "name", out, sizeof out), -2); /* malformed */
    match("GET", "/n/1/a%00b");
    ck_assert_int_eq(pc_param(req(), "name", out, sizeof out), -2); /* NUL */
    match("GET", "/n/1/a+b");
    ck_assert_int_eq(pc_param(req(), "name", out, sizeof out), 3); /* '+' is itself in a path */
    ck_assert_str_eq(out, "a+b");
}
END_TEST

START_TEST(query_parameters_decoded)
{
    char out[16];
    ex.req.head.query = STR_LIT("a=1&title=x%20y+z&flag&e=&bad=%4&long=0123456789abcdef&a=2");
    ck_assert_int_eq(pc_query(req(), "a", out, sizeof out), 1);
    ck_assert_str_eq(out, "1"); /* the first wins */
    ck_assert_int_eq(pc_query(req(), "title", out, sizeof out), 5);
    ck_assert_str_eq(out, "x y z");
    ck_assert_int_eq(pc_query(req(), "flag", out, sizeof out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(pc_query(req(), "e", out, sizeof out), 0);
    ck_assert_int_eq(pc_query(req(), "bad", out, sizeof out), -2);
    ck_assert_int_eq(pc_query(req(), "long", out, sizeof out), -2);
    ck_assert_int_eq(pc_query(req(), "tit", out, sizeof out), -1); /* a prefix is not a name */
    ck_assert_int_eq(pc_query(req(), "missing", out, sizeof out), -1);
    ex.req.head.query = str_make(NULL, 0);
    ck_assert_int_eq(pc_query(req(), "a", out, sizeof out), -1);
}
END_TEST

START_TEST(json_body_errors_are_answered)
{
    char err[64];
    set_body("application/json; charset=utf-8", "{\"title\": \"t\"}");
    json_t *o = pc_body_json(req());
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "title")), "t");
    json_decref(o);
    ck_assert_int_eq(ex.resp.status, 0);
    const struct {
        const char *ct, *body;
        int status;
        const char *error;
    } cases[] = {
        { NULL, "{}", 415, "unsupported_media_type" },
        { "text/plain", "{}", 415, "unsupported_media_type" },
        { "application/json", "", 400, "malformed_json" },
        { "application/json", "{\"a\":", 400, "malformed_json" },
        { "application/json", "{\"a\":1,\"a\":2}", 400, "malformed_json" },
        { "application/json", "[]", 422, "invalid_body" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ex.resp.status = 0;
        set_body(cases[i].ct, cases[i].body);
        ck_assert_ptr_null(pc_body_json(req()));
        ck_assert_int_eq(ex.resp.status, cases[i].status);
        ck_assert_str_eq(answer_error(err, sizeof err), cases[i].error);
    }
}
END_TEST

START_TEST(user_only_when_checked)
{
    struct pc_user u;
    ck_assert_int_eq(pc_user(req(), &u), -1);
    ex.user_id = 7;
    ex.user_name = "alice";
    ex.user_role = "user";
    ck_assert_int_eq(pc_user(req(), &u), 0);
    ck_assert_int_eq(u.id, 7);
    ck_assert_str_eq(u.username, "alice");
    ck_assert_str_eq(u.role, "user");
}
END_TEST

START_TEST(answers)
{
    char err[64], val[32];
    ck_assert_int_eq(pc_json(req(), 201, json_pack("{s:i}", "id", 1)), 0);
    ck_assert_int_eq(ex.resp.status, 201);
    ck_assert_int_eq(ex.resp.kind, HTTP_CONTENT_JSON);
    ck_assert_int_eq(pc_json(req(), 204, NULL), 0);
    ck_assert_int_eq(ex.resp.status, 204);
    ck_assert_int_eq((int)ex.resp.body.len, 0);
    ck_assert_ptr_null(ex.resp.content_type);
    ck_assert_int_eq(pc_error(req(), 404, "not_found", "no such note"), 0);
    ck_assert_str_eq(answer_error(err, sizeof err), "not_found");
    ck_assert_int_eq(pc_header(req(), "X-Thing", "1"), 0);
    ck_assert_int_eq(pc_header(req(), "X-Split", "a\r\nSet-Cookie: b"), -1);
    ck_assert_int_eq(pc_header(req(), "Bad Name", "1"), -1);
    /* The framing is the server's alone. */
    ck_assert_int_eq(pc_header(req(), "Content-Length", "0"), -1);
    ck_assert_int_eq(pc_header(req(), "transfer-encoding", "chunked"), -1);
    ck_assert_int_eq(pc_header(req(), "CONNECTION", "close"), -1);
    ck_assert_ptr_null(memmem(buf_head(&ex.resp.headers), ex.resp.headers.len, "chunked", 7));
    set_body("application/json", "");
    ck_assert_int_eq(pc_header_get(req(), "content-type", val, sizeof val), 16);
    ck_assert_str_eq(val, "application/json");
    ck_assert_int_eq(pc_header_get(req(), "content-type", val, 8), -2);
    ck_assert_int_eq(pc_header_get(req(), "X-None", val, sizeof val), -1);
    snprintf(ex.request_id, sizeof ex.request_id, "abc");
    ck_assert_str_eq(pc_request_id(req()), "abc");
}
END_TEST

static void never(void *arg) { ck_abort_msg("work ran (%p)", arg); }
static void never_done(struct pc_req *r, void *arg)
{
    (void)r;
    ck_abort_msg("done ran (%p)", arg);
}

START_TEST(defer_without_a_pool_is_503)
{
    char err[64];
    ck_assert_int_eq(pc_defer(req(), never, never_done, NULL), PC_DONE);
    ck_assert_int_eq(ex.resp.status, 503);
    ck_assert_str_eq(answer_error(err, sizeof err), "busy");
    ck_assert_ptr_nonnull(
        memmem(buf_head(&ex.resp.headers), ex.resp.headers.len, "Retry-After: 1", 14));
}
END_TEST

/* One job per request: while one is pending (queued, or its done running),
 * another pc_defer is refused (its functions never run) and the request's
 * answer becomes a 500. */
START_TEST(defer_while_a_job_is_pending_is_refused)
{
    char err[64];
    ex.job_pending = true;
    ck_assert_int_lt(pc_defer(req(), never, never_done, NULL), 0);
    ck_assert_int_eq(ex.resp.status, 500);
    ck_assert_str_eq(answer_error(err, sizeof err), "internal");
    ck_assert(ex.job_refused);
    ck_assert(ex.job_pending);
}
END_TEST

static Suite *portcullis_suite(void)
{
    Suite *s = suite_create("portcullis");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, routes_take_the_access_rules);
    tcase_add_test(tc, path_parameters_decoded);
    tcase_add_test(tc, query_parameters_decoded);
    tcase_add_test(tc, json_body_errors_are_answered);
    tcase_add_test(tc, user_only_when_checked);
    tcase_add_test(tc, answers);
    tcase_add_test(tc, defer_without_a_pool_is_503);
    tcase_add_test(tc, defer_while_a_job_is_pending_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(portcullis_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
