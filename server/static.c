/* static.c: path checks, confined open, ETag/304 logic, HTTP dates, MIME. */
#include "server/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/hex.h"

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#define REL_MAX 4096 /* decoded relative path, incl. "index.html" */
#define INDEX   "index.html"

static atomic_int walk_only;  /* test hook */
static atomic_int no_openat2; /* set once the kernel (or seccomp) refused it */

void static_set_walk_only(int on) { atomic_store(&walk_only, on != 0); }

/* ---- root ---- */

void static_root_init(struct static_root *r) { r->dirfd = -1; }

int static_root_open(struct static_root *r, const char *dir, char *err, size_t errlen)
{
    char buf[128];

    r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dirfd < 0) {
        int e = errno;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "static: cannot open www root '%s': %s", dir,
                     strerror_r(e, buf, sizeof(buf)));
        return -1;
    }
    return 0;
}

void static_root_close(struct static_root *r)
{
    if (r != NULL && r->dirfd >= 0) {
        close(r->dirfd);
        r->dirfd = -1;
    }
}

/* ---- URL path -> relative file system path ---- */

static bool percent_ok(struct str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '%' && (i + 2 >= s.n || hex_value((unsigned char)s.p[i + 1]) < 0 ||
                              hex_value((unsigned char)s.p[i + 2]) < 0))
            return false;
    return true;
}

/* Decodes one segment (raw bytes up to the next raw '/') into out.
 * Returns the decoded length, or -1 when a byte is refused. */
static long decode_segment(struct str raw, char *out, size_t outcap)
{
    size_t o = 0;

    for (size_t i = 0; i < raw.n; i++) {
        unsigned char c = (unsigned char)raw.p[i];
        if (c == '%') {
            c = (unsigned char)(hex_value((unsigned char)raw.p[i + 1]) * 16 +
                                hex_value((unsigned char)raw.p[i + 2]));
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || o >= outcap)
            return -1;
        out[o++] = (char)c;
    }
    return (long)o;
}

/* Builds "dir/file" (NUL-terminated, no leading slash) from the URL path.
 * A trailing '/' (including the path "/") appends index.html, and sets
 * *is_index. Returns 0, 400 or 404 as static_lookup. */
static int url_to_rel(struct str url, char rel[REL_MAX], bool *is_index)
{
    size_t i = 1, o = 0;

    *is_index = false;
    if (url.n == 0 || url.p[0] != '/')
        return 404;
    if (!percent_ok(url))
        return 400;
    for (;;) {
        size_t start = i;
        while (i < url.n && url.p[i] != '/')
            i++;
        bool last = i == url.n;
        if (start == i) {
            if (!last)
                return 404; /* "//": refuse, do not collapse */
            *is_index = true;
            break;
        }
        /* Room is kept for "/index.html" + NUL after any segment. */
        if (REL_MAX - o <= sizeof("/" INDEX))
            return 404;
        long n = decode_segment(str_make(url.p + start, i - start), rel + o,
                                REL_MAX - o - sizeof("/" INDEX));
        if (n <= 0 || n > NAME_MAX || rel[o] == '.')
            return 404;
        o += (size_t)n;
        if (last)
            break;
        rel[o++] = '/';
        i++;
    }
    if (*is_index) {
        memcpy(rel + o, INDEX, sizeof(INDEX));
        return 0;
    }
    rel[o] = '\0';
    return 0;
}

/* ---- confined open ---- */

/* Opens rel under dirfd component by component, never following a symlink:
 * rel's components are already checked to be plain names, so no ".." or
 * absolute path can appear, and O_NOFOLLOW refuses each symlink. */
