/* lockout.h: temporary lockout with exponential backoff after repeated
 * failed logins, keyed by (lower-cased) username whether or not the account
 * exists, so the 429 answers reveal nothing about which accounts exist.
 * Existing accounts are also locked in the database (users.locked_until),
 * which survives restarts and shows in the admin API.
 *
 * After `threshold` consecutive failures a key is locked for base_s, doubling
 * with each further failure up to max_s. Memory is fixed at creation
 * (a bounded table of keyed hashes, like limits.h); thread-safe. */
#ifndef PC_AUTH_LOCKOUT_H
#define PC_AUTH_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

struct auth_lockout;

int auth_lockout_new(struct auth_lockout **out, int threshold, int base_s, int max_s,
                     size_t max_entries, char *err, size_t errlen);
void auth_lockout_free(struct auth_lockout *lo); /* NULL ok */

/* Seconds until key may try again (0: not locked). now_s: Unix seconds. */
int auth_lockout_check(struct auth_lockout *lo, const void *key, size_t keylen, int64_t now_s);
/* Records a failure; returns the seconds key is now locked for (0: not yet). */
int auth_lockout_fail(struct auth_lockout *lo, const void *key, size_t keylen, int64_t now_s);
/* Forgets key's failures (after a successful login). */
void auth_lockout_clear(struct auth_lockout *lo, const void *key, size_t keylen);

#endif
