/* tickets.h: the session-ticket keys of a server (RFC 5077 tickets in TLS
 * 1.2, NewSessionTicket in TLS 1.3), outliving certificate reloads, and
 * installable from outside so that several processes share them.
 *
 * mbedTLS keeps two keys: the active one seals new tickets, both open
 * tickets. Left alone, it replaces the active key by a random one every
 * lifetime_s (per process: no other process can open its tickets).
 * tls_tickets_install sets both keys instead; installed again at least
 * every lifetime_s / 2, the keys are never replaced behind the caller's
 * back (each install restarts mbedTLS's clock). A ticket is honoured for
 * lifetime_s after it was issued, with either key.
 *
 * Thread-safe: every loop's handshakes seal and open tickets under one
 * mutex, which install takes too. Refcounted: each tls_server using the
 * set holds a reference. */
#ifndef PC_TLS_TICKETS_H
#define PC_TLS_TICKETS_H

#include <stddef.h>

#define TLS_TICKET_NAME_LEN 4  /* what identifies a key in a ticket */
#define TLS_TICKET_KEY_LEN  32 /* AES-256-GCM */

struct tls_ticket_key {
    unsigned char name[TLS_TICKET_NAME_LEN];
    unsigned char key[TLS_TICKET_KEY_LEN];
};

struct tls_tickets;
struct mbedtls_ssl_config;

/* Two random keys, AES-256-GCM, tickets valid lifetime_s (1..7 days).
 * Refcount 1. 0, or -1 with err. */
int tls_tickets_new(struct tls_tickets **out, int lifetime_s, char *err, size_t errlen);
struct tls_tickets *tls_tickets_retain(struct tls_tickets *t);
void tls_tickets_release(struct tls_tickets *t); /* NULL ok; wipes the keys */

/* cur seals tickets from now on; prev (NULL: none, cur is used twice)
 * still opens the ones it sealed. Any thread. 0, or -1 when mbedTLS
 * refuses a key (the keys in place stay usable). */
int tls_tickets_install(struct tls_tickets *t, const struct tls_ticket_key *prev,
                        const struct tls_ticket_key *cur);

/* Points conf's ticket callbacks at t (tls.c, per loop); t must outlive
 * conf. */
void tls_tickets_conf(struct tls_tickets *t, struct mbedtls_ssl_config *conf);

#endif
