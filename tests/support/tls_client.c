/* tls_client.c: test-side mbedTLS client over a non-blocking socket, with
 * poll()-bounded waits so a misbehaving server fails a test instead of
 * hanging it. */
#include "support/tls_client.h"
#include "server/clock.h"
#include "tls/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

#define TC_DEFAULT_TIMEOUT_MS 5000

static long long tc_now_ms(void) { return (long long)clock_mono_ms(); }

static void tc_set_err(struct tc_conn *c, const char *what, int ret)
{
    char msg[128];

    mbedtls_strerror(ret, msg, sizeof msg);
    snprintf(c->err, sizeof c->err, "%s: %s (-0x%04x)", what, msg, (unsigned)-ret);
}

static void tc_copy_err(const struct tc_conn *c, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", c->err);
}

/* ---- BIO ---------------------------------------------------------------- */

static int tc_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tc_conn *c = ctx;
    ssize_t n;

    do
        n = send(c->fd, buf, len > INT_MAX ? INT_MAX : len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
                                                       : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    c->wire_out += (size_t)n;
    return (int)n;
}

static int tc_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tc_conn *c = ctx;
    ssize_t n;

    do
        n = recv(c->fd, buf, len > INT_MAX ? INT_MAX : len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_READ;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    c->wire_in += (size_t)n;
    return (int)n;
}

/* ---- configuration ------------------------------------------------------ */

/* mbedTLS 3.6 has no TLS 1.0/1.1 code: asking for them is an error here
 * (refusals of old versions are tested with openssl, script_tls_clients.sh). */
static int tc_conf_versions(struct tc_conn *c, const struct tc_opts *o)
{
    int v[2] = { o->min_version, o->max_version };

    for (int i = 0; i < 2; i++) {
        mbedtls_ssl_protocol_version pv;
        if (v[i] == TC_VERSION_DEFAULT)
            continue;
        if (v[i] == TC_TLS1_2)
            pv = MBEDTLS_SSL_VERSION_TLS1_2;
        else if (v[i] == TC_TLS1_3)
            pv = MBEDTLS_SSL_VERSION_TLS1_3;
        else
            goto unsupported;
        if (i == 0)
            mbedtls_ssl_conf_min_tls_version(&c->conf, pv);
        else
            mbedtls_ssl_conf_max_tls_version(&c->conf, pv);
    }
    return 0;
unsupported:
    snprintf(c->err, sizeof c->err, "tc: protocol version %d not supported by this mbedTLS",
             o->min_version == TC_VERSION_DEFAULT ? o->max_version : o->min_version);
    return TC_ERROR;
}

static int tc_conf_lists(struct tc_conn *c, const struct tc_opts *o)
{
    size_t n = 0;

    if (o->ciphersuites != NULL) {
        while (o->ciphersuites[n] != 0 && n + 1 < sizeof c->suites / sizeof c->suites[0]) {
            c->suites[n] = o->ciphersuites[n];
            n++;
        }
        c->suites[n] = 0;
        mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
    }
    if (o->groups == NULL)
        return 0;
    for (n = 0; o->groups[n] != NULL && n + 1 < sizeof c->groups / sizeof c->groups[0]; n++) {
        const mbedtls_ecp_curve_info *ci = mbedtls_ecp_curve_info_from_name(o->groups[n]);
        if (ci == NULL) {
            snprintf(c->err, sizeof c->err, "tc: unknown curve \"%s\"", o->groups[n]);
            return TC_ERROR;
        }
        c->groups[n] = ci->tls_id;
    }
    c->groups[n] = 0;
    mbedtls_ssl_conf_groups(&c->conf, c->groups);
    return 0;
}

static int tc_conf(struct tc_conn *c, const struct tc_opts *o)
{
    int ret = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        tc_set_err(c, "tc: config defaults", ret);
        return TC_ERROR;
    }
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
    if (o->ca_file != NULL) {
        if ((ret = mbedtls_x509_crt_parse_file(&c->ca, o->ca_file)) != 0) {
            tc_set_err(c, o->ca_file, ret);
            return TC_ERROR;
        }
        mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    /* Without it 3.6.1+ drops TLS 1.3 tickets and nothing resumes. */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &c->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    if (o->tls13_kex_modes != 0)
        mbedtls_ssl_conf_tls13_key_exchange_modes(&c->conf, o->tls13_kex_modes);
    if (tc_conf_versions(c, o) != 0 || tc_conf_lists(c, o) != 0)
        return TC_ERROR;
    if (o->alpn != NULL && (ret = mbedtls_ssl_conf_alpn_protocols(&c->conf, o->alpn)) != 0) {
        tc_set_err(c, "tc: alpn", ret);
        return TC_ERROR;
    }
    return 0;
}

