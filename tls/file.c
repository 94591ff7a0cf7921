/* file.c: see file.h. */
#include "tls/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p of path's directory part, each new level 0700. */
static int file_mkdirs(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = dir + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

static int file_write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void file_sync_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, int flags,
                      char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    const char *what = "write";
    int replace = (flags & FILE_REPLACE) != 0, fd, e;
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    if ((flags & FILE_MKDIRS) && file_mkdirs(path) != 0) {
        what = "create its directory";
        goto fail;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        what = "create";
        goto fail;
    }
    int ok = fchmod(fd, (mode_t)mode) == 0 && file_write_all(fd, data, len) == 0 && fsync(fd) == 0;
    e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    /* Placed: renamed over the target, or linked to it if it was free. */
    int placed = ok ? (replace ? rename(tmp, path) : link(tmp, path)) : -1;
    e = ok ? errno : e;
    if (!replace || placed != 0)
        unlink(tmp);
    if (placed != 0 && ok && !replace && e == EEXIST)
        return 1; /* someone else's file is there: it stays */
    if (placed != 0) {
        errno = e;
        goto fail;
    }
    file_sync_dir(path);
    return 0;
fail:
    snprintf(err, errlen, "%s: cannot %s: %s", path, what, strerror(errno));
    return -1;
}
