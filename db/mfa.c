/* mfa.c: see mfa.h. Bound parameters only. */
#include "db/mfa.h"

#include <string.h>

#include "db/db_internal.h"

static int bind_hash(sqlite3_stmt *st, int idx, const unsigned char *hash)
{
    return sqlite3_bind_blob(st, idx, hash, DB_MFA_HASH_LEN, SQLITE_STATIC);
}

/* Binds (?1 = id, ?2 = i2) and runs a write; DB_CONFLICT / DB_NOTFOUND
 * (`none`) when it changed no row and none is not 0. */
static int exec_id(struct db *db, sqlite3_stmt *st, int64_t id, int64_t i2, int use_i2, int none)
{
    int rc;

    if (!st)
        return DB_ERROR;
    rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK && use_i2)
        rc = sqlite3_bind_int64(st, 2, i2);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    rc = db_exec_stmt(db, st);
    if (rc == 0 && none != 0 && db_changes(db) == 0)
        return db_failf(db, none, "no matching row");
    return rc;
}

int db_totp_get(struct db *db, int64_t user_id, struct db_totp *out)
{
    sqlite3_stmt *st = db_stmt(
        db, DB_STMT_TOTP_GET, "SELECT secret, enabled, last_step FROM mfa_totp WHERE user_id = ?1");
    int rc;

    memset(out, 0, sizeof *out);
    if (!st)
        return DB_ERROR;
    if ((rc = sqlite3_bind_int64(st, 1, user_id)) != SQLITE_OK) {
        rc = db_fail(db, rc);
        goto out;
    }
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    int n = sqlite3_column_bytes(st, 0);
    const void *p = sqlite3_column_blob(st, 0);
    if (p == NULL || n <= 0 || n > DB_MFA_SECRET_MAX) {
        rc = db_failf(db, DB_ERROR, "invalid stored secret");
        goto out;
    }
    memcpy(out->secret, p, (size_t)n);
    out->secret_len = (size_t)n;
    out->enabled = sqlite3_column_int64(st, 1) != 0;
    out->last_step = sqlite3_column_int64(st, 2);
out:
    db_stmt_reset(st);
    return rc;
}

int db_totp_set_pending(struct db *db, int64_t user_id, const unsigned char *sealed, size_t len,
                        int64_t now)
{
    /* The WHERE of the upsert leaves an enabled secret alone (no change). */
    sqlite3_stmt *st = db_stmt(db, DB_STMT_TOTP_SET_PENDING,
                               "INSERT INTO mfa_totp (user_id, secret, enabled, last_step, "
                               "created_at) VALUES (?1, ?2, 0, -1, ?3) "
                               "ON CONFLICT (user_id) DO UPDATE SET secret = ?2, last_step = -1, "
                               "created_at = ?3 WHERE enabled = 0");
    int rc;

    if (!st)
        return DB_ERROR;
    if (len == 0 || len > DB_MFA_SECRET_MAX)
        return db_failf(db, DB_ERROR, "invalid secret length");
    rc = sqlite3_bind_int64(st, 1, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 2, sealed, (int)len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    rc = db_exec_stmt(db, st);
    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, DB_CONFLICT, "two-factor already enabled");
    return rc;
}

int db_totp_enable(struct db *db, int64_t user_id, int64_t step)
{
    return exec_id(db,
                   db_stmt(db, DB_STMT_TOTP_ENABLE,
                           "UPDATE mfa_totp SET enabled = 1, last_step = ?2 "
                           "WHERE user_id = ?1 AND enabled = 0"),
                   user_id, step, 1, DB_CONFLICT);
}

int db_totp_use_step(struct db *db, int64_t user_id, int64_t step)
{
    return exec_id(db,
                   db_stmt(db, DB_STMT_TOTP_USE_STEP,
                           "UPDATE mfa_totp SET last_step = ?2 "
                           "WHERE user_id = ?1 AND enabled = 1 AND last_step < ?2"),
                   user_id, step, 1, DB_CONFLICT);
}

int db_mfa_remove(struct db *db, int64_t user_id, int *removed)
{
    int outer, rc, had = 0;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = exec_id(db, db_stmt(db, DB_STMT_TOTP_DELETE, "DELETE FROM mfa_totp WHERE user_id = ?1"),
                 user_id, 0, 0, 0);
    if (rc == 0)
        had = db_changes(db) > 0;
    if (rc == 0)
        rc = exec_id(
            db, db_stmt(db, DB_STMT_RECOVERY_DELETE, "DELETE FROM mfa_recovery WHERE user_id = ?1"),
            user_id, 0, 0, 0);
    if (rc == 0)
        rc = exec_id(
            db,
            db_stmt(db, DB_STMT_MFA_TOKEN_DELETE_USER, "DELETE FROM mfa_tokens WHERE user_id = ?1"),
            user_id, 0, 0, 0);
    rc = db_atomic_end(db, outer, rc);
    if (rc == 0 && removed)
        *removed = had;
    return rc;
}

