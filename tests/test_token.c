/* test_token.c: JWT issue/verify, key file handling, JWKS, and every attack
 * token of SECURITY-NOTES.md "libjwt", each forged by hand: header and
 * claims built with jansson, signed with mbedTLS (ECDSA P-256 or HMAC). */
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

#define NOW      1700000000LL
#define TTL      900
#define LEEWAY   30
#define SECRET   "0123456789abcdef0123456789abcdef-hs256"

static const struct auth_token_opts opts = { "portcullis", "portcullis-api", TTL, LEEWAY };

static char tmpdir[64];
static char key_path[128];
static struct auth_tokens *es;        /* ES256, key in key_path */
static struct auth_tokens *hs;        /* HS256 with SECRET */
static mbedtls_pk_context our_pk;     /* the same private key, for forging */
static mbedtls_pk_context other_pk;   /* an unrelated P-256 key */

/* ---- helpers ---------------------------------------------------------- */

static int test_rng(void *ctx, unsigned char *buf, size_t len)
{
    return forge_rng(ctx, buf, len);
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    ck_assert_int_eq(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), p, n, out), 0);
}

static void gen_key(mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    ck_assert_int_eq(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                         test_rng, NULL), 0);
}

static void load_key(mbedtls_pk_context *pk, const char *path)
{
    ck_assert_int_eq(forge_load_key(pk, path), 0);
}

static char *b64(const void *p, size_t n)
{
    char *out = forge_b64url(p, n);

    ck_assert_ptr_nonnull(out);
    return out;
}

static char *b64_json(json_t *j)
{
    char *out = forge_b64url_json(j);

    ck_assert_ptr_nonnull(out);
    return out;
}

enum sig { SIG_OURS, SIG_OTHER, SIG_HMAC, SIG_NONE, SIG_EMPTY };

/* header.payload.signature, signed as told (key/keylen for SIG_HMAC).
 * Takes ownership of hdr and claims. Caller frees the result. */
static char *forge(json_t *hdr, json_t *claims, enum sig how, const void *key, size_t keylen)
{
    static const enum forge_sig map[] = { FORGE_ES256, FORGE_ES256, FORGE_HMAC, FORGE_NONE,
                                          FORGE_EMPTY };
    char *tok = forge_token(hdr, claims, map[how], how == SIG_OTHER ? &other_pk : &our_pk,
                            key, keylen);

    ck_assert_ptr_nonnull(tok);
    return tok;
}

static json_t *es_header(void)
{
    return json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "JWT",
                     "kid", auth_tokens_kid(es));
}

static json_t *claims_at(long long iat, long long exp)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "iss", "portcullis",
                     "aud", "portcullis-api", "sub", "42", "iat", (json_int_t)iat,
                     "nbf", (json_int_t)iat, "exp", (json_int_t)exp, "jti", "abcdefghijklmnopqrstuv",
                     "role", "user", "ep", (json_int_t)3);
}

static json_t *claims_ok(void)
{
    return claims_at(NOW, NOW + TTL);
}

static int verify_es(const char *tok)
{
    struct auth_claims c;

    return auth_token_verify(es, tok, NOW, &c);
}

/* Verifies and frees a forged ES256-configured token. */
static int verify_es_free(char *tok)
{
    int rc = verify_es(tok);

    free(tok);
    return rc;
}

/* The ES256 public key rebuilt from the JWKS x/y only, as PEM. */
static char *pem_from_jwks(void)
{
    char *jwks = auth_tokens_jwks_json(es), *pem;
    json_t *doc = json_loads(jwks, 0, NULL), *k = json_array_get(json_object_get(doc, "keys"), 0);

    pem = forge_pem_from_xy(json_string_value(json_object_get(k, "x")),
                            json_string_value(json_object_get(k, "y")));
    ck_assert_ptr_nonnull(pem);
    json_decref(doc);
    free(jwks);
    return pem;
}

/* ---- fixture ---------------------------------------------------------- */

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            rm_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

