/* tls.h: mbedTLS server side for the event loops.
 *
 * Three lifetimes:
 *   struct tls_server  one per certificate load: chain, key, and the
 *                      session-ticket keys (tickets.h, which may outlive
 *                      it). Shared by all loops, reference-counted, so a
 *                      SIGHUP reload swaps it for new connections while old
 *                      connections keep the one they started with.
 *   struct tls_loop    one per event-loop thread: mbedtls_ssl_config and its
 *                      own CTR_DRBG (no lock on the hot path). Refcounted too:
 *                      each tls_conn holds a reference.
 *   struct tls_conn    one per connection: mbedtls_ssl_context bound to a
 *                      non-blocking socket; EAGAIN maps to WANT_READ/WRITE.
 *
 * Policy (tls/policy.h): TLS 1.3 and 1.2, nothing older; the three TLS 1.3
 * AEAD suites and the six TLS 1.2 ECDHE AEAD suites; groups P-256, X25519,
 * P-384; no renegotiation, no 0-RTT; ALPN "http/1.1"; session tickets with
 * rotating keys (TLS 1.3: NewSessionTicket, resumption with psk_dhe_ke only). */
#ifndef PC_TLS_H
#define PC_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* Return codes of the tls_conn_* calls (all negative; 0/positive = success). */
#define TLS_WANT_READ  (-2) /* wait until the socket is readable, call again */
#define TLS_WANT_WRITE (-3) /* wait until the socket is writable, call again */
#define TLS_CLOSED     (-4) /* peer closed (close_notify or EOF) */
#define TLS_PLAINTEXT  (-5) /* handshake saw cleartext HTTP, not a TLS record */
#define TLS_ERROR      (-1) /* fatal; details via tls_conn_last_error() */

struct tls_server_opts {
    const char *cert_file;       /* PEM chain, leaf first */
    const char *key_file;        /* PEM private key */
    int session_tickets;         /* non-zero: enable tickets */
    int ticket_lifetime_s;       /* ticket key rotation period and ticket lifetime,
                                  1..TLS_TICKET_LIFETIME_MAX_S when tickets are on */
    struct tls_tickets *tickets; /* tickets.h: keys shared by every load (retained);
                                    NULL: a set of this server's own */
};

/* RFC 8446 §4.6.1 caps ticket lifetimes at 7 days; mbedTLS 3.6 enforces it. */
#define TLS_TICKET_LIFETIME_MAX_S 604800

struct tls_tickets;
struct tls_server;
struct tls_loop;
struct tls_conn;

/* Once per process before anything else (psa_crypto_init). */
int tls_global_init(char *err, size_t errlen);

/* Loads and checks the certificate chain and key (key must match the leaf).
 * Returns 0 with a server of refcount 1, or -1 with err naming the file. */
int tls_server_load(struct tls_server **out, const struct tls_server_opts *opts, char *err,
                    size_t errlen);
struct tls_server *tls_server_retain(struct tls_server *s);
void tls_server_release(struct tls_server *s); /* NULL ok */

/* Per-loop config over `srv` (takes its own reference on srv). Refcount 1. */
int tls_loop_setup(struct tls_loop **out, struct tls_server *srv, char *err, size_t errlen);
struct tls_loop *tls_loop_retain(struct tls_loop *l);
void tls_loop_release(struct tls_loop *l); /* NULL ok */

/* Optional observer of raw socket bytes (the demo's wire view):
 * dir is 'r' for bytes read from the socket, 'w' for bytes written. */
typedef void (*tls_io_observer)(void *arg, char dir, const unsigned char *p, size_t n);

/* New server-side session on connected non-blocking socket fd (not owned:
 * the caller closes fd after tls_conn_free). Holds a reference on l. */
int tls_conn_setup(struct tls_conn **out, struct tls_loop *l, int fd);
void tls_conn_set_observer(struct tls_conn *c, tls_io_observer fn, void *arg);
void tls_conn_free(struct tls_conn *c); /* NULL ok */

/* 0 when the handshake is complete, else a TLS_* code. */
int tls_conn_handshake(struct tls_conn *c);
/* > 0 bytes read, or a TLS_* code (TLS_CLOSED on close_notify/EOF). */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len);
/* > 0 bytes accepted (may be fewer than len), or a TLS_* code. After
 * TLS_WANT_*, call again with the same buffer and length (mbedTLS rule). */
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len);
/* Decrypted bytes buffered inside mbedTLS (read them before waiting on epoll). */
size_t tls_conn_pending(const struct tls_conn *c);
/* Best-effort close_notify; never blocks. */
void tls_conn_close_notify(struct tls_conn *c);
/* For a connection's last response: the records of the following writes are
 * held back (tls_conn_write accepts them at once) to leave in one send() with
 * the close_notify at tls_conn_finish, one system call and one packet fewer.
 * The caller must then call tls_conn_finish; hold back only what fits in
 * memory comfortably (one record, 16 KiB). */
void tls_conn_cork(struct tls_conn *c);
/* Queues the close_notify (once) and sends everything held: 0 when all has
 * left, TLS_WANT_WRITE when the socket is full (call again once writable),
 * or TLS_ERROR/TLS_CLOSED. */
int tls_conn_finish(struct tls_conn *c);
/* The connection waits for its next request with nothing left to send: gives
 * back memory the handshake made resident and nothing needs until later
 * records (once per connection; later calls do nothing). A connection closed
 * right after its response never needs it. */
void tls_conn_idle(struct tls_conn *c);

const char *tls_conn_version(const struct tls_conn *c); /* "TLSv1.2" */
const char *tls_conn_ciphersuite(const struct tls_conn *c);
const char *tls_conn_alpn(const struct tls_conn *c); /* NULL if none */
/* 1 when the completed handshake resumed a session (from a ticket): the
 * server sent no certificate. 0 for a full handshake or before completion. */
int tls_conn_resumed(const struct tls_conn *c);
/* Text of the last mbedTLS error on this connection ("" if none). */
const char *tls_conn_last_error(const struct tls_conn *c);

#endif
