/* test_tls.c: the server side of tls/ against a real mbedTLS client over a
 * non-blocking socketpair, both stepped in one thread: policy (versions,
 * suites, curves, ALPN), data, tickets, plaintext/garbage detection, close
 * semantics, load errors and reference counting. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/tls_client.h"
#include "tls/certgen.h"
#include "tls/compat.h"
#include "tls/tls.h"

#define MAX_STEPS 200

static char g_dir[256];
static struct tls_dev_paths g_paths;

/* Bytes the observer saw, and the start of what the server wrote. */
struct wire {
    size_t r, w;
    unsigned char out[8192];
};

static void count_wire(void *arg, char dir, const unsigned char *p, size_t n)
{
    struct wire *wc = arg;

    if (dir == 'r') {
        wc->r += n;
        return;
    }
    if (wc->w < sizeof wc->out)
        memcpy(wc->out + wc->w, p, n < sizeof wc->out - wc->w ? n : sizeof wc->out - wc->w);
    wc->w += n;
}

/* The named curve in the server's TLS 1.2 ServerKeyExchange (sent in the
 * clear): handshake type 12, ECParameters curve_type 3 (named_curve), then
 * the IANA group id. mbedTLS puts each handshake message in its own record.
 * Returns -1 when there is none. */
static int ske_curve(const struct wire *wc)
{
    size_t n = wc->w < sizeof wc->out ? wc->w : sizeof wc->out;
    const unsigned char *b = wc->out;

    for (size_t off = 0; off + 5 <= n;) {
        size_t len = (size_t)b[off + 3] << 8 | b[off + 4];
        const unsigned char *m = b + off + 5;
        if (b[off] == 0x16 && off + 5 + len <= n && len >= 7 && m[0] == 12 && m[4] == 3)
            return m[5] << 8 | m[6];
        off += 5 + len;
    }
    return -1;
}

/* One server connection and its peer socket. */
struct side {
    int sfd, cfd;
    struct tls_server *srv;
    struct tls_loop *loop;
    struct tls_conn *conn;
    struct wire wire;
};

static struct tls_server *server_new(int tickets)
{
    struct tls_server_opts o = { g_paths.cert_file, g_paths.key_file, tickets, 3600 };
    struct tls_server *s;
    char err[256];

    ck_assert_msg(tls_server_load(&s, &o, err, sizeof err) == 0, "load: %s", err);
    return s;
}

static void side_open(struct side *sd, struct tls_server *srv)
{
    int sv[2];
    char err[256];

    memset(sd, 0, sizeof *sd);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    sd->sfd = sv[0];
    sd->cfd = sv[1];
    sd->srv = srv;
    ck_assert_msg(tls_loop_setup(&sd->loop, srv, err, sizeof err) == 0, "loop: %s", err);
    ck_assert_int_eq(tls_conn_setup(&sd->conn, sd->loop, sd->sfd), 0);
    tls_conn_set_observer(sd->conn, count_wire, &sd->wire);
}

static void side_close(struct side *sd)
{
    tls_conn_free(sd->conn);
    tls_loop_release(sd->loop);
    if (sd->sfd >= 0)
        close(sd->sfd);
    if (sd->cfd >= 0)
        close(sd->cfd);
}

static void client_attach(struct tc_conn *c, int fd, struct tc_opts *o)
{
    char err[256];

    if (o->ca_file == NULL)
        o->ca_file = g_paths.ca_file;
    ck_assert_msg(tc_attach(c, fd, o, err, sizeof err) == 0, "attach: %s", err);
}

static int srv_want(int r) { return r == TLS_WANT_READ || r == TLS_WANT_WRITE; }
static int cli_want(int r) { return r == TC_WANT_READ || r == TC_WANT_WRITE; }

/* Alternates handshake steps until both ends finish or fail. A server that
 * failed may leave the client waiting for ever: give it a few more steps. */
