/* stmt.c: the per-connection prepared-statement cache, stepping helpers and
 * transactions. Every query of db/ goes through db_stmt(), so each SQL text
 * is compiled once per connection and user data only ever arrives as a bound
 * parameter. */
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/tokens.h"

sqlite3_stmt *db_stmt(struct db *db, enum db_stmt_id id, const char *sql)
{
    const char *tail = NULL;
    int rc;

    if (db->stmts[id])
        return db->stmts[id];
    rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &db->stmts[id], &tail);
    if (rc != SQLITE_OK) {
        db_fail(db, rc);
        return NULL;
    }
    /* One statement per slot: trailing SQL would silently never run. */
    if (tail && *tail) {
        sqlite3_finalize(db->stmts[id]);
        db->stmts[id] = NULL;
        db_failf(db, DB_ERROR, "statement %d has trailing SQL", (int)id);
        return NULL;
    }
    return db->stmts[id];
}

void db_stmt_reset(sqlite3_stmt *st)
{
    if (!st)
        return;
    /* reset() repeats the last step's error, already recorded by db_step. */
    (void)sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int db_step(struct db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(db, rc);
}

int db_exec_stmt(struct db *db, sqlite3_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1)
        rc = db_failf(db, DB_ERROR, "statement returned a row: %s", sqlite3_sql(st));
    db_stmt_reset(st);
    return rc;
}

int db_step_row(struct db *db, sqlite3_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1)
        return 0;
    if (rc == 0)
        return db_failf(db, DB_NOTFOUND, "no such row");
    return rc;
}

int db_step_finish(struct db *db, sqlite3_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1)
        return db_failf(db, DB_ERROR, "more than one row: %s", sqlite3_sql(st));
    return rc;
}

static int bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    size_t n;

    if (!s)
        return sqlite3_bind_null(st, idx);
    n = strlen(s);
    if (n > INT_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(st, idx, s, (int)n, SQLITE_STATIC);
}

static int bind_one(sqlite3_stmt *st, int idx, char type, va_list *ap)
{
    const void *p;
    int64_t v;
    int n;

    switch (type) {
    case 't': return bind_text(st, idx, va_arg(*ap, const char *));
    case 'i': return sqlite3_bind_int64(st, idx, va_arg(*ap, int64_t));
    case 'r':
        v = va_arg(*ap, int64_t);
        return v ? sqlite3_bind_int64(st, idx, v) : sqlite3_bind_null(st, idx);
    case 'h':
        return sqlite3_bind_blob(st, idx, va_arg(*ap, const unsigned char *), DB_TOKEN_HASH_LEN,
                                 SQLITE_STATIC);
    case 'b':
        /* Two arguments, read in order: the bytes, then their length. */
        p = va_arg(*ap, const void *);
        n = va_arg(*ap, int);
        return n < 0 ? SQLITE_MISUSE : sqlite3_bind_blob(st, idx, p, n, SQLITE_STATIC);
    default: return SQLITE_MISUSE;
    }
}

static sqlite3_stmt *vquery(struct db *db, enum db_stmt_id id, const char *sql, const char *types,
                            va_list *ap)
{
    sqlite3_stmt *st = db_stmt(db, id, sql);
    int rc = SQLITE_OK;

    if (!st)
        return NULL;
    for (int i = 0; types[i] && rc == SQLITE_OK; i++)
        rc = bind_one(st, i + 1, types[i], ap);
    if (rc != SQLITE_OK) {
        db_stmt_reset(st);
        db_fail(db, rc);
        return NULL;
    }
    return st;
}

sqlite3_stmt *db_query(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = vquery(db, id, sql, types, &ap);
    va_end(ap);
    return st;
}

int db_exec(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = vquery(db, id, sql, types, &ap);
    va_end(ap);
    return st ? db_exec_stmt(db, st) : DB_ERROR;
}

int db_column_text(struct db *db, sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *p;
    int n;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        dst[0] = '\0';
        return 0;
    }
    p = sqlite3_column_text(st, col);
    n = sqlite3_column_bytes(st, col);
    if (!p)
        return db_fail(db, sqlite3_errcode(db->sql));
    if (n < 0 || (size_t)n >= size)
        return db_failf(db, DB_ERROR, "column %d longer than %zu bytes", col, size - 1);
    memcpy(dst, p, (size_t)n);
    dst[n] = '\0';
    return 0;
}

static int exec_cached(struct db *db, enum db_stmt_id id, const char *sql)
{
    return db_exec(db, id, sql, "");
}

int db_begin(struct db *db) { return exec_cached(db, DB_STMT_BEGIN, "BEGIN IMMEDIATE"); }

int db_commit(struct db *db)
{
    int rc = exec_cached(db, DB_STMT_COMMIT, "COMMIT");

    /* A failed COMMIT can leave the transaction open; closing it here keeps
     * the contract simple: after db_commit fails, nothing was written. */
    if (rc != 0 && !sqlite3_get_autocommit(db->sql))
        (void)db_rollback(db);
    return rc;
}

int db_rollback(struct db *db)
{
    /* SQLite rolls back by itself on some errors (SQLITE_FULL, IOERR, ...). */
    if (sqlite3_get_autocommit(db->sql))
        return 0;
    return exec_cached(db, DB_STMT_ROLLBACK, "ROLLBACK");
}

int db_atomic_begin(struct db *db, int *outer)
{
    *outer = !sqlite3_get_autocommit(db->sql);
    if (*outer)
        return exec_cached(db, DB_STMT_SAVEPOINT, "SAVEPOINT db_atomic");
    return db_begin(db);
}

int db_atomic_end(struct db *db, int outer, int rc)
{
    char keep[sizeof db->errmsg];
    int r;

    if (!outer) {
        if (rc == 0)
            return db_commit(db);
        memcpy(keep, db->errmsg, sizeof keep);
        (void)db_rollback(db);
        memcpy(db->errmsg, keep, sizeof keep);
        return rc;
    }
    /* Inside the caller's transaction: undo only our part, unless SQLite
     * already rolled the whole transaction back. */
    if (sqlite3_get_autocommit(db->sql))
        return rc ? rc : db_failf(db, DB_ERROR, "transaction rolled back");
    memcpy(keep, db->errmsg, sizeof keep);
    if (rc != 0)
        (void)exec_cached(db, DB_STMT_ROLLBACK_TO, "ROLLBACK TO db_atomic");
    r = exec_cached(db, DB_STMT_RELEASE, "RELEASE db_atomic");
    if (rc != 0) {
        memcpy(db->errmsg, keep, sizeof keep);
        return rc;
    }
    return r;
}
