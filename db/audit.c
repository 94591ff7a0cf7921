/* audit.c: audit_log rows, with bound parameters only: usernames and
 * details come straight from requests. */
#include "db/audit.h"

#include "db/db_internal.h"

int db_audit_add(struct db *db, const char *event, int64_t user_id, const char *username,
                 const char *ip, const char *detail, int64_t now)
{
    if (!event || !*event)
        return db_failf(db, DB_ERROR, "audit event required");
    return db_exec(db, DB_STMT_AUDIT_ADD,
                   "INSERT INTO audit_log (event, user_id, username, ip, detail, at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   "trttti", event, user_id, username, ip, detail, now);
}

/* NULL for SQL NULL; sets *oom when SQLite could not produce the text. */
static const char *column_str(struct db_stmt *st, int col, int *oom)
{
    const char *p = db_col_str(st, col);

    if (!p && !db_col_null(st, col))
        *oom = 1;
    return p;
}

int db_audit_list(struct db *db, int64_t offset, int64_t limit, int64_t user_id, db_audit_cb cb,
                  void *arg)
{
    /* Two statements rather than "?3 = 0 OR user_id = ?3", which would keep
     * SQLite from using the (user_id, at) index. */
    struct db_stmt *st;
    struct db_audit row;
    int rc;

    if (offset < 0 || limit < 0 || !cb)
        return db_failf(db, DB_ERROR, "invalid listing arguments");
    st = user_id
             ? db_query(
                   db, DB_STMT_AUDIT_LIST_USER,
                   "SELECT id, event, user_id, username, ip, detail, at, actor_id FROM audit_log "
                   "WHERE user_id = ?3 ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?1",
                   "iii", offset, limit, user_id)
             : db_query(
                   db, DB_STMT_AUDIT_LIST,
                   "SELECT id, event, user_id, username, ip, detail, at, actor_id FROM audit_log "
                   "ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?1",
                   "ii", offset, limit);
    if (!st)
        return DB_ERROR;
    while ((rc = db_step(db, st)) == 1) {
        int oom = 0;

        /* The pointers stay valid until the next step: no column is read
         * twice or converted after it. */
        row.id = db_col_i64(st, 0);
        row.event = column_str(st, 1, &oom);
        row.user_id = db_col_i64(st, 2);
        row.username = column_str(st, 3, &oom);
        row.ip = column_str(st, 4, &oom);
        row.detail = column_str(st, 5, &oom);
        row.at = db_col_i64(st, 6);
        row.actor_id = db_col_null(st, 7) ? -1 : db_col_i64(st, 7);
        if (oom || !row.event) {
            rc = db_failf(db, DB_ERROR, "out of memory reading audit row");
            break;
        }
        if (cb(arg, &row) != 0) {
            rc = 0;
            break;
        }
    }
    db_stmt_reset(st);
    return rc;
}
