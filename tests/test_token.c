/* test_token.c: JWT issue/verify and every attack token of
 * docs/ARCHITECTURE.md (Auth model, "Access tokens") on the header, signature and structure, each
 * forged by hand (jansson + mbedTLS). Claims and keys: test_token_claims.c. */
#include "support/token_fixture.h"

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
    ck_assert_int_eq(c.user_id, 0); /* zeroed on failure */
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

/* The session claim: carried when issued for a session, absent (0)
 * otherwise; a negative sid is refused at issue. */
START_TEST(test_session_claim)
{
    struct auth_claims c;
    char *tok = NULL;

    ck_assert_int_eq(auth_token_issue_sid(es, 42, "user", 3, 9001, NOW, &tok), 0);
    ck_assert_int_eq(auth_token_verify(es, tok, NOW, &c), 0);
    ck_assert_int_eq(c.sid, 9001);
    ck_assert_int_eq(c.epoch, 3);
    free(tok);
    ck_assert_int_eq(auth_token_issue(es, 42, "user", 3, NOW, &tok), 0);
    ck_assert_int_eq(auth_token_verify(es, tok, NOW, &c), 0);
    ck_assert_int_eq(c.sid, 0);
    free(tok);
    ck_assert_int_eq(auth_token_issue_sid(es, 42, "user", 3, -1, NOW, &tok), AUTH_TOKEN_CLAIMS);
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

    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED); /* "h.p" */
    free(tok);
    tok = forge(json_incref(h), claims_ok(), SIG_EMPTY, NULL, 0); /* "h.p." */
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_MALFORMED);
    /* What the guards prevent: libjwt without a key accepts it. */
    ck_assert_int_eq(jwt_decode(&j, tok, NULL, 0), 0);
    jwt_free(j);
    free(tok);
    tok = forge(json_incref(h), claims_ok(), SIG_HMAC, "x", 1); /* "h.p.sig" */
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
    json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "HS256", "typ", "JWT", "kid",
                          auth_tokens_kid(es));
    jwt_t *j = NULL;

    tok = forge(h, claims_ok(), SIG_HMAC, pem, strlen(pem));
    /* The attack is real: given the verification key ES256 uses, libjwt
     * alone follows the header's alg and accepts the HMAC. */
    ck_assert_int_eq(jwt_decode(&j, tok, (const unsigned char *)pem, (int)strlen(pem)), 0);
    jwt_free(j);
    ck_assert_int_eq(verify_es(tok), AUTH_TOKEN_ALG);
    free(tok);
    /* Same with the PEM's terminating NUL counted, and without kid. */
    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC, pem,
                strlen(pem) + 1);
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
    tok = forge(json_pack("{s:s,s:s}", "alg", "ES256", "typ", "JWT"), claims_ok(), SIG_OURS, NULL,
                0);
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), AUTH_TOKEN_ALG);
    free(tok);
}
END_TEST

START_TEST(test_alg_case_and_family)
{
    static const char *const algs[] = { "es256", "Es256", "ES384",  "ES512",
                                        "RS256", "HS512", "ES256 ", "" };
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        json_t *h = json_pack("{s:s,s:s,s:s}", "alg", algs[i], "typ", "JWT", "kid",
                              auth_tokens_kid(es));
        ck_assert_msg(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)) == AUTH_TOKEN_ALG,
                      "alg '%s' accepted", algs[i]);
    }
    /* alg missing or not a string */
    ck_assert_int_eq(
        verify_es_free(forge(json_pack("{s:s,s:s}", "typ", "JWT", "kid", auth_tokens_kid(es)),
                             claims_ok(), SIG_OURS, NULL, 0)),
        AUTH_TOKEN_ALG);
    ck_assert_int_eq(verify_es_free(forge(json_pack("{s:i,s:s,s:s}", "alg", 7, "typ", "JWT", "kid",
                                                    auth_tokens_kid(es)),
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
                          AUTH_TOKEN_MALFORMED,
                      "header member %s accepted", names[i]);
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
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_MALFORMED);
    h = es_header();
    json_object_del(h, "typ");
    ck_assert_int_eq(verify_es_free(forge(h, claims_ok(), SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_MALFORMED);
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

    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC, wrong,
                strlen(wrong));
    ck_assert_int_eq(auth_token_verify(hs, tok, NOW, &c), AUTH_TOKEN_SIGNATURE);
    free(tok);
    tok = forge(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"), claims_ok(), SIG_HMAC, SECRET,
                strlen(SECRET));
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
    static const struct {
        const char *tpl;
        int expect;
    } cases[] = {
        { "", AUTH_TOKEN_MALFORMED },        { ".", AUTH_TOKEN_MALFORMED },
        { "..", AUTH_TOKEN_MALFORMED },      { "...", AUTH_TOKEN_MALFORMED },
        { "H", AUTH_TOKEN_MALFORMED },       { "H.P", AUTH_TOKEN_MALFORMED },
        { "H.P.S.S", AUTH_TOKEN_MALFORMED }, { "H.P.S.", AUTH_TOKEN_MALFORMED },
        { ".P.S", AUTH_TOKEN_MALFORMED },    { "H..S", AUTH_TOKEN_MALFORMED },
        { "H.P.", AUTH_TOKEN_MALFORMED },    { "H.P.S ", AUTH_TOKEN_MALFORMED },
        { " H.P.S", AUTH_TOKEN_MALFORMED },  { "H.P.S\n", AUTH_TOKEN_MALFORMED },
        { "H.P+.S", AUTH_TOKEN_MALFORMED },  { "H.P/.S", AUTH_TOKEN_MALFORMED },
        { "H.P.S=", AUTH_TOKEN_MALFORMED },  { "H=.P.S", AUTH_TOKEN_MALFORMED },
        { "H.P.S%", AUTH_TOKEN_MALFORMED },  { "H.P.\x01S", AUTH_TOKEN_MALFORMED },
        { "H\t.P.S", AUTH_TOKEN_MALFORMED }, { "H.P.S.S.S", AUTH_TOKEN_MALFORMED },
        { "H.P..S", AUTH_TOKEN_MALFORMED },  { "HS.P.S", AUTH_TOKEN_MALFORMED },
        { "P.P.S", AUTH_TOKEN_MALFORMED },                   /* claims object as header */
        { "H.HP.S", AUTH_TOKEN_SIGNATURE },                  /* well-formed, wrong payload */
        { "H.P.P", AUTH_TOKEN_SIGNATURE },   { "H.P.S", 0 }, /* the untouched token */
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
        ck_assert_msg(rc == cases[i].expect, "case %zu '%s': got %d, want %d", i, cases[i].tpl, rc,
                      cases[i].expect);
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

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_es256_roundtrip);
    tcase_add_test(tc, test_hs256_roundtrip);
    tcase_add_test(tc, test_header_is_ours);
    tcase_add_test(tc, test_session_claim);
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
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
