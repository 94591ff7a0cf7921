/* test_static.c: confinement, index files, MIME types, ETag, 304 logic and
 * HTTP dates of server/static.c. Every lookup case runs twice: through
 * openat2 and through the openat(O_NOFOLLOW) walk. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/static.h"

static char base[64];
static char wwwdir[128];
static struct static_root root;

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "create %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void dir(const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    ck_assert_int_eq(symlink(target, path), 0);
}

static void setup(void)
{
    char abs_secret[256];

    snprintf(base, sizeof(base), "/tmp/pc-static-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(wwwdir, sizeof(wwwdir), "%s/www", base);
    dir("www");
    dir("outside");
    put("outside/secret.txt", "outside secret");
    put("www/index.html", "<h1>home</h1>");
    put("www/a.txt", "hello");
    put("www/a b.txt", "space");
    put("www/100%.txt", "percent");
    put("www/\xc3\xa9.txt", "utf8");
    put("www/back\\slash", "backslash");
    put("www/logo.PNG", "png");
    put("www/noext", "raw");
    put("www/.hidden", "dotfile");
    dir("www/.git");
    put("www/.git/config", "git");
    dir("www/sub");
    put("www/sub/index.html", "sub index");
    put("www/sub/page.js", "js");
    dir("www/v1.0");
    put("www/v1.0/index.html", "versioned");
    dir("www/empty");
    dir("www/idx_dir");
    dir("www/idx_dir/index.html");
    snprintf(abs_secret, sizeof(abs_secret), "%s/outside/secret.txt", base);
    link_to("../outside/secret.txt", "www/link_out");
    link_to(abs_secret, "www/link_abs");
    link_to("/etc/passwd", "www/passwd");
    link_to("a.txt", "www/link_in");
    link_to("sub", "www/linkdir");
    link_to("../a.txt", "www/sub/link_up");
    link_to("index.html", "www/v1.0/self");
    dir("www/lnidx");
    link_to("../a.txt", "www/lnidx/index.html");
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/www/fifo", base);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);

    static_root_init(&root);
    char err[256];
    ck_assert_msg(static_root_open(&root, wwwdir, err, sizeof(err)) == 0, "%s", err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    static_root_close(&root);
    static_set_walk_only(0);
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static int lookup(const char *path, struct static_file *f)
{
    return static_lookup(&root, str_make(path, strlen(path)), f);
}

static const struct {
    const char *path;
    int status;
    const char *body; /* expected content when status is 0 */
    const char *mime;
} cases[] = {
    { "/", 0, "<h1>home</h1>", "text/html; charset=utf-8" },
    { "/index.html", 0, "<h1>home</h1>", "text/html; charset=utf-8" },
    { "/a.txt", 0, "hello", "text/plain; charset=utf-8" },
    { "/sub/", 0, "sub index", "text/html; charset=utf-8" },
    { "/sub", 0, "sub index", "text/html; charset=utf-8" },
    { "/v1.0", 0, "versioned", "text/html; charset=utf-8" },
    { "/v1.0/", 0, "versioned", "text/html; charset=utf-8" },
    { "/sub/page.js", 0, "js", "text/javascript; charset=utf-8" },
    { "/%73ub/page%2Ejs", 0, "js", "text/javascript; charset=utf-8" },
    { "/a%20b.txt", 0, "space", "text/plain; charset=utf-8" },
    { "/100%25.txt", 0, "percent", "text/plain; charset=utf-8" },
    { "/%C3%A9.txt", 0, "utf8", "text/plain; charset=utf-8" },
    { "/%c3%a9.txt", 0, "utf8", "text/plain; charset=utf-8" },
    { "/logo.PNG", 0, "png", "image/png" },
    { "/noext", 0, "raw", "application/octet-stream" },
    /* traversal and hidden names */
    { "/../etc/passwd", 404, NULL, NULL },
    { "/..", 404, NULL, NULL },
    { "/%2e%2e/x", 404, NULL, NULL },
    { "/%2E%2E/%2E%2E/etc/passwd", 404, NULL, NULL },
    { "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, NULL, NULL },
    { "/a/../b", 404, NULL, NULL },
    { "/sub/../a.txt", 404, NULL, NULL },
    { "/./a.txt", 404, NULL, NULL },
    { "/sub/.", 404, NULL, NULL },
    { "/.hidden", 404, NULL, NULL },
    { "/%2ehidden", 404, NULL, NULL },
    { "/.git/config", 404, NULL, NULL },
    { "/sub/%00x", 404, NULL, NULL },
    { "/a.txt%00.html", 404, NULL, NULL },
    { "/back%5Cslash", 404, NULL, NULL },
    { "/back%5cslash", 404, NULL, NULL },
    { "/back\\slash", 404, NULL, NULL },
    { "/sub%2Findex.html", 404, NULL, NULL },
    { "/sub%2findex.html", 404, NULL, NULL },
    { "//a.txt", 404, NULL, NULL },
    { "/sub//index.html", 404, NULL, NULL },
    { "/a.txt%0a", 404, NULL, NULL },
    { "/%7f", 404, NULL, NULL },
    { "a.txt", 404, NULL, NULL },
    { "", 404, NULL, NULL },
    /* symlinks: refused whether they point out or in */
    { "/link_out", 404, NULL, NULL },
    { "/link_abs", 404, NULL, NULL },
    { "/passwd", 404, NULL, NULL },
    { "/link_in", 404, NULL, NULL },
    { "/linkdir", 404, NULL, NULL },
    { "/linkdir/", 404, NULL, NULL },
    { "/linkdir/index.html", 404, NULL, NULL },
    { "/sub/link_up", 404, NULL, NULL },
    { "/v1.0/self", 404, NULL, NULL },
    { "/lnidx/", 404, NULL, NULL },
    { "/lnidx", 404, NULL, NULL },
    /* not regular files, or missing */
    { "/fifo", 404, NULL, NULL },
    { "/empty/", 404, NULL, NULL },
    { "/empty", 404, NULL, NULL },
    { "/idx_dir/", 404, NULL, NULL },
    { "/idx_dir", 404, NULL, NULL },
    { "/nosuch", 404, NULL, NULL },
    { "/sub/nosuch.js", 404, NULL, NULL },
    { "/a.txt/", 404, NULL, NULL },
    { "/a.txt/x", 404, NULL, NULL },
    /* malformed percent-encoding */
    { "/%", 400, NULL, NULL },
    { "/%2", 400, NULL, NULL },
    { "/a.txt%", 400, NULL, NULL },
    { "/%zz", 400, NULL, NULL },
    { "/%G0", 400, NULL, NULL },
    { "/%2/x", 400, NULL, NULL },
    { "/sub/%%41", 400, NULL, NULL },
};

/* _i: 0 = openat2 where the kernel has it, 1 = forced openat walk. */
START_TEST(test_lookup_cases)
{
    static_set_walk_only(_i);
    int fds = count_fds();

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct static_file f;
        int rc = lookup(cases[k].path, &f);
        ck_assert_msg(rc == cases[k].status, "mode %d: %s: got %d want %d", _i, cases[k].path, rc,
                      cases[k].status);
        if (rc != 0) {
            ck_assert_int_eq(f.fd, -1);
            continue;
        }
        char buf[64];
        ssize_t n = read(f.fd, buf, sizeof(buf));
        ck_assert_int_ge(n, 0);
        ck_assert_msg((size_t)n == strlen(cases[k].body) &&
                          memcmp(buf, cases[k].body, (size_t)n) == 0,
                      "%s: wrong content", cases[k].path);
        ck_assert_int_eq(f.size, (off_t)strlen(cases[k].body));
        ck_assert_str_eq(f.mime, cases[k].mime);
        ck_assert_int_eq(f.etag[0], '"');
        ck_assert_int_eq(f.etag[strlen(f.etag) - 1], '"');
        ck_assert_int_ne(fcntl(f.fd, F_GETFD) & FD_CLOEXEC, 0);
        static_file_close(&f);
        ck_assert_int_eq(f.fd, -1);
        static_file_close(&f);
    }
    ck_assert_int_eq(count_fds(), fds); /* nothing leaked, success or not */
}
END_TEST

