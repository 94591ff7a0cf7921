/* test_db_audit.c: the audit log on a real SQLite file: order, filter,
 * paging, NULL fields, literal storage, rows outliving their user. */
#include "db/audit.h"
#include "db/users.h"
#include "support/db_fixture.h"

struct seen {
    int64_t id[32], user_id[32], at[32];
    char event[32][32], username[32][80], ip[32][48], detail[32][80];
    int null_username[32], null_ip[32], null_detail[32];
    int n, stop_after;
};

static void copy(char *dst, size_t size, const char *src, int *was_null)
{
    *was_null = src == NULL;
    snprintf(dst, size, "%s", src ? src : "");
}

static int seen_cb(void *arg, const struct db_audit *row)
{
    struct seen *s = arg;
    int i = s->n++, dummy;

    s->id[i] = row->id;
    s->user_id[i] = row->user_id;
    s->at[i] = row->at;
    copy(s->event[i], sizeof s->event[i], row->event, &dummy);
    copy(s->username[i], sizeof s->username[i], row->username, &s->null_username[i]);
    copy(s->ip[i], sizeof s->ip[i], row->ip, &s->null_ip[i]);
    copy(s->detail[i], sizeof s->detail[i], row->detail, &s->null_detail[i]);
    return s->stop_after && s->n >= s->stop_after;
}

static struct seen *list(int64_t offset, int64_t limit, int64_t user_id)
{
    static struct seen s;

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(db_audit_list(fx_db, offset, limit, user_id, seen_cb, &s), 0);
    return &s;
}

START_TEST(test_add_and_fields)
{
    struct seen *s;

    ck_assert_int_eq(db_audit_add(fx_db, "login_ok", 7, "alice", "192.0.2.1", "rehash", 100), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "startup", 0, NULL, NULL, NULL, 101), 0);
    s = list(0, 10, 0);
    ck_assert_int_eq(s->n, 2);
    ck_assert_str_eq(s->event[0], "startup");
    ck_assert_int_eq(s->user_id[0], 0);
    ck_assert(s->null_username[0] && s->null_ip[0] && s->null_detail[0]);
    ck_assert_int_eq(s->at[0], 101);
    ck_assert_str_eq(s->event[1], "login_ok");
    ck_assert_int_eq(s->user_id[1], 7);
    ck_assert_str_eq(s->username[1], "alice");
    ck_assert_str_eq(s->ip[1], "192.0.2.1");
    ck_assert_str_eq(s->detail[1], "rehash");
    ck_assert_int_eq(s->at[1], 100);
}
END_TEST

START_TEST(test_newest_first)
{
    struct seen *s;

    /* Out of time order on purpose; equal times fall back to insertion. */
    ck_assert_int_eq(db_audit_add(fx_db, "e1", 0, NULL, NULL, NULL, 300), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "e2", 0, NULL, NULL, NULL, 100), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "e3", 0, NULL, NULL, NULL, 300), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "e4", 0, NULL, NULL, NULL, 200), 0);
    s = list(0, 10, 0);
    ck_assert_int_eq(s->n, 4);
    ck_assert_str_eq(s->event[0], "e3");
    ck_assert_str_eq(s->event[1], "e1");
    ck_assert_str_eq(s->event[2], "e4");
    ck_assert_str_eq(s->event[3], "e2");
}
END_TEST

START_TEST(test_filter_and_paging)
{
    char ev[16];
    struct seen *s;

    for (int i = 0; i < 12; i++) {
        snprintf(ev, sizeof ev, "ev%02d", i);
        ck_assert_int_eq(db_audit_add(fx_db, ev, i % 3 == 0 ? 5 : 6, NULL, NULL, NULL, 1000 + i),
                         0);
    }
    s = list(0, 100, 5);
    ck_assert_int_eq(s->n, 4);
    for (int i = 0; i < s->n; i++)
        ck_assert_int_eq(s->user_id[i], 5);
    ck_assert_str_eq(s->event[0], "ev09");
    ck_assert_str_eq(s->event[3], "ev00");
    s = list(1, 2, 5);
    ck_assert_int_eq(s->n, 2);
    ck_assert_str_eq(s->event[0], "ev06");
    ck_assert_str_eq(s->event[1], "ev03");
    s = list(10, 5, 0);
    ck_assert_int_eq(s->n, 2);
    ck_assert_str_eq(s->event[1], "ev00");
    ck_assert_int_eq(list(0, 10, 99)->n, 0);
    ck_assert_int_eq(list(0, 0, 0)->n, 0);
}
END_TEST

START_TEST(test_stop_and_bad_args)
{
    struct seen s;

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(db_audit_add(fx_db, "e", 0, NULL, NULL, NULL, i), 0);
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    ck_assert_int_eq(db_audit_list(fx_db, 0, 10, 0, seen_cb, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(db_audit_list(fx_db, -1, 10, 0, seen_cb, &s), DB_ERROR);
    ck_assert_int_eq(db_audit_list(fx_db, 0, -1, 0, seen_cb, &s), DB_ERROR);
    ck_assert_int_eq(db_audit_add(fx_db, NULL, 0, NULL, NULL, NULL, 1), DB_ERROR);
    ck_assert_int_eq(db_audit_add(fx_db, "", 0, NULL, NULL, NULL, 1), DB_ERROR);
}
END_TEST

START_TEST(test_literal_text)
{
    const char *evil = "x'); DELETE FROM audit_log; --";
    struct seen *s;

    ck_assert_int_eq(db_audit_add(fx_db, "login_fail", 0, evil, "::1", evil, 1), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "login_fail", 0, "b", "::1", NULL, 2), 0);
    s = list(0, 10, 0);
    ck_assert_int_eq(s->n, 2);
    ck_assert_str_eq(s->username[1], evil);
    ck_assert_str_eq(s->detail[1], evil);
    ck_assert_str_eq(s->ip[1], "::1");
}
END_TEST

START_TEST(test_rows_outlive_user)
{
    int64_t id = 0;
    struct seen *s;

    ck_assert_int_eq(db_user_create(fx_db, "alice", "h", "user", 1, &id), 0);
    ck_assert_int_eq(db_audit_add(fx_db, "register", id, "alice", "::1", NULL, 1), 0);
    ck_assert_int_eq(db_user_delete(fx_db, id), 0);
    s = list(0, 10, id);
    ck_assert_int_eq(s->n, 1);
    ck_assert_str_eq(s->username[0], "alice");
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("db_audit");
    TCase *tc = tcase_create("audit");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_add_and_fields);
    tcase_add_test(tc, test_newest_first);
    tcase_add_test(tc, test_filter_and_paging);
    tcase_add_test(tc, test_stop_and_bad_args);
    tcase_add_test(tc, test_literal_text);
    tcase_add_test(tc, test_rows_outlive_user);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(audit_suite()); }
