/* handlers_session.c: register, login, refresh, logout, logout-all. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/demo_user.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/middleware.h"
#include "auth/request.h"
#include "auth/session.h"
#include "server/metrics.h"
#include "db/audit.h"
#include "db/tokens.h"
#include "db/users.h"
#include "server/portcullis_int.h"

#define REFRESH_COOKIE "pc_refresh"

static const char invalid_credentials[] = "wrong username or password";

static void lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[n] = '\0';
}

int auth_limited(struct http_exchange *ex, struct auth_limiter *lim, const char *key)
{
    size_t keylen = strlen(key);
    int retry = 1;
    if (auth_limiter_take(lim, key, keylen, (int64_t)loop_now(ex->loop), &retry) == 0)
        return 0;
    char num[24];
    snprintf(num, sizeof num, "%d", retry);
    http_resp_error(&ex->resp, 429, "rate_limited", "too many attempts, retry later");
    http_resp_header(&ex->resp, "Retry-After", num);
    return 1;
}

/* Reads {username, password} (both strings) into the job. 0 or -1 (resp set). */
static int read_credentials(struct http_exchange *ex, struct auth_job *j, int strict_username)
{
    const char *user = NULL, *pw = NULL;
    size_t ulen = 0, pwlen = 0;
    struct auth_field f[] = {
        { "username", AUTH_F_STRING, 1, &user, &ulen, NULL, NULL },
        { "password", AUTH_F_STRING, 1, &pw, &pwlen, NULL, NULL },
        { "refresh_cookie", AUTH_F_BOOL, 0, NULL, NULL, &j->cookie_mode, NULL },
    };
    json_t *body = auth_req_json(ex);
    if (body == NULL || auth_req_fields(ex, body, f, 3) != 0)
        goto fail;
    if (!auth_username_valid(user, ulen)) {
        if (strict_username) {
            http_resp_error(&ex->resp, 422, "invalid_username",
                            "usernames are 3 to 64 characters of A-Z a-z 0-9 . _ -");
            goto fail;
        }
        ulen = 0; /* cannot exist: the login fails like any unknown user */
    }
    memcpy(j->username, user, ulen);
    j->username[ulen] = '\0';
    if (auth_job_secret(&j->password, &j->password_len, pw, pwlen) != 0) {
        http_resp_error(&ex->resp, 503, "unavailable", "out of memory");
        goto fail;
    }
    json_decref(body);
    return 0;
fail:
    json_decref(body);
    return -1;
}

/* ---- register ---- */

static void register_run(struct auth_job *j, struct db *db)
{
    char hash[AUTH_PW_HASH_MAX];
    int64_t id = 0, now = (int64_t)time(NULL);
    if (auth_pw_hash(&j->ctx->pw, j->password, j->password_len, hash, sizeof hash) != 0)
        return;
    int rc = db_begin(db);
    if (rc == 0)
        rc = db_user_create(db, j->username, hash, "user", now, &id);
    if (rc == 0)
        rc = db_audit_add(db, "register", id, j->username, j->ip, NULL, now);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        if (rc == DB_CONFLICT)
            auth_job_fail(j, 409, "username_taken", "that username is already registered");
        else
            auth_job_db_error(j, db, "register");
        db_rollback(db);
        return;
    }
    auth_job_ok(j, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "username", j->username));
}

int auth_h_register(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    const char *ip = ex->req.client_ip;
    if (auth_limited(ex, ctx->register_ip, ip))
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, ctx, register_run);
    if (j == NULL)
        return PC_DONE;
    if (read_credentials(ex, j, 1) != 0)
        goto fail;
    if (auth_pw_check_length(j->password_len) != 0) {
        pc_error(req, 422, "invalid_password", "passwords are 8 to 1024 bytes long");
        goto fail;
    }
    if (auth_demo_user_reserved(&ctx->cfg, j->username)) {
        pc_error(req, 422, "invalid_username", "that name is reserved for the demo");
        goto fail;
    }
    return auth_job_submit(j);
fail:
    auth_job_discard(j);
    return PC_DONE;
}

/* ---- tokens out ---- */

/* The refresh cookie: for browsers that asked for cookie mode (and for
 * every client when auth.refresh_cookie is on). Its path covers refresh
 * and logout under /api/token and nothing else. */
static void cookie_for(struct auth_job *j, const char *token, int max_age)
{
    if (!j->ctx->cfg.auth->refresh_cookie && !j->cookie_mode)
        return;
    snprintf(j->set_cookie, sizeof j->set_cookie,
             REFRESH_COOKIE "=%s; HttpOnly; Secure; SameSite=Strict; Path=/api/token; Max-Age=%d",
             token, max_age);
}

