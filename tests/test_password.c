/* test_password.c: argon2id hashing, verification, rehash detection, the
 * length policy and the unknown-user dummy. Small parameters (m=1024 KiB,
 * t=1) keep it fast; one test uses the production default. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "server/clock.h"

static const struct auth_pw_params fast = { 1024, 1, 1 };

START_TEST(test_hash_and_verify)
{
    char h[AUTH_PW_HASH_MAX];

    ck_assert_int_eq(auth_pw_hash(&fast, "correct horse", 13, h, sizeof(h)), 0);
    ck_assert_ptr_nonnull(strstr(h, "$argon2id$v=19$m=1024,t=1,p=1$"));
    ck_assert_int_eq(auth_pw_verify(h, "correct horse", 13), 0);
    ck_assert_int_eq(auth_pw_verify(h, "correct horsf", 13), AUTH_PW_MISMATCH);
    ck_assert_int_eq(auth_pw_verify(h, "correct hors", 12), AUTH_PW_MISMATCH);
    ck_assert_int_eq(auth_pw_verify(h, "correct horse ", 14), AUTH_PW_MISMATCH);
}
END_TEST

START_TEST(test_salt_is_random)
{
    char a[AUTH_PW_HASH_MAX], b[AUTH_PW_HASH_MAX];

    ck_assert_int_eq(auth_pw_hash(&fast, "same password", 13, a, sizeof(a)), 0);
    ck_assert_int_eq(auth_pw_hash(&fast, "same password", 13, b, sizeof(b)), 0);
    ck_assert_str_ne(a, b);
    /* 16-byte salt = 22 unpadded base64 chars between the 4th and 5th '$'. */
    {
        const char *s = strchr(strchr(strchr(strchr(a + 1, '$') + 1, '$') + 1, '$'), '$');
        const char *e = strchr(s + 1, '$');
        ck_assert_int_eq((int)(e - s - 1), 22);
        ck_assert_uint_eq(strlen(e + 1), 43); /* 32-byte tag */
    }
}
END_TEST

START_TEST(test_default_params)
{
    char h[AUTH_PW_HASH_MAX];
    struct auth_pw_params def = AUTH_PW_DEFAULT_PARAMS;

    ck_assert_int_eq(auth_pw_hash(&def, "hunter2hunter2", 14, h, sizeof(h)), 0);
    ck_assert_ptr_nonnull(strstr(h, "$argon2id$v=19$m=19456,t=2,p=1$"));
    ck_assert_int_eq(auth_pw_verify(h, "hunter2hunter2", 14), 0);
    ck_assert_int_eq(auth_pw_needs_rehash(h, &def), 0);
}
END_TEST

START_TEST(test_any_bytes_no_truncation)
{
    /* Unicode, NUL and high bytes are all just bytes; nothing is cut off. */
    static const char uni[] = "p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91";
    char pw[AUTH_PW_MAX_LEN], h[AUTH_PW_HASH_MAX];

    ck_assert_int_eq(auth_pw_hash(&fast, uni, sizeof(uni) - 1, h, sizeof(h)), 0);
    ck_assert_int_eq(auth_pw_verify(h, uni, sizeof(uni) - 1), 0);

    memset(pw, 'a', sizeof(pw));
    pw[3] = '\0';
    ck_assert_int_eq(auth_pw_hash(&fast, pw, sizeof(pw), h, sizeof(h)), 0);
    ck_assert_int_eq(auth_pw_verify(h, pw, sizeof(pw)), 0);
    ck_assert_int_eq(auth_pw_verify(h, pw, 3), AUTH_PW_MISMATCH); /* not C-string cut */
    pw[sizeof(pw) - 1] = 'b';                                     /* last byte counts */
    ck_assert_int_eq(auth_pw_verify(h, pw, sizeof(pw)), AUTH_PW_MISMATCH);
}
END_TEST

