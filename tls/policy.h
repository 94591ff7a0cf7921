/* policy.h: the one TLS policy of Portcullis (README.md, TLS), applied
 * to the server's config (tls.c) and the demo client's (client.c), and the
 * socket I/O both hand to mbedTLS as BIO callbacks. Internal to tls/. */
#ifndef PC_TLS_POLICY_H
#define PC_TLS_POLICY_H

#include <stddef.h>

#include "tls/compat.h"

/* TLS 1.2 and 1.3 (minimum stated: TLS 1.2): the three TLS 1.3 AEAD suites
 * and exactly the six TLS 1.2 ECDHE AEAD suites, groups P-256, X25519,
 * P-384 in that order (policy.c says why and who chooses in each version),
 * TLS 1.3 resumption only with an ephemeral share (psk_dhe_ke), no 0-RTT,
 * SHA-2 signatures (the 3.6 default), renegotiation off, ALPN "http/1.1".
 * endpoint: MBEDTLS_SSL_IS_SERVER or MBEDTLS_SSL_IS_CLIENT, for the few
 * settings only one side has.
 * Returns 0 or an mbedTLS error. */
int tls_policy_apply(mbedtls_ssl_config *conf, int endpoint);

/* send/recv on a non-blocking socket for mbedTLS (in bio.c): bytes moved, 0 on EOF
 * (recv), MBEDTLS_ERR_SSL_WANT_WRITE/READ when the socket would block,
 * MBEDTLS_ERR_NET_CONN_RESET on a reset or broken pipe, else
 * MBEDTLS_ERR_NET_SEND_FAILED/RECV_FAILED. EINTR is retried. On a failure
 * *sys_errno receives errno (untouched when the socket merely blocks). */
int tls_sock_send(int fd, const unsigned char *buf, size_t len, int *sys_errno);
int tls_sock_recv(int fd, unsigned char *buf, size_t len, int *sys_errno);
/* tls_sock_recv that leaves the bytes in the socket (MSG_PEEK). */
int tls_sock_peek(int fd, unsigned char *buf, size_t len, int *sys_errno);

#endif
