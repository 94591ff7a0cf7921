/* test_userstate.c: the account-state cache never serves what a writer of
 * this process has changed, and forgets everything after its ttl. */
#include <check.h>
#include <string.h>

#include "auth/userstate.h"

static struct auth_user_view view(int64_t id, int64_t epoch)
{
    struct auth_user_view v;
    memset(&v, 0, sizeof v);
    v.id = id;
    v.epoch = epoch;
    strcpy(v.role, "user");
    strcpy(v.username, "someone");
    return v;
}

START_TEST(miss_put_hit)
{
    struct auth_userstate *us = auth_userstate_new(128, 1000);
    struct auth_user_view v = view(7, 3), out;
    uint64_t gen;
    ck_assert_int_eq(auth_userstate_get(us, 7, 100, &out, &gen), -1);
    auth_userstate_put(us, &v, 100, gen);
    ck_assert_int_eq(auth_userstate_get(us, 7, 500, &out, &gen), 0);
    ck_assert_int_eq(out.epoch, 3);
    ck_assert_str_eq(out.username, "someone");
    ck_assert_int_eq(auth_userstate_get(us, 8, 500, &out, &gen), -1);
    auth_userstate_free(us);
}
END_TEST

START_TEST(ttl_expires)
{
    struct auth_userstate *us = auth_userstate_new(128, 1000);
    struct auth_user_view v = view(7, 3), out;
    uint64_t gen;
    auth_userstate_get(us, 7, 100, &out, &gen);
    auth_userstate_put(us, &v, 100, gen);
    ck_assert_int_eq(auth_userstate_get(us, 7, 1099, &out, &gen), 0);
    ck_assert_int_eq(auth_userstate_get(us, 7, 1100, &out, &gen), -1);
    auth_userstate_free(us);
}
END_TEST

START_TEST(forget_is_immediate)
{
    struct auth_userstate *us = auth_userstate_new(128, 60000);
    struct auth_user_view v = view(7, 3), out;
    uint64_t gen;
    auth_userstate_get(us, 7, 100, &out, &gen);
    auth_userstate_put(us, &v, 100, gen);
    auth_userstate_forget(us, 7);
    ck_assert_int_eq(auth_userstate_get(us, 7, 101, &out, &gen), -1);
    auth_userstate_free(us);
}
END_TEST

/* A reader that looked up before a writer's commit must not store its
 * (possibly old) read after the writer's forget. */
START_TEST(racing_put_is_dropped)
{
    struct auth_userstate *us = auth_userstate_new(128, 60000);
    struct auth_user_view old = view(7, 3), out;
    uint64_t gen;
    ck_assert_int_eq(auth_userstate_get(us, 7, 100, &out, &gen), -1);
    auth_userstate_forget(us, 7);           /* writer commits meanwhile */
    auth_userstate_put(us, &old, 100, gen); /* stale read arrives */
    ck_assert_int_eq(auth_userstate_get(us, 7, 101, &out, &gen), -1);
    auth_userstate_free(us);
}
END_TEST

START_TEST(disabled_cache_always_misses)
{
    struct auth_userstate *us = auth_userstate_new(128, 0);
    struct auth_user_view v = view(7, 3), out;
    uint64_t gen;
    auth_userstate_get(us, 7, 100, &out, &gen);
    auth_userstate_put(us, &v, 100, gen);
    ck_assert_int_eq(auth_userstate_get(us, 7, 100, &out, &gen), -1);
    auth_userstate_free(us);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("userstate");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, miss_put_hit);
    tcase_add_test(tc, ttl_expires);
    tcase_add_test(tc, forget_is_immediate);
    tcase_add_test(tc, racing_put_is_dropped);
    tcase_add_test(tc, disabled_cache_always_misses);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
