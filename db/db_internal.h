/* db_internal.h: what the files of db/ share (the connection struct, the
 * statement cache of either backend, stepping, column reading and error
 * helpers). Not for use outside db/,
 * except by the white-box test tests/test_db.c: the rest of the tree sees
 * only the opaque struct db of db.h. */
#ifndef PC_DB_INTERNAL_H
#define PC_DB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* PRAGMA application_id: "PCLS", so we never migrate or restore someone
 * else's file. */
#define DB_APPLICATION_ID 0x50434C53

/* One slot per statement in the per-connection cache. The SQL text lives
 * next to the code that runs it; each id is used with exactly one string. */
enum db_stmt_id {
    DB_STMT_BEGIN,
    DB_STMT_COMMIT,
    DB_STMT_ROLLBACK,
    DB_STMT_SAVEPOINT,
    DB_STMT_RELEASE,
    DB_STMT_ROLLBACK_TO,

    DB_STMT_USER_CREATE,
    DB_STMT_USER_BY_NAME,
    DB_STMT_USER_BY_ID,
    DB_STMT_USER_SET_PASSWORD,
    DB_STMT_USER_SET_HASH_CAS,
    DB_STMT_USER_BUMP_EPOCH,
    DB_STMT_USER_SET_DISABLED,
    DB_STMT_USER_SET_ROLE,
    DB_STMT_USER_DELETE,
    DB_STMT_USER_FAIL_INC,
    DB_STMT_USER_FAIL_LOCK,
    DB_STMT_USER_LOGIN_OK,
    DB_STMT_USER_LIST,
    DB_STMT_USER_COUNT,
    DB_STMT_USER_AUTH_STATE,

    DB_STMT_REFRESH_INSERT,
    DB_STMT_REFRESH_FIND,
    DB_STMT_REFRESH_CLAIM,
    DB_STMT_REFRESH_LINK,
    DB_STMT_REFRESH_STATE,
    DB_STMT_REFRESH_REVOKE_FAMILY,
    DB_STMT_REFRESH_REVOKE_USER,
    DB_STMT_REFRESH_PURGE,

    DB_STMT_AUDIT_ADD,
    DB_STMT_AUDIT_LIST,
    DB_STMT_AUDIT_LIST_USER,

    /* db/failures.c */
    DB_STMT_FAILURE_GET,
    DB_STMT_FAILURE_ADD,
    DB_STMT_FAILURE_CLEAR,
    DB_STMT_FAILURE_PURGE,

    /* db/admin.c */
    DB_STMT_ADMIN_AUDIT_ADD,
    DB_STMT_ADMIN_AUDIT_NAME,
    DB_STMT_ADMIN_COUNT_ENABLED,

    /* db/mfa.c */
    DB_STMT_TOTP_GET,
    DB_STMT_TOTP_SET_PENDING,
    DB_STMT_TOTP_ENABLE,
    DB_STMT_TOTP_USE_STEP,
    DB_STMT_TOTP_DELETE,
    DB_STMT_RECOVERY_DELETE,
    DB_STMT_RECOVERY_INSERT,
    DB_STMT_RECOVERY_USE,
    DB_STMT_RECOVERY_LEFT,
    DB_STMT_MFA_TOKEN_INSERT,
    DB_STMT_MFA_TOKEN_FIND,
    DB_STMT_MFA_TOKEN_SPEND,
    DB_STMT_MFA_TOKEN_DELETE_USER,
    DB_STMT_MFA_TOKEN_PURGE,

    /* db/resets.c */
    DB_STMT_RESET_DROP_USER,
    DB_STMT_RESET_INSERT,
    DB_STMT_RESET_FIND,
    DB_STMT_RESET_SPEND,
    DB_STMT_RESET_PURGE,

    /* db/sessions.c */
    DB_STMT_SESSION_CREATE,
    DB_STMT_SESSION_TOUCH,
    DB_STMT_SESSION_LIST,
    DB_STMT_SESSION_LIVE,
    DB_STMT_SESSION_FAMILY,
    DB_STMT_SESSION_ID,
    DB_STMT_SESSION_PURGE,
    DB_STMT_REFRESH_PURGE_DEAD,

    /* db/keys.c */
    DB_STMT_SIGNING_KEY_LIST,
    DB_STMT_SIGNING_KEY_ADD,
    DB_STMT_SIGNING_KEY_RETIRE,
    DB_STMT_SIGNING_KEY_DROP,
    DB_STMT_TICKET_KEY_GET,
    DB_STMT_TICKET_KEY_ADD,
    DB_STMT_TICKET_KEY_PURGE,
    DB_STMT_KEY_COUNT,
    DB_STMT_KEYS_LOCK,

    /* db/db.c */
    DB_STMT_PING,

