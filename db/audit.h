/* audit.h: the append-only audit log (logins, lockouts, password changes,
 * admin actions). Rows outlive the users they name.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_AUDIT_H
#define PC_DB_AUDIT_H

#include <stdint.h>

#include "db/db.h"

/* One row as seen by a listing callback. The strings point into SQLite's
 * row and are valid only during the call; NULL where nothing was stored. */
struct db_audit {
    int64_t id;
    const char *event; /* never NULL */
    int64_t user_id;   /* 0: none */
    const char *username;
    const char *ip;
    const char *detail;
    int64_t at;
    int64_t actor_id; /* the acting admin; -1: none (0: the local CLI) */
};

/* Non-zero return stops the listing (which still returns 0). */
typedef int (*db_audit_cb)(void *arg, const struct db_audit *row);

/* Appends a row. event is required; user_id 0 and NULL strings are stored
 * as NULL. Never pass a password or token in detail. */
int db_audit_add(struct db *db, const char *event, int64_t user_id, const char *username,
                 const char *ip, const char *detail, int64_t now);

/* Newest first (by time, then insertion order), `limit` rows after skipping
 * `offset`, only those of user_id unless it is 0. */
int db_audit_list(struct db *db, int64_t offset, int64_t limit, int64_t user_id, db_audit_cb cb,
                  void *arg);

#endif
