/* demo.c: the exchanges measured by `portcullis demo` and POST /demo/run
 * (demo_compare.c puts them together; the document is in the README's demo
 * section).
 *
 * Everything is measured on the client's own socket, so it works against any
 * server: an observer sees every byte read and written (tls_client's for
 * HTTPS, ours for plain HTTP) and feeds a wire capture, the byte counters,
 * the handshake round-trip count and the time of the first response byte.
 * The login is done once per side for the transcript; the timings are the
 * median of `runs` fresh connections with GET /healthz, a request without
 * server work, so they show the cost of the transport and not of argon2. */
#include "demo/demo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/buf.h"
#include "demo/demo_int.h"
#include "demo/wire.h"
#include "server/clock.h"
#include "server/hex.h"
#include "tls/client.h"

#define DEMO_TIMEOUT_MS    10000
#define DEMO_RESP_MAX      (256 * 1024)
#define DEMO_CAPTURE_BYTES 65536
#define DEMO_POLL_SLICE_MS 50

/* What one connection's observer counts. */
struct demo_io {
    struct wire_cap *cap; /* NULL: not captured */
    size_t sent, received;
    int handshaking, round_trips;
    char last;      /* direction of the previous read/write */
    int want_first; /* waiting for the first response byte */
    uint64_t t_first;
};

struct demo_conn {
    const struct demo_run *x;
    int fd;
    struct tls_client *tls;
    struct demo_io io;
    uint64_t deadline;
    char *err;
    size_t errlen;
};

static double demo_ms(uint64_t from, uint64_t to)
{
    return to > from ? (double)(to - from) / 1000.0 : 0.0;
}

static void demo_observe(void *arg, char dir, const unsigned char *p, size_t n)
{
    struct demo_io *io = arg;
    wire_cap_record(io->cap, dir, p, n);
    if (dir == 'w') {
        io->sent += n;
    } else {
        io->received += n;
        /* Each time the client, having sent, must wait for the server: one
         * round trip (a full TLS 1.2 handshake has two, a resumed one). */
        if (io->handshaking && io->last == 'w')
            io->round_trips++;
        if (io->want_first) {
            io->want_first = 0;
            io->t_first = clock_mono_us();
        }
    }
    io->last = dir;
}

/* ---- socket waits ------------------------------------------------------ */

static int demo_cancelled(const struct demo_conn *c)
{
    return c->x->o->cancel != NULL && atomic_load(c->x->o->cancel) != 0;
}

