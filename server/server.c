/* server.c: the server as a whole (docs/ARCHITECTURE.md, Process model):
 * listeners, worker threads, signals, certificate reload.
 *
 * Sockets are bound in the main thread, one SO_REUSEPORT socket per worker
 * and listener, so the kernel spreads connections over the workers and a
 * connection never changes thread. The main thread then only waits for
 * signals. */
#include "server/server.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"
#include "server/metrics.h"
#include "server/net.h"
#include "server/portlock.h"
#include "server/worker.h"
#include "tls/certgen.h"
#include "tls/tickets.h"

#define SERVER_BACKLOG 1024

/* Read-only after server_setup (and the server_set_* calls that follow it),
 * except tls, which SIGHUP replaces on the main thread. */
struct server {
    const struct config *cfg;
    struct worker_shared shared; /* what every worker reads */
    struct static_root www;
    struct tls_server *tls;
    struct tls_tickets *tickets; /* NULL when tls.session_tickets is off */
    char cert_file[CONFIG_PATH_MAX], key_file[CONFIG_PATH_MAX];
    char dev_ca_file[CONFIG_PATH_MAX]; /* "" unless the dev certificate is used */
    struct worker *workers;
    int nworkers;
    int https_port, http_port;
    struct portlock ports;   /* held from server_bind to server_free */
    struct gateway *gateway; /* gateway.routes; NULL: none */
    /* Every block of reloadable settings ever published, the current one
     * last: a loop may still read a retired one, so all live until free. */
    struct dispatch_live **lives;
    size_t nlives;
    void (*reload)(void *arg); /* SIGHUP, after the certificate */
    void *reload_arg;
};

/* ---- setup ---- */

static int server_load_tls(struct server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    if (cfg->tls.cert_file[0] == '\0') {
        struct tls_dev_paths dev;
        if (tls_certgen_dev(cfg->tls.dev_cert_dir, &dev, err, errlen) != 0)
            return -1;
        snprintf(s->cert_file, sizeof s->cert_file, "%s", dev.cert_file);
        snprintf(s->key_file, sizeof s->key_file, "%s", dev.key_file);
        log_info("tls: no certificate configured, using the dev certificate %s", dev.cert_file);
        snprintf(s->dev_ca_file, sizeof s->dev_ca_file, "%s", dev.ca_file);
    } else {
        snprintf(s->cert_file, sizeof s->cert_file, "%s", cfg->tls.cert_file);
        snprintf(s->key_file, sizeof s->key_file, "%s", cfg->tls.key_file);
    }
    /* One set of ticket keys for every certificate load: a reload keeps
     * the sessions resumable, and the keys can come from outside. */
    if (cfg->tls.session_tickets &&
        tls_tickets_new(&s->tickets, cfg->tls.ticket_lifetime_s, err, errlen) != 0)
        return -1;
    struct tls_server_opts o = { s->cert_file, s->key_file, cfg->tls.session_tickets,
                                 cfg->tls.ticket_lifetime_s, s->tickets };
    return tls_server_load(&s->tls, &o, err, errlen);
}

static int server_bind(struct server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    int https_port = cfg->server.https_port, http_port = cfg->server.http_port;
    if (portlock_claim(&s->ports, cfg->server.https_address, https_port, err, errlen) != 0 ||
        (http_port >= 0 &&
         portlock_claim(&s->ports, cfg->server.http_address, http_port, err, errlen) != 0))
        return -1;
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        /* Port 0: the first socket gets a port from the kernel, the others
         * join it through SO_REUSEPORT. */
        w->https.io.fd = net_listen(cfg->server.https_address, https_port, SERVER_BACKLOG,
                                    &https_port, err, errlen);
        if (w->https.io.fd < 0)
            return -1;
        if (cfg->server.http_port >= 0) {
            w->http.io.fd = net_listen(cfg->server.http_address, http_port, SERVER_BACKLOG,
                                       &http_port, err, errlen);
            if (w->http.io.fd < 0)
                return -1;
        }
    }
    s->https_port = https_port;
    s->http_port = cfg->server.http_port >= 0 ? http_port : -1;
    if ((cfg->server.https_port == 0 &&
         portlock_hold(&s->ports, cfg->server.https_address, https_port, err, errlen) != 0) ||
        (cfg->server.http_port == 0 &&
         portlock_hold(&s->ports, cfg->server.http_address, http_port, err, errlen) != 0))
        return -1;
    return 0;
}

