/* test_db_users.c: the users table on a real SQLite file: creation and
 * uniqueness, literal storage of hostile names, epoch bumps, lockout
 * backoff, listing and the per-request auth state. */
#include "db/tokens.h"
#include "db/users.h"
#include "support/db_fixture.h"

static int64_t mkuser(const char *name)
{
    int64_t id = 0;

    ck_assert_int_eq(db_user_create(fx_db, name, "$argon2id$v=19$h", "user", 1000, &id), 0);
    ck_assert_int_gt(id, 0);
    return id;
}

static struct db_user get(int64_t id)
{
    struct db_user u;

    ck_assert_int_eq(db_user_by_id(fx_db, id, &u), 0);
    return u;
}

START_TEST(test_create_and_lookup)
{
    struct db_user u;
    int64_t id = 0;

    ck_assert_int_eq(db_user_create(fx_db, "Alice", "hash-a", "admin", 1000, &id), 0);
    ck_assert_int_eq(db_user_by_name(fx_db, "alice", &u), 0);
    ck_assert_int_eq(u.id, id);
    ck_assert_str_eq(u.username, "Alice"); /* stored as given */
    ck_assert_str_eq(u.password_hash, "hash-a");
    ck_assert_str_eq(u.role, "admin");
    ck_assert_int_eq(u.disabled, 0);
    ck_assert_int_eq(u.token_epoch, 0);
    ck_assert_int_eq(u.failed_logins, 0);
    ck_assert_int_eq(u.locked_until, 0);
    ck_assert_int_eq(u.created_at, 1000);
    ck_assert_int_eq(u.updated_at, 1000);
    ck_assert_int_eq(db_user_by_id(fx_db, id, &u), 0);
    ck_assert_str_eq(u.username, "Alice");
    ck_assert_int_eq(db_user_by_name(fx_db, "bob", &u), DB_NOTFOUND);
    ck_assert_int_eq(db_user_by_id(fx_db, id + 1, &u), DB_NOTFOUND);
}
END_TEST

/* Access tokens name users by id: an id must never be handed out twice, or
 * a deleted user's token would speak for whoever gets the id next. */
START_TEST(test_ids_never_reused)
{
    int64_t a = 0, b = 0, c = 0;
    ck_assert_int_eq(db_user_create(fx_db, "first", "h", "user", 1000, &a), 0);
    ck_assert_int_eq(db_user_create(fx_db, "second", "h", "user", 1000, &b), 0);
    ck_assert_int_eq(db_user_delete(fx_db, b), 0);
    ck_assert_int_eq(db_user_create(fx_db, "third", "h", "user", 1000, &c), 0);
    ck_assert_int_gt(c, b);
}
END_TEST

