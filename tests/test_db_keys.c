/* test_db_keys.c: the key set in the store (db/keys.c): signing keys
 * listed newest first with the retired ones still in their window,
 * rotation retiring the active key and dropping expired ones in one step,
 * ticket keys whose first insert wins, the purge and the count. */

#include <pthread.h>
#include <time.h>

#include "db/db_internal.h"
#include "db/keys.h"
#include "support/db_fixture.h"

static struct db_signing_key skey(const char *kid, int64_t created, int64_t retired)
{
    struct db_signing_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.kid, sizeof k.kid, "%s", kid);
    snprintf(k.alg, sizeof k.alg, "ES256");
    memset(k.secret, kid[0], 40);
    k.secret_len = 40;
    k.created_at = created;
    k.retired_at = retired;
    return k;
}

struct seen {
    int n;
    char kid[8][DB_KEY_KID_MAX + 1];
    int64_t retired[8];
    unsigned char first_byte[8];
    size_t len[8];
};

static int collect(void *arg, const struct db_signing_key *k)
{
    struct seen *s = arg;
    ck_assert_int_lt(s->n, 8);
    snprintf(s->kid[s->n], sizeof s->kid[0], "%s", k->kid);
    ck_assert_str_eq(k->alg, "ES256");
    s->retired[s->n] = k->retired_at;
    s->first_byte[s->n] = k->secret[0];
    s->len[s->n] = k->secret_len;
    s->n++;
    return 0;
}

static int stop_at_first(void *arg, const struct db_signing_key *k)
{
    (void)k;
    ++*(int *)arg;
    return 7;
}

START_TEST(test_signing_keys_list_and_rotate)
{
    struct db_signing_key a = skey("a-kid", 100, 0), b = skey("b-kid", 200, 0);
    struct seen s = { 0 };
    int64_t n = -1;
    int calls = 0;

    ck_assert_int_eq(db_key_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_signing_key_add(fx_db, &a), 0);
    ck_assert_int_eq(db_signing_key_add(fx_db, &a), DB_CONFLICT);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.kid[0], "a-kid");
    ck_assert_int_eq(s.retired[0], 0);
    ck_assert_int_eq(s.first_byte[0], 'a');
    ck_assert_uint_eq(s.len[0], 40);

    /* Rotation: a retired at 300, b active, both listed, newest first. */
    ck_assert_int_eq(db_signing_key_rotate(fx_db, &b, 300, 0), 0);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.kid[0], "b-kid");
    ck_assert_int_eq(s.retired[0], 0);
    ck_assert_str_eq(s.kid[1], "a-kid");
    ck_assert_int_eq(s.retired[1], 300);
    /* Past its window a retired key is no longer listed. */
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(db_signing_key_list(fx_db, 300, collect, &s), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.kid[0], "b-kid");
    /* A callback's non-zero return stops the walk and is returned. */
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, stop_at_first, &calls), 7);
    ck_assert_int_eq(calls, 1);

    /* A kid that exists already: nothing changes, b stays active. */
    struct db_signing_key again = skey("a-kid", 400, 0);
    ck_assert_int_eq(db_signing_key_rotate(fx_db, &again, 400, 0), DB_CONFLICT);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.retired[0], 0);

    /* The next rotation drops a (retired at 300 < 350) from the store. */
    struct db_signing_key c = skey("c-kid", 500, 0);
    ck_assert_int_eq(db_signing_key_rotate(fx_db, &c, 500, 350), 0);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.kid[0], "c-kid");
    ck_assert_str_eq(s.kid[1], "b-kid");
    ck_assert_int_eq(s.retired[1], 500);
    ck_assert_int_eq(db_key_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 2);
}
END_TEST

static struct db_ticket_key tkey(int64_t lifetime, int64_t starts, unsigned char fill)
{
    struct db_ticket_key k;
    memset(&k, 0, sizeof k);
    k.lifetime_s = lifetime;
    k.starts_at = starts;
    memset(k.secret, fill, 60);
    k.secret_len = 60;
    k.created_at = starts + 1;
    return k;
}

START_TEST(test_ticket_keys_first_insert_wins)
{
    struct db_ticket_key a = tkey(3600, 7200, 0xA1), b = tkey(3600, 7200, 0xB2), got;
    struct db_ticket_key other = tkey(60, 7200, 0xC3), old = tkey(3600, 3600, 0xD4);
    int64_t n = 0;

    ck_assert_int_eq(db_ticket_key_get(fx_db, 3600, 7200, &got), DB_NOTFOUND);
    ck_assert_int_eq(db_ticket_key_add(fx_db, &a), 0);
    /* A second instance inserting the same period keeps the first key. */
    ck_assert_int_eq(db_ticket_key_add(fx_db, &b), 0);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 3600, 7200, &got), 0);
    ck_assert_int_eq(got.secret[0], 0xA1);
    ck_assert_uint_eq(got.secret_len, 60);
    ck_assert_int_eq(got.created_at, 7201);
    /* Another lifetime is another schedule. */
    ck_assert_int_eq(db_ticket_key_add(fx_db, &other), 0);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 60, 7200, &got), 0);
    ck_assert_int_eq(got.secret[0], 0xC3);
    ck_assert_int_eq(db_ticket_key_add(fx_db, &old), 0);
    ck_assert_int_eq(db_key_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 3);
    /* The purge of one lifetime leaves another lifetime's old keys. */
    struct db_ticket_key old60 = tkey(60, 3600, 0xE5);
    ck_assert_int_eq(db_ticket_key_add(fx_db, &old60), 0);
    ck_assert_int_eq(db_ticket_key_purge(fx_db, 3600, 7200), 0);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 3600, 3600, &got), DB_NOTFOUND);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 3600, 7200, &got), 0);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 60, 3600, &got), 0);
    ck_assert_int_eq(db_ticket_key_purge(fx_db, 60, 7200), 0);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 60, 3600, &got), DB_NOTFOUND);
    ck_assert_int_eq(db_ticket_key_get(fx_db, 60, 7200, &got), 0);
    /* Oversized secrets are refused before the store sees them. */
    a.secret_len = DB_TICKET_SECRET_MAX + 1;
    ck_assert_int_eq(db_ticket_key_add(fx_db, &a), DB_ERROR);
}
END_TEST

