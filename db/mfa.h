/* mfa.h: two-factor state (TOTP secret, recovery codes, the short-lived
 * tokens between password and code). Secrets arrive sealed (auth/seal.h)
 * and hashes arrive hashed: nothing here sees a usable second factor.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_MFA_H
#define PC_DB_MFA_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define DB_MFA_SECRET_MAX 128 /* bytes of a sealed secret */
#define DB_MFA_HASH_LEN   32  /* SHA-256 */

struct db_totp {
    unsigned char secret[DB_MFA_SECRET_MAX]; /* sealed */
    size_t secret_len;
    int enabled;       /* 0: pending, set up but not confirmed */
    int64_t last_step; /* the last accepted step; -1: none yet */
};

/* The user's TOTP row; DB_NOTFOUND if none. */
int db_totp_get(struct db *db, int64_t user_id, struct db_totp *out);
/* Stores a new pending secret (replacing a pending one). DB_CONFLICT when
 * two-factor is already enabled, DB_NOTFOUND when the user does not exist. */
int db_totp_set_pending(struct db *db, int64_t user_id, const unsigned char *sealed, size_t len,
                        int64_t now);
/* Pending -> enabled, with the confirming code's step as the last used.
 * DB_CONFLICT if there is no pending secret (already enabled, or none). */
int db_totp_enable(struct db *db, int64_t user_id, int64_t step);
/* Accepts step once: only if later than the stored last step (and enabled);
 * DB_CONFLICT otherwise (a replayed code, or a race lost). */
int db_totp_use_step(struct db *db, int64_t user_id, int64_t step);
/* Removes every two-factor trace of the user: secret, recovery codes and
 * pending mfa tokens; *removed (may be NULL) is 1 if a secret existed. */
int db_mfa_remove(struct db *db, int64_t user_id, int *removed);

/* Replaces the user's recovery codes with n new hashes. */
int db_recovery_replace(struct db *db, int64_t user_id, const unsigned char (*hashes)[32],
                        size_t n);
/* Spends one unused code; DB_NOTFOUND if no such unused code. */
int db_recovery_use(struct db *db, int64_t user_id, const unsigned char hash[DB_MFA_HASH_LEN],
                    int64_t now);
/* Unused codes left. */
int db_recovery_left(struct db *db, int64_t user_id, int64_t *left);

/* The token between password and code. */
int db_mfa_token_insert(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t user_id,
                        int64_t token_epoch, int64_t expires_at);
/* DB_NOTFOUND when unknown (spent, purged, never issued). */
int db_mfa_token_find(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN], int64_t *user_id,
                      int64_t *token_epoch, int64_t *expires_at);
/* Deletes it: of two concurrent spends exactly one gets 0, the other
 * DB_NOTFOUND. */
int db_mfa_token_spend(struct db *db, const unsigned char hash[DB_MFA_HASH_LEN]);
/* Deletes tokens with expires_at <= now. */
int db_mfa_token_purge(struct db *db, int64_t now);

#endif
