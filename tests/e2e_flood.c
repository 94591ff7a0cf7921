/* e2e_flood.c: slow and flooding clients against the real binary, loopback
 * only, every loop bounded in count and time (see tests/RELIABILITY.md):
 *   slowloris         1000 TLS connections (and 200 on the plain-HTTP
 *                     listener) trickle a request head forever
 *   slow_body         TLS POSTs whose body (length or chunked) trickles
 *   half_open         TCP connect with nothing, a ClientHello then silence,
 *                     the first bytes of a TLS record then silence
 *   flood             connections past server.max_connections
 * Each slow client must be cut by its own timeout (not earlier, not much
 * later) while a normal client keeps getting /healthz within 1 s.
 * Random bytes and truncated records are e2e_garbage.c's.
 *
 * One poll() loop in this process drives every slow client; a second
 * thread plays the normal client (srv_probe). Slow TLS clients resume the
 * session of a first full handshake (session ticket), so 1000 of them cost
 * symmetric crypto only and the test stays fast under ASan. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/clock.h"
#include "support/https.h"

#define FL_MAX        1400
#define FL_TRICKLE_MS 300  /* one piece per slow client per period */
#define FL_EARLY_MS   400  /* cut earlier than timeout - this: wrong timer */
#define FL_LATE_MS    3000 /* cut later than timeout + this: timer missed */
#define FL_INFLIGHT   64   /* handshakes in progress at once (ramp) */
#define FL_OPEN_PER_S 400  /* new connections per second (ramp) */

/* The normal client's bound per /healthz: 1 s. Sanitizer builds run the
 * server several times slower (every ASan allocation is fresh, faulting
 * memory) while ctest -j2 runs another test beside this one, so there the
 * bound is looser; the normal build checks the 1 s. */
#if defined(__SANITIZE_ADDRESS__)
#define FL_PROBE_MAX_MS 2500
#else
#define FL_PROBE_MAX_MS 1000
#endif

enum fl_kind {
    FL_SLOWLORIS,       /* TLS; head trickled: cut by header_ms with 408 */
    FL_PLAIN_SLOWLORIS, /* the same on the plain-HTTP listener */
    FL_SLOW_BODY,       /* TLS; Content-Length body trickled: body_ms, 408 */
    FL_SLOW_CHUNKED,    /* TLS; chunked body trickled: body_ms, 408 */
    FL_SILENT,          /* TCP only: handshake_ms */
    FL_HELLO_ONLY,      /* ClientHello then silence: handshake_ms */
    FL_PARTIAL_RECORD,  /* 45 bytes of a 200-byte record: handshake_ms */
};

enum fl_phase { FL_IDLE, FL_HANDSHAKE, FL_TRICKLE, FL_WAIT, FL_DONE };

struct fl_client {
    enum fl_kind kind;
    enum fl_phase phase;
    int fd;
    struct tc_conn *tc; /* TLS kinds until done */
    short want;         /* poll events while handshaking */
    long t_armed;       /* when the server's timer of interest started */
    long t_next;        /* next trickle */
    long t_closed;
    int pieces;
    int failed;     /* handshake or write failed before any cut */
    char first[16]; /* first plaintext bytes of the answer */
    size_t first_len;
};

static long now_ms(void) { return (long)clock_mono_ms(); }

/* ---- the normal client (support.h's srv_probe) ---- */

static void probe_start(struct srv_probe *p, const struct srv *s)
{
    ck_assert_int_eq(srv_probe_start(p, s), 0);
}

/* At least 5 /healthz, every one answered 200 within FL_PROBE_MAX_MS. */
static void probe_finish(struct srv_probe *p)
{
    srv_probe_stop(p);
    fprintf(stderr,
            "e2e_flood: normal client: %d /healthz, %d failed, median %ld ms, worst %ld ms"
            " (bound %d ms)\n",
            p->count, p->failures, p->median_ms, p->worst_ms, FL_PROBE_MAX_MS);
    ck_assert_int_ge(p->count, 5);
    ck_assert_msg(p->failures == 0, "%d /healthz failed (last: %s)", p->failures, p->last_err);
    ck_assert_msg(p->worst_ms <= FL_PROBE_MAX_MS, "a /healthz took %ld ms", p->worst_ms);
}

/* ---- TLS helpers ---- */

