/* handlers_admin.c: user management and the audit log, for admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/middleware.h"
#include "auth/request.h"
#include "db/admin.h"
#include "db/audit.h"
#include "db/mfa.h"
#include "db/users.h"
#include "server/log.h"
#include "server/portcullis_int.h"

/* The admin view of u, its failure count and lock read from the lockout's
 * own record (guard.h), not from the users row. NULL on error. */
static json_t *admin_user_json(const struct auth_ctx *ctx, struct db *db, const struct db_user *u)
{
    int64_t failures = 0, until = 0, now = (int64_t)time(NULL);
    json_t *o = auth_user_json(u, 1);
    if (o == NULL || auth_guard_state(&ctx->guard, db, u->username, now, &failures, &until) != 0) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "failed_logins", json_integer(failures));
    if (until > now) {
        char locked[32];
        auth_time_text(until, locked);
        json_object_set_new(o, "locked_until", json_string(locked));
    } else {
        json_object_set_new(o, "locked_until", json_null());
    }
    return o;
}

struct list_arg {
    const struct auth_ctx *ctx;
    struct db *db;
    json_t *users;
};

/* A failure stops the listing and leaves users NULL (freed). */
static int add_user(void *arg, const struct db_user *u)
{
    struct list_arg *a = arg;
    json_t *o = admin_user_json(a->ctx, a->db, u);
    if (o != NULL && json_array_append_new(a->users, o) == 0)
        return 0;
    json_decref(a->users);
    a->users = NULL;
    return 1;
}

int auth_h_admin_list(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct auth_loop *al = ex->loop_data;
    long offset, limit;
    int64_t total = 0;
    if (auth_req_query_int(ex, "offset", 0, 0, 1L << 40, &offset) != 0 ||
        auth_req_query_int(ex, "limit", 50, 1, 500, &limit) != 0)
        return PC_DONE;
    json_t *users = json_array();
    struct list_arg la = { arg, al->db, users };
    if (db_user_count(al->db, &total) != 0 ||
        db_user_list(al->db, offset, limit, add_user, &la) != 0 || la.users == NULL) {
        json_decref(la.users);
        log_error("database error listing users: %s", db_errmsg(al->db));
        pc_error(req, 503, "unavailable", "the user store is busy, try again");
        return PC_DONE;
    }
    pc_json(req, 200,
            json_pack("{s:o, s:I, s:i, s:i}", "users", users, "total", (json_int_t)total, "offset",
                      (int)offset, "limit", (int)limit));
    return PC_DONE;
}

static int add_event(void *arg, const struct db_audit *a)
{
    char at[32];
    auth_time_text(a->at, at);
    json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)a->id, "event", a->event, "at", at);
    json_object_set_new(o, "user_id", a->user_id ? json_integer(a->user_id) : json_null());
    json_object_set_new(o, "username", a->username ? json_string(a->username) : json_null());
    json_object_set_new(o, "ip", a->ip ? json_string(a->ip) : json_null());
    json_object_set_new(o, "detail", a->detail ? json_string(a->detail) : json_null());
    json_object_set_new(o, "actor_id", a->actor_id >= 0 ? json_integer(a->actor_id) : json_null());
    return json_array_append_new(arg, o);
}

int auth_h_admin_audit(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    (void)arg;
    struct auth_loop *al = ex->loop_data;
    long offset, limit, user;
    if (auth_req_query_int(ex, "offset", 0, 0, 1L << 40, &offset) != 0 ||
        auth_req_query_int(ex, "limit", 100, 1, 1000, &limit) != 0 ||
        auth_req_query_int(ex, "user_id", 0, 0, 1L << 53, &user) != 0)
        return PC_DONE;
    json_t *events = json_array();
    if (db_audit_list(al->db, offset, limit, user, add_event, events) != 0) {
        json_decref(events);
        log_error("database error listing the audit log: %s", db_errmsg(al->db));
        pc_error(req, 503, "unavailable", "the audit log is busy, try again");
        return PC_DONE;
    }
    pc_json(
        req, 200,
        json_pack("{s:o, s:i, s:i}", "events", events, "offset", (int)offset, "limit", (int)limit));
    return PC_DONE;
}

