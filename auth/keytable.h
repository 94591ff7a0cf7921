/* keytable.h (internal to auth/): the bounded, sharded per-key table under
 * the rate limiter (limits.c).
 *
 * Keys are any bytes and are never stored: a slot holds a 64-bit tag, the
 * key's HMAC-SHA-256 under a secret drawn at creation, so an attacker can
 * neither read keys back nor choose keys that crowd one neighbourhood
 * (hash flooding). Besides the tag a slot holds two integers its owner
 * interprets: a time and a count.
 *
 * Memory is fixed at creation. A key lives within PROBE slots of its home
 * slot; when that neighbourhood is full, the owner's worth function picks
 * the slot to reuse. Slots are never emptied again once used, which is what
 * lets a lookup stop at the first empty slot: to forget a key, an owner
 * resets the slot's `at` and `n` to a state its worth function values
 * lowest, and the slot is reused first.
 *
 * Thread-safe: one mutex per shard; a slot may be read and written only
 * between auth_kt_lock and auth_kt_unlock. */
#ifndef PC_AUTH_KEYTABLE_H
#define PC_AUTH_KEYTABLE_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_KT_MIN_ENTRIES 256u
#define AUTH_KT_MAX_ENTRIES (1u << 20) /* 24 MiB of slots at most */

struct auth_kt_slot {
    uint64_t tag; /* keyed hash of the key; 0 = never used */
    int64_t at;   /* the owner's time (limiter: last refill, ms; lockout: last failure, s) */
    int64_t n;    /* the owner's count (limiter: token units; lockout: failures) */
};

/* How much an occupied slot is worth keeping at time now; owner is the
 * pointer given to auth_kt_new. When a key's neighbourhood is full, the
 * slot worth least is reused, the one with the older `at` on ties. */
typedef int64_t auth_kt_worth_fn(const struct auth_kt_slot *s, int64_t now, const void *owner);

struct auth_keytable;

/* What auth_kt_lock found; pass it to auth_kt_unlock. */
struct auth_kt_ref {
    struct auth_kt_slot *slot; /* NULL: key absent (AUTH_KT_FIND only) */
    int fresh;                 /* 1: slot claimed for the key just now, at = n = 0 */
    void *shard;               /* the locked shard */
};

#define AUTH_KT_FIND  0 /* look the key up only */
#define AUTH_KT_CLAIM 1 /* claim a slot for the key if it has none */

/* Creates a table of max_entries slots rounded up to a power of two,
 * AUTH_KT_MIN_ENTRIES..AUTH_KT_MAX_ENTRIES. worth must not be NULL; owner
 * may be. Returns 0, or -1 with "<what>: <reason>" in err. */
int auth_kt_new(struct auth_keytable **out, size_t max_entries, auth_kt_worth_fn *worth,
                const void *owner, const char *what, char *err, size_t errlen);

void auth_kt_free(struct auth_keytable *kt); /* NULL ok; wipes the secret */

/* Number of slots (what max_entries was rounded to). */
size_t auth_kt_capacity(const struct auth_keytable *kt);

/* Locks key's shard and fills ref with key's slot; with AUTH_KT_CLAIM a
 * missing key is given a slot (an empty one, else the neighbourhood's least
 * worth at now), so ref->slot is never NULL. keylen may be 0. Every call
 * must be followed by auth_kt_unlock(ref) on the same thread. */
void auth_kt_lock(struct auth_keytable *kt, const void *key, size_t keylen, int64_t now, int mode,
                  struct auth_kt_ref *ref);

void auth_kt_unlock(struct auth_kt_ref *ref);

#endif
