/* test_buf.c: the growable buffer of server/buf.c: the hard maximum is
 * never passed (and a refused append leaves the buffer as it was), consuming
 * from the front only moves the start, compaction and growth are counted in
 * `moves`, and reset gives memory back above `keep`. */
#include <check.h>
#include <string.h>

#include "server/buf.h"

START_TEST(append_and_consume)
{
    struct buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(buf_append_str(&b, "hello "), 0);
    ck_assert_int_eq(buf_printf(&b, "%s %d", "world", 42), 0);
    ck_assert_uint_eq(b.len, 14);
    ck_assert_mem_eq(buf_head(&b), "hello world 42", 14);
    buf_consume(&b, 6);
    ck_assert_uint_eq(b.off, 6);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_mem_eq(buf_head(&b), "world 42", 8);
    buf_consume(&b, 100); /* more than held: empties, start back at 0 */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.off, 0);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(hard_max_refused)
{
    struct buf b;
    char big[100];
    memset(big, 'x', sizeof big);
    buf_init(&b, 64);
    ck_assert_int_eq(buf_append(&b, big, 64), 0); /* exactly max fits */
    ck_assert_uint_eq(b.cap, 64);
    ck_assert_int_eq(buf_append(&b, "y", 1), -1); /* one byte over */
    ck_assert_uint_eq(b.len, 64);
    ck_assert_uint_eq(b.cap, 64);
    ck_assert_int_eq(buf_reserve(&b, 1), -1);
    buf_free(&b);

    buf_init(&b, 64);
    ck_assert_int_eq(buf_append(&b, big, 65), -1); /* refused whole, nothing kept */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(buf_reserve(&b, (size_t)-1), -1); /* no overflow in the check */
    ck_assert_int_eq(buf_printf(&b, "%0100d", 7), -1);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(max_counts_unconsumed_only)
{
    struct buf b;
    char block[48];
    memset(block, 'a', sizeof block);
    buf_init(&b, 64);
    ck_assert_int_eq(buf_append(&b, block, 48), 0);
    buf_consume(&b, 40); /* 8 left, at offset 40 */
    unsigned moves = b.moves;
    ck_assert_int_eq(buf_append(&b, block, 48), 0); /* fits after compaction */
    ck_assert_uint_gt(b.moves, moves);              /* slices are stale */
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(b.len, 56);
    ck_assert_uint_le(b.cap, 64);
    buf_free(&b);
}
END_TEST

START_TEST(growth_counts_moves)
{
    struct buf b;
    char block[1000];
    memset(block, 'z', sizeof block);
    buf_init(&b, 1 << 20);
    ck_assert_uint_eq(b.moves, 0);
    ck_assert_int_eq(buf_append(&b, block, 10), 0);
    unsigned moves = b.moves;
    size_t cap = b.cap;
    ck_assert_uint_ge(cap, 10);
    /* Within capacity: no move. */
    ck_assert_int_eq(buf_append(&b, block, 1), 0);
    ck_assert_uint_eq(b.moves, moves);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(buf_append(&b, block, sizeof block), 0);
    ck_assert_uint_gt(b.cap, cap);
    ck_assert_uint_gt(b.moves, moves);
    ck_assert_uint_eq(b.len, 11 + 10 * sizeof block);
    buf_free(&b);
}
END_TEST

START_TEST(reset_keeps_small_frees_large)
{
    struct buf b;
    char block[4096];
    memset(block, 'q', sizeof block);
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(buf_append(&b, block, 100), 0);
    size_t cap = b.cap;
    buf_reset(&b, cap); /* at or below keep: memory stays */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_int_eq(buf_append(&b, block, sizeof block), 0);
    buf_reset(&b, 1024); /* above keep: released */
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_int_eq(buf_append_str(&b, "again"), 0); /* still usable */
    ck_assert_mem_eq(buf_head(&b), "again", 5);
    buf_free(&b);
    buf_free(NULL);
}
END_TEST

START_TEST(reserve_then_tail)
{
    struct buf b;
    buf_init(&b, 256);
    ck_assert_int_eq(buf_reserve(&b, 10), 0);
    ck_assert_uint_ge(buf_room(&b), 10);
    memcpy(buf_tail(&b), "0123456789", 10);
    b.len += 10;
    ck_assert_mem_eq(buf_head(&b), "0123456789", 10);
    ck_assert_int_eq(buf_append(&b, NULL, 0), 0); /* empty append is a no-op */
    ck_assert_uint_eq(b.len, 10);
    buf_free(&b);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *t = tcase_create("buf");
    tcase_add_test(t, append_and_consume);
    tcase_add_test(t, hard_max_refused);
    tcase_add_test(t, max_counts_unconsumed_only);
    tcase_add_test(t, growth_counts_moves);
    tcase_add_test(t, reset_keeps_small_frees_large);
    tcase_add_test(t, reserve_then_tail);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
