/* test_router.c: pattern validation, matching, parameters, 404 vs 405. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/router.h"
#include "server/portcullis_int.h"

/* Handlers are only compared by address; each route gets its own arg tag. */
static int h_any(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    (void)ex;
    (void)arg;
    return 0;
}

static struct router r;
static char allow[128];

static void setup(void)
{
    router_init(&r);
    allow[0] = 'x';
    allow[1] = '\0';
}

static void teardown(void) { router_free(&r); }

static void add(const char *m, const char *p, int access)
{
    ck_assert_msg(router_add(&r, m, p, h_any, access, (void *)p) == 0, "add %s %s", m, p);
}

/* Matches and returns the status; *rt and params receive the result. */
static int match(const char *m, const char *path, const struct route **rt,
                 struct route_params *params)
{
    return router_match(&r, str_make(m, strlen(m)), str_make(path, strlen(path)), rt, params, allow,
                        sizeof(allow));
}

START_TEST(test_literal)
{
    const struct route *rt;
    struct route_params ps;

    add("GET", "/healthz", 1);
    add("POST", "/api/login", 2);
    add("GET", "/", 3);
    ck_assert_int_eq(match("GET", "/healthz", &rt, &ps), 0);
    ck_assert_str_eq(rt->pattern, "/healthz");
    ck_assert_int_eq(rt->access, 1);
    ck_assert_ptr_eq(rt->handler, h_any);
    ck_assert_str_eq(allow, "");
    ck_assert_uint_eq(ps.n, 0);
    ck_assert_int_eq(match("POST", "/api/login", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 2);
    ck_assert_str_eq((const char *)rt->arg, "/api/login");
    ck_assert_int_eq(match("GET", "/", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 3);
    ck_assert_int_eq(match("GET", "/api", &rt, &ps), 404);
    ck_assert_ptr_null(rt);
    ck_assert_int_eq(match("GET", "/api/login/x", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/healthzz", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/HEALTHZ", &rt, &ps), 404);
    ck_assert_int_eq(match("get", "/healthz", &rt, &ps), 405); /* methods are case-sensitive */
    ck_assert_int_eq(match("GET", "", &rt, &ps), 404);
    ck_assert_int_eq(match("OPTIONS", "*", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "healthz", &rt, &ps), 404);
}
END_TEST

START_TEST(test_params)
{
    const struct route *rt;
    struct route_params ps;
    const char *path = "/api/admin/users/42";

    add("PATCH", "/api/admin/users/:id", 0);
    ck_assert_int_eq(match("PATCH", path, &rt, &ps), 0);
    ck_assert_uint_eq(ps.n, 1);
    struct str id = route_param(&ps, "id");
    ck_assert_uint_eq(id.n, 2);
    ck_assert_ptr_eq(id.p, path + 17);                  /* points into the path, not a copy */
    ck_assert_ptr_eq(ps.p[0].name.p, rt->pattern + 18); /* name points into the pattern */
    ck_assert_uint_eq(ps.p[0].name.n, 2);
    ck_assert_ptr_null(route_param(&ps, "nope").p);
    ck_assert_uint_eq(route_param(&ps, "nope").n, 0);
    ck_assert_ptr_null(route_param(&ps, "i").p);
    ck_assert_ptr_null(route_param(NULL, "id").p);
    /* raw, not decoded */
    ck_assert_int_eq(match("PATCH", "/api/admin/users/a%2Fb", &rt, &ps), 0);
    ck_assert(str_eq(route_param(&ps, "id"), "a%2Fb"));
}
END_TEST

START_TEST(test_multiple_params)
{
    const struct route *rt;
    struct route_params ps;
    const char *path = "/orgs/acme/repos/door/issues/7";

    add("GET", "/orgs/:org/repos/:repo/issues/:num", 0);
    ck_assert_int_eq(match("GET", path, &rt, &ps), 0);
    ck_assert_uint_eq(ps.n, 3);
    ck_assert(str_eq(route_param(&ps, "org"), "acme"));
    ck_assert(str_eq(route_param(&ps, "repo"), "door"));
    ck_assert(str_eq(route_param(&ps, "num"), "7"));
    ck_assert_ptr_eq(route_param(&ps, "repo").p, path + 17);
    ck_assert(str_eq(ps.p[0].name, "org"));
    ck_assert(str_eq(ps.p[2].name, "num"));
    ck_assert_int_eq(match("GET", "/orgs/acme/repos/door/issues", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/orgs/acme/repo/door/issues/7", &rt, &ps), 404);
}
END_TEST

START_TEST(test_empty_segment_not_param)
{
    const struct route *rt;
    struct route_params ps;

    add("GET", "/users/:id", 0);
    add("GET", "/a/:x/b", 0);
    ck_assert_int_eq(match("GET", "/users/", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/users//", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/a//b", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "//users/1", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/a/1/b", &rt, &ps), 0);
}
END_TEST

START_TEST(test_trailing_slash)
{
    const struct route *rt;
    struct route_params ps;

    add("GET", "/api/me", 1);
    add("GET", "/docs/", 2);
    ck_assert_int_eq(match("GET", "/api/me", &rt, &ps), 0);
    ck_assert_int_eq(match("GET", "/api/me/", &rt, &ps), 404);
    ck_assert_int_eq(match("GET", "/docs/", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 2);
    ck_assert_int_eq(match("GET", "/docs", &rt, &ps), 404);
    /* "/" and "/docs/" are distinct routes from "" and "/docs" */
    add("GET", "/docs", 3);
    ck_assert_int_eq(match("GET", "/docs", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 3);
}
END_TEST

START_TEST(test_404_vs_405)
{
    const struct route *rt;
    struct route_params ps;

    add("POST", "/api/login", 0);
    ck_assert_int_eq(match("GET", "/api/login", &rt, &ps), 405);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(match("GET", "/api/nope", &rt, &ps), 404);
    ck_assert_str_eq(allow, "");

    /* sorted, de-duplicated, HEAD implied by GET, across patterns */
    add("PATCH", "/api/admin/users/:id", 0);
    add("DELETE", "/api/admin/users/:id", 0);
    add("GET", "/api/admin/users/:id", 0);
    add("GET", "/api/admin/users/me", 0);
    ck_assert_int_eq(match("PUT", "/api/admin/users/7", &rt, &ps), 405);
    ck_assert_str_eq(allow, "DELETE, GET, HEAD, PATCH");
    ck_assert_int_eq(match("POST", "/api/admin/users/me", &rt, &ps), 405);
    ck_assert_str_eq(allow, "DELETE, GET, HEAD, PATCH");

    /* allow may be NULL */
    ck_assert_int_eq(router_match(&r, STR_LIT("PUT"), STR_LIT("/api/login"), &rt, &ps, NULL, 0),
                     405);
}
END_TEST

START_TEST(test_allow_truncated)
{
    const struct route *rt;
    char small[12];

    add("POST", "/x", 0);
    add("GET", "/x", 0);
    add("DELETE", "/x", 0);
    ck_assert_int_eq(
        router_match(&r, STR_LIT("PUT"), STR_LIT("/x"), &rt, NULL, small, sizeof(small)), 405);
    ck_assert_str_eq(small, "DELETE, GET"); /* whole methods only */
    ck_assert_int_eq(router_match(&r, STR_LIT("PUT"), STR_LIT("/x"), &rt, NULL, small, 3), 405);
    ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(test_head)
{
    const struct route *rt;
    struct route_params ps;

    add("GET", "/page", 1);
    ck_assert_int_eq(match("HEAD", "/page", &rt, &ps), 0);
    ck_assert_str_eq(rt->method, "GET");
    add("HEAD", "/page", 2);
    ck_assert_int_eq(match("HEAD", "/page", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 2);
    ck_assert_int_eq(match("GET", "/page", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 1);
    /* HEAD alone does not imply GET */
    add("HEAD", "/only-head", 3);
    ck_assert_int_eq(match("GET", "/only-head", &rt, &ps), 405);
    ck_assert_str_eq(allow, "HEAD");
}
END_TEST

START_TEST(test_specific_wins)
{
    const struct route *rt;
    struct route_params ps;

    /* inserted param-first: the literal must still win */
    add("GET", "/users/:id", 1);
    add("GET", "/users/me", 2);
    add("GET", "/:a/:b/x", 3);
    add("GET", "/:a/lit/:c", 4);
    ck_assert_int_eq(match("GET", "/users/me", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 2);
    ck_assert_uint_eq(ps.n, 0);
    ck_assert_int_eq(match("GET", "/users/mex", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 1);
    /* leftmost literal decides */
    ck_assert_int_eq(match("GET", "/q/lit/x", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 4);
    /* a less specific pattern with the right method beats 405 */
    add("DELETE", "/users/:id", 5);
    ck_assert_int_eq(match("DELETE", "/users/me", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 5);
    ck_assert(str_eq(route_param(&ps, "id"), "me"));
}
END_TEST

START_TEST(test_duplicates)
{
    add("GET", "/users/:id", 0);
    ck_assert_int_eq(router_add(&r, "GET", "/users/:id", h_any, 0, NULL), -1);
    ck_assert_int_eq(router_add(&r, "GET", "/users/:name", h_any, 0, NULL), -1);
    ck_assert_int_eq(router_add(&r, "POST", "/users/:id", h_any, 0, NULL), 0);
    ck_assert_int_eq(router_add(&r, "GET", "/users/:id/", h_any, 0, NULL), 0);
    ck_assert_int_eq(router_add(&r, "GET", "/users/me", h_any, 0, NULL), 0);
    ck_assert_int_eq(router_add(&r, "GET", "/users/me", h_any, 0, NULL), -1);
    ck_assert_uint_eq(r.n, 4);
}
END_TEST

static const struct {
    const char *method, *pattern;
} bad_routes[] = {
    { "GET", "" },
    { "GET", "users" },
    { "GET", "*" },
    { "GET", "//" },
    { "GET", "/a//b" },
    { "GET", "//a" },
    { "GET", "/:" },
    { "GET", "/users/:" },
    { "GET", "/users/:/x" },
    { "GET", "/:a-b" },
    { "GET", "/:a:b" },
    { "GET", "/:id/:id" },
    { "GET", "/:a/:b/:c/:d/:e" },
    { "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17" },
    { "GET", "/a b" },
    { "GET", "/a?b" },
    { "GET", "/a#b" },
    { "GET", "/a\tb" },
    { "GET", "/\x7f" },
    { "", "/x" },
    { "G T", "/x" },
    { "GE(T", "/x" },
    { "GET\r\n", "/x" },
};

START_TEST(test_bad_patterns)
{
    ck_assert_msg(router_add(&r, bad_routes[_i].method, bad_routes[_i].pattern, h_any, 0, NULL) ==
                      -1,
                  "accepted '%s' '%s'", bad_routes[_i].method, bad_routes[_i].pattern);
    ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(test_good_patterns)
{
    add("GET", "/", 0);
    add("GET", "/a/", 0);
    add("GET", "/.well-known/jwks.json", 0);
    add("GET", "/:a/:b/:c/:d", 0);
    add("GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", 0);
    add("M-SEARCH", "/x", 0);
    add("GET", "/x:y", 0);
    add("GET", "/:User_Id2", 0);
    ck_assert_uint_eq(r.n, 8);
}
END_TEST

START_TEST(test_too_many_segments_path)
{
    const struct route *rt;
    struct route_params ps;

    add("GET", "/:a", 0);
    ck_assert_int_eq(match("GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", &rt, &ps), 404);
}
END_TEST

START_TEST(test_many_routes_and_free)
{
    char pat[32];
    const struct route *rt;
    struct route_params ps;

    for (int i = 0; i < 100; i++) {
        snprintf(pat, sizeof(pat), "/r%d/:x", i);
        add("GET", pat, i);
    }
    ck_assert_int_eq(match("GET", "/r57/v", &rt, &ps), 0);
    ck_assert_int_eq(rt->access, 57);
    router_free(&r);
    router_free(&r); /* idempotent */
    router_free(NULL);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(match("GET", "/r57/v", &rt, &ps), 404);
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_literal);
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_multiple_params);
    tcase_add_test(tc, test_empty_segment_not_param);
    tcase_add_test(tc, test_trailing_slash);
    tcase_add_test(tc, test_404_vs_405);
    tcase_add_test(tc, test_allow_truncated);
    tcase_add_test(tc, test_head);
    tcase_add_test(tc, test_specific_wins);
    tcase_add_test(tc, test_duplicates);
    tcase_add_loop_test(tc, test_bad_patterns, 0,
                        (int)(sizeof(bad_routes) / sizeof(bad_routes[0])));
    tcase_add_test(tc, test_good_patterns);
    tcase_add_test(tc, test_too_many_segments_path);
    tcase_add_test(tc, test_many_routes_and_free);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
