/* guard.c: see guard.h. */
#include "auth/guard.h"

#include <ctype.h>
#include <string.h>

#include "db/failures.h"

void auth_guard_key(char key[65], const char *name)
{
    size_t i;
    for (i = 0; i < 64 && name[i]; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[i] = '\0';
}

int64_t auth_guard_lock_len(const struct auth_guard *g, int64_t n)
{
    int64_t len = g->base_s;
    if (n < g->threshold)
        return 0;
    for (int64_t e = n - g->threshold; e > 0 && len < g->max_s; e--)
        len *= 2;
    return len < g->max_s ? len : g->max_s;
}

/* Seconds of lock left at now for a record (n, at). Capped at the lock's
 * length so a clock behind the failure time cannot lengthen it. */
static int64_t lock_left(const struct auth_guard *g, int64_t n, int64_t at, int64_t now)
{
    if (n < g->threshold || now - at > g->max_s)
        return 0;
    int64_t len = auth_guard_lock_len(g, n), left = at + len - now;
    return left <= 0 ? 0 : left < len ? left : len;
}

int auth_guard_state(const struct auth_guard *g, struct db *db, const char *name, int64_t now,
                     int64_t *failures, int64_t *locked_until)
{
    char key[65];
    int64_t n = 0, at = 0;
    auth_guard_key(key, name);
    int rc = db_failure_get(db, key, &n, &at);
    if (rc != 0)
        return rc;
    if (now - at > g->max_s)
        n = 0;
    int64_t left = lock_left(g, n, at, now);
    *failures = n;
    *locked_until = left > 0 ? now + left : 0;
    return 0;
}

int auth_guard_check(const struct auth_guard *g, struct db *db, const char *name, int64_t now)
{
    int64_t n = 0, until = 0;
    int rc = auth_guard_state(g, db, name, now, &n, &until);
    if (rc != 0)
        return rc;
    return until > now ? (int)(until - now) : 0; /* <= max_s, an int */
}

int auth_guard_fail(const struct auth_guard *g, struct db *db, const char *name, int64_t now)
{
    char key[65];
    int64_t n = 0, at = 0;
    auth_guard_key(key, name);
    int rc = db_failure_add(db, key, now, g->max_s, &n, &at);
    if (rc != 0)
        return rc;
    return (int)lock_left(g, n, at, now);
}

int auth_guard_clear(struct db *db, const char *name)
{
    char key[65];
    auth_guard_key(key, name);
    return db_failure_clear(db, key);
}
