/* tls.c: mbedTLS server configuration, per-loop configs and per-connection
 * sessions over non-blocking sockets. Policy: tls/policy.h. */
#include "tls/tls.h"
#include "tls/bio.h"
#include "tls/compat.h"
#include "tls/policy.h"
#include "tls/tickets.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <psa/crypto.h>

/* Every loop's config points at the one ticket context of its tls_server
 * (tickets.c), which mbedTLS serialises only with its threading layer. */
#if !defined(MBEDTLS_THREADING_C)
#error "mbedTLS must be built with MBEDTLS_THREADING_C (the ticket context is shared by all loops)"
#endif

#define TLS_HANDSHAKE_RECORD 0x16

struct tls_server {
    atomic_int refs;
    struct tls_tickets *tickets; /* NULL: tickets off */
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    /* Used only at load. */
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

struct tls_loop {
    atomic_int refs;
    struct tls_server *srv;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    /* Every recv() of this loop's connections lands here first (bio.h). */
    unsigned char scratch[MBEDTLS_SSL_IN_CONTENT_LEN + 2048];
    void *share_spare; /* see share_step */
};

/* Memory: mbedtls_ssl_setup allocates an input and an output record buffer of
 * MBEDTLS_SSL_IN/OUT_CONTENT_LEN (16 KiB each by default) plus headroom for
 * the record expansion, about 33 KiB per connection on top of this struct.
 * Debian's build has no MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH, and shrinking the
 * buffers would break clients that send full 16 KiB records, so the defaults
 * stay; the max_fragment_length extension is left to the client. Once the
 * handshake is over an idle connection holds those buffers, the session and
 * the application transform, in TLS 1.3 as in TLS 1.2 (tls_conn_handshake
 * releases what TLS 1.3 would keep, and tls_conn_idle gives back the output
 * buffer pages its key-share export wrote; bench/ANALYSIS.md has the
 * figures). */
struct tls_conn {
    mbedtls_ssl_context ssl;
    struct tls_loop *loop;
    struct tls_bio bio;
    unsigned sniffed : 1;   /* first byte of the connection inspected */
    unsigned plaintext : 1; /* it was cleartext HTTP */
    unsigned full_hs : 1;   /* the server reached its Certificate message */
    unsigned hs_done : 1;
    unsigned failed : 1;   /* fatal error: the context must not be used */
    unsigned notified : 1; /* close_notify attempted */
    unsigned idled : 1;    /* tls_conn_idle gave back the output buffer */
    char err[112];
};

/* ---- policy ------------------------------------------------------------ */

static int tls_conf_policy(mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
    return tls_policy_apply(conf, MBEDTLS_SSL_IS_SERVER);
}

/* ---- errors ------------------------------------------------------------ */

static void tls_errf(char *err, size_t errlen, const char *what, int ret)
{
    char msg[128];

    if (err == NULL || errlen == 0)
        return;
    mbedtls_strerror(ret, msg, sizeof msg);
    snprintf(err, errlen, "%s: %s (-0x%04x)", what, msg, (unsigned)-ret);
}

static void tls_errs(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

int tls_global_init(char *err, size_t errlen)
{
    psa_status_t st = psa_crypto_init();

    if (st != PSA_SUCCESS) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "tls: psa_crypto_init failed (%d)", (int)st);
        return -1;
    }
    return 0;
}

/* ---- tls_server -------------------------------------------------------- */

static void server_destroy(struct tls_server *s)
{
    if (s == NULL)
        return;
    tls_tickets_release(s->tickets);
    mbedtls_pk_free(&s->key); /* zeroizes the private key */
    mbedtls_x509_crt_free(&s->chain);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    free(s);
}

static int server_check_opts(const struct tls_server_opts *o, char *err, size_t errlen)
{
    if (o == NULL || o->cert_file == NULL || o->key_file == NULL) {
        tls_errs(err, errlen, "tls: cert_file and key_file are required");
        return -1;
    }
    if (o->session_tickets &&
        (o->ticket_lifetime_s < 1 || o->ticket_lifetime_s > TLS_TICKET_LIFETIME_MAX_S)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "tls: ticket lifetime %d s is outside 1..%d",
                     o->ticket_lifetime_s, TLS_TICKET_LIFETIME_MAX_S);
        return -1;
    }
    return 0;
}