static void pump(struct tls_conn *s, struct tc_conn *c, int *srv_ret, int *cli_ret)
{
    int sr = TLS_WANT_READ, cr = TC_WANT_WRITE, after = 0;

    for (int i = 0; i < MAX_STEPS; i++) {
        if (cli_want(cr))
            cr = tc_handshake_step(c);
        if (srv_want(sr))
            sr = tls_conn_handshake(s);
        if (!srv_want(sr) && (!cli_want(cr) || ++after > 5))
            break;
    }
    *srv_ret = sr;
    *cli_ret = cr;
}

static void handshake_ok(struct side *sd, struct tc_conn *c)
{
    int sr, cr;

    pump(sd->conn, c, &sr, &cr);
    ck_assert_msg(sr == 0, "server %d: %s", sr, tls_conn_last_error(sd->conn));
    ck_assert_msg(cr == 0, "client %d: %s", cr, tc_error(c));
}

static void handshake_refused(struct side *sd, struct tc_conn *c)
{
    int sr, cr;

    pump(sd->conn, c, &sr, &cr);
    ck_assert_int_eq(sr, TLS_ERROR);
    ck_assert_str_ne(tls_conn_last_error(sd->conn), "");
    ck_assert_int_ne(cr, 0);
}

/* ---- negotiation ------------------------------------------------------- */

static const int six_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

static int is_allowed_suite(const char *name)
{
    for (size_t i = 0; i < sizeof six_suites / sizeof six_suites[0]; i++)
        if (strcmp(name, mbedtls_ssl_get_ciphersuite_name(six_suites[i])) == 0)
            return 1;
    return 0;
}

