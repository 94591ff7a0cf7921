/* token.c: ES256 key sets and the HS256 secret, JWT issue and
 * verification, JWKS. The ES256 key file itself is keyfile.c; where the
 * set comes from is keyset.c. */
#include "auth/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"
#include "auth/keyfile.h"

#define COORD_LEN    AUTH_KEYFILE_COORD_LEN
#define B64_SHA256   AUTH_B64URL_LEN(32)
#define JTI_RAW_LEN  16
#define MAX_LEEWAY_S 300
#define MAX_TTL_S    86400

/* One ES256 key of the set: what verifies the tokens naming its kid, and
 * its JWK. */
struct token_key {
    unsigned char *pem; /* public key PEM */
    size_t pem_len;
    int64_t until;            /* tokens refused from then on (Unix s); 0: no end */
    char kid[B64_SHA256 + 1]; /* RFC 7638 thumbprint */
    char x[AUTH_B64URL_BUF(COORD_LEN)];
    char y[AUTH_B64URL_BUF(COORD_LEN)];
};

struct auth_tokens {
    jwt_alg_t alg;
    char *issuer;
    char *audience;
    int ttl_s;
    int leeway_s;
    unsigned char *sign_key; /* ES256: keys[0]'s private key PEM; HS256: secret */
    size_t sign_len;
    size_t nkeys; /* ES256: >= 1, keys[0] signs; HS256: 0 */
    struct token_key *keys;
};

/* ---- lifecycle -------------------------------------------------------- */

static void wipe_free(void *p, size_t n)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, n);
        free(p);
    }
}

void auth_tokens_free(struct auth_tokens *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nkeys; i++)
        free(t->keys[i].pem);
    free(t->keys);
    wipe_free(t->sign_key, t->sign_len);
    free(t->issuer);
    free(t->audience);
    free(t);
}

static struct auth_tokens *tokens_new(const struct auth_token_opts *opts, jwt_alg_t alg, char *err,
                                      size_t errlen)
{
    struct auth_tokens *t;

    if (opts == NULL || opts->issuer == NULL || opts->issuer[0] == '\0' || opts->audience == NULL ||
        opts->audience[0] == '\0' || opts->ttl_s < 1 || opts->ttl_s > MAX_TTL_S ||
        opts->leeway_s < 0 || opts->leeway_s > MAX_LEEWAY_S) {
        snprintf(err, errlen, "jwt: issuer and audience required, ttl 1..%d s, leeway 0..%d s",
                 MAX_TTL_S, MAX_LEEWAY_S);
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->issuer = strdup(opts->issuer)) == NULL ||
        (t->audience = strdup(opts->audience)) == NULL) {
        auth_tokens_free(t);
        snprintf(err, errlen, "jwt: out of memory");
        return NULL;
    }
    t->alg = alg;
    t->ttl_s = opts->ttl_s;
    t->leeway_s = opts->leeway_s;
    return t;
}

int auth_tokens_load_hs256(struct auth_tokens **out, const struct auth_token_opts *opts,
                           const void *secret, size_t secret_len, char *err, size_t errlen)
{
    struct auth_tokens *t;

    *out = NULL;
    /* libjwt accepts "alg":"none" when called with an empty key: never
     * start without a real one. 32 bytes = the HMAC-SHA-256 output size. */
    if (secret == NULL || secret_len < AUTH_HS256_MIN_SECRET || secret_len > 4096) {
        snprintf(err, errlen, "jwt: HS256 secret must be %d to 4096 bytes", AUTH_HS256_MIN_SECRET);
        return -1;
    }
    t = tokens_new(opts, JWT_ALG_HS256, err, errlen);
    if (t == NULL)
        return -1;
    t->sign_key = malloc(secret_len);
    if (t->sign_key == NULL) {
        auth_tokens_free(t);
        snprintf(err, errlen, "jwt: out of memory");
        return -1;
    }
    memcpy(t->sign_key, secret, secret_len);
    t->sign_len = secret_len;
    *out = t;
    return 0;
}

