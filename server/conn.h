/* conn.h: the client connections of one loop, internal to server/. conn.c
 * runs each one's state machine and socket I/O (TLS or plain) over its HTTP
 * half (conn_http.h); the worker that owns the loop owns the set. Every
 * call runs on that loop's thread. */
#ifndef PC_CONN_H
#define PC_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "server/conn_http.h"
#include "server/observer.h"
#include "tls/tls.h"

struct conn;

struct conn_set {
    struct conn_http_shared http;           /* what their HTTP halves share */
    struct tls_loop *tls;                   /* for new connections; replaced on reload */
    const struct server_observer *observer; /* open == NULL: none */
    struct conn *list;                      /* every live connection */
    int n;
};

/* Takes fd (accepted, non-blocking) into the set; closes it on failure. */
void conn_accept(struct conn_set *set, int fd, int is_tls, const struct sockaddr_storage *peer);
/* Graceful stop: idle connections close now, busy ones after their
 * response (http.draining); the loop stops when the last one is gone. */
void conn_drain_all(struct conn_set *set);
/* Hard stop: closes everything (after the drain deadline). */
void conn_close_all(struct conn_set *set);

#endif
