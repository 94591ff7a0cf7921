/* lockout.c: failed-login backoff on the shared key table (keytable.h).
 *
 * A slot's `n` counts failures and `at` is the last failure (Unix s). The
 * lock is not stored: it ends at at + lock_len(n), so one failure updates
 * one slot and nothing needs expiring. */
#include "auth/lockout.h"

#include <stdio.h>
#include <stdlib.h>

#include "auth/keytable.h"

/* Times are clamped to 0..2^62 s so that no sum or difference of two of
 * them, or of one and a lock length, can overflow whatever a caller passes. */
#define TIME_MAX ((int64_t)1 << 62)

struct auth_lockout {
    int64_t threshold;
    int64_t base_s;
    int64_t max_s;
    struct auth_keytable *kt;
};

static int64_t clamp_time(int64_t t) { return t < 0 ? 0 : t > TIME_MAX ? TIME_MAX : t; }

/* min(max_s, base_s * 2^(n - threshold)) for n >= threshold. */
static int64_t lock_len(const struct auth_lockout *lo, int64_t n)
{
    int64_t len = lo->base_s, e;

    for (e = n - lo->threshold; e > 0 && len < lo->max_s; e--)
        len *= 2;
    return len < lo->max_s ? len : lo->max_s;
}

/* Failures that still count at now: after max_s without one, the count
 * starts afresh (a lock never outlasts max_s, so none is cut short). */
static int64_t failures_at(const struct auth_lockout *lo, const struct auth_kt_slot *s, int64_t now)
{
    return s->n > 0 && now - s->at <= lo->max_s ? s->n : 0;
}

/* Seconds of lock left at now, 0 if none. Capped at the lock's length so a
 * clock behind the failure time (threads, a stepped clock) cannot lengthen it. */
static int64_t lock_left(const struct auth_lockout *lo, const struct auth_kt_slot *s, int64_t now)
{
    int64_t n = failures_at(lo, s, now), len, left;

    if (n < lo->threshold)
        return 0;
    len = lock_len(lo, n);
    left = s->at + len - now;
    return left <= 0 ? 0 : left < len ? left : len;
}

/* Eviction keeps locks: every unlocked slot (worth 0, the oldest failure
 * going first) is reused before a locked one, and among locked slots the
 * lock ending soonest goes first. So keys that are not themselves locked,
 * however many, never evict a lock; see tests/test_lockout.c for the bound. */
static int64_t lock_worth(const struct auth_kt_slot *s, int64_t now, const void *owner)
{
    return lock_left(owner, s, now);
}

int auth_lockout_new(struct auth_lockout **out, int threshold, int base_s, int max_s,
                     size_t max_entries, char *err, size_t errlen)
{
    struct auth_lockout *lo;

    *out = NULL;
    if (threshold < 1 || base_s < 1 || max_s < base_s) {
        snprintf(err, errlen,
                 "lockout: need threshold >= 1 and 1 <= base_s <= max_s "
                 "(got %d, %d, %d)",
                 threshold, base_s, max_s);
        return -1;
    }
    lo = calloc(1, sizeof(*lo));
    if (lo == NULL) {
        snprintf(err, errlen, "lockout: out of memory");
        return -1;
    }
    lo->threshold = threshold;
    lo->base_s = base_s;
    lo->max_s = max_s;
    if (auth_kt_new(&lo->kt, max_entries, lock_worth, lo, "lockout", err, errlen) != 0) {
        free(lo);
        return -1;
    }
    *out = lo;
    return 0;
}

void auth_lockout_free(struct auth_lockout *lo)
{
    if (lo == NULL)
        return;
    auth_kt_free(lo->kt);
    free(lo);
}

int auth_lockout_check(struct auth_lockout *lo, const void *key, size_t keylen, int64_t now_s)
{
    struct auth_kt_ref ref;
    int64_t now = clamp_time(now_s), left = 0;

    /* Looking only: a check must not claim a slot, or a flood of logins
     * for names that never fail could evict the slots that matter. */
    auth_kt_lock(lo->kt, key, keylen, now, AUTH_KT_FIND, &ref);
    if (ref.slot != NULL)
        left = lock_left(lo, ref.slot, now);
    auth_kt_unlock(&ref);
    return (int)left; /* <= max_s, an int */
}

int auth_lockout_fail(struct auth_lockout *lo, const void *key, size_t keylen, int64_t now_s)
{
    struct auth_kt_ref ref;
    struct auth_kt_slot *s;
    int64_t now = clamp_time(now_s), left;

    auth_kt_lock(lo->kt, key, keylen, now, AUTH_KT_CLAIM, &ref);
    s = ref.slot;
    if (failures_at(lo, s, now) == 0)
        s->n = 0;
    /* Past threshold + 62 the lock is max_s whatever the count (base_s >= 1
     * and max_s < 2^31), so saturating there loses nothing. */
    if (s->n < lo->threshold + 62)
        s->n++;
    if (now > s->at)
        s->at = now;
    left = lock_left(lo, s, now);
    auth_kt_unlock(&ref);
    return (int)left;
}

void auth_lockout_clear(struct auth_lockout *lo, const void *key, size_t keylen)
{
    struct auth_kt_ref ref;

    /* The slot stays (keytable.h: slots never empty again) with no
     * failures and the oldest possible time, so it is the first reused. */
    auth_kt_lock(lo->kt, key, keylen, 0, AUTH_KT_FIND, &ref);
    if (ref.slot != NULL) {
        ref.slot->n = 0;
        ref.slot->at = 0;
    }
    auth_kt_unlock(&ref);
}
