/* policy.c: see policy.h. */
#include "tls/policy.h"

#include <mbedtls/ssl.h>

/* Who chooses. TLS 1.2: the server, by the order of this list (mbedTLS
 * servers pick their first suite the client offers). TLS 1.3: the client;
 * mbedTLS 3.6 takes the client's first offered TLS 1.3 suite that this list
 * contains, so here the list only filters. Both versions: AEAD only, and in
 * TLS 1.2 ECDHE only (no static RSA, no CBC). */
static const int policy_suites[] = {
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

/* Key exchange groups: these three only (no P-521, no finite-field DH).
 * Who chooses. TLS 1.2: the server takes the first group of this list that
 * the client supports. TLS 1.3: the client; mbedTLS 3.6 accepts the client's
 * first key share in a group of this list, and when none fits asks (with a
 * HelloRetryRequest, one more round trip) for the client's first supported
 * group that this list contains: here the list only filters.
 * Order, measured with bench/ceiling.c on mbedTLS 3.6 (3 runs of 3 s on one
 * core, TLS 1.2's legacy ECDH and TLS 1.3's PSA key share alike; figures in
 * bench/ANALYSIS.md): key generation 0.18-0.25 ms for P-256 against
 * 0.42-0.57 ms for X25519 (3.6 ships P-256's fixed-base table), the shared
 * secret 0.51-0.75 ms against 0.44-0.58 ms, so the whole ephemeral share
 * 0.69-1.0 ms against 0.85-1.16 ms (P-256 cheaper in 5 of 6 runs); P-384's
 * costs 1.1-1.45 ms. So P-256
 * first, then X25519, then P-384. (On 2.28 X25519 was the cheaper one, hence
 * the old "X25519 first".) The order is the server's choice in TLS 1.2
 * only: in TLS 1.3 browsers and OpenSSL send an X25519 share and get X25519. */
static const uint16_t policy_groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

static const char *policy_alpn[] = { "http/1.1", NULL };

/* TLS 1.2 and 1.3, nothing older (mbedTLS 3.6 has no TLS 1.0/1.1 code, but
 * the minimum is stated, not inherited). TLS 1.3 resumption only with a fresh
 * (EC)DHE share, psk_dhe_ke: forward secrecy for resumed sessions too; no
 * psk_ke, and no external PSKs are configured. 0-RTT early data stays off (the
 * 3.6 default, and replayable): mbedtls_ssl_conf_early_data is never called. */
static void policy_versions(mbedtls_ssl_config *conf, int endpoint)
{
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_tls13_key_exchange_modes(
        conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL |
                  MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);
    /* Without it a 3.6.1+ client drops TLS 1.3 tickets and nothing resumes;
     * mbedtls_ssl_read/write then return
     * MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET, which clients handle. */
    if (endpoint == MBEDTLS_SSL_IS_CLIENT)
        mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
            conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_groups(conf, policy_groups);
}

int tls_policy_apply(mbedtls_ssl_config *conf, int endpoint)
{
    policy_versions(conf, endpoint);
    mbedtls_ssl_conf_ciphersuites(conf, policy_suites);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    /* TLS 1.2 record compression was removed from mbedTLS in 3.0: none. */
    /* BREAK_HANDSHAKE refuses peers without RFC 5746 secure renegotiation
     * signalling. Renegotiation is off anyway, so this costs nothing in
     * security terms either way; it costs nothing in interoperability
     * either, because every client able to negotiate our ECDHE+AEAD TLS 1.2
     * suites sends the signal (it predates AEAD suites), and refusing the
     * ones that do not also drops ancient, unpatched stacks early. */
    if (endpoint == MBEDTLS_SSL_IS_SERVER)
        mbedtls_ssl_conf_legacy_renegotiation(conf, MBEDTLS_SSL_LEGACY_BREAK_HANDSHAKE);
    return mbedtls_ssl_conf_alpn_protocols(conf, policy_alpn);
}
