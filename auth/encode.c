/* encode.c: CSPRNG bytes and unpadded base64url (RFC 4648 §5). */
#include "auth/encode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

/* One CTR_DRBG per thread (mbedTLS's, AES-256), seeded from mbedTLS's
 * entropy collector, which reads the kernel's getrandom(2): no lock on the
 * hot path, and the library reseeds it every MBEDTLS_CTR_DRBG_RESEED_INTERVAL
 * requests. The state is heap memory (the entropy pool's hash context
 * allocates) owned through a thread-specific key, whose destructor frees it
 * when the thread ends. */
struct rand_state {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static pthread_key_t rand_key;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;
static int rand_key_ok;

static void rand_state_free(void *p)
{
    struct rand_state *r = p;
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
    free(r);
}

static void rand_key_make(void)
{
    rand_key_ok = pthread_key_create(&rand_key, rand_state_free) == 0;
}

static struct rand_state *rand_state(void)
{
    static const unsigned char pers[] = "portcullis auth";
    if (pthread_once(&rand_once, rand_key_make) != 0 || !rand_key_ok)
        return NULL;
    struct rand_state *r = pthread_getspecific(rand_key);
    if (r != NULL)
        return r;
    if ((r = malloc(sizeof *r)) == NULL)
        return NULL;
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, pers, sizeof pers - 1) !=
            0 ||
        pthread_setspecific(rand_key, r) != 0) {
        rand_state_free(r);
        return NULL;
    }
    return r;
}

int auth_rand_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    struct rand_state *r = rand_state();
    if (r == NULL)
        return -1;
    while (len > 0) {
        size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&r->drbg, p, n) != 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

int auth_b64url_encode(char *out, size_t outlen, const void *src, size_t len)
{
    size_t olen = 0, i, n = 0;

    if (mbedtls_base64_encode((unsigned char *)out, outlen, &olen, src, len) != 0)
        return -1;
    /* RFC 4648 §5: the URL-safe alphabet differs only in these two symbols;
     * JOSE (RFC 7515 §2) drops the padding. */
    for (i = 0; i < olen; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[n] = '\0';
    return (int)n;
}

static int b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int auth_b64url_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (!b64url_char(s[i]))
            return 0;
    return 1;
}

long auth_b64url_decode(unsigned char *out, size_t outlen, const char *s, size_t len)
{
    unsigned char *tmp = NULL;
    size_t i, padded, olen = 0;
    long ret = -1;

    if (!auth_b64url_valid(s, len) || len % 4 == 1 || len > (size_t)1 << 20)
        return -1;
    padded = (len + 3) / 4 * 4;
    tmp = malloc(padded);
    if (tmp == NULL)
        return -1;
    /* Map back to the standard alphabet and restore the padding mbedTLS
     * requires; the charset check above already excluded '=', whitespace
     * and everything else mbedTLS would otherwise tolerate. */
    for (i = 0; i < len; i++)
        tmp[i] = (unsigned char)(s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
    for (; i < padded; i++)
        tmp[i] = '=';
    if (mbedtls_base64_decode(out, outlen, &olen, tmp, padded) == 0)
        ret = (long)olen;
    free(tmp);
    return ret;
}
