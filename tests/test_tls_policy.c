/* test_tls_policy.c: what the server negotiates. TLS 1.3 by default: its
 * three AEAD suites (the client's order decides), groups (the client's key
 * share decides; the server's order only for a HelloRetryRequest), ticket
 * resumption with a fresh key share only (psk_ke alone is refused). TLS 1.2
 * still: exactly the six ECDHE AEAD suites, the server's group order, ALPN,
 * secure-renegotiation signalling, SHA-2 signatures. (TLS 1.0/1.1: mbedTLS
 * 3.6 cannot even offer them; script_tls_clients.sh has openssl try.) */
#include "support/tls_fixture.h"

/* ---- negotiation ------------------------------------------------------- */

static const int six_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

static const int tls13_suites[] = {
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
};

static int is_allowed_suite(const char *name)
{
    for (size_t i = 0; i < sizeof six_suites / sizeof six_suites[0]; i++)
        if (strcmp(name, mbedtls_ssl_get_ciphersuite_name(six_suites[i])) == 0)
            return 1;
    return 0;
}

START_TEST(tls12_handshake_policy)
{
    const char *alpn[] = { "h2", "http/1.1", NULL };
    struct tc_opts o = { .max_version = TC_TLS1_2, .alpn = alpn };
    struct tls_server *srv = server_new(1);
    struct side sd;
    struct tc_conn c;

    side_open(&sd, srv);
    tls_server_release(srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_str_eq(tls_conn_version(sd.conn), "TLSv1.2");
    ck_assert_msg(is_allowed_suite(tls_conn_ciphersuite(sd.conn)), "suite %s",
                  tls_conn_ciphersuite(sd.conn));
    ck_assert_str_eq(tls_conn_ciphersuite(sd.conn), tc_ciphersuite(&c));
    ck_assert_ptr_nonnull(tls_conn_alpn(sd.conn));
    ck_assert_str_eq(tls_conn_alpn(sd.conn), "http/1.1");
    ck_assert_str_eq(tc_alpn(&c), "http/1.1");
    ck_assert_int_eq(tls_conn_resumed(sd.conn), 0);
    ck_assert_str_eq(tls_conn_last_error(sd.conn), "");
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(no_alpn_offered)
{
    struct tc_opts o = { .max_version = TC_TLS1_2 };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_ptr_null(tls_conn_alpn(sd.conn));
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* A default client (TLS 1.2 and 1.3, its own suite and group lists). */
START_TEST(tls13_by_default)
{
    const char *alpn[] = { "http/1.1", NULL };
    struct tc_opts o = { .alpn = alpn };
    struct side sd;
    struct tc_conn c;
    int hrr;

    side_open(&sd, server_new(1));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_str_eq(tls_conn_version(sd.conn), "TLSv1.3");
    ck_assert_str_eq(tc_version(&c), "TLSv1.3");
    ck_assert_msg(strncmp(tls_conn_ciphersuite(sd.conn), "TLS1-3-", 7) == 0, "%s",
                  tls_conn_ciphersuite(sd.conn));
    ck_assert_str_eq(tls_conn_alpn(sd.conn), "http/1.1");
    ck_assert_int_eq(tls_conn_resumed(sd.conn), 0);
    ck_assert_int_ge(sh_key_share(&sd.wire, &hrr), 0);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* Each TLS 1.3 suite offered alone is accepted. */
START_TEST(tls13_suite_accepted)
{
    const int suites[] = { tls13_suites[_i], 0 };
    struct tc_opts o = { .min_version = TC_TLS1_3, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_str_eq(tls_conn_ciphersuite(sd.conn), mbedtls_ssl_get_ciphersuite_name(suites[0]));
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* In TLS 1.3 the client's order decides: its first suite wins, whatever
 * the server's order (AES-128-GCM first). */
START_TEST(tls13_client_order_decides)
{
    const int suites[] = { _i ? MBEDTLS_TLS1_3_AES_256_GCM_SHA384
                              : MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
                           MBEDTLS_TLS1_3_AES_128_GCM_SHA256, 0 };
    struct tc_opts o = { .min_version = TC_TLS1_3, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_str_eq(tls_conn_ciphersuite(sd.conn), mbedtls_ssl_get_ciphersuite_name(suites[0]));
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* The CCM suites mbedTLS 3.6 also implements are not offered. */
START_TEST(tls13_ccm_refused)
{
    const int suites[] = { _i ? MBEDTLS_TLS1_3_AES_128_CCM_8_SHA256
                              : MBEDTLS_TLS1_3_AES_128_CCM_SHA256,
                           0 };
    struct tc_opts o = { .min_version = TC_TLS1_3, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* TLS 1.3 groups: the client sends one key share, for its first group. The
 * server takes it if the group is one of its three, else asks (one
 * HelloRetryRequest) for the client's first supported group among its
 * three, else refuses: the client decides, the server's list filters. */
static const struct {
    const char *groups[4];
    int group, hrr; /* group -1: refused */
} tls13_group_cases[] = {
    { { "x25519", "secp256r1", NULL }, 0x001d, 0 },
    { { "secp256r1", "x25519", NULL }, 0x0017, 0 },
    { { "secp384r1", "secp256r1", NULL }, 0x0018, 0 },
    { { "secp521r1", "x25519", "secp256r1", NULL }, 0x001d, 1 },
    { { "secp521r1", "secp384r1", "secp256r1", NULL }, 0x0018, 1 },
    { { "secp521r1", "x25519", NULL }, 0x001d, 1 },
    { { "secp521r1", NULL }, -1, 0 },
};

START_TEST(tls13_groups)
{
    struct tc_opts o = { .min_version = TC_TLS1_3, .groups = tls13_group_cases[_i].groups };
    struct side sd;
    struct tc_conn c;
    int hrr;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    if (tls13_group_cases[_i].group < 0) {
        handshake_refused(&sd, &c);
    } else {
        handshake_ok(&sd, &c);
        ck_assert_int_eq(sh_key_share(&sd.wire, &hrr), tls13_group_cases[_i].group);
        ck_assert_int_eq(hrr, tls13_group_cases[_i].hrr);
    }
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* One TLS 1.3 connection to srv: full, or offering `offer`; saves the
 * session (with the ticket) when `save` is given. Returns the group of the
 * ServerHello's key share (-1 for none) and whether the server resumed. */
static int tls13_connect(struct tls_server *srv, int kex_modes, const struct tc_session *offer,
                         struct tc_session *save, int *resumed)
{
    struct tc_opts o = { .min_version = TC_TLS1_3, .session = offer, .tls13_kex_modes = kex_modes };
    struct side sd;
    struct tc_conn c;
    unsigned char b;
    int hrr, group;

    side_open(&sd, srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    group = sh_key_share(&sd.wire, &hrr);
    *resumed = tls_conn_resumed(sd.conn);
    /* The ticket came with the server's last flight; one byte of data after
     * it makes the client's read take the ticket in. */
    ck_assert_int_eq(tls_conn_write(sd.conn, "x", 1), 1);
    ck_assert_int_eq(tc_read(&c, &b, 1, 2000), 1);
    if (save != NULL)
        ck_assert_msg(tc_get_session(&c, save) == 0, "%s", tc_error(&c));
    tc_close(&c);
    side_close(&sd);
    return group;
}

/* Resumption by ticket keeps forward secrecy: a fresh key share
 * (psk_dhe_ke) in the resumed ServerHello. */
START_TEST(tls13_resumption_with_key_share)
{
    struct tls_server *srv = server_new(1);
    struct tc_session s = { 0 };
    int resumed;

    ck_assert_int_ge(tls13_connect(srv, 0, NULL, &s, &resumed), 0);
    ck_assert_int_eq(resumed, 0);
    ck_assert_int_ge(tls13_connect(srv, 0, &s, NULL, &resumed), 0);
    ck_assert_int_eq(resumed, 1);
    tc_session_free(&s);
    tls_server_release(srv);
}
END_TEST

/* A client that allows psk_ke (resumption without a key share) alongside
 * psk_dhe_ke still gets a key share; one that allows psk_ke only is not
 * resumed without one: the server refuses the handshake. */
START_TEST(tls13_psk_only_refused)
{
    struct tls_server *srv = server_new(1);
    struct tc_session s = { 0 };
    struct tc_opts o = { .min_version = TC_TLS1_3,
                         .tls13_kex_modes = MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK };
    struct side sd;
    struct tc_conn c;
    int resumed;

    tls13_connect(srv, 0, NULL, &s, &resumed);
    ck_assert_int_ge(
        tls13_connect(srv, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ALL, &s, NULL, &resumed), 0);
    ck_assert_int_eq(resumed, 1);
    o.session = &s;
    side_open(&sd, srv);
    client_attach(&c, sd.cfd, &o);
    handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
    tc_session_free(&s);
    tls_server_release(srv);
}
END_TEST

/* Each of the six TLS 1.2 suites offered alone is accepted, and only them
 * (suite_refused below). */
START_TEST(tls12_suite_accepted)
{
    const int suites[] = { six_suites[_i], 0 };
    struct tc_opts o = { .max_version = TC_TLS1_2, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    if (strstr(mbedtls_ssl_get_ciphersuite_name(suites[0]), "-RSA-") != NULL) {
        handshake_refused(&sd, &c); /* allowed, but the certificate is ECDSA */
    } else {
        handshake_ok(&sd, &c);
        ck_assert_str_eq(tls_conn_ciphersuite(sd.conn),
                         mbedtls_ssl_get_ciphersuite_name(suites[0]));
    }
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* Each offered alone: none is among the six. */
static const int refused_suites[] = {
    MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256,         /* no forward secrecy */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, /* CBC */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,    /* CBC, SHA-1 */
    MBEDTLS_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256,  /* static ECDH */
    MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,     /* finite-field DHE */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM,        /* not in the list */
};

START_TEST(suite_refused)
{
    const int suites[] = { refused_suites[_i], 0 };
    struct tc_opts o = { .max_version = TC_TLS1_2, .ciphersuites = suites };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* A client must also list the certificate's curve (P-256) for the ECDSA
 * certificate to be usable, so the accepted cases include it; the refused
 * ones offer nothing the server's ECDHE list contains. */
static const struct {
    const char *groups[3];
    int ok;
} curve_cases[] = {
    { { "secp256r1", NULL }, 1 },
    { { "x25519", "secp256r1", NULL }, 1 },
    { { "secp384r1", "secp256r1", NULL }, 1 },
    { { "secp521r1", NULL }, 0 },
    { { "secp224r1", NULL }, 0 },
    { { "brainpoolP256r1", NULL }, 0 },
};

START_TEST(curve_policy)
{
    struct tc_opts o = { .max_version = TC_TLS1_2, .groups = curve_cases[_i].groups };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    if (curve_cases[_i].ok)
        handshake_ok(&sd, &c);
    else
        handshake_refused(&sd, &c);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* TLS 1.2, offered in the client's order of preference: the server's own
 * order decides (P-256 first: policy.c says why), and P-521 (Debian's
 * default first choice) is not in it. (The client must list P-256 anyway,
 * for the certificate.) */
static void expect_group(const char **groups, int iana)
{
    struct tc_opts o = { .max_version = TC_TLS1_2, .groups = groups };
    struct side sd;
    struct tc_conn c;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(ske_curve(&sd.wire), iana);
    tc_close(&c);
    side_close(&sd);
}

START_TEST(tls12_server_prefers_p256)
{
    const char *groups[] = { "secp521r1", "x25519", "secp384r1", "secp256r1", NULL };
    expect_group(groups, 0x0017); /* secp256r1 */
}
END_TEST

/* A minimal TLS 1.2 ClientHello (ECDHE-ECDSA-AES128-GCM-SHA256, P-256, one
 * signature algorithm), with or without the RFC 5746 signalling suite.
 * mbedTLS clients always send it, so the hello is built by hand. */
static void put(unsigned char *b, size_t *n, const void *p, size_t len)
{
    memcpy(b + *n, p, len);
    *n += len;
}

static size_t client_hello(unsigned char *b, int scsv, unsigned sigalg)
{
    static const unsigned char head[] = { 0x16, 0x03, 0x01, 0, 0, /* record, length */
                                          0x01, 0,    0,    0,    /* ClientHello, length */
                                          0x03, 0x03 };           /* TLS 1.2 */
    static const unsigned char suites[] = { 0x00, 0x04, 0xc0, 0x2b, 0x00, 0xff };
    static const unsigned char tail[] = {
        0x01, 0x00,                                     /* null compression */
        0x00, 0x16,                                     /* extensions length */
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, /* supported_groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* ec_point_formats */
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* signature_algorithms */
    };
    unsigned char random_and_sid[33] = { 0 }; /* + empty session id */
    size_t n = 0;

    put(b, &n, head, sizeof head);
    put(b, &n, random_and_sid, sizeof random_and_sid);
    put(b, &n, suites, scsv ? 6 : 4);
    if (!scsv)
        b[n - 3] = 0x02; /* one suite only */
    put(b, &n, tail, sizeof tail);
    b[n - 2] = (unsigned char)(sigalg >> 8);
    b[n - 1] = (unsigned char)sigalg;
    b[3] = (unsigned char)((n - 5) >> 8);
    b[4] = (unsigned char)(n - 5);
    b[7] = (unsigned char)((n - 9) >> 8);
    b[8] = (unsigned char)(n - 9);
    return n;
}

START_TEST(renegotiation_info_required)
{
    unsigned char hello[128];
    size_t n = client_hello(hello, _i, 0x0403); /* ecdsa_secp256r1_sha256 */
    struct side sd;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, hello, n), (ssize_t)n);
    r = tls_conn_handshake(sd.conn);
    if (_i) { /* signalled: the server answers and waits for the client */
        ck_assert_msg(r == TLS_WANT_READ, "%d: %s", r, tls_conn_last_error(sd.conn));
        ck_assert_int_eq(ske_curve(&sd.wire), 0x0017);
    } else { /* legacy peer: refused */
        ck_assert_int_eq(r, TLS_ERROR);
    }
    side_close(&sd);
}
END_TEST

static const struct {
    unsigned sigalg;
    int ok;
} sigalg_cases[] = {
    { 0x0403, 1 }, { 0x0503, 1 }, { 0x0603, 1 }, /* ECDSA with SHA-256/384/512 */
    { 0x0303, 0 }, { 0x0203, 0 },                /* SHA-224, SHA-1 */
};

START_TEST(sha2_signatures_only)
{
    unsigned char hello[128];
    size_t n = client_hello(hello, 1, sigalg_cases[_i].sigalg);
    struct side sd;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, hello, n), (ssize_t)n);
    r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, sigalg_cases[_i].ok ? TLS_WANT_READ : TLS_ERROR);
    side_close(&sd);
}
END_TEST

static Suite *tls_policy_suite(void)
{
    Suite *s = suite_create("tls_policy");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, tls12_handshake_policy);
    tcase_add_test(tc, no_alpn_offered);
    tcase_add_test(tc, tls13_by_default);
    tcase_add_loop_test(tc, tls13_suite_accepted, 0, 3);
    tcase_add_loop_test(tc, tls13_client_order_decides, 0, 2);
    tcase_add_loop_test(tc, tls13_ccm_refused, 0, 2);
    tcase_add_loop_test(tc, tls13_groups, 0,
                        (int)(sizeof tls13_group_cases / sizeof tls13_group_cases[0]));
    tcase_add_test(tc, tls13_resumption_with_key_share);
    tcase_add_test(tc, tls13_psk_only_refused);
    tcase_add_loop_test(tc, tls12_suite_accepted, 0, 6);
    tcase_add_loop_test(tc, suite_refused, 0,
                        (int)(sizeof refused_suites / sizeof refused_suites[0]));
    tcase_add_loop_test(tc, curve_policy, 0, (int)(sizeof curve_cases / sizeof curve_cases[0]));
    tcase_add_test(tc, tls12_server_prefers_p256);
    tcase_add_loop_test(tc, renegotiation_info_required, 0, 2);
    tcase_add_loop_test(tc, sha2_signatures_only, 0,
                        (int)(sizeof sigalg_cases / sizeof sigalg_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tls_fixture_main(tls_policy_suite); }
