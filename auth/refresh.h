/* refresh.h: opaque refresh tokens and the random identifiers auth/ hands out.
 *
 * A refresh token is 32 bytes from the OS CSPRNG, base64url without padding
 * (43 characters). The server stores only its SHA-256 (docs/ARCHITECTURE.md, Auth model), so a
 * database leak yields nothing a client could present. Rotation, family
 * revocation and expiry live in db/ and the handlers; this module only
 * mints, validates and hashes.
 *
 * The CSPRNG and base64url helpers live in auth/encode.h, included here so
 * that code written against this header before the split still builds. */
#ifndef PC_AUTH_REFRESH_H
#define PC_AUTH_REFRESH_H

#include <stddef.h>

#include "auth/encode.h"

#define AUTH_REFRESH_TOKEN_LEN  43 /* chars, base64url of 32 bytes */
#define AUTH_REFRESH_HASH_LEN   32 /* SHA-256 */
#define AUTH_REFRESH_FAMILY_LEN 22 /* chars, base64url of 16 bytes */

#define AUTH_REFRESH_MALFORMED (-1) /* not exactly 43 base64url chars */
#define AUTH_REFRESH_ERROR     (-2) /* CSPRNG or hash failure */

/* Mints a new refresh token into out (NUL-terminated) and its SHA-256 into
 * hash. Returns 0 or AUTH_REFRESH_ERROR (out and hash are then zeroed). */
int auth_refresh_mint(char out[AUTH_REFRESH_TOKEN_LEN + 1],
                      unsigned char hash[AUTH_REFRESH_HASH_LEN]);

/* Validates a presented token (exactly 43 chars of [A-Za-z0-9_-]; tok need
 * not be NUL-terminated) and computes the hash to look it up by.
 * Returns 0, AUTH_REFRESH_MALFORMED or AUTH_REFRESH_ERROR. */
int auth_refresh_hash(const char *tok, size_t len, unsigned char hash[AUTH_REFRESH_HASH_LEN]);

/* A new random 128-bit family id, base64url (22 chars + NUL).
 * Returns 0 or AUTH_REFRESH_ERROR. */
int auth_refresh_family_id(char out[AUTH_REFRESH_FAMILY_LEN + 1]);

#endif
