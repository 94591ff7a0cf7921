/* compat.h: the one place where Portcullis depends on what a given mbedTLS
 * version does or exposes. Portcullis builds on mbedTLS 3.6 LTS only (2.28
 * reached its end of life at the end of 2024 and has no TLS 1.3 server);
 * when a later version changes something below, the difference lives here.
 *
 * Self-contained: pulls in build_info.h (and through it the library's
 * configuration) and ssl.h. Header-only; nothing to free. */
#ifndef PC_TLS_COMPAT_H
#define PC_TLS_COMPAT_H

#include <mbedtls/build_info.h>
#include <mbedtls/ssl.h>

/* 3.6.1 added mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets
 * (without it a client drops TLS 1.3 tickets and nothing resumes). */
#if MBEDTLS_VERSION_NUMBER < 0x03060100 || MBEDTLS_VERSION_NUMBER >= 0x03070000
#error "Portcullis needs mbedTLS 3.6 LTS, 3.6.1 or later (tls/compat.h)"
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3) || !defined(MBEDTLS_SSL_PROTO_TLS1_2)
#error "mbedTLS must be built with TLS 1.2 and TLS 1.3 (MBEDTLS_SSL_PROTO_TLS1_2/1_3)"
#endif
#if !defined(MBEDTLS_SSL_SESSION_TICKETS) || !defined(MBEDTLS_SSL_ALPN)
#error "mbedTLS must be built with MBEDTLS_SSL_SESSION_TICKETS and MBEDTLS_SSL_ALPN"
#endif

/* Subject/authority key identifiers hash the public key with SHA-1 (an
 * identifier, not a signature); 3.6 names the capability MD_CAN_SHA1. */
#if defined(MBEDTLS_MD_CAN_SHA1)
#define PC_HAVE_KEY_ID 1
#else
#define PC_HAVE_KEY_ID 0
#endif

/* Handshake state. 3.6 keeps the field private and offers no accessor; the
 * state numbering (mbedtls_ssl_states) is public, so read it through
 * MBEDTLS_PRIVATE. */
#define PC_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))

/* Declared in 3.6's library/ssl_misc.h, exported by libmbedtls: frees
 * ssl->handshake (and moves a TLS 1.2 negotiated transform in place). */
void mbedtls_ssl_handshake_wrapup_free_hs_transform(mbedtls_ssl_context *ssl);

/* A TLS 1.3 server in 3.6 never frees its handshake parameters once the
 * handshake (and the NewSessionTicket after it) is over: transcript hashes,
 * key-share and handshake-traffic keys, the handshake transform, about 4 KiB
 * (plus heap fragmentation) held by every idle TLS 1.3 connection until the
 * context is freed. TLS 1.2 frees them in its own wrap-up. Nothing after
 * HANDSHAKE_OVER uses them on a server (3.6 answers any post-handshake
 * handshake message from a client with unexpected_message, and never
 * renegotiates TLS 1.3), so release them here, as TLS 1.2 does. A no-op
 * before the handshake is over or when already freed. */
static inline void pc_ssl_server_release_handshake(mbedtls_ssl_context *ssl)
{
    if (PC_SSL_STATE(ssl) == MBEDTLS_SSL_HANDSHAKE_OVER && ssl->MBEDTLS_PRIVATE(handshake) != NULL)
        mbedtls_ssl_handshake_wrapup_free_hs_transform(ssl);
}

/* The output record buffer (mbedtls_ssl_setup allocates at least
 * MBEDTLS_SSL_OUT_CONTENT_LEN bytes there). 3.6 keeps the field private. */
static inline unsigned char *pc_ssl_out_buf(mbedtls_ssl_context *ssl)
{
    return ssl->MBEDTLS_PRIVATE(out_buf);
}

#endif