START_TEST(test_length_policy)
{
    static char big[AUTH_PW_MAX_LEN + 2];
    char h[AUTH_PW_HASH_MAX];

    ck_assert_int_eq(auth_pw_check_length(0), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_check_length(7), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_check_length(8), 0);
    ck_assert_int_eq(auth_pw_check_length(1024), 0);
    ck_assert_int_eq(auth_pw_check_length(1025), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_check_length((size_t)1 << 32), AUTH_PW_LENGTH);
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(auth_pw_hash(&fast, big, 7, h, sizeof(h)), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_hash(&fast, big, AUTH_PW_MAX_LEN + 1, h, sizeof(h)), AUTH_PW_LENGTH);
    /* verify refuses only over-long input (a DoS guard), so a later higher
     * minimum does not lock out existing short passwords. */
    ck_assert_int_eq(auth_pw_hash(&fast, big, 8, h, sizeof(h)), 0);
    ck_assert_int_eq(auth_pw_verify(h, big, AUTH_PW_MAX_LEN + 1), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_verify(h, big, 7), AUTH_PW_MISMATCH);
    ck_assert_int_eq(auth_pw_verify(h, big, 8), 0);
}
END_TEST

START_TEST(test_bad_params_and_buffer)
{
    static const struct auth_pw_params bad[] = {
        { 1024, 0, 1 },
        { 1024, 1, 0 },
        { 7, 1, 1 },
        { 15, 1, 2 },
        { AUTH_PW_MAX_M_KIB + 1, 1, 1 },
        { 1024, AUTH_PW_MAX_T + 1, 1 },
        { 1024, 1, AUTH_PW_MAX_P + 1 },
    };
    char h[AUTH_PW_HASH_MAX], err[200];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(auth_pw_params_check(&bad[i], err, sizeof(err)), AUTH_PW_ERROR);
        ck_assert_int_eq(auth_pw_hash(&bad[i], "password", 8, h, sizeof(h)), AUTH_PW_ERROR);
    }
    ck_assert_int_eq(auth_pw_params_check(&fast, err, sizeof(err)), 0);
    ck_assert_int_eq(auth_pw_hash(&fast, "password", 8, h, 40), AUTH_PW_ERROR);
}
END_TEST

START_TEST(test_needs_rehash)
{
    char h[AUTH_PW_HASH_MAX];
    struct auth_pw_params p = fast;

    ck_assert_int_eq(auth_pw_hash(&fast, "password1", 9, h, sizeof(h)), 0);
    ck_assert_int_eq(auth_pw_needs_rehash(h, &fast), 0);
    p.m_kib = 2048;
    ck_assert_int_eq(auth_pw_needs_rehash(h, &p), 1);
    p = fast;
    p.t = 2;
    ck_assert_int_eq(auth_pw_needs_rehash(h, &p), 1);
    p = fast;
    p.p = 2;
    ck_assert_int_eq(auth_pw_needs_rehash(h, &p), 1);
    /* An older argon2 version with the same costs still needs a rehash. */
    ck_assert_int_eq(auth_pw_needs_rehash("$argon2id$v=16$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                          "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8",
                                          &fast),
                     1);
    ck_assert_int_eq(auth_pw_needs_rehash("garbage", &fast), AUTH_PW_ERROR);
    /* Our own parser is strict too (strtoul alone would take these). */
    ck_assert_int_eq(auth_pw_needs_rehash("$argon2id$v=19$m=01024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                          "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8",
                                          &fast),
                     AUTH_PW_ERROR);
    ck_assert_int_eq(auth_pw_needs_rehash("$argon2id$v=19$m=+1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                          "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8",
                                          &fast),
                     AUTH_PW_ERROR);
    ck_assert_int_eq(auth_pw_needs_rehash(h, NULL), AUTH_PW_ERROR);
}
END_TEST