static void setup(void)
{
    char err[256];

    strcpy(tmpdir, "/tmp/pc_test_token.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(key_path, sizeof(key_path), "%s/keys/jwt.pem", tmpdir);
    ck_assert_msg(auth_tokens_load_es256(&es, &opts, key_path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(auth_tokens_load_hs256(&hs, &opts, SECRET, strlen(SECRET), err,
                                            sizeof(err)), 0);
    load_key(&our_pk, key_path);
    gen_key(&other_pk);
}

static void teardown(void)
{
    auth_tokens_free(es);
    auth_tokens_free(hs);
    es = hs = NULL;
    mbedtls_pk_free(&our_pk);
    mbedtls_pk_free(&other_pk);
    rm_tree(tmpdir);
}

/* ---- happy paths ------------------------------------------------------ */

static void roundtrip(struct auth_tokens *t)
{
    struct auth_claims c;
    char *tok = NULL;

    ck_assert_int_eq(auth_token_issue(t, 42, "admin", 7, NOW, &tok), 0);
    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(auth_token_verify(t, tok, NOW, &c), 0);
    ck_assert_int_eq(c.user_id, 42);
    ck_assert_str_eq(c.role, "admin");
    ck_assert_int_eq(c.epoch, 7);
    ck_assert_int_eq(c.iat, NOW);
    ck_assert_int_eq(c.exp, NOW + TTL);
    ck_assert_uint_eq(strlen(c.jti), 22);
    /* Still valid just before exp + leeway, not at it. */
    ck_assert_int_eq(auth_token_verify(t, tok, NOW + TTL + LEEWAY - 1, &c), 0);
    ck_assert_int_eq(auth_token_verify(t, tok, NOW + TTL + LEEWAY, &c), AUTH_TOKEN_EXPIRED);
    ck_assert_int_eq(c.user_id, 0);   /* zeroed on failure */
    free(tok);
}

START_TEST(test_es256_roundtrip)
{
    roundtrip(es);
    ck_assert_str_eq(auth_tokens_alg(es), "ES256");
    ck_assert_uint_eq(strlen(auth_tokens_kid(es)), 43);
    ck_assert_int_eq(auth_tokens_ttl(es), TTL);
}
END_TEST

START_TEST(test_hs256_roundtrip)
{
    roundtrip(hs);
    ck_assert_str_eq(auth_tokens_alg(hs), "HS256");
}
END_TEST

START_TEST(test_header_is_ours)
{
    char *tok = NULL, *dot, hdr[256];
    long n;

    ck_assert_int_eq(auth_token_issue(es, 1, "user", 0, NOW, &tok), 0);
    dot = strchr(tok, '.');
    n = auth_b64url_decode((unsigned char *)hdr, sizeof(hdr) - 1, tok, (size_t)(dot - tok));
    ck_assert_int_gt(n, 0);
    hdr[n] = '\0';
    ck_assert_ptr_nonnull(strstr(hdr, "\"alg\":\"ES256\""));
    ck_assert_ptr_nonnull(strstr(hdr, "\"typ\":\"JWT\""));
    ck_assert_ptr_nonnull(strstr(hdr, auth_tokens_kid(es)));
    free(tok);
}
END_TEST

START_TEST(test_forged_valid_accepted)
{
    /* The forging helpers themselves make acceptable tokens: every
     * rejection below is caused by the one thing each test changes. */
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_ok(), SIG_OURS, NULL, 0)), 0);
}
END_TEST

START_TEST(test_issue_bad_args)
{
    char *tok = NULL;

    ck_assert_int_eq(auth_token_issue(es, 0, "user", 0, NOW, &tok), AUTH_TOKEN_CLAIMS);
    ck_assert_int_eq(auth_token_issue(es, 1, "root", 0, NOW, &tok), AUTH_TOKEN_CLAIMS);
    ck_assert_int_eq(auth_token_issue(es, 1, NULL, 0, NOW, &tok), AUTH_TOKEN_CLAIMS);
    ck_assert_int_eq(auth_token_issue(es, 1, "user", -1, NOW, &tok), AUTH_TOKEN_CLAIMS);
    ck_assert_ptr_null(tok);
}
END_TEST

/* ---- algorithm attacks ------------------------------------------------ */

