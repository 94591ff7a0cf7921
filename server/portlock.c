/* portlock.c: the claim is a Linux abstract-namespace Unix socket named after
 * the address and port. The kernel holds the name for exactly as long as the
 * socket is open and drops it when the process dies (even by SIGKILL), so
 * there is no stale lock file to clean up, and two processes starting at the
 * same moment cannot both win. The name is per network namespace, like the
 * port itself.
 *
 * The claim alone does not see other programs, so a probe bind without
 * SO_REUSEPORT follows: it fails while any socket listens on the port. */
#include "server/portlock.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/net.h"

void portlock_init(struct portlock *pl)
{
    for (int i = 0; i < PORTLOCK_MAX; i++)
        pl->fd[i] = -1;
    pl->n = 0;
}

/* 0 when the name is ours now, -1 (errno set) otherwise. */
static int portlock_name(const char *addr, int port, int *out)
{
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    /* sun_path[0] == 0: the abstract namespace, no file on disk. */
    int n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "portcullis/%s/%d", addr, port);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (bind(fd, (struct sockaddr *)&un, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *out = fd;
    return 0;
}

int portlock_hold(struct portlock *pl, const char *addr, int port, char *err, size_t errlen)
{
    int fd = -1;
    if (pl->n >= PORTLOCK_MAX) {
        snprintf(err, errlen, "listen on %s port %d: too many claims", addr, port);
        return -1;
    }
    if (portlock_name(addr, port, &fd) != 0) {
        if (errno == EADDRINUSE)
            snprintf(err, errlen,
                     "listen on %s port %d: another Portcullis process already serves it; "
                     "stop it first or choose another port",
                     addr, port);
        else
            snprintf(err, errlen, "listen on %s port %d: cannot claim it: %s", addr, port,
                     strerror(errno));
        return -1;
    }
    pl->fd[pl->n++] = fd;
    return 0;
}

int portlock_claim(struct portlock *pl, const char *addr, int port, char *err, size_t errlen)
{
    if (port == 0)
        return 0;
    if (portlock_hold(pl, addr, port, err, errlen) != 0)
        return -1;
    if (net_probe_free(addr, port, err, errlen) != 0) {
        close(pl->fd[--pl->n]);
        pl->fd[pl->n] = -1;
        return -1;
    }
    return 0;
}

void portlock_release(struct portlock *pl)
{
    for (int i = 0; i < pl->n; i++)
        if (pl->fd[i] >= 0)
            close(pl->fd[i]);
    portlock_init(pl);
}
