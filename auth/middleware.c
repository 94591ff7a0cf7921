/* middleware.c: see middleware.h. Every check runs on the event loop: the
 * signature check is microseconds and the user lookup one indexed SELECT on
 * the loop's own connection, so a password change or a disabled account is
 * seen by the very next request on every thread. */
#include "auth/middleware.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/keyring.h"
#include "auth/token_cache.h"
#include "db/mfa.h"
#include "db/sessions.h"
#include "db/users.h"
#include "server/metrics.h"
#include "server/log.h"

static int deny(struct http_exchange *ex, const char *detail)
{
    struct http_response *r = &ex->resp;
    char hdr[256];
    http_resp_error(r, 401, "invalid_token", detail);
    snprintf(hdr, sizeof hdr,
             "Bearer realm=\"portcullis\", error=\"invalid_token\", "
             "error_description=\"%s\"",
             detail);
    http_resp_header(r, "WWW-Authenticate", hdr);
    return 1;
}

int auth_bearer_token(const struct http_request *req, char *out, size_t outlen)
{
    struct str h = http_req_header(req, "Authorization");
    if (h.p == NULL || h.n < 7 || strncasecmp(h.p, "Bearer ", 7) != 0)
        return -1;
    size_t i = 7;
    while (i < h.n && h.p[i] == ' ')
        i++;
    size_t n = h.n - i;
    if (n == 0)
        return -1;
    if (n >= outlen)
        return -2;
    memcpy(out, h.p + i, n);
    out[n] = '\0';
    return 0;
}

static int load_user(struct db *db, int64_t id, struct auth_user_view *v)
{
    struct db_user u;
    int rc = db_user_by_id(db, id, &u);
    if (rc != 0)
        return rc;
    memset(v, 0, sizeof *v);
    v->id = u.id;
    v->epoch = u.token_epoch;
    v->created_at = u.created_at;
    v->disabled = u.disabled;
    snprintf(v->role, sizeof v->role, "%s", u.role);
    snprintf(v->username, sizeof v->username, "%s", u.username);
    struct db_totp t;
    rc = db_totp_get(db, id, &t);
    if (rc != 0 && rc != DB_NOTFOUND)
        return rc;
    v->mfa = rc == 0 && t.enabled;
    return 0;
}

static int check_user(struct http_exchange *ex, struct auth_loop *al, const struct auth_claims *cl,
                      struct auth_user_view *p)
{
    struct auth_user_view v;
    uint64_t gen;
    if (auth_userstate_get(al->ctx->users, cl->user_id, loop_now(ex->loop), &v, &gen) != 0) {
        int rc = load_user(al->db, cl->user_id, &v);
        if (rc == DB_NOTFOUND) {
            metrics_inc(MET_TOKEN_REFUSED_REVOKED);
            return deny(ex, "the account no longer exists");
        }
        if (rc != 0) {
            metrics_inc(MET_DB_ERRORS);
            log_error("database error during the token check: %s", db_errmsg(al->db));
            http_resp_error(&ex->resp, 503, "unavailable", "the user store is busy, try again");
            http_resp_header(&ex->resp, "Retry-After", "1");
            return 1;
        }
        auth_userstate_put(al->ctx->users, &v, loop_now(ex->loop), gen);
    }
    if (v.disabled || v.epoch != cl->epoch) {
        metrics_inc(MET_TOKEN_REFUSED_REVOKED);
        return deny(ex, v.disabled ? "the account is disabled" : "the token was revoked");
    }
    *p = v;
    return 0;
}

/* A token naming a session (sid) dies with it: "sign out this device"
 * and logout refuse its access tokens at once, not when they expire. The
 * verdict is cached like the account state (ctx->sessions, keyed by sid,
 * `disabled` meaning ended), and forgotten when this process ends it. */
static int check_session(struct http_exchange *ex, struct auth_loop *al,
                         const struct auth_claims *cl)
{
    struct auth_user_view v;
    uint64_t gen;
    if (auth_userstate_get(al->ctx->sessions, cl->sid, loop_now(ex->loop), &v, &gen) != 0 ||
        v.epoch != cl->user_id) {
        int live = 0;
        if (db_session_live(al->db, cl->sid, cl->user_id, (int64_t)time(NULL), &live) != 0) {
            log_error("database error during the session check: %s", db_errmsg(al->db));
            http_resp_error(&ex->resp, 503, "unavailable", "the user store is busy, try again");
            http_resp_header(&ex->resp, "Retry-After", "1");
            return 1;
        }
        memset(&v, 0, sizeof v);
        v.id = cl->sid;
        v.epoch = cl->user_id;
        v.disabled = !live;
        auth_userstate_put(al->ctx->sessions, &v, loop_now(ex->loop), gen);
    }
    return v.disabled ? deny(ex, "the session has ended") : 0;
}