START_TEST(test_alg_none)
{
    json_t *h = json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT");
    char *tok = forge(json_incref(h), claims_ok(), SIG_NONE, NULL, 0);
    jwt_t *j = NULL;

    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED);   /* "h.p" */
    free(tok);
    tok = forge(json_incref(h), claims_ok(), SIG_EMPTY, NULL, 0);   /* "h.p." */
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED);
    /* What the guards prevent: libjwt without a key accepts it. */
    ck_assert_int_eq(jwt_decode(&j, tok, NULL, 0), 0);
    jwt_free(j);
    free(tok);
    tok = forge(json_incref(h), claims_ok(), SIG_HMAC, "x", 1);   /* "h.p.sig" */
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_ALG);
    free(tok);
    json_object_set_new(h, "alg", json_string("None"));
    ck_assert_int_eq(verify_es_free(forge(json_incref(h), claims_ok(), SIG_HMAC, "x", 1)),
                     AUTH_TOKEN_ALG);
    json_decref(h);
}
END_TEST

START_TEST(test_alg_confusion_hs256_with_public_key)
{
    char *pem = pem_from_jwks(), *tok;
    json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "HS256", "typ", "JWT",
                          "kid", auth_tokens_kid(es));
    jwt_t *j = NULL;

    tok = forge(h, claims_ok(), SIG_HMAC, pem, strlen(pem));
    /* The attack is real: given the verification key ES256 uses, libjwt
     * alone follows the header's alg and accepts the HMAC. */
    ck_assert_int_eq(jwt_decode(&j, tok, (const unsigned char *)pem, (int)strlen(pem)), 0);
    jwt_free(j);
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_ALG);
    free(tok);
    /* Same with the PEM's terminating NUL counted, and without kid. */
    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC,
                pem, strlen(pem) + 1);
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_ALG);
    free(tok);
    free(pem);
}
END_TEST

START_TEST(test_es256_token_when_hs256_configured)
{
    struct auth_claims c;
    char *tok = NULL;

    ck_assert_int_eq(auth_token_issue(es, 42, "user", 0, NOW, &tok), 0);
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), AUTH_TOKEN_ALG);
    free(tok);
    tok = forge(json_pack("{s:s,s:s}", "alg", "ES256", "typ", "JWT"), claims_ok(), SIG_OURS,
                NULL, 0);
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), AUTH_TOKEN_ALG);
    free(tok);
}
END_TEST

START_TEST(test_alg_case_and_family)
{
    static const char *const algs[] = { "es256", "Es256", "ES384", "ES512", "RS256", "HS512",
                                        "ES256 ", "" };
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        json_t *h = json_pack("{s:s,s:s,s:s}", "alg", algs[i], "typ", "JWT",
                              "kid", auth_tokens_kid(es));
        ck_assert_msg(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)) == AUTH_TOKEN_ALG,
                      "alg '%s' accepted", algs[i]);
    }
    /* alg missing or not a string */
    ck_assert_int_eq(verify_es_free(forge(json_pack("{s:s,s:s}", "typ", "JWT", "kid",
                                                    auth_tokens_kid(es)),
                                          claims_ok(), SIG_OURS, NULL, 0)), AUTH_TOKEN_ALG);
    ck_assert_int_eq(verify_es_free(forge(json_pack("{s:i,s:s,s:s}", "alg", 7, "typ", "JWT",
                                                    "kid", auth_tokens_kid(es)),
                                          claims_ok(), SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_MALFORMED);
}
END_TEST

/* ---- header checks ---------------------------------------------------- */

START_TEST(test_header_forbidden_members)
{
    static const char *const names[] = { "jku", "x5u", "jwk", "crit", "x5c", "b64", "cty" };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *h = es_header();
        json_object_set_new(h, names[i], json_string("https://evil.example/k"));
        ck_assert_msg(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)) ==
                      AUTH_TOKEN_MALFORMED, "header member %s accepted", names[i]);
    }
    {
        json_t *h = es_header();
        json_object_set_new(h, "crit", json_pack("[s]", "exp"));
        ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)),
                         AUTH_TOKEN_MALFORMED);
    }
}
END_TEST

