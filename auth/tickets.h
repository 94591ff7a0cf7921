/* tickets.h (internal to auth/): TLS session-ticket keys in the store
 * (db/keys.h), so that a ticket one instance issued resumes on another.
 *
 * Time is cut into periods of lifetime_s seconds from the Unix epoch; each
 * period has one key, made by whichever instance first needs it (the
 * store keeps the first insert) and sealed under the master key, bound to
 * its lifetime and start. Every instance thus derives the same key, and
 * the same 4-byte name (the period's number), for the same period. The
 * current key issues tickets and the previous one still opens those
 * issued just before the period changed, so a ticket resumes for at least
 * its lifetime. Keys older than the previous period are deleted. */
#ifndef PC_AUTH_TICKETS_H
#define PC_AUTH_TICKETS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/seal.h"

struct db;

/* The current period's key (made if missing) into cur, and the previous
 * period's into prev when the store has it (*have_prev 1, else 0), at now
 * for lifetime_s (>= 1). 0, or -1 with err (store, or a key the master
 * key does not open). */
int auth_tickets_current(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                         int lifetime_s, int64_t now, struct auth_ticket_key *prev, int *have_prev,
                         struct auth_ticket_key *cur, char *err, size_t errlen);

#endif
