/* userstate.c: see userstate.h. A direct-mapped table under sharded
 * mutexes: lookups hold a lock for a copy of ~100 bytes. */
#include "auth/userstate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 16

struct entry {
    struct auth_user_view v; /* v.id == 0: empty */
    uint64_t fetched_ms;
};

struct auth_userstate {
    unsigned mask;
    int ttl_ms;
    _Atomic uint64_t gen; /* bumped by every forget */
    pthread_mutex_t locks[SHARDS];
    struct entry e[];
};

struct auth_userstate *auth_userstate_new(unsigned entries, int ttl_ms)
{
    unsigned n = 64;
    while (n < entries && n < (1u << 22))
        n <<= 1;
    struct auth_userstate *us = calloc(1, sizeof *us + n * sizeof(struct entry));
    if (us == NULL)
        return NULL;
    us->mask = n - 1;
    us->ttl_ms = ttl_ms;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&us->locks[i], NULL);
    return us;
}

void auth_userstate_free(struct auth_userstate *us)
{
    if (us == NULL)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&us->locks[i]);
    free(us);
}

static unsigned slot_of(const struct auth_userstate *us, int64_t id)
{
    return (unsigned)((uint64_t)id * 0x9E3779B97F4A7C15u >> 40) & us->mask;
}

static pthread_mutex_t *lock_of(struct auth_userstate *us, unsigned slot)
{
    return &us->locks[slot % SHARDS];
}

int auth_userstate_get(struct auth_userstate *us, int64_t id, uint64_t now_ms,
                       struct auth_user_view *out, uint64_t *gen)
{
    /* Read the generation first: a forget after this point voids the put. */
    *gen = atomic_load(&us->gen);
    if (us->ttl_ms <= 0)
        return -1;
    unsigned s = slot_of(us, id);
    int hit = 0;
    pthread_mutex_lock(lock_of(us, s));
    const struct entry *e = &us->e[s];
    if (e->v.id == id && now_ms - e->fetched_ms < (uint64_t)us->ttl_ms) {
        *out = e->v;
        hit = 1;
    }
    pthread_mutex_unlock(lock_of(us, s));
    return hit ? 0 : -1;
}

void auth_userstate_put(struct auth_userstate *us, const struct auth_user_view *v, uint64_t now_ms,
                        uint64_t gen)
{
    if (us->ttl_ms <= 0)
        return;
    unsigned s = slot_of(us, v->id);
    pthread_mutex_lock(lock_of(us, s));
    /* Checked under the lock that forget also takes for this slot. */
    if (atomic_load(&us->gen) == gen) {
        us->e[s].v = *v;
        us->e[s].fetched_ms = now_ms;
    }
    pthread_mutex_unlock(lock_of(us, s));
}

void auth_userstate_forget(struct auth_userstate *us, int64_t id)
{
    unsigned s = slot_of(us, id);
    pthread_mutex_lock(lock_of(us, s));
    atomic_fetch_add(&us->gen, 1);
    if (us->e[s].v.id == id)
        memset(&us->e[s], 0, sizeof us->e[s]);
    pthread_mutex_unlock(lock_of(us, s));
}

void auth_userstate_forget_all(struct auth_userstate *us)
{
    for (unsigned s = 0; s < SHARDS; s++) {
        pthread_mutex_lock(&us->locks[s]);
        atomic_fetch_add(&us->gen, 1);
        for (unsigned i = s; i <= us->mask; i += SHARDS)
            memset(&us->e[i], 0, sizeof us->e[i]);
        pthread_mutex_unlock(&us->locks[s]);
    }
}