START_TEST(tls12_handshake_policy)
{
    const char *alpn[] = { "h2", "http/1.1", NULL };
    struct tc_opts o = { .max_version = TC_TLS1_2, .alpn = alpn };
    struct tls_server *srv = server_new(1);
    struct side sd;
    struct tc_conn c;

    side_open(&sd, srv);
    tls_server_release(srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_str_eq(tls_conn_version(sd.conn), "TLSv1.2");
    ck_assert_msg(is_allowed_suite(tls_conn_ciphersuite(sd.conn)), "suite %s",
                  tls_conn_ciphersuite(sd.conn));
    ck_assert_str_eq(tls_conn_ciphersuite(sd.conn), tc_ciphersuite(&c));
    ck_assert_ptr_nonnull(tls_conn_alpn(sd.conn));
    ck_assert_str_eq(tls_conn_alpn(sd.conn), "http/1.1");
    ck_assert_str_eq(tc_alpn(&c), "http/1.1");
    ck_assert_int_eq(tls_conn_resumed(sd.conn), 0);
    ck_assert_str_eq(tls_conn_last_error(sd.conn), "");
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(no_alpn_offered)
{
    struct tc_opts o = { .max_version = TC_TLS1_2 };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_ptr_null(tls_conn_alpn(sd.conn));
    tc_close(&c);
    side_close(&sd);
}
END_TEST

#if !PC_MBEDTLS3
START_TEST(tls11_refused)
{
    struct tc_opts o = { .min_version = TC_TLS1_0, .max_version = TC_TLS1_1 };
    struct side sd;
    struct tc_conn c;
    char code[16];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_refused(&sd, &c);
    /* Refused for its version, not merely for lack of a common suite. */
    snprintf(code, sizeof code, "-0x%04x", (unsigned)-MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION);
    ck_assert_msg(strstr(tls_conn_last_error(sd.conn), code) != NULL, "%s",
                  tls_conn_last_error(sd.conn));
    tc_close(&c);
    side_close(&sd);
}
END_TEST
#endif

/* Each offered alone: none is among the six. */
static const int refused_suites[] = {
    MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256,           /* no forward secrecy */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,   /* CBC */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,      /* CBC, SHA-1 */
    MBEDTLS_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256,    /* static ECDH */
    MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,       /* finite-field DHE */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM,          /* not in the list */
};

START_TEST(suite_refused)
{
    const int suites[] = { refused_suites[_i], 0 };
    struct tc_opts o = { .max_version = TC_TLS1_2, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* A client must also list the certificate's curve (P-256) for the ECDSA
 * certificate to be usable, so the accepted cases include it; the refused
 * ones offer nothing the server's ECDHE list contains. */
static const struct {
    const char *groups[3];
    int ok;
} curve_cases[] = {
    { { "secp256r1", NULL }, 1 },
    { { "x25519", "secp256r1", NULL }, 1 },
    { { "secp384r1", "secp256r1", NULL }, 1 },
    { { "secp521r1", NULL }, 0 },
    { { "secp224r1", NULL }, 0 },
    { { "brainpoolP256r1", NULL }, 0 },
};

START_TEST(curve_policy)
{
    struct tc_opts o = { .max_version = TC_TLS1_2, .groups = curve_cases[_i].groups };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    if (curve_cases[_i].ok)
        handshake_ok(&sd, &c);
    else
        handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(server_prefers_p256)
{
    /* Offered in the client's order of preference: the server's own order
     * decides, and P-521 (Debian's default first choice) is not in it. */
    const char *groups[] = { "secp521r1", "secp384r1", "x25519", "secp256r1", NULL };
    struct tc_opts o = { .max_version = TC_TLS1_2, .groups = groups };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(ske_curve(&sd.wire), 0x0017);   /* secp256r1 */
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* A minimal TLS 1.2 ClientHello (ECDHE-ECDSA-AES128-GCM-SHA256, P-256, one
 * signature algorithm), with or without the RFC 5746 signalling suite.
 * mbedTLS clients always send it, so the hello is built by hand. */
static void put(unsigned char *b, size_t *n, const void *p, size_t len)
{
    memcpy(b + *n, p, len);
    *n += len;
}

static size_t client_hello(unsigned char *b, int scsv, unsigned sigalg)
{
    static const unsigned char head[] = { 0x16, 0x03, 0x01, 0, 0,   /* record, length */
                                          0x01, 0, 0, 0,            /* ClientHello, length */
                                          0x03, 0x03 };             /* TLS 1.2 */
    static const unsigned char suites[] = { 0x00, 0x04, 0xc0, 0x2b, 0x00, 0xff };
    static const unsigned char tail[] = {
        0x01, 0x00,                                       /* null compression */
        0x00, 0x16,                                       /* extensions length */
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17,   /* supported_groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,               /* ec_point_formats */
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03,   /* signature_algorithms */
    };
    unsigned char random_and_sid[33] = { 0 };             /* + empty session id */
    size_t n = 0;

    put(b, &n, head, sizeof head);
    put(b, &n, random_and_sid, sizeof random_and_sid);
    put(b, &n, suites, scsv ? 6 : 4);
    if (!scsv)
        b[n - 3] = 0x02;                                  /* one suite only */
    put(b, &n, tail, sizeof tail);
    b[n - 2] = (unsigned char)(sigalg >> 8);
    b[n - 1] = (unsigned char)sigalg;
    b[3] = (unsigned char)((n - 5) >> 8);
    b[4] = (unsigned char)(n - 5);
    b[7] = (unsigned char)((n - 9) >> 8);
    b[8] = (unsigned char)(n - 9);
    return n;
}

START_TEST(renegotiation_info_required)
{
    unsigned char hello[128];
    size_t n = client_hello(hello, _i, 0x0403);   /* ecdsa_secp256r1_sha256 */
    struct side sd;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, hello, n), (ssize_t)n);
    r = tls_conn_handshake(sd.conn);
    if (_i) {   /* signalled: the server answers and waits for the client */
        ck_assert_msg(r == TLS_WANT_READ, "%d: %s", r, tls_conn_last_error(sd.conn));
        ck_assert_int_eq(ske_curve(&sd.wire), 0x0017);
    } else {    /* legacy peer: refused */
        ck_assert_int_eq(r, TLS_ERROR);
    }
    side_close(&sd);
}
END_TEST

static const struct {
    unsigned sigalg;
    int ok;
} sigalg_cases[] = {
    { 0x0403, 1 }, { 0x0503, 1 }, { 0x0603, 1 },   /* ECDSA with SHA-256/384/512 */
    { 0x0303, 0 }, { 0x0203, 0 },                   /* SHA-224, SHA-1 */
};

#if !PC_MBEDTLS3   /* 3.x negotiates signature algorithms with its own defaults */
START_TEST(sha2_signatures_only)
{
    unsigned char hello[128];
    size_t n = client_hello(hello, 1, sigalg_cases[_i].sigalg);
    struct side sd;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, hello, n), (ssize_t)n);
    r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, sigalg_cases[_i].ok ? TLS_WANT_READ : TLS_ERROR);
    side_close(&sd);
}
END_TEST
#endif

/* ---- data ---------------------------------------------------------------- */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31u + seed) & 0xff);
}

