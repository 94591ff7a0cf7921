/* token.h: JWT access tokens (libjwt 1.10) and the JWKS document.
 *
 * One algorithm per process, chosen at start: ES256 (default; a set of
 * P-256 keys, the first of which signs, each verifying the tokens that
 * name its kid until its own end; keyset.c builds the set from the store)
 * or HS256 (a configured secret of at least 32 bytes). Verification accepts only that algorithm, checks
 * the header before libjwt sees the token and every claim after it,
 * because libjwt 1.10 trusts the token's "alg" and checks no claims
 * (docs/ARCHITECTURE.md, Auth model, "Access tokens").
 *
 * Token format. Header: {"alg":"ES256","kid":<RFC 7638 thumbprint>,
 * "typ":"JWT"} (HS256: no kid). Claims: iss, aud (one string), sub (user
 * id, decimal string), iat, nbf, exp (= iat + ttl), jti (128-bit random,
 * base64url), role ("user" | "admin"), ep (the user's token epoch), and
 * sid (the session: the refresh-token family it came from) when issued for
 * one.
 * RFC 9068 asks for typ "at+jwt", but libjwt 1.10.2 overwrites "typ" with
 * "JWT" when encoding and rejects any other value when decoding, so "JWT"
 * is required here; our keys sign no other kind of JWT (refresh tokens are
 * opaque), and aud pins the token to this API.
 *
 * A struct auth_tokens is immutable after load: issue and verify may run
 * concurrently from any thread. */
#ifndef PC_AUTH_TOKEN_H
#define PC_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_MAX_LEN    4096 /* longer tokens are rejected unread */
#define AUTH_HS256_MIN_SECRET 32   /* bytes */
#define AUTH_TOKENS_MAX_KEYS  32   /* ES256 keys in one set */
#define AUTH_TOKEN_KID_BUF    44   /* a kid (43 base64url characters) and its NUL */

/* auth_token_verify reasons (negative). Tell clients only "invalid token";
 * the reason is for logs. */
#define AUTH_TOKEN_MALFORMED     (-1) /* size, segments, encoding, JSON, header members, typ */
#define AUTH_TOKEN_ALG           (-2) /* alg is not exactly the configured one */
#define AUTH_TOKEN_KEY           (-3) /* kid is not in the set (or its key has ended) */
#define AUTH_TOKEN_SIGNATURE     (-4) /* libjwt refused the signature */
#define AUTH_TOKEN_EXPIRED       (-5) /* now >= exp + leeway */
#define AUTH_TOKEN_NOT_YET_VALID (-6) /* nbf or iat later than now + leeway */
#define AUTH_TOKEN_ISSUER        (-7)
#define AUTH_TOKEN_AUDIENCE      (-8)
#define AUTH_TOKEN_CLAIMS        (-9)  /* a claim missing or of the wrong type/value */
#define AUTH_TOKEN_INTERNAL      (-10) /* out of memory, library failure */

/* What the composition root fills from struct config (server/config.h):
 * jwt_issuer, jwt_audience, access_ttl_s, jwt_leeway_s. Strings are copied. */
struct auth_token_opts {
    const char *issuer;   /* "portcullis" */
    const char *audience; /* "portcullis-api" */
    int ttl_s;            /* 900: access token lifetime, >= 1 */
    int leeway_s;         /* 30: clock skew tolerated on exp/nbf/iat, 0..300 */
};

/* A verified token. user_id > 0, role "user" or "admin", epoch >= 0.
 * The caller (middleware) must still load the user and refuse the token
 * unless the account exists, is enabled, and claims.epoch equals its
 * current token_epoch (logout-all and password change bump the epoch). */
struct auth_claims {
    int64_t user_id;
    char role[8];
    int64_t epoch;
    int64_t iat;
    int64_t exp;
    char jti[64];
    int64_t sid; /* the session (db/sessions.h); 0: none */
};

struct auth_tokens;
struct auth_keyfile_key;

