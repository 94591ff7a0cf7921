/* worker.h: what an event-loop thread owns, shared by server.c (which starts
 * workers) and conn.c (which runs connections on them). Internal to server/. */
#ifndef PC_WORKER_H
#define PC_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "server/config.h"
#include "server/loop.h"
#include "server/portlock.h"
#include "server/router.h"
#include "server/server.h"
#include "server/static.h"
#include "server/static_cache.h"
#include "server/wire.h"
#include "tls/tls.h"

struct conn;
struct worker;

/* One listening socket of one worker. */
struct listener {
    struct loop_io io;
    struct worker *w;
    int is_tls;
};

struct worker {
    int index;
    struct server *srv;
    struct loop *loop;
    pthread_t thread;
    struct listener https, http;
    struct tls_loop *tls; /* for new connections; replaced on reload */
    struct conn *conns;   /* every live connection (for shutdown) */
    int nconns, max_conns;
    int reserve_fd; /* spare fd to shed connections at EMFILE */
    bool draining;
    struct loop_timer drain_timer;
    void *loop_data;
    struct static_cache files; /* this loop's small static files */
};

/* Read-only after server_setup(); shared by all workers. */
struct server {
    const struct config *cfg;
    struct router *router;
    struct server_hooks hooks;
    struct static_root www;
    bool has_www;
    struct tls_server *tls;
    char cert_file[CONFIG_PATH_MAX], key_file[CONFIG_PATH_MAX];
    char dev_ca_file[CONFIG_PATH_MAX]; /* "" unless the dev certificate is used */
    struct worker *workers;
    int nworkers;
    int https_port, http_port;
    struct portlock ports;                    /* held from server_bind to server_free */
    struct wire_ring *wire_https, *wire_http; /* demo mode's wire view; NULL otherwise */
    atomic_int failed;                        /* a worker could not run: exit non-zero */
};

/* server.c: readiness of a listening socket. */
void server_on_accept_io(struct loop *l, void *data, uint32_t events);

/* worker.c: a connection of w was closed (ends a drain when it was the last). */
void worker_conn_gone(struct worker *w);

/* conn.c */
void conn_accept(struct worker *w, int fd, int is_tls, const struct sockaddr_storage *peer);
/* Graceful stop: idle connections close now, busy ones after their response. */
void conn_drain_all(struct worker *w);
/* Hard stop: closes everything (after the drain deadline). */
void conn_close_all(struct worker *w);

#endif