/* A database of the previous release (schema version 2) gains the two
 * tables, its users intact. */
struct rotator {
    struct db *db;
    int rc;
};

static void *rotator_main(void *arg)
{
    struct rotator *r = arg;
    struct db_signing_key k = skey("c-kid", 300, 0);

    r->rc = db_signing_key_rotate(r->db, &k, 300, 0);
    return NULL;
}

/* Until another connection waits on a lock (PostgreSQL: pg_locks shows an
 * ungranted one; SQLite: the busy handler, given a moment to start). */
static void wait_for_waiter(void)
{
    struct timespec pause = { 0, 20 * 1000 * 1000 };

    if (!fx_pg()) {
        pause.tv_nsec = 300 * 1000 * 1000;
        nanosleep(&pause, NULL);
        return;
    }
    PGconn *c = PQconnectdb(fx_pg());
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    for (int i = 0; i < 500; i++) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM pg_locks WHERE NOT granted");
        int waiting = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        if (waiting)
            break;
        nanosleep(&pause, NULL);
    }
    PQfinish(c);
}

/* Two rotations at once: the second waits for the first to commit, then
 * retires the key the first added. Exactly one key stays active. */
START_TEST(test_concurrent_rotations_leave_one_active)
{
    struct db_signing_key a = skey("a-kid", 100, 0), b = skey("b-kid", 200, 0);
    struct rotator r = { fx_open(fx_path, 10000), -1 };
    struct seen s = { 0 };
    pthread_t t;
    int active = 0;

    ck_assert_int_eq(db_signing_key_add(fx_db, &a), 0);
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_signing_key_rotate(fx_db, &b, 200, 0), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, rotator_main, &r), 0);
    wait_for_waiter();
    ck_assert_int_eq(db_commit(fx_db), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 3);
    for (int i = 0; i < s.n; i++)
        active += s.retired[i] == 0;
    ck_assert_int_eq(active, 1);
    ck_assert_str_eq(s.kid[0], "c-kid");
    ck_assert_int_eq(s.retired[0], 0);
    db_close(r.db);
}
END_TEST

/* The key set lock is store-wide: while one connection's transaction holds
 * it, another's wait for it ends busy; once it commits, the other has it. */
START_TEST(test_keys_lock_is_exclusive)
{
    struct db *other = fx_open(fx_path, 200);

    ck_assert_int_eq(db_keys_lock(fx_db), DB_ERROR); /* outside a transaction */
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_keys_lock(fx_db), 0);
    /* SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: the lock. */
    int rc = db_begin(other);
    if (rc == 0) {
        ck_assert_int_eq(db_keys_lock(other), DB_BUSY);
        ck_assert_int_eq(db_rollback(other), 0);
    } else {
        ck_assert_int_eq(rc, DB_BUSY);
    }
    ck_assert_int_eq(db_commit(fx_db), 0);
    ck_assert_int_eq(db_begin(other), 0);
    ck_assert_int_eq(db_keys_lock(other), 0);
    ck_assert_int_eq(db_commit(other), 0);
    db_close(other);
}
END_TEST

START_TEST(test_version_2_migrates)
{
    struct db_signing_key a = skey("a-kid", 100, 0);
    struct seen s = { 0 };
    int64_t n = -1;

    ck_assert_int_eq(db_exec(fx_db, DB_STMT_USER_CREATE,
                             "INSERT INTO users (username, password_hash, role, created_at, "
                             "updated_at) VALUES ('old.user', 'h', 'user', 1, 1)",
                             ""),
                     0);
    db_close(fx_db);
    fx_db = NULL;
    fx_sql_exec("DROP TABLE signing_keys; DROP TABLE ticket_keys;");
    fx_sql_exec(fx_pg() ? "UPDATE portcullis_meta SET value = 2 WHERE key = 'schema_version'"
                        : "PRAGMA user_version = 2;");
    fx_db = fx_open(fx_path, 5000);
    ck_assert_int_eq(db_schema_version(fx_db), 3);
    ck_assert_int_eq(db_key_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_signing_key_add(fx_db, &a), 0);
    ck_assert_int_eq(db_signing_key_list(fx_db, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 1);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("db_keys");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_signing_keys_list_and_rotate);
    tcase_add_test(tc, test_ticket_keys_first_insert_wins);
    tcase_add_test(tc, test_keys_lock_is_exclusive);
    tcase_add_test(tc, test_concurrent_rotations_leave_one_active);
    tcase_add_test(tc, test_version_2_migrates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(keys_suite()); }
