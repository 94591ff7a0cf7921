/* stmt.c: the per-connection prepared-statement cache, binding, stepping,
 * column reading and transactions, for both backends. Every query of db/
 * goes through db_query(), so each SQL text is compiled once per connection
 * and user data only ever arrives as a bound parameter. The PostgreSQL half
 * of each step is in pg.c. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"
#include "db/tokens.h"

static struct db_stmt *lite_prepare(struct db *db, struct db_stmt *st, const char *sql)
{
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lite, &tail);

    if (rc != SQLITE_OK) {
        db_fail(db, rc);
        return NULL;
    }
    /* One statement per slot: trailing SQL would silently never run. */
    if (tail && *tail) {
        sqlite3_finalize(st->lite);
        st->lite = NULL;
        db_failf(db, DB_ERROR, "statement %d has trailing SQL", (int)st->id);
        return NULL;
    }
    return st;
}

struct db_stmt *db_stmt(struct db *db, enum db_stmt_id id, const char *sql)
{
    struct db_stmt *st = &db->stmts[id];

    st->db = db;
    st->id = id;
    st->sql = sql;
    if (db->backend == DB_PG)
        return db_pg_ready(db) == 0 ? st : NULL;
    if (st->lite)
        return st;
    return lite_prepare(db, st, sql);
}

void db_stmt_reset(struct db_stmt *st)
{
    if (!st)
        return;
    if (st->lite) {
        /* reset() repeats the last step's error, already recorded by db_step. */
        (void)sqlite3_reset(st->lite);
        sqlite3_clear_bindings(st->lite);
    }
    db_pg_clear(st);
    st->started = 0;
    st->nparams = 0;
    memset(st->values, 0, sizeof st->values);
}

static db_observer_fn observer;

void db_set_observer(db_observer_fn fn) { observer = fn; }

static uint64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int step_once(struct db *db, struct db_stmt *st);

/* The first step of an execution runs the statement: it is the one timed. */
int db_step(struct db *db, struct db_stmt *st)
{
    uint64_t t0;
    int rc;

    if (!observer || st->started)
        return step_once(db, st);
    st->started = 1;
    t0 = now_usec();
    rc = step_once(db, st);
    observer(now_usec() - t0 + 1, rc);
    return rc;
}

static int step_once(struct db *db, struct db_stmt *st)
{
    int rc;

    if (db->backend == DB_PG) {
        if (st->row < 0 && !st->res && (rc = db_pg_execute(db, st)) != 0)
            return rc;
        return ++st->row < db_pg_rows(st) ? 1 : 0;
    }
    rc = sqlite3_step(st->lite);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(db, rc);
}

int db_exec_stmt(struct db *db, struct db_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1 && db->backend == DB_PG && db_pg_rows(st) == 1) {
        db->last_id = db_col_i64(st, 0); /* INSERT ... RETURNING id */
        rc = 0;
    } else if (rc == 1) {
        rc = db_failf(db, DB_ERROR, "statement %d returned a row", (int)st->id);
    }
    db_stmt_reset(st);
    return rc;
}

int db_one_i64(struct db *db, struct db_stmt *st, int64_t *out)
{
    int rc;

    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(db, st)) == 0)
        *out = db_col_i64(st, 0);
    db_stmt_reset(st);
    return rc;
}

int db_step_row(struct db *db, struct db_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1)
        return 0;
    if (rc == 0)
        return db_failf(db, DB_NOTFOUND, "no such row");
    return rc;
}

int db_step_finish(struct db *db, struct db_stmt *st)
{
    int rc = db_step(db, st);

    if (rc == 1)
        return db_failf(db, DB_ERROR, "more than one row: statement %d", (int)st->id);
    return rc;
}

static int lite_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    size_t n;

    if (!s)
        return sqlite3_bind_null(st, idx);
    n = strlen(s);
    if (n > INT_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(st, idx, s, (int)n, SQLITE_STATIC);
}

/* One parameter into st: on SQLite bound at once, on PostgreSQL kept as
 * (value, length, format) for PQexecPrepared. 0 or a DB_* code. */
static int bind_param(struct db_stmt *st, int i, const void *p, int len, int blob)
{
    if (len < 0)
        return DB_ERROR;
    if (st->lite) {
        int rc = !p     ? sqlite3_bind_null(st->lite, i + 1)
                 : blob ? sqlite3_bind_blob(st->lite, i + 1, p, len, SQLITE_STATIC)
                        : lite_bind_text(st->lite, i + 1, p);
        return rc == SQLITE_OK ? 0 : db_fail(st->db, rc);
    }
    st->values[i] = p;
    st->lengths[i] = blob ? len : 0;
    st->formats[i] = blob ? 1 : 0;
    return 0;
}

