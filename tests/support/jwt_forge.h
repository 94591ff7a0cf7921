/* jwt_forge.h: hand-made JWTs for attack tests, independent of the code
 * under test: header and claims are jansson objects, base64url is mbedTLS'
 * base64 with the URL alphabet mapped and the padding stripped, and
 * signatures come from mbedTLS (ECDSA P-256 as raw r||s per RFC 7518 §3.4,
 * or HMAC-SHA-256 over any key bytes).
 *
 * Every function returns NULL / a negative value on failure (never aborts),
 * so callers assert on the result. Returned strings are malloc'd. */
#ifndef PC_TEST_JWT_FORGE_H
#define PC_TEST_JWT_FORGE_H

#include <stddef.h>

#include <jansson.h>
#include <mbedtls/pk.h>

enum forge_sig {
    FORGE_ES256, /* "h.p.sig", ECDSA P-256 with pk */
    FORGE_HMAC,  /* "h.p.sig", HMAC-SHA-256 with key/keylen */
    FORGE_NONE,  /* "h.p": no signature segment */
    FORGE_EMPTY, /* "h.p.": empty signature segment */
};

/* mbedTLS RNG callback over getrandom(2); ctx unused. */
int forge_rng(void *ctx, unsigned char *buf, size_t len);

/* Unpadded base64url of p[0..n). */
char *forge_b64url(const void *p, size_t n);
/* Compact JSON of j, base64url-encoded. */
char *forge_b64url_json(const json_t *j);
/* Decodes unpadded base64url s[0..len) into out; the decoded length or -1. */
long forge_b64url_decode(const char *s, size_t len, unsigned char *out, size_t cap);

/* ECDSA P-256 / SHA-256 over input[0..len) as the 64-byte r||s. 0 or -1. */
int forge_es256_sign(mbedtls_pk_context *pk, const char *input, size_t len, unsigned char raw[64]);

/* header.payload[.signature] signed as `how` says (pk for FORGE_ES256,
 * key/keylen for FORGE_HMAC). Takes ownership of hdr and claims (both
 * decref'd, also on failure). */
char *forge_token(json_t *hdr, json_t *claims, enum forge_sig how, mbedtls_pk_context *pk,
                  const void *key, size_t keylen);

/* Segment `index` (0 header, 1 claims) of a token, parsed; a new reference
 * or NULL. */
json_t *forge_token_part(const char *token, int index);

/* The SubjectPublicKeyInfo PEM of the P-256 point (x, y) given as JWK
 * base64url coordinates: the public key PEM a verifier rebuilds from a
 * JWKS, byte for byte what mbedtls_pk_write_pubkey_pem writes. */
char *forge_pem_from_xy(const char *x, const char *y);

/* Loads a PEM private key file into pk (initialised here). 0 or -1;
 * pk must be freed with mbedtls_pk_free either way. */
int forge_load_key(mbedtls_pk_context *pk, const char *path);

/* Writes a new P-256 private key as PEM to path (mode 0600, parent
 * directories made 0700), as an operator's existing jwt_key_file. 0 or -1. */
int forge_make_key_file(const char *path);

#endif
