/* support/tls_fixture.h: what test_tls.c and test_tls_policy.c share: a server
 * tls_conn and an mbedTLS client over a non-blocking socketpair, stepped in
 * one thread, with dev certificates made once per binary. */
#ifndef PC_SUPPORT_TLS_FIXTURE_H
#define PC_SUPPORT_TLS_FIXTURE_H

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

static inline void count_wire(void *arg, char dir, const unsigned char *p, size_t n)
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
static inline int ske_curve(const struct wire *wc)
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

/* The TLS 1.3 ServerHello (sent in the clear; mbedTLS puts it in a record of
 * its own): the group of its key_share extension (0x0033), or -1 when there
 * is none (TLS 1.2, or a psk_ke resumption). *hrr counts HelloRetryRequests
 * (ServerHellos whose random is RFC 8446's fixed value) before it. */
static inline int sh_key_share(const struct wire *wc, int *hrr)
{
    static const unsigned char hrr_random[8] = { 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11 };
    size_t n = wc->w < sizeof wc->out ? wc->w : sizeof wc->out;
    const unsigned char *b = wc->out;
    int group = -1;

    *hrr = 0;
    for (size_t off = 0; off + 5 <= n;) {
        size_t len = (size_t)b[off + 3] << 8 | b[off + 4];
        const unsigned char *m = b + off + 5, *end = m + len;
        off += 5 + len;
        if (b[off - 5 - len] != 0x16 || off > n || len < 42 || m[0] != 2)
            continue;
        const unsigned char *p = m + 4 + 2 + 32; /* header, version, random */
        p += 1 + p[0] + 2 + 1;                   /* session id, suite, compression */
        if (p + 2 > end)
            continue;
        p += 2; /* extensions length */
        while (p + 4 <= end) {
            size_t elen = (size_t)p[2] << 8 | p[3];
            if (p[0] == 0x00 && p[1] == 0x33 && elen >= 2 && p + 4 + elen <= end)
                group = p[4] << 8 | p[5];
            p += 4 + elen;
        }
        if (memcmp(m + 6, hrr_random, sizeof hrr_random) == 0) {
            ++*hrr;
            group = -1;
        } else {
            return group;
        }
    }
    return group;
}

/* One server connection and its peer socket. */
struct side {
    int sfd, cfd;
    struct tls_server *srv;
    struct tls_loop *loop;
    struct tls_conn *conn;
    struct wire wire;
};

static inline struct tls_server *server_new(int tickets)
{
    struct tls_server_opts o = { g_paths.cert_file, g_paths.key_file, tickets, 3600, NULL };
    struct tls_server *s;
    char err[256];

    ck_assert_msg(tls_server_load(&s, &o, err, sizeof err) == 0, "load: %s", err);
    return s;
}

static inline void side_open(struct side *sd, struct tls_server *srv)
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

static inline void side_close(struct side *sd)
{
    tls_conn_free(sd->conn);
    tls_loop_release(sd->loop);
    if (sd->sfd >= 0)
        close(sd->sfd);
    if (sd->cfd >= 0)
        close(sd->cfd);
}

static inline void client_attach(struct tc_conn *c, int fd, struct tc_opts *o)
{
    char err[256];

    if (o->ca_file == NULL)
        o->ca_file = g_paths.ca_file;
    ck_assert_msg(tc_attach(c, fd, o, err, sizeof err) == 0, "attach: %s", err);
}

static inline int srv_want(int r) { return r == TLS_WANT_READ || r == TLS_WANT_WRITE; }
static inline int cli_want(int r) { return r == TC_WANT_READ || r == TC_WANT_WRITE; }

/* Alternates handshake steps until both ends finish or fail. A server that
 * failed may leave the client waiting for ever: give it a few more steps. */
static inline void pump(struct tls_conn *s, struct tc_conn *c, int *srv_ret, int *cli_ret)
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

static inline void handshake_ok(struct side *sd, struct tc_conn *c)
{
    int sr, cr;

    pump(sd->conn, c, &sr, &cr);
    ck_assert_msg(sr == 0, "server %d: %s", sr, tls_conn_last_error(sd->conn));
    ck_assert_msg(cr == 0, "client %d: %s", cr, tc_error(c));
}

static inline void handshake_refused(struct side *sd, struct tc_conn *c)
{
    int sr, cr;

    pump(sd->conn, c, &sr, &cr);
    ck_assert_int_eq(sr, TLS_ERROR);
    ck_assert_str_ne(tls_conn_last_error(sd->conn), "");
    ck_assert_int_ne(cr, 0);
}

/* ---- fixture ----------------------------------------------------------------- */

/* Runs in main, outside any test: no ck_assert here. */
static inline int write_file(const char *name, const char *text)
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

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The main of both binaries: dev certificates in a temp dir, then the suite. */
static inline int tls_fixture_main(Suite *(*make)(void))
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
    sr = srunner_create(make());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return failed == 0 ? 0 : 1;
}

#endif
