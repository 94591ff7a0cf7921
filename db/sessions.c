/* sessions.c: see sessions.h. Bound parameters only. */
#include "db/sessions.h"

#include <string.h>

#include "db/db_internal.h"

/* "A live token of the family exists" as SQL, for the queries below. */
#define LIVE_FAMILY                                                                         \
    "EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family = s.family AND r.revoked_at IS " \
    "NULL AND r.expires_at > ?2)"

#define SESSION_INSERT                                                                  \
    "INSERT INTO sessions (user_id, family, created_at, last_used_at, ip, user_agent) " \
    "VALUES (?1, ?2, ?3, ?3, ?4, ?5)"

static int check_text(struct db *db, const char *v, size_t max)
{
    return v != NULL && strlen(v) > max ? db_failf(db, DB_ERROR, "value too long") : 0;
}

int db_session_create(struct db *db, int64_t user_id, const char *family, const char *ip,
                      const char *ua, int64_t now, int64_t *id)
{
    int rc;

    if ((rc = check_text(db, ip, DB_SESSION_IP_MAX)) != 0 ||
        (rc = check_text(db, ua, DB_SESSION_UA_MAX)) != 0)
        return rc;
    rc = db_exec(db, DB_STMT_SESSION_CREATE,
                 db_pick(db, SESSION_INSERT, SESSION_INSERT " RETURNING id"), "ititt", user_id,
                 family, now, ip, ua);
    if (rc == 0 && id)
        *id = db_last_rowid(db);
    return rc;
}

int db_session_touch(struct db *db, const char *family, const char *ip, int64_t now, int64_t *id)
{
    struct db_stmt *st;
    int rc;

    if ((rc = check_text(db, ip, DB_SESSION_IP_MAX)) != 0)
        return rc;
    st = db_query(db, DB_STMT_SESSION_TOUCH,
                  "UPDATE sessions SET last_used_at = "
                  "CASE WHEN last_used_at > ?2 THEN last_used_at ELSE ?2 END, ip = ?3 "
                  "WHERE family = ?1 RETURNING id",
                  "tit", family, now, ip);
    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    if (id)
        *id = db_col_i64(st, 0);
    rc = db_step_finish(db, st);
out:
    db_stmt_reset(st);
    return rc;
}

int db_session_list(struct db *db, int64_t user_id, int64_t now, db_session_cb cb, void *arg)
{
    struct db_stmt *st = db_query(db, DB_STMT_SESSION_LIST,
                                  "SELECT s.id, s.created_at, s.last_used_at, s.ip, s.user_agent "
                                  "FROM sessions s WHERE s.user_id = ?1 AND " LIVE_FAMILY
                                  " ORDER BY s.last_used_at DESC, s.id DESC",
                                  "ii", user_id, now);
    struct db_session row;
    int rc;

    if (!st)
        return DB_ERROR;
    while ((rc = db_step(db, st)) == 1) {
        row.id = db_col_i64(st, 0);
        row.created_at = db_col_i64(st, 1);
        row.last_used_at = db_col_i64(st, 2);
        row.ip = db_col_str(st, 3);
        row.user_agent = db_col_str(st, 4);
        if (cb(arg, &row) != 0) {
            rc = 0;
            break;
        }
    }
    db_stmt_reset(st);
    return rc;
}

int db_session_live(struct db *db, int64_t id, int64_t user_id, int64_t now, int *live)
{
    char family[65];
    int rc = db_session_family(db, id, user_id, now, family);

    *live = rc == 0;
    return rc == DB_NOTFOUND ? 0 : rc;
}

int db_session_family(struct db *db, int64_t id, int64_t user_id, int64_t now, char *family)
{
    struct db_stmt *st = db_query(db, DB_STMT_SESSION_FAMILY,
                                  "SELECT s.family FROM sessions s WHERE s.id = ?3 AND "
                                  "s.user_id = ?1 AND " LIVE_FAMILY,
                                  "iii", user_id, now, id);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0)
        rc = db_col_text(db, st, 0, family, 65);
    db_stmt_reset(st);
    return rc;
}

int db_session_id(struct db *db, const char *family, int64_t *id)
{
    return db_one_i64(
        db,
        db_query(db, DB_STMT_SESSION_ID, "SELECT id FROM sessions WHERE family = ?1", "t", family),
        id);
}

/* After a DELETE's db_exec: stores the rows it removed in *deleted (may be
 * NULL) when it succeeded. */
static int count_deleted(struct db *db, int rc, int64_t *deleted)
{
    if (rc == 0 && deleted)
        *deleted = db_changes(db);
    return rc;
}

int db_session_purge(struct db *db, int64_t now, int64_t *tokens, int64_t *sessions)
{
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = count_deleted(db,
                       db_exec(db, DB_STMT_REFRESH_PURGE_DEAD,
                               "DELETE FROM refresh_tokens WHERE expires_at <= ?1 OR family NOT IN "
                               "(SELECT family FROM refresh_tokens WHERE revoked_at IS NULL AND "
                               "expires_at > ?1)",
                               "i", now),
                       tokens);
    if (rc == 0)
        rc = count_deleted(db,
                           db_exec(db, DB_STMT_SESSION_PURGE,
                                   "DELETE FROM sessions WHERE ?1 = ?1 AND family NOT IN "
                                   "(SELECT family FROM refresh_tokens)",
                                   "i", now),
                           sessions);
    return db_atomic_end(db, outer, rc);
}
