/* limits.c: token buckets on the shared key table (keytable.h). */
#include "auth/limits.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth/keytable.h"

#define MAX_RATE 1000000u /* keeps all the unit arithmetic in int64 */

/* Tokens are counted in 1/60000ths so that refilling `rate` tokens per
 * minute is exactly `rate` units per millisecond: integer math, no drift.
 * A slot's `at` is the time of the last refill (ms), `n` the units then. */
#define UNITS_PER_TOKEN 60000

struct auth_limiter {
    /* Changed by auth_limiter_set (a config reload) while threads take
     * tokens: each use loads both once; a take that sees one new and one
     * old value is as fair as either. */
    _Atomic int64_t rate; /* units per ms == tokens per minute */
    _Atomic int64_t cap;  /* burst * UNITS_PER_TOKEN */
    struct auth_keytable *kt;
};

struct bucket_law {
    int64_t rate, cap;
};

static struct bucket_law law_of(const struct auth_limiter *lim)
{
    return (struct bucket_law){ atomic_load_explicit(&lim->rate, memory_order_relaxed),
                                atomic_load_explicit(&lim->cap, memory_order_relaxed) };
}

/* Units the bucket holds at now (never moves `at` backwards: threads may
 * pass slightly different cached clocks). */
static int64_t units_at(struct bucket_law l, const struct auth_kt_slot *s, int64_t now)
{
    int64_t elapsed = now - s->at;
    int64_t to_full;

    if (elapsed <= 0)
        return s->n < l.cap ? s->n : l.cap;
    to_full = (l.cap - s->n + l.rate - 1) / l.rate;
    return elapsed >= to_full ? l.cap : s->n + elapsed * l.rate;
}

/* Forgetting a bucket grants it a full refill, so the fuller it already is
 * the less is given away: the fullest bucket is worth least, and a drained,
 * hammered bucket is the last to go. */
static int64_t bucket_worth(const struct auth_kt_slot *s, int64_t now, const void *owner)
{
    return -units_at(law_of(owner), s, now);
}

int auth_limiter_new(struct auth_limiter **out, uint32_t rate_per_minute, uint32_t burst,
                     size_t max_entries, char *err, size_t errlen)
{
    struct auth_limiter *lim;

    *out = NULL;
    if (rate_per_minute < 1 || rate_per_minute > MAX_RATE || burst < 1 || burst > MAX_RATE) {
        snprintf(err, errlen, "rate limit: rate and burst must be 1..%u", MAX_RATE);
        return -1;
    }
    lim = calloc(1, sizeof(*lim));
    if (lim == NULL) {
        snprintf(err, errlen, "rate limit: out of memory");
        return -1;
    }
    atomic_init(&lim->rate, (int64_t)rate_per_minute);
    atomic_init(&lim->cap, (int64_t)burst * UNITS_PER_TOKEN);
    if (auth_kt_new(&lim->kt, max_entries, bucket_worth, lim, "rate limit", err, errlen) != 0) {
        free(lim);
        return -1;
    }
    *out = lim;
    return 0;
}

void auth_limiter_free(struct auth_limiter *lim)
{
    if (lim == NULL)
        return;
    auth_kt_free(lim->kt);
    free(lim);
}

int auth_limiter_set(struct auth_limiter *lim, uint32_t rate_per_minute, uint32_t burst)
{
    if (rate_per_minute < 1 || rate_per_minute > MAX_RATE || burst < 1 || burst > MAX_RATE)
        return -1;
    atomic_store_explicit(&lim->rate, (int64_t)rate_per_minute, memory_order_relaxed);
    atomic_store_explicit(&lim->cap, (int64_t)burst * UNITS_PER_TOKEN, memory_order_relaxed);
    return 0;
}

size_t auth_limiter_capacity(const struct auth_limiter *lim) { return auth_kt_capacity(lim->kt); }

int auth_limiter_take(struct auth_limiter *lim, const void *key, size_t keylen, int64_t now_ms,
                      int *retry_after_s)
{
    struct auth_kt_ref ref;
    struct auth_kt_slot *s;
    int64_t wait_ms;
    int rc = 0;

    struct bucket_law l = law_of(lim);
    auth_kt_lock(lim->kt, key, keylen, now_ms, AUTH_KT_CLAIM, &ref);
    s = ref.slot;
    if (ref.fresh) {
        s->at = now_ms;
        s->n = l.cap;
    }
    s->n = units_at(l, s, now_ms);
    if (now_ms > s->at)
        s->at = now_ms;
    if (s->n >= UNITS_PER_TOKEN) {
        s->n -= UNITS_PER_TOKEN;
    } else {
        rc = AUTH_LIMITED;
        wait_ms = (UNITS_PER_TOKEN - s->n + l.rate - 1) / l.rate;
        if (retry_after_s != NULL)
            *retry_after_s = (int)((wait_ms + 999) / 1000); /* >= 1: wait_ms >= 1 */
    }
    auth_kt_unlock(&ref);
    return rc;
}
