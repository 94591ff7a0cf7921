/* e2e_tokens.c: access tokens against the real binary. Attack tokens are
 * forged by hand (support/jwt_forge.h); the ones that must carry a valid
 * signature to reach the claim checks are signed with the server's own
 * ES256 key, from a key file it imported at first start, or with a known HS256 secret.
 * Every forgery has an untouched control that is accepted, so each 401
 * is caused by the one thing the case changes. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "support/api.h"
#include "support/jwt_forge.h"
#include "support/support.h"

#define PW      "token test password"
#define SECRET  "e2e-hs256-secret-0123456789abcdef-0123"
#define SECRET2 "e2e-hs256-secret-from-the-environment!!"

static struct srv g_srv;
static struct api_session g_admin;
static mbedtls_pk_context g_key; /* the server's ES256 private key */
static int g_teardown_failed;

static char g_key_dir[] = "/tmp/pc-tok-XXXXXX";

/* The server signs with a key the test knows: an existing jwt_key_file,
 * which the first start takes into the key set. */
static void shared_setup(void)
{
    char path[400], json[600];
    if (mkdtemp(g_key_dir) == NULL) {
        fprintf(stderr, "e2e_tokens: no temporary directory\n");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/jwt-es256.pem", g_key_dir);
    snprintf(json, sizeof json, "{\"auth\": {\"jwt_key_file\": \"%s\"}}", path);
    if (forge_make_key_file(path) != 0 || api_start(&g_srv, json) != 0) {
        fprintf(stderr, "e2e_tokens: server did not start\n");
        exit(1);
    }
    if (api_make_admin(&g_srv, "boss", "boss password 1", &g_admin) != 0 ||
        forge_load_key(&g_key, path) != 0) {
        fprintf(stderr, "e2e_tokens: no admin or no key at %s\n", path);
        srv_stop(&g_srv, SIGKILL);
        exit(1);
    }
}

static void shared_teardown(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/jwt-es256.pem", g_key_dir);
    unlink(path);
    rmdir(g_key_dir);
    mbedtls_pk_free(&g_key);
    if (srv_stop(&g_srv, SIGTERM) != 0)
        g_teardown_failed = 1;
}

/* How a forged token is signed. */
struct signer {
    enum forge_sig how;
    mbedtls_pk_context *pk;
    const char *key;
    size_t keylen;
};

typedef void (*claims_edit)(json_t *c, json_int_t now);

/* token's header (or hdr when given, stolen) and claims, the claims
 * passed through edit, signed as sg says. */
static char *resign(const char *token, json_t *hdr, claims_edit edit, const struct signer *sg)
{
    json_t *h = hdr ? hdr : forge_token_part(token, 0), *c = forge_token_part(token, 1);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(c);
    if (edit)
        edit(c, (json_int_t)time(NULL));
    char *tok = forge_token(h, c, sg->how, sg->pk, sg->key, sg->keylen);
    ck_assert_ptr_nonnull(tok);
    return tok;
}

/* GET /api/me with tok; the status. A 401 must be invalid_token with the
 * Bearer challenge naming the error. */
static int me_status(const struct srv *s, const char *tok)
{
    struct api_resp r = { 0 };
    char v[256];
    int st = api_json(s, "GET", "/api/me", tok, &r, NULL);
    if (st == 401) {
        ck_assert_str_eq(api_error(&r), "invalid_token");
        ck_assert_int_eq(api_header(&r, "WWW-Authenticate", v, sizeof v), 0);
        ck_assert_ptr_nonnull(strstr(v, "error=\"invalid_token\""));
    }
    api_resp_free(&r);
    return st;
}

static void set_int(json_t *c, const char *k, json_int_t v)
{
    json_object_set_new(c, k, json_integer(v));
}

static void e_expired(json_t *c, json_int_t now)
{
    set_int(c, "iat", now - 4500);
    set_int(c, "nbf", now - 4500);
    set_int(c, "exp", now - 3600);
}
static void e_nbf_future(json_t *c, json_int_t now) { set_int(c, "nbf", now + 3600); }
static void e_iat_future(json_t *c, json_int_t now) { set_int(c, "iat", now + 3600); }
static void e_iss(json_t *c, json_int_t now)
{
    (void)now;
    json_object_set_new(c, "iss", json_string("evil"));
}
static void e_aud(json_t *c, json_int_t now)
{
    (void)now;
    json_object_set_new(c, "aud", json_string("other-api"));
}
static void e_aud_list(json_t *c, json_int_t now)
{
    (void)now;
    json_object_set_new(c, "aud", json_pack("[s,s]", "portcullis-api", "other-api"));
}
static void e_no_exp(json_t *c, json_int_t now)
{
    (void)now;
    json_object_del(c, "exp");
}
static void e_no_user(json_t *c, json_int_t now)
{
    (void)now;
    json_object_set_new(c, "sub", json_string("999999"));
}
static void e_epoch(json_t *c, json_int_t now)
{
    (void)now;
    set_int(c, "ep", json_integer_value(json_object_get(c, "ep")) + 1);
}
static void e_admin(json_t *c, json_int_t now)
{
    (void)now;
    json_object_set_new(c, "role", json_string("admin"));
}

static const struct {
    const char *name;
    claims_edit edit;
} claim_cases[] = {
    { "expired", e_expired },
    { "nbf in the future", e_nbf_future },
    { "iat in the future", e_iat_future },
    { "wrong iss", e_iss },
    { "wrong aud", e_aud },
    { "aud list", e_aud_list },
    { "no exp", e_no_exp },
    { "no such user", e_no_user },
    { "other epoch", e_epoch },
};

/* Each claim case signed by sg is refused; the unedited control is not. */
static void claim_checks(const struct srv *s, const char *token, const struct signer *sg)
{
    char *tok = resign(token, NULL, NULL, sg);
    ck_assert_int_eq(me_status(s, tok), 200);
    free(tok);
    for (size_t i = 0; i < sizeof claim_cases / sizeof claim_cases[0]; i++) {
        tok = resign(token, NULL, claim_cases[i].edit, sg);
        ck_assert_msg(me_status(s, tok) == 401, "%s accepted", claim_cases[i].name);
        free(tok);
    }
}

/* ---- ES256 (the shared server) ----------------------------------------- */

START_TEST(es256_claim_checks)
{
    struct api_session s;
    struct signer sg = { FORGE_ES256, &g_key, NULL, 0 };
    ck_assert_int_eq(api_new_user(&g_srv, "claims.user", PW, &s), 0);
    claim_checks(&g_srv, s.access, &sg);
}
END_TEST

START_TEST(role_claim_is_not_trusted)
{
    struct api_session s;
    struct api_resp r = { 0 };
    struct signer sg = { FORGE_ES256, &g_key, NULL, 0 };
    ck_assert_int_eq(api_new_user(&g_srv, "role.user", PW, &s), 0);
    /* Validly signed and claiming admin: the database's role decides. */
    char *tok = resign(s.access, NULL, e_admin, &sg);
    ck_assert_int_eq(me_status(&g_srv, tok), 200);
    ck_assert_int_eq(api_json(&g_srv, "GET", "/api/admin/users", tok, &r, NULL), 403);
    ck_assert_str_eq(api_error(&r), "forbidden");
    free(tok);
    api_resp_free(&r);
}
END_TEST

START_TEST(forged_tokens_refused)
{
    struct api_session s;
    struct signer none = { FORGE_NONE, NULL, NULL, 0 }, empty = { FORGE_EMPTY, NULL, NULL, 0 };
    struct signer hx = { FORGE_HMAC, NULL, "x", 1 };
    ck_assert_int_eq(api_new_user(&g_srv, "forge.user", PW, &s), 0);
    const char *t = s.access;
    ck_assert_int_eq(me_status(&g_srv, t), 200);
    char *tok[16];
    size_t n = 0;
    tok[n++] = resign(t, json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT"), NULL, &none);
    tok[n++] = resign(t, json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT"), NULL, &empty);
    tok[n++] = resign(t, json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT"), NULL, &hx);
    tok[n++] = resign(t, json_pack("{s:s,s:s}", "alg", "NONE", "typ", "JWT"), NULL, &empty);
    /* Our key, but a header naming another key or a key URL. */
    json_t *h = forge_token_part(t, 0);
    json_object_set_new(h, "kid", json_string("someone-elses-key"));
    struct signer ours = { FORGE_ES256, &g_key, NULL, 0 };
    tok[n++] = resign(t, h, NULL, &ours);
    h = forge_token_part(t, 0);
    json_object_set_new(h, "jku", json_string("https://evil.example/jwks.json"));
    tok[n++] = resign(t, h, NULL, &ours);
    /* Another P-256 key. */
    mbedtls_pk_context other;
    mbedtls_pk_init(&other);
    ck_assert_int_eq(mbedtls_pk_setup(&other, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(other), forge_rng, NULL), 0);
    struct signer theirs = { FORGE_ES256, &other, NULL, 0 };
    tok[n++] = resign(t, NULL, NULL, &theirs);
    mbedtls_pk_free(&other);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(me_status(&g_srv, tok[i]) == 401, "forgery %zu accepted: %s", i, tok[i]);
        free(tok[i]);
    }
    ck_assert_int_eq(me_status(&g_srv, t), 200);
}
END_TEST

START_TEST(edited_and_broken_tokens_refused)
{
    struct api_session s;
    ck_assert_int_eq(api_new_user(&g_srv, "broken.user", PW, &s), 0);
    const char *t = s.access;
    ck_assert_int_eq(me_status(&g_srv, t), 200); /* a verdict the server may remember */
    /* Payload changed (role admin, signature kept), signature changed,
     * truncations, garbage, oversize. */
    char buf[API_TOKEN_MAX + 1024];
    const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    json_t *c = forge_token_part(t, 1);
    json_object_set_new(c, "role", json_string("admin"));
    char *p = forge_b64url_json(c);
    json_decref(c);
    snprintf(buf, sizeof buf, "%.*s.%s%s", (int)(d1 - t), t, p, d2);
    free(p);
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    snprintf(buf, sizeof buf, "%s", t);
    size_t mid = (size_t)(d2 - t) + 20;
    buf[mid] = buf[mid] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(t) / 2, t);
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(t) - 2, t);
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    snprintf(buf, sizeof buf, "%.*s", (int)(d2 - t), t); /* "h.p" */
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    static const char *const junk[] = { "garbage", "a.b.c", "...", "eyJ.eyJ.eyJ", "\"x\"" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        ck_assert_int_eq(me_status(&g_srv, junk[i]), 401);
    memset(buf, 'A', 5000);
    buf[5000] = '\0';
    buf[100] = buf[200] = '.';
    ck_assert_int_eq(me_status(&g_srv, buf), 401);
    /* The original still works: every refusal above came from its change. */
    ck_assert_int_eq(me_status(&g_srv, t), 200);
}
END_TEST

/* The JWKS key, as a PEM: the exact bytes a naive verifier (libjwt
 * following the header's alg) would take as the HMAC key. */
static char *jwks_pem(struct api_resp *r)
{
    ck_assert_int_eq(api_json(&g_srv, "GET", "/.well-known/jwks.json", NULL, r, NULL), 200);
    json_t *k = json_array_get(json_object_get(r->json, "keys"), 0);
    char *pem = forge_pem_from_xy(json_string_value(json_object_get(k, "x")),
                                  json_string_value(json_object_get(k, "y")));
    ck_assert_ptr_nonnull(pem);
    return pem;
}

START_TEST(jwks_public_and_matches_signing_key)
{
    struct api_resp r = { 0 };
    struct api_session s;
    unsigned char ours[512];
    char v[128];
    ck_assert_int_eq(api_new_user(&g_srv, "jwks.user", PW, &s), 0);
    char *pem = jwks_pem(&r);
    ck_assert_int_eq(api_header(&r, "Cache-Control", v, sizeof v), 0);
    ck_assert_str_eq(v, "public, max-age=300");
    json_t *keys = json_object_get(r.json, "keys"), *k = json_array_get(keys, 0);
    ck_assert_uint_eq(json_array_size(keys), 1);
    ck_assert_str_eq(json_string_value(json_object_get(k, "kty")), "EC");
    ck_assert_str_eq(json_string_value(json_object_get(k, "crv")), "P-256");
    ck_assert_str_eq(json_string_value(json_object_get(k, "alg")), "ES256");
    ck_assert_str_eq(json_string_value(json_object_get(k, "use")), "sig");
    ck_assert_ptr_null(json_object_get(k, "d"));
    json_t *h = forge_token_part(s.access, 0);
    ck_assert(json_equal(json_object_get(h, "kid"), json_object_get(k, "kid")));
    json_decref(h);
    /* The published key is the public half of the key that signs. */
    ck_assert_int_eq(mbedtls_pk_write_pubkey_pem(&g_key, ours, sizeof ours), 0);
    ck_assert_str_eq(pem, (const char *)ours);
    free(pem);
    api_resp_free(&r);
}
END_TEST

START_TEST(alg_confusion_hs256_with_public_key)
{
    struct api_resp r = { 0 };
    struct api_session s;
    ck_assert_int_eq(api_new_user(&g_srv, "confused.user", PW, &s), 0);
    char *pem = jwks_pem(&r);
    json_t *kid = json_incref(
        json_object_get(json_array_get(json_object_get(r.json, "keys"), 0), "kid"));
    /* libjwt keys: the PEM without its NUL (what the server loads), and
     * with it; with the server's kid and without any. */
    for (int with_nul = 0; with_nul < 2; with_nul++) {
        struct signer sg = { FORGE_HMAC, NULL, pem, strlen(pem) + (size_t)with_nul };
        char *a = resign(s.access,
                         json_pack("{s:s,s:s,s:O}", "alg", "HS256", "typ", "JWT", "kid", kid), NULL,
                         &sg);
        char *b = resign(s.access, json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), NULL, &sg);
        ck_assert_int_eq(me_status(&g_srv, a), 401);
        ck_assert_int_eq(me_status(&g_srv, b), 401);
        free(a);
        free(b);
    }
    json_decref(kid);
    free(pem);
    api_resp_free(&r);
}
END_TEST

START_TEST(tokens_of_deleted_and_disabled_users)
{
    struct api_resp r = { 0 };
    struct api_session gone, off;
    char path[64];
    ck_assert_int_eq(api_new_user(&g_srv, "gone.user", PW, &gone), 0);
    ck_assert_int_eq(api_new_user(&g_srv, "off.user", PW, &off), 0);
    ck_assert_int_eq(me_status(&g_srv, gone.access), 200);
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)gone.id);
    ck_assert_int_eq(api_json(&g_srv, "DELETE", path, g_admin.access, &r, NULL), 204);
    ck_assert_int_eq(me_status(&g_srv, gone.access), 401);
    ck_assert_int_eq(api_json(&g_srv, "POST", "/api/token/refresh", NULL, &r, "{s:s}",
                              "refresh_token", gone.refresh),
                     401);
    /* Even re-signed with the server's key: the account is gone. */
    struct signer sg = { FORGE_ES256, &g_key, NULL, 0 };
    char *tok = resign(gone.access, NULL, NULL, &sg);
    ck_assert_int_eq(me_status(&g_srv, tok), 401);
    free(tok);
    snprintf(path, sizeof path, "/api/admin/users/%lld", (long long)off.id);
    ck_assert_int_eq(api_json(&g_srv, "PATCH", path, g_admin.access, &r, "{s:b}", "disabled", 1),
                     200);
    ck_assert_int_eq(me_status(&g_srv, off.access), 401);
    tok = resign(off.access, NULL, e_epoch, &sg); /* the epoch the disable moved to */
    ck_assert_int_eq(me_status(&g_srv, tok), 401);
    free(tok);
    /* Re-enabled: the old token stays dead, a new login works. */
    ck_assert_int_eq(api_json(&g_srv, "PATCH", path, g_admin.access, &r, "{s:b}", "disabled", 0),
                     200);
    ck_assert_int_eq(me_status(&g_srv, off.access), 401);
    ck_assert_int_eq(api_login(&g_srv, "off.user", PW, &off), 200);
    ck_assert_int_eq(me_status(&g_srv, off.access), 200);
    api_resp_free(&r);
}
END_TEST