START_TEST(test_header_typ_and_kid)
{
    json_t *h;

    h = es_header();
    json_object_set_new(h, "typ", json_string("at+jwt"));
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)), AUTH_TOKEN_MALFORMED);
    h = es_header();
    json_object_del(h, "typ");
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)), AUTH_TOKEN_MALFORMED);
    h = es_header();
    json_object_set_new(h, "kid", json_string("someone-elses-key"));
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)), AUTH_TOKEN_KEY);
    h = es_header();
    json_object_del(h, "kid");
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)), AUTH_TOKEN_KEY);
}
END_TEST

START_TEST(test_header_duplicate_alg)
{
    /* jansson keeps the last duplicate; libjwt would see "ES256" while a
     * naive first-match reader sees "none". Duplicates are refused. */
    const char *hdr = "{\"alg\":\"none\",\"typ\":\"JWT\",\"alg\":\"ES256\"}";
    json_t *c = claims_ok();
    char *h = b64(hdr, strlen(hdr)), *p = b64_json(c), tok[2048];
    unsigned char raw[64];
    char *sig;

    snprintf(tok, sizeof(tok), "%s.%s", h, p);
    ck_assert_int_eq(forge_es256_sign(&our_pk, tok, strlen(tok), raw), 0);
    sig = b64(raw, 64);
    strcat(tok, ".");
    strcat(tok, sig);
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED);
    json_decref(c);
    free(h);
    free(p);
    free(sig);
}
END_TEST

/* ---- signature -------------------------------------------------------- */

START_TEST(test_other_key_and_tampering)
{
    char *tok = NULL, *p, *dot;
    json_t *c;

    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_ok(), SIG_OTHER, NULL, 0)),
                     AUTH_TOKEN_SIGNATURE);

    /* Tampered payload: role upgraded, original signature kept. */
    ck_assert_int_eq(auth_token_issue(es, 42, "user", 0, NOW, &tok), 0);
    c = claims_ok();
    json_object_set_new(c, "role", json_string("admin"));
    p = b64_json(c);
    json_decref(c);
    {
        char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
        char forged[4096];
        snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, p, d2);
        ck_assert_int_eq(verify_es(forged), AUTH_TOKEN_SIGNATURE);
    }
    free(p);

    /* Tampered signature: flip one character in the middle of it. */
    dot = strrchr(tok, '.');
    dot[10] = dot[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_SIGNATURE);
    /* Truncated signature. */
    dot[10] = '\0';
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_SIGNATURE);
    free(tok);
}
END_TEST

START_TEST(test_hs256_wrong_secret)
{
    static const char wrong[] = "0123456789abcdef0123456789abcdef-other";
    struct auth_claims c;
    char *tok;

    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC,
                wrong, strlen(wrong));
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), AUTH_TOKEN_SIGNATURE);
    free(tok);
    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC,
                SECRET, strlen(SECRET));
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), 0);
    free(tok);
}
END_TEST

/* ---- structure (table-driven) ----------------------------------------- */

/* Expands H, P and S in a template into the segments of a valid token. */
static char *expand(const char *tpl, const char *h, const char *p, const char *s)
{
    char *out = calloc(1, 3 * strlen(h) + 3 * strlen(p) + 3 * strlen(s) + strlen(tpl) + 1);
    const char *t;

    for (t = tpl; *t; t++) {
        if (*t == 'H')
            strcat(out, h);
        else if (*t == 'P')
            strcat(out, p);
        else if (*t == 'S')
            strcat(out, s);
        else
            strncat(out, t, 1);
    }
    return out;
}

