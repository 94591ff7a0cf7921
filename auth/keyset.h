/* keyset.h (internal to auth/): the JWT signing keys in the store
 * (db/keys.h) and the master key that seals them (docs/ARCHITECTURE.md,
 * Auth model, "The key set").
 *
 * Every instance on one store signs with the same active key and verifies
 * with every key that may still have valid tokens. A key's private part is
 * stored only sealed (seal.h, AES-256-GCM) under the master key, bound to
 * its kid; after unsealing, the kid is checked against the key itself, so
 * a row cannot lend one key's name to another.
 *
 * A new key is published before it signs: it verifies at once, but signs
 * only AUTH_KEYSET_PUBLISH_S after it was added, when every instance has
 * read it (they read the set every AUTH_KEYSET_REFRESH_S), so no instance
 * meets a token signed with a key it does not know yet. Until then the key
 * it replaced goes on signing. A retired key therefore verifies until
 * retired_at + AUTH_KEYSET_GRACE_S + window (the access-token lifetime
 * plus the leeway), after which none of its tokens can still be valid.
 *
 * Functions run on the caller's connection and thread; 0 or -1 with a
 * message in err unless said otherwise. */
#ifndef PC_AUTH_KEYSET_H
#define PC_AUTH_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "auth/seal.h"
#include "auth/token.h"

struct db;

#define AUTH_KEYSET_REFRESH_S 5 /* instances read the set this often */
#define AUTH_KEYSET_PUBLISH_S (2 * AUTH_KEYSET_REFRESH_S)
/* How long a retired key may still sign: the publication delay, and one
 * refresh on the slowest instance, with room. */
#define AUTH_KEYSET_GRACE_S (AUTH_KEYSET_PUBLISH_S + 2 * AUTH_KEYSET_REFRESH_S)
#define AUTH_KEYSET_SIG_MAX 4096 /* what auth_keyset_load's sig holds: 32 keys */

/* Opens the transaction in which a starting instance reads or creates the
 * master key and the first keys of the set (auth_master_key_load,
 * auth_keyset_bootstrap, the first ticket key), holding the store-wide key
 * set lock (db_keys_lock): of two instances starting on an empty store, the
 * second waits, then sees the first's key instead of making a master key
 * of its own. The caller ends it with db_commit or db_rollback. -1 (err)
 * when the lock is not had within the busy timeout, or on a store error. */
int auth_keyset_begin(struct db *db, char *err, size_t errlen);

/* The master key at path into key. If the file does not exist, it is
 * created (0600, privfile.h) when create is set and the store holds no
 * key at all: keys sealed under a master key we do not have could never
 * be opened, so that is refused, naming the file. */
int auth_master_key_load(struct db *db, const char *path, int create,
                         unsigned char key[AUTH_SEAL_KEY_LEN], char *err, size_t errlen);

/* On a store without signing keys, makes the first one: the key in
 * jwt_key_file when that file exists (tokens it signed stay valid: the
 * kid is the same), else a new one. Does nothing when the set has keys.
 * *imported is set to 1 when the file was taken in. */
int auth_keyset_bootstrap(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                          const char *jwt_key_file, int64_t now, int *imported, char *err,
                          size_t errlen);

/* Reads the set as it stands at now: the active key (the newest without
 * retired_at), every key retired after now - window_s - grace, and which
 * of them signs at now (see above). sig receives a summary of what was
 * read (kids, retirement times, the signer); when it equals have (may be
 * NULL), nothing is unsealed and 1 is returned. Otherwise
 * every key is unsealed and *out is a new set (0), or -1 with err: a key
 * the master key does not open, a missing active key, the store. */
int auth_keyset_load(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                     const struct auth_token_opts *opts, int64_t window_s, int64_t now,
                     const char *have, char sig[AUTH_KEYSET_SIG_MAX], struct auth_tokens **out,
                     char *err, size_t errlen);

/* The kid of the key that signs at now, read without unsealing anything
 * (for `keys list`). 0, or -1 with err (the store, no active key). */
int auth_keyset_signer(struct db *db, int64_t window_s, int64_t now, char kid[AUTH_TOKEN_KID_BUF],
                       char *err, size_t errlen);

/* Adds a new active key and retires the current one at now, deleting the
 * keys retired before now - window_s - grace, in one transaction. Checks first
 * that the master key opens the set (a key sealed under another master
 * key would stop every instance). The new kid goes to kid. */
int auth_keyset_rotate(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                       const struct auth_token_opts *opts, int64_t window_s, int64_t now,
                       char kid[AUTH_TOKEN_KID_BUF], char *err, size_t errlen);

#endif