static int open_walk(int dirfd, const char *rel, int flags)
{
    char comp[NAME_MAX + 1];
    int cur = dirfd, fd = -1, e;

    for (;;) {
        const char *slash = strchr(rel, '/');
        if (slash == NULL) {
            fd = openat(cur, rel, flags | O_NOFOLLOW);
            break;
        }
        size_t n = (size_t)(slash - rel);
        if (n > NAME_MAX) {
            errno = ENAMETOOLONG;
            break;
        }
        memcpy(comp, rel, n);
        comp[n] = '\0';
        int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        if (cur != dirfd)
            close(cur);
        errno = e;
        if (next < 0)
            return -1;
        cur = next;
        rel = slash + 1;
    }
    e = errno;
    if (cur != dirfd)
        close(cur);
    errno = e;
    return fd;
}

static int open_beneath(int dirfd, const char *rel, int flags)
{
#ifdef SYS_openat2
    if (!atomic_load(&walk_only) && !atomic_load(&no_openat2)) {
        struct open_how how;
        long fd;

        memset(&how, 0, sizeof(how));
        how.flags = (unsigned long long)flags;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        do
            fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        while (fd < 0 && errno == EINTR);
        /* Container seccomp profiles answer ENOSYS or EPERM for syscalls
         * they do not know: the walk below is just as strict. */
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return (int)fd;
        atomic_store(&no_openat2, 1);
    }
#endif
    return open_walk(dirfd, rel, flags);
}

/* O_NONBLOCK so that a FIFO planted in the root cannot block the loop in
 * open(); it has no effect on the regular files we keep. */
#define FILE_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Missing or refused is 404; running out of resources is 500. */
static int errno_status(int e)
{
    return (e == EMFILE || e == ENFILE || e == ENOMEM || e == EIO || e == EINTR) ? 500 : 404;
}

static void make_etag(const struct stat *st, char etag[STATIC_ETAG_MAX])
{
    unsigned long long ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                            (unsigned long long)st->st_mtim.tv_nsec;
    snprintf(etag, STATIC_ETAG_MAX, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size, ns);
}

void static_file_init(struct static_file *f)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

