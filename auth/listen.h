/* listen.h: instant revocation across instances on a PostgreSQL store. One
 * thread with its own connection receives the store's announcements
 * (db/notify.h) and drops the matching entries of this process's caches of
 * account state and session liveness (userstate.h), so a logout-all,
 * password change, disable, role change or session end made by another
 * instance, or by the `portcullis user` CLI, is refused here at once rather
 * than after auth.user_cache_ms. After a lost connection it forgets both
 * caches whole (announcements may have been missed). On SQLite there is no
 * other instance: nothing is started. */
#ifndef PC_AUTH_LISTEN_H
#define PC_AUTH_LISTEN_H

#include <stddef.h>

#include "auth/auth.h"

struct auth_listen;

/* Starts the thread when the store is PostgreSQL (*out NULL otherwise).
 * The caches must outlive it. 0, or -1 with err. */
int auth_listen_start(struct auth_listen **out, const struct auth_settings *set,
                      struct auth_userstate *users, struct auth_userstate *sessions, char *err,
                      size_t errlen);

/* Stops and joins the thread (within a quarter second), frees. NULL ok. */
void auth_listen_stop(struct auth_listen *l);

#endif
