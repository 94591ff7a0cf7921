/* handlers_mfa.c: TOTP two-factor: setup, enable, disable, and the second
 * step of a login. Codes and secrets are handled on pool threads (the
 * database writes, argon2 for disable); see mfa.h for sealing and the
 * recovery codes, guard.h for the lockout wrong codes count toward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "auth/auth.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/mfa.h"
#include "auth/middleware.h"
#include "auth/request.h"
#include "auth/session.h"
#include "db/audit.h"
#include "db/mfa.h"
#include "db/tokens.h"
#include "db/users.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/portcullis_int.h"

#define MFA_TOKEN_TTL_S 300 /* between the password and the code */
#define SPEND_WRONG     1   /* spend_code: wrong, replayed or already used */
#define SPEND_SEALED    2   /* spend_code: the stored secret does not open */

static void fail_sealed(struct auth_job *j, int64_t uid)
{
    log_error("cannot open the TOTP secret of user %lld: wrong auth.totp_key_file?",
              (long long)uid);
    auth_job_fail(j, 500, "internal", "the second factor cannot be checked");
}

/* Checks j->code for uid and spends it (the TOTP step, or the recovery
 * code), in the caller's transaction. 0, SPEND_WRONG, SPEND_SEALED or a
 * DB_* code. */
static int spend_code(struct auth_job *j, struct db *db, int64_t uid, int64_t now)
{
    struct db_totp t;
    unsigned char secret[TOTP_SECRET_BYTES], h[32];
    int64_t step = 0;
    int rc;
    if (j->recovery) {
        if (auth_recovery_hash(j->code, strlen(j->code), h) != 0)
            return SPEND_WRONG;
        rc = db_recovery_use(db, uid, h, now);
        return rc == DB_NOTFOUND ? SPEND_WRONG : rc;
    }
    if ((rc = db_totp_get(db, uid, &t)) != 0 || !t.enabled)
        return rc == DB_NOTFOUND || rc == 0 ? SPEND_WRONG : rc;
    if (auth_mfa_open(j->ctx->totp_key, uid, t.secret, t.secret_len, secret) != 0)
        return SPEND_SEALED;
    int ok = totp_verify(secret, sizeof secret, j->code, (time_t)now, t.last_step, &step);
    mbedtls_platform_zeroize(secret, sizeof secret);
    if (!ok)
        return SPEND_WRONG;
    rc = db_totp_use_step(db, uid, step);
    return rc == DB_CONFLICT ? SPEND_WRONG : rc; /* a race with the same code */
}

/* A wrong code: one more failure for the name (the login lockout) and its
 * event, in one transaction. 0, or -1 with a 503 set. */
static int count_wrong(struct auth_job *j, struct db *db, const struct db_user *u,
                       const char *event, int64_t now)
{
    if (db_begin(db) != 0 || auth_guard_fail(&j->ctx->guard, db, u->username, now) < 0 ||
        db_audit_add(db, event, u->id, u->username, j->ip, NULL, now) != 0 || db_commit(db) != 0) {
        auth_job_db_error(j, db, event);
        db_rollback(db);
        return -1;
    }
    return 0;
}

/* 429 when the name is locked; 1 then (or on a database error, answered). */
static int locked(struct auth_job *j, struct db *db, const char *name, int64_t now)
{
    int wait = auth_guard_check(&j->ctx->guard, db, name, now);
    if (wait < 0)
        auth_job_db_error(j, db, "lockout check");
    else if (wait > 0) {
        auth_job_fail(j, 429, "locked", "too many failed attempts, retry later");
        j->retry_after = wait;
    }
    return wait != 0;
}

/* The per-user bucket of logins (rate_limits.login_user_per_minute) also
 * meters second steps: 1 with a 429 set when empty. */
