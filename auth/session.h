/* session.h: starting and continuing sessions (db/sessions.h) from pool
 * jobs: one refresh-token family per sign-in on a device, touched on every
 * refresh, named by the access tokens issued for it ("sid"). */
#ifndef PC_AUTH_SESSION_H
#define PC_AUTH_SESSION_H

#include <stdint.h>

#include "auth/jobs.h"
#include "db/db.h"

/* In the open transaction: a new family with its first refresh token
 * (minted into refresh) and the session row (j->ip, j->user_agent); the
 * session id in *sid. 0 or a DB_* code. */
int auth_session_start(struct auth_job *j, struct db *db, int64_t uid, int64_t now,
                       char refresh[AUTH_REFRESH_TOKEN_LEN + 1], int64_t *sid);

/* In the open transaction, after a rotation of family: marks the session
 * used now from j->ip (creating it for a family from before sessions
 * existed); its id in *sid. 0 or a DB_* code. */
int auth_session_touch(struct auth_job *j, struct db *db, int64_t uid, const char *family,
                       int64_t now, int64_t *sid);

/* After family was revoked (committed): its access tokens are refused at
 * once, whatever the middleware cached (auth.h: ctx->sessions). */
void auth_session_forget(struct auth_job *j, struct db *db, const char *family);

#endif