/* mbedTLS reports a missing file only as "Read/write of file failed" and
 * sizes its buffer from ftell, which for a directory asks for an absurd
 * allocation: say plainly what is wrong with the path first. */
static int check_regular_file(const char *what, const char *path, char *err, size_t errlen)
{
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (why == NULL)
        return 0;
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s %s: %s", what, path, why);
    return -1;
}

static int server_load_files(struct tls_server *s, const struct tls_server_opts *o, char *err,
                             size_t errlen)
{
    if (check_regular_file("tls.cert_file", o->cert_file, err, errlen) != 0 ||
        check_regular_file("tls.key_file", o->key_file, err, errlen) != 0)
        return -1;
    int ret = mbedtls_x509_crt_parse_file(&s->chain, o->cert_file);

    if (ret < 0) {
        tls_errf(err, errlen, o->cert_file, ret);
        return -1;
    }
    if (ret > 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %d certificate(s) could not be parsed", o->cert_file, ret);
        return -1;
    }
    ret = mbedtls_pk_parse_keyfile(&s->key, o->key_file, NULL, mbedtls_ctr_drbg_random, &s->drbg);
    if (ret != 0) {
        tls_errf(err, errlen, o->key_file, ret);
        return -1;
    }
    ret = mbedtls_pk_check_pair(&s->chain.pk, &s->key, mbedtls_ctr_drbg_random, &s->drbg);
    if (ret != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: private key does not match the first certificate in %s",
                     o->key_file, o->cert_file);
        return -1;
    }
    return 0;
}

int tls_server_load(struct tls_server **out, const struct tls_server_opts *opts, char *err,
                    size_t errlen)
{
    static const unsigned char pers[] = "portcullis tls_server";
    struct tls_server *s;
    int ret;

    *out = NULL;
    if (server_check_opts(opts, err, errlen) != 0)
        return -1;
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        tls_errs(err, errlen, "tls: out of memory");
        return -1;
    }
    mbedtls_x509_crt_init(&s->chain);
    mbedtls_pk_init(&s->key);
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);

    ret = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy, pers, sizeof pers - 1);
    if (ret != 0) {
        tls_errf(err, errlen, "tls: seeding the random generator", ret);
        goto fail;
    }
    if (server_load_files(s, opts, err, errlen) != 0)
        goto fail;
    /* Without shared keys, mbedTLS rotates this server's own every
     * `lifetime` seconds and accepts the previous one, so a ticket is
     * honoured for at most its lifetime. */
    if (opts->session_tickets && opts->tickets != NULL)
        s->tickets = tls_tickets_retain(opts->tickets);
    else if (opts->session_tickets &&
             tls_tickets_new(&s->tickets, opts->ticket_lifetime_s, err, errlen) != 0)
        goto fail;
    atomic_init(&s->refs, 1);
    *out = s;
    return 0;

fail:
    server_destroy(s);
    return -1;
}

