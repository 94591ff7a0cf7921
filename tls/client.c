/* client.c: mbedTLS client sessions over non-blocking sockets (see client.h).
 * The policy lists repeat the server's (tls.c): a client of this project
 * offers exactly what its server accepts. */
#include "tls/client.h"
#include "tls/compat.h"
#include "tls/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

struct tls_client_config {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    int verify;
};

struct tls_client {
    mbedtls_ssl_context ssl;
    struct tls_client_config *cfg;
    int fd;
    tls_io_observer obs;
    void *obs_arg;
    unsigned full_hs : 1; /* the client reached the server's Certificate */
    unsigned hs_done : 1;
    unsigned failed : 1;
    unsigned notified : 1;
    char err[256];
};

struct tls_client_session {
    mbedtls_ssl_session s;
};

static void client_errf(char *err, size_t errlen, const char *what, int ret)
{
    char msg[96];

    if (err == NULL || errlen == 0)
        return;
    mbedtls_strerror(ret, msg, sizeof msg);
    snprintf(err, errlen, "%s: %s (-0x%04x)", what, msg, (unsigned)-ret);
}

/* ---- config ------------------------------------------------------------ */

static int client_conf(struct tls_client_config *cfg, const char *ca_file, char *err, size_t errlen)
{
    int ret = mbedtls_ssl_config_defaults(&cfg->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        client_errf(err, errlen, "tls client: config", ret);
        return -1;
    }
    mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &cfg->drbg);
    mbedtls_ssl_conf_session_tickets(&cfg->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    if ((ret = tls_policy_apply(&cfg->conf, MBEDTLS_SSL_IS_CLIENT)) != 0) {
        client_errf(err, errlen, "tls client: policy", ret);
        return -1;
    }
    if (ca_file == NULL || ca_file[0] == '\0') {
        mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
        return 0;
    }
    ret = mbedtls_x509_crt_parse_file(&cfg->ca, ca_file);
    if (ret != 0) {
        client_errf(err, errlen, ca_file, ret);
        return -1;
    }
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    cfg->verify = 1;
    return 0;
}

void tls_client_config_max_tls12(struct tls_client_config *cfg)
{
    mbedtls_ssl_conf_max_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_2);
}

int tls_client_config_setup(struct tls_client_config **out, const char *ca_file, char *err,
                            size_t errlen)
{
    static const unsigned char pers[] = "portcullis tls client";
    struct tls_client_config *cfg = calloc(1, sizeof *cfg);
    int ret;

    *out = NULL;
    if (cfg == NULL) {
        snprintf(err, errlen, "tls client: out of memory");
        return -1;
    }
    mbedtls_entropy_init(&cfg->entropy);
    mbedtls_ctr_drbg_init(&cfg->drbg);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_ssl_config_init(&cfg->conf);
    ret = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func, &cfg->entropy, pers,
                                sizeof pers - 1);
    if (ret != 0) {
        client_errf(err, errlen, "tls client: random generator", ret);
        goto fail;
    }
    if (client_conf(cfg, ca_file, err, errlen) != 0)
        goto fail;
    *out = cfg;
    return 0;
fail:
    tls_client_config_free(cfg);
    return -1;
}

void tls_client_config_free(struct tls_client_config *cfg)
{
    if (cfg == NULL)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_ctr_drbg_free(&cfg->drbg);
    mbedtls_entropy_free(&cfg->entropy);
    free(cfg);
}

/* ---- BIO --------------------------------------------------------------- */

static int client_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_client *c = ctx;
    int sys_errno = 0;
    int n = tls_sock_send(c->fd, buf, len, &sys_errno);
    if (n > 0 && c->obs != NULL)
        c->obs(c->obs_arg, 'w', buf, (size_t)n);
    return n;
}

static int client_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_client *c = ctx;
    int sys_errno = 0;
    int n = tls_sock_recv(c->fd, buf, len, &sys_errno);
    if (n > 0 && c->obs != NULL)
        c->obs(c->obs_arg, 'r', buf, (size_t)n);
    return n;
}

/* ---- sessions ---------------------------------------------------------- */

int tls_client_setup(struct tls_client **out, struct tls_client_config *cfg, int fd,
                     const char *server_name, const struct tls_client_session *resume, char *err,
                     size_t errlen)
{
    struct tls_client *c = calloc(1, sizeof *c);
    int ret;

    *out = NULL;
    if (c == NULL) {
        snprintf(err, errlen, "tls client: out of memory");
        return -1;
    }
    mbedtls_ssl_init(&c->ssl);
    c->cfg = cfg;
    c->fd = fd;
    if ((ret = mbedtls_ssl_setup(&c->ssl, &cfg->conf)) != 0 ||
        (ret = mbedtls_ssl_set_hostname(&c->ssl, server_name ? server_name : "localhost")) != 0 ||
        (resume != NULL && (ret = mbedtls_ssl_set_session(&c->ssl, &resume->s)) != 0)) {
        client_errf(err, errlen, "tls client: setup", ret);
        tls_client_free(c);
        return -1;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, client_send, client_recv, NULL);
    *out = c;
    return 0;
}