START_TEST(test_malformed_structure)
{
    static const struct { const char *tpl; int expect; } cases[] = {
        { "", AUTH_TOKEN_MALFORMED },          { ".", AUTH_TOKEN_MALFORMED },
        { "..", AUTH_TOKEN_MALFORMED },        { "...", AUTH_TOKEN_MALFORMED },
        { "H", AUTH_TOKEN_MALFORMED },         { "H.P", AUTH_TOKEN_MALFORMED },
        { "H.P.S.S", AUTH_TOKEN_MALFORMED },   { "H.P.S.", AUTH_TOKEN_MALFORMED },
        { ".P.S", AUTH_TOKEN_MALFORMED },      { "H..S", AUTH_TOKEN_MALFORMED },
        { "H.P.", AUTH_TOKEN_MALFORMED },      { "H.P.S ", AUTH_TOKEN_MALFORMED },
        { " H.P.S", AUTH_TOKEN_MALFORMED },    { "H.P.S\n", AUTH_TOKEN_MALFORMED },
        { "H.P+.S", AUTH_TOKEN_MALFORMED },    { "H.P/.S", AUTH_TOKEN_MALFORMED },
        { "H.P.S=", AUTH_TOKEN_MALFORMED },    { "H=.P.S", AUTH_TOKEN_MALFORMED },
        { "H.P.S%", AUTH_TOKEN_MALFORMED },    { "H.P.\x01S", AUTH_TOKEN_MALFORMED },
        { "H\t.P.S", AUTH_TOKEN_MALFORMED },   { "H.P.S.S.S", AUTH_TOKEN_MALFORMED },
        { "H.P..S", AUTH_TOKEN_MALFORMED },    { "HS.P.S", AUTH_TOKEN_MALFORMED },
        { "P.P.S", AUTH_TOKEN_MALFORMED },     /* claims object as header */
        { "H.HP.S", AUTH_TOKEN_SIGNATURE },    /* well-formed, wrong payload */
        { "H.P.P", AUTH_TOKEN_SIGNATURE },
        { "H.P.S", 0 },                        /* the untouched token */
    };
    char *tok = NULL, *h, *p, *s, *d1, *d2;
    size_t i;

    ck_assert_int_eq(auth_token_issue(es, 42, "user", 0, NOW, &tok), 0);
    d1 = strchr(tok, '.');
    d2 = strchr(d1 + 1, '.');
    h = strndup(tok, (size_t)(d1 - tok));
    p = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
    s = strdup(d2 + 1);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *bad = expand(cases[i].tpl, h, p, s);
        int rc = verify_es(bad);
        ck_assert_msg(rc == cases[i].expect, "case %zu '%s': got %d, want %d", i,
                      cases[i].tpl, rc, cases[i].expect);
        free(bad);
    }
    free(h);
    free(p);
    free(s);
    free(tok);
}
END_TEST

START_TEST(test_size_cap)
{
    char *big = malloc(5001), *tok;
    json_t *c;

    memset(big, 'A', 5000);
    big[5000] = '\0';
    big[100] = '.';
    big[200] = '.';
    ck_assert_int_eq(verify_es(big), AUTH_TOKEN_MALFORMED);
    /* A correctly signed token over the cap is refused unread... */
    c = claims_ok();
    big[3500] = '\0';
    json_object_set_new(c, "pad", json_string(big + 300));
    tok = forge(es_header(), c, SIG_OURS, NULL, 0);
    ck_assert_uint_gt(strlen(tok), AUTH_TOKEN_MAX_LEN);
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED);
    free(tok);
    /* ...while one just under it is fine (the cap is not too tight). */
    c = claims_ok();
    big[2500] = '\0';
    json_object_set_new(c, "pad", json_string(big + 300));
    tok = forge(es_header(), c, SIG_OURS, NULL, 0);
    ck_assert_uint_lt(strlen(tok), AUTH_TOKEN_MAX_LEN);
    ck_assert_int_eq(verify_es(tok), 0);
    free(tok);
    free(big);
    ck_assert_int_eq(verify_es(NULL), AUTH_TOKEN_MALFORMED);
}
END_TEST

/* ---- claims ----------------------------------------------------------- */

START_TEST(test_time_claims)
{
    /* expired: beyond the leeway refused, within it accepted */
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL - 100, NOW - LEEWAY - 1),
                                          SIG_OURS, NULL, 0)), AUTH_TOKEN_EXPIRED);
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL - 100, NOW - LEEWAY),
                                          SIG_OURS, NULL, 0)), AUTH_TOKEN_EXPIRED);
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL, NOW - LEEWAY + 1),
                                          SIG_OURS, NULL, 0)), 0);
    /* issued in the future: beyond the leeway refused, within accepted */
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW + LEEWAY + 1, NOW + TTL),
                                          SIG_OURS, NULL, 0)), AUTH_TOKEN_NOT_YET_VALID);
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW + LEEWAY, NOW + TTL),
                                          SIG_OURS, NULL, 0)), 0);
}
END_TEST

