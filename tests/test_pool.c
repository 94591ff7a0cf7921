/* test_pool.c: the job pool of server/pool.c with a real event loop: work
 * runs on a pool thread with that thread's context, the result comes back
 * through done() on the loop that submitted the job (its own thread), a full
 * queue is refused at once (the server's 503), and pool_free finishes the
 * queued jobs and still posts their completions. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/loop.h"
#include "server/pool.h"

struct job {
    int in, out;
    pthread_t work_thread, done_thread;
    void *thread_ctx;
    struct loop *done_loop;
};

static int ctx_token; /* the thread context the init hook hands out */
static int fini_calls;
static int done_count, done_want;

static void *init_ok(void *arg, char *err, size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    return &ctx_token;
}

static void fini_count(void *thread_ctx, void *arg)
{
    (void)arg;
    ck_assert_ptr_eq(thread_ctx, &ctx_token);
    __atomic_add_fetch(&fini_calls, 1, __ATOMIC_SEQ_CST);
}

static void work_square(void *thread_ctx, void *arg)
{
    struct job *j = arg;
    j->thread_ctx = thread_ctx;
    j->work_thread = pthread_self();
    j->out = j->in * j->in;
}

static void done_record(struct loop *l, void *arg)
{
    struct job *j = arg;
    j->done_thread = pthread_self();
    j->done_loop = l;
    if (++done_count == done_want)
        loop_stop(l);
}

static struct loop *new_loop(void)
{
    struct loop *l = NULL;
    char err[256];
    ck_assert_msg(loop_create(&l, err, sizeof err) == 0, "%s", err);
    done_count = 0;
    return l;
}

START_TEST(results_return_to_owning_loop)
{
    enum { N = 20 };
    struct pool_thread_hooks hooks = { init_ok, fini_count, NULL };
    struct loop *l = new_loop();
    struct pool *p = NULL;
    struct job jobs[N];
    char err[256];
    pthread_t self = pthread_self();

    fini_calls = 0;
    ck_assert_msg(pool_create(&p, 3, N, &hooks, err, sizeof err) == 0, "%s", err);
    memset(jobs, 0, sizeof jobs);
    done_want = N;
    for (int i = 0; i < N; i++) {
        jobs[i].in = i + 1;
        ck_assert_int_eq(pool_submit(p, l, work_square, done_record, &jobs[i]), 0);
    }
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(done_count, N);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(jobs[i].out, (i + 1) * (i + 1));
        ck_assert_ptr_eq(jobs[i].thread_ctx, &ctx_token);
        ck_assert(!pthread_equal(jobs[i].work_thread, self)); /* off the loop */
        ck_assert(pthread_equal(jobs[i].done_thread, self));  /* back on it */
        ck_assert_ptr_eq(jobs[i].done_loop, l);
    }
    pool_free(p);
    ck_assert_int_eq(fini_calls, 3);
    loop_free(l);
}
END_TEST

/* A job that holds the only pool thread until released. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open;

static void work_gated(void *thread_ctx, void *arg)
{
    (void)thread_ctx;
    pthread_mutex_lock(&gate_mu);
    gate_started = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    ((struct job *)arg)->out = 1;
}

START_TEST(full_queue_refused_at_once)
{
    struct loop *l = new_loop();
    struct pool *p = NULL;
    struct job a, b, c;
    char err[256];

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    gate_started = gate_open = 0;
    ck_assert_msg(pool_create(&p, 1, 1, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(pool_submit(p, l, work_gated, done_record, &a), 0);
    pthread_mutex_lock(&gate_mu);
    while (!gate_started) /* a is running: the queue is empty again */
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    b.in = 3;
    ck_assert_int_eq(pool_submit(p, l, work_square, done_record, &b), 0);  /* fills the queue */
    ck_assert_int_eq(pool_submit(p, l, work_square, done_record, &c), -1); /* refused */

    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    done_want = 2;
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(a.out, 1);
    ck_assert_int_eq(b.out, 9);
    ck_assert_ptr_null(c.done_loop); /* neither work nor done ran */
    ck_assert_int_eq(c.out, 0);
    pool_free(p);
    loop_free(l);
}
END_TEST

START_TEST(free_finishes_queued_jobs)
{
    enum { N = 8 };
    struct loop *l = new_loop();
    struct pool *p = NULL;
    struct job jobs[N];
    char err[256];

    memset(jobs, 0, sizeof jobs);
    ck_assert_msg(pool_create(&p, 1, N, NULL, err, sizeof err) == 0, "%s", err);
    done_want = -1; /* never stop: the loop does not run */
    for (int i = 0; i < N; i++) {
        jobs[i].in = i + 2;
        ck_assert_int_eq(pool_submit(p, l, work_square, done_record, &jobs[i]), 0);
    }
    pool_free(p); /* joins after the queue drained */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(jobs[i].out, (i + 2) * (i + 2));
    ck_assert_int_eq(done_count, 0); /* completions wait for their loop */
    loop_run_posted(l);
    ck_assert_int_eq(done_count, N);
    loop_free(l);
}
END_TEST

static void *init_fail(void *arg, char *err, size_t errlen)
{
    (void)arg;
    snprintf(err, errlen, "no database for this thread");
    return NULL;
}

START_TEST(failing_init_fails_create)
{
    struct pool_thread_hooks hooks = { init_fail, NULL, NULL };
    struct pool *p = NULL;
    char err[256] = "";

    ck_assert_int_eq(pool_create(&p, 2, 4, &hooks, err, sizeof err), -1);
    ck_assert_str_eq(err, "no database for this thread");
    ck_assert_int_eq(pool_create(&p, 0, 4, NULL, err, sizeof err), -1);
    ck_assert_int_eq(pool_create(&p, 1, 0, NULL, err, sizeof err), -1);
    pool_free(NULL);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *t = tcase_create("pool");
    tcase_add_test(t, results_return_to_owning_loop);
    tcase_add_test(t, full_queue_refused_at_once);
    tcase_add_test(t, free_finishes_queued_jobs);
    tcase_add_test(t, failing_init_fails_create);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
