/* handlers_account.c: the signed-in user's own account, and the public keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/middleware.h"
#include "auth/request.h"
#include "db/audit.h"
#include "db/mfa.h"
#include "db/tokens.h"
#include "db/users.h"
#include "server/portcullis_int.h"

void auth_time_text(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *auth_user_json(const struct db_user *u, int admin_view)
{
    char created[32];
    auth_time_text(u->created_at, created);
    json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:s}", "id", (json_int_t)u->id, "username",
                          u->username, "role", u->role, "disabled", u->disabled, "created_at",
                          created);
    if (o != NULL && admin_view) {
        json_object_set_new(o, "failed_logins", json_integer(u->failed_logins));
        if (u->locked_until > time(NULL)) {
            char locked[32];
            auth_time_text(u->locked_until, locked);
            json_object_set_new(o, "locked_until", json_string(locked));
        } else {
            json_object_set_new(o, "locked_until", json_null());
        }
    }
    return o;
}

/* The middleware read the account for this request: no second read. */
int auth_h_me(struct pc_req *req, void *arg)
{
    (void)arg;
    /* The public identity, and what only auth/ knows of the account. */
    const struct auth_user_view *p = auth_principal(pc_exchange(req));
    struct pc_user who;
    struct db_user u;
    if (pc_user(req, &who) != 0)
        return pc_error(req, 500, "internal", "no identity on a token route"), PC_DONE;
    memset(&u, 0, sizeof u);
    u.id = who.id;
    u.created_at = p->created_at;
    snprintf(u.username, sizeof u.username, "%s", who.username);
    snprintf(u.role, sizeof u.role, "%s", who.role);
    json_t *o = auth_user_json(&u, 0);
    json_object_set_new(o, "mfa", json_boolean(p->mfa));
    pc_json(req, 200, o);
    return PC_DONE;
}

static void password_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    char hash[AUTH_PW_HASH_MAX];
    int64_t now = (int64_t)time(NULL);
    /* Wrong current passwords count toward the same lockout as logins: a
     * stolen access token must not allow unlimited guesses. */
    int wait = auth_guard_check(&j->ctx->guard, db, j->username, now);
    if (wait != 0) {
        if (wait < 0) {
            auth_job_db_error(j, db, "lockout check");
            return;
        }
        auth_job_fail(j, 429, "locked", "too many failed attempts, retry later");
        j->retry_after = wait;
        return;
    }
    if (db_user_by_id(db, j->user_id, &u) != 0)
        return;
    if (auth_pw_verify(u.password_hash, j->password, j->password_len) != 0) {
        if (db_begin(db) != 0 || auth_guard_fail(&j->ctx->guard, db, j->username, now) < 0 ||
            db_audit_add(db, "password_change_failed", u.id, u.username, j->ip, NULL, now) != 0 ||
            db_commit(db) != 0) {
            auth_job_db_error(j, db, "password change failure");
            db_rollback(db);
            return;
        }
        auth_job_fail(j, 403, "wrong_password", "the current password is not correct");
        return;
    }
    if (auth_pw_hash(&j->ctx->pw, j->new_password, j->new_password_len, hash, sizeof hash) != 0)
        return;
    /* New hash, new epoch (every access token dies), no refresh token left. */
    if (db_begin(db) != 0)
        return;
    if (db_user_set_password(db, u.id, hash, now, 1) != 0 ||
        db_refresh_revoke_user(db, u.id, now) != 0 || auth_guard_clear(db, j->username) != 0 ||
        db_audit_add(db, "password_change", u.id, u.username, j->ip, NULL, now) != 0 ||
        db_commit(db) != 0) {
        auth_job_db_error(j, db, "password change");
        db_rollback(db);
        return;
    }
    auth_userstate_forget(j->ctx->users, u.id);
    auth_job_ok(j, 204, NULL);
}

int auth_h_password(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    const char *old = NULL, *new = NULL;
    size_t oldlen = 0, newlen = 0;
    struct auth_field f[] = {
        { "old_password", AUTH_F_STRING, 1, &old, &oldlen, NULL, NULL },
        { "new_password", AUTH_F_STRING, 1, &new, &newlen, NULL, NULL },
    };
    struct auth_job *j = NULL;
    json_t *body = pc_body_json(req);
    if (body == NULL || auth_req_fields(ex, body, f, 2) != 0)
        goto out;
    if (auth_pw_check_length(newlen) != 0) {
        pc_error(req, 422, "invalid_password", "passwords are 8 to 1024 bytes long");
        goto out;
    }
    const struct auth_user_view *p = auth_principal(ex);
    struct auth_ctx *ctx = arg;
    char key[65];
    auth_guard_key(key, p->username);
    if (auth_limited(ex, ctx->login_user, key))
        goto out;
    j = auth_job_new(ex, arg, password_run);
    if (j == NULL)
        goto out;
    j->user_id = p->id;
    snprintf(j->username, sizeof j->username, "%s", p->username);
    if (auth_job_secret(&j->password, &j->password_len, old, oldlen) != 0 ||
        auth_job_secret(&j->new_password, &j->new_password_len, new, newlen) != 0) {
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

int auth_h_jwks(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_ctx *ctx = arg;
    char *jwks = auth_tokens_jwks_json(auth_tokens_of(ctx), (int64_t)time(NULL));
    if (jwks == NULL) {
        pc_error(req, 500, "internal", "cannot encode the key set");
        return PC_DONE;
    }
    http_resp_bytes(&ex->resp, 200, "application/json; charset=utf-8", HTTP_CONTENT_OTHER, jwks,
                    strlen(jwks));
    /* Public keys: verifiers may cache them briefly. */
    pc_header(req, "Cache-Control", "public, max-age=300");
    free(jwks);
    return PC_DONE;
}
