/* mfa.c: see mfa.h. Bound parameters only. */
#include "db/mfa.h"

#include <string.h>

#include "db/db_internal.h"
#include "db/tokens.h"

/* Hashes bind with db_query's 'h', which binds DB_TOKEN_HASH_LEN bytes. */
_Static_assert(DB_MFA_HASH_LEN == DB_TOKEN_HASH_LEN, "mfa hashes bind as 'h'");

/* Ends a write that must change a row: `code` (with `msg`) when the write
 * succeeded but changed none. */
static int must_change(struct db *db, int rc, int code, const char *msg)
{
    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, code, "%s", msg);
    return rc;
}

int db_totp_get(struct db *db, int64_t user_id, struct db_totp *out)
{
    struct db_stmt *st = db_query(
        db, DB_STMT_TOTP_GET, "SELECT secret, enabled, last_step FROM mfa_totp WHERE user_id = ?1",
        "i", user_id);
    int rc;

    memset(out, 0, sizeof *out);
    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    size_t n = 0;
    const void *p = db_col_blob(st, 0, &n);
    if (p == NULL || n == 0 || n > DB_MFA_SECRET_MAX) {
        rc = db_failf(db, DB_ERROR, "invalid stored secret");
        goto out;
    }
    memcpy(out->secret, p, n);
    out->secret_len = n;
    out->enabled = db_col_i64(st, 1) != 0;
    out->last_step = db_col_i64(st, 2);
out:
    db_stmt_reset(st);
    return rc;
}

int db_totp_set_pending(struct db *db, int64_t user_id, const unsigned char *sealed, size_t len,
                        int64_t now)
{
    int rc;

    if (len == 0 || len > DB_MFA_SECRET_MAX)
        return db_failf(db, DB_ERROR, "invalid secret length");
    /* The WHERE of the upsert leaves an enabled secret alone (no change). */
    rc = db_exec(db, DB_STMT_TOTP_SET_PENDING,
                 "INSERT INTO mfa_totp AS m (user_id, secret, enabled, last_step, "
                 "created_at) VALUES (?1, ?2, 0, -1, ?3) "
                 "ON CONFLICT (user_id) DO UPDATE SET secret = ?2, last_step = -1, "
                 "created_at = ?3 WHERE m.enabled = 0",
                 "ibi", user_id, (const void *)sealed, (int)len, now);
    return must_change(db, rc, DB_CONFLICT, "two-factor already enabled");
}

int db_totp_enable(struct db *db, int64_t user_id, int64_t step)
{
    return must_change(db,
                       db_exec(db, DB_STMT_TOTP_ENABLE,
                               "UPDATE mfa_totp SET enabled = 1, last_step = ?2 "
                               "WHERE user_id = ?1 AND enabled = 0",
                               "ii", user_id, step),
                       DB_CONFLICT, "no matching row");
}

int db_totp_use_step(struct db *db, int64_t user_id, int64_t step)
{
    return must_change(db,
                       db_exec(db, DB_STMT_TOTP_USE_STEP,
                               "UPDATE mfa_totp SET last_step = ?2 "
                               "WHERE user_id = ?1 AND enabled = 1 AND last_step < ?2",
                               "ii", user_id, step),
                       DB_CONFLICT, "no matching row");
}

static int recovery_delete(struct db *db, int64_t user_id)
{
    return db_exec(db, DB_STMT_RECOVERY_DELETE, "DELETE FROM mfa_recovery WHERE user_id = ?1", "i",
                   user_id);
}

int db_mfa_remove(struct db *db, int64_t user_id, int *removed)
{
    int outer, rc, had = 0;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = db_exec(db, DB_STMT_TOTP_DELETE, "DELETE FROM mfa_totp WHERE user_id = ?1", "i", user_id);
    if (rc == 0)
        had = db_changes(db) > 0;
    if (rc == 0)
        rc = recovery_delete(db, user_id);
    if (rc == 0)
        rc = db_exec(db, DB_STMT_MFA_TOKEN_DELETE_USER, "DELETE FROM mfa_tokens WHERE user_id = ?1",
                     "i", user_id);
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
    rc = recovery_delete(db, user_id);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = db_exec(db, DB_STMT_RECOVERY_INSERT,
                     "INSERT INTO mfa_recovery (user_id, code_hash) VALUES (?1, ?2)", "ih", user_id,
                     (const unsigned char *)hashes[i]);
    return db_atomic_end(db, outer, rc);
}

int db_recovery_use(struct db *db, int64_t user_id, const unsigned char hash[DB_MFA_HASH_LEN],
                    int64_t now)
{
    return must_change(db,
                       db_exec(db, DB_STMT_RECOVERY_USE,
                               "UPDATE mfa_recovery SET used_at = ?3 "
                               "WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                               "ihi", user_id, hash, now),
                       DB_NOTFOUND, "no such unused recovery code");
}

int db_recovery_left(struct db *db, int64_t user_id, int64_t *left)
{
    return db_one_i64(db,
                      db_query(db, DB_STMT_RECOVERY_LEFT,
                               "SELECT count(*) FROM mfa_recovery "
                               "WHERE user_id = ?1 AND used_at IS NULL",
                               "i", user_id),
                      left);
}

int db_mfa_token_insert(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t user_id,
                        int64_t token_epoch, int64_t expires_at)
{
    return db_exec(db, DB_STMT_MFA_TOKEN_INSERT,
                   "INSERT INTO mfa_tokens (token_hash, user_id, token_epoch, "
                   "expires_at) VALUES (?1, ?2, ?3, ?4)",
                   "hiii", hash, user_id, token_epoch, expires_at);
}

int db_mfa_token_find(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t *user_id,
                      int64_t *token_epoch, int64_t *expires_at)
{
    struct db_stmt *st = db_query(db, DB_STMT_MFA_TOKEN_FIND,
                                  "SELECT user_id, token_epoch, expires_at FROM mfa_tokens "
                                  "WHERE token_hash = ?1",
                                  "h", hash);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0) {
        *user_id = db_col_i64(st, 0);
        *token_epoch = db_col_i64(st, 1);
        *expires_at = db_col_i64(st, 2);
    }
    db_stmt_reset(st);
    return rc;
}

int db_mfa_token_spend(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN])
{
    return must_change(db,
                       db_exec(db, DB_STMT_MFA_TOKEN_SPEND,
                               "DELETE FROM mfa_tokens WHERE token_hash = ?1", "h", hash),
                       DB_NOTFOUND, "no such mfa token");
}

int db_mfa_token_purge(struct db *db, int64_t now)
{
    return db_exec(db, DB_STMT_MFA_TOKEN_PURGE, "DELETE FROM mfa_tokens WHERE expires_at <= ?1",
                   "i", now);
}