struct tls_server *tls_server_retain(struct tls_server *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void tls_server_release(struct tls_server *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        server_destroy(s);
}

/* ---- tls_loop ---------------------------------------------------------- */

static void loop_destroy(struct tls_loop *l)
{
    free(l->share_spare);
    mbedtls_ssl_config_free(&l->conf);
    mbedtls_ctr_drbg_free(&l->drbg);
    mbedtls_entropy_free(&l->entropy);
    tls_server_release(l->srv);
    free(l);
}

int tls_loop_setup(struct tls_loop **out, struct tls_server *srv, char *err, size_t errlen)
{
    static const unsigned char pers[] = "portcullis tls_loop";
    struct tls_loop *l;
    int ret;

    *out = NULL;
    l = calloc(1, sizeof *l);
    if (l == NULL) {
        tls_errs(err, errlen, "tls: out of memory");
        return -1;
    }
    mbedtls_entropy_init(&l->entropy);
    mbedtls_ctr_drbg_init(&l->drbg);
    mbedtls_ssl_config_init(&l->conf);
    l->srv = tls_server_retain(srv);

    ret = mbedtls_ctr_drbg_seed(&l->drbg, mbedtls_entropy_func, &l->entropy, pers, sizeof pers - 1);
    if (ret != 0) {
        tls_errf(err, errlen, "tls: seeding the loop random generator", ret);
        goto fail;
    }
    ret = mbedtls_ssl_config_defaults(&l->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0)
        ret = tls_conf_policy(&l->conf);
    if (ret == 0)
        ret = mbedtls_ssl_conf_own_cert(&l->conf, &srv->chain, &srv->key);
    if (ret != 0) {
        tls_errf(err, errlen, "tls: configuration", ret);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&l->conf, mbedtls_ctr_drbg_random, &l->drbg);
    if (srv->tickets != NULL)
        tls_tickets_conf(srv->tickets, &l->conf);
    atomic_init(&l->refs, 1);
    *out = l;
    return 0;

fail:
    loop_destroy(l);
    return -1;
}

struct tls_loop *tls_loop_retain(struct tls_loop *l)
{
    atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void tls_loop_release(struct tls_loop *l)
{
    if (l == NULL)
        return;
    if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1)
        loop_destroy(l);
}

/* ---- BIO callbacks ----------------------------------------------------- */

/* Looks at the first byte without consuming it: a TLS connection starts with
 * a handshake record (0x16); an upper-case letter is an HTTP method sent to
 * the HTTPS port. Returns 1 to go on, else what the recv callback returns. */
static int conn_sniff(struct tls_conn *c)
{
    unsigned char b;
    int n = tls_sock_peek(c->bio.fd, &b, 1, &c->bio.sys_errno);

    if (n <= 0)
        return n; /* EOF, WANT_READ or an error, as tls_sock_recv */
    c->sniffed = 1;
    if (b != TLS_HANDSHAKE_RECORD && b >= 'A' && b <= 'Z') {
        c->plaintext = 1;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return 1;
}

static int conn_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;

    if (c->plaintext)
        return MBEDTLS_ERR_NET_RECV_FAILED;
    if (!c->sniffed) {
        int r = conn_sniff(c);
        if (r <= 0)
            return r;
    }
    return tls_bio_recv(&c->bio, c->loop->scratch, sizeof c->loop->scratch, buf, len);
}

static int conn_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;
    return tls_bio_send(&c->bio, buf, len);
}

/* ---- tls_conn ---------------------------------------------------------- */

static void conn_set_error(struct tls_conn *c, int ret)
{
    char msg[80];

    mbedtls_strerror(ret, msg, sizeof msg);
    if (c->bio.sys_errno != 0 &&
        (ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED ||
         ret == MBEDTLS_ERR_NET_CONN_RESET)) {
        char sys[64];
        snprintf(c->err, sizeof c->err, "%s: %s", msg,
                 strerror_r(c->bio.sys_errno, sys, sizeof sys));
    } else {
        snprintf(c->err, sizeof c->err, "%s (-0x%04x)", msg, (unsigned)-ret);
    }
}

static int conn_map(struct tls_conn *c, int ret)
{
    switch (ret) {
    case MBEDTLS_ERR_SSL_WANT_READ: return TLS_WANT_READ;
    case MBEDTLS_ERR_SSL_WANT_WRITE: return TLS_WANT_WRITE;
    /* Only with async private keys or restartable ECC, neither configured;
     * "call again soon", which a writable socket delivers. */
    case MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS:
    case MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS: return TLS_WANT_WRITE;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF: return TLS_CLOSED;
    default: break;
    }
    c->failed = 1;
    if (c->plaintext)
        return TLS_PLAINTEXT;
    conn_set_error(c, ret);
    return TLS_ERROR;
}

int tls_conn_setup(struct tls_conn **out, struct tls_loop *l, int fd)
{
    struct tls_conn *c;

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &l->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return -1;
    }
    c->loop = tls_loop_retain(l);
    c->bio.fd = fd;
    mbedtls_ssl_set_bio(&c->ssl, c, conn_send, conn_recv, NULL);
    *out = c;
    return 0;
}

