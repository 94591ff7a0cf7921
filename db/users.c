/* users.c: queries on the users table, each a cached prepared statement
 * with bound parameters. A change that must end sessions bumps token_epoch
 * in the same UPDATE, so no reader ever sees the change without the bump. */
#include "db/users.h"

#include <limits.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/tokens.h"

#define USER_COLS                                                               \
    "id, username, password_hash, role, disabled, token_epoch, failed_logins, " \
    "locked_until, created_at, updated_at"

#define USER_INSERT                                                              \
    "INSERT INTO users (username, password_hash, role, created_at, updated_at) " \
    "VALUES (?1, ?2, ?3, ?4, ?4)"

static int check_len(struct db *db, const char *what, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return db_failf(db, DB_ERROR, "%s must be 1 to %zu bytes", what, max);
    return 0;
}

static int check_role(struct db *db, const char *role)
{
    if (role && (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0))
        return 0;
    return db_failf(db, DB_ERROR, "role must be \"user\" or \"admin\"");
}

static int clamp_int(int64_t v) { return v > INT_MAX ? INT_MAX : v < 0 ? 0 : (int)v; }

static int read_user(struct db *db, struct db_stmt *st, struct db_user *u)
{
    int rc;

    memset(u, 0, sizeof *u);
    u->id = db_col_i64(st, 0);
    if ((rc = db_col_text(db, st, 1, u->username, sizeof u->username)) != 0 ||
        (rc = db_col_text(db, st, 2, u->password_hash, sizeof u->password_hash)) != 0 ||
        (rc = db_col_text(db, st, 3, u->role, sizeof u->role)) != 0)
        return rc;
    u->disabled = db_col_i64(st, 4) != 0;
    u->token_epoch = db_col_i64(st, 5);
    u->failed_logins = clamp_int(db_col_i64(st, 6));
    u->locked_until = db_col_i64(st, 7);
    u->created_at = db_col_i64(st, 8);
    u->updated_at = db_col_i64(st, 9);
    return 0;
}

/* Runs an UPDATE/DELETE keyed by id and turns "no row changed" into
 * DB_NOTFOUND. The statement comes bound from db_query (NULL: its error). */
static int exec_by_id(struct db *db, struct db_stmt *st)
{
    int rc = st ? db_exec_stmt(db, st) : DB_ERROR;

    if (rc == 0 && db_changes(db) == 0)
        rc = db_failf(db, DB_NOTFOUND, "no such user");
    return rc;
}

int db_user_create(struct db *db, const char *username, const char *password_hash, const char *role,
                   int64_t now, int64_t *id)
{
    int rc;

    if ((rc = check_len(db, "username", username, DB_USERNAME_MAX)) != 0 ||
        (rc = check_len(db, "password hash", password_hash, DB_HASH_MAX)) != 0 ||
        (rc = check_role(db, role)) != 0)
        return rc;
    rc = db_exec(db, DB_STMT_USER_CREATE, db_pick(db, USER_INSERT, USER_INSERT " RETURNING id"),
                 "ttti", username, password_hash, role, now);
    if (rc == DB_CONFLICT)
        db_failf(db, DB_CONFLICT, "username taken");
    if (rc == 0 && id)
        *id = db_last_rowid(db);
    return rc;
}

static int user_lookup(struct db *db, struct db_stmt *st, struct db_user *out)
{
    int rc;

    if (!st)
        return DB_ERROR;
    rc = db_step_row(db, st);

    if (rc == 0)
        rc = read_user(db, st, out);
    db_stmt_reset(st);
    return rc;
}

int db_user_by_name(struct db *db, const char *username, struct db_user *out)
{
    return user_lookup(
        db,
        db_query(db, DB_STMT_USER_BY_NAME,
                 db_pick(db, "SELECT " USER_COLS " FROM users WHERE username = ?1",
                         "SELECT " USER_COLS " FROM users WHERE lower(username) = lower(?1)"),
                 "t", username ? username : ""),
        out);
}

int db_user_by_id(struct db *db, int64_t id, struct db_user *out)
{
    return user_lookup(
        db,
        db_query(db, DB_STMT_USER_BY_ID, "SELECT " USER_COLS " FROM users WHERE id = ?1", "i", id),
        out);
}

