/* tokens.c: refresh-token rows. Rotation is one transaction whose first
 * statement claims the old row with a conditional UPDATE: SQLite serialises
 * writers, and on PostgreSQL a second claim waits for the first's row lock
 * and then re-checks the condition on the committed row, so only one
 * rotation can see the row live, and a crash leaves either the old token
 * live or the new one, never both. */
#include "db/tokens.h"

#include <string.h>

#include "db/db_internal.h"

#define REFRESH_INSERT                                                                  \
    "INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at, created_at) " \
    "VALUES (?1, ?2, ?3, ?4, ?5)"

static int insert_row(struct db *db, int64_t user_id, const char *family, const unsigned char *hash,
                      int64_t expires_at, int64_t now, int64_t *id)
{
    size_t n = family ? strlen(family) : 0;
    int rc;

    if (n == 0 || n > DB_FAMILY_MAX)
        return db_failf(db, DB_ERROR, "family must be 1 to %d bytes", DB_FAMILY_MAX);
    rc = db_exec(db, DB_STMT_REFRESH_INSERT,
                 db_pick(db, REFRESH_INSERT, REFRESH_INSERT " RETURNING id"), "ithii", user_id,
                 family, hash, expires_at, now);
    if (rc == DB_NOTFOUND)
        db_failf(db, rc, "no such user");
    if (rc == 0)
        *id = db_last_rowid(db);
    return rc;
}

int db_refresh_insert(struct db *db, int64_t user_id, const char *family,
                      const unsigned char hash[DB_TOKEN_HASH_LEN], int64_t expires_at, int64_t now,
                      int64_t *id)
{
    int64_t rowid = 0;
    int rc = insert_row(db, user_id, family, hash, expires_at, now, &rowid);

    if (rc == 0 && id)
        *id = rowid;
    return rc;
}

int db_refresh_find(struct db *db, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    struct db_refresh *out)
{
    struct db_stmt *st = db_query(db, DB_STMT_REFRESH_FIND,
                                  "SELECT id, user_id, family, expires_at, created_at, revoked_at, "
                                  "replaced_by FROM refresh_tokens WHERE token_hash = ?1",
                                  "h", hash);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    memset(out, 0, sizeof *out);
    out->id = db_col_i64(st, 0);
    out->user_id = db_col_i64(st, 1);
    rc = db_col_text(db, st, 2, out->family, sizeof out->family);
    out->expires_at = db_col_i64(st, 3);
    out->created_at = db_col_i64(st, 4);
    out->revoked_at = db_col_i64(st, 5); /* NULL reads as 0 */
    out->replaced_by = db_col_i64(st, 6);
out:
    db_stmt_reset(st);
    return rc;
}

/* Marks old_id used if, and only if, it is still live; returns its owner
 * and family. DB_NOTFOUND when it is not live (see why_not_live). */
static int claim(struct db *db, int64_t old_id, int64_t now, int64_t *user_id, char *family)
{
    struct db_stmt *st = db_query(db, DB_STMT_REFRESH_CLAIM,
                                  "UPDATE refresh_tokens SET revoked_at = ?2 "
                                  "WHERE id = ?1 AND revoked_at IS NULL AND replaced_by IS NULL "
                                  "AND expires_at > ?2 RETURNING user_id, family",
                                  "ii", old_id, now);
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) != 0)
        goto out;
    *user_id = db_col_i64(st, 0);
    if ((rc = db_col_text(db, st, 1, family, DB_FAMILY_MAX + 1)) == 0)
        rc = db_step_finish(db, st);
out:
    db_stmt_reset(st);
    return rc;
}

/* Tells a reused token (DB_CONFLICT) from a missing or expired one. */
static int why_not_live(struct db *db, int64_t old_id)
{
    struct db_stmt *st = db_query(db, DB_STMT_REFRESH_STATE,
                                  "SELECT revoked_at IS NOT NULL OR replaced_by IS NOT NULL "
                                  "FROM refresh_tokens WHERE id = ?1",
                                  "i", old_id);
    int rc;

    if (!st)
        return DB_ERROR;
    rc = db_step_row(db, st);
    if (rc == 0)
        rc = db_col_i64(st, 0) ? db_failf(db, DB_CONFLICT, "refresh token already used")
                               : db_failf(db, DB_NOTFOUND, "refresh token expired");
    else if (rc == DB_NOTFOUND)
        db_failf(db, rc, "no such refresh token");
    db_stmt_reset(st);
    return rc;
}

static int link_successor(struct db *db, int64_t old_id, int64_t new_id)
{
    return db_exec(db, DB_STMT_REFRESH_LINK,
                   "UPDATE refresh_tokens SET replaced_by = ?2 WHERE id = ?1", "ii", old_id,
                   new_id);
}

int db_refresh_rotate(struct db *db, int64_t old_id,
                      const unsigned char new_hash[DB_TOKEN_HASH_LEN], int64_t expires_at,
                      int64_t now, int64_t *new_id)
{
    char family[DB_FAMILY_MAX + 1];
    int64_t user_id = 0, nid = 0;
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    rc = claim(db, old_id, now, &user_id, family);
    if (rc == DB_NOTFOUND)
        rc = why_not_live(db, old_id);
    if (rc == 0)
        rc = insert_row(db, user_id, family, new_hash, expires_at, now, &nid);
    if (rc == 0)
        rc = link_successor(db, old_id, nid);
    rc = db_atomic_end(db, outer, rc);
    if (rc == 0 && new_id)
        *new_id = nid;
    return rc;
}

int db_refresh_revoke_family(struct db *db, const char *family, int64_t now)
{
    return db_exec(db, DB_STMT_REFRESH_REVOKE_FAMILY,
                   "UPDATE refresh_tokens SET revoked_at = ?2 "
                   "WHERE family = ?1 AND revoked_at IS NULL",
                   "ti", family ? family : "", now);
}

int db_refresh_revoke_user(struct db *db, int64_t user_id, int64_t now)
{
    return db_exec(db, DB_STMT_REFRESH_REVOKE_USER,
                   "UPDATE refresh_tokens SET revoked_at = ?2 "
                   "WHERE user_id = ?1 AND revoked_at IS NULL",
                   "ii", user_id, now);
}

int db_refresh_purge_expired(struct db *db, int64_t now)
{
    return db_exec(db, DB_STMT_REFRESH_PURGE, "DELETE FROM refresh_tokens WHERE expires_at <= ?1",
                   "i", now);
}