void auth_token_response(struct auth_job *j, int64_t uid, const char *role, int64_t epoch,
                         int64_t sid, const char *refresh, int64_t now)
{
    char *access = NULL;
    if (auth_token_issue_sid(auth_tokens_of(j->ctx), uid, role, epoch, sid, now, &access) != 0)
        return;
    json_t *body = json_pack("{s:s, s:s, s:i}", "access_token", access, "token_type", "Bearer",
                             "expires_in", auth_tokens_ttl(auth_tokens_of(j->ctx)));
    /* In cookie mode the refresh token never reaches page scripts. */
    if (body != NULL && !j->cookie_mode)
        json_object_set_new(body, "refresh_token", json_string(refresh));
    auth_job_ok(j, 200, body);
    cookie_for(j, refresh, j->ctx->cfg.auth->refresh_ttl_s);
    free(access);
}

/* ---- login ---- */

/* 429 locked with Retry-After, from a job. */
static void locked_out(struct auth_job *j, int wait)
{
    metrics_inc(MET_LOGIN_LOCKED);
    auth_job_fail(j, 429, "locked", "too many failed attempts, retry later");
    j->retry_after = wait;
}

/* 401 for every failed login, known name or not: one body, one cost. */
static void login_refused(struct auth_job *j)
{
    auth_job_fail(j, 401, "invalid_credentials", invalid_credentials);
    j->www_authenticate = 1;
}

static void login_failed(struct auth_job *j, struct db *db, const struct db_user *u, int64_t now)
{
    /* The same write for a known and an unknown name (guard.h), with its
     * event in the same transaction. */
    if (db_begin(db) != 0 || auth_guard_fail(&j->ctx->guard, db, j->username, now) < 0 ||
        db_audit_add(db, "login_failure", u ? u->id : 0, j->username[0] ? j->username : NULL, j->ip,
                     NULL, now) != 0 ||
        db_commit(db) != 0) {
        auth_job_db_error(j, db, "login failure");
        db_rollback(db);
        return;
    }
    metrics_inc(MET_LOGIN_FAILED);
    login_refused(j);
}

static void login_succeeded(struct auth_job *j, struct db *db, const struct db_user *u, int64_t now)
{
    /* With two-factor on, the password only opens the second step. */
    int mfa = auth_mfa_login_step(j, db, u, now);
    if (mfa != 0)
        return;
    char rehash[AUTH_PW_HASH_MAX] = "", refresh[AUTH_REFRESH_TOKEN_LEN + 1];
    int64_t sid = 0;
    if (auth_pw_needs_rehash(u->password_hash, &j->ctx->pw) == 1 &&
        auth_pw_hash(&j->ctx->pw, j->password, j->password_len, rehash, sizeof rehash) != 0)
        rehash[0] = '\0';
    if (db_begin(db) != 0 || auth_guard_clear(db, j->username) != 0 ||
        auth_session_start(j, db, u->id, now, refresh, &sid) != 0 ||
        (rehash[0] && db_user_set_hash_only(db, u->id, u->password_hash, rehash) == DB_ERROR) ||
        db_audit_add(db, "login_success", u->id, u->username, j->ip, NULL, now) != 0 ||
        db_commit(db) != 0) {
        auth_job_db_error(j, db, "login");
        db_rollback(db);
        return;
    }
    metrics_inc(MET_LOGIN_OK);
    auth_token_response(j, u->id, u->role, u->token_epoch, sid, refresh, now);
}

static void login_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL);
    /* Locked names are refused before any lookup or hashing, known or not. */
    int wait = auth_guard_check(&j->ctx->guard, db, j->username, now);
    if (wait != 0) {
        if (wait > 0)
            locked_out(j, wait);
        else
            auth_job_db_error(j, db, "lockout check");
        return;
    }
    /* The demo's account has a published password: outside demo mode it
     * is treated as unknown (demo_user.h). */
    int rc = j->username[0] && !auth_demo_user_reserved(&j->ctx->cfg, j->username)
                 ? db_user_by_name(db, j->username, &u)
                 : DB_NOTFOUND;
    if (rc == DB_NOTFOUND) {
        /* Same cost as a real verification: timing reveals no accounts. */
        auth_pw_dummy_verify(&j->ctx->pw, j->password, j->password_len);
        login_failed(j, db, NULL, now);
        return;
    }
    if (rc != 0) {
        auth_job_db_error(j, db, "login lookup");
        return;
    }
    if (auth_pw_verify(u.password_hash, j->password, j->password_len) != 0) {
        login_failed(j, db, &u, now);
        return;
    }
    if (u.disabled) {
        db_audit_add(db, "login_disabled", u.id, u.username, j->ip, NULL, now);
        login_refused(j);
        return;
    }
    login_succeeded(j, db, &u, now);
}

