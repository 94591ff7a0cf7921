/* auth.c: building the auth context from the config, the per-thread
 * database connections, and the route table. */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "auth/demo_user.h"
#include "auth/handlers.h"
#include "auth/keyring.h"
#include "auth/middleware.h"
#include "auth/listen.h"
#include "auth/purge.h"
#include "auth/seal.h"
#include "auth/token_cache.h"
#include "db/db.h"
#include "server/log.h"

#define LIMITER_ENTRIES     65536
#define TOKEN_CACHE_ENTRIES 1024  /* per loop: 1024 * ~750 bytes */
#define USER_CACHE_ENTRIES  16384 /* process: 16384 * ~110 bytes */

/* Opens a connection to the configured database (schema already migrated).
 * db_open's message starts with the path; saying "database" makes the log
 * line of a server that will not start plain to an operator. */
static struct db *auth_db_open(const struct db_config *cfg, char *err, size_t errlen)
{
    struct db *db = NULL;
    char why[512] = "";
    if (db_open(&db, config_db_target(cfg), cfg->busy_timeout_ms, why, sizeof why) != 0) {
        snprintf(err, errlen, "database (%s): %s", cfg->url[0] ? "db.url" : "db.path", why);
        return NULL;
    }
    return db;
}

static void *pool_thread_init(void *arg, char *err, size_t errlen)
{
    struct auth_ctx *ctx = arg;
    return auth_db_open(ctx->cfg.db, err, errlen);
}

static void pool_thread_fini(void *thread_ctx, void *arg)
{
    (void)arg;
    db_close(thread_ctx);
}

static void loop_fini(void *loop_data, void *arg)
{
    (void)arg;
    struct auth_loop *al = loop_data;
    db_close(al->db);
    auth_token_cache_free(al->tokens);
    free(al);
}

