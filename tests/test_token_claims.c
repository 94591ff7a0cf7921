/* test_token_claims.c: the claims checks of auth_token_verify (times,
 * iss/aud/sub/role/ep types and values), the ES256 key file, the JWKS and
 * the HS256 secret rules. Forging helpers: support/token_fixture.h. */
#include "support/token_fixture.h"

/* ---- claims ----------------------------------------------------------- */

START_TEST(test_time_claims)
{
    /* expired: beyond the leeway refused, within it accepted */
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL - 100, NOW - LEEWAY - 1),
                                          SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_EXPIRED);
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL - 100, NOW - LEEWAY),
                                          SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_EXPIRED);
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW - TTL, NOW - LEEWAY + 1),
                                          SIG_OURS, NULL, 0)),
                     0);
    /* issued in the future: beyond the leeway refused, within accepted */
    ck_assert_int_eq(verify_es_free(forge(es_header(), claims_at(NOW + LEEWAY + 1, NOW + TTL),
                                          SIG_OURS, NULL, 0)),
                     AUTH_TOKEN_NOT_YET_VALID);
    ck_assert_int_eq(
        verify_es_free(forge(es_header(), claims_at(NOW + LEEWAY, NOW + TTL), SIG_OURS, NULL, 0)),
        0);
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
    json_t *(*value)(void); /* NULL = remove the claim */
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
        { "exp", NULL, AUTH_TOKEN_CLAIMS },
        { "exp", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "exp", v_real, AUTH_TOKEN_CLAIMS },
        { "exp", v_neg, AUTH_TOKEN_CLAIMS },
        { "exp", v_true, AUTH_TOKEN_CLAIMS },
        { "nbf", NULL, AUTH_TOKEN_CLAIMS },
        { "iat", NULL, AUTH_TOKEN_CLAIMS },
        { "iat", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "iss", NULL, AUTH_TOKEN_ISSUER },
        { "iss", v_evil, AUTH_TOKEN_ISSUER },
        { "aud", NULL, AUTH_TOKEN_AUDIENCE },
        { "aud", v_evil, AUTH_TOKEN_AUDIENCE },
        { "aud", v_aud_arr, AUTH_TOKEN_AUDIENCE },
        { "sub", NULL, AUTH_TOKEN_CLAIMS },
        { "sub", v_empty, AUTH_TOKEN_CLAIMS },
        { "sub", v_evil, AUTH_TOKEN_CLAIMS },
        { "sub", v_zero_lead, AUTH_TOKEN_CLAIMS },
        { "sub", v_sub_neg, AUTH_TOKEN_CLAIMS },
        { "sub", v_sub_int, AUTH_TOKEN_CLAIMS },
        { "sub", v_sub_long, AUTH_TOKEN_CLAIMS },
        { "role", NULL, AUTH_TOKEN_CLAIMS },
        { "role", v_root, AUTH_TOKEN_CLAIMS },
        { "role", v_admin_case, AUTH_TOKEN_CLAIMS },
        { "ep", NULL, AUTH_TOKEN_CLAIMS },
        { "ep", v_neg, AUTH_TOKEN_CLAIMS },
        { "ep", v_str_exp, AUTH_TOKEN_CLAIMS },
        { "jti", NULL, AUTH_TOKEN_CLAIMS },
        { "jti", v_empty, AUTH_TOKEN_CLAIMS },
        { "exp", v_huge, 0 }, /* far future is only as good as the key; no overflow */
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
        ck_assert_msg(rc == cases[i].expect, "case %zu (%s): got %d, want %d", i, cases[i].name, rc,
                      cases[i].expect);
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
    char *jwks = auth_tokens_jwks_json(es, 0), *tok = NULL, *dot;
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
    ck_assert_ptr_null(json_object_get(k, "d")); /* never the private part */
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
    char *jwks = auth_tokens_jwks_json(es, 0), canon[256], *kid;
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

    ck_assert_int_eq(
        auth_tokens_load_hs256(&t, &opts, "0123456789abcdef0123456789abcde", 31, err, sizeof(err)),
        -1);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &opts, "", 0, err, sizeof(err)), -1);
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &opts, NULL, 32, err, sizeof(err)), -1);
    bad.issuer = "";
    ck_assert_int_eq(auth_tokens_load_hs256(&t, &bad, SECRET, strlen(SECRET), err, sizeof(err)),
                     -1);
    jwks = auth_tokens_jwks_json(hs, 0);
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

static Suite *token_claims_suite(void)
{
    Suite *s = suite_create("token_claims");
    TCase *tc = tcase_create("token_claims");

    tcase_add_checked_fixture(tc, setup, teardown);
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
    SRunner *sr = srunner_create(token_claims_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
