/* client.h: the mbedTLS client side, for `portcullis demo` and the server's
 * POST /demo/run (the server acting as its own client over loopback).
 *
 * Same policy as the server (tls/policy.h): TLS 1.3 and 1.2, their AEAD
 * suites, groups P-256, X25519, P-384, ALPN "http/1.1", session tickets
 * offered (TLS 1.3 tickets arrive after the handshake, with the first
 * response: read it before tls_client_session_save); certificate
 * verification required whenever a CA file is given.
 *
 * Non-blocking like tls.h: every call makes what progress the socket allows
 * and returns TLS_WANT_READ / TLS_WANT_WRITE otherwise; the caller polls the
 * socket (and owns the deadlines). Two lifetimes:
 *   struct tls_client_config  trust anchors, RNG and mbedtls_ssl_config; one
 *                             per thread (its RNG is not locked).
 *   struct tls_client         one connection on a connected socket. */
#ifndef PC_TLS_CLIENT_H
#define PC_TLS_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#include "tls/tls.h" /* TLS_* return codes, tls_io_observer */

struct tls_client_config;
struct tls_client;
struct tls_client_session;

/* ca_file: PEM trust anchors; NULL or "" = no verification (the connection
 * is then encrypted but not authenticated: tls_client_verified() says 0).
 * Returns 0 or -1 with err naming the file. */
int tls_client_config_setup(struct tls_client_config **out, const char *ca_file, char *err,
                            size_t errlen);
void tls_client_config_free(struct tls_client_config *cfg); /* NULL ok */
/* Caps the config at TLS 1.2 (the demo's "TLS 1.2 beside TLS 1.3"); for
 * connections set up afterwards. */
void tls_client_config_max_tls12(struct tls_client_config *cfg);

/* New session on connected non-blocking socket fd (not owned: the caller
 * closes it after tls_client_free). server_name: SNI and the name the
 * certificate must carry (NULL = "localhost", the name of the dev
 * certificate). resume: a session saved from an earlier
 * connection to offer (its ticket), or NULL. cfg must outlive the client.
 * Returns 0 or -1 with err. */
int tls_client_setup(struct tls_client **out, struct tls_client_config *cfg, int fd,
                     const char *server_name, const struct tls_client_session *resume, char *err,
                     size_t errlen);
/* Sees every byte read from ('r') and written to ('w') the socket. */
void tls_client_set_observer(struct tls_client *c, tls_io_observer fn, void *arg);
void tls_client_free(struct tls_client *c); /* NULL ok */

/* 0 when the handshake is complete, else TLS_WANT_*, TLS_CLOSED, TLS_ERROR. */
int tls_client_handshake(struct tls_client *c);
/* > 0 bytes, TLS_WANT_*, TLS_CLOSED (close_notify or EOF) or TLS_ERROR. */
ssize_t tls_client_read(struct tls_client *c, void *buf, size_t len);
/* > 0 bytes accepted, TLS_WANT_* (call again with the same buffer and
 * length: mbedTLS rule) or TLS_ERROR. */
ssize_t tls_client_write(struct tls_client *c, const void *buf, size_t len);
/* Best-effort close_notify; never blocks. */
void tls_client_close_notify(struct tls_client *c);

/* The session of a completed handshake, for a later tls_client_setup. On
 * TLS 1.3 the ticket arrives after the handshake: save after a read returned
 * data. Returns 0 or -1. */
int tls_client_session_save(struct tls_client *c, struct tls_client_session **out);
void tls_client_session_free(struct tls_client_session *s); /* NULL ok */

/* 1 when the completed handshake resumed the offered session (the server
 * sent no certificate), 0 for a full handshake or before completion. */
int tls_client_resumed(const struct tls_client *c);
/* 1 when the server's certificate chain was verified against the CA file. */
int tls_client_verified(const struct tls_client *c);
const char *tls_client_version(const struct tls_client *c); /* "TLSv1.2" */
const char *tls_client_ciphersuite(const struct tls_client *c);
/* Text of the last error ("" if none). */
const char *tls_client_last_error(const struct tls_client *c);

#endif
