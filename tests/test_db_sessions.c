/* test_db_sessions.c: sessions per device (db/sessions.c): created and
 * touched, listed only while their refresh family is live, looked up only
 * by their owner; and the scheduled purge: expired tokens and dead
 * families go, rotated tokens of live families stay (reuse detection). */

#include "db/sessions.h"
#include "db/tokens.h"
#include "db/users.h"
#include "support/db_fixture.h"

static void hash_of(unsigned char *h, unsigned char v) { memset(h, v, DB_TOKEN_HASH_LEN); }

struct seen {
    int n;
    int64_t ids[8];
    char ua[8][129];
};

static int seen_cb(void *arg, const struct db_session *s)
{
    struct seen *x = arg;
    if (x->n < 8) {
        x->ids[x->n] = s->id;
        snprintf(x->ua[x->n], sizeof x->ua[0], "%s", s->user_agent ? s->user_agent : "");
    }
    x->n++;
    return 0;
}

static int64_t count(const char *table)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return fx_sql_int(sql);
}

START_TEST(test_create_touch_list)
{
    unsigned char h1[32], h2[32], h3[32];
    int64_t u = 0, v = 0, s1 = 0, s2 = 0, s3 = 0, t = 0;
    struct seen x = { 0 };
    char fam[65];
    int live = -1;

    hash_of(h1, 1);
    hash_of(h2, 2);
    hash_of(h3, 3);
    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, &u), 0);
    ck_assert_int_eq(db_user_create(fx_db, "bob", "h", "user", 1, &v), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, u, "fam-a", h1, 1000, 10, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, u, "fam-a", "10.0.0.1", "Firefox", 10, &s1), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, u, "fam-b", h2, 1000, 20, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, u, "fam-b", NULL, NULL, 20, &s2), 0);
    ck_assert_int_eq(db_refresh_insert(fx_db, v, "fam-c", h3, 1000, 30, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, v, "fam-c", "::1", "curl", 30, &s3), 0);
    ck_assert_int_eq(db_session_touch(fx_db, "fam-a", "10.0.0.2", 40, &t), 0);
    ck_assert_int_eq(t, s1);
    ck_assert_int_eq(db_session_touch(fx_db, "no-such", "x", 40, &t), DB_NOTFOUND);
    ck_assert_int_eq(db_session_id(fx_db, "fam-b", &t), 0);
    ck_assert_int_eq(t, s2);
    ck_assert_int_eq(db_session_id(fx_db, "no-such", &t), DB_NOTFOUND);
    ck_assert_int_eq(db_session_list(fx_db, u, 50, seen_cb, &x), 0);
    ck_assert_int_eq(x.n, 2);
    ck_assert_int_eq(x.ids[0], s1); /* most recently used first */
    ck_assert_str_eq(x.ua[0], "Firefox");
    ck_assert_int_eq(x.ids[1], s2);
    /* Only the owner sees it. */
    ck_assert_int_eq(db_session_family(fx_db, s3, u, 50, fam), DB_NOTFOUND);
    ck_assert_int_eq(db_session_family(fx_db, s1, u, 50, fam), 0);
    ck_assert_str_eq(fam, "fam-a");
    ck_assert_int_eq(db_session_live(fx_db, s3, v, 50, &live), 0);
    ck_assert_int_eq(live, 1);
    /* A revoked family ends the session; so does expiry. */
    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "fam-a", 60), 0);
    ck_assert_int_eq(db_session_live(fx_db, s1, u, 60, &live), 0);
    ck_assert_int_eq(live, 0);
    ck_assert_int_eq(db_session_live(fx_db, s2, u, 1000, &live), 0);
    ck_assert_int_eq(live, 0);
    x.n = 0;
    ck_assert_int_eq(db_session_list(fx_db, u, 60, seen_cb, &x), 0);
    ck_assert_int_eq(x.n, 1);
    ck_assert_int_eq(x.ids[0], s2);
    char long_ua[200];
    memset(long_ua, 'a', sizeof long_ua - 1);
    long_ua[sizeof long_ua - 1] = '\0';
    ck_assert_int_eq(db_session_create(fx_db, u, "fam-d", NULL, long_ua, 1, NULL), DB_ERROR);
}
END_TEST

START_TEST(test_purge)
{
    unsigned char h[6][32];
    int64_t u = 0, old_id = 0, tokens = -1, sessions = -1;

    for (int i = 0; i < 6; i++)
        hash_of(h[i], (unsigned char)(i + 1));
    ck_assert_int_eq(db_user_create(fx_db, "carol", "h", "user", 1, &u), 0);
    /* live family with a rotated token: both stay */
    ck_assert_int_eq(db_refresh_insert(fx_db, u, "live", h[0], 1000, 10, &old_id), 0);
    ck_assert_int_eq(db_refresh_rotate(fx_db, old_id, h[1], 1000, 20, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, u, "live", NULL, NULL, 10, NULL), 0);
    /* logged-out family: goes */
    ck_assert_int_eq(db_refresh_insert(fx_db, u, "out", h[2], 1000, 10, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, u, "out", NULL, NULL, 10, NULL), 0);
    ck_assert_int_eq(db_refresh_revoke_family(fx_db, "out", 30), 0);
    /* expired family: goes */
    ck_assert_int_eq(db_refresh_insert(fx_db, u, "old", h[3], 40, 10, NULL), 0);
    ck_assert_int_eq(db_session_create(fx_db, u, "old", NULL, NULL, 10, NULL), 0);
    ck_assert_int_eq(db_session_purge(fx_db, 50, &tokens, &sessions), 0);
    ck_assert_int_eq(tokens, 2);
    ck_assert_int_eq(sessions, 2);
    ck_assert_int_eq(count("refresh_tokens"), 2);
    ck_assert_int_eq(count("sessions"), 1);
    struct db_refresh r;
    ck_assert_int_eq(db_refresh_find(fx_db, h[0], &r), 0); /* the rotated one, for reuse */
    ck_assert_int_eq(db_session_purge(fx_db, 50, &tokens, &sessions), 0);
    ck_assert_int_eq(tokens, 0);
    ck_assert_int_eq(sessions, 0);
}
END_TEST

static Suite *sessions_suite(void)
{
    Suite *s = suite_create("db_sessions");
    TCase *tc = tcase_create("sessions");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_create_touch_list);
    tcase_add_test(tc, test_purge);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(sessions_suite()); }
