/* worker.c: the life of one event-loop thread: its accept path, its
 * graceful stop and its certificate reload (see worker.h). */
#include "server/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server/log.h"
#include "server/metrics.h"
#include "server/net.h"

#define WORKER_ACCEPT_BATCH 64

/* ---- accepting ---- */

/* Out of file descriptors (EMFILE/ENFILE), a pending connection keeps the
 * level-triggered listener readable: the worker would spin and the client
 * would hang. Each worker holds a spare fd; at the limit, accepting runs
 * under one process-wide lock: the spare is closed, the connection
 * accepted into its slot, and the spare taken back. If both do not fit,
 * the connection is closed at once (shed): the client sees a clean close.
 * The lock keeps another worker from taking the freed slot in between
 * (the workers share one fd table); it is taken only while fds are short.
 * When no spare can be had at all (another part of the process took the
 * slot), or accept fails otherwise, the listener pauses for
 * WORKER_PAUSE_MS instead of spinning. The log says so at most once a
 * second per worker, with counts, so a flood cannot flood the log. */
#define WORKER_PAUSE_MS     100
#define WORKER_LOG_EVERY_MS 1000

static pthread_mutex_t worker_fd_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool worker_fd_short;

/* Per worker thread (each loop runs on its own thread); `loop` tells a new
 * loop on a reused thread from the previous one. */
struct worker_accept_fault {
    struct loop *loop;
    struct loop_timer resume;
    struct listener *paused[2];
    uint64_t logged_ms;
    unsigned shed, pauses;
};

static _Thread_local struct worker_accept_fault worker_fault;

static struct worker_accept_fault *worker_fault_of(struct loop *l)
{
    struct worker_accept_fault *f = &worker_fault;
    if (f->loop != l) {
        memset(f, 0, sizeof *f);
        f->loop = l;
    }
    return f;
}

static void worker_fault_log(struct loop *l, int err)
{
    struct worker_accept_fault *f = worker_fault_of(l);
    uint64_t now = loop_now(l);
    if (f->logged_ms != 0 && now - f->logged_ms < WORKER_LOG_EVERY_MS)
        return;
    if (err == EMFILE || err == ENFILE)
        log_warn("accept: out of file descriptors (%s limit): %u connection(s) shed, "
                 "accepting paused %u time(s) since the last report; raise `ulimit -n` or "
                 "lower server.max_connections",
                 err == EMFILE ? "process" : "system", f->shed, f->pauses);
    else
        log_warn("accept: %s: accepting paused %u time(s)", strerror(err), f->pauses);
    f->logged_ms = now ? now : 1;
    f->shed = f->pauses = 0;
}

static void worker_on_resume(struct loop *l, struct loop_timer *t)
{
    (void)t;
    struct worker_accept_fault *f = worker_fault_of(l);
    for (int i = 0; i < 2; i++) {
        struct listener *ls = f->paused[i];
        f->paused[i] = NULL;
        if (ls != NULL && ls->io.fd >= 0 && !ls->w->conns.http.draining)
            loop_io_set(l, &ls->io, EPOLLIN);
    }
}

static void worker_pause(struct loop *l, struct listener *ls, int err)
{
    struct worker_accept_fault *f = worker_fault_of(l);
    f->resume.fn = worker_on_resume;
    /* No timer, no pause: spinning beats never accepting again. */
    if (loop_timer_set(l, &f->resume, WORKER_PAUSE_MS) == 0 && loop_io_set(l, &ls->io, 0) == 0) {
        f->paused[ls->is_tls ? 0 : 1] = ls;
        f->pauses++;
    }
    worker_fault_log(l, err);
}

/* accept while fds are short: the fd to keep, or -1 with errno (*shed set
 * when a connection was accepted and closed). */