    /* db/copy.c: one read (source) and one write (destination) per table */
    DB_STMT_COPY_READ,
    DB_STMT_COPY_READ_LAST = DB_STMT_COPY_READ + 15,
    DB_STMT_COPY_WRITE,
    DB_STMT_COPY_WRITE_LAST = DB_STMT_COPY_WRITE + 15,
    DB_STMT_COPY_LINK,
    DB_STMT_COPY_EMPTY,
    DB_STMT_COPY_COUNTER,
    DB_STMT_COPY_SEQ_DROP,
    DB_STMT_COPY_SEQ_SET,

    DB_STMT_COUNT
};

/* Which implementation of the store a connection uses (db_open decides from
 * the target: a postgresql:// URL or a file path). */
enum db_backend { DB_SQLITE, DB_PG };

/* At most this many bound parameters per statement. */
#define DB_MAX_PARAMS 12

/* A cached statement of either backend. Every db/ query handles it through
 * db_query/db_step and the db_col_* accessors only, so one query code runs
 * on both stores.
 *
 * SQLite: `lite` is the prepared statement (persistent).
 * PostgreSQL: the statement is PQprepare'd on the connection as "s<id>" on
 * first use (its ?N placeholders rewritten to $N, parameter types from the
 * db_query letters). db_query keeps the bound values here; the first
 * db_step executes and keeps the whole result, later steps walk its rows. */
struct db_stmt {
    struct db *db;
    enum db_stmt_id id;
    const char *sql; /* the caller's static text */
    sqlite3_stmt *lite;
    struct pg_result *res; /* PGresult of the last execution, NULL before */
    int prepared;          /* PostgreSQL: prepared on this connection */
    int row;               /* PostgreSQL: current row, -1 before the first */
    int started;           /* stepped since the last reset (for the observer) */
    int nparams;
    const char *types; /* the db_query letters (static) */
    const char *values[DB_MAX_PARAMS];
    int lengths[DB_MAX_PARAMS];
    int formats[DB_MAX_PARAMS];
    char ints[DB_MAX_PARAMS][24]; /* integers bound as decimal text */
    unsigned char *blob;          /* PostgreSQL: the last blob read, unescaped */
};

struct db {
    enum db_backend backend;
    sqlite3 *sql;
    struct pg_conn *pg; /* PGconn */
    struct db_stmt stmts[DB_STMT_COUNT];
    int64_t changes;             /* PostgreSQL: rows of the last command */
    int64_t last_id;             /* PostgreSQL: id RETURNING'ed by the last insert */
    int busy_timeout_ms;         /* PostgreSQL: lock_timeout */
    int long_wait_ms;            /* PostgreSQL: > 0 while migrating: await()'s bound */
    int broken;                  /* PostgreSQL: connection lost, reconnect on next use */
    int64_t retry_at_ms;         /* PostgreSQL: no reconnect attempt before (monotonic) */
    int64_t backoff_ms;          /* PostgreSQL: next wait between attempts */
    int connecting;              /* PostgreSQL: a reconnection is under way */
    int poll_for;                /* ... waiting for the socket: 1 readable, 2 writable */
    int64_t connect_deadline_ms; /* ... given up at this time */
    char errmsg[256];            /* last failure, see db_errmsg() */
};

/* The text for this connection's backend: most statements have one text for
 * both (pass it twice, or use the same macro); dialects differ in upserts,
 * scalar min/max, case folding and the id of a new row. */
static inline const char *db_pick(const struct db *db, const char *lite, const char *pg)
{
    return db->backend == DB_PG ? pg : lite;
}

/* The cached statement `id`, ready for binding (prepared from `sql` on first
 * use on SQLite; on PostgreSQL db_query prepares it, knowing the types).
 * NULL on failure, with the error recorded. The caller binds, steps, and
 * always ends with db_stmt_reset(). */
struct db_stmt *db_stmt(struct db *db, enum db_stmt_id id, const char *sql);

/* Resets and clears bindings so the statement releases its locks and holds
 * no pointer to caller memory. NULL ok. */
void db_stmt_reset(struct db_stmt *st);

/* Steps once: 1 for a row, 0 for done, or a negative DB_* code (recorded). */
int db_step(struct db *db, struct db_stmt *st);

/* Steps a statement that must yield no row and resets it. 0 or DB_*.
 * On PostgreSQL an INSERT's text ends in RETURNING id: its one row is kept
 * for db_last_rowid(). */
int db_exec_stmt(struct db *db, struct db_stmt *st);

/* For a statement yielding at most one row: 0 with the row current,
 * DB_NOTFOUND when there is none, or an error. */
int db_step_row(struct db *db, struct db_stmt *st);

/* For a statement from db_query (NULL: its failure, already recorded)
 * yielding at most one row: that row's first column into *out. 0,
 * DB_NOTFOUND or an error; the statement is reset. */
int db_one_i64(struct db *db, struct db_stmt *st, int64_t *out);

/* After reading the single row of an UPDATE ... RETURNING: runs the
 * statement to completion so its write and any error are final. 0 or DB_*. */