static int bind_int(struct db_stmt *st, int i, int64_t v)
{
    if (st->lite) {
        int rc = sqlite3_bind_int64(st->lite, i + 1, v);
        return rc == SQLITE_OK ? 0 : db_fail(st->db, rc);
    }
    snprintf(st->ints[i], sizeof st->ints[i], "%" PRId64, v);
    return bind_param(st, i, st->ints[i], 0, 0);
}

static int bind_one(struct db_stmt *st, int i, char type, va_list *ap)
{
    const void *p;
    int64_t v;
    int n;

    switch (type) {
    case 't': return bind_param(st, i, va_arg(*ap, const char *), 0, 0);
    case 'i': return bind_int(st, i, va_arg(*ap, int64_t));
    case 'r':
        v = va_arg(*ap, int64_t);
        return v ? bind_int(st, i, v) : bind_param(st, i, NULL, 0, 0);
    case 'h': return bind_param(st, i, va_arg(*ap, const unsigned char *), DB_TOKEN_HASH_LEN, 1);
    case 'b':
        /* Two arguments, read in order: the bytes, then their length. */
        p = va_arg(*ap, const void *);
        n = va_arg(*ap, int);
        return bind_param(st, i, p, n, 1);
    default: return DB_ERROR;
    }
}

/* The cached statement `id` made ready for `types` (one letter a
 * parameter), or NULL with the failure recorded and observed. */
static struct db_stmt *bind_start(struct db *db, enum db_stmt_id id, const char *sql,
                                  const char *types)
{
    struct db_stmt *st = db_stmt(db, id, sql);
    size_t n = strlen(types);

    if (!st) {
        if (observer)
            observer(0, DB_ERROR);
        return NULL;
    }
    if (n > DB_MAX_PARAMS) {
        db_failf(db, DB_ERROR, "statement %d: too many parameters", (int)id);
        return NULL;
    }
    st->nparams = (int)n;
    st->types = types;
    st->row = -1;
    return st;
}

/* st when every parameter bound (rc 0), else NULL with st reset. */
static struct db_stmt *bind_end(struct db *db, enum db_stmt_id id, struct db_stmt *st, int rc)
{
    if (rc == 0)
        return st;
    if (!st->lite)
        db_failf(db, rc, "statement %d: invalid parameter", (int)id);
    db_stmt_reset(st);
    return NULL;
}

static struct db_stmt *vquery(struct db *db, enum db_stmt_id id, const char *sql, const char *types,
                              va_list *ap)
{
    struct db_stmt *st = bind_start(db, id, sql, types);
    int rc = 0;

    if (!st)
        return NULL;
    for (int i = 0; types[i] && rc == 0; i++)
        rc = bind_one(st, i, types[i], ap);
    return bind_end(db, id, st, rc);
}

static int bind_val(struct db_stmt *st, int i, char type, const struct db_val *v)
{
    switch (type) {
    case 'i': return bind_int(st, i, v->i);
    case 'n': return v->null ? bind_param(st, i, NULL, 0, 0) : bind_int(st, i, v->i);
    case 't': return bind_param(st, i, v->null ? NULL : v->p, 0, 0);
    case 'b': return bind_param(st, i, v->null ? NULL : v->p, v->len, 1);
    default: return DB_ERROR;
    }
}

struct db_stmt *db_query_vals(struct db *db, enum db_stmt_id id, const char *sql, const char *types,
                              const struct db_val *vals)
{
    struct db_stmt *st = bind_start(db, id, sql, types);
    int rc = 0;

    if (!st)
        return NULL;
    for (int i = 0; types[i] && rc == 0; i++)
        rc = bind_val(st, i, types[i], &vals[i]);
    return bind_end(db, id, st, rc);
}

struct db_stmt *db_query(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...)
{
    struct db_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = vquery(db, id, sql, types, &ap);
    va_end(ap);
    return st;
}

