/* test_lockout.c: failed-login lockout — threshold, exponential backoff and
 * its cap, remaining time, clear, key independence, decay after quiet,
 * eviction under a flood of usernames, bad parameters, and threads. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/lockout.h"

#define T0 1700000000LL /* a plausible Unix time */

static struct auth_lockout *mk(int threshold, int base_s, int max_s, size_t entries)
{
    struct auth_lockout *lo = NULL;
    char err[128];

    ck_assert_msg(auth_lockout_new(&lo, threshold, base_s, max_s, entries, err, sizeof(err)) == 0,
                  "%s", err);
    return lo;
}

static int lo_fail(struct auth_lockout *lo, const char *key, int64_t now)
{
    return auth_lockout_fail(lo, key, strlen(key), now);
}

static int lo_check(struct auth_lockout *lo, const char *key, int64_t now)
{
    return auth_lockout_check(lo, key, strlen(key), now);
}

START_TEST(test_below_threshold_not_locked)
{
    struct auth_lockout *lo = mk(5, 30, 3600, 1000);
    int i;

    ck_assert_int_eq(lo_check(lo, "alice", T0), 0); /* never seen */
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(lo_fail(lo, "alice", T0 + i), 0);
        ck_assert_int_eq(lo_check(lo, "alice", T0 + i), 0);
    }
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_threshold_locks_base)
{
    struct auth_lockout *lo = mk(3, 30, 3600, 1000);

    ck_assert_int_eq(lo_fail(lo, "alice", T0), 0);
    ck_assert_int_eq(lo_fail(lo, "alice", T0), 0);
    ck_assert_int_eq(lo_fail(lo, "alice", T0 + 5), 30); /* 30 s from the failure */
    ck_assert_int_eq(lo_check(lo, "alice", T0 + 5), 30);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_backoff_doubles_and_caps)
{
    /* threshold 1: failure k locks for 10 * 2^(k-1), capped at 100. */
    static const int expect[] = { 10, 20, 40, 80, 100, 100, 100 };
    struct auth_lockout *lo = mk(1, 10, 100, 1000);
    int64_t now = T0;
    size_t i;

    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        ck_assert_int_eq(lo_fail(lo, "bob", now), expect[i]);
        ck_assert_int_eq(lo_check(lo, "bob", now), expect[i]);
        now += expect[i]; /* the next attempt comes as the lock ends */
        ck_assert_int_eq(lo_check(lo, "bob", now), 0);
    }
    /* Hundreds more failures stay at the cap (no overflow in the doubling). */
    for (i = 0; i < 500; i++)
        ck_assert_int_eq(lo_fail(lo, "bob", now), 100);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_max_equals_base)
{
    struct auth_lockout *lo = mk(2, 60, 60, 1000);

    ck_assert_int_eq(lo_fail(lo, "c", T0), 0);
    ck_assert_int_eq(lo_fail(lo, "c", T0), 60);
    ck_assert_int_eq(lo_fail(lo, "c", T0 + 10), 60);
    ck_assert_int_eq(lo_check(lo, "c", T0 + 69), 1);
    ck_assert_int_eq(lo_check(lo, "c", T0 + 70), 0);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_remaining_counts_down)
{
    struct auth_lockout *lo = mk(2, 30, 3600, 1000);

    lo_fail(lo, "carol", T0);
    ck_assert_int_eq(lo_fail(lo, "carol", T0), 30);
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 1), 29);
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 29), 1); /* never 0 while locked */
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 30), 0);
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 1000), 0);
    /* A clock behind the failure (another thread's, a stepped clock) never
     * reports more than the lock's length. */
    ck_assert_int_eq(lo_check(lo, "carol", T0 - 500), 30);
    /* The next failure (within max_s) is the third: twice the base. */
    ck_assert_int_eq(lo_fail(lo, "carol", T0 + 31), 60);
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 31 + 59), 1);
    ck_assert_int_eq(lo_check(lo, "carol", T0 + 31 + 60), 0);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_clear_resets)
{
    struct auth_lockout *lo = mk(2, 30, 3600, 1000);

    lo_fail(lo, "dave", T0);
    ck_assert_int_eq(lo_fail(lo, "dave", T0), 30);
    auth_lockout_clear(lo, "dave", 4);
    ck_assert_int_eq(lo_check(lo, "dave", T0), 0);
    /* Counting starts from zero again: one failure does not lock. */
    ck_assert_int_eq(lo_fail(lo, "dave", T0 + 1), 0);
    ck_assert_int_eq(lo_fail(lo, "dave", T0 + 1), 30);
    auth_lockout_clear(lo, "nobody", 6); /* unknown key: no-op */
    ck_assert_int_eq(lo_check(lo, "dave", T0 + 1), 30);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_keys_independent)
{
    struct auth_lockout *lo = mk(1, 30, 3600, 1000);

    ck_assert_int_eq(lo_fail(lo, "erin", T0), 30);
    ck_assert_int_eq(lo_check(lo, "erin", T0), 30);
    ck_assert_int_eq(lo_check(lo, "Erin", T0), 0); /* callers lower-case */
    ck_assert_int_eq(lo_check(lo, "erin ", T0), 0);
    ck_assert_int_eq(lo_check(lo, "eri", T0), 0);
    /* Binary keys with NULs, and the empty key, are keys like any other. */
    ck_assert_int_eq(auth_lockout_fail(lo, "a\0b", 3, T0), 30);
    ck_assert_int_eq(auth_lockout_check(lo, "a\0c", 3, T0), 0);
    ck_assert_int_eq(auth_lockout_check(lo, "a", 1, T0), 0);
    ck_assert_int_eq(auth_lockout_check(lo, "", 0, T0), 0);
    ck_assert_int_eq(auth_lockout_fail(lo, "", 0, T0), 30);
    ck_assert_int_eq(auth_lockout_check(lo, "", 0, T0), 30);
    /* Clearing one leaves the others. */
    auth_lockout_clear(lo, "erin", 4);
    ck_assert_int_eq(auth_lockout_check(lo, "a\0b", 3, T0), 30);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_decay_after_quiet)
{
    struct auth_lockout *lo = mk(3, 10, 100, 1000);

    /* Below the threshold: failures older than max_s are forgotten. */
    lo_fail(lo, "frank", T0);
    lo_fail(lo, "frank", T0 + 1);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 1 + 101), 0); /* quiet > max_s: count 1 */
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 103), 0);     /* 2 */
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 104), 10);    /* 3 */
    /* Exactly max_s of quiet still counts: the backoff continues. */
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 204), 20);
    /* After a lock at the cap, more than max_s of quiet starts afresh. */
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 300), 40);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 400), 80);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 500), 100);
    ck_assert_int_eq(lo_check(lo, "frank", T0 + 599), 1);
    ck_assert_int_eq(lo_check(lo, "frank", T0 + 600), 0);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 601), 0);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 601), 0);
    ck_assert_int_eq(lo_fail(lo, "frank", T0 + 601), 10);
    auth_lockout_free(lo);
}
END_TEST

