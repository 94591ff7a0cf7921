/* support/db_fixture.h: shared fixture of the db/ suites — a fresh database
 * file in its own temporary directory, opened and migrated, removed after
 * each test. Included by tests/test_db*.c only.
 *
 * With PC_TEST_PG_URL in the environment (CTest's NAME_pg variants, on the
 * cluster of tests/support/pg_cluster.sh) the same cases run on PostgreSQL:
 * each test gets a fresh schema of that database, and fx_path is the URL
 * that selects it (search_path), so fx_open(fx_path, ...) opens a second
 * connection to the same store just as it opens the same file. */
#ifndef PC_SUPPORT_DB_FIXTURE_H
#define PC_SUPPORT_DB_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include "db/db.h"

static char fx_dir[PATH_MAX];
static char fx_path[PATH_MAX];
static char fx_schema[64];
static struct db *fx_db;

/* The PostgreSQL URL of this run, or NULL on SQLite. */
static inline const char *fx_pg(void)
{
    const char *url = getenv("PC_TEST_PG_URL");

    return url && *url ? url : NULL;
}

/* Runs static SQL on the cluster's database; fails the test on error. */
static inline void fx_pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(fx_pg());
    PGresult *r;

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "PostgreSQL: %s", PQerrorMessage(c));
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* A fresh schema and the URL that selects it, in fx_path. */
static inline void fx_pg_make(void)
{
    static int seq;
    char sql[128];

    snprintf(fx_schema, sizeof fx_schema, "t_%ld_%d", (long)getpid(), ++seq);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", fx_schema);
    fx_pg_exec(sql);
    ck_assert_int_lt(snprintf(fx_path, sizeof fx_path, "%s%coptions=-csearch_path%%3D%s", fx_pg(),
                              strchr(fx_pg(), '?') ? '&' : '?', fx_schema),
                     (int)sizeof fx_path);
}

static inline void fx_make_dir(void)
{
    const char *tmp = getenv("TMPDIR");

    if (fx_pg()) {
        fx_pg_make();
        return;
    }
    snprintf(fx_dir, sizeof fx_dir, "%s/pc_db_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(fx_dir));
    /* A sub-directory that does not exist yet: db_open must create it. */
    ck_assert_int_lt(snprintf(fx_path, sizeof fx_path, "%s/data/portcullis.db", fx_dir),
                     (int)sizeof fx_path);
}

/* Opens and migrates `path` with a given busy timeout; fails the test on error. */
static inline struct db *fx_open(const char *path, int busy_ms)
{
    char err[256] = "";
    struct db *db = NULL;

    ck_assert_msg(db_open(&db, path, busy_ms, err, sizeof err) == 0, "db_open: %s", err);
    ck_assert_msg(db_migrate(db, err, sizeof err) == 0, "db_migrate: %s", err);
    return db;
}

static inline void fx_setup(void)
{
    fx_make_dir();
    fx_db = fx_open(fx_path, 5000);
}

static inline int fx_rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static inline void fx_teardown(void)
{
    db_close(fx_db);
    fx_db = NULL;
    if (fx_schema[0]) {
        char sql[128];

        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", fx_schema);
        fx_pg_exec(sql);
        fx_schema[0] = '\0';
    }
    if (fx_dir[0])
        nftw(fx_dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
    fx_dir[0] = '\0';
}

/* Static SQL on the test's store through a connection of its own (a raw
 * SQLite handle on the file, or libpq on the test's schema), to inspect or
 * tamper with it behind db/'s back: fx_sql_exec runs statements, fx_sql_int
 * reads the integer of a one-row query. Fail the test on error. */
static inline void fx_sql_exec(const char *sql)
{
    if (fx_pg()) {
        PGconn *c = PQconnectdb(fx_path);
        PGresult *r = PQexec(c, sql);

        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(fx_path, &h), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(h));
    sqlite3_close(h);
}

static inline int64_t fx_sql_int(const char *sql)
{
    int64_t n;

    if (fx_pg()) {
        PGconn *c = PQconnectdb(fx_path);
        PGresult *r = PQexec(c, sql);

        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(c);
        return n;
    }
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(fx_path, &h), SQLITE_OK);
    ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Runs one suite, returns the process exit status. */
static inline int fx_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
