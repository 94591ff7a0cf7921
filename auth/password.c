/* password.c: argon2id hashing, verification and PHC header parsing. */
#include "auth/password.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"

#define PW_SALT_LEN 16 /* OWASP: 16 random bytes per hash */
#define PW_TAG_LEN  32

/* What the header "$argon2id$v=V$m=M,t=T,p=P$" of a stored hash says. */
struct phc_header {
    uint32_t v, m, t, p;
};

static int params_in_bounds(uint32_t m, uint32_t t, uint32_t p)
{
    /* libargon2 needs 8 KiB per lane (2 blocks per sync point). */
    return p >= 1 && p <= AUTH_PW_MAX_P && t >= 1 && t <= AUTH_PW_MAX_T && m >= 8u * p &&
           m <= AUTH_PW_MAX_M_KIB;
}

int auth_pw_params_check(const struct auth_pw_params *params, char *err, size_t errlen)
{
    if (params != NULL && params_in_bounds(params->m_kib, params->t, params->p))
        return 0;
    snprintf(err, errlen,
             "argon2 parameters out of range: need 1 <= p <= %u, 1 <= t <= %u, "
             "8*p <= m <= %u KiB",
             AUTH_PW_MAX_P, AUTH_PW_MAX_T, AUTH_PW_MAX_M_KIB);
    return AUTH_PW_ERROR;
}

int auth_pw_check_length(size_t pwlen)
{
    return pwlen >= AUTH_PW_MIN_LEN && pwlen <= AUTH_PW_MAX_LEN ? 0 : AUTH_PW_LENGTH;
}

/* Reads a decimal without sign, whitespace or leading zeros (strtoul would
 * accept all three) and advances *sp past it. */
static int parse_u32(const char **sp, uint32_t max, uint32_t *out)
{
    const char *s = *sp;
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || v > max)
        return -1;
    *out = (uint32_t)v;
    *sp = end;
    return 0;
}

static int expect(const char **sp, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*sp, lit, n) != 0)
        return -1;
    *sp += n;
    return 0;
}

/* A '$'-led segment of standard base64 without padding (PHC salt/hash). */
static int b64_segment(const char **sp)
{
    const char *s = *sp;
    size_t n = 0;

    if (*s++ != '$')
        return -1;
    while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '/')
        n++;
    if (n == 0)
        return -1;
    *sp = s + n;
    return 0;
}

/* Strict parse of an argon2id PHC string: the header fields, then two
 * base64 segments and the end. Parameters outside our bounds are an error,
 * so a bad row cannot make verification allocate or loop without limit. */
static int phc_parse(const char *enc, struct phc_header *h)
{
    const char *s = enc;

    if (enc == NULL || strnlen(enc, AUTH_PW_HASH_MAX) >= AUTH_PW_HASH_MAX)
        return -1;
    if (expect(&s, "$argon2id$v=") || parse_u32(&s, 0xff, &h->v) || expect(&s, "$m=") ||
        parse_u32(&s, AUTH_PW_MAX_M_KIB, &h->m) || expect(&s, ",t=") ||
        parse_u32(&s, AUTH_PW_MAX_T, &h->t) || expect(&s, ",p=") ||
        parse_u32(&s, AUTH_PW_MAX_P, &h->p) || b64_segment(&s) || b64_segment(&s) || *s != '\0')
        return -1;
    if (h->v != ARGON2_VERSION_10 && h->v != ARGON2_VERSION_13)
        return -1;
    return params_in_bounds(h->m, h->t, h->p) ? 0 : -1;
}