void static_file_close(struct static_file *f)
{
    if (f != NULL && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* Opens rel, stepping into index.html when it names a directory (then
 * *is_index becomes true), and accepts only a regular file.
 * Returns the descriptor or -status. */
static int open_regular(int rootfd, const char *rel, bool *is_index, struct stat *st)
{
    int fd = open_beneath(rootfd, rel, FILE_FLAGS);

    if (fd < 0)
        return -errno_status(errno);
    if (fstat(fd, st) < 0)
        goto fail;
    if (S_ISDIR(st->st_mode) && !*is_index) {
        int dir = fd;
        *is_index = true;
        fd = open_beneath(dir, INDEX, FILE_FLAGS);
        close(dir);
        if (fd < 0)
            return -errno_status(errno);
        if (fstat(fd, st) < 0)
            goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return -404;
    }
    return fd;
fail:
    close(fd);
    return -500;
}

int static_lookup(const struct static_root *r, struct str url_path, struct static_file *out)
{
    char rel[REL_MAX];
    bool is_index;
    struct stat st;
    int rc, fd;

    static_file_init(out);
    if (r == NULL || r->dirfd < 0)
        return 404;
    rc = url_to_rel(url_path, rel, &is_index);
    if (rc != 0)
        return rc;
    fd = open_regular(r->dirfd, rel, &is_index, &st);
    if (fd < 0)
        return -fd;
    out->fd = fd;
    out->size = st.st_size;
    out->mtime = st.st_mtim.tv_sec;
    make_etag(&st, out->etag);
    out->mime = static_mime_type(is_index ? INDEX : rel);
    return 0;
}

/* ---- conditional requests ---- */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static struct str trim(struct str s)
{
    while (s.n > 0 && is_ows(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_ows(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a list
 * separated by commas with optional whitespace. Weak comparison. */
static int etag_list_matches(const char *etag, struct str list)
{
    size_t i = 0, elen = strlen(etag);

    list = trim(list);
    if (list.n == 1 && list.p[0] == '*')
        return 1;
    while (i < list.n) {
        while (i < list.n && (is_ows(list.p[i]) || list.p[i] == ','))
            i++;
        if (i == list.n)
            break;
        if (list.n - i >= 2 && list.p[i] == 'W' && list.p[i + 1] == '/')
            i += 2;
        if (i == list.n || list.p[i] != '"')
            return 0;
        const char *close = memchr(list.p + i + 1, '"', list.n - i - 1);
        if (close == NULL)
            return 0;
        size_t tlen = (size_t)(close - (list.p + i)) + 1;
        if (tlen == elen && memcmp(list.p + i, etag, elen) == 0)
            return 1;
        i += tlen;
        while (i < list.n && is_ows(list.p[i]))
            i++;
        if (i < list.n && list.p[i] != ',')
            return 0;
    }
    return 0;
}

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so parsing needs neither TZ nor timegm. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int name_index(const char (*names)[4], int count, const char *p)
{
    for (int i = 0; i < count; i++)
        if (memcmp(names[i], p, 3) == 0)
            return i;
    return -1;
}

/* Parses exactly "Sun, 06 Nov 1994 08:49:37 GMT". Returns 0 or -1. */
static int parse_imf_fixdate(struct str s, time_t *out)
{
    static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    const char *p = s.p;

    if (s.n != 29 || memcmp(p + 3, ", ", 2) != 0 || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
        p[19] != ':' || p[22] != ':' || memcmp(p + 25, " GMT", 4) != 0 ||
        name_index(wdays, 7, p) < 0)
        return -1;
    int day = digits(p + 5, 2), mon = name_index(months, 12, p + 8);
    int year = digits(p + 12, 4), hh = digits(p + 17, 2), mm = digits(p + 20, 2);
    int ss = digits(p + 23, 2);
    if (day < 1 || mon < 0 || year < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
        ss > 60 || day > mdays[mon])
        return -1;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 1 && day == 29 && !leap)
        return -1;
    long long days = days_from_civil(year, (unsigned)mon + 1, (unsigned)day);
    *out = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss);
    return 0;
}

int static_not_modified(const struct static_file *f, struct str if_none_match,
                        struct str if_modified_since)
{
    time_t since;

    if (if_none_match.p != NULL && trim(if_none_match).n > 0)
        return etag_list_matches(f->etag, if_none_match);
    if (if_modified_since.p != NULL && parse_imf_fixdate(trim(if_modified_since), &since) == 0)
        return f->mtime <= since;
    return 0;
}

/* ---- dates and types ---- */

static void put_digits(char *out, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void static_http_date(time_t t, char out[STATIC_DATE_LEN])
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    memcpy(out, wdays[tm.tm_wday], 3);
    memcpy(out + 3, ", ", 2);
    put_digits(out + 5, tm.tm_mday, 2);
    out[7] = ' ';
    memcpy(out + 8, months[tm.tm_mon], 3);
    out[11] = ' ';
    put_digits(out + 12, tm.tm_year + 1900, 4);
    out[16] = ' ';
    put_digits(out + 17, tm.tm_hour, 2);
    out[19] = ':';
    put_digits(out + 20, tm.tm_min, 2);
    out[22] = ':';
    put_digits(out + 23, tm.tm_sec, 2);
    memcpy(out + 25, " GMT", 5);
}

static const struct {
    const char *ext, *type;
} mime_types[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "json", "application/json; charset=utf-8" },
    { "txt", "text/plain; charset=utf-8" },
    { "svg", "image/svg+xml; charset=utf-8" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "gif", "image/gif" },
    { "webp", "image/webp" },
    { "ico", "image/x-icon" },
    { "woff2", "font/woff2" },
    { "wasm", "application/wasm" },
};

const char *static_mime_type(const char *name)
{
    const char *base = strrchr(name, '/');
    const char *dot;

    base = base != NULL ? base + 1 : name;
    dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
            if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
                return mime_types[i].type;
    return "application/octet-stream";
}
