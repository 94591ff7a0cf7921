/* test_loop.c: the event loop of server/loop.c: timers fire in deadline
 * order whatever order they were armed in, a cancelled timer never fires, a
 * re-armed one moves, a callback may re-arm its own timer, and a task posted
 * from another thread runs on the loop's thread. Nothing here asserts how
 * long anything took: only order and which callbacks ran. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/loop.h"

struct tm_rec {
    struct loop_timer t; /* first: the callback gets &t */
    int id;
    uint64_t at; /* deadline when it fired */
};

static int fired[512];
static uint64_t fired_at[512];
static int nfired;

static void on_timer(struct loop *l, struct loop_timer *t)
{
    (void)l;
    struct tm_rec *r = (struct tm_rec *)t;
    fired[nfired] = r->id;
    fired_at[nfired] = t->at_ms;
    nfired++;
}

static void on_stop_timer(struct loop *l, struct loop_timer *t)
{
    on_timer(l, t);
    loop_stop(l);
}

static struct loop *new_loop(void)
{
    struct loop *l = NULL;
    char err[256];
    ck_assert_msg(loop_create(&l, err, sizeof err) == 0, "%s", err);
    nfired = 0;
    return l;
}

static void arm(struct loop *l, struct tm_rec *r, int id, uint64_t delay, loop_timer_fn fn)
{
    r->id = id;
    r->t.fn = fn;
    ck_assert_int_eq(loop_timer_set(l, &r->t, delay), 0);
    ck_assert_uint_ne(r->t.idx, 0);
}

START_TEST(timers_fire_in_deadline_order)
{
    struct loop *l = new_loop();
    struct tm_rec r[5] = { 0 };
    /* 50 ms apart: order, not timing, is asserted, and arming takes
     * microseconds even on a loaded machine. */
    arm(l, &r[0], 40, 200, on_timer);
    arm(l, &r[1], 10, 50, on_timer);
    arm(l, &r[2], 30, 150, on_timer);
    arm(l, &r[3], 20, 100, on_timer);
    arm(l, &r[4], 99, 250, on_stop_timer);
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(nfired, 5);
    ck_assert_int_eq(fired[0], 10);
    ck_assert_int_eq(fired[1], 20);
    ck_assert_int_eq(fired[2], 30);
    ck_assert_int_eq(fired[3], 40);
    ck_assert_int_eq(fired[4], 99);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(r[i].t.idx, 0); /* fired timers are disarmed */
        if (i > 0)
            ck_assert_uint_le(fired_at[i - 1], fired_at[i]);
    }
    loop_free(l);
}
END_TEST

START_TEST(cancelled_timer_never_fires)
{
    struct loop *l = new_loop();
    struct tm_rec a = { 0 }, b = { 0 }, c = { 0 };
    arm(l, &a, 1, 5, on_timer);
    arm(l, &b, 2, 10, on_timer);
    arm(l, &c, 3, 30, on_stop_timer);
    loop_timer_cancel(l, &a.t);
    ck_assert_uint_eq(a.t.idx, 0);
    loop_timer_cancel(l, &a.t); /* twice is harmless */
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(nfired, 2);
    ck_assert_int_eq(fired[0], 2);
    ck_assert_int_eq(fired[1], 3);
    loop_free(l);
}
END_TEST

START_TEST(rearm_moves_the_deadline)
{
    struct loop *l = new_loop();
    struct tm_rec a = { 0 }, b = { 0 };
    arm(l, &a, 1, 5, on_timer);
    arm(l, &b, 2, 20, on_stop_timer);
    arm(l, &a, 1, 500, on_timer); /* now after b: b stops the loop first */
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq(fired[0], 2);
    ck_assert_uint_ne(a.t.idx, 0); /* still armed */
    loop_free(l);
}
END_TEST

static int ticks;
static void on_tick(struct loop *l, struct loop_timer *t)
{
    on_timer(l, t);
    if (++ticks == 3)
        loop_stop(l);
    else
        ck_assert_int_eq(loop_timer_set(l, t, 1), 0);
}

START_TEST(callback_rearms_itself)
{
    struct loop *l = new_loop();
    struct tm_rec a = { 0 };
    ticks = 0;
    arm(l, &a, 7, 1, on_tick);
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(ticks, 3);
    ck_assert_int_eq(nfired, 3);
    ck_assert_uint_lt(fired_at[0], fired_at[2]);
    loop_free(l);
}
END_TEST

/* Many timers armed in scrambled order: the heap hands them out by
 * non-decreasing deadline, and every one fires. */
START_TEST(heap_order_many)
{
    enum { N = 300 };
    struct loop *l = new_loop();
    struct tm_rec *r = calloc(N + 1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < N; i++)
        arm(l, &r[i], i, (uint64_t)((i * 37) % 41), on_timer);
    for (int i = 0; i < N; i += 7)
        loop_timer_cancel(l, &r[i].t);
    arm(l, &r[N], -1, 80, on_stop_timer);
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(nfired, N - (N + 6) / 7 + 1);
    for (int i = 1; i < nfired; i++)
        ck_assert_uint_le(fired_at[i - 1], fired_at[i]);
    for (int i = 0; i < nfired; i++)
        ck_assert_msg(fired[i] < 0 || fired[i] % 7 != 0, "cancelled %d fired", fired[i]);
    ck_assert_int_eq(fired[nfired - 1], -1);
    free(r);
    loop_free(l);
}
END_TEST

static pthread_t loop_thread;
static pthread_t task_thread;
static void on_task(struct loop *l, void *arg)
{
    task_thread = pthread_self();
    *(int *)arg += 1;
    loop_stop(l);
}

static void *poster(void *arg)
{
    struct loop *l = arg;
    static int count;
    ck_assert_int_eq(loop_post(l, on_task, &count), 0);
    return &count;
}

START_TEST(post_runs_on_loop_thread)
{
    struct loop *l = new_loop();
    struct tm_rec guard = { 0 };
    pthread_t th;
    void *count;
    loop_thread = pthread_self();
    /* A far timer so a lost post shows as a failure, not a hang. */
    arm(l, &guard, 0, 30000, on_stop_timer);
    ck_assert_int_eq(pthread_create(&th, NULL, poster, l), 0);
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(pthread_join(th, &count), 0);
    ck_assert_int_eq(*(int *)count, 1);
    ck_assert(pthread_equal(task_thread, loop_thread));
    ck_assert_int_eq(nfired, 0);
    loop_free(l);
}
END_TEST

static Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *t = tcase_create("timers");
    tcase_add_test(t, timers_fire_in_deadline_order);
    tcase_add_test(t, cancelled_timer_never_fires);
    tcase_add_test(t, rearm_moves_the_deadline);
    tcase_add_test(t, callback_rearms_itself);
    tcase_add_test(t, heap_order_many);
    suite_add_tcase(s, t);
    t = tcase_create("tasks");
    tcase_add_test(t, post_runs_on_loop_thread);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loop_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
