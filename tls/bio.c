/* bio.c: see bio.h. */
#include "tls/bio.h"
#include "tls/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

/* A flight larger than this is a bug (ours or mbedTLS's), not a certificate
 * chain: refuse rather than grow without bound. */
#define BIO_QUEUE_MAX (256u * 1024u)

/* ---- the socket calls (declared in policy.h, shared with client.c) ---- */

static int sock_error(int e, int want, int fail, int *sys_errno)
{
    if (e == EAGAIN || e == EWOULDBLOCK)
        return want;
    *sys_errno = e;
    if (e == ECONNRESET || e == EPIPE)
        return MBEDTLS_ERR_NET_CONN_RESET;
    return fail;
}

int tls_sock_send(int fd, const unsigned char *buf, size_t len, int *sys_errno)
{
    ssize_t n;
    do
        n = send(fd, buf, len > INT_MAX ? INT_MAX : len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sock_error(errno, MBEDTLS_ERR_SSL_WANT_WRITE, MBEDTLS_ERR_NET_SEND_FAILED,
                          sys_errno);
    return (int)n;
}

static int sock_recv(int fd, unsigned char *buf, size_t len, int flags, int *sys_errno)
{
    ssize_t n;
    do
        n = recv(fd, buf, len > INT_MAX ? INT_MAX : len, flags);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sock_error(errno, MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_NET_RECV_FAILED, sys_errno);
    return (int)n;
}

int tls_sock_recv(int fd, unsigned char *buf, size_t len, int *sys_errno)
{
    return sock_recv(fd, buf, len, 0, sys_errno);
}

int tls_sock_peek(int fd, unsigned char *buf, size_t len, int *sys_errno)
{
    return sock_recv(fd, buf, len, MSG_PEEK, sys_errno);
}

/* ---- the server connection's BIO ---- */

static int bio_from_stash(struct tls_bio *b, unsigned char *buf, size_t len)
{
    size_t n = b->stash_len - b->stash_off;

    if (n > len)
        n = len;
    memcpy(buf, b->stash + b->stash_off, n);
    b->stash_off += n;
    if (b->stash_off == b->stash_len) {
        free(b->stash);
        b->stash = NULL;
        b->stash_off = b->stash_len = 0;
    }
    return (int)n;
}

/* Keeps bytes mbedTLS did not ask for; on allocation failure the connection
 * fails (the bytes are already off the socket). */
static int bio_keep(struct tls_bio *b, const unsigned char *p, size_t n)
{
    b->stash = malloc(n);
    if (b->stash == NULL)
        return MBEDTLS_ERR_NET_RECV_FAILED;
    memcpy(b->stash, p, n);
    b->stash_off = 0;
    b->stash_len = n;
    return 0;
}

static int bio_recv(struct tls_bio *b, unsigned char *scratch, size_t scratch_len,
                    unsigned char *buf, size_t len)
{
    if (b->stash != NULL)
        return bio_from_stash(b, buf, len);
    if (len >= scratch_len) /* a big read gains nothing from the copy */
        return tls_sock_recv(b->fd, buf, len, &b->sys_errno);
    int n = tls_sock_recv(b->fd, scratch, scratch_len, &b->sys_errno);
    if (n <= 0)
        return n;
    size_t got = (size_t)n, give = got < len ? got : len;
    memcpy(buf, scratch, give);
    if (got > give && bio_keep(b, scratch + give, got - give) != 0)
        return MBEDTLS_ERR_NET_RECV_FAILED;
    return (int)give;
}

int tls_bio_recv(struct tls_bio *b, unsigned char *scratch, size_t scratch_len, unsigned char *buf,
                 size_t len)
{
    int n = bio_recv(b, scratch, scratch_len, buf, len);

    if (n > 0 && b->obs != NULL)
        b->obs(b->obs_arg, 'r', buf, (size_t)n);
    return n;
}

static int bio_enqueue(struct tls_bio *b, const unsigned char *buf, size_t len)
{
    if (len > BIO_QUEUE_MAX - b->queue_len)
        return MBEDTLS_ERR_NET_SEND_FAILED;
    if (b->queue_len + len > b->queue_cap) {
        size_t cap = b->queue_cap ? b->queue_cap : 4096;
        while (cap < b->queue_len + len)
            cap *= 2;
        unsigned char *q = realloc(b->queue, cap);
        if (q == NULL)
            return MBEDTLS_ERR_NET_SEND_FAILED;
        b->queue = q;
        b->queue_cap = cap;
    }
    memcpy(b->queue + b->queue_len, buf, len);
    b->queue_len += len;
    return (int)len;
}

int tls_bio_send(struct tls_bio *b, const unsigned char *buf, size_t len)
{
    int n;

    if (len > INT_MAX)
        len = INT_MAX;                   /* keeps the int return exact */
    if (b->batching || b->queue_len > 0) /* never overtake queued bytes */
        n = bio_enqueue(b, buf, len);
    else
        n = tls_sock_send(b->fd, buf, len, &b->sys_errno);
    if (n > 0 && b->obs != NULL)
        b->obs(b->obs_arg, 'w', buf, (size_t)n);
    return n;
}

int tls_bio_flush(struct tls_bio *b)
{
    size_t off = 0;
    int ret = 0;

    while (off < b->queue_len) {
        int n = tls_sock_send(b->fd, b->queue + off, b->queue_len - off, &b->sys_errno);
        if (n < 0) {
            ret = n;
            break;
        }
        off += (size_t)n;
    }
    if (off == b->queue_len) {
        free(b->queue);
        b->queue = NULL;
        b->queue_len = b->queue_cap = 0;
    } else if (off > 0) {
        memmove(b->queue, b->queue + off, b->queue_len - off);
        b->queue_len -= off;
    }
    return ret;
}

size_t tls_bio_stashed(const struct tls_bio *b) { return b->stash_len - b->stash_off; }

void tls_bio_free(struct tls_bio *b)
{
    if (b == NULL)
        return;
    free(b->stash);
    free(b->queue);
    b->stash = b->queue = NULL;
    b->stash_off = b->stash_len = b->queue_len = b->queue_cap = 0;
}
