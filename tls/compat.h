/* compat.h: the few lines that differ between mbedTLS 2.28 (Debian 12) and
 * 3.6 LTS. Everything version-dependent outside this header is a policy
 * choice (TLS 1.3 suites, groups versus curves) and stays next to its use,
 * gated on PC_MBEDTLS3.
 *
 * Self-contained: pulls in version.h (and through it the library's
 * configuration), ssl.h, pk.h and x509_crt.h. */
#ifndef PC_TLS_COMPAT_H
#define PC_TLS_COMPAT_H

#include <stddef.h>

#include <mbedtls/version.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define PC_MBEDTLS3 1
#else
#define PC_MBEDTLS3 0
#include <mbedtls/bignum.h>
#endif

#if PC_MBEDTLS3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define PC_HAVE_TLS13 1
#else
#define PC_HAVE_TLS13 0
#endif

/* Subject/authority key identifiers hash the public key with SHA-1 (an
 * identifier, not a signature). 3.5+ name the capability MD_CAN_SHA1. */
#if defined(MBEDTLS_SHA1_C) || defined(MBEDTLS_MD_CAN_SHA1)
#define PC_HAVE_KEY_ID 1
#else
#define PC_HAVE_KEY_ID 0
#endif

typedef int (*pc_rng_fn)(void *, unsigned char *, size_t);

/* 3.x takes an RNG for blinding while parsing and checking private keys. */
static inline int pc_pk_parse_keyfile(mbedtls_pk_context *pk, const char *path, pc_rng_fn f_rng,
                                      void *p_rng)
{
#if PC_MBEDTLS3
    return mbedtls_pk_parse_keyfile(pk, path, NULL, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_keyfile(pk, path, NULL);
#endif
}

static inline int pc_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
                                   pc_rng_fn f_rng, void *p_rng)
{
#if PC_MBEDTLS3
    return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

/* 3.x deprecates the MPI setter in favour of raw big-endian bytes. */
static inline int pc_x509write_crt_set_serial(mbedtls_x509write_cert *crt, unsigned char *serial,
                                              size_t len)
{
#if PC_MBEDTLS3
    return mbedtls_x509write_crt_set_serial_raw(crt, serial, len);
#else
    mbedtls_mpi mpi;
    int ret;

    mbedtls_mpi_init(&mpi);
    ret = mbedtls_mpi_read_binary(&mpi, serial, len);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(crt, &mpi);
    mbedtls_mpi_free(&mpi);
    return ret;
#endif
}

/* Handshake state. 3.x keeps the field private and offers no accessor; the
 * state numbering (mbedtls_ssl_states) is public in both, and the field has
 * kept its name and type through 3.6, so read it through MBEDTLS_PRIVATE. */
#if PC_MBEDTLS3
#define PC_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#else
#define PC_SSL_STATE(ssl) ((ssl)->state)
#endif

/* 3.x counts its post-handshake states (TLS 1.3 tickets) as "over". */
static inline int pc_ssl_handshake_over(mbedtls_ssl_context *ssl)
{
#if PC_MBEDTLS3
    return mbedtls_ssl_is_handshake_over(ssl);
#else
    return ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
#endif
}

#endif
