/* idle.h: what bench/idle.c (the connections) and bench/idle_setup.c (its
 * start-up: options, address, request, file limit, TLS and epoll set-up)
 * share. See idle.c for what the tool does. */
#ifndef PC_BENCH_IDLE_H
#define PC_BENCH_IDLE_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <psa/crypto.h>

/* mbedTLS 3.6 keeps the handshake state private; its numbering is public. */
#define IDLE_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_head.h"

#define HEAD_MAX   4096             /* largest response head accepted */
#define REQ_MAX    1200             /* request line + Host header */
#define TAG_SIGNAL UINT64_MAX       /* epoll data of the signalfd ... */
#define TAG_STDIN  (UINT64_MAX - 1) /* ... and of stdin; else a connection index */

struct opts {
    const char *addr, *path;
    long port, n, inflight, hold_s, timeout_s;
    mbedtls_ssl_protocol_version version;
};

enum conn_state { ST_NEW, ST_CONNECTING, ST_HANDSHAKE, ST_WRITE, ST_READ, ST_IDLE, ST_CLOSED };

/* What a connection needs until it is idle. */
struct active {
    mbedtls_ssl_context ssl;
    size_t sent, head_len;
    unsigned long long body_left;
    int have_head, full;
    char head[HEAD_MAX];
};

struct conn {
    mbedtls_net_context net; /* the socket; mbedtls_net_send/recv map EAGAIN */
    uint32_t events;         /* current epoll interest */
    enum conn_state st;
    struct active *a;
};

struct bench {
    struct opts o;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    char req[REQ_MAX];
    size_t req_len;
    int ep, sigfd, stop, holding;
    struct conn *c;
    size_t n, started, in_progress, ready, full, resumed, errors, closed_in_hold;
    char first_error[256];
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_session saved;
    int have_saved; /* a session with a ticket to offer */
    int first_done; /* the first connection is idle (ticket or not) */
};

/* idle_setup.c: zeroes b (cannot fail); parses the command line and sets
 * up everything (2: usage error, 1: failure, 0: ready). */
void idle_init(struct bench *b);
int idle_setup(struct bench *b, int argc, char **argv);

#endif