static int user_limited(struct auth_job *j, const char *name)
{
    char key[65];
    int retry = 1;
    auth_guard_key(key, name);
    if (auth_limiter_take(j->ctx->login_user, key, strlen(key), (int64_t)clock_mono_ms(), &retry) ==
        0)
        return 0;
    auth_job_fail(j, 429, "rate_limited", "too many attempts, retry later");
    j->retry_after = retry;
    return 1;
}

/* ---- the login's second step ---- */

int auth_mfa_login_step(struct auth_job *j, struct db *db, const struct db_user *u, int64_t now)
{
    struct db_totp t;
    char tok[AUTH_REFRESH_TOKEN_LEN + 1];
    unsigned char h[AUTH_REFRESH_HASH_LEN];
    int rc = db_totp_get(db, u->id, &t);
    if (rc == DB_NOTFOUND || (rc == 0 && !t.enabled))
        return 0;
    /* An opaque random token stored hashed, bound to the user's epoch: not
     * a JWT (no access anywhere), spent by the one step it is for. */
    if (rc != 0 || auth_refresh_mint(tok, h) != 0 || db_begin(db) != 0 ||
        db_mfa_token_purge(db, now) != 0 ||
        db_mfa_token_insert(db, h, u->id, u->token_epoch, now + MFA_TOKEN_TTL_S) != 0 ||
        db_audit_add(db, "login_password_ok", u->id, u->username, j->ip, "second factor due",
                     now) != 0 ||
        db_commit(db) != 0) {
        auth_job_db_error(j, db, "login second step");
        db_rollback(db);
        return -1;
    }
    auth_job_ok(j, 200,
                json_pack("{s:b, s:s, s:i}", "mfa_required", 1, "mfa_token", tok, "expires_in",
                          MFA_TOKEN_TTL_S));
    mbedtls_platform_zeroize(tok, sizeof tok);
    return 1;
}

/* The code was right: spend the mfa token, clear the failures, start the
 * session, all in the open transaction. 0 or a DB_* code. */
static int mfa_finish(struct auth_job *j, struct db *db, const struct db_user *u,
                      const unsigned char *th, char *refresh, int64_t *sid, int64_t now)
{
    int rc = db_mfa_token_spend(db, th);
    if (rc == 0)
        rc = auth_guard_clear(db, u->username);
    if (rc == 0)
        rc = auth_session_start(j, db, u->id, now, refresh, sid);
    if (rc == 0 && j->recovery)
        rc = db_audit_add(db, "recovery_code_used", u->id, u->username, j->ip, "login", now);
    if (rc == 0)
        rc = db_audit_add(db, "login_success", u->id, u->username, j->ip,
                          j->recovery ? "second factor: recovery code" : "second factor: totp",
                          now);
    return rc;
}

static void login_mfa_run(struct auth_job *j, struct db *db)
{
    unsigned char th[AUTH_REFRESH_HASH_LEN];
    char refresh[AUTH_REFRESH_TOKEN_LEN + 1];
    struct db_user u;
    int64_t now = (int64_t)time(NULL), uid = 0, epoch = 0, exp = 0, sid = 0;
    auth_job_fail(j, 401, "invalid_mfa_token", "the sign-in step is unknown or expired: log in");
    if (auth_refresh_hash(j->mfa_token, strlen(j->mfa_token), th) != 0)
        return;
    int rc = db_mfa_token_find(db, th, &uid, &epoch, &exp);
    if (rc == 0)
        rc = db_user_by_id(db, uid, &u);
    if (rc != 0) {
        if (rc != DB_NOTFOUND)
            auth_job_db_error(j, db, "mfa token lookup");
        return;
    }
    if (exp <= now || u.token_epoch != epoch || u.disabled || locked(j, db, u.username, now) ||
        user_limited(j, u.username))
        return;
    if (db_begin(db) != 0) {
        auth_job_db_error(j, db, "login second step");
        return;
    }
    rc = spend_code(j, db, uid, now);
    if (rc == 0)
        rc = mfa_finish(j, db, &u, th, refresh, &sid, now);
    if (rc == 0)
        rc = db_commit(db);
    if (rc == 0) {
        metrics_inc(MET_MFA_OK);
        metrics_inc(MET_LOGIN_OK);
        auth_token_response(j, u.id, u.role, u.token_epoch, sid, refresh, now);
        return;
    }
    db_rollback(db);
    if (rc == SPEND_WRONG)
        metrics_inc(MET_MFA_FAILED);
    if (rc == SPEND_WRONG && count_wrong(j, db, &u, "mfa_failure", now) == 0) {
        auth_job_fail(j, 401, "invalid_code", "the code is wrong or was already used");
    } else if (rc == SPEND_SEALED) {
        fail_sealed(j, uid);
    } else if (rc == DB_NOTFOUND) { /* the token was spent meanwhile */
        auth_job_fail(j, 401, "invalid_mfa_token", "the sign-in step was already used");
    } else if (rc != SPEND_WRONG) {
        auth_job_db_error(j, db, "login second step");
    }
}

