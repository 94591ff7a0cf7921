/* test_mfa.c: sealing a TOTP secret to its user (auth/mfa.c) and the
 * recovery codes: format, entropy per code, distinctness, tolerant
 * matching of what users type, and refusal of anything else. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/mfa.h"

static const unsigned char KEY[AUTH_SEAL_KEY_LEN] = "k0k1k2k3k4k5k6k7k8k9kAkBkCkDkEk";

START_TEST(test_secret_bound_to_user)
{
    const unsigned char secret[TOTP_SECRET_BYTES] = "12345678901234567890";
    unsigned char sealed[AUTH_MFA_SEALED_LEN], back[TOTP_SECRET_BYTES];
    ck_assert_int_eq(auth_mfa_seal(KEY, 42, secret, sealed), 0);
    ck_assert_int_eq(auth_mfa_open(KEY, 42, sealed, sizeof sealed, back), 0);
    ck_assert_mem_eq(back, secret, sizeof secret);
    /* Copied into user 43's row: refused. */
    ck_assert_int_eq(auth_mfa_open(KEY, 43, sealed, sizeof sealed, back), -1);
    ck_assert_int_eq(auth_mfa_open(KEY, 42, sealed, sizeof sealed - 1, back), -1);
}
END_TEST

START_TEST(test_recovery_codes)
{
    char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_BUF];
    unsigned char hashes[AUTH_RECOVERY_CODES][32], h[32];
    ck_assert_int_eq(auth_recovery_make(codes, hashes), 0);
    for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
        ck_assert_uint_eq(strlen(codes[i]), 14);
        ck_assert(codes[i][4] == '-' && codes[i][9] == '-');
        for (int k = 0; k < 14; k++)
            if (k != 4 && k != 9)
                ck_assert(strchr("abcdefghijklmnopqrstuvwxyz234567", codes[i][k]) != NULL);
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(codes[i], codes[j]);
            ck_assert_mem_ne(hashes[i], hashes[j], 32);
        }
        ck_assert_int_eq(auth_recovery_hash(codes[i], strlen(codes[i]), h), 0);
        ck_assert_mem_eq(h, hashes[i], 32);
    }
    /* What people type: other case, spaces, no dashes. */
    char typed[32];
    snprintf(typed, sizeof typed, " %.4s %.4s%.4s ", codes[0], codes[0] + 5, codes[0] + 10);
    for (char *p = typed; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    ck_assert_int_eq(auth_recovery_hash(typed, strlen(typed), h), 0);
    ck_assert_mem_eq(h, hashes[0], 32);
}
END_TEST

START_TEST(test_recovery_refused)
{
    unsigned char h[32];
    const char *bad[] = { "",
                          "abcd-efgh-ijk",
                          "abcd-efgh-ijklm",
                          "abcd-efgh-ijk1",
                          "abcd-efgh-ijk8",
                          "abcd_efgh_ijkl",
                          "123456" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(auth_recovery_hash(bad[i], strlen(bad[i]), h) == -1, "%s", bad[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mfa");
    TCase *tc = tcase_create("mfa");
    tcase_add_test(tc, test_secret_bound_to_user);
    tcase_add_test(tc, test_recovery_codes);
    tcase_add_test(tc, test_recovery_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
