/* reload.h: the config half of SIGHUP. The file is read and validated
 * again; if it fails, the running config stays and the log says why. If it
 * passes, what can change safely while requests run changes at once: log
 * level and format, CORS origins and trusted proxies here, and the
 * rate_limits section through the composition root's `apply` (auth/ owns
 * the limiters). Every other section or key that differs is logged as
 * needing a restart.
 *
 * Threads: the main thread, from the server's SIGHUP handling. */
#ifndef PC_RELOAD_H
#define PC_RELOAD_H

#include <stdbool.h>

#include "server/config.h"
#include "server/server.h"

struct reload_ctx {
    const char *path;             /* the config file; NULL: nothing to reload */
    bool demo;                    /* --demo on the command line */
    const struct config *running; /* what the server started with */
    struct server *srv;
    /* Optional: applies the new config's other reloadable parts; returns the
     * number of sections it took (logged), or -1 on failure. */
    int (*apply)(const struct config *next, void *arg);
    void *apply_arg;
};

/* The SIGHUP callback (server_set_reload): arg is a struct reload_ctx. */
void reload_config(void *arg);

#endif
