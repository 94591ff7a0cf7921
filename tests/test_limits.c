/* test_limits.c: token buckets — burst, Retry-After, refill over simulated
 * time, key independence, bounded table with eviction, and thread safety. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/limits.h"

static struct auth_limiter *mk(uint32_t rate, uint32_t burst, size_t entries)
{
    struct auth_limiter *lim = NULL;
    char err[128];

    ck_assert_msg(auth_limiter_new(&lim, rate, burst, entries, err, sizeof(err)) == 0, "%s", err);
    return lim;
}

static int take(struct auth_limiter *lim, const char *key, int64_t now, int *retry)
{
    return auth_limiter_take(lim, key, strlen(key), now, retry);
}

START_TEST(test_burst_then_limited)
{
    struct auth_limiter *lim = mk(10, 3, 1000); /* a token every 6 s */
    int retry = -1, i;

    for (i = 0; i < 3; i++)
        ck_assert_int_eq(take(lim, "10.0.0.1", 1000, &retry), 0);
    ck_assert_int_eq(take(lim, "10.0.0.1", 1000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 6);
    /* Refused requests cost nothing: still exactly 6 s. */
    ck_assert_int_eq(take(lim, "10.0.0.1", 1000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 6);
    ck_assert_int_eq(take(lim, "10.0.0.1", 1000, NULL), AUTH_LIMITED);
    auth_limiter_free(lim);
}
END_TEST

/* A reload's new rate and burst apply to buckets already in the table. */
START_TEST(test_set_changes_existing_buckets)
{
    struct auth_limiter *lim = mk(60, 10, 1000); /* a token a second, burst 10 */
    int retry = -1;
    ck_assert_int_eq(take(lim, "k", 1000, &retry), 0); /* 9 left */
    ck_assert_int_eq(auth_limiter_set(lim, 6, 2), 0);  /* burst 2: cut down to it */
    ck_assert_int_eq(take(lim, "k", 1000, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 1000, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 1000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 10);                       /* the new rate: a token every 10 s */
    ck_assert_int_eq(auth_limiter_set(lim, 0, 2), -1); /* out of range: unchanged */
    ck_assert_int_eq(take(lim, "k", 11000, &retry), 0);
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_refill_over_time)
{
    struct auth_limiter *lim = mk(20, 2, 1000); /* a token every 3 s */
    int retry = 0;

    ck_assert_int_eq(take(lim, "k", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 0, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 3);
    ck_assert_int_eq(take(lim, "k", 1500, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 2); /* 1.5 s rounds up */
    ck_assert_int_eq(take(lim, "k", 2999, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 1); /* never 0 */
    ck_assert_int_eq(take(lim, "k", 3000, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 3000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 3);
    /* A long pause refills to the burst, not beyond. */
    ck_assert_int_eq(take(lim, "k", 3600000, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 3600000, &retry), 0);
    ck_assert_int_eq(take(lim, "k", 3600000, &retry), AUTH_LIMITED);
    /* A clock that steps back (threads' cached times differ) grants nothing. */
    ck_assert_int_eq(take(lim, "k", 3590000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(take(lim, "k", 3603000, &retry), 0);
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_sustained_rate)
{
    /* Over ten simulated minutes at one attempt per 100 ms, exactly
     * burst + rate * minutes get through. */
    struct auth_limiter *lim = mk(20, 5, 1000);
    int allowed = 0;
    int64_t t;

    for (t = 0; t < 600000; t += 100)
        allowed += take(lim, "alice", t, NULL) == 0;
    ck_assert_int_eq(allowed, 5 + 200 - 1); /* the 200th refill lands at t = 600000 */
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_keys_independent)
{
    struct auth_limiter *lim = mk(1, 1, 1000);
    static const unsigned char ip4[4] = { 192, 0, 2, 1 }, ip4b[4] = { 192, 0, 2, 2 };
    int retry;

    ck_assert_int_eq(take(lim, "alice", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "alice", 0, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 60);
    ck_assert_int_eq(take(lim, "bob", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "alicf", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "alice ", 0, &retry), 0);
    /* Binary keys with NULs, and the empty key, are keys like any other. */
    ck_assert_int_eq(auth_limiter_take(lim, ip4, 4, 0, &retry), 0);
    ck_assert_int_eq(auth_limiter_take(lim, ip4, 4, 0, &retry), AUTH_LIMITED);
    ck_assert_int_eq(auth_limiter_take(lim, ip4b, 4, 0, &retry), 0);
    ck_assert_int_eq(auth_limiter_take(lim, "a\0b", 3, 0, &retry), 0);
    ck_assert_int_eq(auth_limiter_take(lim, "a\0c", 3, 0, &retry), 0);
    ck_assert_int_eq(auth_limiter_take(lim, "", 0, 0, &retry), 0);
    ck_assert_int_eq(auth_limiter_take(lim, "", 0, 0, &retry), AUTH_LIMITED);
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_table_full_evicts_and_keeps_hot_key)
{
    struct auth_limiter *lim = mk(1, 3, 256);
    size_t cap = auth_limiter_capacity(lim);
    char key[32];
    int retry, i, limited = 0;

    ck_assert_uint_eq(cap, 256);
    /* The attacked account is drained... */
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(take(lim, "victim", 0, &retry), 0);
    ck_assert_int_eq(take(lim, "victim", 0, &retry), AUTH_LIMITED);
    /* ...then 200x the table's size in rotating keys arrive, each leaving a
     * bucket with tokens to spare. */
    for (i = 0; i < 200 * (int)cap; i++) {
        snprintf(key, sizeof(key), "203.0.113.%d", i);
        ck_assert_int_eq(take(lim, key, 1000 + i / 1000, &retry), 0);
        if (i % 5000 == 0) /* the victim keeps trying and stays limited */
            limited += take(lim, "victim", 1000 + i / 1000, &retry) == AUTH_LIMITED;
    }
    ck_assert_uint_eq(auth_limiter_capacity(lim), cap); /* nothing grew */
    ck_assert_int_eq(limited, (200 * (int)cap + 4999) / 5000);
    ck_assert_int_eq(take(lim, "victim", 59000, &retry), AUTH_LIMITED);
    ck_assert_int_eq(retry, 1);
    ck_assert_int_eq(take(lim, "victim", 60000, &retry), 0); /* one minute: one token */
    /* The key just inserted is tracked: its bucket drains. */
    ck_assert_int_eq(take(lim, key, 60000, &retry), 0);
    ck_assert_int_eq(take(lim, key, 60000, &retry), 0);
    ck_assert_int_eq(take(lim, key, 60000, &retry), AUTH_LIMITED);
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_capacity_rounding)
{
    struct auth_limiter *lim;

    lim = mk(1, 1, 0);
    ck_assert_uint_eq(auth_limiter_capacity(lim), 256);
    auth_limiter_free(lim);
    lim = mk(1, 1, 5000);
    ck_assert_uint_eq(auth_limiter_capacity(lim), 8192);
    auth_limiter_free(lim);
    lim = mk(1, 1, (size_t)1 << 30);
    ck_assert_uint_eq(auth_limiter_capacity(lim), (size_t)1 << 20);
    auth_limiter_free(lim);
}
END_TEST

START_TEST(test_bad_params)
{
    struct auth_limiter *lim = (struct auth_limiter *)&lim;
    char err[128] = "";

    ck_assert_int_eq(auth_limiter_new(&lim, 0, 1, 100, err, sizeof(err)), -1);
    ck_assert_ptr_null(lim);
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(auth_limiter_new(&lim, 1, 0, 100, err, sizeof(err)), -1);
    ck_assert_int_eq(auth_limiter_new(&lim, 2000000, 1, 100, err, sizeof(err)), -1);
    auth_limiter_free(NULL);
}
END_TEST

#define THREADS 4
#define TAKES   20000
#define BURST   (THREADS * TAKES / 2) /* contended for the whole first half */

struct worker_arg {
    struct auth_limiter *lim;
    pthread_barrier_t *start;
    int id;
    int allowed_shared;
    int allowed_own;
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    char own[16];
    int i;

    snprintf(own, sizeof(own), "own-%d", a->id);
    pthread_barrier_wait(a->start);
    /* Same simulated instant for everyone: no refill, pure contention. A
     * lost update in the bucket would let more than BURST through. */
    for (i = 0; i < TAKES; i++)
        a->allowed_shared += take(a->lim, "shared", 42, NULL) == 0;
    for (i = 0; i < TAKES; i++)
        a->allowed_own += take(a->lim, own, 42, NULL) == 0;
    return NULL;
}

START_TEST(test_threads_never_exceed_budget)
{
    struct auth_limiter *lim = mk(60, BURST, 1024);
    struct worker_arg args[THREADS];
    pthread_barrier_t start;
    pthread_t th[THREADS];
    int i, total = 0;

    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        args[i] = (struct worker_arg){ lim, &start, i, 0, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        total += args[i].allowed_shared;
        ck_assert_int_eq(args[i].allowed_own, TAKES < BURST ? TAKES : BURST);
    }
    ck_assert_int_eq(total, BURST);
    pthread_barrier_destroy(&start);
    auth_limiter_free(lim);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");

    tcase_add_test(tc, test_burst_then_limited);
    tcase_add_test(tc, test_refill_over_time);
    tcase_add_test(tc, test_set_changes_existing_buckets);
    tcase_add_test(tc, test_sustained_rate);
    tcase_add_test(tc, test_keys_independent);
    tcase_add_test(tc, test_table_full_evicts_and_keeps_hot_key);
    tcase_add_test(tc, test_capacity_rounding);
    tcase_add_test(tc, test_bad_params);
    tcase_add_test(tc, test_threads_never_exceed_budget);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
