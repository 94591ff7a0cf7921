/* users_login.c: the users queries on the login and request hot paths:
 * failure counting with lockout, reset on success, the per-request auth
 * state, and the admin listing. */
#include <limits.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/users.h"

/* min(max_s, base_s * 2^(failed - threshold)) without overflow: doubling
 * stops as soon as the next step would pass max_s, so d <= max_s always. */
static int64_t lock_seconds(int64_t failed, int threshold, int64_t base_s, int64_t max_s)
{
    int64_t d = base_s;

    for (int64_t k = failed - threshold; k > 0; k--) {
        if (d > max_s / 2)
            return max_s;
        d *= 2;
    }
    return d;
}

static int count_failure(struct db *db, int64_t id, int64_t *failed, int64_t *until)
{
    struct db_stmt *st = db_query(
        db, DB_STMT_USER_FAIL_INC,
        "UPDATE users SET failed_logins = CASE WHEN failed_logins < 2147483647 "
        "THEN failed_logins + 1 ELSE 2147483647 END "
        "WHERE id = ?1 RETURNING failed_logins, locked_until",
        "i", id);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0) {
        *failed = db_col_i64(st, 0);
        *until = db_col_i64(st, 1);
        rc = db_step_finish(db, st);
    }
    db_stmt_reset(st);
    return rc;
}

static int set_lock(struct db *db, int64_t id, int64_t until)
{
    return db_exec(db, DB_STMT_USER_FAIL_LOCK, "UPDATE users SET locked_until = ?2 WHERE id = ?1",
                   "ii", id, until);
}

int db_user_login_failed(struct db *db, int64_t id, int64_t now, int threshold, int64_t base_s,
                         int64_t max_s, int64_t *locked_until)
{
    int64_t failed = 0, until = 0, lock;
    int outer, rc;

    if (threshold < 1 || base_s < 1 || max_s < base_s)
        return db_failf(db, DB_ERROR, "invalid lockout parameters");
    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = count_failure(db, id, &failed, &until);
    if (rc == DB_NOTFOUND)
        db_failf(db, rc, "no such user");
    if (rc == 0 && failed >= threshold) {
        lock = lock_seconds(failed, threshold, base_s, max_s);
        lock = now > INT64_MAX - lock ? INT64_MAX : now + lock;
        if (lock > until) {
            until = lock;
            rc = set_lock(db, id, until);
        }
    }
    rc = db_atomic_end(db, outer, rc);
    if (rc == 0 && locked_until)
        *locked_until = until;
    return rc;
}

int db_user_login_ok(struct db *db, int64_t id)
{
    /* The WHERE clause skips the write, and its fsync, on the usual login
     * that had nothing to reset. */
    return db_exec(db, DB_STMT_USER_LOGIN_OK,
                   "UPDATE users SET failed_logins = 0, locked_until = 0 "
                   "WHERE id = ?1 AND (failed_logins <> 0 OR locked_until <> 0)",
                   "i", id);
}

int db_user_auth_state(struct db *db, int64_t id, int64_t *epoch, int *disabled,
                       char role[DB_ROLE_MAX + 1])
{
    struct db_stmt *st = db_query(db, DB_STMT_USER_AUTH_STATE,
                                  "SELECT token_epoch, disabled, role FROM users WHERE id = ?1",
                                  "i", id);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0) {
        if (rc == DB_NOTFOUND)
            db_failf(db, rc, "no such user");
        goto out;
    }
    if (role && (rc = db_col_text(db, st, 2, role, DB_ROLE_MAX + 1)) != 0)
        goto out;
    if (epoch)
        *epoch = db_col_i64(st, 0);
    if (disabled)
        *disabled = db_col_i64(st, 1) != 0;
out:
    db_stmt_reset(st);
    return rc;
}

int db_user_count(struct db *db, int64_t *count)
{
    return db_one_i64(db, db_query(db, DB_STMT_USER_COUNT, "SELECT count(*) FROM users", ""),
                      count);
}
