/* handlers_reset.c: password reset without email: an admin issues a
 * one-time token (the operator can too: `user reset-password NAME`), the
 * user spends it with a new password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "auth/auth.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/middleware.h"
#include "auth/request.h"
#include "db/admin.h"
#include "db/audit.h"
#include "db/resets.h"
#include "db/tokens.h"
#include "db/users.h"
#include "server/portcullis_int.h"

int auth_reset_issue(struct db *db, int64_t user_id, const char *username, int64_t actor,
                     const char *ip, char token[AUTH_REFRESH_TOKEN_LEN + 1])
{
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    int64_t now = (int64_t)time(NULL);
    if (auth_refresh_mint(token, hash) != 0)
        return DB_ERROR;
    int rc = db_reset_issue(db, user_id, hash, now, now + AUTH_RESET_TTL_S);
    if (rc == 0)
        rc = db_audit_add_by(db, "password_reset_issued", user_id, username, actor, ip, NULL, now);
    if (rc != 0)
        mbedtls_platform_zeroize(token, AUTH_REFRESH_TOKEN_LEN + 1);
    return rc;
}

static void issue_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    char token[AUTH_REFRESH_TOKEN_LEN + 1];
    if (db_begin(db) != 0) {
        auth_job_db_error(j, db, "reset token");
        return;
    }
    int rc = db_user_by_id(db, j->target_id, &u);
    if (rc == 0)
        rc = auth_reset_issue(db, u.id, u.username, j->user_id, j->ip, token);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        if (rc == DB_NOTFOUND)
            auth_job_fail(j, 404, "not_found", "no such user");
        else
            auth_job_db_error(j, db, "reset token");
        db_rollback(db);
        return;
    }
    auth_job_ok(j, 200,
                json_pack("{s:s, s:i}", "reset_token", token, "expires_in", AUTH_RESET_TTL_S));
    mbedtls_platform_zeroize(token, sizeof token);
}

int auth_h_admin_password_reset(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    int64_t id = auth_target_id(ex);
    if (id == 0)
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, arg, issue_run);
    if (j == NULL)
        return PC_DONE;
    j->target_id = id;
    j->user_id = auth_principal(ex)->id;
    return auth_job_submit(j);
}

/* The token is spent, the password set, every session and access token of
 * the user ended, the lockout cleared: one transaction. */
static void reset_run(struct auth_job *j, struct db *db)
{
    unsigned char th[AUTH_REFRESH_HASH_LEN];
    char hash[AUTH_PW_HASH_MAX];
    struct db_user u;
    int64_t now = (int64_t)time(NULL), uid = 0;
    auth_job_fail(j, 401, "invalid_reset_token", "the reset token is unknown, spent or expired");
    if (auth_refresh_hash(j->refresh, strlen(j->refresh), th) != 0)
        return;
    int rc = db_reset_find(db, th, now, &uid);
    if (rc != 0) {
        if (rc != DB_NOTFOUND)
            auth_job_db_error(j, db, "reset lookup");
        return;
    }
    if (auth_pw_hash(&j->ctx->pw, j->new_password, j->new_password_len, hash, sizeof hash) != 0) {
        auth_job_fail(j, 500, "internal", "the password could not be hashed");
        return;
    }
    rc = db_begin(db);
    if (rc == 0)
        rc = db_reset_spend(db, th, now);
    if (rc == 0)
        rc = db_user_by_id(db, uid, &u);
    if (rc == 0)
        rc = db_user_set_password(db, uid, hash, now, 1);
    if (rc == 0)
        rc = db_refresh_revoke_user(db, uid, now);
    if (rc == 0)
        rc = auth_guard_clear(db, u.username);
    if (rc == 0)
        rc = db_audit_add(db, "password_reset", uid, u.username, j->ip, NULL, now);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        if (rc != DB_NOTFOUND) /* spent by a concurrent reset: stays 401 */
            auth_job_db_error(j, db, "password reset");
        db_rollback(db);
        return;
    }
    auth_userstate_forget(j->ctx->users, uid);
    auth_job_ok(j, 204, NULL);
}

int auth_h_password_reset(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    const char *tok = NULL, *pw = NULL;
    size_t toklen = 0, pwlen = 0;
    struct auth_field f[] = {
        { "reset_token", AUTH_F_STRING, 1, &tok, &toklen, NULL, NULL },
        { "new_password", AUTH_F_STRING, 1, &pw, &pwlen, NULL, NULL },
    };
    struct auth_job *j = NULL;
    /* Every attempt takes from the client's login bucket: guessing tokens
     * is as limited as guessing passwords. */
    if (auth_limited(ex, ctx->login_ip, ex->req.client_ip))
        return PC_DONE;
    json_t *body = pc_body_json(req);
    if (body == NULL || auth_req_fields(ex, body, f, 2) != 0)
        goto out;
    if (auth_pw_check_length(pwlen) != 0) {
        pc_error(req, 422, "invalid_password", "passwords are 8 to 1024 bytes long");
        goto out;
    }
    if ((j = auth_job_new(ex, ctx, reset_run)) == NULL)
        goto out;
    snprintf(j->refresh, sizeof j->refresh, "%.*s", toklen < sizeof j->refresh ? (int)toklen : 0,
             tok);
    if (auth_job_secret(&j->new_password, &j->new_password_len, pw, pwlen) != 0) {
        pc_error(req, 503, "unavailable", "out of memory");
        auth_job_discard(j);
        goto out;
    }
    json_decref(body);
    return auth_job_submit(j);
out:
    json_decref(body);
    return PC_DONE;
}
