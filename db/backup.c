/* backup.c: SQLite's online backup API in both directions. A backup takes a
 * read transaction on the source for the whole copy (one sqlite3_backup_step
 * of every page), so writers in WAL mode go on meanwhile and the copy is one
 * consistent snapshot. */
#include "db/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db_internal.h"

#define BACKUP_BUSY_MS  10000 /* how long a locked source or target is waited for */
#define BACKUP_RETRY_MS 50

static int bk_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bk_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* Read-only connection to an existing file. */
static int bk_open_ro(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return bk_fail(err, errlen, DB_ERROR, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bk_fail(err, errlen, DB_ERROR, "%s: not a regular file", path);
    if (sqlite3_open_v2(path, out, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        bk_fail(err, errlen, DB_ERROR, "%s: %s", path, sqlite3_errmsg(*out));
        sqlite3_close(*out);
        *out = NULL;
        return DB_ERROR;
    }
    sqlite3_busy_timeout(*out, BACKUP_BUSY_MS);
    return 0;
}

/* The first column of the first row of a static pragma, as text. */
static int bk_pragma_text(sqlite3 *h, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : -1;
}

static int bk_check(sqlite3 *h, const char *pragma, const char *path, char *err, size_t errlen)
{
    char res[256];
    if (bk_pragma_text(h, pragma, res, sizeof res) != 0)
        return bk_fail(err, errlen, DB_ERROR, "%s: %s", path, sqlite3_errmsg(h));
    if (strcmp(res, "ok") != 0)
        return bk_fail(err, errlen, DB_ERROR, "%s: %s failed: %s", path, pragma, res);
    return 0;
}

/* A Portcullis database at a schema version this build knows. */
static int bk_identity(sqlite3 *h, const char *path, char *err, size_t errlen)
{
    char app[32], ver[32];
    if (bk_pragma_text(h, "PRAGMA application_id", app, sizeof app) != 0 ||
        bk_pragma_text(h, "PRAGMA user_version", ver, sizeof ver) != 0)
        return bk_fail(err, errlen, DB_ERROR, "%s: %s", path, sqlite3_errmsg(h));
    long long a = strtoll(app, NULL, 10), v = strtoll(ver, NULL, 10);
    if (a != DB_APPLICATION_ID)
        return bk_fail(err, errlen, DB_ERROR, "%s: not a Portcullis database", path);
    if (v < 1 || v > DB_SCHEMA_VERSION)
        return bk_fail(err, errlen, DB_ERROR,
                       "%s: schema version %lld, this build understands 1 to %d", path, v,
                       DB_SCHEMA_VERSION);
    return 0;
}

/* Every page of src's main database into dst's, retrying while locked. */
static int bk_copy(sqlite3 *dst, sqlite3 *src, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        return bk_fail(err, errlen, DB_ERROR, "backup: %s", sqlite3_errmsg(dst));
    int rc, waited = 0;
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (waited >= BACKUP_BUSY_MS)
            break;
        sqlite3_sleep(BACKUP_RETRY_MS);
        waited += BACKUP_RETRY_MS;
    }
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && frc == SQLITE_OK)
        return 0;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return bk_fail(err, errlen, DB_BUSY, "backup: the database stayed locked for %d ms",
                       BACKUP_BUSY_MS);
    return bk_fail(err, errlen, DB_ERROR, "backup: %s",
                   sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
}

/* fsync of a file, or of the directory holding it. */
static int bk_sync(const char *path, int dir, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *p = dir ? dirname(buf) : path;
    int fd = open(p, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        bk_fail(err, errlen, DB_ERROR, "%s: fsync: %s", p, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DB_ERROR;
    }
    close(fd);
    return 0;
}

int db_backup(const char *db_path, const char *out_path, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    sqlite3 *src = NULL, *dst = NULL;
    int rc, fd;
    if (db_is_url(db_path))
        return bk_fail(err, errlen, DB_ERROR,
                       "the store is PostgreSQL: back it up with pg_dump, not portcullis backup");
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out_path, (long)getpid()) >= sizeof tmp)
        return bk_fail(err, errlen, DB_ERROR, "%s: path too long", out_path);
    if ((rc = bk_open_ro(db_path, &src, err, errlen)) != 0)
        return rc;
    /* Created here with 0600 before SQLite sees it: it holds password hashes. */
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        rc = bk_fail(err, errlen, DB_ERROR, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    close(fd);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = bk_fail(err, errlen, DB_ERROR, "%s: %s", tmp, sqlite3_errmsg(dst));
        goto fail;
    }
    char mode[16];
    if ((rc = bk_copy(dst, src, err, errlen)) != 0 ||
        (rc = bk_check(dst, "PRAGMA quick_check", tmp, err, errlen)) != 0 ||
        (rc = bk_identity(dst, tmp, err, errlen)) != 0)
        goto fail;
    /* One self-contained file: no -wal beside the copy. */
    if (bk_pragma_text(dst, "PRAGMA journal_mode=DELETE", mode, sizeof mode) != 0) {
        rc = bk_fail(err, errlen, DB_ERROR, "%s: %s", tmp, sqlite3_errmsg(dst));
        goto fail;
    }
    sqlite3_close(dst);
    dst = NULL;
    if ((rc = bk_sync(tmp, 0, err, errlen)) != 0)
        goto fail;
    if (rename(tmp, out_path) != 0) {
        rc = bk_fail(err, errlen, DB_ERROR, "%s: %s", out_path, strerror(errno));
        goto fail;
    }
    sqlite3_close(src);
    return bk_sync(out_path, 1, err, errlen);
fail:
    sqlite3_close(dst);
    sqlite3_close(src);
    unlink(tmp);
    return rc;
}

int db_restore(const char *backup_path, const char *db_path, char *err, size_t errlen)
{
    sqlite3 *src = NULL;
    struct db *dst = NULL;
    int rc;
    if (db_is_url(db_path))
        return bk_fail(
            err, errlen, DB_ERROR,
            "the store is PostgreSQL: restore it with pg_restore, not portcullis restore");
    if ((rc = bk_open_ro(backup_path, &src, err, errlen)) != 0)
        return rc;
    if ((rc = bk_identity(src, backup_path, err, errlen)) != 0 ||
        (rc = bk_check(src, "PRAGMA integrity_check", backup_path, err, errlen)) != 0)
        goto out;
    if ((rc = db_open(&dst, db_path, BACKUP_BUSY_MS, err, errlen)) != 0)
        goto out;
    /* The backup API replaces the target's pages in one write transaction
     * and keeps the target in WAL mode. */
    if ((rc = bk_copy(dst->sql, src, err, errlen)) != 0)
        goto out;
    if ((rc = db_migrate(dst, err, errlen)) == 0)
        rc = bk_check(dst->sql, "PRAGMA integrity_check", db_path, err, errlen);
out:
    db_close(dst);
    sqlite3_close(src);
    return rc;
}