START_TEST(test_malformed_hashes)
{
    static const char *const bad[] = {
        "",
        "$",
        "$argon2id$",
        "garbage",
        "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=18$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=+1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m= 1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=-1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=01024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$t=1,m=1024,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=4294967296,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=2000000,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=100,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=64$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA$",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA=",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNh*HRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA", /* salt < 8 bytes */
        " $argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    };
    size_t i;

    /* The well-formed template of the cases below is only a mismatch. */
    ck_assert_int_eq(auth_pw_verify("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$"
                                    "aGFzaGhhc2hoYXNoaGFzaA",
                                    "password", 8),
                     AUTH_PW_MISMATCH);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(auth_pw_verify(bad[i], "password", 8) == AUTH_PW_ERROR,
                      "hash %zu accepted: %s", i, bad[i]);
    ck_assert_int_eq(auth_pw_verify(NULL, "password", 8), AUTH_PW_ERROR);
}
END_TEST

START_TEST(test_dummy_verify)
{
    ck_assert_int_eq(auth_pw_dummy_verify(&fast, "password", 8), AUTH_PW_MISMATCH);
    ck_assert_int_eq(auth_pw_dummy_verify(&fast, "", 0), AUTH_PW_MISMATCH);
    ck_assert_int_eq(auth_pw_dummy_verify(&fast, "x", AUTH_PW_MAX_LEN + 1), AUTH_PW_LENGTH);
    ck_assert_int_eq(auth_pw_dummy_verify(NULL, "password", 8), AUTH_PW_ERROR);
}
END_TEST

static double seconds(void) { return (double)clock_mono_us() / 1e6; }

START_TEST(test_dummy_costs_like_real)
{
    /* The dummy must use the same parameters as a real hash, or an unknown
     * user answers measurably faster. Costs scale with m: compare a real
     * verify and a dummy one at m=8192 (after the lazy creation). */
    const struct auth_pw_params p = { 8192, 1, 1 };
    char h[AUTH_PW_HASH_MAX];
    double t0, real = 1e9, dummy = 1e9, d;
    int i;

    ck_assert_int_eq(auth_pw_hash(&p, "password", 8, h, sizeof(h)), 0);
    ck_assert_int_eq(auth_pw_dummy_verify(&p, "password", 8), AUTH_PW_MISMATCH);
    for (i = 0; i < 5; i++) {
        t0 = seconds();
        ck_assert_int_eq(auth_pw_verify(h, "passworx", 8), AUTH_PW_MISMATCH);
        d = seconds() - t0;
        real = d < real ? d : real;
        t0 = seconds();
        ck_assert_int_eq(auth_pw_dummy_verify(&p, "passworx", 8), AUTH_PW_MISMATCH);
        d = seconds() - t0;
        dummy = d < dummy ? d : dummy;
    }
    ck_assert_msg(dummy > real / 3 && dummy < real * 3, "real %.4fs dummy %.4fs", real, dummy);
}
END_TEST

static void *dummy_thread(void *arg)
{
    const struct auth_pw_params *p = arg;
    intptr_t bad = 0;
    int i;

    for (i = 0; i < 4; i++)
        bad += auth_pw_dummy_verify(p, "password", 8) != AUTH_PW_MISMATCH;
    return (void *)bad;
}

START_TEST(test_dummy_threads_and_param_change)
{
    static const struct auth_pw_params p2 = { 2048, 1, 1 };
    pthread_t th[4];
    void *bad;
    int i;

    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, dummy_thread, (void *)(i % 2 ? &fast : &p2)),
                         0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], &bad), 0);
        ck_assert_ptr_null(bad);
    }
}
END_TEST

START_TEST(test_strerror)
{
    ck_assert_str_eq(auth_pw_strerror(0), "ok");
    ck_assert_str_ne(auth_pw_strerror(AUTH_PW_MISMATCH), auth_pw_strerror(AUTH_PW_ERROR));
    ck_assert_str_ne(auth_pw_strerror(AUTH_PW_LENGTH), auth_pw_strerror(-99));
}
END_TEST

static Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("password");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_hash_and_verify);
    tcase_add_test(tc, test_salt_is_random);
    tcase_add_test(tc, test_default_params);
    tcase_add_test(tc, test_any_bytes_no_truncation);
    tcase_add_test(tc, test_length_policy);
    tcase_add_test(tc, test_bad_params_and_buffer);
    tcase_add_test(tc, test_needs_rehash);
    tcase_add_test(tc, test_malformed_hashes);
    tcase_add_test(tc, test_dummy_verify);
    tcase_add_test(tc, test_dummy_costs_like_real);
    tcase_add_test(tc, test_dummy_threads_and_param_change);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(password_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
