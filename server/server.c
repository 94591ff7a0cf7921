/* server.c: listeners, worker threads, signals (DESIGN.md §1).
 *
 * Sockets are bound in the main thread, one SO_REUSEPORT socket per worker
 * and listener, so the kernel spreads connections over the workers and a
 * connection never changes thread. The main thread then only waits for
 * signals. */
#include "server/server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>

#include "server/log.h"
#include "server/net.h"
#include "server/worker.h"
#include "tls/certgen.h"

#define SERVER_BACKLOG 1024
#define SERVER_ACCEPT_BATCH 64

/* ---- accepting ---- */

/* At EMFILE the pending connection would wake us forever: spend the spare
 * fd to accept it and close it at once, then take the spare back. */
static void server_shed(struct worker *w, int lfd)
{
    if (w->reserve_fd < 0)
        return;
    close(w->reserve_fd);
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0)
        close(fd);
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    log_warn("accept: out of file descriptors, shedding a connection");
}

void server_on_accept_io(struct loop *l, void *data, uint32_t events)
{
    (void)l;
    (void)events;
    struct listener *ls = data;
    struct worker *w = ls->w;
    for (int i = 0; i < SERVER_ACCEPT_BATCH && !w->draining; i++) {
        struct sockaddr_storage peer;
        int fd = net_accept(ls->io.fd, &peer);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                server_shed(w, ls->io.fd);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                     errno != ECONNABORTED)
                log_warn("accept: %s", strerror(errno));
            return;
        }
        if (w->nconns >= w->max_conns) {
            close(fd);   /* over max_connections: refuse at once, stay healthy */
            continue;
        }
        conn_accept(w, fd, ls->is_tls, &peer);
    }
}

/* ---- setup ---- */

static int server_load_tls(struct server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    if (cfg->cert_file[0] == '\0') {
        struct tls_dev_paths dev;
        if (tls_certgen_dev(cfg->dev_cert_dir, &dev, err, errlen) != 0)
            return -1;
        snprintf(s->cert_file, sizeof s->cert_file, "%s", dev.cert_file);
        snprintf(s->key_file, sizeof s->key_file, "%s", dev.key_file);
        log_info("tls: no certificate configured, using the dev certificate %s", dev.cert_file);
        snprintf(s->dev_ca_file, sizeof s->dev_ca_file, "%s", dev.ca_file);
    } else {
        snprintf(s->cert_file, sizeof s->cert_file, "%s", cfg->cert_file);
        snprintf(s->key_file, sizeof s->key_file, "%s", cfg->key_file);
    }
    struct tls_server_opts o = { s->cert_file, s->key_file, cfg->session_tickets,
                                 cfg->ticket_lifetime_s };
    return tls_server_load(&s->tls, &o, err, errlen);
}

static int server_bind(struct server *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    int https_port = cfg->https_port, http_port = cfg->http_port;
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        /* Port 0: the first socket gets a port from the kernel, the others
         * join it through SO_REUSEPORT. */
        w->https.io.fd = net_listen(cfg->https_address, https_port, SERVER_BACKLOG,
                                    &https_port, err, errlen);
        if (w->https.io.fd < 0)
            return -1;
        if (cfg->http_port >= 0) {
            w->http.io.fd = net_listen(cfg->http_address, http_port, SERVER_BACKLOG,
                                       &http_port, err, errlen);
            if (w->http.io.fd < 0)
                return -1;
        }
    }
    s->https_port = https_port;
    s->http_port = cfg->http_port >= 0 ? http_port : -1;
    return 0;
}

static int server_alloc_workers(struct server *s, int n)
{
    s->workers = calloc((size_t)n, sizeof *s->workers);
    if (s->workers == NULL)
        return -1;
    s->nworkers = n;
    int per = (s->cfg->max_connections + n - 1) / n;
    for (int i = 0; i < n; i++) {
        struct worker *w = &s->workers[i];
        w->index = i;
        w->srv = s;
        w->max_conns = per;
        w->reserve_fd = -1;
        w->https = (struct listener){ .io = { .fd = -1 }, .w = w, .is_tls = 1 };
        w->http = (struct listener){ .io = { .fd = -1 }, .w = w, .is_tls = 0 };
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
    s->router = router;
    if (hooks)
        s->hooks = *hooks;
    s->www.dirfd = -1;
    int n = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (server_alloc_workers(s, n > 0 ? n : 1) != 0) {
        snprintf(err, errlen, "server: out of memory");
        goto fail;
    }
    if (cfg->www_root[0] != '\0') {
        if (static_root_open(&s->www, cfg->www_root, err, errlen) != 0)
            goto fail;
        s->has_www = true;
    }
    if (server_load_tls(s, err, errlen) != 0 || server_bind(s, err, errlen) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    server_free(s);
    return -1;
}

int server_https_port(const struct server *s) { return s->https_port; }
int server_http_port(const struct server *s) { return s->http_port; }

int server_drop_privileges(const struct server *s, char *err, size_t errlen)
{
    const char *user = s->cfg->user;
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
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        if (w->https.io.fd >= 0)
            close(w->https.io.fd);
        if (w->http.io.fd >= 0)
            close(w->http.io.fd);
    }
    free(s->workers);
    static_root_close(&s->www);
    tls_server_release(s->tls);
    free(s);
}

int server_healthz(struct http_exchange *ex, void *arg)
{
    (void)arg;
    http_resp_json(&ex->resp, 200, json_pack("{s:s}", "status", "ok"));
    return 0;
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
