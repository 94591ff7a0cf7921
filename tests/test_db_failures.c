/* test_db_failures.c: the login_failures table (counts per name, decay,
 * clear, purge, counting from several connections at once) and the
 * migration of a version-1 database that adds it. */
#include <pthread.h>

#include "db/admin.h"
#include "db/failures.h"
#include "db/users.h"
#include "support/db_fixture.h"

START_TEST(test_count_and_decay)
{
    int64_t n = -1, at = -1;

    ck_assert_int_eq(db_failure_get(fx_db, "ghost", &n, &at), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(at, 0);
    ck_assert_int_eq(db_failure_add(fx_db, "ghost", 1000, 60, &n, &at), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(at, 1000);
    ck_assert_int_eq(db_failure_add(fx_db, "ghost", 1060, 60, &n, &at), 0);
    ck_assert_int_eq(n, 2); /* exactly decay_s later still counts */
    /* A clock stepped back neither moves last_at back nor resets. */
    ck_assert_int_eq(db_failure_add(fx_db, "ghost", 900, 60, &n, &at), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(at, 1060);
    ck_assert_int_eq(db_failure_get(fx_db, "ghost", &n, &at), 0);
    ck_assert_int_eq(n, 3);
    /* More than decay_s after the last failure: a fresh count. */
    ck_assert_int_eq(db_failure_add(fx_db, "ghost", 1121, 60, &n, &at), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(at, 1121);
    /* Names are separate (the caller lower-cases them). */
    ck_assert_int_eq(db_failure_get(fx_db, "other", &n, &at), 0);
    ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_clear_and_purge)
{
    int64_t n = 0, at = 0;

    ck_assert_int_eq(db_failure_add(fx_db, "a", 100, 60, NULL, NULL), 0);
    ck_assert_int_eq(db_failure_add(fx_db, "b", 200, 60, NULL, NULL), 0);
    ck_assert_int_eq(db_failure_add(fx_db, "c", 300, 60, NULL, NULL), 0);
    ck_assert_int_eq(db_failure_clear(fx_db, "a"), 0);
    ck_assert_int_eq(db_failure_clear(fx_db, "a"), 0); /* nothing left: still 0 */
    ck_assert_int_eq(db_failure_get(fx_db, "a", &n, &at), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_failure_purge(fx_db, 300), 0);
    ck_assert_int_eq(db_failure_get(fx_db, "b", &n, &at), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_failure_get(fx_db, "c", &n, &at), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(test_hostile_and_bad_names)
{
    char longname[66];
    int64_t n = 0, at = 0;

    memset(longname, 'x', 65);
    longname[65] = '\0';
    ck_assert_int_eq(db_failure_add(fx_db, "x'); DROP TABLE users;--", 1, 60, &n, NULL), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(db_failure_get(fx_db, "x'); DROP TABLE users;--", &n, &at), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(db_failure_add(fx_db, "", 1, 60, &n, NULL), 0); /* an invalid name's key */
    ck_assert_int_eq(db_failure_add(fx_db, longname, 1, 60, NULL, NULL), DB_ERROR);
    ck_assert_int_eq(db_failure_add(fx_db, NULL, 1, 60, NULL, NULL), DB_ERROR);
    ck_assert_int_eq(db_failure_get(fx_db, longname, &n, &at), DB_ERROR);
}
END_TEST

/* A database made by the previous release (schema version 1): its users
 * survive the migration and the new table works. */
START_TEST(test_version_1_migrates)
{
    struct db_user u;
    int64_t n = 0, at = 0;

    ck_assert_int_eq(db_user_create(fx_db, "old.user", "h", "user", 1, NULL), 0);
    db_close(fx_db);
    fx_db = NULL;
    /* Back to exactly what migration 1 left (released migrations never
     * change, so this is the old file). */
    fx_sql_exec("DROP TABLE login_failures;"
                "DROP TABLE mfa_totp; DROP TABLE mfa_recovery;"
                "DROP TABLE mfa_tokens; DROP TABLE password_resets;"
                "DROP TABLE sessions;"
                "DROP TABLE signing_keys; DROP TABLE ticket_keys;"
                "ALTER TABLE audit_log DROP COLUMN actor_id;");
    if (fx_pg()) /* what version 2 added besides tables: the announcing triggers */
        fx_sql_exec("DROP FUNCTION portcullis_user_changed, portcullis_mfa_changed, "
                    "portcullis_family_revoked CASCADE");
    fx_sql_exec(fx_pg() ? "UPDATE portcullis_meta SET value = 1 WHERE key = 'schema_version'"
                        : "PRAGMA user_version = 1;");
    fx_db = fx_open(fx_path, 5000);
    ck_assert_int_eq(db_schema_version(fx_db), DB_SCHEMA_VERSION);
    ck_assert_int_eq(db_user_by_name(fx_db, "old.user", &u), 0);
    ck_assert_int_eq(db_failure_add(fx_db, "old.user", 5, 60, NULL, NULL), 0);
    ck_assert_int_eq(db_failure_get(fx_db, "old.user", &n, &at), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(db_audit_add_by(fx_db, "admin_update", 1, "old.user", 7, "ip", NULL, 9), 0);
}
END_TEST

/* Failures counted at once by several connections (several instances, each
 * with its threads) all count: the upsert is atomic on its row. */
#define RACERS    3
#define PER_RACER 40

static void *racer_main(void *arg)
{
    char err[256];
    struct db *db = NULL;
    int *bad = arg;

    if (db_open(&db, fx_path, 10000, err, sizeof err) != 0) {
        *bad = -1;
        return NULL;
    }
    for (int i = 0; i < PER_RACER; i++)
        if (db_failure_add(db, "target", 1000 + i, 3600, NULL, NULL) != 0)
            (*bad)++;
    db_close(db);
    return NULL;
}

START_TEST(test_concurrent_failures_all_count)
{
    pthread_t t[RACERS];
    int bad[RACERS] = { 0 };
    int64_t n = 0, at = 0;

    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, racer_main, &bad[i]), 0);
    for (int i = 0; i < RACERS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(bad[i], 0);
    }
    ck_assert_int_eq(db_failure_get(fx_db, "target", &n, &at), 0);
    ck_assert_int_eq(n, RACERS * PER_RACER);
    ck_assert_int_eq(at, 1000 + PER_RACER - 1);
}
END_TEST

static Suite *failures_suite(void)
{
    Suite *s = suite_create("db_failures");
    TCase *tc = tcase_create("failures");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_count_and_decay);
    tcase_add_test(tc, test_clear_and_purge);
    tcase_add_test(tc, test_hostile_and_bad_names);
    tcase_add_test(tc, test_version_1_migrates);
    tcase_add_test(tc, test_concurrent_failures_all_count);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(failures_suite()); }