/* ---- ES256 ------------------------------------------------------------ */

/* kid = RFC 7638 thumbprint: SHA-256 of the JWK's required members in
 * lexicographic order without whitespace, which is exactly what jansson
 * writes with JSON_COMPACT | JSON_SORT_KEYS. */
static int jwk_thumbprint(const char *x, const char *y, char kid[B64_SHA256 + 1])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    json_t *jwk = json_pack("{s:s,s:s,s:s,s:s}", "crv", "P-256", "kty", "EC", "x", x, "y", y);
    char *s = jwk != NULL ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    unsigned char hash[32];
    char enc[AUTH_B64URL_BUF(32)];
    int ret = -1;

    if (s != NULL && md != NULL && mbedtls_md(md, (const unsigned char *)s, strlen(s), hash) == 0 &&
        auth_b64url_encode(enc, sizeof(enc), hash, sizeof(hash)) == (int)B64_SHA256) {
        memcpy(kid, enc, B64_SHA256 + 1);
        ret = 0;
    }
    free(s);
    json_decref(jwk);
    return ret;
}

static int key_jwk(const struct auth_keyfile_key *key, char *x, char *y, char *kid)
{
    if (auth_b64url_encode(x, AUTH_B64URL_BUF(COORD_LEN), key->x, sizeof(key->x)) < 0 ||
        auth_b64url_encode(y, AUTH_B64URL_BUF(COORD_LEN), key->y, sizeof(key->y)) < 0)
        return -1;
    return jwk_thumbprint(x, y, kid);
}

int auth_token_kid(const struct auth_keyfile_key *key, char kid[AUTH_TOKEN_KID_BUF])
{
    char x[AUTH_B64URL_BUF(COORD_LEN)], y[AUTH_B64URL_BUF(COORD_LEN)];

    return key_jwk(key, x, y, kid);
}

/* Takes the public PEM out of key (k frees it from now on), and fills the
 * JWK coordinates and the kid. */
static int token_key_from(struct token_key *k, struct auth_keyfile_key *key, int64_t until)
{
    k->pem = (unsigned char *)key->public_pem;
    k->pem_len = strlen(key->public_pem);
    key->public_pem = NULL;
    k->until = until;
    return key_jwk(key, k->x, k->y, k->kid);
}

int auth_tokens_load_es256_set(struct auth_tokens **out, const struct auth_token_opts *opts,
                               struct auth_keyfile_key *keys, const int64_t *until, size_t n,
                               char *err, size_t errlen)
{
    struct auth_tokens *t = NULL;

    *out = NULL;
    if (n == 0 || n > AUTH_TOKENS_MAX_KEYS || keys[0].private_pem == NULL) {
        snprintf(err, errlen, "jwt: a key set needs 1..%d keys, the first with its private part",
                 AUTH_TOKENS_MAX_KEYS);
        return -1;
    }
    if ((t = tokens_new(opts, JWT_ALG_ES256, err, errlen)) == NULL)
        return -1;
    if ((t->keys = calloc(n, sizeof(*t->keys))) == NULL) {
        snprintf(err, errlen, "jwt: out of memory");
        goto fail;
    }
    for (; t->nkeys < n; t->nkeys++) {
        if (keys[t->nkeys].public_pem == NULL ||
            token_key_from(&t->keys[t->nkeys], &keys[t->nkeys], until[t->nkeys]) != 0) {
            t->nkeys++; /* its PEM is ours to free now */
            snprintf(err, errlen, "jwt: cannot derive the JWK of key %zu", t->nkeys);
            goto fail;
        }
    }
    t->sign_key = (unsigned char *)keys[0].private_pem;
    t->sign_len = strlen(keys[0].private_pem);
    keys[0].private_pem = NULL;
    *out = t;
    return 0;
fail:
    auth_tokens_free(t);
    return -1;
}

