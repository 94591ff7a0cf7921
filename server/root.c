/* root.c: the composition root behind the public API (server/portcullis.h):
 * wires auth/'s routes, hooks and reload share, and demo/'s observer and
 * routes, into the server, then runs it. The `portcullis` binary (main.c)
 * and every application built on the public API start the server here,
 * so both run the same server. Main thread only. */
#include "server/root.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "auth/auth.h"
#include "auth/health.h"
#include "auth/middleware.h"
#include "db/db.h"
#include "demo/demo.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/portcullis_int.h"
#include "server/reload.h"
#include "server/server.h"
#include "tls/tickets.h"

/* SIGHUP: the key set is read again at once, then the config file. */
struct hup {
    struct reload_ctx *reload;
    struct auth_ctx *auth;
};

struct pc_root {
    struct config cfg;
    const char *config_path;
    char *config_path_own; /* pc_server_new's copy */
    bool demo_flag;
    struct auth_ctx auth;
    struct demo_ctx *demo;
    struct server *srv;
    struct metrics_http *mh;
    struct reload_ctx reload;
    struct hup hup;
    bool ran;
};

/* The sections auth/ reads; they live as long as cfg. */
static struct auth_settings auth_settings_of(const struct config *cfg)
{
    return (struct auth_settings){ &cfg->auth, &cfg->rate_limits, &cfg->db,
                                   &cfg->pool, cfg->server.demo,  { 0, NULL, NULL } };
}

/* The store's measurements (db_set_observer) as metrics. */
static void observe_db(uint64_t usec, int rc)
{
    if (usec > 0)
        metrics_observe(MET_H_DB_STATEMENT, usec);
    if (rc == DB_ERROR)
        metrics_inc(MET_DB_STMT_ERROR);
    else if (rc == DB_BUSY)
        metrics_inc(MET_DB_STMT_BUSY);
}

/* The built-in routes, through the public API like an application's. */
static int builtin_routes(struct pc_server *s)
{
    struct pc_root *r = s->root;
    /* auth/'s health check: it knows the store (server/ does not). */
    if (pc_route(s, "GET", "/healthz", "public", auth_healthz, NULL) != 0)
        return -1;
    /* Outside demo mode the /demo routes do not exist at all (404). */
    if (r->demo != NULL && demo_add_routes(s, r->demo) != 0)
        return -1;
    return auth_add_routes(s, &r->auth);
}

