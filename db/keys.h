/* keys.h: the key set in the store, shared by every instance: JWT signing
 * keys and TLS session-ticket keys. db/ stores only what auth/ sealed
 * (auth/seal.h): the secret of a row is opaque bytes here.
 *
 * Signing keys: a row per key, named by its kid; retired_at 0 (NULL in the
 * store) means active. Ticket keys: a row per (lifetime_s, starts_at)
 * period; adding one that exists already keeps the existing row (the first
 * instance to see a period due wins, every other reads its key).
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_KEYS_H
#define PC_DB_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define DB_KEY_KID_MAX           64   /* bytes of a kid, without the NUL */
#define DB_SIGNING_SECRET_MAX    1024 /* bytes of a sealed signing key */
#define DB_TICKET_SECRET_MAX     128  /* bytes of a sealed ticket key */
#define DB_SIGNING_KEYS_LIST_MAX 32   /* rows db_signing_key_list reads at most */

struct db_signing_key {
    char kid[DB_KEY_KID_MAX + 1];
    char alg[16]; /* "ES256" */
    unsigned char secret[DB_SIGNING_SECRET_MAX];
    size_t secret_len;
    int64_t created_at;
    int64_t retired_at; /* 0: active */
};

struct db_ticket_key {
    int64_t lifetime_s;
    int64_t starts_at;
    unsigned char secret[DB_TICKET_SECRET_MAX];
    size_t secret_len;
    int64_t created_at;
};

/* Calls fn for every signing key that is active or was retired after
 * retired_after, newest first (created_at, then kid), at most
 * DB_SIGNING_KEYS_LIST_MAX of them; a non-zero return from fn stops the
 * walk and is returned. */
int db_signing_key_list(struct db *db, int64_t retired_after,
                        int (*fn)(void *arg, const struct db_signing_key *k), void *arg);

/* Adds a key (retired_at as given). DB_CONFLICT when the kid exists. */
int db_signing_key_add(struct db *db, const struct db_signing_key *k);

/* Atomically: retires every active key at now, adds next as the active
 * key, and deletes keys retired before drop_before. DB_CONFLICT when
 * next's kid exists (nothing changed then). */
int db_signing_key_rotate(struct db *db, const struct db_signing_key *next, int64_t now,
                          int64_t drop_before);

/* The ticket key of the period starting at starts_at for lifetime_s;
 * DB_NOTFOUND when it has not been made yet. */
int db_ticket_key_get(struct db *db, int64_t lifetime_s, int64_t starts_at,
                      struct db_ticket_key *out);

/* Adds k unless its period has a key already (then 0 and nothing
 * changes): read it back with db_ticket_key_get to learn which won. */
int db_ticket_key_add(struct db *db, const struct db_ticket_key *k);

/* Deletes the ticket keys of lifetime_s whose periods started before
 * `before`. Keys of other lifetimes (instances configured with another
 * tls.ticket_lifetime_s, or during a change of it) follow their own
 * schedule and are left alone. */
int db_ticket_key_purge(struct db *db, int64_t lifetime_s, int64_t before);

/* Rows in both tables together (0: an empty key set). */
int db_key_count(struct db *db, int64_t *n);

/* Inside a transaction (db_begin): serialises the writers of the key set
 * (the first keys of a new store, a rotation) across instances until the
 * transaction ends. PostgreSQL: a transaction-scoped advisory lock, waited
 * for at most the busy timeout (DB_BUSY). SQLite: nothing more to do, as
 * db_begin's BEGIN IMMEDIATE already holds the write lock. */
int db_keys_lock(struct db *db);

#endif
