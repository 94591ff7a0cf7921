/* test_seal.c: AES-256-GCM sealing of secrets at rest (auth/seal.c): round
 * trip, fresh nonces, tampering, wrong AAD, wrong key; and the key file
 * (created 0600, reloaded the same, refused when readable by others or of
 * the wrong size). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/seal.h"

static const unsigned char K1[AUTH_SEAL_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char K2[AUTH_SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdX";
static const unsigned char SECRET[20] = "12345678901234567890";

START_TEST(test_round_trip_and_fresh_nonce)
{
    unsigned char a[20 + AUTH_SEAL_OVERHEAD], b[sizeof a], pt[20];
    ck_assert_int_eq(auth_seal(K1, "user:1", 6, SECRET, 20, a), 0);
    ck_assert_int_eq(auth_seal(K1, "user:1", 6, SECRET, 20, b), 0);
    ck_assert_mem_ne(a, b, sizeof a); /* a new nonce each time */
    ck_assert_mem_ne(a + AUTH_SEAL_NONCE_LEN, SECRET, 20);
    ck_assert_int_eq(auth_unseal(K1, "user:1", 6, a, sizeof a, pt), 0);
    ck_assert_mem_eq(pt, SECRET, 20);
    ck_assert_int_eq(auth_unseal(K1, "user:1", 6, b, sizeof b, pt), 0);
    ck_assert_mem_eq(pt, SECRET, 20);
}
END_TEST

START_TEST(test_tamper_refused)
{
    unsigned char a[20 + AUTH_SEAL_OVERHEAD], pt[20];
    ck_assert_int_eq(auth_seal(K1, "user:1", 6, SECRET, 20, a), 0);
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] ^= 0x01;
        memset(pt, 0x55, sizeof pt);
        ck_assert_int_eq(auth_unseal(K1, "user:1", 6, a, sizeof a, pt), -1);
        ck_assert_mem_ne(pt, SECRET, 20);
        a[i] ^= 0x01;
    }
    ck_assert_int_eq(auth_unseal(K1, "user:1", 6, a, sizeof a - 1, pt), -1); /* truncated */
    ck_assert_int_eq(auth_unseal(K1, "user:1", 6, a, AUTH_SEAL_OVERHEAD - 1, pt), -1);
}
END_TEST

START_TEST(test_wrong_aad_or_key_refused)
{
    unsigned char a[20 + AUTH_SEAL_OVERHEAD], pt[20];
    ck_assert_int_eq(auth_seal(K1, "user:1", 6, SECRET, 20, a), 0);
    /* A secret copied to another user's row does not open there. */
    ck_assert_int_eq(auth_unseal(K1, "user:2", 6, a, sizeof a, pt), -1);
    ck_assert_int_eq(auth_unseal(K1, "user:1", 5, a, sizeof a, pt), -1);
    ck_assert_int_eq(auth_unseal(K2, "user:1", 6, a, sizeof a, pt), -1);
    ck_assert_int_eq(auth_unseal(K1, "user:1", 6, a, sizeof a, pt), 0);
}
END_TEST

START_TEST(test_key_file)
{
    char dir[] = "/tmp/pc-seal-XXXXXX", path[128], err[256] = "";
    unsigned char k[AUTH_SEAL_KEY_LEN], again[AUTH_SEAL_KEY_LEN];
    struct stat st;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub/totp.key", dir);
    ck_assert_msg(auth_seal_key_load(k, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, AUTH_SEAL_KEY_LEN);
    ck_assert_int_eq(auth_seal_key_load(again, path, err, sizeof err), 0);
    ck_assert_mem_eq(k, again, sizeof k);
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(auth_seal_key_load(again, path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "group/others"));
    ck_assert_int_eq(chmod(path, 0600), 0);
    /* A key owned by another (non-root) user is refused; only root can
     * make one to try. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(auth_seal_key_load(again, path, err, sizeof err), -1);
        ck_assert_ptr_nonnull(strstr(err, "owned by uid 65534"));
        ck_assert_int_eq(chown(path, 0, 0), 0);
    }
    ck_assert_int_eq(truncate(path, 31), 0);
    ck_assert_int_eq(auth_seal_key_load(again, path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "32-byte"));
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");
    tcase_add_test(tc, test_round_trip_and_fresh_nonce);
    tcase_add_test(tc, test_tamper_refused);
    tcase_add_test(tc, test_wrong_aad_or_key_refused);
    tcase_add_test(tc, test_key_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
