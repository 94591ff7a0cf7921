/* server.h: the HTTPS/HTTP server as a whole: listeners bound once in the
 * main thread, one worker thread per event loop, signals.
 *
 * The server knows nothing of users or tokens (docs/ARCHITECTURE.md, §0
 * Layers): the composition root hands it a router, hooks and an observer. */
#ifndef PC_SERVER_H
#define PC_SERVER_H

#include <stddef.h>

#include "server/config.h"
#include "server/gateway.h"
#include "server/http_msg.h"
#include "server/loop.h"
#include "server/observer.h"
#include "server/router.h"

struct server_hooks {
    /* Called for routes whose access is not 0. Returns 0 to allow, or fills
     * ex->resp (401/403) and returns non-zero. */
    int (*access_check)(struct http_exchange *ex, int access, void *arg);
    /* Per-loop data, e.g. a database connection; ex->loop_data. NULL hooks
     * are fine; init returning NULL fails start-up with err. */
    void *(*loop_init)(struct loop *l, int index, void *arg, char *err, size_t errlen);
    void (*loop_fini)(void *loop_data, void *arg);
    void *arg;
    /* For gateway.routes (gateway.h): an access rule's level, and the
     * identity the upstream is told. NULL: only public gateway routes. */
    int (*access_level)(const char *rule, void *arg);
    int (*identity)(const struct http_exchange *ex, struct gateway_identity *out, void *arg);
};

struct server;

/* Binds the listeners (so privileges can be dropped afterwards), loads or
 * generates the certificate, opens the www root. cfg and router must outlive
 * the server. Returns 0 or -1 with err. */
int server_setup(struct server **out, const struct config *cfg, struct router *router,
                 const struct server_hooks *hooks, char *err, size_t errlen);

/* Ports actually bound (useful when the config asked for port 0). */
int server_https_port(const struct server *s);
int server_http_port(const struct server *s); /* -1 when disabled */
/* The dev CA when the generated dev certificate is in use, else "". */
const char *server_dev_ca_file(const struct server *s);

/* The session-ticket keys every certificate load of this server uses
 * (tls/tickets.h), for keys shared with other processes; NULL when
 * tls.session_tickets is off. Valid until server_free. */
struct tls_tickets;
struct tls_tickets *server_tls_tickets(const struct server *s);

/* Attaches obs (copied) to every connection accepted from now on. Call after
 * server_setup, before server_run. */
void server_set_observer(struct server *s, const struct server_observer *obs);

/* The plain-HTTP listener answers requests itself (routes and static
 * files, as the HTTPS one does) instead of redirecting them to HTTPS, and
 * every answer there carries "X-Portcullis-Warning: <warning>" (a static
 * string). Call after server_setup, before server_run. */
void server_serve_plain(struct server *s, const char *warning);

/* Main thread: the settings a reload may change (http.cors_origins,
 * server.trusted_proxies) are taken from cfg (validated) for the requests
 * that start from now on; cfg may be freed afterwards. 0 or -1 (memory). */
int server_reconfigure(struct server *s, const struct config *cfg);

/* The job pool handlers submit to (pc_defer), shared by every loop. Call
 * after server_setup, before server_run; p must outlive the loops' work. */
void server_set_pool(struct server *s, struct pool *p);

/* Main thread, before server_run: fn(arg) runs on the main thread at each
 * SIGHUP, after the certificate reload (the config file's turn). */
void server_set_reload(struct server *s, void (*fn)(void *arg), void *arg);

/* Drops to cfg->server.user when running as root. Returns 0 or -1 with err. */
int server_drop_privileges(const struct server *s, char *err, size_t errlen);

/* Starts the workers and blocks, handling SIGINT/SIGTERM (graceful stop) and
 * SIGHUP (certificate reload). Returns 0 after a clean stop, -1 on failure.
 * The caller must have blocked those signals in every thread (see
 * server_block_signals) before creating any thread. */
int server_run(struct server *s);

/* Blocks SIGINT, SIGTERM, SIGHUP and ignores SIGPIPE for the calling thread
 * and the threads it creates later. */
void server_block_signals(void);

/* After server_run returned and after any job pool whose completions target
 * these loops was freed: runs those completions, frees the loops and the
 * per-loop data. server_free calls it too. */
void server_stop_loops(struct server *s);

void server_free(struct server *s); /* NULL ok */

#endif
