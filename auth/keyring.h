/* keyring.h (internal to auth/): the keys this instance works with right
 * now, kept in step with the store (docs/ARCHITECTURE.md, Auth model,
 * "The key set").
 *
 * The access-token key set (token.h) is an immutable snapshot published
 * through an atomic pointer: issuing and verifying threads load it without
 * a lock. A thread of its own, with its own database connection, reads the
 * store every AUTH_KEYRING_REFRESH_S seconds, and at once when poked
 * (SIGHUP; a token naming a kid this instance does not know, at most once
 * a second): a changed set is unsealed and published, and the TLS ticket
 * keys of the current period are handed to the ticket sink. A snapshot
 * replaced stays allocated until auth_keyring_stop, since a thread may
 * still be reading it; only a change in the store makes a new one.
 *
 * With HS256 the access-token set is the configured secret, fixed; the
 * store's signing keys are not used (ticket keys still are). */
#ifndef PC_AUTH_KEYRING_H
#define PC_AUTH_KEYRING_H

#include <stddef.h>

#include "auth/auth.h"
#include "auth/keyset.h"

#define AUTH_KEYRING_REFRESH_S AUTH_KEYSET_REFRESH_S

struct auth_keyring;

/* Main thread, at start: loads (or creates, on an empty store) the master
 * key, makes the first signing key on an empty store (importing
 * auth.jwt_key_file when it exists), loads the set, installs the first
 * ticket keys through set->tickets, then starts the thread. Any failure
 * stops start-up: 0, or -1 with err. */
int auth_keyring_start(struct auth_keyring **out, const struct auth_settings *set,
                       const struct auth_token_opts *opts, char *err, size_t errlen);

/* The current access-token set; never NULL after a successful start. Any
 * thread; valid until auth_keyring_stop. */
const struct auth_tokens *auth_keyring_tokens(const struct auth_keyring *r);

/* Asks the thread to read the store now. Any thread; calls closer than a
 * second apart after the first are ignored. */
void auth_keyring_poke(struct auth_keyring *r);

/* The same without the rate limit (SIGHUP). */
void auth_keyring_refresh(struct auth_keyring *r);

/* Stops the thread and frees every snapshot. NULL ok. */
void auth_keyring_stop(struct auth_keyring *r);

#endif
