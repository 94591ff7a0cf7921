/* handlers_sessions.c: the signed-in user's sessions (one per device):
 * list them, end one ("sign out this device"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/handlers.h"
#include "auth/jobs.h"
#include "auth/middleware.h"
#include "auth/session.h"
#include "db/audit.h"
#include "db/sessions.h"
#include "db/tokens.h"
#include "server/log.h"
#include "server/portcullis_int.h"

struct list_arg {
    json_t *list;
    int64_t current;
};

static int add_session(void *arg, const struct db_session *s)
{
    struct list_arg *a = arg;
    char created[32], used[32];
    auth_time_text(s->created_at, created);
    auth_time_text(s->last_used_at, used);
    json_t *o = json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)s->id, "created_at", created,
                          "last_used_at", used, "current", s->id == a->current);
    if (o == NULL)
        return 1;
    json_object_set_new(o, "ip", s->ip ? json_string(s->ip) : json_null());
    json_object_set_new(o, "user_agent", s->user_agent ? json_string(s->user_agent) : json_null());
    return json_array_append_new(a->list, o) != 0;
}

/* A read on the loop's connection, like /api/me. */
int auth_h_sessions(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    (void)arg;
    struct auth_loop *al = ex->loop_data;
    const struct auth_user_view *p = auth_principal(ex);
    struct list_arg a = { json_array(), p->sid };
    if (a.list == NULL ||
        db_session_list(al->db, p->id, (int64_t)time(NULL), add_session, &a) != 0) {
        json_decref(a.list);
        log_error("database error listing sessions: %s", db_errmsg(al->db));
        pc_error(req, 503, "unavailable", "the session store is busy, try again");
        return PC_DONE;
    }
    pc_json(req, 200, json_pack("{s:o}", "sessions", a.list));
    return PC_DONE;
}

static void end_run(struct auth_job *j, struct db *db)
{
    char family[65], detail[48];
    int64_t now = (int64_t)time(NULL);
    int rc = db_begin(db);
    if (rc == 0)
        rc = db_session_family(db, j->target_id, j->user_id, now, family);
    if (rc == 0)
        rc = db_refresh_revoke_family(db, family, now);
    snprintf(detail, sizeof detail, "session %lld", (long long)j->target_id);
    if (rc == 0)
        rc = db_audit_add(db, "session_end", j->user_id, j->username, j->ip, detail, now);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        if (rc == DB_NOTFOUND)
            auth_job_fail(j, 404, "not_found", "no such session");
        else
            auth_job_db_error(j, db, "session end");
        db_rollback(db);
        return;
    }
    auth_userstate_forget(j->ctx->sessions, j->target_id);
    auth_job_ok(j, 204, NULL);
}

int auth_h_session_end(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    long long id;
    if (pc_param_id(req, "id", &id) != 0) {
        pc_error(req, 404, "not_found", "no such session");
        return PC_DONE;
    }
    struct auth_job *j = auth_job_new(ex, arg, end_run);
    if (j == NULL)
        return PC_DONE;
    const struct auth_user_view *p = auth_principal(ex);
    j->target_id = id;
    j->user_id = p->id;
    snprintf(j->username, sizeof j->username, "%s", p->username);
    return auth_job_submit(j);
}
