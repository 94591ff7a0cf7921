/* keys.c: see keys.h. Bound parameters only; each row type is read by one
 * function. */
#include "db/keys.h"

#include <string.h>

#include "db/db_internal.h"

/* The blob in column col into dst[cap]: DB_ERROR unless 1..cap bytes. */
static int read_blob(struct db *db, struct db_stmt *st, int col, unsigned char *dst, size_t cap,
                     size_t *len)
{
    size_t n = 0;
    const void *p = db_col_blob(st, col, &n);

    if (p == NULL || n == 0 || n > cap)
        return db_failf(db, DB_ERROR, "invalid stored key (%zu bytes)", n);
    memcpy(dst, p, n);
    *len = n;
    return 0;
}

/* A row of SIGNING_KEY_LIST: kid, alg, secret, created_at, retired_at. */
static int read_signing_key(struct db *db, struct db_stmt *st, struct db_signing_key *k)
{
    int rc;

    memset(k, 0, sizeof *k);
    if ((rc = db_col_text(db, st, 0, k->kid, sizeof k->kid)) != 0 ||
        (rc = db_col_text(db, st, 1, k->alg, sizeof k->alg)) != 0 ||
        (rc = read_blob(db, st, 2, k->secret, sizeof k->secret, &k->secret_len)) != 0)
        return rc;
    k->created_at = db_col_i64(st, 3);
    k->retired_at = db_col_i64(st, 4); /* NULL reads as 0: active */
    return 0;
}

/* A row of TICKET_KEY_GET: lifetime_s, starts_at, secret, created_at. */
static int read_ticket_key(struct db *db, struct db_stmt *st, struct db_ticket_key *k)
{
    memset(k, 0, sizeof *k);
    k->lifetime_s = db_col_i64(st, 0);
    k->starts_at = db_col_i64(st, 1);
    k->created_at = db_col_i64(st, 3);
    return read_blob(db, st, 2, k->secret, sizeof k->secret, &k->secret_len);
}

int db_signing_key_list(struct db *db, int64_t retired_after,
                        int (*fn)(void *arg, const struct db_signing_key *k), void *arg)
{
    struct db_signing_key k;
    struct db_stmt *st = db_query(
        db, DB_STMT_SIGNING_KEY_LIST,
        "SELECT kid, alg, secret, created_at, retired_at FROM signing_keys "
        "WHERE retired_at IS NULL OR retired_at > ?1 "
        "ORDER BY created_at DESC, kid DESC LIMIT ?2",
        "ii", retired_after, (int64_t)DB_SIGNING_KEYS_LIST_MAX);
    int rc;

    if (!st)
        return DB_ERROR;
    while ((rc = db_step(db, st)) == 1) {
        if ((rc = read_signing_key(db, st, &k)) != 0 || (rc = fn(arg, &k)) != 0)
            break;
    }
    memset(&k, 0, sizeof k);
    db_stmt_reset(st);
    return rc;
}

static int signing_key_insert(struct db *db, const struct db_signing_key *k)
{
    if (k->secret_len == 0 || k->secret_len > DB_SIGNING_SECRET_MAX)
        return db_failf(db, DB_ERROR, "invalid key length");
    return db_exec(db, DB_STMT_SIGNING_KEY_ADD,
                   "INSERT INTO signing_keys (kid, alg, secret, created_at, retired_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
                   "ttbir", k->kid, k->alg, (const void *)k->secret, (int)k->secret_len,
                   k->created_at, k->retired_at);
}

int db_signing_key_add(struct db *db, const struct db_signing_key *k)
{
    return signing_key_insert(db, k);
}

int db_signing_key_rotate(struct db *db, const struct db_signing_key *next, int64_t now,
                          int64_t drop_before)
{
    int outer, rc;

    if ((rc = db_atomic_begin(db, &outer)) != 0)
        return rc;
    /* Two rotations at once: the second waits here for the first to commit
     * and then retires its key too. Without the lock, PostgreSQL's READ
     * COMMITTED re-check of the UPDATE would not see the key the first
     * added, and two keys would stay active. */
    if ((rc = db_keys_lock(db)) == 0)
        rc = db_exec(db, DB_STMT_SIGNING_KEY_RETIRE,
                     "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL", "i", now);
    if (rc == 0)
        rc = signing_key_insert(db, next);
    if (rc == 0)
        rc = db_exec(db, DB_STMT_SIGNING_KEY_DROP,
                     "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?1",
                     "i", drop_before);
    return db_atomic_end(db, outer, rc);
}

int db_ticket_key_get(struct db *db, int64_t lifetime_s, int64_t starts_at,
                      struct db_ticket_key *out)
{
    struct db_stmt *st = db_query(
        db, DB_STMT_TICKET_KEY_GET,
        "SELECT lifetime_s, starts_at, secret, created_at FROM ticket_keys "
        "WHERE lifetime_s = ?1 AND starts_at = ?2",
        "ii", lifetime_s, starts_at);
    int rc;

    memset(out, 0, sizeof *out);
    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0)
        rc = read_ticket_key(db, st, out);
    db_stmt_reset(st);
    return rc;
}

int db_ticket_key_add(struct db *db, const struct db_ticket_key *k)
{
    if (k->secret_len == 0 || k->secret_len > DB_TICKET_SECRET_MAX)
        return db_failf(db, DB_ERROR, "invalid key length");
    return db_exec(db, DB_STMT_TICKET_KEY_ADD,
                   "INSERT INTO ticket_keys (lifetime_s, starts_at, secret, created_at) "
                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                   "iibi", k->lifetime_s, k->starts_at, (const void *)k->secret, (int)k->secret_len,
                   k->created_at);
}

int db_ticket_key_purge(struct db *db, int64_t lifetime_s, int64_t before)
{
    return db_exec(db, DB_STMT_TICKET_KEY_PURGE,
                   "DELETE FROM ticket_keys WHERE starts_at < ?1 AND lifetime_s = ?2", "ii", before,
                   lifetime_s);
}

int db_key_count(struct db *db, int64_t *n)
{
    return db_one_i64(db,
                      db_query(db, DB_STMT_KEY_COUNT,
                               "SELECT (SELECT count(*) FROM signing_keys) + "
                               "(SELECT count(*) FROM ticket_keys)",
                               ""),
                      n);
}

/* The advisory lock's key: ours ("PCLS" and 'K'), apart from the
 * migration's (DB_APPLICATION_ID). */
#define KEYS_LOCK_ID (((int64_t)DB_APPLICATION_ID << 8) | 'K')

int db_keys_lock(struct db *db)
{
    struct db_stmt *st;
    int rc;

    if (!db_in_txn(db))
        return db_failf(db, DB_ERROR, "the key set lock needs a transaction");
    if (db->backend != DB_PG)
        return 0;
    st = db_query(db, DB_STMT_KEYS_LOCK, "SELECT pg_advisory_xact_lock(?1)", "i",
                  (int64_t)KEYS_LOCK_ID);
    if (!st)
        return DB_ERROR;
    rc = db_step_row(db, st);
    db_stmt_reset(st);
    return rc;
}
