/* auth.h: the login backend as the composition root sees it (docs/ARCHITECTURE.md, Auth model):
 * one context built from the config, the hooks the server and the job pool
 * call, and the routes to add to the router.
 *
 * Threads: every event loop gets its own database connection (reads on the
 * hot path: token checks, /api/me); every pool thread gets its own too
 * (argon2id and writes that fsync). The context itself is read-only after
 * auth_setup, except for the rate limiters, which lock internally. */
#ifndef PC_AUTH_H
#define PC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/limits.h"
#include "auth/guard.h"
#include "auth/password.h"
#include "auth/token.h"
#include "auth/userstate.h"
#include "server/config.h"
#include "server/pool.h"
#include "server/router.h"
#include "server/server.h"

/* Route access levels (the router's opaque `access`). */
enum auth_access { AUTH_PUBLIC = 0, AUTH_TOKEN = 1, AUTH_ADMIN = 2, AUTH_ROLE_USER = 3 };

/* The configuration sections auth/ reads, filled by the composition root
 * from its struct config. The sections are borrowed: they must outlive the
 * context, and are read-only. */
struct auth_settings {
    const struct auth_config *auth;
    const struct rate_limits_config *rate_limits;
    const struct db_config *db;
    const struct pool_config *pool;
    bool demo; /* server.demo: the demo's account may exist (demo_user.h) */
};

struct auth_ctx {
    struct auth_settings cfg;
    struct auth_pw_params pw;
    struct auth_token_opts token_opts;
    struct auth_tokens *tokens;
    struct auth_limiter *login_ip, *login_user, *register_ip;
    struct auth_guard guard;         /* the lockout, kept in the database */
    unsigned char totp_key[32];      /* seals TOTP secrets at rest (seal.h) */
    struct auth_userstate *users;    /* account state for token checks */
    struct auth_userstate *sessions; /* session liveness by sid (middleware.c) */
    struct pool *pool;
    struct auth_purge *purge; /* the scheduled purge thread (purge.h) */
};

/* Opens and migrates the database once (so a bad path or a newer schema
 * fails start-up, not the first request), loads or creates the JWT key and
 * the TOTP sealing key,
 * creates the limiters and the job pool. Returns 0 or -1 with err. */
int auth_setup(struct auth_ctx *ctx, const struct auth_settings *cfg, char *err, size_t errlen);
/* Stops the pool (finishing queued jobs), frees everything. Safe on a
 * zeroed or partly set-up ctx. */
/* A config reload's new rate_limits section: the limiters' rates and bursts
 * and the lockout's threshold and backoff, for every request from now on.
 * Main thread. 0, or -1 when a value is out of range (validation refuses
 * those first). */
int auth_reconfigure_limits(struct auth_ctx *ctx, const struct rate_limits_config *c);
void auth_free(struct auth_ctx *ctx);

/* Hooks for server_setup (arg = ctx): per-loop database, access check. */
struct server_hooks auth_server_hooks(struct auth_ctx *ctx);

/* Adds every /api route and /.well-known/jwks.json. Needs only ctx->cfg.auth
 * (routes may be built before auth_setup; handlers run only after it).
 * 0 or -1. */
int auth_add_routes(struct router *r, struct auth_ctx *ctx);

#endif
