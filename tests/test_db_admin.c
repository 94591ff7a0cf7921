/* test_db_admin.c: db/admin.c: audit rows naming the actor, a deleted
 * user's name kept in their events, the count of enabled admins. */
#include "db/admin.h"
#include "db/audit.h"
#include "db/users.h"
#include "support/db_fixture.h"

struct seen {
    int n;
    int64_t actor[8];
    char name[8][65];
};

static int seen_cb(void *arg, const struct db_audit *row)
{
    struct seen *s = arg;
    if (s->n < 8) {
        s->actor[s->n] = row->actor_id;
        snprintf(s->name[s->n], sizeof s->name[0], "%s", row->username ? row->username : "");
    }
    s->n++;
    return 0;
}

START_TEST(test_actor_recorded)
{
    struct seen s = { 0 };

    ck_assert_int_eq(db_audit_add(fx_db, "login_success", 5, "bob", "ip", NULL, 10), 0);
    ck_assert_int_eq(db_audit_add_by(fx_db, "admin_update", 5, "bob", 3, "ip", "x", 11), 0);
    ck_assert_int_eq(db_audit_add_by(fx_db, "cli_user_role", 5, "bob", 0, "local", NULL, 12), 0);
    ck_assert_int_eq(db_audit_list(fx_db, 0, 10, 0, seen_cb, &s), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.actor[0], 0);  /* newest first: the CLI */
    ck_assert_int_eq(s.actor[1], 3);  /* admin 3 */
    ck_assert_int_eq(s.actor[2], -1); /* the user's own action */
    ck_assert_int_eq(db_audit_add_by(fx_db, "", 5, NULL, 3, NULL, NULL, 1), DB_ERROR);
}
END_TEST

START_TEST(test_keep_name)
{
    struct seen s = { 0 };

    ck_assert_int_eq(db_audit_add(fx_db, "logout", 7, NULL, "ip", NULL, 10), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "login_success", 7, "Carol", "ip", NULL, 11), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "logout", 8, NULL, "ip", NULL, 12), 0);
    ck_assert_int_eq(db_audit_keep_name(fx_db, 7, "carol"), 0);
    ck_assert_int_eq(db_audit_list(fx_db, 0, 10, 0, seen_cb, &s), 0);
    ck_assert_str_eq(s.name[0], "");      /* user 8: untouched */
    ck_assert_str_eq(s.name[1], "Carol"); /* already named: kept as written */
    ck_assert_str_eq(s.name[2], "carol");
}
END_TEST

START_TEST(test_count_enabled_admins)
{
    int64_t a = 0, b = 0, n = -1;

    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_user_create(fx_db, "a1", "h", "admin", 1, &a), 0);
    ck_assert_int_eq(db_user_create(fx_db, "a2", "h", "admin", 1, &b), 0);
    ck_assert_int_eq(db_user_create(fx_db, "u1", "h", "user", 1, NULL), 0);
    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(db_user_set_disabled(fx_db, a, 1, 2), 0);
    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 1);
    /* Inside a transaction: the count that would commit. */
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_user_set_role(fx_db, b, "user", 3), 0);
    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_rollback(fx_db), 0);
    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* Two admin changes at once (two connections, as two instances would be):
 * the second cannot count the admins until the first commits (SQLite: the
 * write lock; PostgreSQL: the count locks the rows it counts), and then
 * counts what the first left, so the last-admin rule holds. */
START_TEST(test_admin_changes_serialise)
{
    struct db *other = fx_open(fx_path, 50);
    int64_t x = 0, y = 0, n = 0;

    ck_assert_int_eq(db_user_create(fx_db, "x", "h", "admin", 1, &x), 0);
    ck_assert_int_eq(db_user_create(fx_db, "y", "h", "admin", 1, &y), 0);
    ck_assert_int_eq(db_begin(fx_db), 0);
    ck_assert_int_eq(db_admin_count_enabled(fx_db, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(db_user_set_role(fx_db, x, "user", 2), 0);
    /* The other's change waits, then gives up with DB_BUSY. */
    int rc = db_begin(other);
    if (rc == 0) {
        rc = db_admin_count_enabled(other, &n);
        db_rollback(other);
    }
    ck_assert_int_eq(rc, DB_BUSY);
    ck_assert_int_eq(db_commit(fx_db), 0);
    /* Once the first committed: one admin left, seen by the second. */
    ck_assert_int_eq(db_begin(other), 0);
    ck_assert_int_eq(db_admin_count_enabled(other, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(db_rollback(other), 0);
    db_close(other);
}
END_TEST

static Suite *admin_suite(void)
{
    Suite *s = suite_create("db_admin");
    TCase *tc = tcase_create("admin");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_actor_recorded);
    tcase_add_test(tc, test_keep_name);
    tcase_add_test(tc, test_count_enabled_admins);
    tcase_add_test(tc, test_admin_changes_serialise);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(admin_suite()); }
