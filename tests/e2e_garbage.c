/* e2e_garbage.c: random bytes and truncated TLS records against the real
 * binary (loopback only, bounded, see tests/RELIABILITY.md). Batches of
 * connections each send one kind of garbage — random bytes, a handshake
 * record of random length, a ClientHello cut short, followed by noise or
 * with bytes flipped, an application record that fails its MAC or is cut
 * short after a real handshake, random bytes on the plain-HTTP port, or
 * nothing — then close, reset, or wait. The server must close every
 * waiting connection within its longest timeout, keep answering a normal
 * client within 1 s, and stop cleanly (exit 0, so no worker hung and
 * nothing crashed; under ASan no error either).
 *
 * The seed is printed; PC_GARBAGE_SEED replays a run. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/https.h"

#define BATCHES    3
#define PER_BATCH  200
#define TIMEOUT_MS 1000 /* handshake, header and keep-alive timeouts */
#define LATE_MS    3000 /* slack for a loaded machine */

/* The normal client's bound per /healthz: 1 s. Sanitizer builds run the
 * server several times slower (every ASan allocation is fresh, faulting
 * memory) while ctest -j2 runs another test beside this one, so there the
 * bound is looser; the normal build checks the 1 s. */
#if defined(__SANITIZE_ADDRESS__)
#define PROBE_MAX_MS 2500
#else
#define PROBE_MAX_MS 1000
#endif

/* ---- deterministic randomness ---- */

static unsigned long long g_rng;

static void rng_seed(void)
{
    const char *env = getenv("PC_GARBAGE_SEED");
    g_rng = env ? strtoull(env, NULL, 0) : (unsigned long long)time(NULL) * 2654435761ull;
    if (g_rng == 0)
        g_rng = 1;
    fprintf(stderr, "e2e_garbage: PC_GARBAGE_SEED=%llu\n", g_rng);
}

static unsigned rng_next(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng >> 16);
}

static void rng_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rng_next();
}

/* ---- kinds of garbage ---- */

enum {
    G_RANDOM,
    G_RECORD_HEADER,
    G_HELLO_CUT,
    G_HELLO_TAIL,
    G_HELLO_FLIP,
    G_APP_GARBAGE,
    G_APP_CUT,
    G_HTTP_RANDOM,
    G_EMPTY,
    G_KINDS
};

