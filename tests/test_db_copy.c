/* test_db_copy.c: db/copy.c. A SQLite file (always: what a single node
 * has) with a row in every table, rotated refresh tokens among them, is
 * copied into the fixture's store (SQLite here, PostgreSQL in
 * test_db_copy_pg), and every row reads back through the ordinary queries;
 * a store that holds data is refused and keeps what it had. */
#include "db/admin.h"
#include "db/audit.h"
#include "db/copy.h"
#include "db/failures.h"
#include "db/keys.h"
#include "db/mfa.h"
#include "db/resets.h"
#include "db/sessions.h"
#include "db/tokens.h"
#include "db/users.h"
#include "support/db_fixture.h"

static char src_path[PATH_MAX + 32];

/* A source file beside the fixture's (own temp dir on PostgreSQL runs). */
static struct db *make_source(void)
{
    static char dir[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/pc_copy_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(src_path, sizeof src_path, "%s/src.db", dir);
    return fx_open(src_path, 5000);
}

static void drop_source(void)
{
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", src_path);
    *strrchr(dir, '/') = '\0';
    nftw(dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

struct audit_seen {
    int n;
    int64_t actor[4];
};

static int audit_cb(void *arg, const struct db_audit *row)
{
    struct audit_seen *s = arg;
    if (s->n < 4)
        s->actor[s->n] = row->actor_id;
    s->n++;
    return 0;
}

START_TEST(test_copy_everything)
{
    unsigned char h1[32], h2[32], h3[32], rc1[2][32], mt[32], rs[32];
    int64_t alice = 0, bob = 0, t1 = 0, t2 = 0, n = 0, at = 0, uid = 0, ep = 0, exp = 0, sid = 0;
    struct db *src = make_source();
    struct db_user u;
    struct db_refresh r;
    struct db_totp totp;
    char err[256] = "";

    memset(h1, 1, 32), memset(h2, 2, 32), memset(h3, 3, 32);
    memset(rc1[0], 4, 32), memset(rc1[1], 5, 32), memset(mt, 6, 32), memset(rs, 7, 32);
    ck_assert_int_eq(db_user_create(src, "Alice", "$argon2id$hash-a", "admin", 10, &alice), 0);
    ck_assert_int_eq(db_user_create(src, "bob", "$argon2id$hash-b", "user", 11, &bob), 0);
    ck_assert_int_eq(db_user_set_disabled(src, bob, 1, 12), 0);
    ck_assert_int_eq(db_refresh_insert(src, alice, "fam", h1, 1000, 20, &t1), 0);
    ck_assert_int_eq(db_refresh_rotate(src, t1, h2, 1000, 21, &t2), 0);
    ck_assert_int_eq(db_session_create(src, alice, "fam", "10.0.0.1", NULL, 20, &sid), 0);
    ck_assert_int_eq(db_audit_add(src, "login_success", alice, "Alice", "10.0.0.1", NULL, 20), 0);
    ck_assert_int_eq(db_audit_add_by(src, "cli_user_add", bob, "bob", 0, "local", "x", 21), 0);
    ck_assert_int_eq(db_failure_add(src, "mallory", 30, 60, NULL, NULL), 0);
    ck_assert_int_eq(
        db_totp_set_pending(src, alice, (const unsigned char *)"sealed\0secret", 13, 40), 0);
    ck_assert_int_eq(db_totp_enable(src, alice, 77), 0);
    ck_assert_int_eq(db_recovery_replace(src, alice, (const unsigned char(*)[32])rc1, 2), 0);
    ck_assert_int_eq(db_recovery_use(src, alice, rc1[0], 41), 0);
    ck_assert_int_eq(db_mfa_token_insert(src, mt, alice, 0, 500), 0);
    ck_assert_int_eq(db_reset_issue(src, bob, rs, 50, 900), 0);

    ck_assert_msg(db_copy(src, fx_db, &n, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n, 2);

    /* Users: names (any case), hashes, roles, flags, ids. */
    ck_assert_int_eq(db_user_by_name(fx_db, "alice", &u), 0);
    ck_assert_int_eq(u.id, alice);
    ck_assert_str_eq(u.password_hash, "$argon2id$hash-a");
    ck_assert_str_eq(u.role, "admin");
    ck_assert_int_eq(db_user_by_id(fx_db, bob, &u), 0);
    ck_assert(u.disabled);
    ck_assert_int_eq(u.token_epoch, 1);
    /* The rotated family: the old token used and linked, the new one live
     * and rotating on; the old one's reuse is still caught. */
    ck_assert_int_eq(db_refresh_find(fx_db, h1, &r), 0);
    ck_assert_int_eq(r.replaced_by, t2);
    ck_assert_int_eq(db_refresh_rotate(fx_db, t1, h3, 1000, 22, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_refresh_rotate(fx_db, t2, h3, 1000, 22, NULL), 0);
    ck_assert_int_eq(db_session_id(fx_db, "fam", &uid), 0);
    ck_assert_int_eq(uid, sid);
    /* Two-factor: the sealed secret byte for byte, the step, the codes. */
    ck_assert_int_eq(db_totp_get(fx_db, alice, &totp), 0);
    ck_assert_uint_eq(totp.secret_len, 13);
    ck_assert_int_eq(memcmp(totp.secret, "sealed\0secret", 13), 0);
    ck_assert(totp.enabled);
    ck_assert_int_eq(totp.last_step, 77);
    ck_assert_int_eq(db_recovery_left(fx_db, alice, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(db_recovery_use(fx_db, alice, rc1[0], 60), DB_NOTFOUND);
    ck_assert_int_eq(db_mfa_token_find(fx_db, mt, &uid, &ep, &exp), 0);
    ck_assert_int_eq(exp, 500);
    ck_assert_int_eq(db_reset_find(fx_db, rs, 100, &uid), 0);
    ck_assert_int_eq(uid, bob);
    ck_assert_int_eq(db_failure_get(fx_db, "mallory", &n, &at), 0);
    ck_assert_int_eq(n, 1);
    /* Audit: actor NULL and actor 0 stay apart. */
    struct audit_seen s = { 0 };
    ck_assert_int_eq(db_audit_list(fx_db, 0, 10, 0, audit_cb, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.actor[0], 0);
    ck_assert_int_eq(s.actor[1], -1);
    /* New rows get ids after the copied ones. */
    ck_assert_int_eq(db_user_create(fx_db, "carol", "h", "user", 70, &uid), 0);
    ck_assert_int_gt(uid, bob);

    /* A store with data: refused, unchanged. */
    ck_assert_int_eq(db_copy(src, fx_db, NULL, err, sizeof err), DB_CONFLICT);
    ck_assert_ptr_nonnull(strstr(err, "not empty"));
    ck_assert_int_eq(db_user_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 3);
    db_close(src);
    drop_source();
}
END_TEST

/* A deleted account's id is never handed out again, even by a copy: the
 * source's counter is past max(id), and so is the destination's. */
START_TEST(test_copy_keeps_id_counter)
{
    struct db *src = make_source();
    int64_t id = 0;
    char err[256] = "";

    ck_assert_int_eq(db_user_create(src, "a", "h", "user", 1, &id), 0);
    ck_assert_int_eq(db_user_create(src, "b", "h", "user", 1, &id), 0);
    ck_assert_int_eq(db_user_create(src, "c", "h", "user", 1, &id), 0);
    ck_assert_int_eq(id, 3);
    ck_assert_int_eq(db_user_delete(src, id), 0);
    ck_assert_msg(db_copy(src, fx_db, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_user_create(fx_db, "d", "h", "user", 2, &id), 0);
    ck_assert_int_eq(id, 4);
    db_close(src);
    drop_source();
    /* And back from the fixture's store (PostgreSQL in the _pg run) into a
     * new file: its counter travels too. */
    ck_assert_int_eq(db_user_delete(fx_db, id), 0);
    src = make_source();
    ck_assert_msg(db_copy(fx_db, src, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_user_create(src, "e", "h", "user", 3, &id), 0);
    ck_assert_int_eq(id, 5);
    db_close(src);
    drop_source();
}
END_TEST

/* A store a server has started on holds its key set (sealed under that
 * server's master key): refused like any other data, and left as it was. */
START_TEST(test_copy_refuses_store_with_keys)
{
    struct db *src = make_source();
    struct db_signing_key k = { .kid = "k1", .alg = "ES256", .secret_len = 32, .created_at = 5 };
    char err[256] = "";
    int64_t n = -1;

    memset(k.secret, 9, k.secret_len);
    ck_assert_int_eq(db_user_create(src, "a", "h", "user", 1, &n), 0);
    ck_assert_int_eq(db_signing_key_add(fx_db, &k), 0);
    ck_assert_int_eq(db_copy(src, fx_db, NULL, err, sizeof err), DB_CONFLICT);
    ck_assert_ptr_nonnull(strstr(err, "not empty"));
    ck_assert_int_eq(db_user_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_key_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 1);
    db_close(src);
    drop_source();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db_copy");
    TCase *tc = tcase_create("copy");
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_copy_everything);
    tcase_add_test(tc, test_copy_keeps_id_counter);
    tcase_add_test(tc, test_copy_refuses_store_with_keys);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
