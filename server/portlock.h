/* portlock.h: one process per listening address and port.
 *
 * Every loop thread binds its own listening socket with SO_REUSEPORT, which
 * the kernel would also grant to a second process of the same user: the two
 * would then split the connections between them (two signing keys on one
 * port, half the logins in another database). Before binding, the server
 * claims each address and port here; a second claimant fails at start.
 *
 * Threads: called from the main thread during start-up and shut-down. */
#ifndef PC_PORTLOCK_H
#define PC_PORTLOCK_H

#include <stddef.h>

#define PORTLOCK_MAX 2

/* Claims held by one server; fds are -1 when unused. */
struct portlock {
    int fd[PORTLOCK_MAX];
    int n;
};

/* Zeroes: no claims. Cannot fail. */
void portlock_init(struct portlock *pl);

/* Claims addr:port for this process until portlock_release. Port 0 (an
 * ephemeral port, always fresh) claims nothing. Fails with a message naming
 * the address and port when another process listens there or another
 * Portcullis holds the claim. 0 or -1 with err. */
int portlock_claim(struct portlock *pl, const char *addr, int port, char *err, size_t errlen);

/* After binding an ephemeral port (configured as 0): holds the claim on the
 * port the kernel chose, so a later process asking for it by number meets
 * the same message. No probe: this process is the listener. 0 or -1. */
int portlock_hold(struct portlock *pl, const char *addr, int port, char *err, size_t errlen);

/* Drops every claim. Accepts a zeroed or already released lock. */
void portlock_release(struct portlock *pl);

#endif
