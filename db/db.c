/* db.c: opening the store (a SQLite file, or a PostgreSQL database when the
 * target is a postgresql:// URL), SQLite's connection settings and error
 * mapping, closing. The statement cache and transactions are in stmt.c,
 * the schema and its migrations in schema.c (pg_schema.c), the PostgreSQL
 * connection in pg.c. */
#include "db/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db_internal.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* mkdir -p of the directory part of `path`; each created level gets 0700
 * because the directory holds password hashes and token hashes. */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof buf) {
        set_err(err, errlen, "database path too long");
        return DB_ERROR;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            set_err(err, errlen, "%s: cannot create directory %s: %s", path, buf, strerror(errno));
            return DB_ERROR;
        }
        *p = '/';
    }
    return 0;
}

/* Creating the file ourselves is the only thread-safe way to get 0600 without
 * touching the process umask; SQLite then copies this mode to -wal/-shm.
 * An existing file keeps the mode its owner chose. */
static int create_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return DB_ERROR;
    }
    close(fd);
    return 0;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_BUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return DB_CONFLICT;
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return DB_NOTFOUND;
        return DB_ERROR;
    default: return DB_ERROR;
    }
}

int db_fail(struct db *db, int rc)
{
    /* The handle's message belongs to rc only if the handle recorded it
     * (bind errors such as SQLITE_TOOBIG from our own checks do not). */
    if (sqlite3_extended_errcode(db->sql) == rc)
        snprintf(db->errmsg, sizeof db->errmsg, "%s", sqlite3_errmsg(db->sql));
    else
        snprintf(db->errmsg, sizeof db->errmsg, "%s", sqlite3_errstr(rc));
    return map_rc(rc);
}

int db_failf(struct db *db, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* Reads an integer pragma back: SQLite ignores unknown or compiled-out
 * pragmas silently, so a setting is trusted only after it is read back. */
int db_pragma_int(struct db *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK)
        rc = db_fail(db, rc);
    sqlite3_finalize(st);
    return rc;
}

static int set_wal(struct db *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode=WAL", -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);

        rc = (mode && strcmp(mode, "wal") == 0)
                 ? 0
                 : db_failf(db, DB_ERROR, "journal_mode is %s, WAL unavailable",
                            mode ? mode : "unknown");
    } else {
        rc = db_fail(db, rc);
    }
    sqlite3_finalize(st);
    return rc;
}

static int configure(struct db *db, int busy_timeout_ms)
{
    int64_t fk = 0, sync = 0;
    int rc;

    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, busy_timeout_ms);
    /* Hardening: no writable_schema tricks, no functions with side effects
     * from the schema, no "double-quoted" strings mistaken for identifiers. */
    if (sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL) != SQLITE_OK ||
        sqlite3_db_config(db->sql, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL) != SQLITE_OK ||
        sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL) != SQLITE_OK ||
        sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL) != SQLITE_OK)
        return db_failf(db, DB_ERROR, "sqlite3_db_config failed");
    rc = sqlite3_exec(db->sql, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;", NULL, NULL,
                      NULL);
    if (rc != SQLITE_OK)
        return db_fail(db, rc);
    if ((rc = set_wal(db)) != 0)
        return rc;
    if ((rc = db_pragma_int(db, "PRAGMA foreign_keys", &fk)) != 0 ||
        (rc = db_pragma_int(db, "PRAGMA synchronous", &sync)) != 0)
        return rc;
    if (fk != 1 || sync != 2)
        return db_failf(db, DB_ERROR, "pragmas not in effect (foreign_keys=%lld synchronous=%lld)",
                        (long long)fk, (long long)sync);
    return 0;
}

int db_is_url(const char *target)
{
    return target &&
           (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0);
}

static int open_pg(struct db **out, const char *url, int busy_timeout_ms, char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof *db);
    int rc;

    if (!db) {
        set_err(err, errlen, "out of memory");
        return DB_ERROR;
    }
    db->backend = DB_PG;
    db->busy_timeout_ms = busy_timeout_ms;
    if ((rc = db_pg_open(db, url, err, errlen)) != 0) {
        db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

int db_open(struct db **out, const char *path, int busy_timeout_ms, char *err, size_t errlen)
{
    struct db *db = NULL;
    int rc = DB_ERROR;

    *out = NULL;
    if (!path || !*path || strcmp(path, ":memory:") == 0 || busy_timeout_ms < 0) {
        set_err(err, errlen, "invalid database path or busy timeout");
        return DB_ERROR;
    }
    if (db_is_url(path))
        return open_pg(out, path, busy_timeout_ms, err, errlen);
    if (!sqlite3_threadsafe()) {
        set_err(err, errlen, "SQLite built without thread support");
        return DB_ERROR;
    }
    if (make_parents(path, err, errlen) != 0 || create_file(path, err, errlen) != 0)
        return DB_ERROR;
    if (!(db = calloc(1, sizeof *db))) {
        set_err(err, errlen, "out of memory");
        return DB_ERROR;
    }
    rc = sqlite3_open_v2(path, &db->sql,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = db->sql ? db_fail(db, rc) : db_failf(db, DB_ERROR, "%s", sqlite3_errstr(rc));
        goto fail;
    }
    if ((rc = configure(db, busy_timeout_ms)) != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    set_err(err, errlen, "%s: %s", path, db->errmsg);
    db_close(db);
    return rc;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (int i = 0; i < DB_STMT_COUNT; i++)
        db_stmt_reset(&db->stmts[i]);
    if (db->backend == DB_PG) {
        db_pg_close(db);
        free(db);
        return;
    }
    if (db->sql && !sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < DB_STMT_COUNT; i++)
        sqlite3_finalize(db->stmts[i].lite);
    sqlite3_close_v2(db->sql);
    free(db);
}

int db_is_postgres(const struct db *db) { return db && db->backend == DB_PG; }

int db_ping(struct db *db)
{
    struct db_stmt *st;
    int rc;

    if (db->backend != DB_PG)
        return 0;
    if (!(st = db_query(db, DB_STMT_PING, "SELECT 1", "")))
        return DB_ERROR;
    rc = db_step_row(db, st);
    db_stmt_reset(st);
    return rc;
}

const char *db_errmsg(const struct db *db)
{
    if (!db)
        return "no database";
    return db->errmsg[0] ? db->errmsg : "no error";
}

const char *db_strerror(int code)
{
    switch (code) {
    case 0: return "ok";
    case DB_NOTFOUND: return "not found";
    case DB_CONFLICT: return "conflict";
    case DB_BUSY: return "database busy";
    default: return "database error";
    }
}

int64_t db_changes(struct db *db)
{
    return db->backend == DB_PG ? db->changes : sqlite3_changes64(db->sql);
}

int64_t db_last_rowid(struct db *db)
{
    return db->backend == DB_PG ? db->last_id : sqlite3_last_insert_rowid(db->sql);
}
