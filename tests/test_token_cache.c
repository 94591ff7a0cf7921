/* test_token_cache.c: the per-loop verdict cache never answers for a token it
 * did not verify, nor after the token expired. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "auth/token_cache.h"

static const char secret[] = "0123456789abcdef0123456789abcdef-cache-test";
static const struct auth_token_opts opts = { "portcullis", "portcullis-api", 900, 30 };

static struct auth_tokens *load(void)
{
    struct auth_tokens *t = NULL;
    char err[256];
    ck_assert_msg(auth_tokens_load_hs256(&t, &opts, secret, strlen(secret), err, sizeof err) == 0,
                  "%s", err);
    return t;
}

START_TEST(hit_returns_the_verified_claims)
{
    struct auth_tokens *t = load();
    struct auth_token_cache *c = auth_token_cache_new(64);
    struct auth_claims a, b;
    char *tok = NULL;
    ck_assert_int_eq(auth_token_issue(t, 42, "admin", 7, 1000, &tok), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &a), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1001, 30, &b), 0);
    ck_assert_int_eq(b.user_id, 42);
    ck_assert_int_eq(b.epoch, 7);
    ck_assert_str_eq(b.role, "admin");
    ck_assert_mem_eq(&a, &b, sizeof a);
    free(tok);
    auth_token_cache_free(c);
    auth_tokens_free(t);
}
END_TEST

START_TEST(expired_token_not_served_from_cache)
{
    struct auth_tokens *t = load();
    struct auth_token_cache *c = auth_token_cache_new(64);
    struct auth_claims cl;
    char *tok = NULL;
    ck_assert_int_eq(auth_token_issue(t, 1, "user", 0, 1000, &tok), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
    /* exp = 1900: still good within the leeway, refused after it. */
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1929, 30, &cl), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1930, 30, &cl), AUTH_TOKEN_EXPIRED);
    free(tok);
    auth_token_cache_free(c);
    auth_tokens_free(t);
}
END_TEST

START_TEST(altered_token_is_verified_afresh)
{
    struct auth_tokens *t = load();
    struct auth_token_cache *c = auth_token_cache_new(16);
    struct auth_claims cl;
    char *tok = NULL;
    ck_assert_int_eq(auth_token_issue(t, 5, "user", 0, 1000, &tok), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
    size_t n = strlen(tok);
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A'; /* signature changed */
    ck_assert_int_ne(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
    ck_assert_int_ne(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0); /* not cached */
    ck_assert_int_ne(auth_token_cache_verify(c, t, "garbage", 1000, 30, &cl), 0);
    free(tok);
    /* Same signature (same slot), different payload byte: not a hit. */
    ck_assert_int_eq(auth_token_issue(t, 6, "user", 0, 1000, &tok), 0);
    ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
    char *dot = strchr(tok, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    ck_assert_int_ne(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
    free(tok);
    auth_token_cache_free(c);
    auth_tokens_free(t);
}
END_TEST

START_TEST(many_tokens_share_a_small_table)
{
    struct auth_tokens *t = load();
    struct auth_token_cache *c = auth_token_cache_new(16);
    struct auth_claims cl;
    for (int i = 1; i <= 200; i++) {
        char *tok = NULL;
        ck_assert_int_eq(auth_token_issue(t, i, "user", 0, 1000, &tok), 0);
        ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
        ck_assert_int_eq(auth_token_cache_verify(c, t, tok, 1000, 30, &cl), 0);
        ck_assert_int_eq(cl.user_id, i);
        free(tok);
    }
    auth_token_cache_free(c);
    auth_tokens_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("token_cache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, hit_returns_the_verified_claims);
    tcase_add_test(tc, expired_token_not_served_from_cache);
    tcase_add_test(tc, altered_token_is_verified_afresh);
    tcase_add_test(tc, many_tokens_share_a_small_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
