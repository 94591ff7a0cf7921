/* test_middleware.c: the Bearer parsing of auth/middleware.c and the
 * answers auth_access_check gives before any token is verified: a missing
 * token is 401 "unauthorized" with a bare challenge, an oversize one is 401
 * "invalid_token" (RFC 6750 §3.1). Signature, expiry and account checks run
 * against the real server in e2e_auth.c and e2e_tokens.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/middleware.h"
#include "auth/token.h"

static struct http_header hdr[2];
static struct http_request req;
static char tok[64];

/* A request whose only header is "Authorization: value" (NULL: none). */
static const struct http_request *with_auth(const char *value)
{
    memset(&req, 0, sizeof req);
    req.head.headers = hdr;
    hdr[0] = (struct http_header){ STR_LIT("Host"), STR_LIT("localhost") };
    req.head.num_headers = 1;
    if (value) {
        hdr[1] = (struct http_header){ STR_LIT("Authorization"), str_make(value, strlen(value)) };
        req.head.num_headers = 2;
    }
    memset(tok, 'X', sizeof tok);
    return &req;
}

START_TEST(scheme_any_case)
{
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer abc.def.ghi"), tok, sizeof tok), 0);
    ck_assert_str_eq(tok, "abc.def.ghi");
    ck_assert_int_eq(auth_bearer_token(with_auth("bearer abc"), tok, sizeof tok), 0);
    ck_assert_str_eq(tok, "abc");
    ck_assert_int_eq(auth_bearer_token(with_auth("BEARER abc"), tok, sizeof tok), 0);
    ck_assert_str_eq(tok, "abc");
    ck_assert_int_eq(auth_bearer_token(with_auth("bEaReR abc"), tok, sizeof tok), 0);
}
END_TEST

START_TEST(spaces_before_token_skipped)
{
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer     abc"), tok, sizeof tok), 0);
    ck_assert_str_eq(tok, "abc");
    /* Inside the token nothing is trimmed: it fails verification later. */
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer a b"), tok, sizeof tok), 0);
    ck_assert_str_eq(tok, "a b");
}
END_TEST

START_TEST(missing_token)
{
    ck_assert_int_eq(auth_bearer_token(with_auth(NULL), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth(""), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer"), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer "), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer      "), tok, sizeof tok), -1);
}
END_TEST

START_TEST(other_schemes_refused)
{
    ck_assert_int_eq(auth_bearer_token(with_auth("Basic YWxhZGRpbjpvcGVu"), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearerabc"), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Bearer\tabc"), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth("Token abc"), tok, sizeof tok), -1);
    ck_assert_int_eq(auth_bearer_token(with_auth(" Bearer abc"), tok, sizeof tok), -1);
}
END_TEST

START_TEST(oversize_is_invalid_not_missing)
{
    char value[7 + sizeof tok + 1];
    memcpy(value, "Bearer ", 7);
    memset(value + 7, 'a', sizeof tok - 1); /* exactly fits with its NUL */
    value[7 + sizeof tok - 1] = '\0';
    ck_assert_int_eq(auth_bearer_token(with_auth(value), tok, sizeof tok), 0);
    ck_assert_uint_eq(strlen(tok), sizeof tok - 1);
    value[7 + sizeof tok - 1] = 'a'; /* one more */
    value[7 + sizeof tok] = '\0';
    ck_assert_int_eq(auth_bearer_token(with_auth(value), tok, sizeof tok), -2);
}
END_TEST

/* auth_access_check answers these two before it needs a token store. */
static struct http_exchange ex;

static int check(const char *authorization)
{
    memset(&ex, 0, sizeof ex);
    ex.req = *with_auth(authorization);
    buf_init(&ex.resp.headers, 4096);
    buf_init(&ex.resp.body, 4096);
    return auth_access_check(&ex, AUTH_TOKEN, NULL);
}

static int resp_has(const struct buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(buf_head(b) + i, s, n) == 0)
            return 1;
    return 0;
}

START_TEST(access_check_missing_token)
{
    ck_assert_int_ne(check("Basic abc"), 0);
    ck_assert_int_eq(ex.resp.status, 401);
    ck_assert(resp_has(&ex.resp.body, "\"error\":\"unauthorized\""));
    ck_assert(resp_has(&ex.resp.headers, "WWW-Authenticate: Bearer realm=\"portcullis\"\r\n"));
    ck_assert(!resp_has(&ex.resp.headers, "invalid_token"));
    ck_assert_ptr_null(ex.principal);
    buf_free(&ex.resp.headers);
    buf_free(&ex.resp.body);
}
END_TEST

START_TEST(access_check_oversize_token)
{
    size_t n = 7 + AUTH_TOKEN_MAX_LEN + 1;
    char *value = malloc(n + 1);
    ck_assert_ptr_nonnull(value);
    memcpy(value, "Bearer ", 7);
    memset(value + 7, 'a', n - 7);
    value[n] = '\0';
    ck_assert_int_ne(check(value), 0);
    ck_assert_int_eq(ex.resp.status, 401);
    ck_assert(resp_has(&ex.resp.body, "\"error\":\"invalid_token\""));
    ck_assert(resp_has(&ex.resp.headers, "error=\"invalid_token\""));
    ck_assert_ptr_null(ex.principal);
    buf_free(&ex.resp.headers);
    buf_free(&ex.resp.body);
    free(value);
}
END_TEST

/* The public API's rules as auth/ reads them (pc_route's access). */
START_TEST(access_rules_parsed)
{
    ck_assert_int_eq(auth_access_parse("public"), AUTH_PUBLIC);
    ck_assert_int_eq(auth_access_parse("token"), AUTH_TOKEN);
    ck_assert_int_eq(auth_access_parse("role:admin"), AUTH_ADMIN);
    ck_assert_int_eq(auth_access_parse("role:user"), AUTH_ROLE_USER);
    const char *bad[] = { "", "Token", "role:", "role:root", "role:Admin", "admin", "role:user " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(auth_access_parse(bad[i]) == -1, "'%s'", bad[i]);
}
END_TEST

static Suite *middleware_suite(void)
{
    Suite *s = suite_create("middleware");
    TCase *t = tcase_create("bearer");
    tcase_add_test(t, scheme_any_case);
    tcase_add_test(t, spaces_before_token_skipped);
    tcase_add_test(t, missing_token);
    tcase_add_test(t, other_schemes_refused);
    tcase_add_test(t, oversize_is_invalid_not_missing);
    suite_add_tcase(s, t);
    t = tcase_create("access_check");
    tcase_add_test(t, access_check_missing_token);
    tcase_add_test(t, access_check_oversize_token);
    tcase_add_test(t, access_rules_parsed);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(middleware_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
