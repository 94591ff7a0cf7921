/* net.c: see net.h. */
#include "server/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int net_parse_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

int net_listen(const char *addr, int port, int backlog, int *bound_port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int one = 1;
    if (net_parse_addr(addr, port, &ss, &sslen) != 0) {
        snprintf(err, errlen, "listen: '%s' is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, backlog) != 0)
        goto fail;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
        goto fail;
    *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
fail:
    snprintf(err, errlen, "listen on %s port %d: %s", addr, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int net_probe_free(const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int one = 1;
    if (net_parse_addr(addr, port, &ss, &sslen) != 0) {
        snprintf(err, errlen, "listen: '%s' is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    /* SO_REUSEADDR only: TIME_WAIT leftovers do not count, a listener does. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0)
        goto fail;
    close(fd);
    return 0;
fail:
    if (errno == EADDRINUSE)
        snprintf(err, errlen, "listen on %s port %d: another process already listens there", addr,
                 port);
    else
        snprintf(err, errlen, "listen on %s port %d: %s", addr, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int net_accept(int lfd, struct sockaddr_storage *peer)
{
    socklen_t len = sizeof *peer;
    int fd = accept4(lfd, (struct sockaddr *)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    int one = 1;
    /* Responses are written whole; Nagle would only delay them. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void net_peer_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
        *port = ntohs(in6->sin6_port);
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in4->sin_addr, ip, (socklen_t)iplen);
        *port = ntohs(in4->sin_port);
    }
}

int net_addr_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (addr == NULL)
        return -1;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return -1;
}
