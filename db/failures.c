/* failures.c: the login_failures table, bound parameters only (names come
 * straight from requests). */
#include "db/failures.h"

#include <string.h>

#include "db/db_internal.h"

static int check_name(struct db *db, const char *name)
{
    if (name == NULL || strlen(name) > DB_FAILURE_NAME_MAX)
        return db_failf(db, DB_ERROR, "failure name missing or too long");
    return 0;
}

int db_failure_get(struct db *db, const char *name, int64_t *count, int64_t *last_at)
{
    struct db_stmt *st;
    int rc;

    *count = 0;
    *last_at = 0;
    if ((rc = check_name(db, name)) != 0)
        return rc;
    st = db_query(db, DB_STMT_FAILURE_GET,
                  "SELECT failures, last_at FROM login_failures WHERE name = ?1", "t", name);
    if (!st)
        return DB_ERROR;
    rc = db_step_row(db, st);
    if (rc == 0) {
        *count = db_col_i64(st, 0);
        *last_at = db_col_i64(st, 1);
    } else if (rc == DB_NOTFOUND) {
        rc = 0;
    }
    db_stmt_reset(st);
    return rc;
}

int db_failure_add(struct db *db, const char *name, int64_t now, int64_t decay_s, int64_t *count,
                   int64_t *last_at)
{
    /* A clock stepped back never moves last_at back, and never revives a
     * decayed count: the difference is taken against the stored time. */
    struct db_stmt *st;
    int rc;

    if ((rc = check_name(db, name)) != 0)
        return rc;
    if (decay_s < 0)
        return db_failf(db, DB_ERROR, "invalid decay");
    st = db_query(db, DB_STMT_FAILURE_ADD,
                  /* f. is the stored row (unqualified, PostgreSQL finds
                   * the names ambiguous in an upsert). */
                  "INSERT INTO login_failures AS f (name, failures, last_at) VALUES (?1, 1, ?2) "
                  "ON CONFLICT (name) DO UPDATE SET "
                  "failures = CASE WHEN ?2 - f.last_at > ?3 THEN 1 "
                  "WHEN f.failures >= 1000000 THEN 1000000 ELSE f.failures + 1 END, "
                  "last_at = CASE WHEN f.last_at > ?2 THEN f.last_at ELSE ?2 END "
                  "RETURNING failures, last_at",
                  "tii", name, now, decay_s);
    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    if (count)
        *count = db_col_i64(st, 0);
    if (last_at)
        *last_at = db_col_i64(st, 1);
    rc = db_step_finish(db, st);
out:
    db_stmt_reset(st);
    return rc;
}

int db_failure_clear(struct db *db, const char *name)
{
    int rc;

    if ((rc = check_name(db, name)) != 0)
        return rc;
    return db_exec(db, DB_STMT_FAILURE_CLEAR, "DELETE FROM login_failures WHERE name = ?1", "t",
                   name);
}

int db_failure_purge(struct db *db, int64_t before)
{
    return db_exec(db, DB_STMT_FAILURE_PURGE, "DELETE FROM login_failures WHERE last_at < ?1", "i",
                   before);
}
