/* test_db_mfa.c: two-factor rows (db/mfa.c): pending and enabled secrets,
 * the once-only step, recovery codes spent once, mfa tokens spent once
 * and purged, everything gone with the user or on removal. */
#include "db/mfa.h"
#include "db/users.h"
#include "support/db_fixture.h"

static int64_t mkuser(const char *name)
{
    int64_t id = 0;
    ck_assert_int_eq(db_user_create(fx_db, name, "h", "user", 1, &id), 0);
    return id;
}

static void fill(unsigned char *h, unsigned char v) { memset(h, v, DB_MFA_HASH_LEN); }

START_TEST(test_totp_lifecycle)
{
    struct db_totp t;
    int64_t u = mkuser("alice");
    int removed = 0;

    ck_assert_int_eq(db_totp_get(fx_db, u, &t), DB_NOTFOUND);
    ck_assert_int_eq(db_totp_enable(fx_db, u, 5), DB_CONFLICT); /* nothing pending */
    ck_assert_int_eq(db_totp_set_pending(fx_db, u, (const unsigned char *)"sealed-1", 8, 10), 0);
    ck_assert_int_eq(db_totp_set_pending(fx_db, u, (const unsigned char *)"sealed-2", 8, 11), 0);
    ck_assert_int_eq(db_totp_get(fx_db, u, &t), 0);
    ck_assert_int_eq(t.enabled, 0);
    ck_assert_int_eq(t.last_step, -1);
    ck_assert_mem_eq(t.secret, "sealed-2", 8);
    ck_assert_int_eq(db_totp_use_step(fx_db, u, 7), DB_CONFLICT); /* not enabled */
    ck_assert_int_eq(db_totp_enable(fx_db, u, 100), 0);
    ck_assert_int_eq(db_totp_enable(fx_db, u, 101), DB_CONFLICT);
    /* Enabled: a new setup cannot replace it. */
    ck_assert_int_eq(db_totp_set_pending(fx_db, u, (const unsigned char *)"evil", 4, 12),
                     DB_CONFLICT);
    ck_assert_int_eq(db_totp_get(fx_db, u, &t), 0);
    ck_assert_int_eq(t.enabled, 1);
    ck_assert_int_eq(t.last_step, 100);
    ck_assert_mem_eq(t.secret, "sealed-2", 8);
    /* Each step once, and never an older one. */
    ck_assert_int_eq(db_totp_use_step(fx_db, u, 100), DB_CONFLICT);
    ck_assert_int_eq(db_totp_use_step(fx_db, u, 99), DB_CONFLICT);
    ck_assert_int_eq(db_totp_use_step(fx_db, u, 101), 0);
    ck_assert_int_eq(db_totp_use_step(fx_db, u, 101), DB_CONFLICT);
    ck_assert_int_eq(db_mfa_remove(fx_db, u, &removed), 0);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(db_totp_get(fx_db, u, &t), DB_NOTFOUND);
    ck_assert_int_eq(db_mfa_remove(fx_db, u, &removed), 0);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(db_totp_set_pending(fx_db, 9999, (const unsigned char *)"x", 1, 1),
                     DB_NOTFOUND);
}
END_TEST

START_TEST(test_recovery_codes)
{
    unsigned char h[10][32], other[32];
    int64_t u = mkuser("bob"), v = mkuser("carol"), left = 0;

    for (int i = 0; i < 10; i++)
        fill(h[i], (unsigned char)(i + 1));
    fill(other, 0xee);
    ck_assert_int_eq(db_recovery_replace(fx_db, u, (const unsigned char(*)[32])h, 10), 0);
    ck_assert_int_eq(db_recovery_left(fx_db, u, &left), 0);
    ck_assert_int_eq(left, 10);
    ck_assert_int_eq(db_recovery_use(fx_db, u, h[3], 50), 0);
    ck_assert_int_eq(db_recovery_use(fx_db, u, h[3], 51), DB_NOTFOUND); /* once */
    ck_assert_int_eq(db_recovery_use(fx_db, v, h[4], 51), DB_NOTFOUND); /* not carol's */
    ck_assert_int_eq(db_recovery_use(fx_db, u, other, 51), DB_NOTFOUND);
    ck_assert_int_eq(db_recovery_left(fx_db, u, &left), 0);
    ck_assert_int_eq(left, 9);
    /* New codes replace all the old ones. */
    ck_assert_int_eq(db_recovery_replace(fx_db, u, (const unsigned char(*)[32]) & other, 1), 0);
    ck_assert_int_eq(db_recovery_use(fx_db, u, h[5], 52), DB_NOTFOUND);
    ck_assert_int_eq(db_recovery_use(fx_db, u, other, 52), 0);
}
END_TEST

START_TEST(test_mfa_tokens)
{
    unsigned char a[32], b[32];
    int64_t u = mkuser("dave"), uid = 0, epoch = 0, exp = 0;

    fill(a, 1);
    fill(b, 2);
    ck_assert_int_eq(db_mfa_token_insert(fx_db, a, u, 3, 400), 0);
    ck_assert_int_eq(db_mfa_token_insert(fx_db, b, u, 3, 100), 0);
    ck_assert_int_eq(db_mfa_token_find(fx_db, a, &uid, &epoch, &exp), 0);
    ck_assert_int_eq(uid, u);
    ck_assert_int_eq(epoch, 3);
    ck_assert_int_eq(exp, 400);
    ck_assert_int_eq(db_mfa_token_purge(fx_db, 100), 0);
    ck_assert_int_eq(db_mfa_token_find(fx_db, b, &uid, &epoch, &exp), DB_NOTFOUND);
    ck_assert_int_eq(db_mfa_token_spend(fx_db, a), 0);
    ck_assert_int_eq(db_mfa_token_spend(fx_db, a), DB_NOTFOUND);
    ck_assert_int_eq(db_mfa_token_find(fx_db, a, &uid, &epoch, &exp), DB_NOTFOUND);
    /* Gone with the user. */
    ck_assert_int_eq(db_mfa_token_insert(fx_db, a, u, 3, 400), 0);
    ck_assert_int_eq(db_user_delete(fx_db, u), 0);
    ck_assert_int_eq(db_mfa_token_find(fx_db, a, &uid, &epoch, &exp), DB_NOTFOUND);
}
END_TEST

static Suite *mfa_suite(void)
{
    Suite *s = suite_create("db_mfa");
    TCase *tc = tcase_create("mfa");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_totp_lifecycle);
    tcase_add_test(tc, test_recovery_codes);
    tcase_add_test(tc, test_mfa_tokens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(mfa_suite()); }