void tls_client_set_observer(struct tls_client *c, tls_io_observer fn, void *arg)
{
    c->obs = fn;
    c->obs_arg = arg;
}

void tls_client_free(struct tls_client *c)
{
    if (c == NULL)
        return;
    mbedtls_ssl_free(&c->ssl);
    free(c);
}

static int client_map(struct tls_client *c, int ret, const char *what)
{
    switch (ret) {
    case MBEDTLS_ERR_SSL_WANT_READ: return TLS_WANT_READ;
    case MBEDTLS_ERR_SSL_WANT_WRITE:
    case MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS:
    case MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS: return TLS_WANT_WRITE;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF: return TLS_CLOSED;
    default: break;
    }
    c->failed = 1;
    client_errf(c->err, sizeof c->err, what, ret);
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char why[96];
        int n = mbedtls_x509_crt_verify_info(why, sizeof why, "",
                                             mbedtls_ssl_get_verify_result(&c->ssl));
        if (n > 0) {
            size_t len = strlen(c->err);
            snprintf(c->err + len, sizeof c->err - len, ": %s", why);
        }
    }
    return TLS_ERROR;
}

/* Steps the handshake ourselves (as tls.c does on the server side) to see
 * whether the client reaches the server's Certificate: a resumed session
 * skips it, in TLS 1.2 and 1.3 alike. */
int tls_client_handshake(struct tls_client *c)
{
    int ret;

    if (c->failed)
        return TLS_ERROR;
    while (!mbedtls_ssl_is_handshake_over(&c->ssl)) {
        if (PC_SSL_STATE(&c->ssl) == MBEDTLS_SSL_SERVER_CERTIFICATE)
            c->full_hs = 1;
        ret = mbedtls_ssl_handshake_step(&c->ssl);
        if (ret != 0)
            return client_map(c, ret, "tls client: handshake");
    }
    c->hs_done = 1;
    return 0;
}

ssize_t tls_client_read(struct tls_client *c, void *buf, size_t len)
{
    int ret;

    if (!c->hs_done && (ret = tls_client_handshake(c)) != 0)
        return ret;
    if (c->failed)
        return TLS_ERROR;
    for (;;) {
        ret = mbedtls_ssl_read(&c->ssl, buf, len > INT_MAX ? INT_MAX : len);
        if (ret > 0)
            return ret;
        if (ret == 0)
            return TLS_CLOSED;
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue; /* TLS 1.3 ticket taken in (session_save keeps it); no data */
        return client_map(c, ret, "tls client: read");
    }
}

ssize_t tls_client_write(struct tls_client *c, const void *buf, size_t len)
{
    int ret;

    if (!c->hs_done && (ret = tls_client_handshake(c)) != 0)
        return ret;
    if (c->failed)
        return TLS_ERROR;
    /* A TLS 1.3 NewSessionTicket read while writing is reported the same
     * way as on reads: taken in, and the write goes on. */
    do
        ret = mbedtls_ssl_write(&c->ssl, buf, len > INT_MAX ? INT_MAX : len);
    while (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
    return ret >= 0 ? ret : client_map(c, ret, "tls client: write");
}

void tls_client_close_notify(struct tls_client *c)
{
    if (c == NULL || c->notified || c->failed || !c->hs_done)
        return;
    c->notified = 1;
    (void)mbedtls_ssl_close_notify(&c->ssl); /* WANT_*: best effort, dropped */
}

int tls_client_session_save(struct tls_client *c, struct tls_client_session **out)
{
    struct tls_client_session *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL)
        return -1;
    mbedtls_ssl_session_init(&s->s);
    int ret = mbedtls_ssl_get_session(&c->ssl, &s->s);
    if (ret != 0) {
        client_errf(c->err, sizeof c->err, "tls client: save session", ret);
        tls_client_session_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void tls_client_session_free(struct tls_client_session *s)
{
    if (s == NULL)
        return;
    mbedtls_ssl_session_free(&s->s); /* zeroizes the master secret */
    free(s);
}

/* ---- accessors --------------------------------------------------------- */

int tls_client_resumed(const struct tls_client *c) { return c->hs_done && !c->full_hs; }

int tls_client_verified(const struct tls_client *c)
{
    return c->hs_done && c->cfg->verify && mbedtls_ssl_get_verify_result(&c->ssl) == 0;
}

const char *tls_client_version(const struct tls_client *c)
{
    return mbedtls_ssl_get_version(&c->ssl);
}

const char *tls_client_ciphersuite(const struct tls_client *c)
{
    return mbedtls_ssl_get_ciphersuite(&c->ssl);
}

const char *tls_client_last_error(const struct tls_client *c) { return c->err; }