static void *loop_init(struct loop *l, int index, void *arg, char *err, size_t errlen)
{
    (void)l;
    (void)index;
    struct auth_loop *al = calloc(1, sizeof *al);
    if (al == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    al->ctx = arg;
    al->db = auth_db_open(al->ctx->cfg.db, err, errlen);
    al->tokens = auth_token_cache_new(TOKEN_CACHE_ENTRIES);
    if (al->db == NULL || al->tokens == NULL) {
        if (al->tokens == NULL)
            snprintf(err, errlen, "out of memory");
        loop_fini(al, arg);
        return NULL;
    }
    return al;
}

struct server_hooks auth_server_hooks(struct auth_ctx *ctx)
{
    struct server_hooks h = { auth_access_check, loop_init,    loop_fini, ctx,
                              auth_access_level, auth_identity };
    return h;
}

static int auth_migrate(const struct db_config *cfg, char *err, size_t errlen)
{
    struct db *db = auth_db_open(cfg, err, errlen);
    char why[512] = "";
    if (db == NULL)
        return -1;
    int rc = db_migrate(db, why, sizeof why);
    db_close(db);
    if (rc != 0)
        snprintf(err, errlen, "database %s: %s", config_db_name(cfg), why);
    return rc == 0 ? 0 : -1;
}

static int auth_load_tokens(struct auth_ctx *ctx, char *err, size_t errlen)
{
    const struct auth_config *cfg = ctx->cfg.auth;
    ctx->token_opts = (struct auth_token_opts){ cfg->issuer, cfg->audience, cfg->access_ttl_s,
                                                cfg->leeway_s };
    return auth_keyring_start(&ctx->keys, &ctx->cfg, &ctx->token_opts, err, errlen);
}

static int auth_limits(struct auth_ctx *ctx, char *err, size_t errlen)
{
    const struct rate_limits_config *c = ctx->cfg.rate_limits;
    if (auth_limiter_new(&ctx->login_ip, (uint32_t)c->login_ip_per_minute,
                         (uint32_t)c->login_ip_per_minute, LIMITER_ENTRIES, err, errlen) != 0 ||
        auth_limiter_new(&ctx->login_user, (uint32_t)c->login_user_per_minute,
                         (uint32_t)c->login_user_per_minute, LIMITER_ENTRIES, err, errlen) != 0 ||
        auth_limiter_new(&ctx->register_ip, (uint32_t)c->register_ip_per_minute,
                         (uint32_t)c->register_ip_per_minute, LIMITER_ENTRIES, err, errlen) != 0)
        return -1;
    atomic_init(&ctx->guard.threshold, c->lockout_threshold);
    atomic_init(&ctx->guard.base_s, c->lockout_base_s);
    atomic_init(&ctx->guard.max_s, c->lockout_max_s);
    return 0;
}

int auth_reconfigure_limits(struct auth_ctx *ctx, const struct rate_limits_config *c)
{
    if (auth_limiter_set(ctx->login_ip, (uint32_t)c->login_ip_per_minute,
                         (uint32_t)c->login_ip_per_minute) != 0 ||
        auth_limiter_set(ctx->login_user, (uint32_t)c->login_user_per_minute,
                         (uint32_t)c->login_user_per_minute) != 0 ||
        auth_limiter_set(ctx->register_ip, (uint32_t)c->register_ip_per_minute,
                         (uint32_t)c->register_ip_per_minute) != 0)
        return -1;
    atomic_store(&ctx->guard.threshold, c->lockout_threshold);
    atomic_store(&ctx->guard.base_s, c->lockout_base_s);
    atomic_store(&ctx->guard.max_s, c->lockout_max_s);
    return 0;
}

int auth_setup(struct auth_ctx *ctx, const struct auth_settings *set, char *err, size_t errlen)
{
    const struct auth_settings copy = *set; /* set may point into ctx */
    const struct auth_config *cfg = copy.auth;

    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = copy;
    set = &ctx->cfg;
    ctx->pw = (struct auth_pw_params){ (uint32_t)cfg->argon2_memory_kib,
                                       (uint32_t)cfg->argon2_iterations,
                                       (uint32_t)cfg->argon2_parallelism };
    if (auth_pw_params_check(&ctx->pw, err, errlen) != 0 ||
        auth_migrate(set->db, err, errlen) != 0 || auth_load_tokens(ctx, err, errlen) != 0 ||
        auth_limits(ctx, err, errlen) != 0 ||
        auth_seal_key_load(ctx->totp_key, cfg->totp_key_file, err, errlen) != 0)
        goto fail;
    if (!set->demo)
        auth_demo_user_remove(set); /* a demo run that did not end cleanly */
    ctx->users = auth_userstate_new(USER_CACHE_ENTRIES, cfg->user_cache_ms);
    ctx->sessions = auth_userstate_new(USER_CACHE_ENTRIES, cfg->user_cache_ms);
    if (ctx->users == NULL || ctx->sessions == NULL) {
        snprintf(err, errlen, "auth: out of memory");
        goto fail;
    }
    int threads = set->pool->threads > 0 ? set->pool->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct pool_thread_hooks ph = { pool_thread_init, pool_thread_fini, ctx };
    if (pool_create(&ctx->pool, threads > 0 ? threads : 1, set->pool->queue, &ph, err, errlen) != 0)
        goto fail;
    if (auth_purge_start(&ctx->purge, set, cfg->purge_interval_s, err, errlen) != 0 ||
        auth_listen_start(&ctx->listen, set, ctx->users, ctx->sessions, err, errlen) != 0)
        goto fail;
    log_info("auth: %s tokens (kid %s), database %s, %d pool threads",
             auth_tokens_alg(auth_tokens_of(ctx)), auth_tokens_kid(auth_tokens_of(ctx)),
             config_db_name(set->db), threads);
    return 0;
fail:
    auth_free(ctx);
    return -1;
}

void auth_free(struct auth_ctx *ctx)
{
    auth_listen_stop(ctx->listen);
    ctx->listen = NULL;
    auth_purge_stop(ctx->purge);
    ctx->purge = NULL;
    int demo_ran = ctx->pool != NULL && ctx->cfg.demo;
    pool_free(ctx->pool);
    ctx->pool = NULL;
    if (demo_ran)
        auth_demo_user_remove(&ctx->cfg);
    auth_keyring_stop(ctx->keys);
    auth_limiter_free(ctx->login_ip);
    auth_limiter_free(ctx->login_user);
    auth_limiter_free(ctx->register_ip);
    auth_userstate_free(ctx->users);
    auth_userstate_free(ctx->sessions);
    mbedtls_platform_zeroize(ctx, sizeof *ctx);
}

const struct auth_tokens *auth_tokens_of(const struct auth_ctx *ctx)
{
    return auth_keyring_tokens(ctx->keys);
}

void auth_keys_refresh(struct auth_ctx *ctx)
{
    if (ctx->keys != NULL)
        auth_keyring_refresh(ctx->keys);
}

int auth_add_routes(struct pc_server *s, struct auth_ctx *ctx)
{
    static const struct {
        const char *method, *pattern;
        pc_handler fn;
        const char *access;
    } routes[] = {
        { "POST", "/api/register", auth_h_register, "public" },
        { "POST", "/api/login", auth_h_login, "public" },
        { "POST", "/api/token/refresh", auth_h_refresh, "public" },
        { "POST", "/api/logout", auth_h_logout, "token" },
        { "POST", "/api/logout-all", auth_h_logout_all, "token" },
        { "GET", "/api/me", auth_h_me, "token" },
        { "POST", "/api/password", auth_h_password, "token" },
        { "GET", "/api/admin/users", auth_h_admin_list, "role:admin" },
        { "PATCH", "/api/admin/users/:id", auth_h_admin_patch, "role:admin" },
        { "DELETE", "/api/admin/users/:id", auth_h_admin_delete, "role:admin" },
        { "GET", "/api/admin/audit", auth_h_admin_audit, "role:admin" },
        { "GET", "/.well-known/jwks.json", auth_h_jwks, "public" },
        { "GET", "/api/auth/check", auth_h_check, "token" },
        { "POST", "/api/login/mfa", auth_h_login_mfa, "public" },
        { "POST", "/api/mfa/totp/setup", auth_h_totp_setup, "token" },
        { "POST", "/api/mfa/totp/enable", auth_h_totp_enable, "token" },
        { "POST", "/api/mfa/totp/disable", auth_h_totp_disable, "token" },
        { "POST", "/api/admin/users/:id/mfa-reset", auth_h_admin_mfa_reset, "role:admin" },
        { "POST", "/api/admin/users/:id/password-reset", auth_h_admin_password_reset,
          "role:admin" },
        { "POST", "/api/password/reset", auth_h_password_reset, "public" },
        { "GET", "/api/sessions", auth_h_sessions, "token" },
        { "POST", "/api/token/logout", auth_h_token_logout, "public" },
        { "DELETE", "/api/sessions/:id", auth_h_session_end, "token" },
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (pc_route(s, routes[i].method, routes[i].pattern, routes[i].access, routes[i].fn, ctx) !=
            0)
            return -1;
    /* Browsers in cookie mode only send the refresh cookie under /api/token. */
    if (ctx->cfg.auth->refresh_cookie &&
        pc_route(s, "POST", "/api/token/revoke", "token", auth_h_logout, ctx) != 0)
        return -1;
    return 0;
}
