/* demo_user.c: the demo's throwaway account (see demo_user.h). */
#include "auth/demo_user.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/admin.h"
#include "db/users.h"
#include "server/log.h"

int auth_demo_user_reserved(const struct auth_settings *set, const char *name)
{
    return !set->demo && strcasecmp(name, AUTH_DEMO_USER) == 0;
}

/* Deletes it in one transaction with its audit row; never the last enabled
 * admin. 0, DB_NOTFOUND (no such user), DB_CONFLICT, or DB_*. */
static int remove_in(struct db *db, struct db_user *u, int64_t now)
{
    int64_t admins = 0;
    int rc = db_user_by_name(db, AUTH_DEMO_USER, u);
    if (rc == 0 && strcmp(u->role, "admin") == 0 && !u->disabled &&
        (rc = db_admin_count_enabled(db, &admins)) == 0 && admins < 2)
        rc = DB_CONFLICT;
    if (rc == 0)
        rc = db_user_delete(db, u->id);
    if (rc == 0)
        rc = db_audit_keep_name(db, u->id, u->username);
    if (rc == 0)
        rc = db_audit_add_by(db, "demo_user_removed", u->id, u->username, 0, "local",
                             "its password is published", now);
    return rc;
}

void auth_demo_user_remove(const struct auth_settings *set)
{
    struct db *db = NULL;
    struct db_user u;
    char err[512] = "";
    if (db_open(&db, config_db_target(set->db), set->db->busy_timeout_ms, err, sizeof err) != 0) {
        log_warn("demo user: %s", err);
        db_close(db);
        return;
    }
    int rc = db_begin(db);
    if (rc == 0)
        rc = remove_in(db, &u, (int64_t)time(NULL));
    if (rc == 0)
        rc = db_commit(db);
    if (rc == 0)
        log_info("demo user '%s' removed (its password is published)", u.username);
    else if (rc != DB_NOTFOUND)
        log_warn("demo user: not removed: %s",
                 rc == DB_CONFLICT ? "it is the last enabled admin" : db_errmsg(db));
    db_rollback(db);
    db_close(db);
}
