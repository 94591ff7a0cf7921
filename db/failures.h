/* failures.h: failed sign-in attempts per name (the login_failures table),
 * the single record the lockout is decided from (auth/guard.h).
 *
 * `name` is the lower-cased username as typed, whether or not such an
 * account exists, so an unknown name is counted exactly like a real one.
 * A count decays: a failure more than decay_s after the previous one
 * starts the count again at 1.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_FAILURES_H
#define PC_DB_FAILURES_H

#include <stdint.h>

#include "db/db.h"

#define DB_FAILURE_NAME_MAX 64 /* bytes */

/* The count and the last failure's time; both 0 when name has none. */
int db_failure_get(struct db *db, const char *name, int64_t *count, int64_t *last_at);

/* Records one failure at now, atomically (one UPSERT); the resulting count
 * and last time in *count and *last_at (may be NULL). */
int db_failure_add(struct db *db, const char *name, int64_t now, int64_t decay_s, int64_t *count,
                   int64_t *last_at);

/* Forgets name's failures (a successful sign-in, an operator's unlock).
 * 0 also when there were none. */
int db_failure_clear(struct db *db, const char *name);

/* Deletes every record whose last failure is before `before`. */
int db_failure_purge(struct db *db, int64_t before);

#endif
