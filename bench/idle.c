/* idle.c: hold N idle TLS connections open against a server on loopback, so
 * that the server's memory per idle connection can be measured.
 *
 * What: opens N TCP connections to ADDR:PORT, does a TLS 1.3 (or, with
 * -V 1.2, TLS 1.2) handshake on each, sends one `GET PATH HTTP/1.1` and reads the whole response (status
 * 200 and a Content-Length body required), then leaves the connection open
 * and silent. When all N are idle it prints
 *   ready n=N full=F resumed=R errors=0 seconds=S
 * (F/R: full and resumed handshakes; S: seconds to get all N idle), then
 * holds them until stdin reaches EOF, SIGTERM/SIGINT, or HOLD_S passes;
 * closes them and exits 0. On any failure (connect, handshake, bad response,
 * closed early) or after TIMEOUT_S it prints
 *   failed n=N ready=K errors=E first_error=TEXT
 * closes everything and exits 1. Usage errors exit 2.
 *
 * How: one thread, non-blocking sockets and epoll, at most INFLIGHT
 * connections between connect() and the end of their response at a time.
 * The first connection does a full handshake alone; every later one offers
 * its session (ticket), so the client stays cheap; a server that does not
 * resume still works, only slower. In TLS 1.2 the ticket arrives within the
 * handshake; in TLS 1.3 it arrives after it, as a NewSessionTicket message
 * that mbedtls_ssl_read reports as MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
 * (the session is taken then, and the read goes on). A connection's mbedTLS context is freed
 * once it is idle: only its socket stays, so this tool's own memory stays
 * small (the server cannot tell: idle means no further bytes either way).
 * stdin is watched only when it is a pipe, tty or socket; a file or
 * /dev/null is ignored (then SIGTERM or HOLD_S ends the hold).
 *
 * Usage: idle -p PORT -n N [-a ADDR=127.0.0.1] [-P PATH=/bench.json]
 *             [-i INFLIGHT=64] [-w HOLD_S=120] [-T TIMEOUT_S=180] [-V 1.3|1.2]
 * ADDR must be in 127.0.0.0/8 or be ::1. Needs N + 64 file descriptors
 * (RLIMIT_NOFILE is raised up to the hard limit) and N local ports.
 *
 * Build: cc -O2 -o idle bench/idle.c bench/idle_setup.c bench/http_head.c -lmbedtls \
 *        -lmbedx509 -lmbedcrypto
 */
#define _GNU_SOURCE

#include "idle.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts an error and keeps the text of the first one. */
static void note_error(struct bench *b, const char *text)
{
    if (b->errors++ == 0)
        snprintf(b->first_error, sizeof b->first_error, "%s", text);
}

static void active_free(struct conn *c)
{
    if (c->a == NULL)
        return;
    mbedtls_ssl_free(&c->a->ssl);
    free(c->a);
    c->a = NULL;
}

static void conn_close(struct bench *b, struct conn *c)
{
    if (c->st > ST_NEW && c->st < ST_IDLE)
        b->in_progress--;
    active_free(c);
    if (c->net.fd >= 0)
        close(c->net.fd); /* also leaves the epoll set */
    c->net.fd = -1;
    c->st = ST_CLOSED;
}

/* what: the failed step; ret: an mbedTLS error code, or 0 if what says all. */
static void conn_fail(struct bench *b, struct conn *c, const char *what, int ret)
{
    char msg[128] = "", text[256];

    if (ret != 0)
        mbedtls_strerror(ret, msg, sizeof msg);
    snprintf(text, sizeof text, "conn %zu: %s%s%s", (size_t)(c - b->c), what, ret != 0 ? ": " : "",
             msg);
    note_error(b, text);
    conn_close(b, c);
}

static int set_interest(struct bench *b, struct conn *c, uint32_t events)
{
    struct epoll_event ev;

    if (c->events == events)
        return 0;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = (uint64_t)(c - b->c);
    if (epoll_ctl(b->ep, EPOLL_CTL_MOD, c->net.fd, &ev) != 0) {
        conn_fail(b, c, "epoll_ctl failed", 0);
        return -1;
    }
    c->events = events;
    return 0;
}

/* ---- response parsing ---- */

