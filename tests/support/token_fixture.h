/* support/token_fixture.h: the keys, forging helpers and fixture shared by
 * test_token.c and test_token_claims.c (one Check binary each). */
#ifndef PC_SUPPORT_TOKEN_FIXTURE_H
#define PC_SUPPORT_TOKEN_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "auth/encode.h"
#include "auth/token.h"
#include "support/jwt_forge.h"
#include "tls/compat.h"

#define NOW    1700000000LL
#define TTL    900
#define LEEWAY 30
#define SECRET "0123456789abcdef0123456789abcdef-hs256"

static const struct auth_token_opts opts = { "portcullis", "portcullis-api", TTL, LEEWAY };

static char tmpdir[64];
static char key_path[128];
static struct auth_tokens *es;      /* ES256, key in key_path */
static struct auth_tokens *hs;      /* HS256 with SECRET */
static mbedtls_pk_context our_pk;   /* the same private key, for forging */
static mbedtls_pk_context other_pk; /* an unrelated P-256 key */

/* ---- helpers ---------------------------------------------------------- */

static inline int test_rng(void *ctx, unsigned char *buf, size_t len)
{
    return forge_rng(ctx, buf, len);
}

static inline void sha256(const void *p, size_t n, unsigned char out[32])
{
    ck_assert_int_eq(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), p, n, out), 0);
}

static inline void gen_key(mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    ck_assert_int_eq(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), test_rng, NULL), 0);
}

static inline void load_key(mbedtls_pk_context *pk, const char *path)
{
    ck_assert_int_eq(forge_load_key(pk, path), 0);
}

static inline char *b64(const void *p, size_t n)
{
    char *out = forge_b64url(p, n);

    ck_assert_ptr_nonnull(out);
    return out;
}

static inline char *b64_json(json_t *j)
{
    char *out = forge_b64url_json(j);

    ck_assert_ptr_nonnull(out);
    return out;
}

enum sig { SIG_OURS, SIG_OTHER, SIG_HMAC, SIG_NONE, SIG_EMPTY };

/* header.payload.signature, signed as told (key/keylen for SIG_HMAC).
 * Takes ownership of hdr and claims. Caller frees the result. */
static inline char *forge(json_t *hdr, json_t *claims, enum sig how, const void *key, size_t keylen)
{
    static const enum forge_sig map[] = { FORGE_ES256, FORGE_ES256, FORGE_HMAC, FORGE_NONE,
                                          FORGE_EMPTY };
    char *tok = forge_token(hdr, claims, map[how], how == SIG_OTHER ? &other_pk : &our_pk, key,
                            keylen);

    ck_assert_ptr_nonnull(tok);
    return tok;
}

static inline json_t *es_header(void)
{
    return json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "JWT", "kid", auth_tokens_kid(es));
}

static inline json_t *claims_at(long long iat, long long exp)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "iss", "portcullis", "aud",
                     "portcullis-api", "sub", "42", "iat", (json_int_t)iat, "nbf", (json_int_t)iat,
                     "exp", (json_int_t)exp, "jti", "abcdefghijklmnopqrstuv", "role", "user", "ep",
                     (json_int_t)3);
}

static inline json_t *claims_ok(void) { return claims_at(NOW, NOW + TTL); }

static inline int verify_es(const char *tok)
{
    struct auth_claims c;

    return auth_token_verify(es, tok, NOW, &c);
}

/* Verifies and frees a forged ES256-configured token. */
static inline int verify_es_free(char *tok)
{
    int rc = verify_es(tok);

    free(tok);
    return rc;
}

/* The ES256 public key rebuilt from the JWKS x/y only, as PEM. */
static inline char *pem_from_jwks(void)
{
    char *jwks = auth_tokens_jwks_json(es, 0), *pem;
    json_t *doc = json_loads(jwks, 0, NULL), *k = json_array_get(json_object_get(doc, "keys"), 0);

    pem = forge_pem_from_xy(json_string_value(json_object_get(k, "x")),
                            json_string_value(json_object_get(k, "y")));
    ck_assert_ptr_nonnull(pem);
    json_decref(doc);
    free(jwks);
    return pem;
}

/* ---- fixture ---------------------------------------------------------- */

static inline void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path))
            continue;
        if (unlink(path) != 0)
            rm_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

static inline void setup(void)
{
    char err[256];

    strcpy(tmpdir, "/tmp/pc_test_token.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(key_path, sizeof(key_path), "%s/keys/jwt.pem", tmpdir);
    ck_assert_msg(auth_tokens_load_es256(&es, &opts, key_path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(auth_tokens_load_hs256(&hs, &opts, SECRET, strlen(SECRET), err, sizeof(err)),
                     0);
    load_key(&our_pk, key_path);
    gen_key(&other_pk);
}

static inline void teardown(void)
{
    auth_tokens_free(es);
    auth_tokens_free(hs);
    es = hs = NULL;
    mbedtls_pk_free(&our_pk);
    mbedtls_pk_free(&other_pk);
    rm_tree(tmpdir);
}

#endif