/* ---- HS256 servers --------------------------------------------------- */

static void hs256_server_checks(const struct srv *s, const char *secret, const char *wrong)
{
    struct api_resp r = { 0 };
    struct api_session u;
    ck_assert_int_eq(api_new_user(s, "hs.user", PW, &u), 0);
    json_t *h = forge_token_part(u.access, 0);
    ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "HS256");
    ck_assert_ptr_null(json_object_get(h, "kid"));
    json_decref(h);
    ck_assert_int_eq(api_json(s, "GET", "/.well-known/jwks.json", NULL, &r, NULL), 200);
    ck_assert_str_eq(r.http.body, "{\"keys\":[]}");
    struct signer sg = { FORGE_HMAC, NULL, secret, strlen(secret) };
    claim_checks(s, u.access, &sg);
    struct signer bad = { FORGE_HMAC, NULL, wrong, strlen(wrong) };
    char *tok = resign(u.access, NULL, NULL, &bad);
    ck_assert_int_eq(me_status(s, tok), 401);
    free(tok);
    struct signer none = { FORGE_EMPTY, NULL, NULL, 0 };
    tok = resign(u.access, json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT"), NULL, &none);
    ck_assert_int_eq(me_status(s, tok), 401);
    free(tok);
    /* An ES256 token (valid for the ES256 server's key) means nothing here. */
    struct signer es = { FORGE_ES256, &g_key, NULL, 0 };
    tok = resign(u.access, json_pack("{s:s,s:s}", "alg", "ES256", "typ", "JWT"), NULL, &es);
    ck_assert_int_eq(me_status(s, tok), 401);
    free(tok);
    api_resp_free(&r);
}