static int nb_connect(int port)
{
    int fd = tcp_connect(port);
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* A ticket from one full handshake, so later clients resume cheaply. */
static void fl_session(const struct srv *s, struct tc_session *sess)
{
    struct tc_conn c;
    struct http_resp r;
    tls_open(&c, s);
    tls_exchange(&c, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(tc_get_session(&c, sess), 0);
    tc_close(&c);
}

/* ---- the slow-client driver ---- */

struct fl_run {
    const struct srv *s;
    struct tc_session *sess;
    struct fl_client *c;
    int n, started, inflight;
    unsigned char hello[2048];
    size_t hello_len;
};

static int fl_is_tls(enum fl_kind k)
{
    return k == FL_SLOWLORIS || k == FL_SLOW_BODY || k == FL_SLOW_CHUNKED;
}

static void fl_closed(struct fl_client *c)
{
    if (c->tc) {
        tc_close(c->tc);
        free(c->tc);
        c->tc = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->t_closed = now_ms();
    c->phase = FL_DONE;
}

/* Piece i of a client's trickle (same bytes again after WANT_*). */
static const char *fl_piece(const struct fl_client *c, char *buf, size_t cap)
{
    if (c->pieces == 0) {
        switch (c->kind) {
        case FL_SLOWLORIS:
        case FL_PLAIN_SLOWLORIS: return "GET /healthz HTTP/1.1\r\n";
        case FL_SLOW_BODY:
            return "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                   "Content-Length: 1000\r\n\r\n{";
        default:
            return "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n";
        }
    }
    if (c->kind == FL_SLOWLORIS || c->kind == FL_PLAIN_SLOWLORIS)
        snprintf(buf, cap, "X-Slow-%d: abc\r\n", c->pieces);
    else
        snprintf(buf, cap, "%s", c->kind == FL_SLOW_BODY ? " " : "1\r\n \r\n");
    return buf;
}

static void fl_trickle(struct fl_client *c, long now)
{
    char buf[64];
    const char *p = fl_piece(c, buf, sizeof buf);
    ssize_t w;
    if (c->tc) {
        w = tc_write(c->tc, p, strlen(p));
    } else {
        w = send(c->fd, p, strlen(p), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            w = TC_WANT_WRITE;
    }
    if (w == TC_WANT_READ || w == TC_WANT_WRITE)
        return; /* retried at the next tick with the same piece */
    if (w < 0) {
        fl_closed(c); /* the server is gone from this socket: a cut */
        return;
    }
    if (c->pieces++ == 0)
        c->t_armed = now; /* first byte / complete head: the timer starts */
    c->t_next = now + FL_TRICKLE_MS;
}

static void fl_handshake(struct fl_run *r, struct fl_client *c, long now);

static void fl_open(struct fl_run *r, struct fl_client *c)
{
    c->fd = nb_connect(c->kind == FL_PLAIN_SLOWLORIS ? r->s->http_port : r->s->https_port);
    ck_assert_int_ge(c->fd, 0);
    c->t_armed = now_ms();
    c->phase = FL_WAIT;
    if (c->kind == FL_PLAIN_SLOWLORIS) {
        c->phase = FL_TRICKLE;
        fl_trickle(c, now_ms());
    } else if (fl_is_tls(c->kind)) {
        struct tc_opts o = { .session = r->sess };
        char err[128];
        c->tc = calloc(1, sizeof *c->tc);
        ck_assert_ptr_nonnull(c->tc);
        ck_assert_int_eq(tc_attach(c->tc, c->fd, &o, err, sizeof err), 0);
        c->phase = FL_HANDSHAKE;
        r->inflight++;
        fl_handshake(r, c, now_ms());
    } else if (c->kind == FL_HELLO_ONLY) {
        ck_assert_int_eq(tcp_write_all(c->fd, r->hello, r->hello_len), 0);
    } else if (c->kind == FL_PARTIAL_RECORD) {
        /* The header announces 200 bytes; 40 arrive. */
        unsigned char rec[45] = { 0x16, 0x03, 0x01, 0x00, 0xc8 };
        memcpy(rec + 5, r->hello + 5, sizeof rec - 5);
        ck_assert_int_eq(tcp_write_all(c->fd, rec, sizeof rec), 0);
    }
}

static void fl_handshake(struct fl_run *r, struct fl_client *c, long now)
{
    int rc = tc_handshake_step(c->tc);
    if (rc == TC_WANT_READ || rc == TC_WANT_WRITE) {
        c->want = rc == TC_WANT_READ ? POLLIN : POLLOUT;
        return;
    }
    r->inflight--;
    if (rc != 0) {
        c->failed = 1;
        fl_closed(c);
        return;
    }
    c->phase = FL_TRICKLE;
    fl_trickle(c, now);
}

/* Readable: the answer (408) and then the close, or only the close. */
static void fl_readable(struct fl_client *c)
{
    char buf[4096];
    for (;;) {
        ssize_t n;
        if (c->tc) {
            n = tc_read(c->tc, buf, sizeof buf, 0);
            if (n == TC_TIMEOUT)
                return;
        } else {
            n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        }
        if (n <= 0) {
            fl_closed(c);
            return;
        }
        if ((c->tc || c->kind == FL_PLAIN_SLOWLORIS) && c->first_len < sizeof c->first - 1) {
            size_t k = sizeof c->first - 1 - c->first_len;
            k = (size_t)n < k ? (size_t)n : k;
            memcpy(c->first + c->first_len, buf, k);
            c->first_len += k;
        }
    }
}

static void fl_step(struct fl_run *r, struct pollfd *pfd, int *idx)
{
    int np = 0;
    long now = now_ms(), wait = 50;
    for (int i = 0; i < r->n; i++) {
        struct fl_client *c = &r->c[i];
        if (c->phase == FL_TRICKLE && c->t_next <= now)
            fl_trickle(c, now);
        if (c->phase == FL_DONE || c->phase == FL_IDLE)
            continue;
        if (c->phase == FL_TRICKLE && c->t_next - now < wait)
            wait = c->t_next - now > 0 ? c->t_next - now : 0;
        pfd[np] = (struct pollfd){ c->fd, c->phase == FL_HANDSHAKE ? c->want : POLLIN, 0 };
        idx[np++] = i;
    }
    int n = poll(pfd, (nfds_t)np, (int)wait);
    now = now_ms();
    for (int k = 0; n > 0 && k < np; k++) {
        struct fl_client *c = &r->c[idx[k]];
        if (pfd[k].revents == 0 || c->phase == FL_DONE)
            continue;
        if (c->phase == FL_HANDSHAKE)
            fl_handshake(r, c, now);
        else
            fl_readable(c);
    }
}

/* Runs clients kinds[0..n) until every one is cut or deadline_ms passes. */
static void fl_drive(struct fl_run *r, long deadline_ms)
{
    struct pollfd *pfd = calloc((size_t)r->n, sizeof *pfd);
    int *idx = calloc((size_t)r->n, sizeof *idx);
    ck_assert(pfd != NULL && idx != NULL);
    long begin = now_ms(), end = begin + deadline_ms;
    for (;;) {
        /* The crowd builds up over a second or two: what is measured is
         * clients holding connections, not a burst of handshake CPU. */
        long allowed = 1 + (now_ms() - begin) * FL_OPEN_PER_S / 1000;
        while (r->started < r->n && r->started < allowed && r->inflight < FL_INFLIGHT)
            fl_open(r, &r->c[r->started++]);
        int live = 0;
        for (int i = 0; i < r->n; i++)
            live += r->c[i].phase != FL_DONE;
        if (live == 0 || now_ms() > end)
            break;
        fl_step(r, pfd, idx);
    }
    free(pfd);
    free(idx);
}

static void fl_setup(struct fl_run *r, const struct srv *s, struct tc_session *sess,
                     const enum fl_kind *kinds, const int *counts, int nkinds)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->sess = sess;
    for (int k = 0; k < nkinds; k++)
        r->n += counts[k];
    ck_assert_int_le(r->n, FL_MAX);
    r->c = calloc((size_t)r->n, sizeof *r->c);
    ck_assert_ptr_nonnull(r->c);
    /* Interleaved, so every kind ramps up at the same time. */
    int left[8], placed = 0;
    memcpy(left, counts, sizeof left[0] * (size_t)nkinds);
    while (placed < r->n)
        for (int k = 0; k < nkinds; k++)
            if (left[k] > 0) {
                left[k]--;
                r->c[placed++] = (struct fl_client){ .kind = kinds[k], .fd = -1 };
            }
    r->hello_len = tls_client_hello(r->hello, sizeof r->hello);
    ck_assert_uint_gt(r->hello_len, 45);
}

/* Every client of kind k was cut within [timeout - EARLY, timeout + LATE]
 * of the moment its timer started, TLS ones after a 408. */
static void fl_check(struct fl_run *r, enum fl_kind k, int timeout_ms, const char *name)
{
    int n = 0, got408 = 0;
    long lo = 1L << 30, hi = 0;
    for (int i = 0; i < r->n; i++) {
        struct fl_client *c = &r->c[i];
        if (c->kind != k)
            continue;
        n++;
        ck_assert_msg(!c->failed, "%s #%d: handshake or write failed before the cut", name, i);
        ck_assert_msg(c->phase == FL_DONE, "%s #%d: still open after the deadline", name, i);
        long dt = c->t_closed - c->t_armed;
        lo = dt < lo ? dt : lo;
        hi = dt > hi ? dt : hi;
        ck_assert_msg(dt >= timeout_ms - FL_EARLY_MS && dt <= timeout_ms + FL_LATE_MS,
                      "%s #%d: cut after %ld ms, timeout %d ms", name, i, dt, timeout_ms);
        got408 += strncmp(c->first, "HTTP/1.1 408", 12) == 0;
    }
    fprintf(stderr, "e2e_flood: %d %s cut after %ld..%ld ms (timeout %d ms), %d saw 408\n", n, name,
            lo, hi, timeout_ms, got408);
    if (fl_is_tls(k) || k == FL_PLAIN_SLOWLORIS)
        ck_assert_int_eq(got408, n);
}

static void fl_free(struct fl_run *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->c[i].phase != FL_DONE)
            fl_closed(&r->c[i]);
    free(r->c);
}

static void healthz_ok(const struct srv *s)
{
    struct http_resp r;
    https_request(s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
}

static void stop_clean(struct srv *s)
{
    ck_assert(!srv_log_contains(s, "AddressSanitizer"));
    ck_assert(!srv_log_contains(s, "runtime error"));
    ck_assert_int_eq(srv_stop(s, SIGTERM), 0);
}

/* ---- the tests ---- */

/* Runs one population against a fresh server while the probe runs. */
static void fl_scenario(const char *cfg, const enum fl_kind *kinds, const int *counts,
                        const int *timeouts, const char *const *names, int nkinds)
{
    struct srv s;
    struct tc_session sess;
    struct srv_probe p;
    struct fl_run r;
    ck_assert_int_eq(srv_start(&s, cfg, NULL), 0);
    fl_session(&s, &sess);
    fl_setup(&r, &s, &sess, kinds, counts, nkinds);
    probe_start(&p, &s);
    long t0 = now_ms();
    fl_drive(&r, 40000);
    fprintf(stderr, "e2e_flood: %d clients done in %ld ms\n", r.n, now_ms() - t0);
    probe_finish(&p);
    for (int k = 0; k < nkinds; k++)
        fl_check(&r, kinds[k], timeouts[k], names[k]);
    fl_free(&r);
    tc_session_free(&sess);
    healthz_ok(&s);
    stop_clean(&s);
}

START_TEST(slowloris_cut_by_header_timeout)
{
    static const enum fl_kind kinds[] = { FL_SLOWLORIS, FL_PLAIN_SLOWLORIS };
    static const int counts[] = { 1000, 200 }, timeouts[] = { 1500, 1500 };
    static const char *const names[] = { "TLS slowloris", "plain-HTTP slowloris" };
    fl_scenario("{\"timeouts\": {\"header_ms\": 1500, \"handshake_ms\": 10000,"
                " \"keepalive_ms\": 20000}}",
                kinds, counts, timeouts, names, 2);
}
END_TEST

START_TEST(slow_body_cut_by_body_timeout)
{
    static const enum fl_kind kinds[] = { FL_SLOW_BODY, FL_SLOW_CHUNKED };
    static const int counts[] = { 100, 100 }, timeouts[] = { 2500, 2500 };
    static const char *const names[] = { "slow Content-Length bodies", "slow chunked bodies" };
    fl_scenario("{\"timeouts\": {\"header_ms\": 1000, \"body_ms\": 2500, \"keepalive_ms\": 20000},"
                " \"server\": {\"http_port\": -1}}",
                kinds, counts, timeouts, names, 2);
}
END_TEST

START_TEST(half_open_handshakes_cut)
{
    static const enum fl_kind kinds[] = { FL_SILENT, FL_HELLO_ONLY, FL_PARTIAL_RECORD };
    static const int counts[] = { 200, 100, 100 }, timeouts[] = { 1500, 1500, 1500 };
    static const char *const names[] = { "silent TCP connections", "ClientHello-only handshakes",
                                         "partial TLS records" };
    fl_scenario("{\"timeouts\": {\"handshake_ms\": 1500, \"header_ms\": 5000},"
                " \"server\": {\"http_port\": -1}}",
                kinds, counts, timeouts, names, 3);
}
END_TEST

/* ---- flood past max_connections ---- */

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* /healthz answers 200 within ms (the server may need a moment to see
 * hundreds of closes). */
static void healthz_within(const struct srv *s, int ms)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    long end = now_ms() + ms;
    int status = 0;
    while (status != 200 && now_ms() < end) {
        struct tc_opts o = { .ca_file = s->ca_file, .timeout_ms = 2000 };
        struct tc_conn c;
        struct http_resp r;
        char carry[1], err[128];
        size_t cl = 0;
        if (tc_connect(&c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0 &&
            tc_write_all(&c, req, sizeof req - 1, 2000) == 0 &&
            resp_read(tls_source, &c, &r, 2000, carry, sizeof carry, &cl) == 0)
            status = r.status;
        tc_close(&c);
        if (status != 200)
            usleep(50000);
    }
    ck_assert_int_eq(status, 200);
}

/* One of the accepted connections of a flood is served normally. */
static void serve_accepted(const struct srv *s, int fd)
{
    struct tc_conn c;
    struct tc_opts o = { .ca_file = s->ca_file };
    struct http_resp r;
    char err[128], carry[1];
    size_t cl = 0;
    int rc;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ck_assert_int_eq(tc_attach(&c, fd, &o, err, sizeof err), 0);
    long end = now_ms() + 5000;
    while ((rc = tc_handshake_step(&c)) == TC_WANT_READ || rc == TC_WANT_WRITE) {
        struct pollfd p = { fd, rc == TC_WANT_READ ? POLLIN : POLLOUT, 0 };
        ck_assert_int_lt(now_ms(), end);
        poll(&p, 1, 100);
    }
    ck_assert_msg(rc == 0, "handshake on an accepted flood connection: %s", tc_error(&c));
    ck_assert_int_eq(tc_write_all(&c, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 35, 5000), 0);
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 5000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 200);
    tc_close(&c);
}

START_TEST(flood_past_max_connections_refused_then_recovers)
{
    enum { CAP = 200, FLOOD = 600, AGAIN = 120 };
    static int fds[FLOOD];
    struct srv s;
    ck_assert_int_eq(srv_start(&s,
                               "{\"server\": {\"max_connections\": 200, \"workers\": 2,"
                               " \"http_port\": -1}, \"timeouts\": {\"handshake_ms\": 30000}}",
                               NULL),
                     0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < FLOOD; i++)
            ck_assert_int_ge(fds[i] = tcp_connect(s.https_port), 0);
        /* Past the limit: closed at once, i.e. within a second. */
        int closed = tcp_wait_closed(fds, FLOOD, 1000);
        fprintf(stderr, "e2e_flood: flood round %d: %d of %d refused at once\n", round, closed,
                FLOOD);
        ck_assert_int_ge(closed, FLOOD - CAP);
        /* The slots are full: a newcomer is refused at once too, not left hanging. */
        int extra = tcp_connect(s.https_port);
        ck_assert_int_ge(extra, 0);
        ck_assert_int_eq(tcp_wait_closed(&extra, 1, 1000), 1);
        /* The accepted ones are served. */
        for (int i = 0; i < FLOOD; i++)
            if (fds[i] >= 0) {
                serve_accepted(&s, fds[i]);
                close(fds[i]);
                fds[i] = -1;
                break;
            }
        close_all(fds, FLOOD);
        healthz_within(&s, 5000);
        /* Every slot came back: a smaller crowd is all accepted. */
        for (int i = 0; i < AGAIN; i++)
            ck_assert_int_ge(fds[i] = tcp_connect(s.https_port), 0);
        ck_assert_int_eq(tcp_wait_closed(fds, AGAIN, 700), 0);
        close_all(fds, AGAIN);
        healthz_within(&s, 5000);
    }
    stop_clean(&s);
}
END_TEST

/* 1000+ sockets in this process; the server child inherits the limit. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096)
        fprintf(stderr, "e2e_flood: RLIMIT_NOFILE is %llu: the 1000-client test may fail\n",
                (unsigned long long)rl.rlim_cur);
}

static Suite *flood_suite(void)
{
    Suite *s = suite_create("e2e_flood");
    TCase *tc = tcase_create("flood");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, slowloris_cut_by_header_timeout);
    tcase_add_test(tc, slow_body_cut_by_body_timeout);
    tcase_add_test(tc, half_open_handshakes_cut);
    tcase_add_test(tc, flood_past_max_connections_refused_then_recovers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(flood_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