int db_user_set_password(struct db *db, int64_t id, const char *password_hash, int64_t now,
                         int bump_epoch)
{
    int rc;

    if ((rc = check_len(db, "password hash", password_hash, DB_HASH_MAX)) != 0)
        return rc;
    return exec_by_id(db, db_query(db, DB_STMT_USER_SET_PASSWORD,
                                   "UPDATE users SET password_hash = ?2, updated_at = ?3, "
                                   "token_epoch = token_epoch + ?4 WHERE id = ?1",
                                   "itii", id, password_hash, now, (int64_t)(bump_epoch ? 1 : 0)));
}

int db_user_set_hash_only(struct db *db, int64_t id, const char *old_hash, const char *new_hash)
{
    int rc;

    if ((rc = check_len(db, "password hash", new_hash, DB_HASH_MAX)) != 0)
        return rc;
    rc = db_exec(db, DB_STMT_USER_SET_HASH_CAS,
                 "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2", "itt",
                 id, old_hash ? old_hash : "", new_hash);
    if (rc == 0 && db_changes(db) == 0)
        rc = db_failf(db, DB_CONFLICT, "password hash changed meanwhile");
    return rc;
}

int db_user_bump_epoch(struct db *db, int64_t id, int64_t now, int64_t *epoch)
{
    struct db_stmt *st = db_query(db, DB_STMT_USER_BUMP_EPOCH,
                                  "UPDATE users SET token_epoch = token_epoch + 1, updated_at = ?2 "
                                  "WHERE id = ?1 RETURNING token_epoch",
                                  "ii", id, now);
    int64_t e = 0;
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    e = db_col_i64(st, 0);
    rc = db_step_finish(db, st);
out:
    db_stmt_reset(st);
    if (rc == DB_NOTFOUND)
        db_failf(db, rc, "no such user");
    if (rc == 0 && epoch)
        *epoch = e;
    return rc;
}

int db_user_set_disabled(struct db *db, int64_t id, int disabled, int64_t now)
{
    /* SET expressions all see the old row, so the bump compares old/new
     * (CASE rather than adding a comparison: PostgreSQL's is boolean). */
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = exec_by_id(db, db_query(db, DB_STMT_USER_SET_DISABLED,
                                 "UPDATE users SET token_epoch = token_epoch + "
                                 "CASE WHEN disabled <> ?2 THEN 1 ELSE 0 END, "
                                 "disabled = ?2, updated_at = ?3 WHERE id = ?1",
                                 "iii", id, (int64_t)(disabled ? 1 : 0), now));
    if (rc == 0 && disabled)
        rc = db_refresh_revoke_user(db, id, now);
    return db_atomic_end(db, outer, rc);
}

int db_user_set_role(struct db *db, int64_t id, const char *role, int64_t now)
{
    int rc;

    if ((rc = check_role(db, role)) != 0)
        return rc;
    return exec_by_id(db, db_query(db, DB_STMT_USER_SET_ROLE,
                                   "UPDATE users SET token_epoch = token_epoch + "
                                   "CASE WHEN role <> ?2 THEN 1 ELSE 0 END, "
                                   "role = ?2, updated_at = ?3 WHERE id = ?1",
                                   "iti", id, role, now));
}

int db_user_delete(struct db *db, int64_t id)
{
    return exec_by_id(
        db, db_query(db, DB_STMT_USER_DELETE, "DELETE FROM users WHERE id = ?1", "i", id));
}

int db_user_list(struct db *db, int64_t offset, int64_t limit, db_user_cb cb, void *arg)
{
    struct db_stmt *st;
    struct db_user u;
    int rc;

    if (offset < 0 || limit < 0 || !cb)
        return db_failf(db, DB_ERROR, "invalid listing arguments");
    st = db_query(db, DB_STMT_USER_LIST,
                  "SELECT " USER_COLS " FROM users ORDER BY id LIMIT ?2 OFFSET ?1", "ii", offset,
                  limit);
    if (!st)
        return DB_ERROR;
    while ((rc = db_step(db, st)) == 1) {
        if ((rc = read_user(db, st, &u)) != 0 || cb(arg, &u) != 0)
            break;
    }
    db_stmt_reset(st);
    return rc;
}
