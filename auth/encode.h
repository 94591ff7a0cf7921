/* encode.h: the CSPRNG and base64url helpers every part of auth/ shares.
 *
 * One place for random bytes (mbedTLS's CTR_DRBG) and mbedTLS' base64:
 * refresh tokens and family ids (refresh.c), jti, kid and JWKS coordinates
 * (token.c), salts (password.c), the limiters' hash keys (keytable.c),
 * TOTP secrets and recovery codes (mfa.c), one-time tokens and the sealing
 * key and nonces (seal.c). Thread-safe: each thread has a generator. */
#ifndef PC_AUTH_ENCODE_H
#define PC_AUTH_ENCODE_H

#include <stddef.h>

/* Fills buf with len bytes from the calling thread's CTR_DRBG, seeded on
 * first use from mbedTLS's entropy collector (the kernel's getrandom(2),
 * which blocks only until the pool is initialised at boot). 0 or -1. */
int auth_rand_bytes(void *buf, size_t len);

/* Length of the unpadded base64url encoding of n bytes (without NUL). */
#define AUTH_B64URL_LEN(n) (((n)*4 + 2) / 3)

/* Buffer size auth_b64url_encode needs for n bytes: mbedTLS writes the
 * padded form (and a NUL) before the padding is stripped. */
#define AUTH_B64URL_BUF(n) (((n) + 2) / 3 * 4 + 1)

/* Encodes src as base64url without '=' padding into out (NUL-terminated);
 * outlen >= AUTH_B64URL_BUF(len). Returns the encoded length (that is
 * AUTH_B64URL_LEN(len)), or -1 if out is too small. */
int auth_b64url_encode(char *out, size_t outlen, const void *src, size_t len);

/* Returns 1 if s[0..len) is non-empty and only [A-Za-z0-9_-], else 0. */
int auth_b64url_valid(const char *s, size_t len);

/* Decodes unpadded base64url s[0..len) into out. Rejects '=' padding,
 * characters outside the alphabet and impossible lengths (len % 4 == 1).
 * Returns the decoded length, or -1. */
long auth_b64url_decode(unsigned char *out, size_t outlen, const char *s, size_t len);

#endif
