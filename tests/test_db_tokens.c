/* test_db_tokens.c: refresh-token rows on a real SQLite file: insert/find,
 * rotation (including reuse and a race of two rotations), revocation and
 * purging. */
#include <pthread.h>

#include "db/tokens.h"
#include "db/users.h"
#include "support/db_fixture.h"

static int64_t uid;

static void setup(void)
{
    fx_setup();
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, &uid), 0);
}

static const unsigned char *hash_of(int seed)
{
    static unsigned char h[8][DB_TOKEN_HASH_LEN];
    unsigned char *p = h[seed % 8];

    for (int i = 0; i < DB_TOKEN_HASH_LEN; i++)
        p[i] = (unsigned char)(seed * 31 + i);
    return p;
}

static int64_t insert(int seed, const char *family, int64_t expires)
{
    int64_t id = 0;

    ck_assert_int_eq(db_refresh_insert(fx_db, uid, family, hash_of(seed), expires, 100, &id), 0);
    return id;
}

static struct db_refresh find(int seed)
{
    struct db_refresh r;

    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(seed), &r), 0);
    return r;
}

START_TEST(test_insert_find)
{
    int64_t id = insert(1, "family-1", 5000);
    struct db_refresh r = find(1);

    ck_assert_int_eq(r.id, id);
    ck_assert_int_eq(r.user_id, uid);
    ck_assert_str_eq(r.family, "family-1");
    ck_assert_int_eq(r.expires_at, 5000);
    ck_assert_int_eq(r.created_at, 100);
    ck_assert_int_eq(r.revoked_at, 0);
    ck_assert_int_eq(r.replaced_by, 0);
    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(2), &r), DB_NOTFOUND);
}
END_TEST

START_TEST(test_insert_errors)
{
    char longfam[DB_FAMILY_MAX + 2];

    memset(longfam, 'f', sizeof longfam - 1);
    longfam[sizeof longfam - 1] = '\0';
    insert(1, "f", 5000);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, "g", hash_of(1), 5000, 100, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid + 99, "f", hash_of(2), 5000, 100, NULL),
                     DB_NOTFOUND); /* foreign key */
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, "", hash_of(2), 5000, 100, NULL), DB_ERROR);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, NULL, hash_of(2), 5000, 100, NULL), DB_ERROR);
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, longfam, hash_of(2), 5000, 100, NULL), DB_ERROR);
    longfam[DB_FAMILY_MAX] = '\0';
    ck_assert_int_eq(db_refresh_insert(fx_db, uid, longfam, hash_of(2), 5000, 100, NULL), 0);
}
END_TEST

START_TEST(test_rotate)
{
    int64_t a = insert(1, "fam", 5000), b = 0, c = 0;
    struct db_refresh ra, rb;

    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(2), 6000, 200, &b), 0);
    ra = find(1);
    rb = find(2);
    ck_assert_int_eq(ra.revoked_at, 200);
    ck_assert_int_eq(ra.replaced_by, b);
    ck_assert_int_eq(rb.id, b);
    ck_assert_int_eq(rb.user_id, uid);
    ck_assert_str_eq(rb.family, "fam");
    ck_assert_int_eq(rb.expires_at, 6000);
    ck_assert_int_eq(rb.created_at, 200);
    ck_assert_int_eq(rb.revoked_at, 0);
    ck_assert_int_eq(rb.replaced_by, 0);
    ck_assert_int_eq(db_refresh_rotate(fx_db, b, hash_of(3), 7000, 300, &c), 0);
    ck_assert_int_eq(find(2).replaced_by, c);
    ck_assert_int_eq(find(3).revoked_at, 0);
}
END_TEST

START_TEST(test_rotate_reuse_conflicts)
{
    int64_t a = insert(1, "fam", 5000), b = 0, x = -1;
    struct db_refresh r;

    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(2), 6000, 200, &b), 0);
    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(3), 6000, 300, &x), DB_CONFLICT);
    ck_assert_int_eq(x, -1);
    ck_assert_ptr_nonnull(strstr(db_errmsg(fx_db), "already used"));
    /* Nothing was written: no third row, B is still the one live token,
     * A's record of its rotation is unchanged. */
    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(3), &r), DB_NOTFOUND);
    r = find(2);
    ck_assert_int_eq(r.revoked_at, 0);
    ck_assert_int_eq(r.replaced_by, 0);
    r = find(1);
    ck_assert_int_eq(r.revoked_at, 200);
    ck_assert_int_eq(r.replaced_by, b);
}
END_TEST

START_TEST(test_rotate_not_live)
{
    int64_t logged_out = insert(1, "f1", 5000), expired = insert(2, "f2", 150);
    struct db_refresh r;

    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "f1", 120), 0);
    ck_assert_int_eq(db_refresh_rotate(fx_db, logged_out, hash_of(3), 6000, 200, NULL),
                     DB_CONFLICT);
    ck_assert_int_eq(db_refresh_rotate(fx_db, expired, hash_of(3), 6000, 150, NULL), DB_NOTFOUND);
    ck_assert_int_eq(db_refresh_rotate(fx_db, expired + 50, hash_of(3), 6000, 100, NULL),
                     DB_NOTFOUND);
    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(3), &r), DB_NOTFOUND);
    ck_assert_int_eq(find(2).revoked_at, 0);
}
END_TEST