int auth_pw_hash(const struct auth_pw_params *params, const void *pw, size_t pwlen, char *out,
                 size_t outlen)
{
    unsigned char salt[PW_SALT_LEN];
    int ret = AUTH_PW_ERROR;

    if (auth_pw_check_length(pwlen) != 0)
        return AUTH_PW_LENGTH;
    if (params == NULL || !params_in_bounds(params->m_kib, params->t, params->p) ||
        outlen < argon2_encodedlen(params->t, params->m_kib, params->p, PW_SALT_LEN, PW_TAG_LEN,
                                   Argon2_id))
        return AUTH_PW_ERROR;
    if (auth_rand_bytes(salt, sizeof(salt)) != 0)
        goto done;
    if (argon2id_hash_encoded(params->t, params->m_kib, params->p, pw, pwlen, salt, sizeof(salt),
                              PW_TAG_LEN, out, outlen) == ARGON2_OK)
        ret = 0;
done:
    mbedtls_platform_zeroize(salt, sizeof(salt));
    return ret;
}

int auth_pw_verify(const char *encoded, const void *pw, size_t pwlen)
{
    struct phc_header h;
    int rc;

    if (pwlen > AUTH_PW_MAX_LEN)
        return AUTH_PW_LENGTH;
    if (phc_parse(encoded, &h) != 0)
        return AUTH_PW_ERROR;
    rc = argon2id_verify(encoded, pw, pwlen);
    if (rc == ARGON2_OK)
        return 0;
    return rc == ARGON2_VERIFY_MISMATCH ? AUTH_PW_MISMATCH : AUTH_PW_ERROR;
}

int auth_pw_needs_rehash(const char *encoded, const struct auth_pw_params *params)
{
    struct phc_header h;

    if (params == NULL || phc_parse(encoded, &h) != 0)
        return AUTH_PW_ERROR;
    return h.v != ARGON2_VERSION_13 || h.m != params->m_kib || h.t != params->t || h.p != params->p;
}

/* One dummy hash, remade only if the parameters change (they do not at run
 * time today, but a stale dummy with other costs would leak timing). */
static struct {
    pthread_mutex_t lock;
    int ready;
    struct auth_pw_params params;
    char encoded[AUTH_PW_HASH_MAX];
} dummy = { PTHREAD_MUTEX_INITIALIZER, 0, { 0, 0, 0 }, "" };

static int dummy_get(const struct auth_pw_params *params, char out[AUTH_PW_HASH_MAX])
{
    unsigned char secret[32];
    int ret = AUTH_PW_ERROR;

    pthread_mutex_lock(&dummy.lock);
    if (!dummy.ready || memcmp(&dummy.params, params, sizeof(*params)) != 0) {
        /* A random 32-byte password nobody knows: the dummy can never match. */
        dummy.ready = 0;
        if (auth_rand_bytes(secret, sizeof(secret)) != 0 ||
            auth_pw_hash(params, secret, sizeof(secret), dummy.encoded, sizeof(dummy.encoded)) != 0)
            goto done;
        dummy.params = *params;
        dummy.ready = 1;
    }
    memcpy(out, dummy.encoded, AUTH_PW_HASH_MAX);
    ret = 0;
done:
    pthread_mutex_unlock(&dummy.lock);
    mbedtls_platform_zeroize(secret, sizeof(secret));
    return ret;
}

int auth_pw_dummy_verify(const struct auth_pw_params *params, const void *pw, size_t pwlen)
{
    char encoded[AUTH_PW_HASH_MAX];
    int rc;

    if (pwlen > AUTH_PW_MAX_LEN)
        return AUTH_PW_LENGTH;
    if (params == NULL || dummy_get(params, encoded) != 0)
        return AUTH_PW_ERROR;
    rc = auth_pw_verify(encoded, pw, pwlen);
    return rc == 0 ? AUTH_PW_MISMATCH : rc;
}

const char *auth_pw_strerror(int rc)
{
    switch (rc) {
    case 0: return "ok";
    case AUTH_PW_MISMATCH: return "password mismatch";
    case AUTH_PW_LENGTH: return "password must be 8 to 1024 bytes";
    case AUTH_PW_ERROR: return "malformed password hash or internal error";
    default: return "unknown password error";
    }
}
