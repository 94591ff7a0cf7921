/* pool.h: a bounded job pool for work that may take milliseconds (argon2id,
 * SQLite writes that fsync), so event loops never block.
 *
 * A job runs work(thread_ctx, arg) on a pool thread, then done(loop, arg) on
 * the loop that submitted it (through loop_post), so the connection resumes
 * on its own thread. The queue is bounded: when it is full pool_submit()
 * refuses at once and the caller answers 503 with Retry-After. */
#ifndef PC_POOL_H
#define PC_POOL_H

#include <stddef.h>

#include "server/loop.h"

typedef void (*pool_work_fn)(void *thread_ctx, void *arg);

/* Per-thread context (e.g. a database connection per pool thread). init may
 * return NULL only on failure, which fails pool_create. */
struct pool_thread_hooks {
    void *(*init)(void *arg, char *err, size_t errlen);
    void (*fini)(void *thread_ctx, void *arg);
    void *arg;
};

struct pool;

/* Starts `threads` threads. hooks may be NULL (thread_ctx is then NULL). */
int pool_create(struct pool **out, int threads, int queue_max,
                const struct pool_thread_hooks *hooks, char *err, size_t errlen);

/* Returns 0 (queued), or -1 when the queue is full, the pool is stopping, or
 * memory ran out; on -1 neither work nor done will run. */
int pool_submit(struct pool *p, struct loop *owner, pool_work_fn work, loop_task_fn done,
                void *arg);

/* Finishes queued jobs, stops the threads and frees the pool. Completions are
 * still posted to their loops: call this before the loops are freed. NULL ok. */
void pool_free(struct pool *p);

#endif
