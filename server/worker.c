/* worker.c: the life of one event-loop thread, and the signal-driven
 * start/reload/stop of all of them (server_run). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server/log.h"
#include "server/server.h"
#include "server/worker.h"

static void worker_close_listener(struct worker *w, struct listener *ls)
{
    if (ls->io.fd < 0)
        return;
    if (ls->io.events)
        loop_io_del(w->loop, &ls->io);
    close(ls->io.fd);
    ls->io.fd = -1;
}

static void worker_on_drain_deadline(struct loop *l, struct loop_timer *t)
{
    struct worker *w = (struct worker *)((char *)t - offsetof(struct worker, drain_timer));
    if (w->nconns > 0)
        log_warn("worker %d: %d connection(s) still busy at the shutdown deadline, closing",
                 w->index, w->nconns);
    conn_close_all(w);
    loop_stop(l);
}

/* On the worker's thread: stop accepting, let in-flight requests finish. */
static void worker_drain(struct loop *l, void *arg)
{
    struct worker *w = arg;
    w->draining = true;
    worker_close_listener(w, &w->https);
    worker_close_listener(w, &w->http);
    conn_drain_all(w);
    w->drain_timer.fn = worker_on_drain_deadline;
    if (w->nconns == 0 ||
        loop_timer_set(l, &w->drain_timer, (uint64_t)w->srv->cfg->timeouts.shutdown_ms) != 0)
        worker_on_drain_deadline(l, &w->drain_timer);
}

void worker_conn_gone(struct worker *w)
{
    if (w->draining && w->nconns == 0) {
        loop_timer_cancel(w->loop, &w->drain_timer);
        loop_stop(w->loop);
    }
}

struct worker_reload {
    struct worker *w;
    struct tls_server *tls;
};

/* On the worker's thread: new connections use the new certificate; the old
 * tls_loop lives on in the connections that hold it. */
static void worker_reload(struct loop *l, void *arg)
{
    (void)l;
    struct worker_reload *r = arg;
    struct tls_loop *tl;
    char err[256];
    if (tls_loop_setup(&tl, r->tls, err, sizeof err) == 0) {
        tls_loop_release(r->w->tls);
        r->w->tls = tl;
    } else {
        log_error("worker %d: certificate reload failed: %s", r->w->index, err);
    }
    tls_server_release(r->tls);
    free(r);
}

static int worker_start_io(struct worker *w)
{
    w->https.io.fn = w->http.io.fn = server_on_accept_io;
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
static void worker_fail(struct server *s)
{
    atomic_store(&s->failed, 1);
    kill(getpid(), SIGTERM);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *s = w->srv;
    char err[256] = "";
    if (s->hooks.loop_init) {
        w->loop_data = s->hooks.loop_init(w->loop, w->index, s->hooks.arg, err, sizeof err);
        if (w->loop_data == NULL) {
            log_error("worker %d: %s", w->index, err);
            worker_fail(s);
            return NULL;
        }
    }
    if (worker_start_io(w) != 0) {
        log_error("worker %d: epoll: %s", w->index, strerror(errno));
        worker_fail(s);
    } else if (loop_run(w->loop) != 0) {
        log_error("worker %d: event loop failed: %s", w->index, strerror(errno));
        worker_fail(s);
    }
    conn_close_all(w);
    worker_close_listener(w, &w->https);
    worker_close_listener(w, &w->http);
    return NULL;
}

static int worker_prepare(struct worker *w, char *err, size_t errlen)
{
    if (loop_create(&w->loop, err, errlen) != 0)
        return -1;
    loop_set_data(w->loop, w);
    static_cache_init(&w->files, (unsigned)w->srv->cfg->server.static_cache_ms);
    if (tls_loop_setup(&w->tls, w->srv->tls, err, errlen) != 0)
        return -1;
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

static void server_reload(struct server *s)
{
    struct tls_server *tls;
    char err[512];
    struct tls_server_opts o = { s->cert_file, s->key_file, s->cfg->tls.session_tickets,
                                 s->cfg->tls.ticket_lifetime_s };
    if (tls_server_load(&tls, &o, err, sizeof err) != 0) {
        log_error("SIGHUP: certificate reload failed, keeping the old one: %s", err);
        return;
    }
    for (int i = 0; i < s->nworkers; i++) {
        struct worker_reload *r = malloc(sizeof *r);
        if (r == NULL)
            continue;
        r->w = &s->workers[i];
        r->tls = tls_server_retain(tls);
        if (loop_post(r->w->loop, worker_reload, r) != 0) {
            tls_server_release(r->tls);
            free(r);
        }
    }
    tls_server_release(s->tls);
    s->tls = tls;
    log_info("SIGHUP: certificate reloaded from %s", s->cert_file);
}

static void server_wait_signals(struct server *s, int started)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            server_reload(s);
            continue;
        }
        log_info("%s: stopping, finishing in-flight requests (up to %d ms)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", s->cfg->timeouts.shutdown_ms);
        for (int i = 0; i < started; i++)
            if (loop_post(s->workers[i].loop, worker_drain, &s->workers[i]) != 0)
                loop_stop(s->workers[i].loop);
        return;
    }
}

int server_run(struct server *s)
{
    char err[512];
    int started = 0, rc = 0;
    for (int i = 0; i < s->nworkers; i++) {
        if (worker_prepare(&s->workers[i], err, sizeof err) != 0) {
            log_error("worker %d: %s", i, err);
            rc = -1;
            goto join;
        }
    }
    for (; started < s->nworkers; started++) {
        struct worker *w = &s->workers[started];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            log_error("worker %d: pthread_create: %s", started, strerror(e));
            rc = -1;
            goto join;
        }
    }
    log_info("listening on https://%s:%d (%d workers)", s->cfg->server.https_address, s->https_port,
             s->nworkers);
    if (s->dev_ca_file[0])
        log_info("tls: trust the dev CA with: curl --cacert %s https://localhost:%d/healthz",
                 s->dev_ca_file, s->https_port);
    if (s->http_port >= 0)
        log_info("listening on http://%s:%d (%s)", s->cfg->server.http_address, s->http_port,
                 s->cfg->server.demo ? "demo mode: serves the API in plaintext"
                                     : "redirects to HTTPS");
    server_wait_signals(s, started);
join:
    if (rc != 0)
        for (int i = 0; i < started; i++)
            loop_stop(s->workers[i].loop);
    for (int i = 0; i < started; i++)
        pthread_join(s->workers[i].thread, NULL);
    return atomic_load(&s->failed) ? -1 : rc;
}

/* After server_run and after the job pool is gone: deliver the completions
 * the pool posted to stopped loops (they free their connections), then free
 * each loop's resources. */
void server_stop_loops(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        if (w->loop == NULL)
            continue;
        loop_run_posted(w->loop);
        if (s->hooks.loop_fini && w->loop_data)
            s->hooks.loop_fini(w->loop_data, s->hooks.arg);
        w->loop_data = NULL;
        tls_loop_release(w->tls);
        w->tls = NULL;
        if (w->reserve_fd >= 0)
            close(w->reserve_fd);
        w->reserve_fd = -1;
        loop_free(w->loop);
        w->loop = NULL;
        static_cache_free(&w->files);
    }
}
