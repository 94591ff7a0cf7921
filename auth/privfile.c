/* privfile.c: see privfile.h. */
#include "auth/privfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/file.h"

int auth_privfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    /* Create-only: a file another process made first stays, and is read. */
    return file_write_atomic(path, data, len, 0600, FILE_MKDIRS, err, errlen) < 0 ? -1 : 0;
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