int auth_tokens_load_es256(struct auth_tokens **out, const struct auth_token_opts *opts,
                           const char *key_file, char *err, size_t errlen)
{
    struct auth_keyfile_key key = { 0 };
    const int64_t until = 0;
    int rc = -1;

    *out = NULL;
    if (key_file == NULL || key_file[0] == '\0')
        snprintf(err, errlen, "jwt: ES256 needs a key file");
    else if (auth_keyfile_load(&key, key_file, err, errlen) == 0)
        rc = auth_tokens_load_es256_set(out, opts, &key, &until, 1, err, errlen);
    auth_keyfile_key_free(&key);
    return rc;
}

const char *auth_tokens_alg(const struct auth_tokens *t) { return jwt_alg_str(t->alg); }

const char *auth_tokens_kid(const struct auth_tokens *t)
{
    return t->nkeys > 0 ? t->keys[0].kid : "";
}

int auth_tokens_ttl(const struct auth_tokens *t) { return t->ttl_s; }

/* ---- issue ------------------------------------------------------------ */

static int role_valid(const char *role)
{
    return role != NULL && (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0);
}

int auth_token_issue(const struct auth_tokens *t, int64_t user_id, const char *role, int64_t epoch,
                     int64_t now, char **out)
{
    return auth_token_issue_sid(t, user_id, role, epoch, 0, now, out);
}

int auth_token_issue_sid(const struct auth_tokens *t, int64_t user_id, const char *role,
                         int64_t epoch, int64_t sid, int64_t now, char **out)
{
    unsigned char raw[JTI_RAW_LEN];
    char jti[AUTH_B64URL_BUF(JTI_RAW_LEN)], sub[24];
    json_t *claims = NULL;
    char *claims_s = NULL;
    jwt_t *jwt = NULL;
    int ret = AUTH_TOKEN_INTERNAL;

    *out = NULL;
    if (user_id <= 0 || epoch < 0 || sid < 0 || !role_valid(role) || now < 0 || now > INT64_MAX / 2)
        return AUTH_TOKEN_CLAIMS;
    if (auth_rand_bytes(raw, sizeof(raw)) != 0 ||
        auth_b64url_encode(jti, sizeof(jti), raw, sizeof(raw)) < 0)
        goto done;
    snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
    claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "iss", t->issuer, "aud",
                       t->audience, "sub", sub, "iat", (json_int_t)now, "nbf", (json_int_t)now,
                       "exp", (json_int_t)(now + t->ttl_s), "jti", jti, "role", role, "ep",
                       (json_int_t)epoch);
    if (claims != NULL && sid > 0 && json_object_set_new(claims, "sid", json_integer(sid)) != 0)
        goto done;
    if (claims == NULL || (claims_s = json_dumps(claims, JSON_COMPACT)) == NULL)
        goto done;
    if (jwt_new(&jwt) != 0 || jwt_set_alg(jwt, t->alg, t->sign_key, (int)t->sign_len) != 0 ||
        (t->alg == JWT_ALG_ES256 && jwt_add_header(jwt, "kid", t->keys[0].kid) != 0) ||
        jwt_add_grants_json(jwt, claims_s) != 0)
        goto done;
    *out = jwt_encode_str(jwt);
    if (*out != NULL)
        ret = 0;
done:
    jwt_free(jwt);
    free(claims_s);
    json_decref(claims);
    return ret;
}

/* ---- verify ----------------------------------------------------------- */

/* Splits a compact JWS into three non-empty base64url segments.
 * Returns 0 and the header and claims segments' lengths, or
 * AUTH_TOKEN_MALFORMED. */