/* {code} as a TOTP code; recovery codes are anything else (mfa.h). */
static void set_code(struct auth_job *j, const char *code, size_t len, int recovery)
{
    snprintf(j->code, sizeof j->code, "%.*s", len < sizeof j->code ? (int)len : 0, code);
    j->recovery = recovery;
}

int auth_h_login_mfa(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    const char *tok = NULL, *code = NULL, *rcode = NULL;
    size_t toklen = 0, codelen = 0, rlen = 0;
    int has_code = 0, has_r = 0, cookie = 0;
    struct auth_field f[] = {
        { "mfa_token", AUTH_F_STRING, 1, &tok, &toklen, NULL, NULL },
        { "code", AUTH_F_STRING, 0, &code, &codelen, NULL, &has_code },
        { "recovery_code", AUTH_F_STRING, 0, &rcode, &rlen, NULL, &has_r },
        { "refresh_cookie", AUTH_F_BOOL, 0, NULL, NULL, &cookie, NULL },
    };
    struct auth_job *j = NULL;
    if (auth_limited(ex, ctx->login_ip, ex->req.client_ip))
        return PC_DONE;
    json_t *body = pc_body_json(req);
    if (body == NULL || auth_req_fields(ex, body, f, 4) != 0)
        goto out;
    if (has_code == has_r) {
        pc_json(req, 422,
                json_pack("{s:s, s:s, s:[s,s]}", "error", "invalid_fields", "detail",
                          "give either code or recovery_code", "fields", "code", "recovery_code"));
        goto out;
    }
    if ((j = auth_job_new(ex, ctx, login_mfa_run)) == NULL)
        goto out;
    snprintf(j->mfa_token, sizeof j->mfa_token, "%.*s",
             toklen < sizeof j->mfa_token ? (int)toklen : 0, tok);
    set_code(j, has_code ? code : rcode, has_code ? codelen : rlen, has_r);
    j->cookie_mode = cookie;
    json_decref(body);
    return auth_job_submit(j);
out:
    json_decref(body);
    return PC_DONE;
}

/* ---- setup, enable, disable ---- */

