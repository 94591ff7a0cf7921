/* notify.h: changes other processes made that cached account state must not
 * outlive (PostgreSQL only). The store itself announces them: triggers of
 * the PostgreSQL schema (db/pg_schema.c) send, at the commit of any
 * transaction on any instance or CLI,
 *   - a user id on "portcullis_user" when the account's token epoch,
 *     disabled flag, role, name or two-factor state changed, or it was
 *     deleted (logout-all, password change, disable, role change, ...);
 *   - a session id on "portcullis_session" when the session's last live
 *     refresh token was revoked (logout, session end, reuse, disable).
 * A listener (one connection of its own, one thread) receives them. */
#ifndef PC_DB_NOTIFY_H
#define PC_DB_NOTIFY_H

#include <stdint.h>

#include "db/db.h"

enum db_change {
    DB_CHANGE_USER = 1,    /* id is a user id */
    DB_CHANGE_SESSION = 2, /* id is a session id */
    DB_CHANGE_ALL = 3      /* the connection was re-established: changes may
                              have been missed, forget everything */
};

/* Starts listening on `db` (a PostgreSQL connection used for nothing else).
 * 0, or DB_ERROR (on SQLite: there is nothing to listen to). */
int db_listen(struct db *db);

/* Waits up to timeout_ms for the next change: 1 with *kind and *id, 0 when
 * none came, or DB_ERROR while the connection is lost (it is re-established
 * on a later call, with the store's backoff, and then reports
 * DB_CHANGE_ALL). */
int db_next_change(struct db *db, int timeout_ms, int *kind, int64_t *id);

#endif
