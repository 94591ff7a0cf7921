/* test_guard.c: the sign-in lockout (auth/guard.c) on a real database:
 * backoff lengths, locking at the threshold, decay, clear, and the same
 * treatment for any name. */
#include "auth/guard.h"
#include "support/db_fixture.h"

static const struct auth_guard G = { 3, 10, 60 };

START_TEST(test_lock_lengths)
{
    ck_assert_int_eq(auth_guard_lock_len(&G, 2), 0);
    ck_assert_int_eq(auth_guard_lock_len(&G, 3), 10);
    ck_assert_int_eq(auth_guard_lock_len(&G, 4), 20);
    ck_assert_int_eq(auth_guard_lock_len(&G, 5), 40);
    ck_assert_int_eq(auth_guard_lock_len(&G, 6), 60);
    ck_assert_int_eq(auth_guard_lock_len(&G, 1000000), 60);
}
END_TEST

START_TEST(test_locks_at_threshold_case_insensitively)
{
    int64_t n = 0, until = 0;

    ck_assert_int_eq(auth_guard_fail(&G, fx_db, "Alice", 1000), 0);
    ck_assert_int_eq(auth_guard_fail(&G, fx_db, "ALICE", 1001), 0);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "alice", 1001), 0);
    ck_assert_int_eq(auth_guard_fail(&G, fx_db, "alice", 1002), 10);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "aLiCe", 1005), 7);
    ck_assert_int_eq(auth_guard_state(&G, fx_db, "alice", 1005, &n, &until), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(until, 1012);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "alice", 1012), 0);
    /* A further failure doubles the lock. */
    ck_assert_int_eq(auth_guard_fail(&G, fx_db, "alice", 1013), 20);
    /* A clock behind the failure never lengthens it. */
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "alice", 900), 20);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "bob", 1013), 0);
    ck_assert_int_eq(auth_guard_clear(fx_db, "ALICE"), 0);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "alice", 1014), 0);
}
END_TEST

START_TEST(test_decay_after_max)
{
    int64_t n = 0, until = 0;

    for (int i = 0; i < 3; i++)
        auth_guard_fail(&G, fx_db, "", 1000);
    ck_assert_int_eq(auth_guard_check(&G, fx_db, "", 1000), 10);
    ck_assert_int_eq(auth_guard_state(&G, fx_db, "", 1061, &n, &until), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(until, 0);
    /* The next failure starts a fresh count: no lock. */
    ck_assert_int_eq(auth_guard_fail(&G, fx_db, "", 1061), 0);
    ck_assert_int_eq(auth_guard_state(&G, fx_db, "", 1061, &n, &until), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

static Suite *guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_lock_lengths);
    tcase_add_test(tc, test_locks_at_threshold_case_insensitively);
    tcase_add_test(tc, test_decay_after_max);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(guard_suite()); }