static void setup_run(struct auth_job *j, struct db *db)
{
    struct db_totp t;
    unsigned char secret[TOTP_SECRET_BYTES], sealed[AUTH_MFA_SEALED_LEN];
    char b32[TOTP_SECRET_B32_BUF], uri[512];
    char *svg = NULL;
    int rc = db_totp_get(db, j->user_id, &t);
    if (rc == 0 && t.enabled) {
        auth_job_fail(j, 409, "mfa_enabled", "two-factor is already on: disable it first");
        return;
    }
    if ((rc != 0 && rc != DB_NOTFOUND) || auth_rand_bytes(secret, sizeof secret) != 0 ||
        auth_mfa_seal(j->ctx->totp_key, j->user_id, secret, sealed) != 0 ||
        totp_base32(b32, sizeof b32, secret, sizeof secret) < 0 ||
        totp_uri(uri, sizeof uri, j->ctx->cfg.auth->issuer, j->username, b32) < 0 ||
        (svg = totp_qr_svg(uri)) == NULL)
        goto out;
    rc = db_totp_set_pending(db, j->user_id, sealed, sizeof sealed, (int64_t)time(NULL));
    if (rc == DB_CONFLICT)
        auth_job_fail(j, 409, "mfa_enabled", "two-factor is already on: disable it first");
    else if (rc != 0)
        auth_job_db_error(j, db, "totp setup");
    else
        auth_job_ok(j, 200,
                    json_pack("{s:s, s:s, s:s}", "secret", b32, "otpauth_uri", uri, "qr_svg", svg));
out:
    free(svg);
    mbedtls_platform_zeroize(secret, sizeof secret);
    mbedtls_platform_zeroize(b32, sizeof b32);
    mbedtls_platform_zeroize(uri, sizeof uri);
}

/* Checks the first code against the pending secret: the step, or -1 with
 * the response set. */
static int64_t pending_step(struct auth_job *j, struct db *db, int64_t now)
{
    struct db_totp t;
    unsigned char secret[TOTP_SECRET_BYTES];
    int64_t step = -1;
    int rc = db_totp_get(db, j->user_id, &t);
    if (rc == DB_NOTFOUND || (rc == 0 && t.enabled)) {
        auth_job_fail(j, 409, rc == 0 ? "mfa_enabled" : "no_pending_setup",
                      rc == 0 ? "two-factor is already on" : "start with POST /api/mfa/totp/setup");
        return -1;
    }
    if (rc != 0) {
        auth_job_db_error(j, db, "totp enable");
        return -1;
    }
    if (auth_mfa_open(j->ctx->totp_key, j->user_id, t.secret, t.secret_len, secret) != 0) {
        fail_sealed(j, j->user_id);
        return -1;
    }
    int ok = totp_verify(secret, sizeof secret, j->code, (time_t)now, -1, &step);
    mbedtls_platform_zeroize(secret, sizeof secret);
    if (!ok) {
        auth_job_fail(j, 422, "invalid_code", "the code does not match: check the device's clock");
        return -1;
    }
    return step;
}

static void enable_run(struct auth_job *j, struct db *db)
{
    char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_BUF];
    unsigned char hashes[AUTH_RECOVERY_CODES][32];
    int64_t now = (int64_t)time(NULL), step = pending_step(j, db, now);
    if (step < 0 || auth_recovery_make(codes, hashes) != 0)
        return;
    int rc = db_begin(db);
    if (rc == 0)
        rc = db_totp_enable(db, j->user_id, step);
    if (rc == 0)
        rc = db_recovery_replace(db, j->user_id, (const unsigned char(*)[32])hashes,
                                 AUTH_RECOVERY_CODES);
    if (rc == 0)
        rc = db_audit_add(db, "mfa_enable", j->user_id, j->username, j->ip, NULL, now);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        if (rc == DB_CONFLICT)
            auth_job_fail(j, 409, "mfa_enabled", "two-factor is already on");
        else
            auth_job_db_error(j, db, "totp enable");
        db_rollback(db);
    } else {
        auth_userstate_forget(j->ctx->users, j->user_id); /* /api/me shows mfa */
        json_t *list = json_array();
        for (int i = 0; i < AUTH_RECOVERY_CODES; i++)
            json_array_append_new(list, json_string(codes[i]));
        auth_job_ok(j, 200, json_pack("{s:o}", "recovery_codes", list));
    }
    mbedtls_platform_zeroize(codes, sizeof codes);
}