int db_recovery_replace(struct db *db, int64_t user_id, const unsigned char (*hashes)[32], size_t n)
{
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = exec_id(
        db, db_stmt(db, DB_STMT_RECOVERY_DELETE, "DELETE FROM mfa_recovery WHERE user_id = ?1"),
        user_id, 0, 0, 0);
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_stmt *st = db_stmt(db, DB_STMT_RECOVERY_INSERT,
                                   "INSERT INTO mfa_recovery (user_id, code_hash) VALUES (?1, ?2)");
        if (!st) {
            rc = DB_ERROR;
            break;
        }
        rc = sqlite3_bind_int64(st, 1, user_id);
        if (rc == SQLITE_OK)
            rc = bind_hash(st, 2, hashes[i]);
        if (rc != SQLITE_OK) {
            db_stmt_reset(st);
            rc = db_fail(db, rc);
            break;
        }
        rc = db_exec_stmt(db, st);
    }
    return db_atomic_end(db, outer, rc);
}

int db_recovery_use(struct db *db, int64_t user_id, const unsigned char hash[DB_MFA_HASH_LEN],
                    int64_t now)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RECOVERY_USE,
                               "UPDATE mfa_recovery SET used_at = ?3 "
                               "WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = sqlite3_bind_int64(st, 1, user_id);
    if (rc == SQLITE_OK)
        rc = bind_hash(st, 2, hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    rc = db_exec_stmt(db, st);
    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, DB_NOTFOUND, "no such unused recovery code");
    return rc;
}

int db_recovery_left(struct db *db, int64_t user_id, int64_t *left)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_RECOVERY_LEFT,
                               "SELECT count(*) FROM mfa_recovery "
                               "WHERE user_id = ?1 AND used_at IS NULL");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = sqlite3_bind_int64(st, 1, user_id)) != SQLITE_OK)
        rc = db_fail(db, rc);
    else if ((rc = db_step_row(db, st)) == 0)
        *left = sqlite3_column_int64(st, 0);
    db_stmt_reset(st);
    return rc;
}

int db_mfa_token_insert(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t user_id,
                        int64_t token_epoch, int64_t expires_at)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_MFA_TOKEN_INSERT,
                               "INSERT INTO mfa_tokens (token_hash, user_id, token_epoch, "
                               "expires_at) VALUES (?1, ?2, ?3, ?4)");
    int rc;

    if (!st)
        return DB_ERROR;
    rc = bind_hash(st, 1, hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, token_epoch);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, expires_at);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    return db_exec_stmt(db, st);
}

int db_mfa_token_find(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t *user_id,
                      int64_t *token_epoch, int64_t *expires_at)
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_MFA_TOKEN_FIND,
                               "SELECT user_id, token_epoch, expires_at FROM mfa_tokens "
                               "WHERE token_hash = ?1");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = bind_hash(st, 1, hash)) != SQLITE_OK)
        rc = db_fail(db, rc);
    else if ((rc = db_step_row(db, st)) == 0) {
        *user_id = sqlite3_column_int64(st, 0);
        *token_epoch = sqlite3_column_int64(st, 1);
        *expires_at = sqlite3_column_int64(st, 2);
    }
    db_stmt_reset(st);
    return rc;
}

int db_mfa_token_spend(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN])
{
    sqlite3_stmt *st = db_stmt(db, DB_STMT_MFA_TOKEN_SPEND,
                               "DELETE FROM mfa_tokens WHERE token_hash = ?1");
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = bind_hash(st, 1, hash)) != SQLITE_OK) {
        db_stmt_reset(st);
        return db_fail(db, rc);
    }
    rc = db_exec_stmt(db, st);
    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, DB_NOTFOUND, "no such mfa token");
    return rc;
}

int db_mfa_token_purge(struct db *db, int64_t now)
{
    return exec_id(
        db, db_stmt(db, DB_STMT_MFA_TOKEN_PURGE, "DELETE FROM mfa_tokens WHERE expires_at <= ?1"),
        now, 0, 0, 0);
}