/* The bound (lockout.c lock_worth): a key keeps its slot unless a new key
 * lands in its 8-slot neighbourhood while every other slot there holds a
 * lock ending no sooner than its own. Keys that are not locked themselves
 * can never evict a locked key, however many there are. */
START_TEST(test_flood_of_unlocked_keys_keeps_lock)
{
    struct auth_lockout *lo = mk(5, 60, 3600, 256);
    char key[32];
    int i, j;

    for (i = 0; i < 5; i++)
        lo_fail(lo, "victim", T0);
    ck_assert_int_eq(lo_check(lo, "victim", T0), 60);
    /* 100k distinct usernames, each failing up to threshold - 1 times, in
     * a table of 256 slots. */
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user%d", i);
        for (j = 0; j < 1 + i % 4; j++)
            ck_assert_int_eq(lo_fail(lo, key, T0 + 1), 0);
    }
    ck_assert_int_eq(lo_check(lo, "victim", T0 + 1), 59);
    /* The table still works for new keys: the last one was tracked. */
    ck_assert_int_eq(lo_fail(lo, key, T0 + 1), 60); /* key 99999 failed 4 times before */
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_flood_of_shorter_locks_keeps_longer_lock)
{
    /* threshold 1: every flooding key locks itself at once, for base_s.
     * A victim deeper into its backoff (remaining > base_s) outlasts them. */
    struct auth_lockout *lo = mk(1, 10, 3600, 256);
    char key[32];
    int i, locked = 0;

    for (i = 0; i < 4; i++)
        lo_fail(lo, "victim", T0);
    ck_assert_int_eq(lo_check(lo, "victim", T0), 80);
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user%d", i);
        ck_assert_int_eq(lo_fail(lo, key, T0 + 1), 10);
    }
    ck_assert_int_eq(lo_check(lo, "victim", T0 + 1), 79);
    /* Only 256 slots: most flooding keys were evicted by later ones. */
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user%d", i);
        locked += lo_check(lo, key, T0 + 1) > 0;
    }
    ck_assert_int_le(locked, 256);
    ck_assert_int_gt(locked, 0);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_flood_of_equal_locks_is_the_bound)
{
    /* The documented limit: once every slot of the victim's neighbourhood
     * holds a lock at least as long as its own, the victim's slot is reused
     * and its lock forgotten (for an existing account the database lock in
     * users.locked_until still holds). With threshold 1 and base = max,
     * flooding keys lock as long as the victim, one second later. */
    struct auth_lockout *lo = mk(1, 60, 60, 256);
    char key[32];
    int i;

    ck_assert_int_eq(lo_fail(lo, "victim", T0), 60);
    for (i = 0; i < 100000 && lo_check(lo, "victim", T0 + 1) > 0; i++) {
        snprintf(key, sizeof(key), "user%d", i);
        lo_fail(lo, key, T0 + 1);
    }
    ck_assert_int_eq(lo_check(lo, "victim", T0 + 1), 0);
    /* It takes at least a full neighbourhood: 7 locked keys beside the
     * victim's slot, then the one that reuses it. */
    ck_assert_int_ge(i, 8);
    auth_lockout_free(lo);
}
END_TEST