static int tc_setup(struct tc_conn *c, int fd, const struct tc_opts *o)
{
    static const unsigned char pers[] = "portcullis test client";
    int ret;

    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->live = 1;
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_ssl_init(&c->ssl);
    ret = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, pers, sizeof pers - 1);
    if (ret != 0) {
        tc_set_err(c, "tc: drbg seed", ret);
        return TC_ERROR;
    }
    if (tc_conf(c, o) != 0)
        return TC_ERROR;
    if ((ret = mbedtls_ssl_setup(&c->ssl, &c->conf)) != 0 ||
        (ret = mbedtls_ssl_set_hostname(&c->ssl, o->server_name ? o->server_name : "localhost")) !=
            0 ||
        (o->session != NULL && o->session->valid &&
         (ret = mbedtls_ssl_set_session(&c->ssl, &o->session->s)) != 0)) {
        tc_set_err(c, "tc: ssl setup", ret);
        return TC_ERROR;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, tc_send, tc_recv, NULL);
    return 0;
}

int tc_attach(struct tc_conn *c, int fd, const struct tc_opts *o, char *err, size_t errlen)
{
    if (tc_setup(c, fd, o) != 0) {
        tc_copy_err(c, err, errlen);
        tc_close(c);
        return TC_ERROR;
    }
    return 0;
}

/* ---- I/O ---------------------------------------------------------------- */

static int tc_map(struct tc_conn *c, int ret, const char *what)
{
    switch (ret) {
    case MBEDTLS_ERR_SSL_WANT_READ: return TC_WANT_READ;
    case MBEDTLS_ERR_SSL_WANT_WRITE: return TC_WANT_WRITE;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF: return TC_CLOSED;
    default: tc_set_err(c, what, ret); return TC_ERROR;
    }
}

/* Waits until the socket is ready for what `want` asks, or the deadline. */
static int tc_wait(struct tc_conn *c, int want, long long deadline)
{
    struct pollfd pfd = { .fd = c->fd, .events = want == TC_WANT_WRITE ? POLLOUT : POLLIN };
    long long left = deadline - tc_now_ms();
    int n;

    if (left < 0)
        left = 0;
    do
        n = poll(&pfd, 1, (int)left);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(c->err, sizeof c->err, "tc: poll: %s", strerror(errno));
        return TC_ERROR;
    }
    return n == 0 ? TC_TIMEOUT : 0;
}

int tc_handshake_step(struct tc_conn *c)
{
    int ret = mbedtls_ssl_handshake(&c->ssl);

    return ret == 0 ? 0 : tc_map(c, ret, "tc: handshake");
}

static int tc_handshake(struct tc_conn *c, long long deadline)
{
    int ret;

    while ((ret = tc_handshake_step(c)) == TC_WANT_READ || ret == TC_WANT_WRITE)
        if ((ret = tc_wait(c, ret, deadline)) != 0)
            break;
    if (ret == TC_TIMEOUT)
        snprintf(c->err, sizeof c->err, "tc: handshake timed out");
    else if (ret == TC_CLOSED)
        snprintf(c->err, sizeof c->err, "tc: server closed the connection during the handshake");
    return ret;
}

