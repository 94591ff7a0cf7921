/* loop.c: see loop.h. Level-triggered epoll: a handler that stops early (for
 * backpressure) is simply woken again, never forgotten. */
#include "server/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "server/clock.h"

#define LOOP_MAX_EVENTS 256

struct loop_task {
    loop_task_fn fn;
    void *arg;
    struct loop_task *next;
};

struct loop {
    int epfd;
    struct loop_io wake; /* eventfd: tasks were posted */
    uint64_t now;
    atomic_bool stop;

    struct loop_timer **heap;
    size_t nheap, capheap;

    pthread_mutex_t lock; /* guards posted */
    struct loop_task *posted, *posted_tail;
    struct loop_task *deferred, *deferred_tail;
};

static void loop_on_wake(struct loop *l, void *data, uint32_t events);
static void loop_run_deferred(struct loop *l);

int loop_create(struct loop **out, char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "loop: out of memory");
        return -1;
    }
    l->epfd = -1;
    l->wake.fd = -1;
    pthread_mutex_init(&l->lock, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        goto fail;
    l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake.fd < 0)
        goto fail;
    l->wake.fn = loop_on_wake;
    l->wake.data = l;
    if (loop_io_add(l, &l->wake, EPOLLIN) != 0)
        goto fail;
    l->now = clock_mono_ms();
    *out = l;
    return 0;
fail:
    snprintf(err, errlen, "loop: %s", strerror(errno));
    loop_free(l);
    return -1;
}

static void loop_free_tasks(struct loop_task *t)
{
    while (t != NULL) {
        struct loop_task *next = t->next;
        free(t);
        t = next;
    }
}

void loop_free(struct loop *l)
{
    if (l == NULL)
        return;
    if (l->wake.fd >= 0)
        close(l->wake.fd);
    if (l->epfd >= 0)
        close(l->epfd);
    loop_run_deferred(l);
    loop_free_tasks(l->posted);
    free(l->heap);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) == 0 ? 0 : -1;
}

int loop_io_set(struct loop *l, struct loop_io *io, uint32_t events)
{
    if (io->events == events)
        return 0;
    struct epoll_event ev = { .events = events, .data.ptr = io };
    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) == 0 ? 0 : -1;
}

void loop_io_del(struct loop *l, struct loop_io *io)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->events = 0;
}

uint64_t loop_now(const struct loop *l) { return l->now; }

/* ---- timers: binary min-heap on at_ms; idx is slot + 1 ---- */

static void heap_place(struct loop *l, size_t i, struct loop_timer *t)
{
    l->heap[i] = t;
    t->idx = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->at_ms <= t->at_ms)
            break;
        heap_place(l, i, l->heap[parent]);
        i = parent;
    }
    heap_place(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->at_ms < l->heap[c]->at_ms)
            c++;
        if (t->at_ms <= l->heap[c]->at_ms)
            break;
        heap_place(l, i, l->heap[c]);
        i = c;
    }
    heap_place(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
    if (t->idx == 0)
        return;
    size_t i = t->idx - 1;
    t->idx = 0;
    l->nheap--;
    if (i == l->nheap)
        return;
    heap_place(l, i, l->heap[l->nheap]);
    heap_up(l, i);
    heap_down(l, l->heap[i]->idx - 1);
}

int loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
    loop_timer_cancel(l, t);
    if (l->nheap == l->capheap) {
        size_t ncap = l->capheap ? l->capheap * 2 : 64;
        struct loop_timer **h = realloc(l->heap, ncap * sizeof *h);
        if (h == NULL)
            return -1;
        l->heap = h;
        l->capheap = ncap;
    }
    /* From the clock now, not from the start of this iteration: a timer
     * armed late in a long batch of events must not fire early. */
    t->at_ms = clock_mono_ms() + delay_ms;
    l->nheap++;
    heap_place(l, l->nheap - 1, t);
    heap_up(l, l->nheap - 1);
    return 0;
}

static int loop_next_timeout(const struct loop *l)
{
    if (l->nheap == 0)
        return 1000;
    uint64_t at = l->heap[0]->at_ms;
    if (at <= l->now)
        return 0;
    uint64_t d = at - l->now;
    return d > 1000 ? 1000 : (int)d;
}

static void loop_run_timers(struct loop *l)
{
    while (l->nheap > 0 && l->heap[0]->at_ms <= l->now) {
        struct loop_timer *t = l->heap[0];
        loop_timer_cancel(l, t);
        t->fn(l, t);
    }
}

/* ---- tasks ---- */

static int loop_enqueue(struct loop_task **head, struct loop_task **tail, loop_task_fn fn,
                        void *arg)
{
    struct loop_task *t = malloc(sizeof *t);
    if (t == NULL)
        return -1;
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    if (*tail)
        (*tail)->next = t;
    else
        *head = t;
    *tail = t;
    return 0;
}

int loop_post(struct loop *l, loop_task_fn fn, void *arg)
{
    pthread_mutex_lock(&l->lock);
    int rc = loop_enqueue(&l->posted, &l->posted_tail, fn, arg);
    pthread_mutex_unlock(&l->lock);
    if (rc == 0) {
        uint64_t one = 1;
        ssize_t w = write(l->wake.fd, &one, sizeof one);
        (void)w; /* EAGAIN: the counter is already non-zero, the loop will wake */
    }
    return rc;
}

int loop_defer(struct loop *l, loop_task_fn fn, void *arg)
{
    return loop_enqueue(&l->deferred, &l->deferred_tail, fn, arg);
}

static void loop_run_list(struct loop *l, struct loop_task *t)
{
    while (t != NULL) {
        struct loop_task *next = t->next;
        t->fn(l, t->arg);
        free(t);
        t = next;
    }
}

static void loop_on_wake(struct loop *l, void *data, uint32_t events)
{
    (void)data;
    (void)events;
    uint64_t v;
    ssize_t r = read(l->wake.fd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&l->lock);
    struct loop_task *t = l->posted;
    l->posted = l->posted_tail = NULL;
    pthread_mutex_unlock(&l->lock);
    loop_run_list(l, t);
}

void loop_run_posted(struct loop *l) { loop_on_wake(l, NULL, 0); }

static void loop_run_deferred(struct loop *l)
{
    while (l->deferred != NULL) {
        struct loop_task *t = l->deferred;
        l->deferred = l->deferred_tail = NULL;
        loop_run_list(l, t);
    }
}

static void loop_on_stop(struct loop *l, void *arg)
{
    (void)arg;
    atomic_store(&l->stop, true);
}

void loop_stop(struct loop *l)
{
    if (loop_post(l, loop_on_stop, NULL) != 0)
        atomic_store(&l->stop, true); /* wakes at the next timeout tick */
}

int loop_run(struct loop *l)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    while (!atomic_load(&l->stop)) {
        int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, loop_next_timeout(l));
        if (n < 0 && errno != EINTR)
            return -1;
        l->now = clock_mono_ms();
        for (int i = 0; i < n; i++) {
            struct loop_io *io = evs[i].data.ptr;
            io->fn(l, io->data, evs[i].events);
        }
        loop_run_deferred(l);
        /* A long batch of events took time: timers that came due meanwhile
         * run now, not one epoll_wait later. */
        l->now = clock_mono_ms();
        loop_run_timers(l);
        loop_run_deferred(l);
    }
    return 0;
}
