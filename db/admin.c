/* admin.c: see admin.h. Bound parameters only. */
#include "db/admin.h"

#include "db/db_internal.h"

int db_audit_add_by(struct db *db, const char *event, int64_t user_id, const char *username,
                    int64_t actor_id, const char *ip, const char *detail, int64_t now)
{
    if (!event || !*event)
        return db_failf(db, DB_ERROR, "audit event required");
    return db_exec(db, DB_STMT_ADMIN_AUDIT_ADD,
                   "INSERT INTO audit_log (event, user_id, username, ip, detail, at, actor_id) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   "trtttii", event, user_id, username, ip, detail, now, actor_id);
}

int db_audit_keep_name(struct db *db, int64_t user_id, const char *username)
{
    return db_exec(db, DB_STMT_ADMIN_AUDIT_NAME,
                   "UPDATE audit_log SET username = ?2 "
                   "WHERE user_id = ?1 AND username IS NULL",
                   "it", user_id, username);
}

int db_admin_count_enabled(struct db *db, int64_t *count)
{
    /* On PostgreSQL the count locks the rows it counts (see db_begin in
     * stmt.c): inside an admin change's transaction, a concurrent change
     * waits here until this one commits, then counts what it left, so two
     * admins demoting each other at once cannot leave none. */
    return db_one_i64(
        db,
        db_query(db, DB_STMT_ADMIN_COUNT_ENABLED,
                 db_pick(db, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
                         "SELECT count(*) FROM (SELECT id FROM users "
                         "WHERE role = 'admin' AND disabled = 0 FOR UPDATE) a"),
                 ""),
        count);
}
