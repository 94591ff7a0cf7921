/* keytable.c: sharded, fixed-size table of keyed-hash slots. */
#include "auth/keytable.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "auth/encode.h"

#define SHARD_BITS 4
#define SHARDS     (1u << SHARD_BITS)
#define PROBE      8 /* slots examined per lookup (neighbourhood) */

struct shard {
    pthread_mutex_t lock;
    struct auth_kt_slot *slots;
    char pad[64]; /* keeps neighbouring shards' locks off one cache line */
};

struct auth_keytable {
    auth_kt_worth_fn *worth;
    const void *owner;
    size_t shard_slots;
    unsigned char secret[32];
    struct shard shards[SHARDS];
};

int auth_kt_new(struct auth_keytable **out, size_t max_entries, auth_kt_worth_fn *worth,
                const void *owner, const char *what, char *err, size_t errlen)
{
    struct auth_keytable *kt;
    size_t total = AUTH_KT_MIN_ENTRIES;
    unsigned i;

    *out = NULL;
    while (total < max_entries && total < AUTH_KT_MAX_ENTRIES)
        total <<= 1;
    kt = calloc(1, sizeof(*kt));
    if (kt == NULL) {
        snprintf(err, errlen, "%s: out of memory", what);
        return -1;
    }
    kt->worth = worth;
    kt->owner = owner;
    kt->shard_slots = total / SHARDS;
    for (i = 0; i < SHARDS; i++)
        pthread_mutex_init(&kt->shards[i].lock, NULL);
    for (i = 0; i < SHARDS; i++) {
        kt->shards[i].slots = calloc(kt->shard_slots, sizeof(struct auth_kt_slot));
        if (kt->shards[i].slots == NULL) {
            snprintf(err, errlen, "%s: out of memory", what);
            goto fail;
        }
    }
    /* Keyed hash: with a secret key an attacker cannot choose keys that all
     * land in one neighbourhood (hash flooding) to evict a victim's slot.
     * A seeded FNV is not enough (its collisions do not depend on the
     * seed); HMAC-SHA-256 is a PRF, and a microsecond per login attempt is
     * nothing next to the argon2id it guards. */
    if (auth_rand_bytes(kt->secret, sizeof(kt->secret)) != 0) {
        snprintf(err, errlen, "%s: no randomness", what);
        goto fail;
    }
    *out = kt;
    return 0;
fail:
    auth_kt_free(kt);
    return -1;
}

void auth_kt_free(struct auth_keytable *kt)
{
    unsigned i;

    if (kt == NULL)
        return;
    for (i = 0; i < SHARDS; i++) {
        free(kt->shards[i].slots);
        pthread_mutex_destroy(&kt->shards[i].lock);
    }
    mbedtls_platform_zeroize(kt->secret, sizeof(kt->secret));
    free(kt);
}

size_t auth_kt_capacity(const struct auth_keytable *kt) { return kt->shard_slots * SHARDS; }

static uint64_t key_tag(const struct auth_keytable *kt, const void *key, size_t keylen)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    unsigned char mac[32];
    uint64_t tag = 0;
    unsigned i;

    /* On failure (never for SHA-256) every key shares tag 1: the owners then
     * count globally, failing closed rather than open. */
    if (md != NULL && mbedtls_md_hmac(md, kt->secret, sizeof(kt->secret), key, keylen, mac) == 0)
        for (i = 0; i < 8; i++)
            tag = tag << 8 | mac[i];
    return tag != 0 ? tag : 1;
}

/* Finds tag's slot in its neighbourhood, or (claim) takes an empty slot,
 * else the occupied one worth least, oldest first on ties. */
static struct auth_kt_slot *slot_find(const struct auth_keytable *kt, struct auth_kt_slot *slots,
                                      uint64_t tag, int64_t now, int claim, int *fresh)
{
    size_t mask = kt->shard_slots - 1, home = (size_t)tag & mask, i;
    struct auth_kt_slot *victim = NULL;
    int64_t victim_worth = 0;

    for (i = 0; i < PROBE; i++) {
        struct auth_kt_slot *s = &slots[(home + i) & mask];
        int64_t w;

        if (s->tag == tag)
            return s;
        if (s->tag == 0) { /* slots never empty again: key is not further */
            victim = s;
            break;
        }
        if (!claim)
            continue;
        w = kt->worth(s, now, kt->owner);
        if (victim == NULL || w < victim_worth || (w == victim_worth && s->at < victim->at)) {
            victim = s;
            victim_worth = w;
        }
    }
    if (!claim)
        return NULL;
    victim->tag = tag;
    victim->at = 0;
    victim->n = 0;
    *fresh = 1;
    return victim;
}

void auth_kt_lock(struct auth_keytable *kt, const void *key, size_t keylen, int64_t now, int mode,
                  struct auth_kt_ref *ref)
{
    uint64_t tag = key_tag(kt, key, keylen);
    struct shard *sh = &kt->shards[tag >> (64 - SHARD_BITS)];

    ref->fresh = 0;
    ref->shard = sh;
    pthread_mutex_lock(&sh->lock);
    ref->slot = slot_find(kt, sh->slots, tag, now, mode == AUTH_KT_CLAIM, &ref->fresh);
}

void auth_kt_unlock(struct auth_kt_ref *ref)
{
    struct shard *sh = ref->shard;

    ref->slot = NULL;
    pthread_mutex_unlock(&sh->lock);
}
