/* userstate.h: a process-wide cache of what the token middleware needs to
 * know about an account (epoch, disabled, role, name), so an authenticated
 * request usually costs no database read.
 *
 * Freshness: every change this process makes to an account (password
 * change, logout-all, disable, role change, delete) calls
 * auth_userstate_forget after its commit, so the API's own revocations take
 * effect at once on every thread. Changes made by another process (the
 * `portcullis user` CLI, another instance) are seen once the entry is older
 * than ttl_ms, or at once on a PostgreSQL store, whose announcements
 * (listen.h) forget the entry.
 * A reader that raced with a writer never stores what it read (generation
 * check), so a forgotten entry cannot come back stale. */
#ifndef PC_AUTH_USERSTATE_H
#define PC_AUTH_USERSTATE_H

#include <stdint.h>

struct auth_user_view {
    int64_t id;
    int64_t epoch;
    int64_t created_at;
    int disabled;
    int mfa; /* two-factor on (for /api/me) */
    char role[8];
    char username[65];
    int64_t sid; /* the request's session, set per request by the middleware */
};

struct auth_userstate;

/* ttl_ms 0 disables the cache (every lookup misses). */
struct auth_userstate *auth_userstate_new(unsigned entries, int ttl_ms);
void auth_userstate_free(struct auth_userstate *us); /* NULL ok */

/* 0 and *out filled on a fresh hit; -1 on a miss, with *gen set: read the
 * database, then pass gen to auth_userstate_put. now_ms: monotonic. */
int auth_userstate_get(struct auth_userstate *us, int64_t id, uint64_t now_ms,
                       struct auth_user_view *out, uint64_t *gen);
void auth_userstate_put(struct auth_userstate *us, const struct auth_user_view *v, uint64_t now_ms,
                        uint64_t gen);
/* After committing a change to account id. */
void auth_userstate_forget(struct auth_userstate *us, int64_t id);
/* Every entry (changes may have been missed, see listen.h). */
void auth_userstate_forget_all(struct auth_userstate *us);

#endif