/* Takes the head in a->head[0..hlen + 4), which ends with CRLF CRLF. */
static int head_parse(struct bench *b, struct conn *c, size_t hlen)
{
    struct active *a = c->a;
    const char *h = a->head, *end = h + hlen + 2; /* up to the last line's CRLF */
    const char *status_end = head_line_end(h, end);
    long long len;

    if (status_end - h < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ' ||
        memcmp(h + 9, "200", 3) != 0 || (status_end - h > 12 && h[12] != ' ')) {
        char what[96];

        snprintf(what, sizeof what, "response is not 200: \"%.*s\"",
                 (int)(status_end - h < 60 ? status_end - h : 60), h);
        conn_fail(b, c, what, 0);
        return -1;
    }
    len = head_content_length(status_end + 2, end);
    if (len < 0) {
        conn_fail(b, c, "response without a valid Content-Length", 0);
        return -1;
    }
    a->body_left = (unsigned long long)len;
    a->have_head = 1;
    return 0;
}

/* Consumes response bytes: 1 when the response is complete, 0 when more is
 * needed, -1 on error (connection failed). */
static int response_take(struct bench *b, struct conn *c, const unsigned char *p, size_t n)
{
    struct active *a = c->a;

    if (!a->have_head) {
        size_t old = a->head_len, take = n < HEAD_MAX - old ? n : HEAD_MAX - old;
        const char *e;

        memcpy(a->head + old, p, take);
        a->head_len += take;
        e = memmem(a->head + (old > 3 ? old - 3 : 0), a->head_len - (old > 3 ? old - 3 : 0),
                   "\r\n\r\n", 4);
        if (e == NULL) {
            if (a->head_len == HEAD_MAX) {
                conn_fail(b, c, "response head larger than 4096 bytes", 0);
                return -1;
            }
            return 0;
        }
        size_t hlen = (size_t)(e - a->head);
        if (head_parse(b, c, hlen) != 0)
            return -1;
        n = (a->head_len - hlen - 4) + (n - take); /* body bytes in this chunk */
    }
    if (n > a->body_left) {
        conn_fail(b, c, "response longer than its Content-Length", 0);
        return -1;
    }
    a->body_left -= n;
    return a->body_left == 0;
}

/* ---- connection state machine ---- */

static int want(struct bench *b, struct conn *c, int ret)
{
    return set_interest(b, c, ret == MBEDTLS_ERR_SSL_WANT_WRITE ? EPOLLOUT : EPOLLIN);
}

static int is_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* mbedtls_ssl_handshake is this same loop; stepping it ourselves shows
 * whether the server sent its Certificate, which a resumed handshake skips. */
static int handshake_steps(struct active *a)
{
    int ret;

    while (!mbedtls_ssl_is_handshake_over(&a->ssl)) {
        if (IDLE_SSL_STATE(&a->ssl) == MBEDTLS_SSL_SERVER_CERTIFICATE)
            a->full = 1;
        ret = mbedtls_ssl_handshake_step(&a->ssl);
        if (ret != 0)
            return ret;
    }
    return 0;
}

/* Keeps the first connection's session for the others to resume. */
static int save_session(struct bench *b, struct conn *c)
{
    int ret;

    if (b->have_saved)
        return 0;
    ret = mbedtls_ssl_get_session(&c->a->ssl, &b->saved);
    if (ret != 0) {
        conn_fail(b, c, "ssl_get_session", ret);
        return -1;
    }
    b->have_saved = 1;
    return 0;
}

static int on_handshake(struct bench *b, struct conn *c)
{
    if (c->a->full)
        b->full++;
    else
        b->resumed++;
    /* A TLS 1.3 ticket comes later, during the read. */
    if (mbedtls_ssl_get_version_number(&c->a->ssl) == MBEDTLS_SSL_VERSION_TLS1_2 &&
        save_session(b, c) != 0)
        return -1;
    c->st = ST_WRITE;
    return 0;
}

static void on_idle(struct bench *b, struct conn *c)
{
    active_free(c);
    b->first_done = 1;
    /* From now on only a hang-up by the server is of interest. */
    if (set_interest(b, c, EPOLLRDHUP) != 0)
        return;
    c->st = ST_IDLE;
    b->in_progress--;
    b->ready++;
}

static int step_connect(struct bench *b, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->net.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err != 0) {
        char what[96];

        snprintf(what, sizeof what, "connect: %s", strerror(err));
        conn_fail(b, c, what, 0);
        return -1;
    }
    c->st = ST_HANDSHAKE;
    return 0;
}

