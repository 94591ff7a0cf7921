/* seal.c: see seal.h. */
#include "auth/seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"
#include "auth/privfile.h"

int auth_seal(const unsigned char key[AUTH_SEAL_KEY_LEN], const void *aad, size_t aadlen,
              const unsigned char *pt, size_t ptlen, unsigned char *out)
{
    mbedtls_gcm_context gcm;
    unsigned char *nonce = out, *ct = out + AUTH_SEAL_NONCE_LEN, *tag = ct + ptlen;
    int rc = -1;

    mbedtls_gcm_init(&gcm);
    if (auth_rand_bytes(nonce, AUTH_SEAL_NONCE_LEN) != 0 ||
        mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, AUTH_SEAL_KEY_LEN * 8) != 0 ||
        mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, ptlen, nonce, AUTH_SEAL_NONCE_LEN, aad,
                                  aadlen, pt, ct, AUTH_SEAL_TAG_LEN, tag) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_gcm_free(&gcm);
    if (rc != 0)
        mbedtls_platform_zeroize(out, ptlen + AUTH_SEAL_OVERHEAD);
    return rc;
}

int auth_unseal(const unsigned char key[AUTH_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const unsigned char *in, size_t inlen, unsigned char *pt)
{
    mbedtls_gcm_context gcm;
    int rc = -1;

    if (inlen < AUTH_SEAL_OVERHEAD)
        return -1;
    size_t ctlen = inlen - AUTH_SEAL_OVERHEAD;
    const unsigned char *nonce = in, *ct = in + AUTH_SEAL_NONCE_LEN, *tag = ct + ctlen;
    mbedtls_gcm_init(&gcm);
    if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, AUTH_SEAL_KEY_LEN * 8) != 0 ||
        mbedtls_gcm_auth_decrypt(&gcm, ctlen, nonce, AUTH_SEAL_NONCE_LEN, aad, aadlen, tag,
                                 AUTH_SEAL_TAG_LEN, ct, pt) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_gcm_free(&gcm);
    if (rc != 0)
        mbedtls_platform_zeroize(pt, ctlen);
    return rc;
}

int auth_seal_key_load(unsigned char key[AUTH_SEAL_KEY_LEN], const char *path, char *err,
                       size_t errlen)
{
    unsigned char fresh[AUTH_SEAL_KEY_LEN], *buf = NULL;
    size_t len = 0;
    int rc = auth_privfile_read(path, 4096, &buf, &len, err, errlen);

    if (rc == 1) {
        if (auth_rand_bytes(fresh, sizeof fresh) != 0) {
            snprintf(err, errlen, "%s: no randomness for a new key", path);
            rc = -1;
        } else if ((rc = auth_privfile_create(path, fresh, sizeof fresh, err, errlen)) == 0 &&
                   (rc = auth_privfile_read(path, 4096, &buf, &len, err, errlen)) == 1) {
            snprintf(err, errlen, "%s: created but cannot be opened", path);
            rc = -1;
        }
        mbedtls_platform_zeroize(fresh, sizeof fresh);
    }
    if (rc == 0 && len != AUTH_SEAL_KEY_LEN) {
        snprintf(err, errlen, "%s: not a %d-byte key (%zu bytes)", path, AUTH_SEAL_KEY_LEN, len);
        rc = -1;
    }
    if (rc == 0)
        memcpy(key, buf, AUTH_SEAL_KEY_LEN);
    if (buf != NULL) {
        mbedtls_platform_zeroize(buf, len);
        free(buf);
    }
    return rc == 0 ? 0 : -1;
}
