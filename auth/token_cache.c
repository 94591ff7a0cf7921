/* token_cache.c: see token_cache.h. */
#include "auth/token_cache.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

/* Tokens we issue are ~450 bytes; longer ones are verified every time. */
#define CACHED_TOKEN_MAX 640

struct slot {
    unsigned short len; /* 0 = empty */
    char token[CACHED_TOKEN_MAX];
    struct auth_claims claims;
};

struct auth_token_cache {
    unsigned mask;
    struct slot slots[];
};

struct auth_token_cache *auth_token_cache_new(unsigned entries)
{
    unsigned n = 16;
    while (n < entries && n < (1u << 20))
        n <<= 1;
    struct auth_token_cache *c = calloc(1, sizeof *c + n * sizeof(struct slot));
    if (c != NULL)
        c->mask = n - 1;
    return c;
}

void auth_token_cache_free(struct auth_token_cache *c)
{
    if (c == NULL)
        return;
    mbedtls_platform_zeroize(c, sizeof *c + (c->mask + 1) * sizeof(struct slot));
    free(c);
}

/* Slot index from the token's last bytes: the end of a JWT is its
 * signature, which no one can choose for a token that verifies (and only
 * verified tokens are stored). Equality is decided by comparing the whole
 * token, never by the index. */
static unsigned slot_index(const char *token, size_t len, unsigned mask)
{
    uint64_t h = 0;
    for (size_t i = len > 8 ? len - 8 : 0; i < len; i++)
        h = h * 131 + (unsigned char)token[i];
    return (unsigned)(h * 0x9E3779B97F4A7C15u >> 32) & mask;
}

int auth_token_cache_verify(struct auth_token_cache *c, const struct auth_tokens *t,
                            const char *token, int64_t now, int leeway_s,
                            struct auth_claims *claims)
{
    size_t len = strnlen(token, CACHED_TOKEN_MAX);
    if (c == NULL || len == 0 || len >= CACHED_TOKEN_MAX)
        return auth_token_verify(t, token, now, claims);
    struct slot *s = &c->slots[slot_index(token, len, c->mask)];
    /* Same expiry rule as auth_token_verify: expired once exp <= now - leeway. */
    if (s->len == len && memcmp(s->token, token, len) == 0 && s->claims.exp > now - leeway_s) {
        *claims = s->claims;
        return 0;
    }
    int rc = auth_token_verify(t, token, now, claims);
    if (rc == 0) {
        memcpy(s->token, token, len);
        s->len = (unsigned short)len;
        s->claims = *claims;
    }
    return rc;
}
