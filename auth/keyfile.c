/* keyfile.c: create, check and load the ES256 key file (keyfile.h). */
#include "auth/keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>

#include "auth/encode.h"
#include "auth/privfile.h"

#define KEY_FILE_MAX 16384
#define PEM_MAX      1024 /* a P-256 key in PEM is ~230 bytes */
#define COORD_LEN    AUTH_KEYFILE_COORD_LEN

/* DER SubjectPublicKeyInfo of a P-256 key: this fixed prefix (SEQUENCE,
 * id-ecPublicKey, prime256v1, BIT STRING header) then the 65-byte
 * uncompressed point 04||x||y. Comparing it checks the curve and yields
 * x and y with public mbedTLS API only. */
static const unsigned char p256_spki_prefix[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

static int rng(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return auth_rand_bytes(buf, len) == 0 ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

/* 3.x takes an RNG for blinding while parsing a private key. (auth/ does not
 * include tls/, whose compat.h says the same for the TLS side.) */
static int pk_parse(mbedtls_pk_context *pk, const unsigned char *buf, size_t len)
{
    return mbedtls_pk_parse_key(pk, buf, len, NULL, 0, rng, NULL);
}

/* A fresh P-256 key as PEM into pem[PEM_MAX]. 0 or -1. */
static int key_generate_pem(unsigned char pem[PEM_MAX])
{
    mbedtls_pk_context pk;
    int ret = -1;

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng, NULL) == 0 &&
        mbedtls_pk_write_key_pem(&pk, pem, PEM_MAX) == 0)
        ret = 0;
    mbedtls_pk_free(&pk);
    return ret;
}

/* Generates a P-256 key and publishes it at path (privfile.h: never a
 * partial file, never replacing a key another process just made). */
static int key_file_create(const char *path, char *err, size_t errlen)
{
    unsigned char pem[PEM_MAX];
    int ret = -1;

    if (key_generate_pem(pem) != 0)
        snprintf(err, errlen, "%s: cannot generate a P-256 key", path);
    else
        ret = auth_privfile_create(path, pem, strlen((const char *)pem), err, errlen);
    mbedtls_platform_zeroize(pem, sizeof(pem));
    return ret;
}

/* Reads the key file into a NUL-terminated malloc'd buffer (mbedTLS wants
 * the NUL counted for PEM). Returns 0, 1 if the file does not exist, -1. */
static int key_file_read(const char *path, unsigned char **buf, size_t *len, char *err,
                         size_t errlen)
{
    int rc = auth_privfile_read(path, KEY_FILE_MAX, buf, len, err, errlen);
    if (rc == 0)
        *len += 1;
    return rc;
}

static void wipe_free(char *p)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, strlen(p));
        free(p);
    }
}

void auth_keyfile_key_free(struct auth_keyfile_key *key)
{
    if (key == NULL)
        return;
    wipe_free(key->private_pem);
    free(key->public_pem);
    mbedtls_platform_zeroize(key, sizeof(*key));
}

/* Fills key from a parsed key: the coordinates (which also proves the
 * curve is P-256) and both PEMs. */
static int key_from_pk(struct auth_keyfile_key *key, mbedtls_pk_context *pk)
{
    unsigned char buf[PEM_MAX];
    const unsigned char *pt;
    int n, ret = -1;

    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
        goto done;
    n = mbedtls_pk_write_pubkey_der(pk, buf, sizeof(buf));
    if (n != (int)sizeof(p256_spki_prefix) + 2 * COORD_LEN)
        goto done;
    pt = buf + sizeof(buf) - n; /* mbedTLS writes DER at the buffer's end */
    if (memcmp(pt, p256_spki_prefix, sizeof(p256_spki_prefix)) != 0)
        goto done;
    pt += sizeof(p256_spki_prefix);
    memcpy(key->x, pt, COORD_LEN);
    memcpy(key->y, pt + COORD_LEN, COORD_LEN);
    if (mbedtls_pk_write_pubkey_pem(pk, buf, sizeof(buf)) != 0 ||
        (key->public_pem = strdup((const char *)buf)) == NULL)
        goto done;
    if (mbedtls_pk_write_key_pem(pk, buf, sizeof(buf)) != 0 ||
        (key->private_pem = strdup((const char *)buf)) == NULL)
        goto done;
    ret = 0;
done:
    mbedtls_platform_zeroize(buf, sizeof(buf));
    return ret;
}

int auth_keyfile_parse(struct auth_keyfile_key *key, const char *pem, size_t len)
{
    mbedtls_pk_context pk;
    int rc = -1;

    memset(key, 0, sizeof(*key));
    mbedtls_pk_init(&pk);
    /* mbedTLS wants the NUL counted for PEM. */
    if (pem != NULL && len > 0 && pem[len] == '\0' &&
        pk_parse(&pk, (const unsigned char *)pem, len + 1) == 0 && key_from_pk(key, &pk) == 0)
        rc = 0;
    mbedtls_pk_free(&pk);
    if (rc != 0)
        auth_keyfile_key_free(key);
    return rc;
}

int auth_keyfile_generate(struct auth_keyfile_key *key)
{
    unsigned char pem[PEM_MAX];
    int rc = -1;

    memset(key, 0, sizeof(*key));
    if (key_generate_pem(pem) == 0)
        rc = auth_keyfile_parse(key, (const char *)pem, strlen((const char *)pem));
    mbedtls_platform_zeroize(pem, sizeof(pem));
    return rc;
}

/* Reads and parses the key at path. 0, 1 when there is no such file, -1
 * with err. */
static int key_file_load(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen)
{
    unsigned char *file = NULL;
    size_t len = 0;
    int rc = key_file_read(path, &file, &len, err, errlen);

    memset(key, 0, sizeof(*key));
    if (rc != 0)
        return rc;
    /* key_file_read counted the NUL after the data. */
    if (auth_keyfile_parse(key, (const char *)file, len - 1) != 0) {
        snprintf(err, errlen, "%s: not a P-256 EC private key in PEM", path);
        rc = -1;
    }
    mbedtls_platform_zeroize(file, len);
    free(file);
    return rc;
}

int auth_keyfile_read(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen)
{
    return key_file_load(key, path, err, errlen);
}

int auth_keyfile_load(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen)
{
    int rc = key_file_load(key, path, err, errlen);

    if (rc == 1 && (rc = key_file_create(path, err, errlen)) == 0 &&
        (rc = key_file_load(key, path, err, errlen)) == 1)
        snprintf(err, errlen, "%s: created but cannot be opened", path);
    return rc == 0 ? 0 : -1;
}