static int server_alloc_workers(struct server *s, int n)
{
    s->workers = calloc((size_t)n, sizeof *s->workers);
    if (s->workers == NULL)
        return -1;
    s->nworkers = n;
    int per = (s->cfg->server.max_connections + n - 1) / n;
    for (int i = 0; i < n; i++)
        worker_init(&s->workers[i], i, &s->shared, per);
    return 0;
}

/* What requests are answered with, and what each loop starts with. */
static void server_share(struct server *s, struct router *router, const struct server_hooks *hooks)
{
    struct worker_shared *sh = &s->shared;
    sh->cfg = s->cfg;
    sh->site.cfg = s->cfg;
    sh->site.router = router;
    if (hooks) {
        sh->site.access_check = hooks->access_check;
        sh->site.access_arg = hooks->arg;
        sh->loop_init = hooks->loop_init;
        sh->loop_fini = hooks->loop_fini;
        sh->hook_arg = hooks->arg;
    }
}

/* The gateway's table and its metrics labels. */
static int server_gateway(struct server *s, const struct server_hooks *hooks, char *err,
                          size_t errlen)
{
    struct gateway_hooks gh = { 0 };
    if (hooks) {
        gh.access_level = hooks->access_level;
        gh.identity = hooks->identity;
        gh.arg = hooks->arg;
    }
    if (gateway_create(&s->gateway, &s->cfg->gateway, &gh, err, errlen) != 0)
        return -1;
    s->shared.site.gateway = s->gateway;
    const char *prefixes[GATEWAY_ROUTES_MAX];
    int n = gateway_route_count(s->gateway);
    for (int i = 0; i < n; i++)
        prefixes[i] = gateway_route_prefix(s->gateway, i);
    if (metrics_gateway_init(n, prefixes) != 0) {
        snprintf(err, errlen, "gateway: out of memory");
        return -1;
    }
    return 0;
}

int server_setup(struct server **out, const struct config *cfg, struct router *router,
                 const struct server_hooks *hooks, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "server: out of memory");
        return -1;
    }
    s->cfg = cfg;
    portlock_init(&s->ports);
    server_share(s, router, hooks);
    if (server_reconfigure(s, cfg) != 0) {
        snprintf(err, errlen, "server: out of memory");
        free(s);
        return -1;
    }
    s->www.dirfd = -1;
    if (server_gateway(s, hooks, err, errlen) != 0)
        goto fail;
    int n = cfg->server.workers > 0 ? cfg->server.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (server_alloc_workers(s, n > 0 ? n : 1) != 0) {
        snprintf(err, errlen, "server: out of memory");
        goto fail;
    }
    if (cfg->server.www_root[0] != '\0') {
        if (static_root_open(&s->www, cfg->server.www_root, err, errlen) != 0)
            goto fail;
        s->shared.site.www = &s->www;
    }
    if (server_load_tls(s, err, errlen) != 0 || server_bind(s, err, errlen) != 0)
        goto fail;
    s->shared.site.https_port = s->https_port;
    *out = s;
    return 0;
fail:
    server_free(s);
    return -1;
}

int server_https_port(const struct server *s) { return s->https_port; }
int server_http_port(const struct server *s) { return s->http_port; }
const char *server_dev_ca_file(const struct server *s) { return s->dev_ca_file; }

void server_set_observer(struct server *s, const struct server_observer *obs)
{
    s->shared.observer = *obs;
}

void server_serve_plain(struct server *s, const char *warning)
{
    s->shared.site.plain_warning = warning;
}

int server_drop_privileges(const struct server *s, char *err, size_t errlen)
{
    const char *user = s->cfg->server.user;
    if (geteuid() != 0 || user[0] == '\0')
        return 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, errlen, "server.user: no such user '%s'", user);
        return -1;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to '%s': %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privilege drop to '%s' is reversible; refusing to run", user);
        return -1;
    }
    log_info("dropped privileges to user %s", user);
    return 0;
}

