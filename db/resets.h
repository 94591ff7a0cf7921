/* resets.h: one-time password-reset tokens (an admin or the operator
 * issues one; the user spends it to set a new password). Only SHA-256 of
 * a token is stored; a token is spent once and expires.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_RESETS_H
#define PC_DB_RESETS_H

#include <stdint.h>

#include "db/db.h"

#define DB_RESET_HASH_LEN 32

/* Stores a new token for user_id, dropping the user's earlier unspent
 * ones (one live token per user). DB_NOTFOUND if the user does not exist. */
int db_reset_issue(struct db *db, int64_t user_id, const unsigned char hash[DB_RESET_HASH_LEN],
                   int64_t now, int64_t expires_at);

/* The user of a token that is unspent and unexpired at now; DB_NOTFOUND
 * otherwise (unknown, spent, expired). */
int db_reset_find(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now,
                  int64_t *user_id);

/* Spends it: of two concurrent spends exactly one gets 0, the other
 * DB_NOTFOUND (as for an expired or unknown token). */
int db_reset_spend(struct db *db, const unsigned char hash[DB_RESET_HASH_LEN], int64_t now);

/* Deletes tokens expired or spent before `before`. */
int db_reset_purge(struct db *db, int64_t before);

#endif
