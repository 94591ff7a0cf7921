/* privfile.c: see privfile.h. */
#include "auth/privfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates each missing ancestor directory of path with mode 0700. */
static int mkdir_parents(const char *path)
{
    char *dir = strdup(path);
    char *s;
    int ret = 0;

    if (dir == NULL)
        return -1;
    for (s = dir + 1; *s != '\0' && ret == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            ret = -1;
        *s = '/';
    }
    free(dir);
    return ret;
}

/* Makes the new directory entry durable, not just the file's data. */
static void fsync_parent(const char *path)
{
    char *copy = strdup(path);
    int fd = copy != NULL ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

static int write_all(int fd, const void *data, size_t n)
{
    const unsigned char *p = data;
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

int auth_privfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char *tmp = NULL;
    int fd = -1, ret = -1;

    if (mkdir_parents(path) != 0) {
        snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
        goto fail;
    }
    if ((tmp = malloc(strlen(path) + 8)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    sprintf(tmp, "%s.XXXXXX", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write key: %s", path, strerror(errno));
        goto fail;
    }
    if (link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create key file: %s", path, strerror(errno));
        goto fail;
    }
    fsync_parent(path);
    ret = 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return ret;
}

int auth_privfile_read(const char *path, size_t max, unsigned char **buf, size_t *len, char *err,
                       size_t errlen)
{
    struct stat st;
    ssize_t n;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *buf = NULL;
    *len = 0;
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > max) {
        snprintf(err, errlen, "%s: not a regular file of 1..%zu bytes", path, max);
        goto fail;
    }
    /* Like sshd: a key someone else owns could be known to them (a file
     * planted in a shared directory before our first start). */
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(err, errlen, "%s: private key is owned by uid %u, not by us (uid %u) or root",
                 path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto fail;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: private key is accessible by group/others (mode %04o); "
                 "run chmod 600 on it",
                 path, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (*buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, *buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    (*buf)[got] = '\0';
    *len = got;
    close(fd);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(*buf);
    *buf = NULL;
    return -1;
}