/* disable: the password (argon2) and a code, both counted as failures. */
static void disable_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL);
    if (locked(j, db, j->username, now))
        return;
    if (db_user_by_id(db, j->user_id, &u) != 0)
        return;
    if (auth_pw_verify(u.password_hash, j->password, j->password_len) != 0) {
        if (count_wrong(j, db, &u, "mfa_disable_failed", now) == 0)
            auth_job_fail(j, 403, "wrong_password", "the current password is not correct");
        return;
    }
    int removed = 0, rc = db_begin(db);
    if (rc == 0)
        rc = spend_code(j, db, u.id, now);
    if (rc == 0 && j->recovery)
        rc = db_audit_add(db, "recovery_code_used", u.id, u.username, j->ip, "disable", now);
    if (rc == 0)
        rc = db_mfa_remove(db, u.id, &removed);
    if (rc == 0)
        rc = db_audit_add(db, "mfa_disable", u.id, u.username, j->ip, NULL, now);
    if (rc == 0 && (rc = db_commit(db)) == 0) {
        auth_userstate_forget(j->ctx->users, u.id);
        auth_job_ok(j, 204, NULL);
        return;
    }
    db_rollback(db);
    if (rc == SPEND_WRONG && count_wrong(j, db, &u, "mfa_disable_failed", now) == 0)
        auth_job_fail(j, 403, "invalid_code", "the code is wrong or was already used");
    else if (rc == SPEND_SEALED)
        fail_sealed(j, u.id);
    else if (rc != SPEND_WRONG)
        auth_job_db_error(j, db, "totp disable");
}

/* A job for the signed-in user, with {code} (and {password} for disable)
 * read from the body. NULL when answered already. */
static struct auth_job *code_job(struct http_exchange *ex, void *arg, auth_job_fn run,
                                 int need_code, int need_pw)
{
    const char *code = NULL, *pw = NULL;
    size_t codelen = 0, pwlen = 0;
    struct auth_field f[] = {
        { "code", AUTH_F_STRING, 1, &code, &codelen, NULL, NULL },
        { "password", AUTH_F_STRING, 1, &pw, &pwlen, NULL, NULL },
    };
    struct auth_job *j = NULL;
    json_t *body = NULL;
    if (need_code &&
        ((body = auth_req_json(ex)) == NULL || auth_req_fields(ex, body, f, need_pw ? 2 : 1) != 0))
        goto out;
    if ((j = auth_job_new(ex, arg, run)) == NULL)
        goto out;
    const struct auth_user_view *p = auth_principal(ex);
    j->user_id = p->id;
    snprintf(j->username, sizeof j->username, "%s", p->username);
    /* Six digits are a TOTP code; anything else may be a recovery code. */
    if (need_code)
        set_code(j, code, codelen, !(codelen == TOTP_DIGITS && strspn(code, "0123456789") == 6));
    if (need_pw && auth_job_secret(&j->password, &j->password_len, pw, pwlen) != 0) {
        http_resp_error(&ex->resp, 503, "unavailable", "out of memory");
        auth_job_discard(j);
        j = NULL;
    }
out:
    json_decref(body);
    return j;
}

int auth_h_totp_setup(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = code_job(ex, arg, setup_run, 0, 0);
    return j != NULL ? auth_job_submit(j) : 0;
}

int auth_h_totp_enable(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_job *j = code_job(ex, arg, enable_run, 1, 0);
    if (j != NULL && j->recovery) { /* enabling takes a code from the app */
        pc_error(req, 422, "invalid_code", "the code is the app's 6 digits");
        auth_job_discard(j);
        return PC_DONE;
    }
    return j != NULL ? auth_job_submit(j) : 0;
}

int auth_h_totp_disable(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    char key[65];
    auth_guard_key(key, auth_principal(ex)->username);
    if (auth_limited(ex, ctx->login_user, key))
        return PC_DONE;
    struct auth_job *j = code_job(ex, arg, disable_run, 1, 1);
    return j != NULL ? auth_job_submit(j) : 0;
}
