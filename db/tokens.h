/* tokens.h: stored refresh tokens.
 *
 * Only the SHA-256 of a token is stored (the caller hashes). Tokens of one
 * login form a family: each use rotates the token (old row revoked and linked
 * to its replacement, new row in the same family). A rotated or revoked token
 * presented again means it leaked; the caller then revokes the family.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_TOKENS_H
#define PC_DB_TOKENS_H

#include <stdint.h>

#include "db/db.h"

#define DB_TOKEN_HASH_LEN 32 /* SHA-256 */
#define DB_FAMILY_MAX     64 /* bytes of the family id (caller-chosen text) */

struct db_refresh {
    int64_t id;
    int64_t user_id;
    char family[DB_FAMILY_MAX + 1];
    int64_t expires_at;
    int64_t created_at;
    int64_t revoked_at;  /* 0: not revoked */
    int64_t replaced_by; /* 0: not rotated (or its successor was purged) */
};

/* Stores a new token of `family` for user_id; its row id in *id (may be
 * NULL). DB_NOTFOUND if the user does not exist, DB_CONFLICT if the hash is
 * already stored, DB_ERROR for an empty or too long family. */
int db_refresh_insert(struct db *db, int64_t user_id, const char *family,
                      const unsigned char hash[DB_TOKEN_HASH_LEN], int64_t expires_at, int64_t now,
                      int64_t *id);

/* The row of a token hash, whatever its state (the caller decides what a
 * revoked, rotated or expired token means). DB_NOTFOUND if unknown. */
int db_refresh_find(struct db *db, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    struct db_refresh *out);

/* Atomically replaces live token old_id by a new one in the same family:
 * claims the old row only if it is neither revoked nor rotated nor expired,
 * inserts the new row, links old.replaced_by to it and sets old.revoked_at.
 * Of two concurrent rotations of one token exactly one succeeds.
 * Returns 0 and *new_id (may be NULL); DB_CONFLICT if old_id was already
 * rotated or revoked (reuse: the caller revokes the family); DB_NOTFOUND if
 * old_id does not exist or has expired. On any error nothing is written. */
int db_refresh_rotate(struct db *db, int64_t old_id,
                      const unsigned char new_hash[DB_TOKEN_HASH_LEN], int64_t expires_at,
                      int64_t now, int64_t *new_id);

/* Revokes every live token of a family (logout, reuse detected). 0 also
 * when there was nothing to revoke. */
int db_refresh_revoke_family(struct db *db, const char *family, int64_t now);

/* Revokes every live token of a user. 0 also when there was none. */
int db_refresh_revoke_user(struct db *db, int64_t user_id, int64_t now);

/* Deletes tokens with expires_at <= now. Revoked rows are kept until they
 * expire so reuse of a rotated token is still recognised until then. */
int db_refresh_purge_expired(struct db *db, int64_t now);

#endif
