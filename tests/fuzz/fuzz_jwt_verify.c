/* fuzz_jwt_verify: access-token verification (auth_token_verify), token
 * string in, verdict out.
 *
 * Keys, loaded once: HS256 with a fixed secret, and ES256 from a fixed
 * P-256 key written into a private temporary directory (fixed so that a
 * saved input replays identically; the key is a test key and public).
 *
 * For every input (NUL-terminated copy = the Bearer value):
 *   1. verification with both key sets must never crash and must never
 *      accept: nobody outside this process holds the keys, so an accepted
 *      fuzzed token is a forgery;
 *   2. the input's first two segments are re-signed with the HS256 secret
 *      and verified again. This lets the fuzzer past the signature into
 *      the header allow-list and the claims checks; an accepted token must
 *      then say exactly what the policy allows (alg, typ, iss, aud, sub,
 *      role, times). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/md.h>

#include "fuzz_common.h"
#include "auth/encode.h"
#include "auth/token.h"

/* A fixed "now" so verdicts do not depend on the wall clock. */
#define NOW      ((int64_t)1700000000)
#define LEEWAY_S 30
#define ISSUER   "portcullis"
#define AUDIENCE "portcullis-api"

static const char hs_secret[] = "fuzz-hs256-secret-0123456789abcdef";

static const char es_key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIJ0g3TyMKK6BvbjM07810eYxmphGXx6eCn2UmKoeRhdAoAoGCCqGSM49\n"
    "AwEHoUQDQgAEAtilaqVh9DIDpKHDZcbOSzMZsaq1EzujdVXmX/Orwn6XKhoLlrZ+\n"
    "w3qtBnOjzB5DHePPWi1/q1Rgs5+4QFpWaA==\n"
    "-----END EC PRIVATE KEY-----\n";

static struct auth_tokens *hs, *es;

static void free_keys(void)
{
    auth_tokens_free(hs);
    auth_tokens_free(es);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const struct auth_token_opts o = { ISSUER, AUDIENCE, 900, LEEWAY_S };
    char path[600], err[256];
    FILE *f;
    int fd;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%s/jwt-es256.pem", fuzz_tmpdir_make("jwt"));
    /* 0600: the key loader refuses keys others could read. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    FUZZ_SETUP(f != NULL && fputs(es_key_pem, f) >= 0 && fclose(f) == 0, "write key");
    FUZZ_SETUP(auth_tokens_load_es256(&es, &o, path, err, sizeof err) == 0, err);
    FUZZ_SETUP(auth_tokens_load_hs256(&hs, &o, hs_secret, strlen(hs_secret), err, sizeof err) == 0,
               err);
    atexit(free_keys);
    return 0;
}

static void check_refused(const struct auth_tokens *t, const char *tok)
{
    struct auth_claims c;
    static const struct auth_claims zero;
    int rc;

    memset(&c, 0x5a, sizeof c);
    rc = auth_token_verify(t, tok, NOW, &c);
    FUZZ_CHECK(rc < 0 && rc >= AUTH_TOKEN_INTERNAL); /* a forgery never passes */
    FUZZ_CHECK(memcmp(&c, &zero, sizeof c) == 0);
    FUZZ_CHECK(auth_token_strerror(rc) != NULL);
}

/* Segment `idx` of tok decoded as JSON (the caller decrefs), or NULL. */
static json_t *segment_json(const char *tok, int idx)
{
    const char *s = tok, *e;
    unsigned char buf[AUTH_TOKEN_MAX_LEN];
    long n;

    for (int i = 0; i < idx; i++)
        s = strchr(s, '.') + 1;
    e = strchr(s, '.');
    n = auth_b64url_decode(buf, sizeof buf, s, e != NULL ? (size_t)(e - s) : strlen(s));
    return n < 0 ? NULL : json_loadb((const char *)buf, (size_t)n, 0, NULL);
}

static int str_is(json_t *o, const char *key, const char *want)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           strcmp(json_string_value(v), want) == 0;
}

/* An accepted token, read independently of token.c. */
static void check_accepted(const char *tok, const struct auth_claims *c)
{
    json_t *h = segment_json(tok, 0), *p = segment_json(tok, 1);
    char sub[24];

    FUZZ_CHECK(h != NULL && p != NULL);
    FUZZ_CHECK(str_is(h, "alg", "HS256") && str_is(h, "typ", "JWT"));
    FUZZ_CHECK(json_object_get(h, "kid") == NULL && json_object_size(h) == 2);
    FUZZ_CHECK(str_is(p, "iss", ISSUER) && str_is(p, "aud", AUDIENCE));
    FUZZ_CHECK(str_is(p, "role", c->role));
    FUZZ_CHECK(strcmp(c->role, "user") == 0 || strcmp(c->role, "admin") == 0);
    snprintf(sub, sizeof sub, "%lld", (long long)c->user_id);
    FUZZ_CHECK(c->user_id > 0 && str_is(p, "sub", sub));
    FUZZ_CHECK(c->epoch >= 0 && c->jti[0] != '\0' && str_is(p, "jti", c->jti));
    FUZZ_CHECK(c->exp > NOW - LEEWAY_S && c->iat <= NOW + LEEWAY_S);
    json_decref(h);
    json_decref(p);
}

/* "h.p" + "." + base64url(HMAC-SHA-256(secret, "h.p")), or NULL when the
 * input has no second segment. */
static char *resign(const char *tok)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    size_t hp = d2 != NULL ? (size_t)(d2 - tok) : strlen(tok);
    unsigned char mac[32];
    char *out;

    if (d1 == NULL || hp > AUTH_TOKEN_MAX_LEN)
        return NULL;
    out = malloc(hp + 1 + AUTH_B64URL_BUF(sizeof mac));
    FUZZ_CHECK(out != NULL && md != NULL);
    FUZZ_CHECK(mbedtls_md_hmac(md, (const unsigned char *)hs_secret, strlen(hs_secret),
                               (const unsigned char *)tok, hp, mac) == 0);
    memcpy(out, tok, hp);
    out[hp] = '.';
    FUZZ_CHECK(auth_b64url_encode(out + hp + 1, AUTH_B64URL_BUF(sizeof mac), mac, sizeof mac) > 0);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1);
    char *signed_tok;
    struct auth_claims c;

    FUZZ_CHECK(tok != NULL);
    memcpy(tok, data, size);
    tok[size] = '\0';
    check_refused(hs, tok);
    check_refused(es, tok);

    signed_tok = resign(tok);
    if (signed_tok != NULL) {
        int rc = auth_token_verify(hs, signed_tok, NOW, &c);

        FUZZ_CHECK(rc <= 0 && rc >= AUTH_TOKEN_INTERNAL);
        if (rc == 0)
            check_accepted(signed_tok, &c);
        check_refused(es, signed_tok); /* right HMAC, wrong algorithm */
        free(signed_tok);
    }
    free(tok);
    return 0;
}
