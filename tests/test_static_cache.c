/* test_static_cache.c: server/static_cache.c against real files: hits within
 * the time-to-live read nothing from disk, changes and removals show once it
 * has passed, large files and a disabled cache go to disk, eviction keeps
 * the cache bounded and every answer right. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/static_cache.h"

static char base[64];
static struct static_root root;
static struct static_cache cache;

static void put(const char *rel, const char *text, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "create %s", path);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void put_str(const char *rel, const char *text) { put(rel, text, strlen(text)); }

static void setup(void)
{
    char err[256];
    snprintf(base, sizeof(base), "/tmp/pc-scache-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    put_str("a.json", "{\"a\":1}");
    static_root_init(&root);
    ck_assert_msg(static_root_open(&root, base, err, sizeof(err)) == 0, "%s", err);
    static_cache_init(&cache, 1000);
}

static void teardown(void)
{
    static_cache_free(&cache);
    static_root_close(&root);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
}

/* Looks url up at time now and returns its bytes as a string ("" for a
 * non-zero status, which goes to *rc). */
static const char *get(const char *url, uint64_t now, int *rc)
{
    static char text[128];
    const struct static_cache_entry *hit;
    struct static_file f;

    text[0] = '\0';
    *rc = static_cache_lookup(&cache, &root, str_make(url, strlen(url)), now, &hit, &f);
    if (*rc == 0) {
        ck_assert_ptr_nonnull(hit);
        ck_assert_int_eq(hit->meta.fd, -1);
        ck_assert_uint_lt((size_t)hit->meta.size, sizeof text);
        memcpy(text, hit->data, (size_t)hit->meta.size);
        text[hit->meta.size] = '\0';
    } else if (*rc == STATIC_CACHE_OPEN) {
        ck_assert_int_ge(f.fd, 0);
        static_file_close(&f);
    }
    return text;
}

START_TEST(hit_then_change_after_ttl)
{
    int rc;
    ck_assert_str_eq(get("/a.json", 5000, &rc), "{\"a\":1}");
    ck_assert_int_eq(rc, 0);
    put_str("a.json", "{\"a\":22}");
    /* within the time-to-live: the cached bytes, no look at the disk */
    ck_assert_str_eq(get("/a.json", 5999, &rc), "{\"a\":1}");
    /* past it: checked again, the new content */
    ck_assert_str_eq(get("/a.json", 6000, &rc), "{\"a\":22}");
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(removed_file_disappears_after_ttl)
{
    int rc;
    char path[256];
    get("/a.json", 100, &rc);
    snprintf(path, sizeof(path), "%s/a.json", base);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_str_eq(get("/a.json", 200, &rc), "{\"a\":1}");
    get("/a.json", 1100, &rc);
    ck_assert_int_eq(rc, 404);
    put_str("a.json", "{\"b\":2}"); /* back again: not a stale entry */
    ck_assert_str_eq(get("/a.json", 1101, &rc), "{\"b\":2}");
}
END_TEST

START_TEST(errors_are_not_cached)
{
    int rc;
    get("/missing.json", 0, &rc);
    ck_assert_int_eq(rc, 404);
    put_str("missing.json", "{}");
    ck_assert_str_eq(get("/missing.json", 1, &rc), "{}");
    get("/bad%zz", 2, &rc);
    ck_assert_int_eq(rc, 400);
    get("/../a.json", 3, &rc);
    ck_assert_int_eq(rc, 404);
}
END_TEST

START_TEST(large_file_and_disabled_cache_go_to_disk)
{
    int rc;
    size_t n = STATIC_CACHE_FILE_MAX + 1;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    put("big.txt", big, n);
    free(big);
    get("/big.txt", 0, &rc);
    ck_assert_int_eq(rc, STATIC_CACHE_OPEN);

    static_cache_free(&cache);
    static_cache_init(&cache, 0);
    get("/a.json", 0, &rc);
    ck_assert_int_eq(rc, STATIC_CACHE_OPEN);
}
END_TEST

START_TEST(eviction_keeps_answers_right)
{
    int rc;
    char name[32], url[32], body[32];
    int files = STATIC_CACHE_ENTRIES + 8;

    for (int i = 0; i < files; i++) {
        snprintf(name, sizeof name, "f%d.txt", i);
        snprintf(body, sizeof body, "body %d", i);
        put_str(name, body);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < files; i++) {
            snprintf(url, sizeof url, "/f%d.txt", i);
            snprintf(body, sizeof body, "body %d", i);
            ck_assert_str_eq(get(url, (uint64_t)(round * files + i), &rc), body);
        }
    }
    int used = 0;
    for (size_t i = 0; i < STATIC_CACHE_ENTRIES; i++)
        used += cache.e[i].path != NULL;
    ck_assert_int_eq(used, STATIC_CACHE_ENTRIES);
}
END_TEST

static Suite *static_cache_suite(void)
{
    Suite *s = suite_create("static_cache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hit_then_change_after_ttl);
    tcase_add_test(tc, removed_file_disappears_after_ttl);
    tcase_add_test(tc, errors_are_not_cached);
    tcase_add_test(tc, large_file_and_disabled_cache_go_to_disk);
    tcase_add_test(tc, eviction_keeps_answers_right);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_cache_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
