/* test_db.c: opening, pragmas, file modes, migrations, transactions and
 * concurrent writers, on a real SQLite file, and (test_db_pg, with
 * PC_TEST_PG_URL) on PostgreSQL. The cases about SQLite's file, pragmas and
 * whole-file write lock are SQLite's only; their PostgreSQL counterparts
 * (marker table, advisory-locked migration, row locks) are below them. The
 * table modules have their own suites (test_db_users.c, test_db_tokens.c,
 * test_db_audit.c). */
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "db/audit.h"
#include "db/db_internal.h" /* white box: the pragmas are per connection */
#include "db/tokens.h"
#include "db/users.h"
#include "support/db_fixture.h"

static int64_t pragma_on(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A second, raw connection to inspect or tamper with the file. */
static sqlite3 *raw_open(void)
{
    sqlite3 *h = NULL;

    ck_assert_int_eq(sqlite3_open_v2(fx_path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return h;
}

static int64_t count_rows(sqlite3 *h, const char *sql) { return pragma_on(h, sql); }

START_TEST(test_open_creates_schema)
{
    sqlite3 *h = raw_open();

    ck_assert_int_eq(count_rows(h, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                   "name IN ('users', 'refresh_tokens', 'audit_log')"),
                     3);
    ck_assert_int_eq(count_rows(h, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                                   "name IN ('refresh_tokens_family', 'refresh_tokens_user', "
                                   "'audit_log_at')"),
                     3);
    ck_assert_int_eq(pragma_on(h, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    ck_assert_int_eq(db_schema_version(fx_db), DB_SCHEMA_VERSION);
    sqlite3_close(h);
}
END_TEST

START_TEST(test_pragmas_in_effect)
{
    sqlite3_stmt *st = NULL;

    ck_assert_int_eq(pragma_on(fx_db->sql, "PRAGMA foreign_keys"), 1);
    ck_assert_int_eq(pragma_on(fx_db->sql, "PRAGMA synchronous"), 2);
    ck_assert_int_eq(pragma_on(fx_db->sql, "PRAGMA busy_timeout"), 5000);
    ck_assert_int_eq(sqlite3_prepare_v2(fx_db->sql, "PRAGMA journal_mode", -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
}
END_TEST

START_TEST(test_file_modes)
{
    char wal[PATH_MAX + 8], dir[PATH_MAX + 8];
    struct stat sb;

    /* Force the WAL file into existence with a write. */
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, NULL), 0);
    snprintf(wal, sizeof wal, "%s-wal", fx_path);
    snprintf(dir, sizeof dir, "%s/data", fx_dir);
    ck_assert_int_eq(stat(fx_path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(wal, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
}
END_TEST

START_TEST(test_reopen_is_idempotent)
{
    struct db_user u;

    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, NULL), 0);
    db_close(fx_db);
    fx_db = fx_open(fx_path, 5000);
    ck_assert_int_eq(db_schema_version(fx_db), DB_SCHEMA_VERSION);
    ck_assert_int_eq(db_user_by_name(fx_db, "alice", &u), 0);
    /* Migrating an up-to-date file again is a no-op. */
    ck_assert_int_eq(db_migrate(fx_db, NULL, 0), 0);
}
END_TEST

START_TEST(test_too_new_version_refused)
{
    sqlite3 *h = raw_open();
    char err[256] = "";
    struct db *db = NULL;

    ck_assert_int_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(db_open(&db, fx_path, 1000, err, sizeof err), 0);
    ck_assert_int_eq(db_migrate(db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "newer"));
    db_close(db);
}
END_TEST

START_TEST(test_foreign_file_refused)
{
    sqlite3 *h = raw_open();
    char err[256] = "";

    ck_assert_int_eq(sqlite3_exec(h, "PRAGMA application_id = 12345", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(db_migrate(fx_db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "not a Portcullis database"));
}
END_TEST

/* A migration that fails half-way must leave the file as it was. */
START_TEST(test_failed_migration_writes_nothing)
{
    char path[PATH_MAX + 16], err[256] = "";
    struct db *db = NULL;
    sqlite3 *h = NULL;

    snprintf(path, sizeof path, "%s/clash.db", fx_dir);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    /* audit_log is created last by migration 1: the clash comes after
     * users and refresh_tokens were already created in the transaction. */
    ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE audit_log (x)", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(db_open(&db, path, 1000, err, sizeof err), 0);
    ck_assert_int_eq(db_migrate(db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "migration 1"));
    db_close(db);
    ck_assert_int_eq(count_rows(h, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                   "('users', 'refresh_tokens')"),
                     0);
    ck_assert_int_eq(pragma_on(h, "PRAGMA user_version"), 0);
    sqlite3_close(h);
}
END_TEST

START_TEST(test_open_errors)
{
    char path[PATH_MAX + 16], err[256] = "";
    struct db *db = fx_db; /* must be reset to NULL */
    FILE *f;

    ck_assert_int_eq(db_open(&db, ":memory:", 1000, err, sizeof err), DB_ERROR);
    ck_assert_ptr_null(db);
    ck_assert_int_eq(db_open(&db, "", 1000, err, sizeof err), DB_ERROR);
    ck_assert_int_eq(db_open(&db, fx_path, -1, err, sizeof err), DB_ERROR);
    /* Parent "directory" is a regular file. */
    snprintf(path, sizeof path, "%s/file", fx_dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fclose(f);
    snprintf(path, sizeof path, "%s/file/sub/x.db", fx_dir);
    err[0] = '\0';
    ck_assert_int_eq(db_open(&db, path, 1000, err, sizeof err), DB_ERROR);
    ck_assert_ptr_null(db);
    ck_assert_str_ne(err, "");
    db_close(NULL);
    ck_assert_str_eq(db_strerror(DB_CONFLICT), "conflict");
    ck_assert_str_eq(db_strerror(0), "ok");
}
END_TEST

/* PostgreSQL: one integer from static SQL on the test's schema. */
static int64_t pg_int(const char *sql)
{
    PGconn *c = PQconnectdb(fx_path);
    PGresult *r;
    int64_t v;

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

static void pg_exec_here(const char *sql)
{
    PGconn *c = PQconnectdb(fx_path);
    PGresult *r;

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* The test's schema, emptied of everything the migrations made. */
static void empty_schema(void)
{
    char sql[200];

    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", fx_schema, fx_schema);
    pg_exec_here(sql);
}

START_TEST(test_pg_creates_schema)
{
    ck_assert_int_eq(pg_int("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                            "AND tablename IN ('users', 'refresh_tokens', 'audit_log', "
                            "'sessions', 'mfa_totp', 'login_failures')"),
                     6);
    ck_assert_int_eq(pg_int("SELECT value FROM portcullis_meta WHERE key = 'schema_version'"),
                     DB_SCHEMA_VERSION);
    ck_assert_int_eq(db_schema_version(fx_db), DB_SCHEMA_VERSION);
    ck_assert(db_is_postgres(fx_db));
}
END_TEST

START_TEST(test_pg_too_new_refused)
{
    char err[256] = "";

    pg_exec_here("UPDATE portcullis_meta SET value = 99 WHERE key = 'schema_version'");
    ck_assert_int_eq(db_migrate(fx_db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "newer"));
}
END_TEST

START_TEST(test_pg_foreign_refused)
{
    char err[256] = "";

    pg_exec_here("UPDATE portcullis_meta SET value = 12345 WHERE key = 'application_id'");
    ck_assert_int_eq(db_migrate(fx_db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "not a Portcullis database"));
}
END_TEST

/* Someone else's tables without our marker: refused, nothing written. */
START_TEST(test_pg_foreign_tables_refused)
{
    char err[256] = "";
    struct db *db = NULL;

    empty_schema();
    pg_exec_here("CREATE TABLE audit_log (x int)");
    ck_assert_int_eq(db_open(&db, fx_path, 1000, err, sizeof err), 0);
    ck_assert_int_eq(db_migrate(db, err, sizeof err), DB_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "not a Portcullis database"));
    db_close(db);
    ck_assert_int_eq(pg_int("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"),
                     1);
}
END_TEST

START_TEST(test_pg_open_errors)
{
    char err[256] = "";
    struct db *db = fx_db;

    ck_assert_int_eq(
        db_open(&db, "postgresql:///portcullis?host=/nonexistent-dir", 1000, err, sizeof err),
        DB_ERROR);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err, "PostgreSQL"));
    ck_assert(db_is_url("postgres://x/y"));
    ck_assert(!db_is_url("data/portcullis.db"));
}
END_TEST

/* libpq's message for a URL it cannot parse quotes the failing part, here
 * the password: the error says the URL is invalid and never shows it. */
START_TEST(test_bad_url_hides_password)
{
    char err[256] = "";
    struct db *db = fx_db;

    ck_assert_int_eq(db_open(&db, "postgresql://portcullis:S3cr%zzPassw0rd@127.0.0.1:1/portcullis",
                             1000, err, sizeof err),
                     DB_ERROR);
    ck_assert_ptr_null(db);
    ck_assert_msg(strstr(err, "Passw0rd") == NULL, "%s", err);
    ck_assert_msg(strstr(err, "not a valid libpq URL") != NULL, "%s", err);
}
END_TEST

/* A constraint failure's message names the failure, never the row: on
 * PostgreSQL the DETAIL quotes the whole row, password hash included. */
START_TEST(test_failure_message_hides_row)
{
    /* Past db_user_create's own checks (a slot copy.c leaves unused), so
     * that the store's CHECK is what fails. */
    ck_assert_int_eq(db_exec(fx_db, DB_STMT_COPY_WRITE_LAST,
                             "INSERT INTO users (username, password_hash, role, created_at, "
                             "updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                             "ttti", "eve", "$argon2id$v=19$SECRETHASH", "no-such-role",
                             (int64_t)1),
                     DB_ERROR);
    ck_assert_msg(strstr(db_errmsg(fx_db), "SECRETHASH") == NULL, "%s", db_errmsg(fx_db));
    ck_assert_msg(strstr(db_errmsg(fx_db), "check") != NULL ||
                      strstr(db_errmsg(fx_db), "CHECK") != NULL,
                  "%s", db_errmsg(fx_db));
}
END_TEST

/* Several instances starting together on an empty database: the advisory
 * lock lets one migrate while the others wait, and all succeed. */
static void *migrator_main(void *arg)
{
    char err[256];
    struct db *db = NULL;
    int *rc = arg;

    *rc = db_open(&db, fx_path, 10000, err, sizeof err);
    if (*rc == 0)
        *rc = db_migrate(db, err, sizeof err);
    db_close(db);
    return NULL;
}

START_TEST(test_pg_concurrent_migrations)
{
    pthread_t t[3];
    int rc[3];

    db_close(fx_db);
    fx_db = NULL;
    empty_schema();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, migrator_main, &rc[i]), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(rc[i], 0);
    }
    fx_db = fx_open(fx_path, 5000);
    ck_assert_int_eq(db_schema_version(fx_db), DB_SCHEMA_VERSION);
}
END_TEST

static int64_t user_count(struct db *db)
{
    int64_t n = -1;

    ck_assert_int_eq(db_user_count(db, &n), 0);
    return n;
}

START_TEST(test_tx_constraint_failure_rolls_back)
{
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h1", "user", 1, NULL), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "register", 1, "alice", "127.0.0.1", NULL, 1), 0);
    ck_assert_int_eq(db_user_create(fx_db, "ALICE", "h2", "user", 1, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_rollback(fx_db), 0);
    ck_assert_int_eq(user_count(fx_db), 0);
    /* A second rollback (nothing open) is harmless. */
    ck_assert_int_eq(db_rollback(fx_db), 0);
}
END_TEST

START_TEST(test_tx_commit_and_nesting)
{
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_begin(fx_db), DB_ERROR); /* no silent nesting */
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h1", "user", 1, NULL), 0);
    ck_assert_int_eq(db_commit(fx_db), 0);
    ck_assert_int_eq(user_count(fx_db), 1);
    ck_assert_int_eq(db_commit(fx_db), DB_ERROR); /* nothing to commit */
}
END_TEST

/* An atomic function failing inside the caller's transaction undoes only
 * its own part (savepoint); the caller's earlier work survives. */
START_TEST(test_atomic_nests_in_tx)
{
    unsigned char h1[DB_TOKEN_HASH_LEN], h2[DB_TOKEN_HASH_LEN];
    struct db_refresh r;
    int64_t uid = 0, tid = 0, other = 0;

    memset(h1, 1, sizeof h1);
    memset(h2, 2, sizeof h2);
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, &uid), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, "fam", h1, 100, 1, &tid), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, "fam2", h2, 100, 1, &other), 0);
    /* The new hash collides: the rotation fails after claiming the row. */
    ck_assert_int_eq(db_refresh_rotate(fx_db, tid, h2, 200, 2, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_commit(fx_db), 0);
    ck_assert_int_eq(db_refresh_find(fx_db, h1, &r), 0);
    ck_assert_int_eq(r.revoked_at, 0);
    ck_assert_int_eq(r.replaced_by, 0);
    ck_assert_int_eq(user_count(fx_db), 1);
}
END_TEST

/* A write waiting on another connection's lock past the busy timeout is
 * DB_BUSY: on SQLite the whole file's write lock (BEGIN IMMEDIATE), on
 * PostgreSQL the row the other transaction changed (lock_timeout). */
START_TEST(test_busy_maps_to_db_busy)
{
    struct db *other = fx_open(fx_path, 50);
    int64_t id = 0;

    ck_assert_int_eq(db_user_create(fx_db, "bob", "h", "user", 1, &id), 0);
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_user_set_role(fx_db, id, "admin", 2), 0);
    if (!fx_pg())
        ck_assert_int_eq(db_begin(other), DB_BUSY);
    ck_assert_int_eq(db_user_set_disabled(other, id, 1, 2), DB_BUSY);
    ck_assert_int_eq(db_rollback(fx_db), 0);
    ck_assert_int_eq(db_user_set_disabled(other, id, 1, 2), 0);
    db_close(other);
}
END_TEST

#define WRITES_PER_THREAD 100

struct writer {
    const char *prefix;
    int failures;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char err[256], name[32];
    struct db *db = NULL;

    if (db_open(&db, fx_path, 10000, err, sizeof err) != 0 ||
        db_migrate(db, err, sizeof err) != 0) {
        w->failures = -1;
        db_close(db);
        return NULL;
    }
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        snprintf(name, sizeof name, "%s%d", w->prefix, i);
        /* Alternate autocommit writes and explicit transactions. */
        if (i % 2) {
            if (db_user_create(db, name, "h", "user", i, NULL) != 0)
                w->failures++;
        } else if (db_begin(db) != 0 || db_user_create(db, name, "h", "user", i, NULL) != 0 ||
                   db_audit_add(db, "register", 0, name, NULL, NULL, i) != 0 ||
                   db_commit(db) != 0) {
            db_rollback(db);
            w->failures++;
        }
    }
    db_close(db);
    return NULL;
}

START_TEST(test_concurrent_writers)
{
    struct writer w[2] = { { "a", 0 }, { "b", 0 } };
    pthread_t t[2];

    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].failures, 0);
    }
    ck_assert_int_eq(user_count(fx_db), 2 * WRITES_PER_THREAD);
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    if (fx_pg()) {
        tcase_add_test(tc, test_pg_creates_schema);
        tcase_add_test(tc, test_pg_too_new_refused);
        tcase_add_test(tc, test_pg_foreign_refused);
        tcase_add_test(tc, test_pg_foreign_tables_refused);
        tcase_add_test(tc, test_pg_open_errors);
        tcase_add_test(tc, test_pg_concurrent_migrations);
    } else {
        /* The file, its pragmas and modes: SQLite's own. */
        tcase_add_test(tc, test_open_creates_schema);
        tcase_add_test(tc, test_pragmas_in_effect);
        tcase_add_test(tc, test_file_modes);
        tcase_add_test(tc, test_too_new_version_refused);
        tcase_add_test(tc, test_foreign_file_refused);
        tcase_add_test(tc, test_failed_migration_writes_nothing);
        tcase_add_test(tc, test_open_errors);
    }
    tcase_add_test(tc, test_bad_url_hides_password);
    tcase_add_test(tc, test_failure_message_hides_row);
    tcase_add_test(tc, test_reopen_is_idempotent);
    tcase_add_test(tc, test_tx_constraint_failure_rolls_back);
    tcase_add_test(tc, test_tx_commit_and_nesting);
    tcase_add_test(tc, test_atomic_nests_in_tx);
    tcase_add_test(tc, test_busy_maps_to_db_busy);
    tcase_add_test(tc, test_concurrent_writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(db_suite()); }