static int worker_accept_short(struct worker *w, int lfd, struct sockaddr_storage *peer, int *shed)
{
    pthread_mutex_lock(&worker_fd_lock);
    if (w->reserve_fd < 0)
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    int fd = net_accept(lfd, peer);
    int err = errno;
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && w->reserve_fd < 0) {
        close(fd); /* room for one of the two only: the spare wins */
        fd = -1;
        err = EMFILE;
        *shed = 1;
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else if (fd >= 0) {
        atomic_store(&worker_fd_short, false); /* room for both: not short any more */
    }
    pthread_mutex_unlock(&worker_fd_lock);
    errno = err;
    return fd;
}

static void worker_on_accept(struct loop *l, void *data, uint32_t events)
{
    (void)events;
    struct listener *ls = data;
    struct worker *w = ls->w;
    for (int i = 0; i < WORKER_ACCEPT_BATCH && !w->conns.http.draining; i++) {
        struct sockaddr_storage peer;
        int shed = 0, was_short = atomic_load(&worker_fd_short);
        int fd = was_short ? worker_accept_short(w, ls->io.fd, &peer, &shed)
                           : net_accept(ls->io.fd, &peer);
        if (fd < 0) {
            int err = errno;
            if (shed) {
                worker_fault_of(l)->shed++;
                worker_fault_log(l, err);
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED)
                return;
            if ((err == EMFILE || err == ENFILE) && !was_short) {
                atomic_store(&worker_fd_short, true);
                continue; /* again, the careful way */
            }
            worker_pause(l, ls, err);
            return;
        }
        if (w->conns.n >= w->max_conns) {
            close(fd); /* over max_connections: refuse at once, stay healthy */
            continue;
        }
        conn_accept(&w->conns, fd, ls->is_tls, &peer);
    }
}

/* ---- life of the thread ---- */

void worker_init(struct worker *w, int index, struct worker_shared *sh, int max_conns)
{
    w->index = index;
    w->sh = sh;
    w->max_conns = max_conns;
    w->reserve_fd = -1;
    w->https = (struct listener){ .io = { .fd = -1 }, .w = w, .is_tls = 1 };
    w->http = (struct listener){ .io = { .fd = -1 }, .w = w, .is_tls = 0 };
}

static void worker_close_listener(struct worker *w, struct listener *ls)
{
    if (ls->io.fd < 0)
        return;
    if (ls->io.events && w->loop != NULL)
        loop_io_del(w->loop, &ls->io);
    close(ls->io.fd);
    ls->io.fd = -1;
}

void worker_close_listeners(struct worker *w)
{
    worker_close_listener(w, &w->https);
    worker_close_listener(w, &w->http);
}

static void worker_on_drain_deadline(struct loop *l, struct loop_timer *t)
{
    struct worker *w = (struct worker *)((char *)t - offsetof(struct worker, drain_timer));
    if (w->conns.n > 0)
        log_warn("worker %d: %d connection(s) still busy at the shutdown deadline, closing",
                 w->index, w->conns.n);
    conn_close_all(&w->conns);
    loop_stop(l);
}

/* On the worker's thread: stop accepting, let in-flight requests finish
 * (the loop stops when the last connection is gone, or at the deadline). */
static void worker_drain(struct loop *l, void *arg)
{
    struct worker *w = arg;
    worker_close_listeners(w);
    conn_drain_all(&w->conns);
    w->drain_timer.fn = worker_on_drain_deadline;
    if (w->conns.n == 0 ||
        loop_timer_set(l, &w->drain_timer, (uint64_t)w->sh->cfg->timeouts.shutdown_ms) != 0)
        worker_on_drain_deadline(l, &w->drain_timer);
}

void worker_stop(struct worker *w)
{
    if (loop_post(w->loop, worker_drain, w) != 0)
        loop_stop(w->loop);
}

struct worker_reload {
    struct worker *w;
    struct tls_server *tls;
};

/* On the worker's thread: new connections use the new certificate; the old
 * tls_loop lives on in the connections that hold it. */
