/* proxy.h: the real client address behind a load balancer or reverse proxy.
 *
 * Two sources, each trusted only when configured:
 *  - X-Forwarded-For, only from a peer inside server.trusted_proxies: the
 *    client is the right-most address in the header that is not itself a
 *    trusted proxy (addresses further left were written by the client and
 *    prove nothing);
 *  - the PROXY protocol version 2 header (HAProxy, cloud load balancers),
 *    which server.proxy_protocol requires before the TLS handshake.
 *
 * Pure functions over caller buffers; thread-safe. */
#ifndef PC_PROXY_H
#define PC_PROXY_H

#include <stddef.h>

#define PROXY_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

/* An IPv4 or IPv6 network; IPv4-mapped IPv6 peers match IPv4 networks. */
struct proxy_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

/* "10.0.0.0/8", "::1/128", or a single address ("127.0.0.1" = /32).
 * Host bits must be zero. 0 or -1. */
int proxy_cidr_parse(const char *text, struct proxy_cidr *out);

/* 1 when the address text ip lies in one of set[0..n), else 0. */
int proxy_cidr_match(const struct proxy_cidr *set, size_t n, const char *ip);

/* The client of an X-Forwarded-For value (comma-separated, spaces allowed):
 * walking from the right, the first address not in trusted[0..n). Copied
 * (normalised) into out. 0, or -1 when the header holds no valid address
 * before a trusted-only chain ends, or an entry is malformed. */
int proxy_xff_client(const char *xff, size_t len, const struct proxy_cidr *trusted, size_t n,
                     char *out, size_t outlen);

/* PROXY protocol v2 at the start of buf[0..len). Returns the header's
 * length (> 0) with the source address in ip ("" for a LOCAL command, such
 * as a health check: keep the peer's address), 0 when more bytes are
 * needed, or -1 when this is not a valid v2 header. Only TCP over IPv4 and
 * IPv6 (and LOCAL) are accepted. */
long proxy_v2_parse(const unsigned char *buf, size_t len, char *ip, size_t iplen);

/* The v2 header is at most this long (16 + 216 for addresses and TLVs is
 * typical; the format allows 16 + 65535, far more than any proxy sends). */
#define PROXY_V2_MAX 1024

#endif
