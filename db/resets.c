/* resets.c: see resets.h. Bound parameters only. */
#include "db/resets.h"

#include "db/db_internal.h"
#include "db/tokens.h"

/* Hashes bind with db_query's 'h', which binds DB_TOKEN_HASH_LEN bytes. */
_Static_assert(DB_RESET_HASH_LEN == DB_TOKEN_HASH_LEN, "reset hashes bind as 'h'");

int db_reset_issue(struct db *db, int64_t user_id, const unsigned char hash[DB_RESET_HASH_LEN],
                   int64_t now, int64_t expires_at)
{
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = db_exec(db, DB_STMT_RESET_DROP_USER,
                 "DELETE FROM password_resets WHERE user_id = ?1 AND used_at IS NULL", "i",
                 user_id);
    if (rc == 0)
        rc = db_exec(db, DB_STMT_RESET_INSERT,
                     "INSERT INTO password_resets (token_hash, user_id, created_at, "
                     "expires_at) VALUES (?1, ?2, ?3, ?4)",
                     "hiii", hash, user_id, now, expires_at);
    return db_atomic_end(db, outer, rc);
}

int db_reset_find(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now,
                  int64_t *user_id)
{
    return db_one_i64(db,
                      db_query(db, DB_STMT_RESET_FIND,
                               "SELECT user_id FROM password_resets WHERE token_hash = ?1 "
                               "AND used_at IS NULL AND expires_at > ?2",
                               "hi", hash, now),
                      user_id);
}

int db_reset_spend(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now)
{
    int rc = db_exec(db, DB_STMT_RESET_SPEND,
                     "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 "
                     "AND used_at IS NULL AND expires_at > ?2",
                     "hi", hash, now);

    if (rc == 0 && db_changes(db) == 0)
        return db_failf(db, DB_NOTFOUND, "no such live reset token");
    return rc;
}

int db_reset_purge(struct db *db, int64_t before)
{
    return db_exec(db, DB_STMT_RESET_PURGE,
                   "DELETE FROM password_resets WHERE expires_at < ?1 OR used_at < ?1", "i",
                   before);
}