static int step_write(struct bench *b, struct conn *c)
{
    while (c->a->sent < b->req_len) {
        int ret = mbedtls_ssl_write(&c->a->ssl, (const unsigned char *)b->req + c->a->sent,
                                    b->req_len - c->a->sent);
        if (is_want(ret))
            return want(b, c, ret) == 0 ? 1 : -1;
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            if (save_session(b, c) != 0)
                return -1;
            continue;
        }
        if (ret < 0) {
            conn_fail(b, c, "ssl_write", ret);
            return -1;
        }
        c->a->sent += (size_t)ret;
    }
    c->st = ST_READ;
    return 0;
}

/* Reads until the response is complete or mbedTLS wants the socket again, so
 * no decrypted byte is left waiting inside mbedTLS while we sleep on epoll. */
static int step_read(struct bench *b, struct conn *c)
{
    unsigned char buf[4096];

    for (;;) {
        int ret = mbedtls_ssl_read(&c->a->ssl, buf, sizeof buf);
        if (is_want(ret))
            return want(b, c, ret) == 0 ? 1 : -1;
        if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            conn_fail(b, c, "closed by the server before the end of the response", 0);
            return -1;
        }
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            if (save_session(b, c) != 0)
                return -1;
            continue;
        }
        if (ret < 0) {
            conn_fail(b, c, "ssl_read", ret);
            return -1;
        }
        ret = response_take(b, c, buf, (size_t)ret);
        if (ret != 0)
            return ret < 0 ? -1 : 0;
    }
}

/* Advances one connection as far as it goes without blocking. */
static void conn_drive(struct bench *b, struct conn *c)
{
    int ret;

    if (c->st == ST_IDLE) {
        if (!b->holding) {
            b->ready--;
            conn_fail(b, c, "closed by the server while idle", 0);
        } else if (c->net.fd >= 0) {
            b->closed_in_hold++;
            conn_close(b, c);
        }
        return;
    }
    if (c->st == ST_CONNECTING && step_connect(b, c) != 0)
        return;
    if (c->st == ST_HANDSHAKE) {
        ret = handshake_steps(c->a);
        if (is_want(ret)) {
            want(b, c, ret);
            return;
        }
        if (ret != 0) {
            conn_fail(b, c, "handshake", ret);
            return;
        }
        if (on_handshake(b, c) != 0)
            return;
    }
    if (c->st == ST_WRITE && step_write(b, c) != 0)
        return;
    if (c->st == ST_READ && step_read(b, c) == 0)
        on_idle(b, c);
}

static int conn_start(struct bench *b, struct conn *c)
{
    struct epoll_event ev;
    int ret;

    c->st = ST_CONNECTING;
    b->in_progress++;
    b->started++;
    c->a = calloc(1, sizeof *c->a);
    if (c->a == NULL) {
        conn_fail(b, c, "out of memory", 0);
        return -1;
    }
    mbedtls_ssl_init(&c->a->ssl);
    if ((ret = mbedtls_ssl_setup(&c->a->ssl, &b->conf)) != 0 ||
        (ret = mbedtls_ssl_set_hostname(&c->a->ssl, "localhost")) != 0 ||
        (b->have_saved && (ret = mbedtls_ssl_set_session(&c->a->ssl, &b->saved)) != 0)) {
        conn_fail(b, c, "ssl setup", ret);
        return -1;
    }
    mbedtls_ssl_set_bio(&c->a->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
    c->net.fd = socket(b->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->net.fd < 0 ||
        (connect(c->net.fd, (struct sockaddr *)&b->sa, b->sa_len) != 0 && errno != EINPROGRESS)) {
        char what[96];

        snprintf(what, sizeof what, "%s: %s", c->net.fd < 0 ? "socket" : "connect",
                 strerror(errno));
        conn_fail(b, c, what, 0);
        return -1;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = c->events = EPOLLOUT; /* writable once connected (or failed) */
    ev.data.u64 = (uint64_t)(c - b->c);
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->net.fd, &ev) != 0) {
        conn_fail(b, c, "epoll_ctl", 0);
        return -1;
    }
    return 0;
}

/* The first connection goes alone, so the rest can resume its session. */
static void launch(struct bench *b)
{
    while (b->errors == 0 && b->started < b->n && b->in_progress < (size_t)b->o.inflight &&
           (b->have_saved || b->first_done || b->started == 0))
        conn_start(b, &b->c[b->started]);
}