/* Waits in short slices so a cancel (server shutdown) is seen quickly. */
static int demo_wait(struct demo_conn *c, short events)
{
    for (;;) {
        if (demo_cancelled(c)) {
            snprintf(c->err, c->errlen, "cancelled");
            return -1;
        }
        uint64_t now = clock_mono_us();
        if (now >= c->deadline) {
            snprintf(c->err, c->errlen, "timed out");
            return -1;
        }
        uint64_t left = (c->deadline - now) / 1000 + 1;
        struct pollfd pfd = { .fd = c->fd, .events = events };
        int n = poll(&pfd, 1, left < DEMO_POLL_SLICE_MS ? (int)left : DEMO_POLL_SLICE_MS);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            snprintf(c->err, c->errlen, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static int demo_tls_wait(struct demo_conn *c, ssize_t rc)
{
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
        return demo_wait(c, rc == TLS_WANT_READ ? POLLIN : POLLOUT);
    if (rc == TLS_CLOSED)
        snprintf(c->err, c->errlen, "the server closed the connection");
    else
        snprintf(c->err, c->errlen, "%s", tls_client_last_error(c->tls));
    return -1;
}

static int demo_connect_one(struct demo_conn *c, const struct addrinfo *ai)
{
    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (c->fd < 0)
        return -1;
    /* As browsers do: without it the small writes that end a handshake meet
     * the peer's delayed ACK and every first request waits ~40 ms. */
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno == EINPROGRESS && demo_wait(c, POLLOUT) == 0 &&
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
        return 0;
    if (soerr != 0)
        snprintf(c->err, c->errlen, "connect: %s", strerror(soerr));
    close(c->fd);
    c->fd = -1;
    return -1;
}

static int demo_connect(struct demo_conn *c, const char *host, int port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(c->err, c->errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    snprintf(c->err, c->errlen, "cannot connect to %s port %d", host, port);
    for (const struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
        demo_connect_one(c, ai);
    freeaddrinfo(res);
    return c->fd >= 0 ? 0 : -1;
}

/* ---- I/O, plain or TLS --------------------------------------------------- */

static int demo_write_all(struct demo_conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r;
        if (c->tls) {
            r = tls_client_write(c->tls, p, n);
            if (r < 0 && demo_tls_wait(c, r) != 0)
                return -1;
        } else {
            r = send(c->fd, p, n, MSG_NOSIGNAL);
            if (r > 0) {
                demo_observe(&c->io, 'w', (const unsigned char *)p, (size_t)r);
            } else if (errno != EAGAIN && errno != EINTR) {
                snprintf(c->err, c->errlen, "send: %s", strerror(errno));
                return -1;
            } else if (demo_wait(c, POLLOUT) != 0) {
                return -1;
            }
        }
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        }
    }
    return 0;
}

/* > 0 bytes, 0 at the end of the stream, -1 on error or timeout. */
static ssize_t demo_read(struct demo_conn *c, char *p, size_t n)
{
    for (;;) {
        ssize_t r;
        if (c->tls) {
            r = tls_client_read(c->tls, p, n);
            if (r > 0)
                return r;
            if (r == TLS_CLOSED)
                return 0;
            if (demo_tls_wait(c, r) != 0)
                return -1;
        } else {
            r = recv(c->fd, p, n, 0);
            if (r > 0) {
                demo_observe(&c->io, 'r', (const unsigned char *)p, (size_t)r);
                return r;
            }
            if (r == 0 || errno == ECONNRESET)
                return 0;
            if (errno != EAGAIN && errno != EINTR) {
                snprintf(c->err, c->errlen, "recv: %s", strerror(errno));
                return -1;
            }
            if (demo_wait(c, POLLIN) != 0)
                return -1;
        }
    }
}

/* Length of the head ("\r\n\r\n" included) once complete, the status and
 * the Content-Length (-1 when absent). 0 while incomplete. */
static size_t demo_parse_head(const char *p, size_t n, int *status, long *clen)
{
    const char *end = n > 0 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
    if (end == NULL)
        return 0;
    *status = 0;
    *clen = -1;
    if (n > 12 && strncmp(p, "HTTP/1.", 7) == 0)
        *status = atoi(p + 9);
    for (const char *l = memchr(p, '\n', (size_t)(end - p)); l != NULL && l < end;
         l = memchr(l + 1, '\n', (size_t)(end - l))) {
        if (strncasecmp(l + 1, "content-length:", 15) == 0)
            *clen = strtol(l + 16, NULL, 10);
    }
    return (size_t)(end - p) + 4;
}

/* Reads one response: by Content-Length, or to the end of the stream. */
static int demo_read_response(struct demo_conn *c, struct buf *in, int *status)
{
    long clen = -1;
    size_t head = 0;
    for (;;) {
        if (head == 0)
            head = demo_parse_head(buf_head(in), in->len, status, &clen);
        if (head > 0 && clen >= 0 && in->len >= head + (size_t)clen)
            return 0;
        if (buf_reserve(in, 4096) != 0) {
            snprintf(c->err, c->errlen, "response too large");
            return -1;
        }
        ssize_t r = demo_read(c, buf_tail(in), buf_room(in));
        if (r < 0)
            return -1;
        if (r == 0) {
            if (head > 0)
                return 0;
            snprintf(c->err, c->errlen, "the server closed the connection without an answer");
            return -1;
        }
        in->len += (size_t)r;
    }
}

/* ---- one measured exchange ---------------------------------------------- */

static int demo_handshake(struct demo_conn *c, const struct demo_exchange *e, const char *sni)
{
    struct tls_client_config *cfg = e->tls == DEMO_TLS12 ? c->x->tls12 : c->x->tls;
    if (tls_client_setup(&c->tls, cfg, c->fd, sni, e->resume, c->err, c->errlen) != 0)
        return -1;
    tls_client_set_observer(c->tls, demo_observe, &c->io);
    c->io.handshaking = 1;
    int rc;
    while ((rc = tls_client_handshake(c->tls)) != 0)
        if (demo_tls_wait(c, rc) != 0)
            return -1;
    c->io.handshaking = 0;
    return 0;
}

static void demo_tls_facts(struct demo_conn *c, struct demo_exchange *e)
{
    e->p.resumed = tls_client_resumed(c->tls);
    e->verified = tls_client_verified(c->tls);
    snprintf(e->version, sizeof e->version, "%s", tls_client_version(c->tls));
    snprintf(e->suite, sizeof e->suite, "%s", tls_client_ciphersuite(c->tls));
}

int demo_exchange_run(const struct demo_run *x, struct demo_exchange *e, char *err, size_t errlen)
{
    struct demo_conn c = { .x = x, .fd = -1, .err = err, .errlen = errlen };
    struct buf in;
    int rc = -1;
    buf_init(&in, DEMO_RESP_MAX);
    memset(&e->p, 0, sizeof e->p);
    c.io.cap = e->cap;
    c.deadline = clock_mono_us() + (uint64_t)x->timeout_ms * 1000u;
    if (e->cap != NULL)
        wire_cap_open(e->cap, x->ring, e->tls ? x->o->https_host : x->o->http_host,
                      e->tls ? x->o->https_port : x->o->http_port);
    uint64_t t0 = clock_mono_us();
    if (demo_connect(&c, e->tls ? x->o->https_host : x->o->http_host,
                     e->tls ? x->o->https_port : x->o->http_port) != 0)
        goto out;
    uint64_t t1 = clock_mono_us();
    if (e->tls && demo_handshake(&c, e, x->server_name) != 0)
        goto out;
    uint64_t t2 = clock_mono_us();
    c.io.want_first = 1;
    if (demo_write_all(&c, e->request, e->request_len) != 0 ||
        demo_read_response(&c, &in, &e->p.status) != 0)
        goto out;
    uint64_t t3 = clock_mono_us();
    e->p.connect_ms = demo_ms(t0, t1);
    e->p.handshake_ms = demo_ms(t1, t2);
    e->p.ttfb_ms = demo_ms(t2, c.io.t_first);
    e->p.total_ms = demo_ms(t0, t3);
    e->p.sent = (double)c.io.sent;
    e->p.received = (double)c.io.received;
    e->p.round_trips = c.io.round_trips;
    if (c.tls) {
        demo_tls_facts(&c, e);
        if (e->save != NULL && tls_client_session_save(c.tls, e->save) != 0)
            *e->save = NULL; /* no ticket: the resumed runs say so */
    }
    rc = 0;
out:
    if (c.tls) {
        tls_client_close_notify(c.tls);
        tls_client_free(c.tls);
    }
    wire_cap_close(e->cap);
    if (c.fd >= 0)
        close(c.fd);
    buf_free(&in);
    return rc;
}

/* ---- setup --------------------------------------------------------------- */

static int demo_is_ip_literal(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int demo_run_setup(struct demo_run *x, const struct demo_opts *o, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->o = o;
    x->runs = o->runs <= 0 ? DEMO_RUNS_DEFAULT : o->runs > DEMO_RUNS_MAX ? DEMO_RUNS_MAX : o->runs;
    x->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEMO_TIMEOUT_MS;
    /* The name checked: the dev certificate carries "localhost" next to its
     * IP addresses. */
    const char *sni = o->server_name                      ? o->server_name
                      : demo_is_ip_literal(o->https_host) ? "localhost"
                                                          : o->https_host;
    snprintf(x->server_name, sizeof x->server_name, "%s", sni);
    if (tls_client_config_setup(&x->tls, o->ca_file, err, errlen) != 0)
        return -1;
    if (o->tls12) {
        if (tls_client_config_setup(&x->tls12, o->ca_file, err, errlen) != 0) {
            demo_run_free(x);
            return -1;
        }
        tls_client_config_max_tls12(x->tls12);
    }
    if (wire_ring_create(&x->ring, 4, DEMO_CAPTURE_BYTES) != 0) {
        snprintf(err, errlen, "demo: out of memory");
        demo_run_free(x);
        return -1;
    }
    return 0;
}

void demo_run_free(struct demo_run *x)
{
    tls_client_config_free(x->tls);
    tls_client_config_free(x->tls12);
    wire_ring_free(x->ring);
    x->tls = NULL;
    x->tls12 = NULL;
    x->ring = NULL;
}

/* A throwaway name when the default one belongs to someone else. */
void demo_random_user(char *out, size_t outlen)
{
    unsigned char r[6];
    char hex[13];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        memset(r, 0, sizeof r); /* a fixed name still works, once */
    hex_encode(hex, r, sizeof r);
    snprintf(out, outlen, "demo-%s", hex);
}