/* Reads exactly n bytes on the server side (the bytes are already queued). */
static void server_read_exact(struct tls_conn *s, unsigned char *buf, size_t n)
{
    size_t got = 0;

    for (int i = 0; got < n && i < 1000; i++) {
        ssize_t r = tls_conn_read(s, buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else
            ck_assert_msg(r == TLS_WANT_READ, "read %zd: %s", r, tls_conn_last_error(s));
    }
    ck_assert_uint_eq(got, n);
}

static void client_read_exact(struct tc_conn *c, unsigned char *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = tc_read(c, buf + got, n - got, 2000);
        ck_assert_msg(r > 0, "client read %zd: %s", r, tc_error(c));
        got += (size_t)r;
    }
}

START_TEST(data_both_ways)
{
    enum { BIG = 40000 };
    static unsigned char out[BIG], in[BIG];
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    size_t sent = 0;
    ssize_t first = 0;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);

    /* client → server: several records, read back in pieces */
    fill(out, BIG, 7);
    ck_assert_int_eq(tc_write_all(&c, out, BIG, 2000), 0);
    server_read_exact(sd.conn, in, BIG);
    ck_assert_mem_eq(in, out, BIG);

    /* server → client: one call takes at most one record's worth */
    fill(out, BIG, 11);
    while (sent < BIG) {
        ssize_t w = tls_conn_write(sd.conn, out + sent, BIG - sent);
        ck_assert_msg(w > 0, "write %zd", w);
        if (first == 0)
            first = w;
        sent += (size_t)w;
    }
    ck_assert_int_lt(first, BIG);
    client_read_exact(&c, in, BIG);
    ck_assert_mem_eq(in, out, BIG);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(pending_after_partial_read)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    unsigned char buf[100];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "0123456789abcdefghij", 20, 2000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, 5), 5);
    ck_assert_uint_eq(tls_conn_pending(sd.conn), 15);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf + 5, sizeof buf - 5), 15);
    ck_assert_mem_eq(buf, "0123456789abcdefghij", 20);
    ck_assert_uint_eq(tls_conn_pending(sd.conn), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_WANT_READ);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(observer_sees_wire_bytes)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    unsigned char buf[16];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "ping", 4, 2000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), 4);
    ck_assert_uint_eq(sd.wire.r, c.wire_out);
    ck_assert_uint_eq(sd.wire.w, c.wire_in);
    ck_assert_uint_gt(sd.wire.w, 500);   /* the certificate chain went out */
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* ---- resumption ---------------------------------------------------------- */

/* Full handshake on a fresh connection of `loop`'s server; returns the
 * session to resume and the server's handshake bytes. */
static size_t connect_once(struct tls_server *srv, const struct tc_session *offer,
                           struct tc_session *save, int *resumed)
{
    struct tc_opts o = { .session = offer };
    struct side sd;
    struct tc_conn c;
    unsigned char b;
    size_t w;