static void worker_on_reload(struct loop *l, void *arg)
{
    (void)l;
    struct worker_reload *r = arg;
    struct tls_loop *tl;
    char err[256];
    if (tls_loop_setup(&tl, r->tls, err, sizeof err) == 0) {
        tls_loop_release(r->w->conns.tls);
        r->w->conns.tls = tl;
    } else {
        log_error("worker %d: certificate reload failed: %s", r->w->index, err);
    }
    tls_server_release(r->tls);
    free(r);
}

void worker_reload(struct worker *w, struct tls_server *tls)
{
    struct worker_reload *r = malloc(sizeof *r);
    if (r == NULL)
        return;
    r->w = w;
    r->tls = tls_server_retain(tls);
    if (loop_post(w->loop, worker_on_reload, r) != 0) {
        tls_server_release(r->tls);
        free(r);
    }
}

static int worker_start_io(struct worker *w)
{
    w->https.io.fn = w->http.io.fn = worker_on_accept;
    w->https.io.data = &w->https;
    w->http.io.data = &w->http;
    if (loop_io_add(w->loop, &w->https.io, EPOLLIN) != 0)
        return -1;
    if (w->http.io.fd >= 0 && loop_io_add(w->loop, &w->http.io, EPOLLIN) != 0)
        return -1;
    return 0;
}

/* A worker that cannot serve stops the whole server, which then exits
 * non-zero: half a server would silently drop a share of connections. */
static void worker_fail(struct worker *w)
{
    atomic_store(&w->sh->failed, 1);
    kill(getpid(), SIGTERM);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct worker_shared *sh = w->sh;
    char err[256] = "";
    metrics_thread_attach();
    if (sh->loop_init) {
        w->conns.http.loop_data = sh->loop_init(w->loop, w->index, sh->hook_arg, err, sizeof err);
        if (w->conns.http.loop_data == NULL) {
            log_error("worker %d: %s", w->index, err);
            worker_fail(w);
            return NULL;
        }
    }
    if (worker_start_io(w) != 0) {
        log_error("worker %d: epoll: %s", w->index, strerror(errno));
        worker_fail(w);
    } else if (loop_run(w->loop) != 0) {
        log_error("worker %d: event loop failed: %s", w->index, strerror(errno));
        worker_fail(w);
    }
    conn_close_all(&w->conns);
    worker_close_listeners(w);
    return NULL;
}

int worker_prepare(struct worker *w, struct tls_server *tls, char *err, size_t errlen)
{
    struct conn_set *set = &w->conns;
    if (loop_create(&w->loop, err, errlen) != 0)
        return -1;
    set->http.cfg = w->sh->cfg;
    set->http.site = &w->sh->site;
    set->http.loop = w->loop;
    set->observer = &w->sh->observer;
    static_cache_init(&set->http.files, (unsigned)w->sh->cfg->server.static_cache_ms);
    if (w->sh->site.gateway != NULL &&
        (set->http.gateway = gateway_loop_create(w->sh->site.gateway, w->loop)) == NULL) {
        snprintf(err, errlen, "gateway: out of memory");
        return -1;
    }
    if (tls_loop_setup(&set->tls, tls, err, errlen) != 0)
        return -1;
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

int worker_start(struct worker *w) { return pthread_create(&w->thread, NULL, worker_main, w); }

void worker_free_loop(struct worker *w)
{
    if (w->loop == NULL)
        return;
    loop_run_posted(w->loop);
    if (w->sh->loop_fini && w->conns.http.loop_data)
        w->sh->loop_fini(w->conns.http.loop_data, w->sh->hook_arg);
    w->conns.http.loop_data = NULL;
    tls_loop_release(w->conns.tls);
    w->conns.tls = NULL;
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    w->reserve_fd = -1;
    gateway_loop_free(w->conns.http.gateway);
    w->conns.http.gateway = NULL;
    loop_free(w->loop);
    w->loop = NULL;
    static_cache_free(&w->conns.http.files);
}
