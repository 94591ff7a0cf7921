/* copy.h: copying a whole store into another (e.g. a single node's SQLite
 * file into PostgreSQL, to scale out): users with their password hashes,
 * sessions and refresh-token families, two-factor state, reset tokens,
 * failure counts and the audit log, row for row with the same ids. */
#ifndef PC_DB_COPY_H
#define PC_DB_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Copies every row of `src` into `dst`, both open and migrated to
 * DB_SCHEMA_VERSION, in one transaction on `dst` (all or nothing). Refuses
 * (DB_CONFLICT) a destination that already holds users, tokens or audit
 * rows. The source is read as one snapshot (a live server may keep
 * writing to it). On PostgreSQL the id sequences then continue after the
 * copied ids.
 * *users (may be NULL) gets the number of users copied. 0 or DB_*, with a
 * message in err. Neither connection may be in use by another thread. */
int db_copy(struct db *src, struct db *dst, int64_t *users, char *err, size_t errlen);

#endif
