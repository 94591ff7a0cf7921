/* server.c: listeners, worker threads, signals (DESIGN.md §1).
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
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>

#include "server/log.h"
#include "server/net.h"
#include "server/worker.h"
#include "tls/certgen.h"

#define SERVER_BACKLOG      1024
#define SERVER_ACCEPT_BATCH 64

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
 * SERVER_PAUSE_MS instead of spinning. The log says so at most once a
 * second per worker, with counts, so a flood cannot flood the log. */
#define SERVER_PAUSE_MS     100
#define SERVER_LOG_EVERY_MS 1000

static pthread_mutex_t server_fd_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool server_fd_short;

/* Per worker thread (each loop runs on its own thread); `loop` tells a new
 * loop on a reused thread from the previous one. */
struct server_accept_fault {
    struct loop *loop;
    struct loop_timer resume;
    struct listener *paused[2];
    uint64_t logged_ms;
    unsigned shed, pauses;
};

static _Thread_local struct server_accept_fault server_fault;

static struct server_accept_fault *server_fault_of(struct loop *l)
{
    struct server_accept_fault *f = &server_fault;
    if (f->loop != l) {
        memset(f, 0, sizeof *f);
        f->loop = l;
    }
    return f;
}

static void server_fault_log(struct loop *l, int err)
{
    struct server_accept_fault *f = server_fault_of(l);
    uint64_t now = loop_now(l);
    if (f->logged_ms != 0 && now - f->logged_ms < SERVER_LOG_EVERY_MS)
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

static void server_on_resume(struct loop *l, struct loop_timer *t)
{
    (void)t;
    struct server_accept_fault *f = server_fault_of(l);
    for (int i = 0; i < 2; i++) {
        struct listener *ls = f->paused[i];
        f->paused[i] = NULL;
        if (ls != NULL && ls->io.fd >= 0 && !ls->w->draining)
            loop_io_set(l, &ls->io, EPOLLIN);
    }
}

static void server_pause(struct loop *l, struct listener *ls, int err)
{
    struct server_accept_fault *f = server_fault_of(l);
    f->resume.fn = server_on_resume;
    /* No timer, no pause: spinning beats never accepting again. */
    if (loop_timer_set(l, &f->resume, SERVER_PAUSE_MS) == 0 && loop_io_set(l, &ls->io, 0) == 0) {
        f->paused[ls->is_tls ? 0 : 1] = ls;
        f->pauses++;
    }
    server_fault_log(l, err);
}

/* accept while fds are short: the fd to keep, or -1 with errno (*shed set
 * when a connection was accepted and closed). */
static int server_accept_short(struct worker *w, int lfd, struct sockaddr_storage *peer, int *shed)
{
    pthread_mutex_lock(&server_fd_lock);
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
        atomic_store(&server_fd_short, false); /* room for both: not short any more */
    }
    pthread_mutex_unlock(&server_fd_lock);
    errno = err;
    return fd;
}

void server_on_accept_io(struct loop *l, void *data, uint32_t events)
{
    (void)events;
    struct listener *ls = data;
    struct worker *w = ls->w;
    for (int i = 0; i < SERVER_ACCEPT_BATCH && !w->draining; i++) {
        struct sockaddr_storage peer;
        int shed = 0, was_short = atomic_load(&server_fd_short);
        int fd = was_short ? server_accept_short(w, ls->io.fd, &peer, &shed)
                           : net_accept(ls->io.fd, &peer);
        if (fd < 0) {
            int err = errno;
            if (shed) {
                server_fault_of(l)->shed++;
                server_fault_log(l, err);
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED)
                return;
            if ((err == EMFILE || err == ENFILE) && !was_short) {
                atomic_store(&server_fd_short, true);
                continue; /* again, the careful way */
            }
            server_pause(l, ls, err);
            return;
        }
        if (w->nconns >= w->max_conns) {
            close(fd); /* over max_connections: refuse at once, stay healthy */
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
    if (portlock_claim(&s->ports, cfg->https_address, https_port, err, errlen) != 0 ||
        (http_port >= 0 &&
         portlock_claim(&s->ports, cfg->http_address, http_port, err, errlen) != 0))
        return -1;
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        /* Port 0: the first socket gets a port from the kernel, the others
         * join it through SO_REUSEPORT. */
        w->https.io.fd = net_listen(cfg->https_address, https_port, SERVER_BACKLOG, &https_port,
                                    err, errlen);
        if (w->https.io.fd < 0)
            return -1;
        if (cfg->http_port >= 0) {
            w->http.io.fd = net_listen(cfg->http_address, http_port, SERVER_BACKLOG, &http_port,
                                       err, errlen);
            if (w->http.io.fd < 0)
                return -1;
        }
    }
    s->https_port = https_port;
    s->http_port = cfg->http_port >= 0 ? http_port : -1;
    if ((cfg->https_port == 0 &&
         portlock_hold(&s->ports, cfg->https_address, https_port, err, errlen) != 0) ||
        (cfg->http_port == 0 &&
         portlock_hold(&s->ports, cfg->http_address, http_port, err, errlen) != 0))
        return -1;
    return 0;
}

/* Demo mode only: without rings no connection captures anything. */
static int server_wire_setup(struct server *s, char *err, size_t errlen)
{
    size_t conns = (size_t)s->cfg->wire_capture_connections;
    size_t bytes = (size_t)s->cfg->wire_capture_bytes;
    if (wire_ring_create(&s->wire_https, conns, bytes) != 0 ||
        (s->http_port >= 0 && wire_ring_create(&s->wire_http, conns, bytes) != 0)) {
        snprintf(err, errlen, "server: out of memory for the wire view");
        return -1;
    }
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
    portlock_init(&s->ports);
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
    if (cfg->demo && server_wire_setup(s, err, errlen) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    server_free(s);
    return -1;
}

int server_https_port(const struct server *s) { return s->https_port; }
int server_http_port(const struct server *s) { return s->http_port; }
const char *server_dev_ca_file(const struct server *s) { return s->dev_ca_file; }

static json_t *server_wire_listener(struct wire_ring *r, int port, int tls)
{
    return json_pack("{s:i, s:b, s:o*}", "port", port, "tls", tls, "connections",
                     wire_ring_json(r, tls));
}

json_t *server_wire_json(const struct server *s)
{
    if (!s->cfg->demo)
        return NULL;
    json_t *j = json_pack("{s:i, s:i}", "capture_bytes", s->cfg->wire_capture_bytes,
                          "capture_connections", s->cfg->wire_capture_connections);
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "https", server_wire_listener(s->wire_https, s->https_port, 1));
    if (s->http_port >= 0)
        json_object_set_new(j, "http", server_wire_listener(s->wire_http, s->http_port, 0));
    return j;
}

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
    portlock_release(&s->ports);
    wire_ring_free(s->wire_https);
    wire_ring_free(s->wire_http);
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