    side_open(&sd, srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    w = sd.wire.w;
    *resumed = tls_conn_resumed(sd.conn);
    /* One byte of data: on TLS 1.3 the ticket arrives after the handshake. */
    ck_assert_int_eq(tls_conn_write(sd.conn, "x", 1), 1);
    ck_assert_int_eq(tc_read(&c, &b, 1, 2000), 1);
    if (save != NULL)
        ck_assert_msg(tc_get_session(&c, save) == 0, "%s", tc_error(&c));
    tc_close(&c);
    side_close(&sd);
    return w;
}

START_TEST(ticket_resumption)
{
    struct tls_server *srv = server_new(1);
    struct tc_session s1 = { 0 }, s2 = { 0 };
    int resumed;
    size_t full, again, third;

    full = connect_once(srv, NULL, &s1, &resumed);
    ck_assert_int_eq(resumed, 0);
    again = connect_once(srv, &s1, &s2, &resumed);
    ck_assert_int_eq(resumed, 1);
    ck_assert_msg(again * 2 < full, "resumed %zu bytes vs full %zu", again, full);
    /* The renewed ticket works too. */
    third = connect_once(srv, &s2, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    ck_assert_uint_lt(third, full);
    tc_session_free(&s1);
    tc_session_free(&s2);
    tls_server_release(srv);
}
END_TEST

START_TEST(ticket_shared_across_loops)
{
    /* connect_once sets up a new tls_loop each time: the ticket key lives in
     * the server, so any loop resumes a session another one issued. */
    struct tls_server *srv = server_new(1);
    struct tls_server *other = server_new(1);
    struct tc_session s = { 0 };
    int resumed;

    connect_once(srv, NULL, &s, &resumed);
    connect_once(srv, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    /* A different server (another key load: new ticket keys) cannot. */
    connect_once(other, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);
    tls_server_release(other);
    tls_server_release(srv);
}
END_TEST

START_TEST(no_tickets_no_resumption)
{
    struct tls_server *srv = server_new(0);
    struct tc_session s = { 0 };
    int resumed;

    connect_once(srv, NULL, &s, &resumed);
    connect_once(srv, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);
    tls_server_release(srv);
}
END_TEST

/* ---- what is not TLS ----------------------------------------------------- */

static const char *const plaintext_cases[] = {
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "POST /api/login HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
    "OPTIONS * HTTP/1.1\r\n\r\n",
    "P",
};

START_TEST(plaintext_detected_not_consumed)
{
    const char *req = plaintext_cases[_i];
    size_t n = strlen(req);
    char buf[256];
    struct side sd;
    int r = 0;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, req, n), (ssize_t)n);
    for (int i = 0; i < MAX_STEPS && (i == 0 || srv_want(r)); i++)
        r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, TLS_PLAINTEXT);
    ck_assert_int_eq(tls_conn_handshake(sd.conn), TLS_PLAINTEXT);   /* sticky */
    ck_assert_uint_eq(sd.wire.r, 0);
    ck_assert_uint_eq(sd.wire.w, 0);                                 /* no alert sent */
    /* Nothing was consumed: the caller can still read the request. */
    ck_assert_int_eq(recv(sd.sfd, buf, sizeof buf, 0), (ssize_t)n);
    ck_assert_mem_eq(buf, req, n);
    side_close(&sd);
}
END_TEST

