/* refresh.c: opaque refresh tokens and family ids. */
#include "auth/refresh.h"

#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"

#define REFRESH_RAW_LEN 32 /* 256 bits (docs/ARCHITECTURE.md, Auth model) */
#define FAMILY_RAW_LEN  16

static int sha256(const void *data, size_t len, unsigned char hash[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

    return md != NULL && mbedtls_md(md, data, len, hash) == 0 ? 0 : -1;
}

/* n random bytes, base64url-encoded into out (exactly AUTH_B64URL_LEN(n)
 * chars + NUL; out must hold that). */
static int random_b64url(char *out, size_t n)
{
    unsigned char raw[REFRESH_RAW_LEN];
    char enc[AUTH_B64URL_BUF(REFRESH_RAW_LEN)];
    int ret = -1;

    if (n > sizeof(raw) || auth_rand_bytes(raw, n) != 0)
        goto done;
    if (auth_b64url_encode(enc, sizeof(enc), raw, n) != (int)AUTH_B64URL_LEN(n))
        goto done;
    memcpy(out, enc, AUTH_B64URL_LEN(n) + 1);
    ret = 0;
done:
    mbedtls_platform_zeroize(raw, sizeof(raw));
    mbedtls_platform_zeroize(enc, sizeof(enc));
    return ret;
}

int auth_refresh_mint(char out[AUTH_REFRESH_TOKEN_LEN + 1],
                      unsigned char hash[AUTH_REFRESH_HASH_LEN])
{
    if (random_b64url(out, REFRESH_RAW_LEN) != 0 ||
        sha256(out, AUTH_REFRESH_TOKEN_LEN, hash) != 0) {
        mbedtls_platform_zeroize(out, AUTH_REFRESH_TOKEN_LEN + 1);
        mbedtls_platform_zeroize(hash, AUTH_REFRESH_HASH_LEN);
        return AUTH_REFRESH_ERROR;
    }
    return 0;
}

int auth_refresh_hash(const char *tok, size_t len, unsigned char hash[AUTH_REFRESH_HASH_LEN])
{
    /* Validating the shape first keeps junk (and oversized input) away from
     * the database lookup and makes malformed input a distinct, cheap 401. */
    if (tok == NULL || len != AUTH_REFRESH_TOKEN_LEN || !auth_b64url_valid(tok, len))
        return AUTH_REFRESH_MALFORMED;
    return sha256(tok, len, hash) == 0 ? 0 : AUTH_REFRESH_ERROR;
}

int auth_refresh_family_id(char out[AUTH_REFRESH_FAMILY_LEN + 1])
{
    return random_b64url(out, FAMILY_RAW_LEN) == 0 ? 0 : AUTH_REFRESH_ERROR;
}