START_TEST(test_duplicate_is_case_insensitive)
{
    int64_t n = 0;

    mkuser("Alice");
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_user_create(fx_db, "ALICE", "h", "user", 1, NULL), DB_CONFLICT);
    ck_assert_int_eq(db_user_create(fx_db, "Alice", "h", "user", 1, NULL), DB_CONFLICT);
    ck_assert_ptr_nonnull(strstr(db_errmsg(fx_db), "taken"));
    ck_assert_int_eq(db_user_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

static const struct {
    const char *name, *hash, *role;
} bad_create[] = {
    { "", "h", "user" },
    { NULL, "h", "user" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "h", "user" }, /* 65 */
    { "bob", "", "user" },
    { "bob", NULL, "user" },
    { "bob", "h", "root" },
    { "bob", "h", "Admin" },
    { "bob", "h", "" },
    { "bob", "h", NULL },
};

START_TEST(test_create_rejects_bad_input)
{
    int64_t n = -1;

    ck_assert_int_eq(db_user_create(fx_db, bad_create[_i].name, bad_create[_i].hash,
                                    bad_create[_i].role, 1, NULL),
                     DB_ERROR);
    ck_assert_int_eq(db_user_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_limits_accepted)
{
    char name[DB_USERNAME_MAX + 1], hash[DB_HASH_MAX + 1];
    struct db_user u;

    memset(name, 'n', DB_USERNAME_MAX);
    name[DB_USERNAME_MAX] = '\0';
    memset(hash, 'h', DB_HASH_MAX);
    hash[DB_HASH_MAX] = '\0';
    ck_assert_int_eq(db_user_create(fx_db, name, hash, "user", 1, NULL), 0);
    ck_assert_int_eq(db_user_by_name(fx_db, name, &u), 0);
    ck_assert_str_eq(u.username, name);
    ck_assert_str_eq(u.password_hash, hash);
}
END_TEST

static const char *const hostile[] = {
    "x' OR '1'='1", "a\"; DROP TABLE users;--", "'", "%s%n", "a%", "_", "\\", "' --",
};

/* Each hostile name is stored and found literally, and only itself. */
START_TEST(test_injection_names_are_literal)
{
    size_t n = sizeof hostile / sizeof hostile[0];
    struct db_user u;
    int64_t count = 0;

    mkuser("victim");
    ck_assert_int_eq(db_user_by_name(fx_db, "x' OR '1'='1", &u), DB_NOTFOUND);
    ck_assert_int_eq(db_user_by_name(fx_db, "victim' --", &u), DB_NOTFOUND);
    ck_assert_int_eq(db_user_by_name(fx_db, "%", &u), DB_NOTFOUND);
    for (size_t i = 0; i < n; i++) {
        int64_t id = mkuser(hostile[i]);

        ck_assert_int_eq(db_user_by_name(fx_db, hostile[i], &u), 0);
        ck_assert_int_eq(u.id, id);
        ck_assert_str_eq(u.username, hostile[i]);
    }
    ck_assert_int_eq(db_user_count(fx_db, &count), 0);
    ck_assert_int_eq(count, (int64_t)n + 1);
    ck_assert_int_eq(db_user_by_name(fx_db, "x", &u), DB_NOTFOUND);
    ck_assert_int_eq(db_user_by_name(fx_db, "victim", &u), 0);
    ck_assert_str_eq(u.username, "victim");
}
END_TEST

START_TEST(test_set_password_bumps_epoch)
{
    int64_t id = mkuser("alice");
    struct db_user u;

    ck_assert_int_eq(db_user_set_password(fx_db, id, "new1", 2000, 1), 0);
    u = get(id);
    ck_assert_str_eq(u.password_hash, "new1");
    ck_assert_int_eq(u.token_epoch, 1);
    ck_assert_int_eq(u.updated_at, 2000);
    ck_assert_int_eq(db_user_set_password(fx_db, id, "new2", 2001, 0), 0);
    u = get(id);
    ck_assert_str_eq(u.password_hash, "new2");
    ck_assert_int_eq(u.token_epoch, 1);
    ck_assert_int_eq(db_user_set_password(fx_db, id + 1, "x", 1, 1), DB_NOTFOUND);
    ck_assert_int_eq(db_user_set_password(fx_db, id, "", 1, 1), DB_ERROR);
}
END_TEST

START_TEST(test_set_hash_only_is_compare_and_swap)
{
    int64_t id = mkuser("alice");
    struct db_user u = get(id);

    ck_assert_int_eq(db_user_set_hash_only(fx_db, id, u.password_hash, "rehashed"), 0);
    ck_assert_str_eq(get(id).password_hash, "rehashed");
    ck_assert_int_eq(get(id).token_epoch, 0);
    ck_assert_int_eq(get(id).updated_at, 1000);
    /* A password change raced ahead: the stale rehash must not win. */
    ck_assert_int_eq(db_user_set_password(fx_db, id, "changed", 2000, 1), 0);
    ck_assert_int_eq(db_user_set_hash_only(fx_db, id, "rehashed", "stale"), DB_CONFLICT);
    ck_assert_str_eq(get(id).password_hash, "changed");
    ck_assert_int_eq(db_user_set_hash_only(fx_db, id + 1, "changed", "x"), DB_CONFLICT);
}
END_TEST

START_TEST(test_bump_epoch)
{
    int64_t id = mkuser("alice"), e = 0;

    ck_assert_int_eq(db_user_bump_epoch(fx_db, id, 2000, &e), 0);
    ck_assert_int_eq(e, 1);
    ck_assert_int_eq(db_user_bump_epoch(fx_db, id, 2001, NULL), 0);
    ck_assert_int_eq(get(id).token_epoch, 2);
    ck_assert_int_eq(get(id).updated_at, 2001);
    ck_assert_int_eq(db_user_bump_epoch(fx_db, id + 1, 1, &e), DB_NOTFOUND);
}
END_TEST

START_TEST(test_disable_bumps_epoch_and_revokes)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    int64_t id = mkuser("alice"), other = mkuser("bob");
    struct db_refresh r;

    memset(h, 7, sizeof h);
    ck_assert_int_eq(db_refresh_insert(fx_db, id, "f", h, 9999, 1000, NULL), 0);
    ck_assert_int_eq(db_user_set_disabled(fx_db, id, 1, 2000), 0);
    ck_assert_int_eq(get(id).disabled, 1);
    ck_assert_int_eq(get(id).token_epoch, 1);
    ck_assert_int_eq(db_refresh_find(fx_db, h, &r), 0);
    ck_assert_int_eq(r.revoked_at, 2000);
    /* Disabling again changes nothing; enabling is a change. */
    ck_assert_int_eq(db_user_set_disabled(fx_db, id, 1, 2001), 0);
    ck_assert_int_eq(get(id).token_epoch, 1);
    ck_assert_int_eq(db_user_set_disabled(fx_db, id, 0, 2002), 0);
    ck_assert_int_eq(get(id).disabled, 0);
    ck_assert_int_eq(get(id).token_epoch, 2);
    ck_assert_int_eq(get(other).token_epoch, 0);
    ck_assert_int_eq(db_user_set_disabled(fx_db, other + 1, 1, 1), DB_NOTFOUND);
}
END_TEST

START_TEST(test_role_change_bumps_epoch)
{
    int64_t id = mkuser("alice");
    char role[DB_ROLE_MAX + 1];
    int64_t e = -1;
    int disabled = -1;

    ck_assert_int_eq(db_user_set_role(fx_db, id, "admin", 2000), 0);
    ck_assert_str_eq(get(id).role, "admin");
    ck_assert_int_eq(get(id).token_epoch, 1);
    ck_assert_int_eq(db_user_set_role(fx_db, id, "admin", 2001), 0);
    ck_assert_int_eq(get(id).token_epoch, 1);
    ck_assert_int_eq(db_user_set_role(fx_db, id, "user", 2002), 0); /* demotion */
    ck_assert_int_eq(db_user_auth_state(fx_db, id, &e, &disabled, role), 0);
    ck_assert_int_eq(e, 2);
    ck_assert_int_eq(disabled, 0);
    ck_assert_str_eq(role, "user");
    ck_assert_int_eq(db_user_set_role(fx_db, id, "superuser", 1), DB_ERROR);
    ck_assert_str_eq(get(id).role, "user");
    ck_assert_int_eq(db_user_set_role(fx_db, id + 1, "user", 1), DB_NOTFOUND);
}
END_TEST

START_TEST(test_delete_cascades_tokens)
{
    unsigned char h1[DB_TOKEN_HASH_LEN], h2[DB_TOKEN_HASH_LEN];
    int64_t id = mkuser("alice"), other = mkuser("bob");
    struct db_refresh r;
    int64_t e;

    memset(h1, 1, sizeof h1);
    memset(h2, 2, sizeof h2);
    ck_assert_int_eq(db_refresh_insert(fx_db, id, "f", h1, 9999, 1000, NULL), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, other, "g", h2, 9999, 1000, NULL), 0);
    ck_assert_int_eq(db_user_delete(fx_db, id), 0);
    ck_assert_int_eq(db_refresh_find(fx_db, h1, &r), DB_NOTFOUND);
    ck_assert_int_eq(db_refresh_find(fx_db, h2, &r), 0);
    ck_assert_int_eq(db_user_auth_state(fx_db, id, &e, NULL, NULL), DB_NOTFOUND);
    ck_assert_int_eq(db_user_delete(fx_db, id), DB_NOTFOUND);
}
END_TEST