static int split_segments(const char *token, size_t len, size_t *head_len, size_t *body_len)
{
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;

    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return AUTH_TOKEN_MALFORMED;
    if (!auth_b64url_valid(token, (size_t)(dot1 - token)) ||
        !auth_b64url_valid(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
        !auth_b64url_valid(dot2 + 1, (size_t)(end - dot2 - 1)))
        return AUTH_TOKEN_MALFORMED;
    *head_len = (size_t)(dot1 - token);
    *body_len = (size_t)(dot2 - dot1 - 1);
    return 0;
}

/* The key of the set named kid that still verifies at now, or NULL. */
static const struct token_key *find_key(const struct auth_tokens *t, const char *kid, int64_t now)
{
    for (size_t i = 0; kid != NULL && i < t->nkeys; i++)
        if (strcmp(kid, t->keys[i].kid) == 0)
            return t->keys[i].until == 0 || now < t->keys[i].until ? &t->keys[i] : NULL;
    return NULL;
}

/* The allow-list libjwt 1.10 lacks: it would verify with whatever "alg" the
 * header names (case-insensitively), so "none" or "HS256" keyed with our
 * public PEM would pass. Only alg/typ/kid may appear; anything else (crit,
 * jku, x5u, jwk, x5c, b64, ...) asks for processing we do not do. */
static int check_header(const struct auth_tokens *t, const char *seg, size_t len, int64_t now,
                        const struct token_key **key)
{
    unsigned char buf[AUTH_TOKEN_MAX_LEN];
    json_t *h = NULL, *v;
    const char *k, *alg, *typ, *kid;
    long n = auth_b64url_decode(buf, sizeof(buf), seg, len);
    int ret = AUTH_TOKEN_MALFORMED;

    if (n < 0 ||
        (h = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(h))
        goto done;
    json_object_foreach(h, k, v)
    {
        if ((strcmp(k, "alg") != 0 && strcmp(k, "typ") != 0 && strcmp(k, "kid") != 0) ||
            !json_is_string(v))
            goto done;
    }
    alg = json_string_value(json_object_get(h, "alg"));
    typ = json_string_value(json_object_get(h, "typ"));
    kid = json_string_value(json_object_get(h, "kid"));
    if (alg == NULL || strcmp(alg, jwt_alg_str(t->alg)) != 0)
        ret = AUTH_TOKEN_ALG;
    else if (typ == NULL || strcmp(typ, "JWT") != 0)
        ret = AUTH_TOKEN_MALFORMED;
    else if (t->alg == JWT_ALG_ES256 ? (*key = find_key(t, kid, now)) == NULL : kid != NULL)
        ret = AUTH_TOKEN_KEY;
    else
        ret = 0;
done:
    json_decref(h);
    return ret;
}

/* An integer claim (JSON integer only: libjwt's jwt_get_grant_int would
 * read a string or float as 0 without complaint), >= 0. */
static int claim_int(json_t *c, const char *name, int64_t *out)
{
    json_t *v = json_object_get(c, name);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* sub is our user id: 1..18 decimal digits, no sign or leading zero. */
static int parse_sub(const char *s, int64_t *id)
{
    size_t i, n = s != NULL ? strlen(s) : 0;
    int64_t v = 0;

    if (n == 0 || n > 18 || s[0] == '0')
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *id = v;
    return 0;
}

/* The claims exactly as signed. Not libjwt's copy: it hands the decoded
 * segment to json_loads, which stops at a NUL, so signed bytes after one
 * were ignored (a token meaning one thing here and another to a strict
 * verifier), and it keeps the last of duplicate names. */
static json_t *claims_json(const char *seg, size_t len)
{
    unsigned char buf[AUTH_TOKEN_MAX_LEN];
    long n = auth_b64url_decode(buf, sizeof(buf), seg, len);

    if (n < 0)
        return NULL;
    return json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
}

static int check_claims(const struct auth_tokens *t, json_t *c, int64_t now,
                        struct auth_claims *out)
{
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const char *aud = json_string_value(json_object_get(c, "aud"));
    const char *role = json_string_value(json_object_get(c, "role"));
    const char *jti = json_string_value(json_object_get(c, "jti"));
    int64_t nbf;

    if (!json_is_object(c))
        return AUTH_TOKEN_CLAIMS;
    if (iss == NULL || strcmp(iss, t->issuer) != 0)
        return AUTH_TOKEN_ISSUER;
    /* We issue aud as one string; an array is not accepted (no token of
     * ours has one, and a list would widen what a token is good for). */
    if (aud == NULL || strcmp(aud, t->audience) != 0)
        return AUTH_TOKEN_AUDIENCE;
    if (claim_int(c, "exp", &out->exp) || claim_int(c, "nbf", &nbf) ||
        claim_int(c, "iat", &out->iat) || claim_int(c, "ep", &out->epoch) ||
        parse_sub(json_string_value(json_object_get(c, "sub")), &out->user_id) ||
        !role_valid(role) || jti == NULL || jti[0] == '\0' || strlen(jti) >= sizeof(out->jti))
        return AUTH_TOKEN_CLAIMS;
    /* Written as now - leeway / now + leeway (both small and sane) so a
     * hostile exp near INT64_MAX cannot overflow. */
    if (out->exp <= now - t->leeway_s)
        return AUTH_TOKEN_EXPIRED;
    if (nbf > now + t->leeway_s || out->iat > now + t->leeway_s)
        return AUTH_TOKEN_NOT_YET_VALID;
    /* sid (the session, optional): a positive integer when present. */
    json_t *sid = json_object_get(c, "sid");
    out->sid = 0;
    if (sid != NULL && (claim_int(c, "sid", &out->sid) || out->sid <= 0))
        return AUTH_TOKEN_CLAIMS;
    strcpy(out->role, role);
    strcpy(out->jti, jti);
    return 0;
}

int auth_token_verify(const struct auth_tokens *t, const char *token, int64_t now,
                      struct auth_claims *claims)
{
    size_t len, head_len, body_len;
    const struct token_key *key = NULL;
    jwt_t *jwt = NULL;
    json_t *c = NULL;
    int ret;

    memset(claims, 0, sizeof(*claims));
    if (token == NULL || (len = strnlen(token, AUTH_TOKEN_MAX_LEN + 1)) > AUTH_TOKEN_MAX_LEN)
        return AUTH_TOKEN_MALFORMED;
    if ((ret = split_segments(token, len, &head_len, &body_len)) != 0 ||
        (ret = check_header(t, token, head_len, now, &key)) != 0)
        return ret;
    /* The key is never NULL or empty here (load refuses that), which is
     * what keeps libjwt from accepting "none". */
    const unsigned char *vk = key != NULL ? key->pem : t->sign_key;
    size_t vlen = key != NULL ? key->pem_len : t->sign_len;
    if (jwt_decode(&jwt, token, vk, (int)vlen) != 0 || jwt == NULL) {
        ret = AUTH_TOKEN_SIGNATURE;
        goto done;
    }
    if (jwt_get_alg(jwt) != t->alg) {
        ret = AUTH_TOKEN_ALG;
        goto done;
    }
    c = claims_json(token + head_len + 1, body_len);
    ret = c != NULL ? check_claims(t, c, now, claims) : AUTH_TOKEN_MALFORMED;
done:
    if (ret != 0)
        memset(claims, 0, sizeof(*claims));
    json_decref(c);
    jwt_free(jwt);
    return ret;
}

/* ---- JWKS and messages ------------------------------------------------ */

char *auth_tokens_jwks_json(const struct auth_tokens *t, int64_t now)
{
    json_t *doc = json_pack("{s:[]}", "keys"), *keys = json_object_get(doc, "keys");
    char *s = NULL;

    for (size_t i = 0; keys != NULL && i < t->nkeys; i++) {
        const struct token_key *k = &t->keys[i];
        if (k->until != 0 && now >= k->until)
            continue;
        if (json_array_append_new(keys, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC",
                                                  "crv", "P-256", "x", k->x, "y", k->y, "kid",
                                                  k->kid, "alg", "ES256", "use", "sig")) != 0)
            goto out;
    }
    s = keys != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
out:
    json_decref(doc);
    return s;
}

const char *auth_token_strerror(int rc)
{
    static const char *const msg[] = {
        "ok",
        "malformed token",
        "algorithm not allowed",
        "unknown key id",
        "bad signature",
        "token expired",
        "token not yet valid",
        "wrong issuer",
        "wrong audience",
        "missing or invalid claim",
        "internal error",
    };

    return rc <= 0 && rc >= AUTH_TOKEN_INTERNAL ? msg[-rc] : "unknown token error";
}
