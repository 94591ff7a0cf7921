/* test_db_resets.c: password-reset tokens (db/resets.c): found only while
 * unspent and unexpired, spent once, one live token per user, purged,
 * gone with the user. */
#include "db/resets.h"
#include "db/users.h"
#include "support/db_fixture.h"

static void fill(unsigned char *h, unsigned char v) { memset(h, v, DB_RESET_HASH_LEN); }

START_TEST(test_issue_find_spend)
{
    unsigned char a[32], b[32], c[32];
    int64_t u = 0, v = 0, who = 0;

    fill(a, 1);
    fill(b, 2);
    fill(c, 3);
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, &u), 0);
    ck_assert_int_eq(db_user_create(fx_db, "bob", "h", "user", 1, &v), 0);
    ck_assert_int_eq(db_reset_issue(fx_db, u, a, 100, 1900), 0);
    ck_assert_int_eq(db_reset_find(fx_db, a, 100, &who), 0);
    ck_assert_int_eq(who, u);
    ck_assert_int_eq(db_reset_find(fx_db, a, 1900, &who), DB_NOTFOUND); /* expired */
    ck_assert_int_eq(db_reset_spend(fx_db, a, 1900), DB_NOTFOUND);
    /* A new token replaces the unspent one. */
    ck_assert_int_eq(db_reset_issue(fx_db, u, b, 200, 2000), 0);
    ck_assert_int_eq(db_reset_find(fx_db, a, 200, &who), DB_NOTFOUND);
    ck_assert_int_eq(db_reset_issue(fx_db, v, c, 200, 2000), 0); /* bob's own */
    ck_assert_int_eq(db_reset_spend(fx_db, b, 300), 0);
    ck_assert_int_eq(db_reset_spend(fx_db, b, 301), DB_NOTFOUND); /* once */
    ck_assert_int_eq(db_reset_find(fx_db, b, 302, &who), DB_NOTFOUND);
    ck_assert_int_eq(db_reset_find(fx_db, c, 302, &who), 0);
    ck_assert_int_eq(who, v);
    ck_assert_int_eq(db_reset_issue(fx_db, 9999, a, 1, 2), DB_NOTFOUND);
}
END_TEST

START_TEST(test_purge_and_cascade)
{
    unsigned char a[32], b[32];
    int64_t u = 0, who = 0;

    fill(a, 1);
    fill(b, 2);
    ck_assert_int_eq(db_user_create(fx_db, "carol", "h", "user", 1, &u), 0);
    ck_assert_int_eq(db_reset_issue(fx_db, u, a, 100, 200), 0);
    ck_assert_int_eq(db_reset_purge(fx_db, 201), 0);
    ck_assert_int_eq(db_reset_issue(fx_db, u, b, 100, 5000), 0);
    ck_assert_int_eq(db_reset_purge(fx_db, 201), 0);
    ck_assert_int_eq(db_reset_find(fx_db, b, 300, &who), 0);
    ck_assert_int_eq(db_user_delete(fx_db, u), 0);
    ck_assert_int_eq(db_reset_find(fx_db, b, 300, &who), DB_NOTFOUND);
}
END_TEST

static Suite *resets_suite(void)
{
    Suite *s = suite_create("db_resets");
    TCase *tc = tcase_create("resets");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_issue_find_spend);
    tcase_add_test(tc, test_purge_and_cascade);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(resets_suite()); }
