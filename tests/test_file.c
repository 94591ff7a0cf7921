/* test_file.c: the one atomic file writer: replace and create-only, the
 * mode, missing parent directories, errors, and no temporary file left. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/file.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pc-file-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *read_text(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Entries of d other than . and .. */
static int entries(const char *d)
{
    int n = 0;
    DIR *h = opendir(d);
    ck_assert_ptr_nonnull(h);
    for (struct dirent *e; (e = readdir(h)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(h);
    return n;
}

START_TEST(replace_writes_and_replaces)
{
    char path[128], err[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/a.pem", dir);
    ck_assert_int_eq(file_write_atomic(path, "one", 3, 0644, FILE_REPLACE, err, sizeof err), 0);
    ck_assert_str_eq(read_text(path), "one");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(file_write_atomic(path, "two!", 4, 0600, FILE_REPLACE, err, sizeof err), 0);
    ck_assert_str_eq(read_text(path), "two!");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(entries(dir), 1); /* no temporary file left */
}
END_TEST

START_TEST(create_only_keeps_the_first)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/key", dir);
    ck_assert_int_eq(file_write_atomic(path, "first", 5, 0600, 0, err, sizeof err), 0);
    ck_assert_int_eq(file_write_atomic(path, "second", 6, 0600, 0, err, sizeof err), 1);
    ck_assert_str_eq(read_text(path), "first");
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

START_TEST(mkdirs_makes_private_parents)
{
    char path[160], sub[128], err[256];
    struct stat st;
    snprintf(sub, sizeof sub, "%s/x/y", dir);
    snprintf(path, sizeof path, "%s/k", sub);
    ck_assert_int_eq(file_write_atomic(path, "k", 1, 0600, 0, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(file_write_atomic(path, "k", 1, 0600, FILE_MKDIRS, err, sizeof err), 0);
    ck_assert_int_eq(stat(sub, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_str_eq(read_text(path), "k");
}
END_TEST

START_TEST(errors_name_the_path)
{
    char file[128], path[160], err[256];
    snprintf(file, sizeof file, "%s/plain", dir);
    ck_assert_int_eq(file_write_atomic(file, "x", 1, 0600, 0, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/inside", file); /* a file is no directory */
    ck_assert_int_eq(file_write_atomic(path, "x", 1, 0600, FILE_MKDIRS, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, replace_writes_and_replaces);
    tcase_add_test(tc, create_only_keeps_the_first);
    tcase_add_test(tc, mkdirs_makes_private_parents);
    tcase_add_test(tc, errors_name_the_path);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
