/* mfa.h: the pieces of two-factor sign-in that are not HTTP: sealing a
 * user's TOTP secret for the database (bound to the user id), recovery
 * codes (made, shown once, stored and looked up as SHA-256 only). Pure
 * functions over caller buffers; thread-safe. */
#ifndef PC_AUTH_MFA_H
#define PC_AUTH_MFA_H

#include <stddef.h>
#include <stdint.h>

#include "auth/seal.h"
#include "auth/totp.h"

#define AUTH_MFA_SEALED_LEN (TOTP_SECRET_BYTES + AUTH_SEAL_OVERHEAD)

#define AUTH_RECOVERY_CODES    10
#define AUTH_RECOVERY_CHARS    12 /* base32 characters: 60 bits */
#define AUTH_RECOVERY_CODE_BUF 15 /* "abcd-efgh-ijkl" + NUL */

/* Seals secret for user_id (the id is the AAD: a sealed secret copied to
 * another user's row does not open). out: AUTH_MFA_SEALED_LEN bytes. */
int auth_mfa_seal(const unsigned char key[AUTH_SEAL_KEY_LEN], int64_t user_id,
                  const unsigned char secret[TOTP_SECRET_BYTES], unsigned char *out);
/* Opens what auth_mfa_seal made for user_id. 0 or -1. */
int auth_mfa_open(const unsigned char key[AUTH_SEAL_KEY_LEN], int64_t user_id,
                  const unsigned char *sealed, size_t len, unsigned char secret[TOTP_SECRET_BYTES]);

/* AUTH_RECOVERY_CODES fresh codes ("abcd-efgh-ijkl", 60 random bits each)
 * and their hashes. 0 or -1 (no randomness). */
int auth_recovery_make(char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_BUF],
                       unsigned char hashes[AUTH_RECOVERY_CODES][32]);
/* The hash to look a typed code up by: case, spaces and dashes are
 * ignored. 0, or -1 when it is not 12 base32 characters. */
int auth_recovery_hash(const char *code, size_t len, unsigned char hash[32]);

#endif
