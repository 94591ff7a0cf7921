/* tickets.c: see tickets.h. */
#include "tls/tickets.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>

#include "tls/tls.h"

struct tls_tickets {
    atomic_int refs;
    uint32_t lifetime_s;
    /* Serialises sealing and opening (mbedTLS's own lock covers those)
     * with install, which mbedTLS does not lock. */
    pthread_mutex_t lock;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg; /* used only under lock */
    mbedtls_ssl_ticket_context ctx;
};

static void tickets_destroy(struct tls_tickets *t)
{
    mbedtls_ssl_ticket_free(&t->ctx);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int tls_tickets_new(struct tls_tickets **out, int lifetime_s, char *err, size_t errlen)
{
    static const unsigned char pers[] = "portcullis tls_tickets";
    struct tls_tickets *t;
    char msg[128];
    int ret;

    *out = NULL;
    if (lifetime_s < 1 || lifetime_s > TLS_TICKET_LIFETIME_MAX_S) {
        snprintf(err, errlen, "tls: ticket lifetime %d s is outside 1..%d", lifetime_s,
                 TLS_TICKET_LIFETIME_MAX_S);
        return -1;
    }
    if ((t = calloc(1, sizeof *t)) == NULL) {
        snprintf(err, errlen, "tls: out of memory");
        return -1;
    }
    pthread_mutex_init(&t->lock, NULL);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_ssl_ticket_init(&t->ctx);
    t->lifetime_s = (uint32_t)lifetime_s;
    /* AES-256-GCM: at least as strong as any suite we offer. */
    ret = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, pers, sizeof pers - 1);
    if (ret == 0)
        ret = mbedtls_ssl_ticket_setup(&t->ctx, mbedtls_ctr_drbg_random, &t->drbg,
                                       MBEDTLS_CIPHER_AES_256_GCM, t->lifetime_s);
    if (ret != 0) {
        mbedtls_strerror(ret, msg, sizeof msg);
        snprintf(err, errlen, "tls: session ticket setup: %s (-0x%04x)", msg, (unsigned)-ret);
        tickets_destroy(t);
        return -1;
    }
    atomic_init(&t->refs, 1);
    *out = t;
    return 0;
}

struct tls_tickets *tls_tickets_retain(struct tls_tickets *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void tls_tickets_release(struct tls_tickets *t)
{
    if (t != NULL && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        tickets_destroy(t);
}

int tls_tickets_install(struct tls_tickets *t, const struct tls_ticket_key *prev,
                        const struct tls_ticket_key *cur)
{
    const struct tls_ticket_key *first = prev != NULL ? prev : cur;
    int ret;

    pthread_mutex_lock(&t->lock);
    /* Each rotate fills the inactive slot and makes it active: prev then
     * cur leaves both in place, cur sealing. */
    ret = mbedtls_ssl_ticket_rotate(&t->ctx, first->name, sizeof first->name, first->key,
                                    sizeof first->key, t->lifetime_s);
    if (ret == 0)
        ret = mbedtls_ssl_ticket_rotate(&t->ctx, cur->name, sizeof cur->name, cur->key,
                                        sizeof cur->key, t->lifetime_s);
    pthread_mutex_unlock(&t->lock);
    return ret == 0 ? 0 : -1;
}

static int tickets_write(void *p, const mbedtls_ssl_session *session, unsigned char *start,
                         const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    struct tls_tickets *t = p;
    pthread_mutex_lock(&t->lock);
    int ret = mbedtls_ssl_ticket_write(&t->ctx, session, start, end, tlen, lifetime);
    pthread_mutex_unlock(&t->lock);
    return ret;
}

static int tickets_parse(void *p, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
    struct tls_tickets *t = p;
    pthread_mutex_lock(&t->lock);
    int ret = mbedtls_ssl_ticket_parse(&t->ctx, session, buf, len);
    pthread_mutex_unlock(&t->lock);
    return ret;
}

void tls_tickets_conf(struct tls_tickets *t, struct mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_session_tickets_cb(conf, tickets_write, tickets_parse, t);
}
