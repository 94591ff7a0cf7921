/* purge.h: the scheduled clean-up of rows nothing needs any more: dead
 * refresh tokens and their sessions (db/sessions.h: expired tokens, and
 * families with no live token left), expired mfa tokens, spent or expired
 * reset tokens, failed sign-ins past their decay. One thread with its own
 * database connection runs it at start and then every interval_s seconds;
 * nothing else waits for it. */
#ifndef PC_AUTH_PURGE_H
#define PC_AUTH_PURGE_H

#include <stddef.h>

#include "auth/auth.h"

struct auth_purge;

/* Starts the thread. 0, or -1 with err (no thread). */
int auth_purge_start(struct auth_purge **out, const struct auth_settings *set, int interval_s,
                     char *err, size_t errlen);
/* Wakes it, waits for it to finish its current pass and frees. NULL ok. */
void auth_purge_stop(struct auth_purge *p);

/* One pass on db at now (what the thread runs; for tests). 0 or DB_*. */
struct db;
int auth_purge_once(struct db *db, const struct auth_settings *set, long long now);

#endif
