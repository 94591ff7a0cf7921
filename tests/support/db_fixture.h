/* support/db_fixture.h: shared fixture of the db/ suites — a fresh database
 * file in its own temporary directory, opened and migrated, removed after
 * each test. Included by tests/test_db*.c only. */
#ifndef PC_SUPPORT_DB_FIXTURE_H
#define PC_SUPPORT_DB_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

static char fx_dir[PATH_MAX];
static char fx_path[PATH_MAX];
static struct db *fx_db;

static inline void fx_make_dir(void)
{
    const char *tmp = getenv("TMPDIR");

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
    if (fx_dir[0])
        nftw(fx_dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
    fx_dir[0] = '\0';
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