int auth_h_login(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    const char *ip = ex->req.client_ip;
    char key[65];
    if (auth_limited(ex, ctx->login_ip, ip))
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, ctx, login_run);
    if (j == NULL)
        return PC_DONE;
    if (read_credentials(ex, j, 0) != 0)
        goto fail;
    lower_copy(key, j->username, strlen(j->username));
    if (auth_limited(ex, ctx->login_user, key))
        goto fail;
    /* Never a valid password: refused here, before any lookup, the same
     * way for every name (no hash, no write, no timing difference). */
    if (j->password_len > AUTH_PW_MAX_LEN) {
        pc_error(req, 401, "invalid_credentials", invalid_credentials);
        pc_header(req, "WWW-Authenticate", "Bearer realm=\"portcullis\"");
        goto fail;
    }
    return auth_job_submit(j);
fail:
    auth_job_discard(j);
    return PC_DONE;
}

/* ---- refresh ---- */

/* A token shown after it stopped being live. A rotated token shown again
 * means two holders (theft): its whole family is revoked. A token revoked
 * by logout, a password change or an admin is merely stale: refused as
 * such, never described as reused. */
static void refresh_not_live(struct auth_job *j, struct db *db, const struct db_refresh *r,
                             int64_t now)
{
    if (r->replaced_by == 0) {
        db_audit_add(db, "refresh_revoked_use", r->user_id, NULL, j->ip, NULL, now);
        auth_job_fail(j, 401, "invalid_grant", "the refresh token was revoked");
        return;
    }
    if (db_begin(db) != 0 || db_refresh_revoke_family(db, r->family, now) != 0 ||
        db_audit_add(db, "refresh_reuse", r->user_id, NULL, j->ip, "family revoked", now) != 0 ||
        db_commit(db) != 0) {
        auth_job_db_error(j, db, "refresh family revoke");
        db_rollback(db);
        return;
    }
    metrics_inc(MET_REFRESH_REUSE);
    auth_session_forget(j, db, r->family);
    auth_job_fail(j, 401, "invalid_grant", "refresh token reused: every session of it is revoked");
}

/* Refusals are 401 invalid_grant (the client drops its tokens); database
 * failures are 503 and change nothing, so the token stays valid. */
static void refresh_run(struct auth_job *j, struct db *db)
{
    unsigned char old[AUTH_REFRESH_HASH_LEN], hash[AUTH_REFRESH_HASH_LEN];
    char next[AUTH_REFRESH_TOKEN_LEN + 1], role[DB_ROLE_MAX + 1];
    struct db_refresh r;
    int64_t now = (int64_t)time(NULL), epoch = 0;
    int disabled = 0, rc;
    auth_job_fail(j, 401, "invalid_grant", "the refresh token is invalid or expired");
    cookie_for(j, "", 0); /* a refused cookie is cleared (a new one replaces it) */
    if (auth_refresh_hash(j->refresh, strlen(j->refresh), old) != 0)
        return;
    if ((rc = db_refresh_find(db, old, &r)) != 0) {
        if (rc != DB_NOTFOUND)
            auth_job_db_error(j, db, "refresh lookup");
        return;
    }
    if (r.revoked_at != 0 || r.replaced_by != 0) {
        refresh_not_live(j, db, &r, now);
        return;
    }
    if (r.expires_at <= now)
        return;
    if ((rc = db_user_auth_state(db, r.user_id, &epoch, &disabled, role)) != 0) {
        if (rc != DB_NOTFOUND)
            auth_job_db_error(j, db, "refresh user state");
        return;
    }
    if (disabled || auth_refresh_mint(next, hash) != 0)
        return;
    int64_t sid = 0;
    if ((rc = db_begin(db)) == 0 &&
        (rc = db_refresh_rotate(db, r.id, hash, now + j->ctx->cfg.auth->refresh_ttl_s, now,
                                NULL)) == 0 &&
        (rc = auth_session_touch(j, db, r.user_id, r.family, now, &sid)) == 0)
        rc = db_commit(db);
    if (rc != 0)
        db_rollback(db);
    if (rc == DB_CONFLICT) { /* lost a race: another use, or a logout */
        if (db_refresh_find(db, old, &r) != 0)
            auth_job_db_error(j, db, "refresh lookup");
        else
            refresh_not_live(j, db, &r, now);
        return;
    }
    if (rc == DB_NOTFOUND) /* expired or deleted meanwhile */
        return;
    if (rc != 0) {
        auth_job_db_error(j, db, "refresh rotation");
        return;
    }
    auth_token_response(j, r.user_id, role, epoch, sid, next, now);
}

/* The refresh token from the body {"refresh_token": ...}, or the cookie.
 * 0, or -1 with the response set. */
