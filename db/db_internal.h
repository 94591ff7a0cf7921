/* db_internal.h: what the files of db/ share (the connection struct, the
 * statement cache, stepping and error helpers). Not for use outside db/,
 * except by the white-box test tests/test_db.c: the rest of the tree sees
 * only the opaque struct db of db.h. */
#ifndef PC_DB_INTERNAL_H
#define PC_DB_INTERNAL_H

#include <sqlite3.h>
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

    DB_STMT_COUNT
};

struct db {
    sqlite3 *sql;
    sqlite3_stmt *stmts[DB_STMT_COUNT];
    char errmsg[256]; /* last failure, see db_errmsg() */
};

/* The cached statement `id`, prepared from `sql` on first use (persistent).
 * NULL on failure, with the error recorded. The caller binds, steps, and
 * always ends with db_stmt_reset(). */
sqlite3_stmt *db_stmt(struct db *db, enum db_stmt_id id, const char *sql);

/* Resets and clears bindings so the statement releases its locks and holds
 * no pointer to caller memory. NULL ok. */
void db_stmt_reset(sqlite3_stmt *st);

/* Steps once: 1 for a row, 0 for done, or a negative DB_* code (recorded). */
int db_step(struct db *db, sqlite3_stmt *st);

/* Steps a statement that must yield no row and resets it. 0 or DB_*. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st);

/* For a statement yielding at most one row: 0 with the row current,
 * DB_NOTFOUND when there is none, or an error. */
int db_step_row(struct db *db, sqlite3_stmt *st);

/* After reading the single row of an UPDATE ... RETURNING: runs the
 * statement to completion so its write and any error are final. 0 or DB_*. */
int db_step_finish(struct db *db, sqlite3_stmt *st);

/* The cached statement `id` (see db_stmt) with its parameters bound, the one
 * way db/ binds: `types` holds one letter per parameter ?1, ?2, ... in order,
 * each consuming one argument of exactly this type:
 *   't'  const char *          text (NULL binds SQL NULL)
 *   'i'  int64_t               integer
 *   'r'  int64_t               row reference: 0 binds SQL NULL
 *   'h'  const unsigned char * token hash, DB_TOKEN_HASH_LEN bytes (blob)
 *   'b'  const void *, int     blob of that many bytes (two arguments; a NULL
 *                              pointer binds SQL NULL, a negative length fails)
 * Text and blobs are bound SQLITE_STATIC: they must live until the caller's
 * db_stmt_reset(). Returns NULL on failure, with the error recorded and the
 * statement reset; otherwise the caller steps and resets. */
sqlite3_stmt *db_query(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...);

/* db_query() followed by db_exec_stmt(): a statement that yields no row.
 * 0 or DB_*. */
int db_exec(struct db *db, enum db_stmt_id id, const char *sql, const char *types, ...);

/* Records SQLite's message for `rc` and maps it to a DB_* code. */
int db_fail(struct db *db, int rc);

/* Records a message of our own; returns `code`. */
int db_failf(struct db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs a pragma (static SQL) and reads its integer result. 0 or DB_*. */
int db_pragma_int(struct db *db, const char *sql, int64_t *out);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t db_changes(struct db *db);
int64_t db_last_rowid(struct db *db);

/* Copies column `col` (TEXT) into dst[size]; DB_ERROR if NULL-less text is
 * longer than size-1 (a row we did not write), so nothing is truncated. */
int db_column_text(struct db *db, sqlite3_stmt *st, int col, char *dst, size_t size);

/* Atomic section: BEGIN IMMEDIATE when in autocommit, else a savepoint, so
 * atomic functions compose with db_begin(). db_atomic_end commits when rc is
 * 0 and rolls back otherwise; it returns rc, or the commit's error. */
int db_atomic_begin(struct db *db, int *outer);
int db_atomic_end(struct db *db, int outer, int rc);

#endif