void tls_conn_set_observer(struct tls_conn *c, tls_io_observer fn, void *arg)
{
    c->bio.obs = fn;
    c->bio.obs_arg = arg;
}

void tls_conn_free(struct tls_conn *c)
{
    if (c == NULL)
        return;
    mbedtls_ssl_free(&c->ssl);
    tls_bio_free(&c->bio);
    tls_loop_release(c->loop);
    free(c);
}

/* The TLS 1.3 ServerHello step exports the server's key share through PSA,
 * which in 3.6 (MBEDTLS_PSA_COPY_CALLER_BUFFERS) callocs a temporary as
 * large as the room left in the output record buffer, about 16 KiB, zeroes
 * it and frees it. Freed in the middle of the heap, those written pages
 * become the next connections' record buffers: resident in full, where a
 * TLS 1.2 connection's stay mostly untouched (bench/ANALYSIS.md, about
 * 12 KB more per idle TLS 1.3 connection). So each loop keeps one block of
 * that size and frees it just before the step, for the temporary to take;
 * the block taken back after the step is the temporary's, and no fresh
 * memory gets written. Only placement changes: glibc gives a freed block
 * of the requested size back first; elsewhere this costs nothing more. */
#define TLS_SHARE_SPARE (MBEDTLS_SSL_OUT_CONTENT_LEN + 64)

static int share_step(struct tls_conn *c)
{
    struct tls_loop *l = c->loop;
    int ret;

    if (PC_SSL_STATE(&c->ssl) != MBEDTLS_SSL_SERVER_HELLO ||
        mbedtls_ssl_get_version_number(&c->ssl) != MBEDTLS_SSL_VERSION_TLS1_3)
        return mbedtls_ssl_handshake_step(&c->ssl);
    free(l->share_spare);
    ret = mbedtls_ssl_handshake_step(&c->ssl);
    l->share_spare = malloc(TLS_SHARE_SPARE);
    return ret;
}

/* The same export then copies the whole temporary back into the output
 * record buffer, 16 KiB written where a few hundred bytes of ServerHello
 * are: every page of the buffer resident for the connection's life. Once
 * the connection is idle nothing waits in that buffer (our BIO took every
 * byte), so its whole pages are handed back to the kernel; they read as
 * zeroes and fill again only as far as later records are written.
 * Not right after the handshake: a connection that closes after its first
 * response (Connection: close) would pay the system call, and mbedtls_ssl_free
 * zeroing the buffer would fault the pages back in, for nothing (perf: 0.6%
 * of a full TLS 1.3 handshake's server CPU). */
void tls_conn_idle(struct tls_conn *c)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = (uintptr_t)pc_ssl_out_buf(&c->ssl);
    uintptr_t from = (b + page - 1) & ~(page - 1);
    uintptr_t to = (b + MBEDTLS_SSL_OUT_CONTENT_LEN) & ~(page - 1);

    if (c->idled || !c->hs_done || c->failed || c->bio.queue_len > 0)
        return;
    c->idled = 1;
    if (b == 0 || mbedtls_ssl_get_version_number(&c->ssl) != MBEDTLS_SSL_VERSION_TLS1_3 ||
        to <= from)
        return;
    (void)madvise((void *)from, to - from, MADV_DONTNEED); /* best effort */
}

/* Steps the handshake ourselves (mbedtls_ssl_handshake is this same loop) to
 * see whether the server reaches its Certificate message: it does not when a
 * ticket resumed the session, in TLS 1.2 and 1.3 alike. Each flight is
 * queued and sent with one send() when mbedTLS waits for the client, fails,
 * or finishes; the handshake counts as done once its last flight is out.
 * In TLS 1.3 the last flight is the NewSessionTicket, which mbedTLS would
 * otherwise send with the first response (mbedtls_ssl_is_handshake_over is
 * already true before it): stepping up to HANDSHAKE_OVER sends it right
 * after the client's Finished, and then the handshake state can go. */
