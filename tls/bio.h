/* bio.h: the socket side of a server TLS connection, with fewer system calls.
 *
 * Reads: mbedTLS asks for a record's 5-byte header, then for its body: two
 * recv() per record, and a client's last handshake flight is three records.
 * Here one recv() fills the loop's scratch buffer, mbedTLS gets what it asked
 * for, and the rest waits in a per-connection stash (freed once consumed, so
 * an idle connection holds none).
 * Writes: while `batching` is set (a handshake flight: ServerHello,
 * Certificate, ServerKeyExchange, ServerHelloDone are four records), records
 * queue and leave in one send() at tls_bio_flush.
 *
 * Return values follow mbedTLS BIO callbacks: byte counts, 0 for EOF,
 * MBEDTLS_ERR_SSL_WANT_READ/WRITE, MBEDTLS_ERR_NET_*; `sys_errno` keeps the
 * errno behind an error. */
#ifndef PC_TLS_BIO_H
#define PC_TLS_BIO_H

#include <stddef.h>

typedef void (*tls_bio_observer)(void *arg, char dir, const unsigned char *p, size_t n);

struct tls_bio {
    int fd;
    int sys_errno;
    unsigned char *stash; /* read ahead, not yet given to mbedTLS */
    size_t stash_off, stash_len;
    unsigned char *queue; /* accepted from mbedTLS, not yet sent */
    size_t queue_len, queue_cap;
    unsigned batching : 1;
    tls_bio_observer obs; /* sees every byte in and out (wire view) */
    void *obs_arg;
};

/* `scratch` belongs to the calling thread's loop and is only used during the
 * call. */
int tls_bio_recv(struct tls_bio *b, unsigned char *scratch, size_t scratch_len, unsigned char *buf,
                 size_t len);
int tls_bio_send(struct tls_bio *b, const unsigned char *buf, size_t len);
/* Sends the queue: 0 when empty, WANT_WRITE when the socket is full, or an
 * error. */
int tls_bio_flush(struct tls_bio *b);
size_t tls_bio_stashed(const struct tls_bio *b);
void tls_bio_free(struct tls_bio *b);

#endif
