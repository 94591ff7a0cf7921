/* net.h: sockets (Redis anet): listening sockets with SO_REUSEPORT,
 * non-blocking close-on-exec accept, peer address text. */
#ifndef PC_NET_H
#define PC_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Binds a non-blocking listening TCP socket on addr (IPv4 or IPv6 literal)
 * and port (0 = any), SO_REUSEADDR + SO_REUSEPORT so every worker can bind
 * its own socket to the same port. *bound_port receives the actual port.
 * Returns the fd, or -1 with err. */
int net_listen(const char *addr, int port, int backlog, int *bound_port, char *err, size_t errlen);

/* 0 when nothing listens on addr:port: a bind without SO_REUSEPORT
 * succeeds (the socket is closed again). -1 with err naming the address and
 * port otherwise. */
int net_probe_free(const char *addr, int port, char *err, size_t errlen);

/* accept4(NONBLOCK|CLOEXEC) + TCP_NODELAY. Returns the fd or -1 (errno set). */
int net_accept(int lfd, struct sockaddr_storage *peer);

/* "1.2.3.4" / "::1" into ip; port into *port. */
void net_peer_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port);

/* Whether addr, an IP literal without brackets, is loopback: 127.0.0.0/8,
 * ::1 or an IPv4-mapped ::ffff:127.x.x.x. Returns 1 loopback, 0 another
 * address, -1 not an IP literal (NULL included). The one loopback test of
 * the tree: listen addresses (config) and client addresses (demo). */
int net_addr_loopback(const char *addr);

#endif