/* The new hash collides after the old row was claimed: all undone. */
START_TEST(test_rotate_failure_writes_nothing)
{
    int64_t a = insert(1, "fam", 5000);
    struct db_refresh r;

    insert(2, "other", 5000);
    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(2), 6000, 200, NULL), DB_CONFLICT);
    r = find(1);
    ck_assert_int_eq(r.revoked_at, 0);
    ck_assert_int_eq(r.replaced_by, 0);
    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(3), 6000, 200, NULL), 0);
}
END_TEST

struct racer {
    int64_t old_id;
    int seed;
    pthread_barrier_t *barrier;
    int rc;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct db *db = NULL;
    char err[256];

    r->rc = 1;
    if (db_open(&db, fx_path, 10000, err, sizeof err) == 0) {
        pthread_barrier_wait(r->barrier);
        r->rc = db_refresh_rotate(db, r->old_id, hash_of(r->seed), 6000, 200, NULL);
    } else {
        pthread_barrier_wait(r->barrier);
    }
    db_close(db);
    return NULL;
}

/* Two connections present the same token at once: exactly one wins. */
START_TEST(test_rotate_race)
{
    pthread_barrier_t barrier;
    struct racer r[2];
    pthread_t t[2];
    struct db_refresh row;
    int ok = 0, conflict = 0;

    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (int round = 0; round < 5; round++) {
        int64_t old = insert(10 * round + 1, "race", 5000);

        for (int i = 0; i < 2; i++) {
            r[i] = (struct racer){ old, 10 * round + 2 + i, &barrier, 1 };
            ck_assert_int_eq(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(pthread_join(t[i], NULL), 0);
            ok += r[i].rc == 0;
            conflict += r[i].rc == DB_CONFLICT;
        }
        ck_assert_int_eq(db_refresh_find(fx_db, hash_of(10 * round + 1), &row), 0);
        ck_assert_int_ne(row.replaced_by, 0);
    }
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(ok, 5);
    ck_assert_int_eq(conflict, 5);
}
END_TEST

START_TEST(test_revoke_family)
{
    int64_t a = insert(1, "f1", 5000);

    insert(3, "f2", 5000);
    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(2), 6000, 200, NULL), 0);
    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "f1", 300), 0);
    ck_assert_int_eq(find(1).revoked_at, 200); /* earlier revocation kept */
    ck_assert_int_eq(find(2).revoked_at, 300);
    ck_assert_int_eq(find(3).revoked_at, 0);
    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "f1' OR '1'='1", 400), 0);
    ck_assert_int_eq(find(3).revoked_at, 0);
    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "none", 400), 0);
}
END_TEST

START_TEST(test_revoke_user)
{
    int64_t bob = 0;

    ck_assert_int_eq(db_user_create(fx_db, "bob", "h", "user", 1, &bob), 0);
    insert(1, "f1", 5000);
    insert(2, "f2", 5000);
    ck_assert_int_eq(db_refresh_insert(fx_db, bob, "f3", hash_of(3), 5000, 100, NULL), 0);
    ck_assert_int_eq(db_refresh_revoke_user(fx_db, uid, 300), 0);
    ck_assert_int_eq(find(1).revoked_at, 300);
    ck_assert_int_eq(find(2).revoked_at, 300);
    ck_assert_int_eq(find(3).revoked_at, 0);
}
END_TEST

START_TEST(test_purge)
{
    int64_t a = insert(1, "f1", 1000), c = insert(3, "f2", 3000), d = 0;
    struct db_refresh r;

    insert(5, "f3", 9000);
    /* Expired predecessor of a live token. */
    ck_assert_int_eq(db_refresh_rotate(fx_db, a, hash_of(2), 9000, 500, NULL), 0);
    /* Live predecessor of a shorter-lived successor (ttl shortened). */
    ck_assert_int_eq(db_refresh_rotate(fx_db, c, hash_of(4), 2000, 500, &d), 0);
    ck_assert_int_eq(db_refresh_purge_expired(fx_db, 2000), 0);
    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(1), &r), DB_NOTFOUND);
    ck_assert_int_eq(db_refresh_find(fx_db, hash_of(4), &r), DB_NOTFOUND);
    ck_assert_int_eq(find(2).revoked_at, 0);
    ck_assert_int_eq(find(5).revoked_at, 0);
    r = find(3);
    ck_assert_int_eq(r.replaced_by, 0);  /* successor purged */
    ck_assert_int_eq(r.revoked_at, 500); /* still recognised as used */
    ck_assert_int_eq(db_refresh_rotate(fx_db, c, hash_of(6), 9000, 2500, NULL), DB_CONFLICT);
}
END_TEST

static Suite *tokens_suite(void)
{
    Suite *s = suite_create("db_tokens");
    TCase *tc = tcase_create("refresh");

    tcase_add_checked_fixture(tc, setup, fx_teardown);
    tcase_add_test(tc, test_insert_find);
    tcase_add_test(tc, test_insert_errors);
    tcase_add_test(tc, test_rotate);
    tcase_add_test(tc, test_rotate_reuse_conflicts);
    tcase_add_test(tc, test_rotate_not_live);
    tcase_add_test(tc, test_rotate_failure_writes_nothing);
    tcase_add_test(tc, test_rotate_race);
    tcase_add_test(tc, test_revoke_family);
    tcase_add_test(tc, test_revoke_user);
    tcase_add_test(tc, test_purge);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(tokens_suite()); }
