/* test_refresh.c: refresh token minting, hashing and format validation,
 * family ids, and the base64url/CSPRNG helpers they rest on (auth/encode.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "auth/encode.h"
#include "auth/refresh.h"

#define MINTS 2000

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static int b64url_only(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           strlen(s);
}

START_TEST(test_mint_shape_and_hash)
{
    char tok[AUTH_REFRESH_TOKEN_LEN + 1];
    unsigned char hash[AUTH_REFRESH_HASH_LEN], again[AUTH_REFRESH_HASH_LEN], want[32];

    ck_assert_int_eq(auth_refresh_mint(tok, hash), 0);
    ck_assert_uint_eq(strlen(tok), 43);
    ck_assert(b64url_only(tok));
    /* The stored hash is SHA-256 of the token string, and stable. */
    ck_assert_int_eq(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                (const unsigned char *)tok, 43, want),
                     0);
    ck_assert_mem_eq(hash, want, 32);
    ck_assert_int_eq(auth_refresh_hash(tok, 43, again), 0);
    ck_assert_mem_eq(hash, again, 32);
    ck_assert_int_eq(auth_refresh_hash(tok, 43, again), 0);
    ck_assert_mem_eq(hash, again, 32);
    /* One character changed, another hash. */
    tok[0] = tok[0] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(auth_refresh_hash(tok, 43, again), 0);
    ck_assert_mem_ne(hash, again, 32);
}
END_TEST

START_TEST(test_mint_unique)
{
    char(*toks)[AUTH_REFRESH_TOKEN_LEN + 1] = calloc(MINTS, sizeof(*toks));
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    int i;

    ck_assert_ptr_nonnull(toks);
    for (i = 0; i < MINTS; i++)
        ck_assert_int_eq(auth_refresh_mint(toks[i], hash), 0);
    qsort(toks, MINTS, sizeof(*toks), cmp_str);
    for (i = 1; i < MINTS; i++)
        ck_assert_str_ne(toks[i - 1], toks[i]);
    free(toks);
}
END_TEST

START_TEST(test_mint_covers_alphabet)
{
    /* 256 random bits per token: over many tokens every one of the 64
     * symbols shows up (a stuck byte or a wrong alphabet would not). */
    char tok[AUTH_REFRESH_TOKEN_LEN + 1];
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    int seen[256] = { 0 }, i, j, kinds = 0;

    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(auth_refresh_mint(tok, hash), 0);
        for (j = 0; j < 42; j++) /* the last char carries only 4 bits */
            seen[(unsigned char)tok[j]]++;
    }
    for (i = 0; i < 256; i++)
        kinds += seen[i] > 0;
    ck_assert_int_eq(kinds, 64);
    ck_assert_int_gt(seen['-'], 0);
    ck_assert_int_gt(seen['_'], 0);
}
END_TEST

START_TEST(test_hash_rejects_malformed)
{
    static const char *const bad[] = {
        "",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  /* padding */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  /* std alphabet */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
        " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3",
    };
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    char nul[43];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(auth_refresh_hash(bad[i], strlen(bad[i]), hash) == AUTH_REFRESH_MALFORMED,
                      "case %zu accepted", i);
    memset(nul, 'A', sizeof(nul));
    nul[20] = '\0';
    ck_assert_int_eq(auth_refresh_hash(nul, sizeof(nul), hash), AUTH_REFRESH_MALFORMED);
    ck_assert_int_eq(auth_refresh_hash(NULL, 43, hash), AUTH_REFRESH_MALFORMED);
    /* The well-formed twin of the cases above is accepted. */
    ck_assert_int_eq(auth_refresh_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-", 43, hash), 0);
}
END_TEST

START_TEST(test_family_id)
{
    char a[AUTH_REFRESH_FAMILY_LEN + 1], b[AUTH_REFRESH_FAMILY_LEN + 1];

    ck_assert_int_eq(auth_refresh_family_id(a), 0);
    ck_assert_int_eq(auth_refresh_family_id(b), 0);
    ck_assert_uint_eq(strlen(a), 22);
    ck_assert(b64url_only(a));
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_b64url_vectors)
{
    /* RFC 4648 §10 vectors, in the URL-safe alphabet without padding. */
    static const struct {
        const char *in, *out;
    } v[] = {
        { "", "" },
        { "f", "Zg" },
        { "fo", "Zm8" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" },
        { "\xfb\xff\xbf", "-_-_" },
    };
    char enc[32];
    unsigned char dec[32];
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].in);
        ck_assert_int_eq(auth_b64url_encode(enc, sizeof(enc), v[i].in, n), (int)strlen(v[i].out));
        ck_assert_str_eq(enc, v[i].out);
        ck_assert_uint_eq(AUTH_B64URL_LEN(n), strlen(v[i].out));
        if (n > 0) {
            ck_assert_int_eq(auth_b64url_decode(dec, sizeof(dec), enc, strlen(enc)), (long)n);
            ck_assert_mem_eq(dec, v[i].in, n);
        }
    }
    ck_assert_int_eq(auth_b64url_encode(enc, 4, "foo", 3), -1); /* no room for NUL */
}
END_TEST

START_TEST(test_b64url_decode_rejects)
{
    static const char *const bad[] = { "",     "Z",    "Zm9vY", "Zg==",   "Zm8=",
                                       "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n", "Zm.v" };
    unsigned char dec[32];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(auth_b64url_decode(dec, sizeof(dec), bad[i], strlen(bad[i])) == -1,
                      "'%s' decoded", bad[i]);
    ck_assert_int_eq(auth_b64url_decode(dec, 2, "Zm9v", 4), -1); /* too small */
    ck_assert_int_eq(auth_b64url_valid("abc-_", 5), 1);
    ck_assert_int_eq(auth_b64url_valid("abc=", 4), 0);
    ck_assert_int_eq(auth_b64url_valid("", 0), 0);
}
END_TEST

START_TEST(test_rand_bytes)
{
    unsigned char a[600], b[600]; /* > 256: getrandom may return short */

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ck_assert_int_eq(auth_rand_bytes(a, sizeof(a)), 0);
    ck_assert_int_eq(auth_rand_bytes(b, sizeof(b)), 0);
    ck_assert_mem_ne(a, b, sizeof(a));
    /* The tail is filled too. */
    ck_assert_mem_ne(a + 500, b + 500, 100);
    ck_assert_int_eq(auth_rand_bytes(a, 0), 0);
}
END_TEST

static Suite *refresh_suite(void)
{
    Suite *s = suite_create("refresh");
    TCase *tc = tcase_create("refresh");

    tcase_add_test(tc, test_mint_shape_and_hash);
    tcase_add_test(tc, test_mint_unique);
    tcase_add_test(tc, test_mint_covers_alphabet);
    tcase_add_test(tc, test_hash_rejects_malformed);
    tcase_add_test(tc, test_family_id);
    tcase_add_test(tc, test_b64url_vectors);
    tcase_add_test(tc, test_b64url_decode_rejects);
    tcase_add_test(tc, test_rand_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(refresh_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
