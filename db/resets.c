/* resets.c: see resets.h. Bound parameters only. */
#include "db/resets.h"

#include "db/db_internal.h"

static int bind_hash(sqlite3_stmt *st, int idx, const unsigned char *hash)
{
    return sqlite3_bind_blob(st, idx, hash, DB_RESET_HASH_LEN, SQLITE_STATIC);
}

static int drop_user(struct db *db, int64_t user_id)
{
    sqlite3_stmt *st = db_stmt(
        db, DB_STMT_RESET_DROP_USER,
        "DELETE FROM password_resets WHERE user_id = ?1 AND used_at IS NULL");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = sqlite3_bind_int64(st, 1, user_id)) != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}

static int insert(struct db *db, int64_t user_id, const unsigned char *hash, int64_t now,
                  int64_t expires_at)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RESET_INSERT,
                               "INSERT INTO password_resets (token_hash, user_id, created_at, "
                               "expires_at) VALUES (?1, ?2, ?3, ?4)");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = bind_hash(st, 1, hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, expires_at);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}

int db_reset_issue(struct db *db, int64_t user_id, const unsigned char hash[DB_RESET_HASH_LEN],
                   int64_t now, int64_t expires_at)
{
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = drop_user(db, user_id);
    if (rc == 0)
        rc = insert(db, user_id, hash, now, expires_at);
    return db_atomic_end(db, outer, rc);
}

int db_reset_find(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now,
                  int64_t *user_id)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RESET_FIND,
                               "SELECT user_id FROM password_resets WHERE token_hash = ?1 "
                               "AND used_at IS NULL AND expires_at > ?2");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = bind_hash(st, 1, hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, now);
    if (rc != SQLITE_OK)
        rc = db_fail(db, rc);
    else if ((rc = db_step_row(db, st)) == 0)
        *user_id = sqlite3_column_int64(st, 0);
    db_stmt_reset(st);
    return rc;
}

int db_reset_spend(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RESET_SPEND,
                               "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 "
                               "AND used_at IS NULL AND expires_at > ?2");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = bind_hash(st, 1, hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, now);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    rc = db_exec_stmt(db, st);
    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, DB_NOTFOUND, "no such live reset token");
    return rc;
}

int db_reset_purge(struct db *db, int64_t before)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RESET_PURGE,
                               "DELETE FROM password_resets WHERE expires_at < ?1 OR used_at < ?1");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = sqlite3_bind_int64(st, 1, before)) != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}