static const struct {
    const char *bytes;
    size_t len;
    int expect;
} garbage_cases[] = {
    { "\x00\x01\x02\x03\x04\x05\x06\x07", 8, TLS_ERROR },
    { "get / http/1.1\r\n\r\n", 18, TLS_ERROR },                     /* lower case */
    { "\x16\x03\x01\xff\xff\x01\x00", 7, TLS_ERROR },                /* oversized record */
    { "\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10, TLS_ERROR },   /* bad handshake body */
    { "\x17\x03\x03\x00\x04" "abcd", 9, TLS_ERROR },                /* data before handshake */
    { "\x15\x03\x03\x00\x02\x02\x28", 7, TLS_ERROR },                /* fatal alert */
    { "\x80\x2e\x01\x03\x01\x00\x15", 7, TLS_ERROR },                /* SSLv2 hello */
    { "\x16\x03\x01\x00\x40\x01\x00", 7, TLS_CLOSED },               /* truncated, then EOF */
    { "", 0, TLS_CLOSED },                                           /* EOF at once */
};

START_TEST(garbage_fails_fast)
{
    struct side sd;
    int r = TLS_WANT_READ;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    if (garbage_cases[_i].len > 0)
        ck_assert_int_eq(write(sd.cfd, garbage_cases[_i].bytes, garbage_cases[_i].len),
                         (ssize_t)garbage_cases[_i].len);
    ck_assert_int_eq(shutdown(sd.cfd, SHUT_WR), 0);
    for (int i = 0; i < MAX_STEPS && srv_want(r); i++)
        r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, garbage_cases[_i].expect);
    if (r == TLS_ERROR)
        ck_assert_str_ne(tls_conn_last_error(sd.conn), "");
    side_close(&sd);
}
END_TEST

START_TEST(peer_closes_mid_handshake)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    ck_assert_int_eq(tc_handshake_step(&c), TC_WANT_READ);        /* ClientHello sent */
    ck_assert_int_eq(tls_conn_handshake(sd.conn), TLS_WANT_READ);  /* server flight sent */
    tc_close(&c);
    close(sd.cfd);
    sd.cfd = -1;
    r = tls_conn_handshake(sd.conn);
    ck_assert_msg(r == TLS_CLOSED || r == TLS_ERROR, "got %d", r);
    side_close(&sd);
}
END_TEST

/* ---- closing -------------------------------------------------------------- */

START_TEST(client_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_shutdown(&c), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_CLOSED);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(server_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    tls_conn_close_notify(sd.conn);
    tls_conn_close_notify(sd.conn);                /* once only */
    ck_assert_int_eq(tc_read(&c, buf, sizeof buf, 1000), TC_CLOSED);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(eof_without_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    tc_close(&c);
    close(sd.cfd);
    sd.cfd = -1;
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_CLOSED);
    side_close(&sd);
}
END_TEST

/* ---- loading --------------------------------------------------------------- */

static const struct {
    const char *cert, *key;   /* relative to g_dir */
    int tickets, lifetime;
    const char *in_err;       /* must appear in the message */
} load_cases[] = {
    { "missing.crt", "server.key", 0, 0, "missing.crt" },
    { "server.crt", "missing.key", 0, 0, "missing.key" },
    { "garbage.pem", "server.key", 0, 0, "garbage.pem" },
    { "server.crt", "garbage.pem", 0, 0, "garbage.pem" },
    { "empty.pem", "server.key", 0, 0, "empty.pem" },
    { "server.crt", "other/server.key", 0, 0, "other/server.key" },   /* not the pair */
    { "server.key", "server.key", 0, 0, "server.key" },
    { "server.crt", "server.crt", 0, 0, "server.crt" },
    { "server.crt", "server.key", 1, 0, "lifetime" },
    { "server.crt", "server.key", 1, TLS_TICKET_LIFETIME_MAX_S + 1, "lifetime" },
};

START_TEST(load_errors_name_the_file)
{
    char cert[512], key[512], err[512] = "";
    struct tls_server_opts o = { cert, key, load_cases[_i].tickets, load_cases[_i].lifetime };
    struct tls_server *s = (struct tls_server *)&o;   /* must be reset to NULL */

    snprintf(cert, sizeof cert, "%s/%s", g_dir, load_cases[_i].cert);
    snprintf(key, sizeof key, "%s/%s", g_dir, load_cases[_i].key);
    ck_assert_int_eq(tls_server_load(&s, &o, err, sizeof err), -1);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, load_cases[_i].in_err) != NULL, "err: %s", err);
}
END_TEST

/* ---- lifetimes --------------------------------------------------------------- */