START_TEST(test_nbf_and_iat_separately)
{
    json_t *c = claims_ok();

    json_object_set_new(c, "nbf", json_integer(NOW + 3600));
    ck_assert_int_eq(verify_es_free(forge(es_header(), c, SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_NOT_YET_VALID);
    c = claims_ok();
    json_object_set_new(c, "iat", json_integer(NOW + 3600));
    ck_assert_int_eq(verify_es_free(forge(es_header(), c, SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_NOT_YET_VALID);
}
END_TEST

struct claim_case {
    const char *name;
    json_t *(*value)(void);   /* NULL = remove the claim */
    int expect;
};

static json_t *v_str_exp(void) { return json_string("1700000900"); }
static json_t *v_real(void) { return json_real(1700000900.0); }
static json_t *v_huge(void) { return json_integer(INT64_MAX); }
static json_t *v_neg(void) { return json_integer(-1); }
static json_t *v_evil(void) { return json_string("evil"); }
static json_t *v_aud_arr(void) { return json_pack("[s]", "portcullis-api"); }
static json_t *v_empty(void) { return json_string(""); }
static json_t *v_zero_lead(void) { return json_string("042"); }
static json_t *v_sub_neg(void) { return json_string("-42"); }
static json_t *v_sub_int(void) { return json_integer(42); }
static json_t *v_sub_long(void) { return json_string("1234567890123456789"); }
static json_t *v_root(void) { return json_string("root"); }
static json_t *v_admin_case(void) { return json_string("Admin"); }
static json_t *v_true(void) { return json_true(); }

START_TEST(test_bad_claims)
{
    static const struct claim_case cases[] = {
        { "exp", NULL, AUTH_TOKEN_CLAIMS },          { "exp", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "exp", v_real, AUTH_TOKEN_CLAIMS },         { "exp", v_neg, AUTH_TOKEN_CLAIMS },
        { "exp", v_true, AUTH_TOKEN_CLAIMS },         { "nbf", NULL, AUTH_TOKEN_CLAIMS },
        { "iat", NULL, AUTH_TOKEN_CLAIMS },           { "iat", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "iss", NULL, AUTH_TOKEN_ISSUER },           { "iss", v_evil, AUTH_TOKEN_ISSUER },
        { "aud", NULL, AUTH_TOKEN_AUDIENCE },         { "aud", v_evil, AUTH_TOKEN_AUDIENCE },
        { "aud", v_aud_arr, AUTH_TOKEN_AUDIENCE },    { "sub", NULL, AUTH_TOKEN_CLAIMS },
        { "sub", v_empty, AUTH_TOKEN_CLAIMS },        { "sub", v_evil, AUTH_TOKEN_CLAIMS },
        { "sub", v_zero_lead, AUTH_TOKEN_CLAIMS },    { "sub", v_sub_neg, AUTH_TOKEN_CLAIMS },
        { "sub", v_sub_int, AUTH_TOKEN_CLAIMS },      { "sub", v_sub_long, AUTH_TOKEN_CLAIMS },
        { "role", NULL, AUTH_TOKEN_CLAIMS },          { "role", v_root, AUTH_TOKEN_CLAIMS },
        { "role", v_admin_case, AUTH_TOKEN_CLAIMS },  { "ep", NULL, AUTH_TOKEN_CLAIMS },
        { "ep", v_neg, AUTH_TOKEN_CLAIMS },           { "ep", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "jti", NULL, AUTH_TOKEN_CLAIMS },           { "jti", v_empty, AUTH_TOKEN_CLAIMS },
        { "exp", v_huge, 0 },   /* far future is only as good as the key; no overflow */
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = claims_ok();
        int rc;

        if (cases[i].value == NULL)
            json_object_del(c, cases[i].name);
        else
            json_object_set_new(c, cases[i].name, cases[i].value());
        rc = verify_es_free(forge(es_header(), c, SIG_OURS, NULL, 0));
        ck_assert_msg(rc == cases[i].expect, "case %zu (%s): got %d, want %d", i, cases[i].name,
                      rc, cases[i].expect);
    }
}
END_TEST

START_TEST(test_payload_not_object)
{
    ck_assert_int_eq(verify_es_free(forge(es_header(), json_pack("[i]", 1), SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_CLAIMS);
}
END_TEST

/* ---- keys ------------------------------------------------------------- */

START_TEST(test_key_file_created_0600_and_reloaded)
{
    struct auth_tokens *again = NULL;
    struct stat st;
    char err[256], dir[160];
    char *tok = NULL;
    struct auth_claims c;

    ck_assert_int_eq(stat(key_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    snprintf(dir, sizeof(dir), "%s/keys", tmpdir);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(auth_tokens_load_es256(&again, &opts, key_path, err, sizeof(err)), 0);
    ck_assert_str_eq(auth_tokens_kid(again), auth_tokens_kid(es));
    /* Tokens survive a restart: the reloaded key verifies the old one's. */
    ck_assert_int_eq(auth_token_issue(es, 5, "user", 0, NOW, &tok), 0);
    ck_assert_int_eq(auth_token_verify(again, tok, NOW, &c), 0);
    free(tok);
    auth_tokens_free(again);
}
END_TEST

START_TEST(test_key_file_mode_refused)
{
    struct auth_tokens *t = NULL;
    char err[256];

    ck_assert_int_eq(chmod(key_path, 0644), 0);
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, key_path, err, sizeof(err)), -1);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err, "0644"));
    ck_assert_int_eq(chmod(key_path, 0640), 0);
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, key_path, err, sizeof(err)), -1);
    ck_assert_int_eq(chmod(key_path, 0400), 0);
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, key_path, err, sizeof(err)), 0);
    auth_tokens_free(t);
    t = NULL;
    /* A key owned by another (non-root) user is refused; only root can
     * hand a file away, so this part runs when the tests run as root. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(key_path, 65534, 65534), 0);
        ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, key_path, err, sizeof(err)), -1);
        ck_assert_ptr_nonnull(strstr(err, "owned by uid 65534"));
        ck_assert_ptr_null(t);
    }
}
END_TEST

START_TEST(test_key_file_garbage_refused)
{
    struct auth_tokens *t = NULL;
    char err[256], path[160];
    FILE *f;

    snprintf(path, sizeof(path), "%s/garbage.pem", tmpdir);
    f = fopen(path, "w");
    fputs("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", f);
    fclose(f);
    chmod(path, 0600);
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, tmpdir, err, sizeof(err)), -1);
    ck_assert_int_eq(auth_tokens_load_es256(&t, &opts, "", err, sizeof(err)), -1);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_jwks_rebuilds_public_key)
{
    char *jwks = auth_tokens_jwks_json(es), *tok = NULL, *dot;
    json_t *doc = json_loads(jwks, 0, NULL);
    json_t *k = json_array_get(json_object_get(doc, "keys"), 0);
    unsigned char pt[65], sig[64], hash[32];
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    const char *x, *y;

    ck_assert_uint_eq(json_array_size(json_object_get(doc, "keys")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(k, "kty")), "EC");
    ck_assert_str_eq(json_string_value(json_object_get(k, "crv")), "P-256");
    ck_assert_str_eq(json_string_value(json_object_get(k, "alg")), "ES256");
    ck_assert_str_eq(json_string_value(json_object_get(k, "use")), "sig");
    ck_assert_str_eq(json_string_value(json_object_get(k, "kid")), auth_tokens_kid(es));
    ck_assert_ptr_null(json_object_get(k, "d"));   /* never the private part */
    x = json_string_value(json_object_get(k, "x"));
    y = json_string_value(json_object_get(k, "y"));
    pt[0] = 0x04;
    ck_assert_int_eq(auth_b64url_decode(pt + 1, 32, x, strlen(x)), 32);
    ck_assert_int_eq(auth_b64url_decode(pt + 33, 32, y, strlen(y)), 32);

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ck_assert_int_eq(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
    ck_assert_int_eq(mbedtls_ecp_point_read_binary(&grp, &q, pt, sizeof(pt)), 0);
    ck_assert_int_eq(mbedtls_ecp_check_pubkey(&grp, &q), 0);
    /* A token issued by us verifies against the JWKS key alone. */
    ck_assert_int_eq(auth_token_issue(es, 9, "user", 0, NOW, &tok), 0);
    dot = strrchr(tok, '.');
    ck_assert_int_eq(auth_b64url_decode(sig, sizeof(sig), dot + 1, strlen(dot + 1)), 64);
    sha256(tok, (size_t)(dot - tok), hash);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&r, sig, 32), 0);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&s, sig + 32, 32), 0);
    ck_assert_int_eq(mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s), 0);
    hash[0] ^= 1;
    ck_assert_int_ne(mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s), 0);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    json_decref(doc);
    free(jwks);
    free(tok);
}
END_TEST

