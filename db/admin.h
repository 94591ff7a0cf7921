/* admin.h: queries for admin actions that must be checked or recorded in
 * the same transaction as the change: the acting admin in the audit row,
 * a deleted user's name kept in their events, and the "at least one
 * enabled admin" rule.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_ADMIN_H
#define PC_DB_ADMIN_H

#include <stdint.h>

#include "db/db.h"

/* Like db_audit_add, naming the actor: an admin's user id, 0 for the local
 * CLI. Call inside the transaction of the change it records. */
int db_audit_add_by(struct db *db, const char *event, int64_t user_id, const char *username,
                    int64_t actor_id, const char *ip, const char *detail, int64_t now);

/* Writes username into every event of user_id that has none, so a deleted
 * user's events still name them. */
int db_audit_keep_name(struct db *db, int64_t user_id, const char *username);

/* Number of enabled admins; in a transaction, the count that will commit. */
int db_admin_count_enabled(struct db *db, int64_t *count);

#endif
