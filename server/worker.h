/* worker.h: one event-loop thread, internal to server/: its listeners and
 * the accept path, its connections, its graceful stop and certificate
 * reload. server.c creates the workers, binds their listeners and runs
 * them; every function below says on which thread it runs. */
#ifndef PC_WORKER_H
#define PC_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "server/config.h"
#include "server/conn.h"
#include "server/dispatch.h"
#include "server/loop.h"
#include "server/observer.h"
#include "tls/tls.h"

/* What every worker reads: filled by server.c before the workers start,
 * read-only while they run (except `failed`). */
struct worker_shared {
    const struct config *cfg;
    struct dispatch_site site;
    struct server_observer observer; /* open == NULL: none */
    /* Per-loop data of the composition root (server_hooks). */
    void *(*loop_init)(struct loop *l, int index, void *arg, char *err, size_t errlen);
    void (*loop_fini)(void *loop_data, void *arg);
    void *hook_arg;
    atomic_int failed; /* a worker could not run: the server exits non-zero */
};

struct worker;

/* One listening socket of one worker. */
struct listener {
    struct loop_io io; /* fd -1: none */
    struct worker *w;
    int is_tls;
};

struct worker {
    int index;
    struct worker_shared *sh;
    struct loop *loop;
    pthread_t thread;
    struct listener https, http; /* bound by server.c */
    struct conn_set conns;
    int max_conns;
    int reserve_fd; /* spare fd to shed connections at EMFILE */
    struct loop_timer drain_timer;
};

/* Main thread, before anything else: no loop, no listener yet. */
void worker_init(struct worker *w, int index, struct worker_shared *sh, int max_conns);
/* Main thread: creates the loop and what it owns (the TLS side uses tls).
 * 0, or -1 with err. */
int worker_prepare(struct worker *w, struct tls_server *tls, char *err, size_t errlen);
/* Main thread: runs the worker on a thread of its own; 0 or an errno. */
int worker_start(struct worker *w);
/* Any thread: ask the worker to stop gracefully (in-flight requests finish,
 * up to cfg->shutdown_timeout_ms). */
void worker_stop(struct worker *w);
/* Any thread: new connections use tls from now on (retained here). */
void worker_reload(struct worker *w, struct tls_server *tls);
/* Main thread, after the thread was joined and after any job pool whose
 * completions target this loop is gone: runs those completions and frees
 * the loop with its per-loop data. */
void worker_free_loop(struct worker *w);
/* Main thread: closes the listeners. */
void worker_close_listeners(struct worker *w);

#endif