int db_exec(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...)
{
    struct db_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = vquery(db, id, sql, types, &ap);
    va_end(ap);
    return st ? db_exec_stmt(db, st) : DB_ERROR;
}
int64_t db_col_i64(struct db_stmt *st, int col)
{
    const char *v;

    if (st->lite)
        return sqlite3_column_int64(st->lite, col);
    if (db_pg_isnull(st, col))
        return 0;
    v = db_pg_value(st, col);
    if (v[0] == 't' || v[0] == 'f') /* a boolean column */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

int db_col_null(struct db_stmt *st, int col)
{
    if (st->lite)
        return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
    return db_pg_isnull(st, col);
}

const char *db_col_str(struct db_stmt *st, int col)
{
    if (st->lite)
        return (const char *)sqlite3_column_text(st->lite, col);
    return db_pg_isnull(st, col) ? NULL : db_pg_value(st, col);
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *len)
{
    int n;

    *len = 0;
    if (!st->lite)
        return db_pg_blob(st, col, len);
    n = sqlite3_column_bytes(st->lite, col);
    *len = n > 0 ? (size_t)n : 0;
    return sqlite3_column_blob(st->lite, col);
}

int db_col_text(struct db *db, struct db_stmt *st, int col, char *dst, size_t size)
{
    const char *p;
    size_t n;

    if (db_col_null(st, col)) {
        dst[0] = '\0';
        return 0;
    }
    p = db_col_str(st, col);
    if (!p)
        return st->lite ? db_fail(db, sqlite3_errcode(db->sql))
                        : db_failf(db, DB_ERROR, "column %d unreadable", col);
    n = st->lite ? (size_t)sqlite3_column_bytes(st->lite, col) : strlen(p);
    if (n >= size)
        return db_failf(db, DB_ERROR, "column %d longer than %zu bytes", col, size - 1);
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

int db_in_txn(struct db *db)
{
    if (db->backend == DB_PG)
        return db_pg_in_txn(db);
    return !sqlite3_get_autocommit(db->sql);
}

static int exec_cached(struct db *db, enum db_stmt_id id, const char *sql)
{
    return db_exec(db, id, sql, "");
}

/* SQLite: BEGIN IMMEDIATE takes the one write lock at once, so writers are
 * serialised and a transaction never fails half-way with SQLITE_BUSY.
 *
 * PostgreSQL: READ COMMITTED, and each operation that must be correct when
 * two instances race takes the row locks it depends on, rather than running
 * SERIALIZABLE with retries:
 * - refresh rotation and reuse detection: the claim is one conditional
 *   UPDATE (... WHERE revoked_at IS NULL ... RETURNING); a second rotation
 *   of the same row waits for the first's row lock, then re-checks the
 *   condition on the committed row, finds it used and reports the reuse;
 * - lockout counting: failures are one upsert (INSERT ... ON CONFLICT DO
 *   UPDATE ... RETURNING), atomic on the row; users.failed_logins one
 *   UPDATE ... RETURNING;
 * - the last-admin rule: the count of enabled admins locks those rows
 *   (SELECT ... FOR UPDATE, db/admin.c), so a second admin change waits
 *   for the first to commit and then counts what it left;
 * - one-time things (TOTP steps, recovery codes, reset and two-factor
 *   tokens) are spent by a conditional UPDATE/DELETE whose row count says
 *   who won.
 * lock_timeout (db.busy_timeout_ms) bounds every wait: DB_BUSY, as on
 * SQLite. */
int db_begin(struct db *db)
{
    /* PostgreSQL only warns about a nested BEGIN: refuse it as SQLite does. */
    if (db_in_txn(db))
        return db_failf(db, DB_ERROR, "a transaction is already open");
    return exec_cached(db, DB_STMT_BEGIN,
                       db_pick(db, "BEGIN IMMEDIATE", "BEGIN ISOLATION LEVEL READ COMMITTED"));
}

int db_commit(struct db *db)
{
    int rc;

    /* PostgreSQL only warns about COMMIT without a transaction, and answers
     * COMMIT of a failed one with ROLLBACK: both are errors here. */
    if (!db_in_txn(db))
        return db_failf(db, DB_ERROR, "no transaction to commit");
    if (db->backend == DB_PG && db_pg_in_txn(db) == 2) {
        (void)db_rollback(db);
        return db_failf(db, DB_ERROR, "the transaction failed and was rolled back");
    }
    rc = exec_cached(db, DB_STMT_COMMIT, "COMMIT");

    /* A failed COMMIT can leave the transaction open; closing it here keeps
     * the contract simple: after db_commit fails, nothing was written. */
    if (rc != 0 && db_in_txn(db))
        (void)db_rollback(db);
    return rc;
}

int db_rollback(struct db *db)
{
    /* SQLite rolls back by itself on some errors (SQLITE_FULL, IOERR, ...);
     * a lost PostgreSQL connection took its transaction with it. */
    if (!db_in_txn(db))
        return 0;
    return exec_cached(db, DB_STMT_ROLLBACK, "ROLLBACK");
}

int db_atomic_begin(struct db *db, int *outer)
{
    *outer = db_in_txn(db);
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
    if (!db_in_txn(db))
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