START_TEST(test_kid_is_rfc7638_thumbprint)
{
    char *jwks = auth_tokens_jwks_json(es), canon[256], *kid;
    json_t *doc = json_loads(jwks, 0, NULL);
    json_t *k = json_array_get(json_object_get(doc, "keys"), 0);
    unsigned char hash[32];

    /* RFC 7638 §3.2: the required members in lexicographic order, no spaces. */
    snprintf(canon, sizeof(canon), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             json_string_value(json_object_get(k, "x")),
             json_string_value(json_object_get(k, "y")));
    sha256(canon, strlen(canon), hash);
    kid = b64(hash, 32);
    ck_assert_str_eq(kid, auth_tokens_kid(es));
    free(kid);
    json_decref(doc);
    free(jwks);
}
END_TEST

START_TEST(test_hs256_secret_rules_and_jwks)
{
    struct auth_tokens *t = NULL;
    char err[256], *jwks;
    struct auth_token_opts bad = opts;

    ck_assert_int_eq(auth_tokens_load_hs256(&t, &opts, "0123456789abcdef0123456789abcde", 31,
                                            err, sizeof(err)), -1);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &opts, "", 0, err, sizeof(err)), -1);
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &opts, NULL, 32, err, sizeof(err)), -1);
    bad.issuer = "";
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &bad, SECRET, strlen(SECRET), err,
                                            sizeof(err)), -1);
    jwks = auth_tokens_jwks_json(hs);
    ck_assert_str_eq(jwks, "{\"keys\":[]}");
    ck_assert_str_eq(auth_tokens_kid(hs), "");
    free(jwks);
}
END_TEST

