/* jwt_forge.c: see jwt_forge.h. */
#include "support/jwt_forge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>

#include "tls/compat.h"

#define PEM_CAP 512

int forge_rng(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

char *forge_b64url(const void *p, size_t n)
{
    size_t cap = (n + 2) / 3 * 4 + 1, olen = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, p, n) != 0) {
        free(out);
        return NULL;
    }
    /* RFC 4648 §5: the URL-safe alphabet, no padding (RFC 7515 §2). */
    while (olen > 0 && out[olen - 1] == '=')
        olen--;
    out[olen] = '\0';
    for (size_t i = 0; i < olen; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

char *forge_b64url_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s == NULL)
        return NULL;
    char *out = forge_b64url(s, strlen(s));
    free(s);
    return out;
}

long forge_b64url_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
    size_t olen = 0, blen = (len + 3) / 4 * 4;
    if (len % 4 == 1)
        return -1;
    char *buf = malloc(blen + 1);
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' || c == '/' || c == '=') {
            free(buf);
            return -1;
        }
        buf[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    memset(buf + len, '=', blen - len);
    int rc = mbedtls_base64_decode(out, cap, &olen, (unsigned char *)buf, blen);
    free(buf);
    return rc == 0 ? (long)olen : -1;
}

int forge_es256_sign(mbedtls_pk_context *pk, const char *input, size_t len, unsigned char raw[64])
{
    unsigned char hash[32], der[MBEDTLS_ECDSA_MAX_LEN], *p = der;
    size_t dlen = 0, slen;
    mbedtls_mpi r, s;
    int rc = -1;

    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)input, len,
                   hash) != 0)
        goto out;
    if (mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, 32, der, sizeof der, &dlen, forge_rng, NULL) !=
        0)
        goto out;
    /* mbedTLS signs in DER (SEQUENCE { r, s }); JWS wants fixed-width r||s. */
    if (mbedtls_asn1_get_tag(&p, der + dlen, &slen,
                             MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        mbedtls_asn1_get_mpi(&p, der + dlen, &r) != 0 ||
        mbedtls_asn1_get_mpi(&p, der + dlen, &s) != 0 ||
        mbedtls_mpi_write_binary(&r, raw, 32) != 0 ||
        mbedtls_mpi_write_binary(&s, raw + 32, 32) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return rc;
}

/* The signature segment of input, or NULL. */
static char *sign_segment(const char *input, enum forge_sig how, mbedtls_pk_context *pk,
                          const void *key, size_t keylen)
{
    unsigned char raw[64];
    if (how == FORGE_ES256) {
        if (pk == NULL || forge_es256_sign(pk, input, strlen(input), raw) != 0)
            return NULL;
        return forge_b64url(raw, 64);
    }
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, keylen,
                        (const unsigned char *)input, strlen(input), raw) != 0)
        return NULL;
    return forge_b64url(raw, 32);
}

char *forge_token(json_t *hdr, json_t *claims, enum forge_sig how, mbedtls_pk_context *pk,
                  const void *key, size_t keylen)
{
    char *h = forge_b64url_json(hdr), *p = forge_b64url_json(claims);
    char *input = NULL, *sig = NULL, *tok = NULL;

    if (h == NULL || p == NULL)
        goto out;
    size_t n = strlen(h) + strlen(p) + 2;
    if ((input = malloc(n)) == NULL)
        goto out;
    snprintf(input, n, "%s.%s", h, p);
    if ((how == FORGE_ES256 || how == FORGE_HMAC) &&
        (sig = sign_segment(input, how, pk, key, keylen)) == NULL)
        goto out;
    n += 1 + (sig ? strlen(sig) : 0);
    if ((tok = malloc(n)) == NULL)
        goto out;
    snprintf(tok, n, "%s%s%s", input, how == FORGE_NONE ? "" : ".", sig ? sig : "");
out:
    free(h);
    free(p);
    free(input);
    free(sig);
    json_decref(hdr);
    json_decref(claims);
    return tok;
}

json_t *forge_token_part(const char *token, int index)
{
    const char *start = token;
    for (int i = 0; i < index && start != NULL; i++) {
        start = strchr(start, '.');
        if (start != NULL)
            start++;
    }
    if (start == NULL)
        return NULL;
    const char *end = strchr(start, '.');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    unsigned char *buf = malloc(len + 1);
    if (buf == NULL)
        return NULL;
    long n = forge_b64url_decode(start, len, buf, len + 1);
    json_t *j = n >= 0 ? json_loadb((const char *)buf, (size_t)n, 0, NULL) : NULL;
    free(buf);
    return j;
}

char *forge_pem_from_xy(const char *x, const char *y)
{
    /* DER SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, then the
     * uncompressed point 04 || x || y. */
    static const unsigned char prefix[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };
    unsigned char der[sizeof prefix + 64];
    mbedtls_pk_context pk;
    char *pem = malloc(PEM_CAP);

    mbedtls_pk_init(&pk);
    memcpy(der, prefix, sizeof prefix);
    if (pem == NULL || x == NULL || y == NULL ||
        forge_b64url_decode(x, strlen(x), der + sizeof prefix, 32) != 32 ||
        forge_b64url_decode(y, strlen(y), der + sizeof prefix + 32, 32) != 32 ||
        mbedtls_pk_parse_public_key(&pk, der, sizeof der) != 0 ||
        mbedtls_pk_write_pubkey_pem(&pk, (unsigned char *)pem, PEM_CAP) != 0) {
        free(pem);
        pem = NULL;
    }
    mbedtls_pk_free(&pk);
    return pem;
}

int forge_load_key(mbedtls_pk_context *pk, const char *path)
{
    mbedtls_pk_init(pk);
    return mbedtls_pk_parse_keyfile(pk, path, NULL, forge_rng, NULL) == 0 ? 0 : -1;
}

int forge_make_key_file(const char *path)
{
    mbedtls_pk_context pk;
    unsigned char pem[1024];
    char dir[512];
    int ret = -1, fd = -1;

    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(dir, 0700);
            *p = '/';
        }
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), forge_rng, NULL) != 0 ||
        mbedtls_pk_write_key_pem(&pk, pem, sizeof pem) != 0)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && write(fd, pem, strlen((char *)pem)) == (ssize_t)strlen((char *)pem))
        ret = 0;
out:
    if (fd >= 0)
        close(fd);
    mbedtls_pk_free(&pk);
    return ret;
}