ssize_t tc_write(struct tc_conn *c, const void *buf, size_t len)
{
    int ret;

    /* TLS 1.3: a NewSessionTicket read on the way is not an error. */
    do
        ret = mbedtls_ssl_write(&c->ssl, buf, len > INT_MAX ? INT_MAX : len);
    while (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
    return ret >= 0 ? ret : tc_map(c, ret, "tc: write");
}

int tc_write_all(struct tc_conn *c, const void *buf, size_t len, int timeout_ms)
{
    const unsigned char *p = buf;
    long long deadline = tc_now_ms() + timeout_ms;

    while (len > 0) {
        ssize_t n = tc_write(c, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n != TC_WANT_READ && n != TC_WANT_WRITE)
            return (int)n;
        int w = tc_wait(c, (int)n, deadline);
        if (w != 0)
            return w;
    }
    return 0;
}

ssize_t tc_read(struct tc_conn *c, void *buf, size_t len, int timeout_ms)
{
    long long deadline = tc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    for (;;) {
        int ret = mbedtls_ssl_read(&c->ssl, buf, len > INT_MAX ? INT_MAX : len);
        if (ret > 0)
            return ret;
        if (ret == 0)
            return TC_CLOSED;
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
        ret = tc_map(c, ret, "tc: read");
        if (ret != TC_WANT_READ && ret != TC_WANT_WRITE)
            return ret;
        if ((ret = tc_wait(c, ret, deadline)) != 0)
            return ret;
    }
}

/* ---- connect ------------------------------------------------------------ */

static int tc_tcp_one(const struct addrinfo *ai, long long deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    struct pollfd pfd;
    int soerr = 0;
    socklen_t sl = sizeof soerr;

    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    long long left = deadline - tc_now_ms();
    if (poll(&pfd, 1, left > 0 ? (int)left : 0) != 1)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

static int tc_tcp_connect(const char *host, int port, long long deadline, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char portstr[16];
    int fd = -1, rc;

    snprintf(portstr, sizeof portstr, "%d", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "tc: %s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = tc_tcp_one(ai, deadline);
    freeaddrinfo(res);
    if (fd < 0 && err != NULL && errlen > 0)
        snprintf(err, errlen, "tc: cannot connect to %s:%d", host, port);
    return fd;
}

int tc_connect(struct tc_conn *c, const char *host, int port, const struct tc_opts *o, char *err,
               size_t errlen)
{
    long long deadline = tc_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : TC_DEFAULT_TIMEOUT_MS);
    int fd, ret;

    memset(c, 0, sizeof *c);
    fd = tc_tcp_connect(host, port, deadline, err, errlen);
    if (fd < 0)
        return TC_ERROR;
    if (tc_setup(c, fd, o) != 0) {
        ret = TC_ERROR;
    } else {
        c->own_fd = 1;
        ret = tc_handshake(c, deadline);
    }
    if (ret != 0) {
        tc_copy_err(c, err, errlen);
        tc_close(c);
        if (!c->own_fd)
            close(fd);
        return ret == TC_TIMEOUT ? TC_TIMEOUT : TC_ERROR;
    }
    return 0;
}

/* ---- sessions, shutdown, accessors -------------------------------------- */

int tc_get_session(struct tc_conn *c, struct tc_session *s)
{
    int ret;

    mbedtls_ssl_session_init(&s->s);
    s->valid = 0;
    ret = mbedtls_ssl_get_session(&c->ssl, &s->s);
    if (ret != 0) {
        tc_set_err(c, "tc: get_session", ret);
        mbedtls_ssl_session_free(&s->s);
        return TC_ERROR;
    }
    s->valid = 1;
    return 0;
}

void tc_session_free(struct tc_session *s)
{
    if (s == NULL || !s->valid)
        return;
    mbedtls_ssl_session_free(&s->s);
    s->valid = 0;
}

int tc_shutdown(struct tc_conn *c)
{
    long long deadline = tc_now_ms() + 1000;
    int ret;

    while ((ret = mbedtls_ssl_close_notify(&c->ssl)) != 0) {
        ret = tc_map(c, ret, "tc: close_notify");
        if (ret != TC_WANT_READ && ret != TC_WANT_WRITE)
            return ret;
        if ((ret = tc_wait(c, ret, deadline)) != 0)
            return ret;
    }
    return 0;
}

void tc_close(struct tc_conn *c)
{
    if (c == NULL || !c->live)
        return;
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    if (c->own_fd && c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->live = 0;
}

const char *tc_version(const struct tc_conn *c) { return mbedtls_ssl_get_version(&c->ssl); }

const char *tc_ciphersuite(const struct tc_conn *c) { return mbedtls_ssl_get_ciphersuite(&c->ssl); }

const char *tc_alpn(const struct tc_conn *c) { return mbedtls_ssl_get_alpn_protocol(&c->ssl); }

const char *tc_error(const struct tc_conn *c) { return c->err; }