/* A ticket from one full handshake, so later connections resume cheaply. */
static void get_session(const struct srv *s, struct tc_session *sess)
{
    struct tc_conn c;
    struct http_resp r;
    tls_open(&c, s);
    tls_exchange(&c, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(tc_get_session(&c, sess), 0);
    tc_close(&c);
}

/* A connection that finished a (resumed) handshake, as a raw fd. */
static int resumed_fd(const struct srv *s, const struct tc_session *sess)
{
    struct tc_conn c;
    struct tc_opts o = { .session = sess, .timeout_ms = 5000 };
    char err[128];
    ck_assert_msg(tc_connect(&c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0, "%s", err);
    int fd = dup(c.fd);
    tc_close(&c);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* Fills b with garbage of `kind`; returns its length. */
static size_t garbage_make(int kind, unsigned char *b, size_t cap, const unsigned char *hello,
                           size_t hello_len)
{
    size_t n = 1 + rng_next() % cap;
    rng_fill(b, n);
    switch (kind) {
    case G_RECORD_HEADER: /* a handshake record of random length and body */
    case G_APP_GARBAGE:   /* or an application record that fails its MAC */
        b[0] = kind == G_RECORD_HEADER ? 0x16 : 0x17;
        b[1] = 0x03;
        b[2] = (unsigned char)(rng_next() % 5);
        return n < 5 ? 5 : n;
    case G_HELLO_CUT: memcpy(b, hello, hello_len); return 1 + rng_next() % (hello_len - 1);
    case G_HELLO_TAIL: /* a valid hello, then noise where the next record goes */
        memcpy(b, hello, hello_len);
        return hello_len + 1 + rng_next() % 512;
    case G_HELLO_FLIP: /* a hello with a few bytes changed */
        memcpy(b, hello, hello_len);
        for (unsigned k = 0, m = 1 + rng_next() % 8; k < m; k++)
            b[rng_next() % hello_len] = (unsigned char)rng_next();
        return hello_len;
    case G_APP_CUT: /* an application record announcing more than comes */
        memcpy(b, "\x17\x03\x03\x01\x00", 5);
        return 5 + rng_next() % 200;
    case G_EMPTY: return 0;
    default: return n;
    }
}

/* Sends one kind of garbage on a new connection; returns the fd. */
static int garbage_send(const struct srv *s, const struct tc_session *sess, int kind,
                        const unsigned char *hello, size_t hello_len)
{
    unsigned char b[4096];
    int fd = kind == G_APP_GARBAGE || kind == G_APP_CUT
                 ? resumed_fd(s, sess)
                 : tcp_connect(kind == G_HTTP_RANDOM ? s->http_port : s->https_port);
    ck_assert_int_ge(fd, 0);
    size_t n = garbage_make(kind, b, sizeof b, hello, hello_len);
    if (n > 0)
        (void)tcp_write_all(fd, b, n); /* the server may already have closed */
    return fd;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

START_TEST(garbage_never_crashes_or_hangs)
{
    static int fds[PER_BATCH];
    struct srv s;
    struct tc_session sess;
    struct srv_probe p;
    struct http_resp r;
    unsigned char hello[2048];
    int kept_total = 0;
    rng_seed();
    ck_assert_int_eq(srv_start(&s,
                               "{\"timeouts\": {\"handshake_ms\": 1000, \"header_ms\": 1000,"
                               " \"keepalive_ms\": 1000}}",
                               NULL),
                     0);
    get_session(&s, &sess);
    size_t hello_len = tls_client_hello(hello, sizeof hello);
    ck_assert_uint_gt(hello_len, 5);
    ck_assert_int_eq(srv_probe_start(&p, &s), 0);
    for (int batch = 0; batch < BATCHES; batch++) {
        int kept = 0;
        for (int i = 0; i < PER_BATCH; i++) {
            int fd = garbage_send(&s, &sess, (int)(rng_next() % G_KINDS), hello, hello_len);
            unsigned how = rng_next() % 3;
            if (how == 0) {
                struct linger lg = { 1, 0 }; /* reset instead of FIN */
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
            if (how < 2)
                close(fd);
            else
                fds[kept++] = fd;
        }
        /* Whatever was sent, the server closes within its longest timeout. */
        int closed = tcp_wait_closed(fds, kept, TIMEOUT_MS + LATE_MS);
        close_all(fds, kept);
        ck_assert_int_eq(closed, kept);
        kept_total += kept;
        https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
        ck_assert_int_eq(r.status, 200);
    }
    srv_probe_stop(&p);
    fprintf(stderr,
            "e2e_garbage: %d garbage connections, %d waited for the server's close;"
            " normal client: %d /healthz, %d failed, median %ld ms, worst %ld ms (bound %d ms)\n",
            BATCHES * PER_BATCH, kept_total, p.count, p.failures, p.median_ms, p.worst_ms,
            PROBE_MAX_MS);
    ck_assert_int_ge(p.count, 5);
    ck_assert_msg(p.failures == 0, "%d /healthz failed (last: %s)", p.failures, p.last_err);
    ck_assert_msg(p.worst_ms <= PROBE_MAX_MS, "a /healthz took %ld ms", p.worst_ms);
    tc_session_free(&sess);
    ck_assert(!srv_log_contains(&s, "AddressSanitizer"));
    ck_assert(!srv_log_contains(&s, "runtime error"));
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *garbage_suite(void)
{
    Suite *s = suite_create("e2e_garbage");
    TCase *tc = tcase_create("garbage");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, garbage_never_crashes_or_hangs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(garbage_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
