/* mfa.c: see mfa.h. */
#include "auth/mfa.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"

/* The AAD naming the row a sealed secret belongs to. */
static size_t aad_for(char out[40], int64_t user_id)
{
    int n = snprintf(out, 40, "portcullis-totp:%lld", (long long)user_id);
    return n > 0 ? (size_t)n : 0;
}

int auth_mfa_seal(const unsigned char key[AUTH_SEAL_KEY_LEN], int64_t user_id,
                  const unsigned char secret[TOTP_SECRET_BYTES], unsigned char *out)
{
    char aad[40];
    size_t n = aad_for(aad, user_id);
    return auth_seal(key, aad, n, secret, TOTP_SECRET_BYTES, out);
}

int auth_mfa_open(const unsigned char key[AUTH_SEAL_KEY_LEN], int64_t user_id,
                  const unsigned char *sealed, size_t len, unsigned char secret[TOTP_SECRET_BYTES])
{
    char aad[40];
    size_t n = aad_for(aad, user_id);
    if (len != AUTH_MFA_SEALED_LEN)
        return -1;
    return auth_unseal(key, aad, n, sealed, len, secret);
}

static int sha256(const void *data, size_t len, unsigned char hash[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md != NULL && mbedtls_md(md, data, len, hash) == 0 ? 0 : -1;
}

int auth_recovery_hash(const char *code, size_t len, unsigned char hash[32])
{
    char canon[AUTH_RECOVERY_CHARS];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c == '-' || c == ' ')
            continue;
        c = (unsigned char)toupper(c);
        if (n == sizeof canon || !((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
            return -1;
        canon[n++] = (char)c;
    }
    int rc = n == sizeof canon ? sha256(canon, n, hash) : -1;
    mbedtls_platform_zeroize(canon, sizeof canon);
    return rc;
}

int auth_recovery_make(char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_BUF],
                       unsigned char hashes[AUTH_RECOVERY_CODES][32])
{
    unsigned char raw[8];
    char b32[16];
    int rc = 0;
    for (int i = 0; i < AUTH_RECOVERY_CODES && rc == 0; i++) {
        /* 64 random bits, base32: the first 12 characters carry 60. */
        if (auth_rand_bytes(raw, sizeof raw) != 0 || totp_base32(b32, sizeof b32, raw, 8) < 12) {
            rc = -1;
            break;
        }
        for (int k = 0; k < AUTH_RECOVERY_CHARS; k++)
            b32[k] = (char)tolower((unsigned char)b32[k]);
        snprintf(codes[i], AUTH_RECOVERY_CODE_BUF, "%.4s-%.4s-%.4s", b32, b32 + 4, b32 + 8);
        rc = auth_recovery_hash(codes[i], strlen(codes[i]), hashes[i]);
    }
    mbedtls_platform_zeroize(raw, sizeof raw);
    mbedtls_platform_zeroize(b32, sizeof b32);
    if (rc != 0) {
        mbedtls_platform_zeroize(codes, sizeof(char[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_BUF]));
        mbedtls_platform_zeroize(hashes, sizeof(unsigned char[AUTH_RECOVERY_CODES][32]));
    }
    return rc;
}