void server_free(struct server *s)
{
    if (s == NULL)
        return;
    if (s->workers)
        server_stop_loops(s);
    for (int i = 0; i < s->nworkers; i++)
        worker_close_listeners(&s->workers[i]);
    free(s->workers);
    portlock_release(&s->ports);
    for (size_t i = 0; i < s->nlives; i++)
        free(s->lives[i]);
    free(s->lives);
    static_root_close(&s->www);
    gateway_free(s->gateway);
    tls_server_release(s->tls);
    tls_tickets_release(s->tickets);
    free(s);
}

struct tls_tickets *server_tls_tickets(const struct server *s) { return s->tickets; }

void server_set_pool(struct server *s, struct pool *p) { s->shared.site.pool = p; }

/* ---- running: workers, signals ---- */

static void server_reload(struct server *s)
{
    struct tls_server *tls;
    char err[512];
    struct tls_server_opts o = { s->cert_file, s->key_file, s->cfg->tls.session_tickets,
                                 s->cfg->tls.ticket_lifetime_s, s->tickets };
    if (tls_server_load(&tls, &o, err, sizeof err) != 0) {
        log_error("SIGHUP: certificate reload failed, keeping the old one: %s", err);
        return;
    }
    for (int i = 0; i < s->nworkers; i++)
        worker_reload(&s->workers[i], tls);
    tls_server_release(s->tls);
    s->tls = tls;
    log_info("SIGHUP: certificate reloaded from %s", s->cert_file);
}

int server_reconfigure(struct server *s, const struct config *cfg)
{
    struct dispatch_live *l = malloc(sizeof *l);
    struct dispatch_live **grown = realloc(s->lives, (s->nlives + 1) * sizeof *grown);
    if (l == NULL || grown == NULL) {
        free(l);
        if (grown != NULL)
            s->lives = grown;
        return -1;
    }
    s->lives = grown;
    dispatch_live_fill(l, cfg);
    s->lives[s->nlives++] = l;
    atomic_store_explicit(&s->shared.site.live, l, memory_order_release);
    return 0;
}

void server_set_reload(struct server *s, void (*fn)(void *arg), void *arg)
{
    s->reload = fn;
    s->reload_arg = arg;
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
            if (s->reload)
                s->reload(s->reload_arg);
            continue;
        }
        log_info("%s: stopping, finishing in-flight requests (up to %d ms)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", s->cfg->timeouts.shutdown_ms);
        for (int i = 0; i < started; i++)
            worker_stop(&s->workers[i]);
        return;
    }
}

static void server_log_listening(const struct server *s)
{
    log_info("listening on https://%s:%d (%d workers)", s->cfg->server.https_address, s->https_port,
             s->nworkers);
    if (s->dev_ca_file[0])
        log_info("tls: trust the dev CA with: curl --cacert %s https://localhost:%d/healthz",
                 s->dev_ca_file, s->https_port);
    if (s->http_port >= 0)
        log_info("listening on http://%s:%d (%s)", s->cfg->server.http_address, s->http_port,
                 s->shared.site.plain_warning ? "serves the API in plaintext"
                                              : "redirects to HTTPS");
}

int server_run(struct server *s)
{
    char err[512];
    int started = 0, rc = 0;
    for (int i = 0; i < s->nworkers; i++) {
        if (worker_prepare(&s->workers[i], s->tls, err, sizeof err) != 0) {
            log_error("worker %d: %s", i, err);
            rc = -1;
            goto join;
        }
    }
    for (; started < s->nworkers; started++) {
        int e = worker_start(&s->workers[started]);
        if (e != 0) {
            log_error("worker %d: pthread_create: %s", started, strerror(e));
            rc = -1;
            goto join;
        }
    }
    server_log_listening(s);
    server_wait_signals(s, started);
join:
    if (rc != 0)
        for (int i = 0; i < started; i++)
            loop_stop(s->workers[i].loop);
    for (int i = 0; i < started; i++)
        pthread_join(s->workers[i].thread, NULL);
    return atomic_load(&s->shared.failed) ? -1 : rc;
}

/* After server_run and after the job pool is gone: deliver the completions
 * the pool posted to stopped loops (they free their connections), then free
 * each loop's resources. */
void server_stop_loops(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        worker_free_loop(&s->workers[i]);
}

void server_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}