int auth_access_check(struct http_exchange *ex, int access, void *arg)
{
    (void)arg;
    struct auth_loop *al = ex->loop_data;
    char token[AUTH_TOKEN_MAX_LEN + 1];
    struct auth_claims cl;
    struct auth_user_view p;
    int br = auth_bearer_token(&ex->req, token, sizeof token);
    if (br == -2) {
        metrics_inc(MET_TOKEN_REFUSED_INVALID);
        return deny(ex, auth_token_strerror(AUTH_TOKEN_MALFORMED));
    }
    if (br != 0) {
        metrics_inc(MET_TOKEN_REFUSED_MISSING);
        http_resp_error(&ex->resp, 401, "unauthorized",
                        "an Authorization: Bearer token is required");
        http_resp_header(&ex->resp, "WWW-Authenticate", "Bearer realm=\"portcullis\"");
        return 1;
    }
    int rc = auth_token_cache_verify(al->tokens, auth_tokens_of(al->ctx), token,
                                     (int64_t)time(NULL), al->ctx->cfg.auth->leeway_s, &cl);
    if (rc == AUTH_TOKEN_KEY)
        auth_keyring_poke(al->ctx->keys); /* perhaps a key another instance just made */
    if (rc != 0) {
        metrics_inc(rc == AUTH_TOKEN_EXPIRED ? MET_TOKEN_REFUSED_EXPIRED
                                             : MET_TOKEN_REFUSED_INVALID);
        return deny(ex, auth_token_strerror(rc));
    }
    memset(&p, 0, sizeof p);
    if (check_user(ex, al, &cl, &p) != 0 || (cl.sid > 0 && check_session(ex, al, &cl) != 0))
        return 1;
    p.sid = cl.sid;
    const char *need = access == AUTH_ADMIN ? "admin" : access == AUTH_ROLE_USER ? "user" : NULL;
    if (need != NULL && strcmp(p.role, need) != 0) {
        char detail[64];
        snprintf(detail, sizeof detail, "this resource needs the %s role", need);
        metrics_inc(MET_TOKEN_REFUSED_ROLE);
        http_resp_error(&ex->resp, 403, "forbidden", detail);
        return 1;
    }
    struct auth_user_view *heap = malloc(sizeof *heap);
    if (heap == NULL) {
        http_resp_error(&ex->resp, 503, "unavailable", "out of memory");
        return 1;
    }
    *heap = p;
    ex->user_id = p.id;
    ex->user_name = heap->username;
    ex->user_role = heap->role;
    ex->principal = heap;
    ex->principal_free = free;
    return 0;
}

int auth_access_parse(const char *rule)
{
    if (strcmp(rule, "public") == 0)
        return AUTH_PUBLIC;
    if (strcmp(rule, "token") == 0)
        return AUTH_TOKEN;
    if (strcmp(rule, "role:admin") == 0)
        return AUTH_ADMIN;
    if (strcmp(rule, "role:user") == 0)
        return AUTH_ROLE_USER;
    return -1;
}

const struct auth_user_view *auth_principal(const struct http_exchange *ex)
{
    return ex->principal;
}

int auth_access_level(const char *rule, void *arg)
{
    (void)arg;
    int level = auth_access_parse(rule);
    return level == AUTH_PUBLIC ? -1 : level; /* the gateway handles "public" itself */
}

int auth_identity(const struct http_exchange *ex, struct gateway_identity *out, void *arg)
{
    (void)arg;
    const struct auth_user_view *p = auth_principal(ex);
    if (p == NULL)
        return -1;
    snprintf(out->user_id, sizeof out->user_id, "%lld", (long long)p->id);
    snprintf(out->username, sizeof out->username, "%s", p->username);
    snprintf(out->role, sizeof out->role, "%s", p->role);
    return 0;
}