static int read_refresh(struct http_exchange *ex, struct auth_job *j)
{
    const char *tok = NULL;
    size_t len = 0;
    int present = 0;
    struct auth_field f[] = { { "refresh_token", AUTH_F_STRING, 0, &tok, &len, NULL, &present } };
    json_t *body = NULL;
    int cookie = auth_req_cookie(ex, REFRESH_COOKIE, j->refresh, sizeof j->refresh) == 0;
    if (ex->req.body.n == 0 && !cookie && auth_req_is_json(ex)) {
        /* A page asking whether it still has a session: it has none. */
        http_resp_error(&ex->resp, 401, "invalid_grant", "no refresh token: log in");
        goto fail;
    }
    if (ex->req.body.n > 0 || !cookie) {
        body = auth_req_json(ex);
        if (body == NULL || auth_req_fields(ex, body, f, 1) != 0)
            goto fail;
        if (!present) {
            http_resp_json(&ex->resp, 422,
                           json_pack("{s:s, s:s, s:[s]}", "error", "invalid_fields", "detail",
                                     "refresh_token is required", "fields", "refresh_token"));
            goto fail;
        }
        snprintf(j->refresh, sizeof j->refresh, "%.*s", len < sizeof j->refresh ? (int)len : 0,
                 tok);
    } else if (!auth_req_is_json(ex)) {
        /* The cookie authenticates this request: demand a header that no
         * cross-site form can send (SameSite=Strict is the first guard). */
        http_resp_error(&ex->resp, 403, "csrf_check",
                        "a request carrying the refresh cookie must say "
                        "Content-Type: application/json");
        goto fail;
    } else {
        j->cookie_mode = 1;
    }
    json_decref(body);
    return 0;
fail:
    json_decref(body);
    return -1;
}

int auth_h_refresh(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = auth_job_new(ex, arg, refresh_run);
    if (j == NULL)
        return PC_DONE;
    if (read_refresh(ex, j) != 0) {
        auth_job_discard(j);
        return PC_DONE;
    }
    return auth_job_submit(j);
}

/* ---- logout ---- */

/* Revokes the family of j->refresh when it is a known token (of user uid;
 * of anyone when uid is 0), then answers 204 and clears the cookie.
 * Unknown or foreign tokens are ignored: logout always succeeds, and
 * reveals nothing about other users' tokens. */
static void logout_family(struct auth_job *j, struct db *db, int64_t uid)
{
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    struct db_refresh r;
    int64_t now = (int64_t)time(NULL);
    if (auth_refresh_hash(j->refresh, strlen(j->refresh), hash) == 0 &&
        db_refresh_find(db, hash, &r) == 0 && (uid == 0 || r.user_id == uid)) {
        if (db_begin(db) != 0 || db_refresh_revoke_family(db, r.family, now) != 0 ||
            db_audit_add(db, "logout", r.user_id, NULL, j->ip, NULL, now) != 0 ||
            db_commit(db) != 0) {
            auth_job_db_error(j, db, "logout");
            db_rollback(db);
            return;
        }
        auth_session_forget(j, db, r.family);
    }
    auth_job_ok(j, 204, NULL);
    cookie_for(j, "", 0);
}

static void logout_run(struct auth_job *j, struct db *db) { logout_family(j, db, j->user_id); }

int auth_h_logout(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = auth_job_new(ex, arg, logout_run);
    if (j == NULL)
        return PC_DONE;
    j->user_id = auth_principal(ex)->id;
    if (read_refresh(ex, j) != 0) {
        auth_job_discard(j);
        return PC_DONE;
    }
    return auth_job_submit(j);
}

/* Logout by the refresh token alone (POST /api/token/logout): a browser
 * after a reload holds only the cookie. Holding the token is the proof. */
static void token_logout_run(struct auth_job *j, struct db *db) { logout_family(j, db, 0); }

int auth_h_token_logout(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = auth_job_new(ex, arg, token_logout_run);
    if (j == NULL)
        return PC_DONE;
    if (read_refresh(ex, j) != 0) {
        auth_job_discard(j);
        return PC_DONE;
    }
    return auth_job_submit(j);
}

static void logout_all_run(struct auth_job *j, struct db *db)
{
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) != 0)
        return;
    if (db_user_bump_epoch(db, j->user_id, now, NULL) != 0 ||
        db_refresh_revoke_user(db, j->user_id, now) != 0 ||
        db_audit_add(db, "logout_all", j->user_id, NULL, j->ip, NULL, now) != 0 ||
        db_commit(db) != 0) {
        db_rollback(db);
        return;
    }
    auth_userstate_forget(j->ctx->users, j->user_id);
    auth_job_ok(j, 204, NULL);
    cookie_for(j, "", 0);
}

int auth_h_logout_all(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = auth_job_new(ex, arg, logout_all_run);
    if (j == NULL)
        return PC_DONE;
    j->user_id = auth_principal(ex)->id;
    return auth_job_submit(j);
}