/* ES256 with a key set: keys[0] is the active key, the one that signs
 * (it must hold its private PEM); every key verifies the tokens naming
 * its kid until until[i] (Unix seconds; 0: no end). Takes the PEMs out of
 * keys (leaving NULL); the caller still frees keys. n is
 * 1..AUTH_TOKENS_MAX_KEYS. Returns 0, or -1 with err. */
int auth_tokens_load_es256_set(struct auth_tokens **out, const struct auth_token_opts *opts,
                               struct auth_keyfile_key *keys, const int64_t *until, size_t n,
                               char *err, size_t errlen);

/* The kid of key (its RFC 7638 thumbprint). 0 or -1. */
int auth_token_kid(const struct auth_keyfile_key *key, char kid[AUTH_TOKEN_KID_BUF]);

/* ES256 with one key: loads the P-256 private key from key_file (PEM), or, if the file
 * does not exist, generates one and writes it with mode 0600 (parent
 * directory created 0700; written to a temporary file and linked into
 * place, so a concurrent start never sees half a key or replaces one).
 * Refuses a file that group or others may access, that is owned by
 * another user than us or root, or a key that is not P-256. Returns 0, or -1 with a message naming the file in err. */
int auth_tokens_load_es256(struct auth_tokens **out, const struct auth_token_opts *opts,
                           const char *key_file, char *err, size_t errlen);

/* HS256 with a shared secret (config jwt_secret / PORTCULLIS_JWT_SECRET).
 * Refuses secrets shorter than AUTH_HS256_MIN_SECRET bytes.
 * Returns 0, or -1 with err. */
int auth_tokens_load_hs256(struct auth_tokens **out, const struct auth_token_opts *opts,
                           const void *secret, size_t secret_len, char *err, size_t errlen);

/* Frees and wipes the key material. NULL ok. */
void auth_tokens_free(struct auth_tokens *t);

/* "ES256" or "HS256". */
const char *auth_tokens_alg(const struct auth_tokens *t);

/* The kid put in headers: the active key's ("" for HS256). */
const char *auth_tokens_kid(const struct auth_tokens *t);

/* Access token lifetime in seconds (the login response's expires_in). */
int auth_tokens_ttl(const struct auth_tokens *t);

/* Issues an access token for user_id (> 0) with role "user" or "admin" and
 * the user's current token epoch (>= 0), valid from now (Unix seconds) for
 * the configured ttl. On success *out is a malloc'd NUL-terminated token
 * the caller frees. Returns 0, AUTH_TOKEN_CLAIMS (bad arguments) or
 * AUTH_TOKEN_INTERNAL. */
int auth_token_issue(const struct auth_tokens *t, int64_t user_id, const char *role, int64_t epoch,
                     int64_t now, char **out);

/* The same for session sid (> 0; 0: no sid claim). The caller refuses the
 * token once that session has ended (middleware.c). */
int auth_token_issue_sid(const struct auth_tokens *t, int64_t user_id, const char *role,
                         int64_t epoch, int64_t sid, int64_t now, char **out);

/* Verifies token (NUL-terminated, e.g. the Bearer value) at time now (Unix
 * seconds). Returns 0 and fills *claims, or a negative AUTH_TOKEN_* reason
 * (claims then zeroed). See struct auth_claims for the epoch check the
 * caller still owes. */
int auth_token_verify(const struct auth_tokens *t, const char *token, int64_t now,
                      struct auth_claims *claims);

/* A malloc'd JSON Web Key Set for /.well-known/jwks.json: every key of the
 * set that still verifies at now (Unix seconds), the active one first:
 * {"keys":[{"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"alg":"ES256","use":"sig"}]},
 * or {"keys":[]} for HS256 (a shared secret is never published).
 * Returns NULL on out of memory. Caller frees. */
char *auth_tokens_jwks_json(const struct auth_tokens *t, int64_t now);

/* A static string for an AUTH_TOKEN_* code (for logs). */
const char *auth_token_strerror(int rc);

#endif