int tls_conn_handshake(struct tls_conn *c)
{
    int ret = 0, sent;

    if (c->failed)
        return c->plaintext ? TLS_PLAINTEXT : TLS_ERROR;
    if ((sent = tls_bio_flush(&c->bio)) != 0)
        return conn_map(c, sent);
    c->bio.batching = 1;
    while (PC_SSL_STATE(&c->ssl) != MBEDTLS_SSL_HANDSHAKE_OVER) {
        if (PC_SSL_STATE(&c->ssl) == MBEDTLS_SSL_SERVER_CERTIFICATE)
            c->full_hs = 1;
        ret = share_step(c);
        if (ret != 0)
            break;
    }
    c->bio.batching = 0;
    sent = tls_bio_flush(&c->bio); /* an alert on failure: best effort */
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ)
        ret = sent != 0 ? sent : ret;
    if (ret != 0)
        return conn_map(c, ret);
    pc_ssl_server_release_handshake(&c->ssl); /* compat.h: TLS 1.3 keeps it */
    c->hs_done = 1;
    return 0;
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len)
{
    int ret;

    if (!c->hs_done && (ret = tls_conn_handshake(c)) != 0)
        return ret;
    if (c->failed)
        return TLS_ERROR;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    ret = mbedtls_ssl_read(&c->ssl, buf, len);
    if (ret > 0)
        return ret;
    if (ret == 0)
        return TLS_CLOSED; /* transport EOF without close_notify */
    return conn_map(c, ret);
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len)
{
    int ret;

    if (!c->hs_done && (ret = tls_conn_handshake(c)) != 0)
        return ret;
    if (c->failed)
        return TLS_ERROR;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    ret = mbedtls_ssl_write(&c->ssl, buf, len);
    if (ret >= 0)
        return ret;
    return conn_map(c, ret);
}

/* get_bytes_avail counts decrypted bytes; check_pending also sees a record
 * already read from the socket but not yet decrypted. Either way epoll will
 * not report it, so report at least 1 to make the caller read again. */
size_t tls_conn_pending(const struct tls_conn *c)
{
    size_t n = mbedtls_ssl_get_bytes_avail(&c->ssl);

    if (n == 0 && (mbedtls_ssl_check_pending(&c->ssl) || tls_bio_stashed(&c->bio) > 0))
        n = 1;
    return n;
}

void tls_conn_close_notify(struct tls_conn *c)
{
    if (c == NULL || c->notified || c->failed || !c->hs_done)
        return;
    c->notified = 1;
    (void)mbedtls_ssl_close_notify(&c->ssl); /* WANT_*: best effort, dropped */
}

void tls_conn_cork(struct tls_conn *c)
{
    if (c->hs_done && !c->failed)
        c->bio.batching = 1;
}

/* The close_notify joins the held records in the queue (batching makes the
 * BIO take it whole), then the queue leaves in one send(), or in the next
 * calls if the socket fills up. */
int tls_conn_finish(struct tls_conn *c)
{
    int ret;

    if (c->failed)
        return TLS_ERROR;
    if (!c->notified && c->hs_done) {
        c->notified = 1;
        c->bio.batching = 1;
        ret = mbedtls_ssl_close_notify(&c->ssl);
        if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->bio.batching = 0;
            return conn_map(c, ret);
        }
    }
    c->bio.batching = 0;
    ret = tls_bio_flush(&c->bio);
    return ret == 0 ? 0 : conn_map(c, ret);
}

const char *tls_conn_version(const struct tls_conn *c) { return mbedtls_ssl_get_version(&c->ssl); }

const char *tls_conn_ciphersuite(const struct tls_conn *c)
{
    return mbedtls_ssl_get_ciphersuite(&c->ssl);
}

const char *tls_conn_alpn(const struct tls_conn *c)
{
    return mbedtls_ssl_get_alpn_protocol(&c->ssl);
}

int tls_conn_resumed(const struct tls_conn *c) { return c->hs_done && !c->full_hs; }

const char *tls_conn_last_error(const struct tls_conn *c) { return c->err; }