/* The :id parameter, or 0 with a 404 set. */
int64_t auth_target_id(struct http_exchange *ex)
{
    long long id;
    if (pc_param_id(pc_req_of(ex), "id", &id) == 0)
        return id;
    http_resp_error(&ex->resp, 404, "not_found", "no such user");
    return 0;
}

/* The "at least one enabled admin" rule, checked inside the change's own
 * transaction so that two admins demoting each other at once cannot both
 * pass it: a change may not take the count of enabled admins (`before`,
 * counted in the same transaction) to zero. 0, DB_CONFLICT, or DB_*. */
static int keep_an_admin(struct db *db, int64_t before)
{
    int64_t after = 0;
    int rc = db_admin_count_enabled(db, &after);
    return rc != 0 ? rc : before > 0 && after == 0 ? DB_CONFLICT : 0;
}

/* The end of an admin change: commit, or roll back and answer. */
static int admin_finish(struct auth_job *j, struct db *db, int rc, const char *what)
{
    if (rc == 0 && (rc = db_commit(db)) == 0)
        return 0;
    if (rc == DB_NOTFOUND)
        auth_job_fail(j, 404, "not_found", "no such user");
    else if (rc == DB_CONFLICT)
        auth_job_fail(j, 409, "last_admin", "at least one enabled admin must remain");
    else
        auth_job_db_error(j, db, what);
    db_rollback(db);
    return -1;
}

static void patch_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    char detail[64];
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) != 0) {
        auth_job_db_error(j, db, "admin update");
        return;
    }
    int64_t admins = 0;
    int rc = db_admin_count_enabled(db, &admins);
    if (rc == 0 && j->set_disabled)
        rc = db_user_set_disabled(db, j->target_id, j->disabled, now);
    if (rc == 0 && j->set_role)
        rc = db_user_set_role(db, j->target_id, j->role, now);
    snprintf(detail, sizeof detail, "%s%s%s%s", j->set_disabled ? "disabled=" : "",
             j->set_disabled ? (j->disabled ? "true " : "false ") : "", j->set_role ? "role=" : "",
             j->set_role ? j->role : "");
    if (rc == 0)
        rc = db_user_by_id(db, j->target_id, &u);
    if (rc == 0)
        rc = keep_an_admin(db, admins);
    if (rc == 0)
        rc = db_audit_add_by(db, "admin_update", j->target_id, u.username, j->user_id, j->ip,
                             detail, now);
    if (admin_finish(j, db, rc, "admin update") != 0)
        return;
    auth_userstate_forget(j->ctx->users, j->target_id);
    json_t *view = admin_user_json(j->ctx, db, &u);
    if (view != NULL)
        auth_job_ok(j, 200, view);
}

/* Reads {disabled?: bool, role?: "user"|"admin"}; 0 or -1 (resp set). */
static int read_patch(struct http_exchange *ex, struct auth_job *j)
{
    const char *role = NULL;
    size_t rolelen = 0;
    int role_given = 0, dis_given = 0;
    struct auth_field f[] = {
        { "disabled", AUTH_F_BOOL, 0, NULL, NULL, &j->disabled, &dis_given },
        { "role", AUTH_F_STRING, 0, &role, &rolelen, NULL, &role_given },
    };
    json_t *body = auth_req_json(ex);
    int rc = -1;
    if (body == NULL || auth_req_fields(ex, body, f, 2) != 0)
        goto out;
    if (role_given && !(strcmp(role, "user") == 0 || strcmp(role, "admin") == 0)) {
        http_resp_json(&ex->resp, 422,
                       json_pack("{s:s, s:s, s:[s]}", "error", "invalid_fields", "detail",
                                 "role must be \"user\" or \"admin\"", "fields", "role"));
        goto out;
    }
    if (!role_given && !dis_given) {
        http_resp_json(&ex->resp, 422,
                       json_pack("{s:s, s:s, s:[s,s]}", "error", "invalid_fields", "detail",
                                 "give disabled and/or role", "fields", "disabled", "role"));
        goto out;
    }
    j->set_disabled = dis_given;
    j->set_role = role_given;
    if (role_given)
        snprintf(j->role, sizeof j->role, "%s", role);
    rc = 0;
out:
    json_decref(body);
    return rc;
}