START_TEST(hs256_server_from_config)
{
    struct srv s;
    ck_assert_int_eq(
        api_start(&s, "{\"auth\": {\"jwt_alg\": \"HS256\", \"jwt_secret\": \"" SECRET "\"}}"), 0);
    hs256_server_checks(&s, SECRET, SECRET2);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(hs256_secret_from_environment_wins)
{
    struct srv s;
    setenv("PORTCULLIS_JWT_SECRET", SECRET2, 1);
    int rc = api_start(&s, "{\"auth\": {\"jwt_alg\": \"HS256\", \"jwt_secret\": \"" SECRET "\"}}");
    unsetenv("PORTCULLIS_JWT_SECRET");
    ck_assert_int_eq(rc, 0);
    hs256_server_checks(&s, SECRET2, SECRET);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *tokens_suite(void)
{
    Suite *s = suite_create("e2e_tokens");
    TCase *tc = tcase_create("shared");
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, es256_claim_checks);
    tcase_add_test(tc, role_claim_is_not_trusted);
    tcase_add_test(tc, forged_tokens_refused);
    tcase_add_test(tc, edited_and_broken_tokens_refused);
    tcase_add_test(tc, jwks_public_and_matches_signing_key);
    tcase_add_test(tc, alg_confusion_hs256_with_public_key);
    tcase_add_test(tc, tokens_of_deleted_and_disabled_users);
    /* Uses g_key for a cross-algorithm forgery: same fixture. */
    tcase_add_test(tc, hs256_server_from_config);
    tcase_add_test(tc, hs256_secret_from_environment_wins);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tokens_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (g_teardown_failed)
        fprintf(stderr, "e2e_tokens: the server did not exit cleanly (see its log above)\n");
    return failed == 0 && !g_teardown_failed ? 0 : 1;
}
