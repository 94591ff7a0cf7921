/* encode.c: CSPRNG bytes and unpadded base64url (RFC 4648 §5). */
#include "auth/encode.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include <mbedtls/base64.h>

int auth_rand_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;

    /* getrandom(2) may return short counts for requests above 256 bytes or
     * when interrupted by a signal; loop until filled. flags 0 = urandom
     * pool, which blocks only before the kernel pool is seeded. */
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
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
