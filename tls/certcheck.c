/* certcheck.c: see certcheck.h. */
#include "tls/certcheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/tls.h"

static int check_file(const char *what, const char *path, struct stat *st, char *err, size_t errlen)
{
    if (stat(path, st) != 0) {
        snprintf(err, errlen, "tls.%s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "tls.%s '%s': not a regular file", what, path);
        return -1;
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "tls.%s '%s': not readable by this user: %s", what, path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int tls_check_cert_files(const char *cert_file, const char *key_file, char *warn, size_t warnlen,
                         char *err, size_t errlen)
{
    struct stat cst, kst;
    struct tls_server *srv = NULL;
    if (warnlen > 0)
        warn[0] = '\0';
    if (check_file("cert_file", cert_file, &cst, err, errlen) != 0 ||
        check_file("key_file", key_file, &kst, err, errlen) != 0)
        return -1;
    if ((kst.st_mode & 077) != 0)
        snprintf(warn, warnlen,
                 "tls.key_file '%s' is readable by %s (mode %04o): the private key should be "
                 "readable by the server's user only",
                 key_file, (kst.st_mode & 007) ? "others" : "its group",
                 (unsigned)(kst.st_mode & 07777));
    struct tls_server_opts o = { cert_file, key_file, 0, 0, NULL };
    if (tls_server_load(&srv, &o, err, errlen) != 0)
        return -1;
    tls_server_release(srv);
    return 0;
}
