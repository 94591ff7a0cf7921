/* tls_client.h: a small mbedTLS client for the tests.
 *
 * Two ways in:
 *   tc_connect  TCP connect to host:port and a complete handshake, both
 *               bounded by a timeout: for end-to-end tests against the real
 *               server.
 *   tc_attach   wrap an already connected non-blocking fd (a socketpair end)
 *               and drive the handshake one call at a time with
 *               tc_handshake_step, interleaved with a server in the same
 *               thread.
 * Afterwards tc_read/tc_write*, tc_shutdown (close_notify), tc_close.
 *
 * Return codes (negative; 0 or positive = success) mirror tls.h: */
#ifndef PC_TEST_TLS_CLIENT_H
#define PC_TEST_TLS_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

#include <mbedtls/build_info.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define TC_ERROR      (-1) /* fatal; text in tc_error() */
#define TC_WANT_READ  (-2) /* non-blocking step: wait for readable */
#define TC_WANT_WRITE (-3) /* non-blocking step: wait for writable */
#define TC_CLOSED     (-4) /* peer sent close_notify or closed the socket */
#define TC_TIMEOUT    (-5) /* the timeout passed first */

/* TC_TLS1_0/1_1 exist for tests that ask for them; mbedTLS 3.6 cannot speak
 * them, so tc_connect/tc_attach fail with "not supported" (not a refusal by
 * the server: test those with openssl). */
enum tc_version { TC_VERSION_DEFAULT = 0, TC_TLS1_0, TC_TLS1_1, TC_TLS1_2, TC_TLS1_3 };

/* A session saved for resumption (holds the ticket). */
struct tc_session {
    mbedtls_ssl_session s;
    int valid;
};

struct tc_opts {
    const char *ca_file;     /* PEM trust anchor; NULL = no verification */
    const char *server_name; /* SNI and the name checked; NULL = "localhost"
                                     (a name, as the dev certificate's) */
    int min_version;         /* enum tc_version; TC_VERSION_DEFAULT = library's */
    int max_version;
    const int *ciphersuites;          /* 0-terminated MBEDTLS_TLS_* ids (max 31); NULL = default */
    const char *const *groups;        /* NULL-terminated curve names: "secp256r1",
                                     "x25519", "secp384r1", "secp521r1"...; NULL = default */
    const char **alpn;                /* NULL-terminated; kept by pointer; NULL = none */
    const struct tc_session *session; /* offer this session; NULL = full handshake */
    int tls13_kex_modes;              /* MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_* bits;
                                         0 = library default */
    int timeout_ms;                   /* tc_connect: connect + handshake; <= 0 = 5000 */
};

struct tc_conn {
    int fd;
    int own_fd; /* tc_connect's socket: closed by tc_close */
    int live;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int suites[32];
    uint16_t groups[16]; /* IANA group ids, 0-terminated */
    size_t wire_in;      /* raw bytes read from the socket */
    size_t wire_out;     /* raw bytes written to the socket */
    char err[192];
};

/* Wraps connected non-blocking `fd` (not owned). No I/O yet. 0 or TC_ERROR. */
int tc_attach(struct tc_conn *c, int fd, const struct tc_opts *o, char *err, size_t errlen);
/* One non-blocking handshake attempt: 0 done, TC_WANT_*, TC_CLOSED, TC_ERROR. */
int tc_handshake_step(struct tc_conn *c);

/* Connects to host:port (IPv4 or IPv6 literal or name) and completes the
 * handshake within o->timeout_ms. 0, or TC_ERROR/TC_TIMEOUT with err set
 * (c is then closed: tc_close is still allowed). */
int tc_connect(struct tc_conn *c, const char *host, int port, const struct tc_opts *o, char *err,
               size_t errlen);

/* One non-blocking write: bytes accepted (> 0), TC_WANT_* or TC_ERROR. After
 * TC_WANT_*, repeat with the same buffer and length. */
ssize_t tc_write(struct tc_conn *c, const void *buf, size_t len);
/* Writes everything, waiting up to timeout_ms in total: 0 or TC_*. */
int tc_write_all(struct tc_conn *c, const void *buf, size_t len, int timeout_ms);
/* Reads what is available, waiting up to timeout_ms (0 = no wait) for the
 * first byte: > 0 bytes, TC_CLOSED, TC_TIMEOUT or TC_ERROR. On TLS 1.3 this
 * also takes in the server's session tickets. */
ssize_t tc_read(struct tc_conn *c, void *buf, size_t len, int timeout_ms);

/* Saves the current session for tc_opts.session: 0 or TC_ERROR. On TLS 1.3
 * the ticket arrives after the handshake: call after a tc_read returned data.
 * Free with tc_session_free. */
int tc_get_session(struct tc_conn *c, struct tc_session *s);
void tc_session_free(struct tc_session *s); /* idempotent */

/* Sends close_notify (waits up to 1 s to flush it). 0 or TC_*. */
int tc_shutdown(struct tc_conn *c);
/* Frees everything (no close_notify) and closes the socket if tc_connect
 * opened it. Idempotent. */
void tc_close(struct tc_conn *c);

const char *tc_version(const struct tc_conn *c);     /* "TLSv1.2" */
const char *tc_ciphersuite(const struct tc_conn *c); /* "TLS-ECDHE-..." */
const char *tc_alpn(const struct tc_conn *c);        /* NULL if none */
const char *tc_error(const struct tc_conn *c);       /* "" if none */

#endif
