/* limits.h: token-bucket rate limiting keyed by client IP or username.
 *
 * Each key owns a bucket of `burst` tokens refilled at `rate_per_minute`;
 * a request takes one token or is refused with the seconds until the next
 * token (the 429's Retry-After).
 *
 * Memory is fixed at creation: a hash table of at most max_entries
 * fixed-size slots (keys are stored only as a 64-bit keyed hash), so an
 * attacker rotating source addresses or usernames cannot grow it. When a
 * key's neighbourhood is full, a slot whose bucket has refilled completely
 * is reused first (forgetting it changes nothing), else the one refilled
 * least recently.
 *
 * Thread-safe: the table is split into shards with a mutex each, so event
 * loop threads rarely contend. The table itself (keyed hashing, shards,
 * eviction) is auth/keytable.h. */
#ifndef PC_AUTH_LIMITS_H
#define PC_AUTH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_LIMITED (-1) /* no token: answer 429 with Retry-After */

struct auth_limiter;

/* Creates a limiter. rate_per_minute and burst are 1..1000000; max_entries is
 * rounded up to a power of two, at least 256, at most 1 << 20.
 * Returns 0, or -1 with a message in err. */
int auth_limiter_new(struct auth_limiter **out, uint32_t rate_per_minute, uint32_t burst,
                     size_t max_entries, char *err, size_t errlen);

void auth_limiter_free(struct auth_limiter *lim); /* NULL ok */

/* Takes one token from key's bucket at time now_ms (a monotonic clock in
 * milliseconds; callers pass the loop's cached time). key is any bytes
 * (an IP in binary form, a lower-cased username); keylen may be 0.
 * Returns 0 if allowed, or AUTH_LIMITED with *retry_after_s >= 1 set to the
 * whole seconds until a token is available (retry_after_s may be NULL). */
int auth_limiter_take(struct auth_limiter *lim, const void *key, size_t keylen, int64_t now_ms,
                      int *retry_after_s);

/* New rate and burst from now on, for every key (a config reload); a
 * bucket above the new burst is cut down to it. Any thread. 0, or -1 when
 * out of range (nothing changed). */
int auth_limiter_set(struct auth_limiter *lim, uint32_t rate_per_minute, uint32_t burst);

/* Number of slots in the table (what max_entries was rounded to). */
size_t auth_limiter_capacity(const struct auth_limiter *lim);

#endif