START_TEST(release_order_is_free)
{
    struct tc_opts o = { 0 };
    struct tls_server *srv = server_new(1);
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, srv);
    /* Drop every handle but the connection's before using it. */
    tls_server_release(srv);
    tls_loop_release(sd.loop);
    sd.loop = NULL;
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "hi", 2, 1000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), 2);
    tc_close(&c);
    side_close(&sd);      /* frees the conn, then the loop, then the server */
    tls_conn_free(NULL);
    tls_loop_release(NULL);
    tls_server_release(NULL);
}
END_TEST

START_TEST(retain_release_balance)
{
    struct tls_server *srv = server_new(0);
    struct tls_loop *l;
    char err[256];

    ck_assert_ptr_eq(tls_server_retain(srv), srv);
    tls_server_release(srv);
    ck_assert_int_eq(tls_loop_setup(&l, srv, err, sizeof err), 0);
    ck_assert_ptr_eq(tls_loop_retain(l), l);
    tls_loop_release(l);
    tls_server_release(srv);
    tls_loop_release(l);   /* last reference: loop, then server (ASan/LSan) */
}
END_TEST

/* ---- fixture ----------------------------------------------------------------- */

/* Runs in main, outside any test: no ck_assert here. */
static int write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, tls12_handshake_policy);
    tcase_add_test(tc, no_alpn_offered);
#if !PC_MBEDTLS3
    tcase_add_test(tc, tls11_refused);
#endif
    tcase_add_loop_test(tc, suite_refused, 0, (int)(sizeof refused_suites / sizeof refused_suites[0]));
    tcase_add_loop_test(tc, curve_policy, 0, (int)(sizeof curve_cases / sizeof curve_cases[0]));
    tcase_add_test(tc, server_prefers_p256);
    tcase_add_loop_test(tc, renegotiation_info_required, 0, 2);
#if !PC_MBEDTLS3
    tcase_add_loop_test(tc, sha2_signatures_only, 0, (int)(sizeof sigalg_cases / sizeof sigalg_cases[0]));
#endif
    tcase_add_test(tc, data_both_ways);
    tcase_add_test(tc, pending_after_partial_read);
    tcase_add_test(tc, observer_sees_wire_bytes);
    tcase_add_test(tc, ticket_resumption);
    tcase_add_test(tc, ticket_shared_across_loops);
    tcase_add_test(tc, no_tickets_no_resumption);
    tcase_add_loop_test(tc, plaintext_detected_not_consumed, 0,
                        (int)(sizeof plaintext_cases / sizeof plaintext_cases[0]));
    tcase_add_loop_test(tc, garbage_fails_fast, 0, (int)(sizeof garbage_cases / sizeof garbage_cases[0]));
    tcase_add_test(tc, peer_closes_mid_handshake);
    tcase_add_test(tc, client_close_notify);
    tcase_add_test(tc, server_close_notify);
    tcase_add_test(tc, eof_without_close_notify);
    tcase_add_loop_test(tc, load_errors_name_the_file, 0, (int)(sizeof load_cases / sizeof load_cases[0]));
    tcase_add_test(tc, release_order_is_free);
    tcase_add_test(tc, retain_release_balance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct tls_dev_paths other;
    char err[512], dir[512];
    SRunner *sr;
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/pc_test_tls.XXXXXX");
    if (mkdtemp(g_dir) == NULL || tls_global_init(err, sizeof err) != 0 ||
        tls_certgen_dev(g_dir, &g_paths, err, sizeof err) != 0) {
        fprintf(stderr, "fixture: %s\n", err);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/other", g_dir);
    if (tls_certgen_dev(dir, &other, err, sizeof err) != 0) {
        fprintf(stderr, "fixture: %s\n", err);
        return 1;
    }
    if (write_file("garbage.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                                  "-----END CERTIFICATE-----\n") != 0 ||
        write_file("empty.pem", "") != 0) {
        perror("fixture");
        return 1;
    }
    sr = srunner_create(tls_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return failed == 0 ? 0 : 1;
}
