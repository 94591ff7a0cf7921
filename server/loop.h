/* loop.h: one event loop per worker thread (Redis ae): epoll for fd
 * readiness, a min-heap of timers, deferred frees, and a thread-safe task
 * queue woken through an eventfd so other threads (the job pool, the signal
 * thread) can hand work to the loop that owns a connection.
 *
 * Everything except loop_post() and loop_stop() must be called from the
 * loop's own thread. */
#ifndef PC_LOOP_H
#define PC_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits as epoll reports them. */
typedef void (*loop_io_fn)(struct loop *l, void *data, uint32_t events);

/* Embedded in its owner; the loop stores a pointer to it in epoll. */
struct loop_io {
    int fd;
    uint32_t events; /* current interest */
    loop_io_fn fn;
    void *data;
};

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *l, struct loop_timer *t);

/* Embedded in its owner; zero-initialize. */
struct loop_timer {
    uint64_t at_ms; /* absolute, loop clock */
    size_t idx;     /* heap slot + 1; 0 = not armed */
    loop_timer_fn fn;
};

typedef void (*loop_task_fn)(struct loop *l, void *arg);

int loop_create(struct loop **out, char *err, size_t errlen);
/* Runs the deferred tasks (they free memory), drops posted ones. NULL ok. */
void loop_free(struct loop *l);

int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_io_set(struct loop *l, struct loop_io *io, uint32_t events); /* no-op if unchanged */
void loop_io_del(struct loop *l, struct loop_io *io);

/* Monotonic milliseconds, refreshed after each epoll wait and before timers run. */
uint64_t loop_now(const struct loop *l);
/* (Re)arms t to fire after delay_ms. Returns 0, or -1 when out of memory
 * (t is then not armed: the caller must not rely on it and should give up
 * the connection). */
int loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Runs fn(l, arg) on the loop's thread soon. Thread-safe. Returns 0 or -1
 * (out of memory; the task will not run). */
int loop_post(struct loop *l, loop_task_fn fn, void *arg);
/* Runs fn(l, arg) at the end of the current iteration, after every event of
 * the batch was dispatched: used to free connections that a later event of
 * the same batch might still point to. */
int loop_defer(struct loop *l, loop_task_fn fn, void *arg);

/* Runs the tasks posted so far (for a loop that no longer runs). */
void loop_run_posted(struct loop *l);

/* Runs until loop_stop(); returns 0, or -1 if epoll failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l); /* thread-safe */

#endif
