/* pool.c: see pool.h. A mutex + condition variable queue: jobs are rare
 * compared to requests (logins, registrations), so simplicity wins over a
 * lock-free ring. */
#include "server/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/reqid.h"

struct pool_job {
    struct loop *owner;
    pool_work_fn work;
    loop_task_fn done;
    void *arg;
    uint64_t queued_us;         /* when it entered the queue (metrics: wait time) */
    char request_id[REQID_MAX]; /* the submitter's log context, "" for none */
    struct pool_job *next;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pool_job *head, *tail;
    int queued, queue_max;
    bool stopping;
    struct pool_thread_hooks hooks;
    pthread_t *threads;
    int nthreads;
};

struct pool_start {
    struct pool *p;
    void *ctx;
};

static void *pool_main(void *argp)
{
    struct pool_start *st = argp;
    struct pool *p = st->p;
    void *ctx = st->ctx;
    free(st);
    metrics_thread_attach();
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->head == NULL)
            break; /* stopping and drained */
        struct pool_job *j = p->head;
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        metrics_add(MET_POOL_QUEUED, -1);
        pthread_mutex_unlock(&p->lock);
        metrics_observe(MET_H_POOL_WAIT, clock_mono_us() - j->queued_us);
        /* What the job logs names the request it works for. */
        log_set_request(j->request_id[0] ? j->request_id : NULL);
        j->work(ctx, j->arg);
        log_set_request(NULL);
        if (loop_post(j->owner, j->done, j->arg) != 0)
            j->done(j->owner, j->arg); /* cannot happen short of OOM; better late than lost */
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    if (p->hooks.fini)
        p->hooks.fini(ctx, p->hooks.arg);
    return NULL;
}

static int pool_start_thread(struct pool *p, char *err, size_t errlen)
{
    struct pool_start *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "pool: out of memory");
        return -1;
    }
    st->p = p;
    if (p->hooks.init) {
        st->ctx = p->hooks.init(p->hooks.arg, err, errlen);
        if (st->ctx == NULL) {
            free(st);
            return -1;
        }
    }
    void *ctx = st->ctx;
    int rc = pthread_create(&p->threads[p->nthreads], NULL, pool_main, st);
    if (rc != 0) {
        snprintf(err, errlen, "pool: pthread_create: %s", strerror(rc));
        if (p->hooks.fini)
            p->hooks.fini(ctx, p->hooks.arg);
        free(st);
        return -1;
    }
    p->nthreads++;
    return 0;
}

int pool_create(struct pool **out, int threads, int queue_max,
                const struct pool_thread_hooks *hooks, char *err, size_t errlen)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p == NULL || threads < 1 || queue_max < 1) {
        snprintf(err, errlen, "pool: %s", p ? "bad size" : "out of memory");
        free(p);
        return -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->queue_max = queue_max;
    if (hooks)
        p->hooks = *hooks;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (p->threads == NULL) {
        snprintf(err, errlen, "pool: out of memory");
        goto fail;
    }
    for (int i = 0; i < threads; i++)
        if (pool_start_thread(p, err, errlen) != 0)
            goto fail;
    *out = p;
    return 0;
fail:
    pool_free(p);
    return -1;
}

int pool_submit(struct pool *p, struct loop *owner, pool_work_fn work, loop_task_fn done, void *arg)
{
    struct pool_job *j = malloc(sizeof *j);
    if (j == NULL)
        return -1;
    *j = (struct pool_job){
        .owner = owner, .work = work, .done = done, .arg = arg, .queued_us = clock_mono_us()
    };
    const char *rid = log_request();
    if (rid != NULL)
        snprintf(j->request_id, sizeof j->request_id, "%s", rid);
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->queue_max) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        metrics_inc(MET_POOL_REJECTED);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    metrics_add(MET_POOL_QUEUED, 1); /* under the lock: before its decrement */
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
