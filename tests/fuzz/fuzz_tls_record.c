/* fuzz_tls_record: bytes a client sends to the HTTPS port, through the
 * project's own TLS path (tls/tls.c: the BIO callbacks over a non-blocking
 * socket, the plaintext sniffing, the stepped handshake, reads).
 *
 * Once: a dev certificate (tls_certgen_dev) in a private temporary
 * directory, a tls_server with session tickets and a tls_loop, as
 * server/main.c sets them up.
 * Per input: a socketpair; a server-side tls_conn on one end; the input
 * written to the other end in chunks (sizes derived from the input length,
 * so replays are exact) while the server is driven as the connection state
 * machine would (handshake, then reads) and whatever it answers is drained;
 * then the client end is shut down for writing. The server must reach a
 * final verdict (closed, error, plaintext) within a bounded number of steps
 * after the end of input, never complete a handshake (that takes keys no
 * fuzzed byte stream has), and never crash. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "tls/certgen.h"
#include "tls/tls.h"

/* mbedTLS comes from Debian, not built with coverage instrumentation, so
 * libFuzzer would see only tls.c's few branches. These extra counters (a
 * libFuzzer feature: bytes in this section count as coverage) tell it how
 * far into the handshake an input got: which mbedTLS error ended it, how
 * many bytes the server consumed and wrote (log2 buckets), the verdict. */
#define XC_ERR     0   /* 256 buckets: hash of the error text (has the code) */
#define XC_READ    256 /* 32: log2 of bytes the server read */
#define XC_WRITTEN 288 /* 32: log2 of bytes the server wrote */
#define XC_VERDICT 320 /* 8: -rc of the final verdict */
#define XC_SIZE    328
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t extra_counters[XC_SIZE];

struct io_seen {
    size_t read, written;
};

static unsigned log2_bucket(size_t n)
{
    unsigned b = 0;

    while (n > 0 && b < 31) {
        n >>= 1;
        b++;
    }
    return b;
}

static void count_verdict(const struct tls_conn *c, const struct io_seen *io, ssize_t rc)
{
    const char *e = tls_conn_last_error(c);
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *e != '\0'; e++)
        h = (h ^ (unsigned char)*e) * 16777619u;
    extra_counters[XC_ERR + h % 256] = 1;
    extra_counters[XC_READ + log2_bucket(io->read)] = 1;
    extra_counters[XC_WRITTEN + log2_bucket(io->written)] = 1;
    extra_counters[XC_VERDICT + (size_t)(-rc) % 8] = 1;
}

/* Steps after the input ran out: enough for mbedTLS to see EOF (one read)
 * plus slack; a server still waiting after that would hang a worker. */
#define STEPS_AFTER_EOF 8

static struct tls_server *srv;
static struct tls_loop *loop;

static void free_tls(void)
{
    tls_loop_release(loop);
    tls_server_release(srv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tls_dev_paths paths;
    struct tls_server_opts o;
    char err[256];

    (void)argc;
    (void)argv;
    FUZZ_SETUP(tls_global_init(err, sizeof err) == 0, err);
    FUZZ_SETUP(tls_certgen_dev(fuzz_tmpdir_make("tls"), &paths, err, sizeof err) == 0, err);
    o.cert_file = paths.cert_file;
    o.key_file = paths.key_file;
    o.session_tickets = 1;
    o.ticket_lifetime_s = 86400;
    o.tickets = NULL;
    FUZZ_SETUP(tls_server_load(&srv, &o, err, sizeof err) == 0, err);
    FUZZ_SETUP(tls_loop_setup(&loop, srv, err, sizeof err) == 0, err);
    atexit(free_tls);
    return 0;
}

static void observe(void *arg, char dir, const unsigned char *p, size_t n)
{
    struct io_seen *io = arg;

    FUZZ_CHECK((dir == 'r' || dir == 'w') && p != NULL && n > 0);
    if (dir == 'r')
        io->read += n;
    else
        io->written += n;
}

/* Reads and drops what the server sent; the client end never blocks. */
static void drain(int fd)
{
    unsigned char sink[4096];

    while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
        ;
}

/* One step of the connection state machine: 1 to go on, 0 at a verdict
 * (*verdict set). */
static int step(struct tls_conn *c, int *hs_done, ssize_t *verdict)
{
    unsigned char buf[4096];
    ssize_t rc;

    if (!*hs_done) {
        rc = tls_conn_handshake(c);
        if (rc == 0) {
            *hs_done = 1;
            return 1;
        }
    } else {
        rc = tls_conn_read(c, buf, sizeof buf);
        if (rc > 0)
            return 1;
    }
    FUZZ_CHECK(rc == TLS_WANT_READ || rc == TLS_WANT_WRITE || rc == TLS_CLOSED || rc == TLS_ERROR ||
               rc == TLS_PLAINTEXT);
    *verdict = rc;
    return rc == TLS_WANT_READ || rc == TLS_WANT_WRITE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tls_conn *c = NULL;
    struct fuzz_rng rng;
    struct io_seen io = { 0, 0 };
    size_t off = 0;
    ssize_t verdict = 0;
    int sv[2], hs_done = 0, live = 1, after_eof = 0;
    unsigned char b[16];

    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    FUZZ_CHECK(tls_conn_setup(&c, loop, sv[0]) == 0);
    tls_conn_set_observer(c, observe, &io);
    fuzz_rng_seed(&rng, (uint8_t)size, (uint8_t)(size >> 8));

    while (live && off < size) {
        size_t chunk = fuzz_rng_range(&rng, 1, 512);
        ssize_t w;

        if (chunk > size - off)
            chunk = size - off;
        w = send(sv[1], data + off, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
        FUZZ_CHECK(w > 0 || errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
        if (w <= 0 && errno != EAGAIN)
            break; /* the server closed its end */
        if (w > 0)
            off += (size_t)w;
        drain(sv[1]);
        live = step(c, &hs_done, &verdict);
    }
    FUZZ_CHECK(shutdown(sv[1], SHUT_WR) == 0);
    while (live) {
        FUZZ_CHECK(after_eof++ < STEPS_AFTER_EOF);
        drain(sv[1]);
        live = step(c, &hs_done, &verdict);
    }
    count_verdict(c, &io, verdict);
    /* A connection at its verdict stays there, and tidying up is safe. */
    FUZZ_CHECK(tls_conn_read(c, b, sizeof b) < 0);
    (void)tls_conn_pending(c);
    tls_conn_close_notify(c);
    FUZZ_CHECK(tls_conn_last_error(c) != NULL && tls_conn_version(c) != NULL);
    /* Finishing a handshake takes the ECDHE secret or a ticket key: no
     * fuzzed byte stream can have it. */
    FUZZ_CHECK(!hs_done && !tls_conn_resumed(c));
    tls_conn_free(c);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