int db_step_finish(struct db *db, struct db_stmt *st);

/* The cached statement `id` (see db_stmt) with its parameters bound, the one
 * way db/ binds: `types` holds one letter per parameter ?1, ?2, ... in order,
 * each consuming one argument of exactly this type:
 *   't'  const char *          text (NULL binds SQL NULL)
 *   'i'  int64_t               integer
 *   'r'  int64_t               row reference: 0 binds SQL NULL
 *   'h'  const unsigned char * token hash, DB_TOKEN_HASH_LEN bytes (blob)
 *   'b'  const void *, int     blob of that many bytes (two arguments; a NULL
 *                              pointer binds SQL NULL, a negative length fails)
 * Text and blobs are not copied: they must live until the caller's
 * db_stmt_reset(). Returns NULL on failure, with the error recorded and the
 * statement reset; otherwise the caller steps and resets. */
struct db_stmt *db_query(struct db *db, enum db_stmt_id id, const char *sql, const char *types,
                         ...);

/* A value for db_query_vals: `null`, else `i` (letters 'i', 'n'), or `p`
 * (text, 't'; NULL binds NULL) or `p` and `len` (blob, 'b'). */
struct db_val {
    int64_t i;
    const void *p;
    int len;
    int null;
};

/* db_query with the values in an array (one per letter of `types`, which
 * may also hold 'n', a nullable integer), for code that handles rows
 * generically (db/copy.c). Same lifetimes and result as db_query. */
struct db_stmt *db_query_vals(struct db *db, enum db_stmt_id id, const char *sql, const char *types,
                              const struct db_val *vals);

/* db_query() followed by db_exec_stmt(): a statement that yields no row.
 * 0 or DB_*. */
int db_exec(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...);

/* Columns of the current row (0-based), on either backend. SQL NULL reads
 * as 0, as NULL (db_col_str, db_col_blob) or as "" (db_col_text). A boolean
 * (PostgreSQL) reads as 0 or 1. db_col_str's pointer is valid until the next
 * step or reset; db_col_blob's until the next db_col_blob or reset. */
int64_t db_col_i64(struct db_stmt *st, int col);
int db_col_null(struct db_stmt *st, int col);
const char *db_col_str(struct db_stmt *st, int col);
const void *db_col_blob(struct db_stmt *st, int col, size_t *len);

/* Copies column `col` (TEXT) into dst[size]; DB_ERROR if NULL-less text is
 * longer than size-1 (a row we did not write), so nothing is truncated. */
int db_col_text(struct db *db, struct db_stmt *st, int col, char *dst, size_t size);

/* Records SQLite's message for `rc` and maps it to a DB_* code. */
int db_fail(struct db *db, int rc);

/* Records a message of our own; returns `code`. */
int db_failf(struct db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs a pragma (static SQL, SQLite only) and reads its integer result. */
int db_pragma_int(struct db *db, const char *sql, int64_t *out);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t db_changes(struct db *db);
int64_t db_last_rowid(struct db *db);

/* 1 inside a transaction (including a failed one not yet rolled back). */
int db_in_txn(struct db *db);

/* Atomic section: BEGIN when in autocommit, else a savepoint, so atomic
 * functions compose with db_begin(). db_atomic_end commits when rc is
 * 0 and rolls back otherwise; it returns rc, or the commit's error. */
int db_atomic_begin(struct db *db, int *outer);
int db_atomic_end(struct db *db, int outer, int rc);

/* PostgreSQL side (db/pg.c, db/pg_schema.c). */
int db_pg_open(struct db *db, const char *url, char *err, size_t errlen);
void db_pg_close(struct db *db);
/* Reconnects a lost connection when its backoff allows. 0 or DB_ERROR. */
int db_pg_ready(struct db *db);
/* Prepares (if needed) and executes st with its bound values. 0 or DB_*. */
int db_pg_execute(struct db *db, struct db_stmt *st);
void db_pg_clear(struct db_stmt *st);
/* Maps a failed PGresult (NULL: the connection's error) to DB_*, recording
 * its message and noticing a lost connection. */
int db_pg_fail(struct db *db, struct pg_result *res);
int db_pg_exec_plain(struct db *db, const char *sql);
/* Static SQL to its result, with the same bounded wait as every query
 * (0 with *out for the caller to PQclear, or DB_*, recorded). */
int db_pg_query_plain(struct db *db, const char *sql, struct pg_result **out);
/* 0 idle, 1 in a transaction, 2 in a failed one (only ROLLBACK works). */
int db_pg_in_txn(struct db *db);
int db_pg_rows(const struct db_stmt *st);
int db_pg_isnull(const struct db_stmt *st, int col);
const char *db_pg_value(const struct db_stmt *st, int col);
const void *db_pg_blob(struct db_stmt *st, int col, size_t *len);
int db_pg_migrate(struct db *db);
int db_pg_schema_version(struct db *db);

#endif