START_TEST(test_long_paths)
{
    static_set_walk_only(_i);
    char path[6000], name[300];
    struct static_file f;

    memset(name, 'n', 256);
    name[256] = '\0';
    snprintf(path, sizeof(path), "/%s", name); /* one segment > NAME_MAX */
    ck_assert_int_eq(lookup(path, &f), 404);

    size_t o = 0;
    while (o + 2 < sizeof(path) - 1) {
        path[o++] = '/';
        path[o++] = 'd';
    }
    path[o] = '\0';
    ck_assert_int_eq(lookup(path, &f), 404);
    ck_assert_int_eq(f.fd, -1);
}
END_TEST

START_TEST(test_closed_root)
{
    struct static_root r;
    struct static_file f;
    char err[256];

    static_root_init(&r);
    ck_assert_int_eq(static_lookup(&r, STR_LIT("/a.txt"), &f), 404);
    ck_assert_int_eq(static_lookup(NULL, STR_LIT("/a.txt"), &f), 404);
    static_root_close(&r);
    static_root_close(NULL);

    ck_assert_int_eq(static_root_open(&r, "/nonexistent/pc-www", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pc-www"));
    ck_assert_int_eq(r.dirfd, -1);
    char file[256];
    snprintf(file, sizeof(file), "%s/a.txt", wwwdir);
    ck_assert_int_eq(static_root_open(&r, file, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "a.txt"));
}
END_TEST

static void get_etag(const char *path, char out[STATIC_ETAG_MAX], time_t *mtime)
{
    struct static_file f;
    ck_assert_int_eq(lookup(path, &f), 0);
    memcpy(out, f.etag, STATIC_ETAG_MAX);
    if (mtime != NULL)
        *mtime = f.mtime;
    static_file_close(&f);
}

START_TEST(test_etag_changes)
{
    char e1[STATIC_ETAG_MAX], e2[STATIC_ETAG_MAX], e3[STATIC_ETAG_MAX], e4[STATIC_ETAG_MAX];
    char path[256];
    struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    time_t mt;

    snprintf(path, sizeof(path), "%s/a.txt", wwwdir);
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    get_etag("/a.txt", e1, &mt);
    ck_assert_int_eq(mt, 1000000000);
    get_etag("/a.txt", e2, NULL);
    ck_assert_str_eq(e1, e2); /* stable while unchanged */

    /* same size, same second, different nanoseconds */
    put("www/a.txt", "HELLO");
    ts[1].tv_nsec = 5;
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    get_etag("/a.txt", e2, &mt);
    ck_assert_str_ne(e1, e2);
    ck_assert_int_eq(mt, 1000000000);

    /* different size, same mtime */
    put("www/a.txt", "HELLO!");
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    get_etag("/a.txt", e3, NULL);
    ck_assert_str_ne(e2, e3);

    /* replaced by another file (new inode), same size and mtime */
    put("www/new.txt", "HELLO!");
    char npath[256];
    snprintf(npath, sizeof(npath), "%s/new.txt", wwwdir);
    ck_assert_int_eq(utimensat(AT_FDCWD, npath, ts, 0), 0);
    ck_assert_int_eq(rename(npath, path), 0);
    get_etag("/a.txt", e4, NULL);
    ck_assert_str_ne(e3, e4);
}
END_TEST

static const struct {
    const char *inm, *ims;
    int want;
} nm_cases[] = {
    /* If-None-Match (file etag is "\"abc\"") */
    { "\"abc\"", NULL, 1 },
    { "W/\"abc\"", NULL, 1 },
    { "\"x\", \"abc\"", NULL, 1 },
    { "  \"x\" ,W/\"abc\"  ", NULL, 1 },
    { "\"x\",,\"abc\"", NULL, 1 },
    { "*", NULL, 1 },
    { " * ", NULL, 1 },
    { "\"abd\"", NULL, 0 },
    { "\"ab\"", NULL, 0 },
    { "\"abcd\"", NULL, 0 },
    { "abc", NULL, 0 },
    { "\"abc", NULL, 0 },
    { "W/", NULL, 0 },
    { "w/\"abc\"", NULL, 0 },
    { "\"x\" junk \"abc\"", NULL, 0 },
    { "\"x\", *", NULL, 0 },
    /* If-None-Match wins over If-Modified-Since, either way */
    { "\"nope\"", "Sun, 06 Nov 2094 08:49:37 GMT", 0 },
    { "\"abc\"", "Sun, 06 Nov 1994 08:49:37 GMT", 1 },
    { "", "Sun, 09 Sep 2001 01:46:40 GMT", 1 }, /* empty = absent */
    /* If-Modified-Since (file mtime is 1000000000 = Sun, 09 Sep 2001 01:46:40 GMT) */
    { NULL, "Sun, 09 Sep 2001 01:46:40 GMT", 1 },
    { NULL, "Sun, 09 Sep 2001 01:46:41 GMT", 1 },
    { NULL, "Tue, 01 Jan 2030 00:00:00 GMT", 1 },
    { NULL, " Sun, 09 Sep 2001 01:46:40 GMT ", 1 },
    { NULL, "Sun, 09 Sep 2001 01:46:39 GMT", 0 },
    { NULL, "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
    { NULL, "Sunday, 09-Sep-01 01:46:40 GMT", 0 }, /* rfc850: ignored */
    { NULL, "Sun Sep  9 01:46:40 2001", 0 },       /* asctime: ignored */
    { NULL, "Sun, 09 Sep 2001 01:46:40 gmt", 0 },
    { NULL, "Sun, 09 Sep 2001 01:46:40 UTC", 0 },
    { NULL, "Xyz, 09 Sep 2001 01:46:40 GMT", 0 },
    { NULL, "Sun, 09 Sex 2031 01:46:40 GMT", 0 },
    { NULL, "Sun, 32 Sep 2031 01:46:40 GMT", 0 },
    { NULL, "Sun, 31 Sep 2031 01:46:40 GMT", 0 },
    { NULL, "Sun, 29 Feb 2031 01:46:40 GMT", 0 }, /* not a leap year */
    { NULL, "Sun, 29 Feb 2032 01:46:40 GMT", 1 },
    { NULL, "Sun, 09 Sep 2031 24:00:00 GMT", 0 },
    { NULL, "Sun, 09 Sep 2031 01:60:00 GMT", 0 },
    { NULL, "Sun, 09 Sep 2031 1:46:40 GMT", 0 },
    { NULL, "Sun, 09 Sep 2031 01:46:40 GMT+1", 0 },
    { NULL, "", 0 },
    { NULL, "garbage", 0 },
    { NULL, NULL, 0 },
};

static struct str opt(const char *s)
{
    return s != NULL ? str_make(s, strlen(s)) : str_make(NULL, 0);
}

START_TEST(test_not_modified)
{
    struct static_file f;
    static_file_init(&f);
    strcpy(f.etag, "\"abc\"");
    f.mtime = 1000000000;
    ck_assert_msg(static_not_modified(&f, opt(nm_cases[_i].inm), opt(nm_cases[_i].ims)) ==
                      nm_cases[_i].want,
                  "case %d: inm=%s ims=%s", _i, nm_cases[_i].inm ? nm_cases[_i].inm : "-",
                  nm_cases[_i].ims ? nm_cases[_i].ims : "-");
}
END_TEST

START_TEST(test_not_modified_real_file)
{
    struct static_file f;
    char date[STATIC_DATE_LEN];

    ck_assert_int_eq(lookup("/a.txt", &f), 0);
    static_http_date(f.mtime, date);
    ck_assert_int_eq(static_not_modified(&f, opt(f.etag), opt(NULL)), 1);
    ck_assert_int_eq(static_not_modified(&f, opt(NULL), opt(date)), 1);
    static_http_date(f.mtime - 1, date);
    ck_assert_int_eq(static_not_modified(&f, opt(NULL), opt(date)), 0);
    static_file_close(&f);
}
END_TEST

START_TEST(test_http_date)
{
    char d[STATIC_DATE_LEN];

    static_http_date(784111777, d);
    ck_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    static_http_date(0, d);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    static_http_date(951782400, d);
    ck_assert_str_eq(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    static_http_date(1000000000, d);
    ck_assert_str_eq(d, "Sun, 09 Sep 2001 01:46:40 GMT");
    static_http_date(4102444799, d);
    ck_assert_str_eq(d, "Thu, 31 Dec 2099 23:59:59 GMT");
    static_http_date(-1, d);
    ck_assert_str_eq(d, "Wed, 31 Dec 1969 23:59:59 GMT");
    static_http_date(253402300800, d); /* year 10000 */
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_uint_eq(strlen(d), STATIC_DATE_LEN - 1);

    /* every date we print parses back to itself */
    struct static_file f;
    static_file_init(&f);
    for (time_t t = 0; t < 4102444800; t += 86400 * 37 + 3671) {
        static_http_date(t, d);
        f.mtime = t;
        ck_assert_int_eq(static_not_modified(&f, opt(NULL), opt(d)), 1);
        f.mtime = t + 1;
        ck_assert_msg(static_not_modified(&f, opt(NULL), opt(d)) == 0, "%s", d);
    }
}
END_TEST

static const struct {
    const char *name, *type;
} mimes[] = {
    { "index.html", "text/html; charset=utf-8" },
    { "a.HTM", "text/html; charset=utf-8" },
    { "s.css", "text/css; charset=utf-8" },
    { "app.js", "text/javascript; charset=utf-8" },
    { "m.mjs", "text/javascript; charset=utf-8" },
    { "d.json", "application/json; charset=utf-8" },
    { "r.txt", "text/plain; charset=utf-8" },
    { "i.svg", "image/svg+xml; charset=utf-8" },
    { "i.png", "image/png" },
    { "i.jpg", "image/jpeg" },
    { "i.JPEG", "image/jpeg" },
    { "i.gif", "image/gif" },
    { "i.webp", "image/webp" },
    { "favicon.ico", "image/x-icon" },
    { "f.woff2", "font/woff2" },
    { "m.wasm", "application/wasm" },
    { "dir/sub/x.css", "text/css; charset=utf-8" },
    { "a.tar.gz", "application/octet-stream" },
    { "noext", "application/octet-stream" },
    { "html", "application/octet-stream" },
    { ".html", "application/octet-stream" },
    { "x.", "application/octet-stream" },
    { "v1.0/index", "application/octet-stream" },
    { "x.htmlx", "application/octet-stream" },
    { "", "application/octet-stream" },
};

START_TEST(test_mime) { ck_assert_str_eq(static_mime_type(mimes[_i].name), mimes[_i].type); }
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_lookup_cases, 0, 2);
    tcase_add_loop_test(tc, test_long_paths, 0, 2);
    tcase_add_test(tc, test_closed_root);
    tcase_add_test(tc, test_etag_changes);
    tcase_add_test(tc, test_not_modified_real_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("pure");
    tcase_add_loop_test(tc, test_not_modified, 0, (int)(sizeof(nm_cases) / sizeof(nm_cases[0])));
    tcase_add_test(tc, test_http_date);
    tcase_add_loop_test(tc, test_mime, 0, (int)(sizeof(mimes) / sizeof(mimes[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