/* An admin may not lock themselves out (the last way back in). */
static int refuse_self(struct http_exchange *ex, int64_t target, const char *what)
{
    if (target != auth_principal(ex)->id)
        return 0;
    http_resp_error(&ex->resp, 409, "self_change", what);
    return 1;
}

int auth_h_admin_patch(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    int64_t id = auth_target_id(ex);
    if (id == 0)
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, arg, patch_run);
    if (j == NULL)
        return PC_DONE;
    j->target_id = id;
    j->user_id = auth_principal(ex)->id;
    if (read_patch(ex, j) != 0 ||
        ((j->set_disabled && j->disabled) || (j->set_role && strcmp(j->role, "admin") != 0)
             ? refuse_self(ex, id, "admins cannot disable or demote themselves")
             : 0)) {
        auth_job_discard(j);
        return PC_DONE;
    }
    return auth_job_submit(j);
}

/* The user, its tokens (cascade) and its audit trail's missing names, the
 * admin rule and the event: one transaction, or nothing. */
static void delete_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) != 0) {
        auth_job_db_error(j, db, "admin delete");
        return;
    }
    int64_t admins = 0;
    int rc = db_admin_count_enabled(db, &admins);
    if (rc == 0)
        rc = db_user_by_id(db, j->target_id, &u);
    if (rc == 0)
        rc = db_user_delete(db, j->target_id);
    if (rc == 0)
        rc = db_audit_keep_name(db, j->target_id, u.username);
    if (rc == 0)
        rc = keep_an_admin(db, admins);
    if (rc == 0)
        rc = db_audit_add_by(db, "admin_delete", j->target_id, u.username, j->user_id, j->ip, NULL,
                             now);
    if (admin_finish(j, db, rc, "admin delete") != 0)
        return;
    auth_userstate_forget(j->ctx->users, j->target_id);
    auth_job_ok(j, 204, NULL);
}

int auth_h_admin_delete(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    int64_t id = auth_target_id(ex);
    if (id == 0 || refuse_self(ex, id, "admins cannot delete themselves"))
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, arg, delete_run);
    if (j == NULL)
        return PC_DONE;
    j->target_id = id;
    j->user_id = auth_principal(ex)->id;
    return auth_job_submit(j);
}

/* Turns the user's two-factor off (a lost phone and no recovery code). */
static void mfa_reset_run(struct auth_job *j, struct db *db)
{
    struct db_user u;
    int removed = 0;
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) != 0) {
        auth_job_db_error(j, db, "mfa reset");
        return;
    }
    int rc = db_user_by_id(db, j->target_id, &u);
    if (rc == 0)
        rc = db_mfa_remove(db, u.id, &removed);
    if (rc == 0)
        rc = db_audit_add_by(db, "admin_mfa_reset", u.id, u.username, j->user_id, j->ip,
                             removed ? "two-factor removed" : "two-factor was off", now);
    if (admin_finish(j, db, rc, "mfa reset") == 0) {
        auth_userstate_forget(j->ctx->users, j->target_id);
        auth_job_ok(j, 204, NULL);
    }
}

int auth_h_admin_mfa_reset(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    int64_t id = auth_target_id(ex);
    if (id == 0)
        return PC_DONE;
    struct auth_job *j = auth_job_new(ex, arg, mfa_reset_run);
    if (j == NULL)
        return PC_DONE;
    j->target_id = id;
    j->user_id = auth_principal(ex)->id;
    return auth_job_submit(j);
}