START_TEST(test_bad_params)
{
    static const int bad[][3] = {
        { 0, 30, 3600 },  { -1, 30, 3600 }, { 5, 0, 3600 },
        { 5, -30, 3600 }, { 5, 30, 29 },    { 5, 30, 0 },
    };
    struct auth_lockout *lo = (struct auth_lockout *)&lo;
    char err[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_int_eq(
            auth_lockout_new(&lo, bad[i][0], bad[i][1], bad[i][2], 100, err, sizeof(err)), -1);
        ck_assert_ptr_null(lo);
        ck_assert_msg(strstr(err, "lockout") != NULL, "case %zu: '%s'", i, err);
    }
    auth_lockout_free(NULL);
}
END_TEST

START_TEST(test_extreme_times)
{
    struct auth_lockout *lo = mk(1, 30, 3600, 256);

    /* Whatever a caller passes, no arithmetic overflows (UBSan watches). */
    ck_assert_int_eq(lo_fail(lo, "t", INT64_MAX), 30);
    ck_assert_int_eq(lo_check(lo, "t", INT64_MAX), 30);
    ck_assert_int_eq(lo_check(lo, "t", INT64_MIN), 30);
    ck_assert_int_eq(lo_fail(lo, "u", INT64_MIN), 30);
    ck_assert_int_eq(lo_check(lo, "u", INT64_MAX), 0);
    auth_lockout_free(lo);
}
END_TEST

#define THREADS 4
#define FAILS   2000

struct worker_arg {
    struct auth_lockout *lo;
    pthread_barrier_t *start;
    int id;
    int locked_returns; /* fails on "shared" that returned > 0 */
    int own_ok;         /* fails and checks on the thread's own key that said 0 */
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    char own[16];
    int i;

    snprintf(own, sizeof(own), "own-%d", a->id);
    pthread_barrier_wait(a->start);
    /* Same simulated instant for everyone. A lost update in the count
     * would leave the shared key below the threshold. */
    for (i = 0; i < FAILS; i++) {
        a->locked_returns += lo_fail(a->lo, "shared", T0) > 0;
        (void)lo_check(a->lo, "shared", T0);
        a->own_ok += lo_fail(a->lo, own, T0) == 0 && lo_check(a->lo, own, T0) == 0;
    }
    return NULL;
}

START_TEST(test_threads_count_every_failure)
{
    /* threshold = every failure of every thread: exactly the last locks. */
    struct auth_lockout *lo = mk(THREADS * FAILS, 7, 3600, 1024);
    struct worker_arg args[THREADS];
    pthread_barrier_t start;
    pthread_t th[THREADS];
    char own[16];
    int i, j, total = 0;

    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        args[i] = (struct worker_arg){ lo, &start, i, 0, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        total += args[i].locked_returns;
        ck_assert_int_eq(args[i].own_ok, FAILS);
    }
    ck_assert_int_eq(total, 1);
    ck_assert_int_eq(lo_check(lo, "shared", T0), 7);
    /* Each own key counted exactly FAILS: the threshold is that many more. */
    for (i = 0; i < THREADS; i++) {
        snprintf(own, sizeof(own), "own-%d", i);
        for (j = FAILS + 1; j < THREADS * FAILS; j++)
            ck_assert_int_eq(lo_fail(lo, own, T0), 0);
        ck_assert_int_eq(lo_fail(lo, own, T0), 7);
    }
    pthread_barrier_destroy(&start);
    auth_lockout_free(lo);
}
END_TEST

static Suite *lockout_suite(void)
{
    Suite *s = suite_create("lockout");
    TCase *tc = tcase_create("lockout");

    tcase_add_test(tc, test_below_threshold_not_locked);
    tcase_add_test(tc, test_threshold_locks_base);
    tcase_add_test(tc, test_backoff_doubles_and_caps);
    tcase_add_test(tc, test_max_equals_base);
    tcase_add_test(tc, test_remaining_counts_down);
    tcase_add_test(tc, test_clear_resets);
    tcase_add_test(tc, test_keys_independent);
    tcase_add_test(tc, test_decay_after_quiet);
    tcase_add_test(tc, test_flood_of_unlocked_keys_keeps_lock);
    tcase_add_test(tc, test_flood_of_shorter_locks_keeps_longer_lock);
    tcase_add_test(tc, test_flood_of_equal_locks_is_the_bound);
    tcase_add_test(tc, test_bad_params);
    tcase_add_test(tc, test_extreme_times);
    tcase_add_test(tc, test_threads_count_every_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lockout_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