/* threshold 3, base 60 s, max 600 s, all at now = 10000. */
static const struct {
    int failures;
    int64_t locked_until;
} backoff[] = {
    { 1, 0 },     { 2, 0 },     { 3, 10060 }, { 4, 10120 },   { 5, 10240 },
    { 6, 10480 }, { 7, 10600 }, { 8, 10600 }, { 100, 10600 },
};

START_TEST(test_lockout_backoff)
{
    int64_t id = mkuser("alice"), until = -1;
    int done = 0;

    for (size_t i = 0; i < sizeof backoff / sizeof backoff[0]; i++) {
        for (; done < backoff[i].failures; done++)
            ck_assert_int_eq(db_user_login_failed(fx_db, id, 10000, 3, 60, 600, &until), 0);
        ck_assert_msg(until == backoff[i].locked_until, "after %d failures: %lld, want %lld", done,
                      (long long)until, (long long)backoff[i].locked_until);
        ck_assert_int_eq(get(id).failed_logins, done);
        ck_assert_int_eq(get(id).locked_until, until);
    }
}
END_TEST

START_TEST(test_lockout_keeps_longer_lock)
{
    int64_t id = mkuser("alice"), until = 0;

    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(db_user_login_failed(fx_db, id, 10000, 3, 60, 600, &until), 0);
    ck_assert_int_eq(until, 10600);
    /* Smaller cap later (config changed): the existing lock is not shortened. */
    ck_assert_int_eq(db_user_login_failed(fx_db, id, 10001, 3, 60, 120, &until), 0);
    ck_assert_int_eq(until, 10600);
    /* Huge parameters do not overflow. */
    ck_assert_int_eq(db_user_login_failed(fx_db, id, 10002, 1, INT64_MAX / 2, INT64_MAX, &until),
                     0);
    ck_assert_int_eq(until, INT64_MAX);
}
END_TEST

