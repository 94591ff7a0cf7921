/* db.h: the Portcullis store — one SQLite file (the default) or a PostgreSQL
 * database shared by several instances; one connection per thread.
 *
 * A struct db is one connection (SQLite, or PostgreSQL through libpq) plus
 * its cache of prepared statements. It is used by one thread only (SQLite:
 * opened with SQLITE_OPEN_NOMUTEX): the server opens one per event-loop
 * thread and one per pool thread. Cross-connection safety comes from the
 * database (SQLite's file locking with WAL and busy_timeout; PostgreSQL's
 * transactions and row locks, see db_begin in stmt.c), never from sharing a
 * handle. Both backends run the same queries (the files of db/) and the same schema
 * versions.
 *
 * Every query in db/ is a prepared statement with bound parameters, prepared
 * once per connection on first use. Only migrations and pragmas (static SQL,
 * no user data) go through sqlite3_exec.
 *
 * Times are Unix seconds, passed in by the caller (`now`) so tests control
 * the clock and one request uses one instant throughout.
 *
 * Return codes of every db_* function that returns int: 0 on success or one
 * of the negative codes below; db_errmsg() then describes the failure. */
#ifndef PC_DB_H
#define PC_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_ERROR    (-1) /* I/O, corruption, misuse, invalid argument */
#define DB_NOTFOUND (-2) /* no such row (or a referenced row is missing) */
#define DB_CONFLICT (-3) /* unique constraint, or a compare-and-swap lost */
#define DB_BUSY     (-4) /* still locked by another connection after busy_timeout */

/* Schema version this build creates and understands (PRAGMA user_version). */
#define DB_SCHEMA_VERSION 3

struct db;

/* Opens the store at `path`: a postgresql:// (or postgres://) URL connects
 * to PostgreSQL (libpq's URL, so sslmode and the other libpq parameters
 * apply; busy_timeout_ms becomes the session's lock_timeout; a connection
 * lost later is re-established on a later call, with a backoff from 0.1 s
 * up to 5 s, and calls meanwhile fail with DB_ERROR). Anything else is the
 * SQLite file:
 * opens (creating if missing) the database file at `path`. Missing parent
 * directories are created with mode 0700, a new file with mode 0600 (SQLite
 * gives the -wal and -shm files the same mode). Sets busy_timeout,
 * journal_mode=WAL (refusing a file that cannot use WAL), synchronous=FULL,
 * foreign_keys=ON and SQLite's defensive mode. Does not migrate: call
 * db_migrate() once at start before serving.
 * Returns 0 and *out, or DB_ERROR/DB_BUSY with a message in err. */
int db_open(struct db **out, const char *path, int busy_timeout_ms, char *err, size_t errlen);

/* Applies every pending migration in one IMMEDIATE transaction, so a crash
 * leaves the old schema or the new one, never half. A no-op when up to date;
 * safe to race from several connections. Refuses (DB_ERROR) a database whose
 * version is newer than DB_SCHEMA_VERSION or that belongs to another
 * application. On PostgreSQL the transaction holds an advisory lock, so
 * instances starting together migrate once and the others wait, and a
 * marker table (portcullis_meta) plays SQLite's application_id: a database
 * holding tables but no marker is refused. */
int db_migrate(struct db *db, char *err, size_t errlen);

/* Measurements for the composition root's metrics (db/ knows none): after
 * each statement execution (its first step) fn gets its duration in
 * microseconds and its result (0 or 1 for success, else a DB_* code); when
 * a statement cannot even start (the store is unreachable) it gets 0 and
 * DB_ERROR. Called on the thread that ran the statement. Set once, before
 * any connection is used; NULL (the default) measures nothing. */
typedef void (*db_observer_fn)(uint64_t usec, int rc);
void db_set_observer(db_observer_fn fn);

/* 1 when `target` is a PostgreSQL URL (what db_open would connect to). */
int db_is_url(const char *target);

/* 1 when db is connected to PostgreSQL. */
int db_is_postgres(const struct db *db);

/* Whether the store answers: on PostgreSQL one round trip (SELECT 1), which
 * also re-establishes a lost connection when its backoff allows; on SQLite
 * (a local file, nothing to reach) always 0. 0 or DB_*. */
int db_ping(struct db *db);

/* Finalizes cached statements and closes the connection. NULL ok. An open
 * transaction is rolled back. */
void db_close(struct db *db);

/* Explicit transactions for callers that group several db_* calls.
 * db_begin takes the write lock at once (BEGIN IMMEDIATE), so a transaction
 * never fails half-way with SQLITE_BUSY on its first write; it waits up to
 * busy_timeout and then returns DB_BUSY. Functions documented as atomic use a
 * savepoint inside such a transaction, so they nest. db_rollback is safe to
 * call when SQLite already rolled back on its own. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Last error of this connection, in English; never NULL. Valid until the
 * next db_* call on the same connection. */
const char *db_errmsg(const struct db *db);

/* Static name of a return code ("ok", "not found", ...). */
const char *db_strerror(int code);

/* Schema version of the open store (SQLite: PRAGMA user_version), or
 * DB_ERROR. */
int db_schema_version(struct db *db);

#endif
