/* policy.c: see policy.h. */
#include "tls/policy.h"

#include <mbedtls/ssl.h>

/* Server preference order (mbedTLS servers pick from their own list). The
 * TLS 1.3 suites come first so a 1.3 client is not offered a 1.2 choice. */
static const int policy_suites[] = {
#if PC_HAVE_TLS13
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

/* The server picks the first group of this list that the client offers.
 * X25519 first: mbedTLS 2.28 computes an ephemeral X25519 key and shared
 * secret in 1.1 ms here against 1.4 ms for P-256 (a fresh ECDH context per
 * handshake never has P-256's fixed-base table), and it is the group browsers
 * and OpenSSL prefer. Then P-256; Debian's default list starts with P-521,
 * which halves the handshake rate. */
#if PC_MBEDTLS3
static const uint16_t policy_groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};
#else
static const mbedtls_ecp_group_id policy_curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};
/* No SHA-1 (or SHA-224) in ServerKeyExchange signatures. 3.x defaults are
 * already SHA-2 only. */
static const int policy_sig_hashes[] = {
    MBEDTLS_MD_SHA512,
    MBEDTLS_MD_SHA384,
    MBEDTLS_MD_SHA256,
    MBEDTLS_MD_NONE,
};
#endif

static const char *policy_alpn[] = { "http/1.1", NULL };

static void policy_versions(mbedtls_ssl_config *conf, int endpoint)
{
#if PC_MBEDTLS3
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#if PC_HAVE_TLS13
    mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    /* Resumption only with a fresh (EC)DHE share: keeps forward secrecy. */
    if (endpoint == MBEDTLS_SSL_IS_SERVER)
        mbedtls_ssl_conf_tls13_key_exchange_modes(
            conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ALL);
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && MBEDTLS_VERSION_NUMBER >= 0x03060100
    /* Without it a 3.6.1+ client drops TLS 1.3 tickets and nothing resumes. */
    if (endpoint == MBEDTLS_SSL_IS_CLIENT)
        mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
            conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
#else
    mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#endif
    mbedtls_ssl_conf_groups(conf, policy_groups);
#else
    (void)endpoint;
    /* 2.28 compiles in TLS 1.0/1.1 and makes them the default minimum. */
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_curves(conf, policy_curves);
#if defined(MBEDTLS_KEY_EXCHANGE_WITH_CERT_ENABLED)
    mbedtls_ssl_conf_sig_hashes(conf, policy_sig_hashes);
#endif
#endif
}

int tls_policy_apply(mbedtls_ssl_config *conf, int endpoint)
{
    policy_versions(conf, endpoint);
    mbedtls_ssl_conf_ciphersuites(conf, policy_suites);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    /* BREAK_HANDSHAKE refuses peers without RFC 5746 secure renegotiation
     * signalling. Renegotiation is off anyway, so this costs nothing in
     * security terms either way; it costs nothing in interoperability
     * either, because every client able to negotiate our ECDHE+AEAD TLS 1.2
     * suites sends the signal (it predates AEAD suites), and refusing the
     * ones that do not also drops ancient, unpatched stacks early. */
    if (endpoint == MBEDTLS_SSL_IS_SERVER)
        mbedtls_ssl_conf_legacy_renegotiation(conf, MBEDTLS_SSL_LEGACY_BREAK_HANDSHAKE);
#if defined(MBEDTLS_SSL_ALPN)
    return mbedtls_ssl_conf_alpn_protocols(conf, policy_alpn);
#else
    (void)policy_alpn;
    return 0;
#endif
}