int root_server_new(struct pc_server **out, const struct config *cfg, const char *config_path,
                    bool demo_flag, char *err, size_t errlen)
{
    struct pc_server *s = calloc(1, sizeof *s);
    struct pc_root *r = calloc(1, sizeof *r);
    *out = NULL;
    if (s == NULL || r == NULL) {
        free(s);
        free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    router_init(&s->router);
    s->access_parse = auth_access_parse;
    s->root = r;
    r->cfg = *cfg;
    r->config_path = config_path;
    r->demo_flag = demo_flag;
    log_set_level(r->cfg.server.log_level);
    log_set_format(strcmp(r->cfg.server.log_format, "json") == 0 ? LOG_FORMAT_JSON
                                                                 : LOG_FORMAT_TEXT);
    /* Before any thread exists, so every thread inherits the mask. */
    server_block_signals();
    db_set_observer(observe_db);
    r->auth.cfg = auth_settings_of(&r->cfg);
    if (r->cfg.server.demo && demo_setup(&r->demo, &r->cfg, err, errlen) != 0)
        goto fail;
    if (builtin_routes(s) != 0) {
        snprintf(err, errlen, "cannot build the route table");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    pc_server_free(s);
    return -1;
}

int pc_server_new(struct pc_server **out, const char *config_path, char *err, size_t errlen)
{
    struct config *cfg = malloc(sizeof *cfg);
    char *path = config_path != NULL ? strdup(config_path) : NULL;
    int rc = -1;
    *out = NULL;
    if (cfg == NULL || (config_path != NULL && path == NULL)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    config_defaults(cfg);
    if (config_path != NULL) {
        if (config_load_file(cfg, config_path, err, errlen) != 0)
            goto out;
    } else {
        config_apply_env(cfg);
    }
    if (config_validate(cfg, err, errlen) != 0 ||
        root_server_new(out, cfg, path, false, err, errlen) != 0)
        goto out;
    (*out)->root->config_path_own = path;
    path = NULL;
    rc = 0;
out:
    free(path);
    free(cfg);
    return rc;
}

/* Metrics count per route, so they learn the routes before any thread runs;
 * the listener starts only when metrics.port is set. */
static int start_metrics(struct pc_root *r, const struct router *rt, char *err, size_t errlen)
{
    const char *methods[256], *patterns[256];
    size_t n = rt->n < 256 ? rt->n : 256;
    for (size_t i = 0; i < n; i++) {
        methods[i] = rt->routes[i].method;
        patterns[i] = rt->routes[i].pattern;
    }
    if (metrics_init((int)n, methods, patterns) != 0) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    if (r->cfg.metrics.port < 0)
        return 0;
    int port = 0;
    return metrics_http_start(&r->mh, r->cfg.metrics.address, r->cfg.metrics.port, &port, err,
                              errlen);
}

/* SIGHUP's share of auth/: the new rate limits (reload.h). */
static int reload_auth(const struct config *next, void *arg)
{
    if (auth_reconfigure_limits(arg, &next->rate_limits) != 0) {
        log_error("SIGHUP: the new rate limits are out of range; keeping the old ones");
        return -1;
    }
    return 1;
}

/* The key set's ticket keys (auth/tickets.h) into the server's TLS
 * (tls/tickets.h): auth/ and tls/ do not know each other. */
static void install_ticket_keys(void *arg, const struct auth_ticket_key *prev,
                                const struct auth_ticket_key *cur)
{
    _Static_assert(sizeof cur->name == TLS_TICKET_NAME_LEN && sizeof cur->key == TLS_TICKET_KEY_LEN,
                   "one ticket key format");
    struct tls_ticket_key p, c;
    memcpy(c.name, cur->name, sizeof c.name);
    memcpy(c.key, cur->key, sizeof c.key);
    if (prev != NULL) {
        memcpy(p.name, prev->name, sizeof p.name);
        memcpy(p.key, prev->key, sizeof p.key);
    }
    if (tls_tickets_install(arg, prev != NULL ? &p : NULL, &c) != 0)
        log_error("tls: the session-ticket keys from the store were refused");
    mbedtls_platform_zeroize(&p, sizeof p);
    mbedtls_platform_zeroize(&c, sizeof c);
}

static void on_sighup(void *arg)
{
    struct hup *h = arg;
    auth_keys_refresh(h->auth);
    reload_config(h->reload);
}

int pc_server_run(struct pc_server *s)
{
    struct pc_root *r = s->root;
    char err[512];
    if (r->ran) {
        log_error("pc_server_run: the server already ran");
        return -1;
    }
    r->ran = true;
    if (start_metrics(r, &s->router, err, sizeof err) != 0)
        goto fail;
    /* Ports and the TLS key as root; the database and the JWT key as the
     * unprivileged user, so everything it creates is its own. */
    struct server_hooks hooks = auth_server_hooks(&r->auth);
    if (server_setup(&r->srv, &r->cfg, &s->router, &hooks, err, sizeof err) != 0 ||
        server_drop_privileges(r->srv, err, sizeof err) != 0)
        goto fail;
    if (server_tls_tickets(r->srv) != NULL)
        r->auth.cfg.tickets = (struct auth_ticket_sink){ r->cfg.tls.ticket_lifetime_s,
                                                         install_ticket_keys,
                                                         server_tls_tickets(r->srv) };
    if (auth_setup(&r->auth, &r->auth.cfg, err, sizeof err) != 0)
        goto fail;
    server_set_pool(r->srv, r->auth.pool);
    if (r->demo != NULL && demo_attach(r->demo, r->srv, err, sizeof err) != 0)
        goto fail;
    r->reload = (struct reload_ctx){ r->config_path, r->demo_flag, &r->cfg,
                                     r->srv,         reload_auth,  &r->auth };
    r->hup = (struct hup){ &r->reload, &r->auth };
    server_set_reload(r->srv, on_sighup, &r->hup);
    return server_run(r->srv) == 0 ? 0 : -1;
fail:
    log_error("%s", err);
    return -1;
}

void pc_server_free(struct pc_server *s)
{
    if (s == NULL)
        return;
    struct pc_root *r = s->root;
    /* In-flight jobs (and a demo run) finish and post to the stopped loops;
     * then the loops deliver those completions and free their connections. */
    demo_free(r->demo);
    auth_free(&r->auth);
    server_free(r->srv);
    metrics_http_stop(r->mh);
    metrics_free();
    log_info("stopped");
    router_free(&s->router);
    free(r->config_path_own);
    free(r);
    free(s);
}