START_TEST(test_lockout_bad_args_and_reset)
{
    int64_t id = mkuser("alice"), until = 0;

    ck_assert_int_eq(db_user_login_failed(fx_db, id, 1, 0, 60, 600, &until), DB_ERROR);
    ck_assert_int_eq(db_user_login_failed(fx_db, id, 1, 3, 0, 600, &until), DB_ERROR);
    ck_assert_int_eq(db_user_login_failed(fx_db, id, 1, 3, 60, 59, &until), DB_ERROR);
    ck_assert_int_eq(db_user_login_failed(fx_db, id + 1, 1, 3, 60, 600, &until), DB_NOTFOUND);
    ck_assert_int_eq(get(id).failed_logins, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(db_user_login_failed(fx_db, id, 5000, 3, 60, 600, NULL), 0);
    ck_assert_int_eq(get(id).locked_until, 5120);
    ck_assert_int_eq(db_user_login_ok(fx_db, id), 0);
    ck_assert_int_eq(get(id).failed_logins, 0);
    ck_assert_int_eq(get(id).locked_until, 0);
    ck_assert_int_eq(db_user_login_ok(fx_db, id), 0);
    ck_assert_int_eq(db_user_login_ok(fx_db, id + 1), 0);
}
END_TEST

struct collect {
    int64_t ids[64];
    int n, stop_after;
};

static int collect_cb(void *arg, const struct db_user *u)
{
    struct collect *c = arg;

    c->ids[c->n++] = u->id;
    return c->stop_after && c->n >= c->stop_after;
}

START_TEST(test_list_and_count)
{
    struct collect c;
    char name[16];
    int64_t first = 0, n = 0;

    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "u%02d", i);
        if (i == 0)
            first = mkuser(name);
        else
            mkuser(name);
    }
    ck_assert_int_eq(db_user_count(fx_db, &n), 0);
    ck_assert_int_eq(n, 25);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(db_user_list(fx_db, 0, 10, collect_cb, &c), 0);
    ck_assert_int_eq(c.n, 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(c.ids[i], first + i);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(db_user_list(fx_db, 20, 10, collect_cb, &c), 0);
    ck_assert_int_eq(c.n, 5);
    ck_assert_int_eq(c.ids[0], first + 20);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(db_user_list(fx_db, 30, 10, collect_cb, &c), 0);
    ck_assert_int_eq(c.n, 0);
    memset(&c, 0, sizeof c);
    c.stop_after = 3;
    ck_assert_int_eq(db_user_list(fx_db, 0, 50, collect_cb, &c), 0);
    ck_assert_int_eq(c.n, 3);
    ck_assert_int_eq(db_user_list(fx_db, -1, 10, collect_cb, &c), DB_ERROR);
    ck_assert_int_eq(db_user_list(fx_db, 0, -1, collect_cb, &c), DB_ERROR);
}
END_TEST

static Suite *users_suite(void)
{
    Suite *s = suite_create("db_users");
    TCase *tc = tcase_create("users");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_create_and_lookup);
    tcase_add_test(tc, test_ids_never_reused);
    tcase_add_test(tc, test_duplicate_is_case_insensitive);
    tcase_add_loop_test(tc, test_create_rejects_bad_input, 0,
                        (int)(sizeof bad_create / sizeof bad_create[0]));
    tcase_add_test(tc, test_limits_accepted);
    tcase_add_test(tc, test_injection_names_are_literal);
    tcase_add_test(tc, test_set_password_bumps_epoch);
    tcase_add_test(tc, test_set_hash_only_is_compare_and_swap);
    tcase_add_test(tc, test_bump_epoch);
    tcase_add_test(tc, test_disable_bumps_epoch_and_revokes);
    tcase_add_test(tc, test_role_change_bumps_epoch);
    tcase_add_test(tc, test_delete_cascades_tokens);
    tcase_add_test(tc, test_lockout_backoff);
    tcase_add_test(tc, test_lockout_keeps_longer_lock);
    tcase_add_test(tc, test_lockout_bad_args_and_reset);
    tcase_add_test(tc, test_list_and_count);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(users_suite()); }