/* ---- setup and hold phases ---- */

static void on_control(struct bench *b, uint64_t tag)
{
    char buf[512];

    if (tag == TAG_SIGNAL) {
        struct signalfd_siginfo si;
        if (read(b->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
            b->stop = 1;
        if (!b->holding)
            note_error(b, "interrupted by a signal");
        return;
    }
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf); /* data is ignored */
    if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
        b->stop = 1;
}

/* One bounded epoll_wait and its events; -1 if epoll itself failed. */
static int poll_once(struct bench *b, double deadline)
{
    struct epoll_event evs[256];
    double left = deadline - now_s();
    int ms = left <= 0 ? 0 : left > 1.0 ? 1000 : (int)(left * 1000.0) + 1;
    int nev = epoll_wait(b->ep, evs, 256, ms);

    if (nev < 0 && errno != EINTR) {
        char text[96];
        snprintf(text, sizeof text, "epoll_wait: %s", strerror(errno));
        note_error(b, text);
        return -1;
    }
    for (int i = 0; i < nev; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == TAG_SIGNAL || tag == TAG_STDIN)
            on_control(b, tag);
        else
            conn_drive(b, &b->c[tag]);
    }
    return 0;
}

static int setup_phase(struct bench *b, double t0)
{
    double deadline = t0 + (double)b->o.timeout_s;

    launch(b);
    while (b->errors == 0 && b->ready < b->n) {
        if (now_s() >= deadline) { /* not a connection's error: errors stays */
            snprintf(b->first_error, sizeof b->first_error, "timeout: %zu of %zu ready after %ld s",
                     b->ready, b->n, b->o.timeout_s);
            return -1;
        }
        if (poll_once(b, deadline) != 0)
            break;
        launch(b);
    }
    return b->errors == 0 ? 0 : -1;
}

static void hold_phase(struct bench *b)
{
    struct epoll_event ev;
    double deadline = now_s() + (double)b->o.hold_s;

    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = TAG_STDIN;
    /* EPERM: a regular file or /dev/null, not a parent holding us open;
     * then only a signal or HOLD_S ends the hold. */
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0 && errno != EPERM)
        fprintf(stderr, "idle: cannot watch stdin: %s\n", strerror(errno));
    b->holding = 1;
    while (!b->stop && now_s() < deadline)
        if (poll_once(b, deadline) != 0)
            break;
    if (b->closed_in_hold > 0)
        fprintf(stderr, "idle: warning: the server closed %zu idle connections during the hold\n",
                b->closed_in_hold);
}

static void bench_free(struct bench *b)
{
    if (b->c != NULL)
        for (size_t i = 0; i < b->n; i++)
            conn_close(b, &b->c[i]);
    free(b->c);
    if (b->sigfd >= 0)
        close(b->sigfd);
    if (b->ep >= 0)
        close(b->ep);
    mbedtls_ssl_session_free(&b->saved);
    mbedtls_ssl_config_free(&b->conf);
    mbedtls_ctr_drbg_free(&b->drbg);
    mbedtls_entropy_free(&b->entropy);
}

int main(int argc, char **argv)
{
    static struct bench b; /* large (first_error, request): not on the stack */
    double t0;
    int rc;

    idle_init(&b);
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "idle: psa_crypto_init failed\n");
        return 1;
    }
    rc = idle_setup(&b, argc, argv);
    if (rc != 0)
        goto out;
    t0 = now_s();
    if (setup_phase(&b, t0) == 0) {
        printf("ready n=%zu full=%zu resumed=%zu errors=0 seconds=%.3f\n", b.n, b.full, b.resumed,
               now_s() - t0);
        if (fflush(stdout) != 0) { /* nobody to tell: do not hold */
            fprintf(stderr, "idle: cannot write to stdout: %s\n", strerror(errno));
            rc = 1;
        } else
            hold_phase(&b);
    } else {
        printf("failed n=%zu ready=%zu errors=%zu first_error=%s\n", b.n, b.ready, b.errors,
               b.first_error);
        fflush(stdout);
        fprintf(stderr, "idle: %s\n", b.first_error);
        rc = 1;
    }
out:
    bench_free(&b);
    mbedtls_psa_crypto_free();
    return rc;
}
