/* guard.h: the sign-in lockout, decided from one record (db/failures.h):
 * failed attempts per lower-cased name, existing account or not, decaying
 * the same way for every name, surviving restarts. Wrong passwords at
 * login, wrong current passwords at a password change (and wrong second
 * factors) all count here.
 *
 * After `threshold` failures within max_s of each other a name is locked
 * for base_s, doubling with each further failure up to max_s; max_s after
 * the last failure the count starts afresh. Stateless apart from the
 * database: call from the job pool with the thread's connection. */
#ifndef PC_AUTH_GUARD_H
#define PC_AUTH_GUARD_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "db/db.h"

/* rate_limits.lockout_*: a config reload changes them while pool threads
 * read them, hence atomic (each read is one load). */
struct auth_guard {
    _Atomic int threshold, base_s, max_s;
};

/* The key for a name: lower-cased into key[65] (names are <= 64 bytes). */
void auth_guard_key(char key[65], const char *name);

/* Seconds left to wait for name at now (0: not locked), or a DB_* code. */
int auth_guard_check(const struct auth_guard *g, struct db *db, const char *name, int64_t now);
/* Records a failure: the seconds name is now locked for (0: not yet), or a
 * DB_* code. */
int auth_guard_fail(const struct auth_guard *g, struct db *db, const char *name, int64_t now);
/* Forgets name's failures (successful sign-in, operator unlock). 0 or DB_*. */
int auth_guard_clear(struct db *db, const char *name);

/* For display (admin view): the failures that still count and the end of
 * the lock (0: none) at now. 0 or DB_*. */
int auth_guard_state(const struct auth_guard *g, struct db *db, const char *name, int64_t now,
                     int64_t *failures, int64_t *locked_until);

/* The lock length after n failures (pure, for tests): 0 below threshold. */
int64_t auth_guard_lock_len(const struct auth_guard *g, int64_t n);

#endif