START_TEST(test_strerror)
{
    int rc;

    for (rc = AUTH_TOKEN_INTERNAL; rc <= 0; rc++)
        ck_assert_str_ne(auth_token_strerror(rc), "unknown token error");
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_es256_roundtrip);
    tcase_add_test(tc, test_hs256_roundtrip);
    tcase_add_test(tc, test_header_is_ours);
    tcase_add_test(tc, test_forged_valid_accepted);
    tcase_add_test(tc, test_issue_bad_args);
    tcase_add_test(tc, test_alg_none);
    tcase_add_test(tc, test_alg_confusion_hs256_with_public_key);
    tcase_add_test(tc, test_es256_token_when_hs256_configured);
    tcase_add_test(tc, test_alg_case_and_family);
    tcase_add_test(tc, test_header_forbidden_members);
    tcase_add_test(tc, test_header_typ_and_kid);
    tcase_add_test(tc, test_header_duplicate_alg);
    tcase_add_test(tc, test_other_key_and_tampering);
    tcase_add_test(tc, test_hs256_wrong_secret);
    tcase_add_test(tc, test_malformed_structure);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_time_claims);
    tcase_add_test(tc, test_nbf_and_iat_separately);
    tcase_add_test(tc, test_bad_claims);
    tcase_add_test(tc, test_payload_not_object);
    tcase_add_test(tc, test_key_file_created_0600_and_reloaded);
    tcase_add_test(tc, test_key_file_mode_refused);
    tcase_add_test(tc, test_key_file_garbage_refused);
    tcase_add_test(tc, test_jwks_rebuilds_public_key);
    tcase_add_test(tc, test_kid_is_rfc7638_thumbprint);
    tcase_add_test(tc, test_hs256_secret_rules_and_jwks);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
