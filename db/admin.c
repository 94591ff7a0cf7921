/* admin.c: see admin.h. Bound parameters only. */
#include "db/admin.h"

#include "db/db_internal.h"

int db_audit_add_by(struct db *db, const char *event, int64_t user_id, const char *username,
                    int64_t actor_id, const char *ip, const char *detail, int64_t now)
{
    sqlite3_stmt *st;
    int rc;

    if (!event || !*event)
        return db_failf(db, DB_ERROR, "audit event required");
    st = db_stmt(db, DB_STMT_ADMIN_AUDIT_ADD,
                 "INSERT INTO audit_log (event, user_id, username, ip, detail, at, actor_id) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return DB_ERROR;
    rc = db_bind_text(st, 1, event);
    if (rc == SQLITE_OK)
        rc = user_id ? sqlite3_bind_int64(st, 2, user_id) : sqlite3_bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = db_bind_text(st, 3, username);
    if (rc == SQLITE_OK)
        rc = db_bind_text(st, 4, ip);
    if (rc == SQLITE_OK)
        rc = db_bind_text(st, 5, detail);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, actor_id);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}

int db_audit_keep_name(struct db *db, int64_t user_id, const char *username)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_ADMIN_AUDIT_NAME,
                               "UPDATE audit_log SET username = ?2 "
                               "WHERE user_id = ?1 AND username IS NULL");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = sqlite3_bind_int64(st, 1, user_id);
    if (rc == SQLITE_OK)
        rc = db_bind_text(st, 2, username);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}

int db_admin_count_enabled(struct db *db, int64_t *count)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_ADMIN_COUNT_ENABLED,
                               "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0)
        *count = sqlite3_column_int64(st, 0);
    db_stmt_reset(st);
    return rc;
}
