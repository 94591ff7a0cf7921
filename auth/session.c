/* session.c: see session.h. */
#include "auth/session.h"

#include "auth/auth.h"
#include "db/sessions.h"
#include "db/tokens.h"

int auth_session_start(struct auth_job *j, struct db *db, int64_t uid, int64_t now,
                       char refresh[AUTH_REFRESH_TOKEN_LEN + 1], int64_t *sid)
{
    char family[AUTH_REFRESH_FAMILY_LEN + 1];
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    if (auth_refresh_mint(refresh, hash) != 0 || auth_refresh_family_id(family) != 0)
        return DB_ERROR;
    int rc = db_refresh_insert(db, uid, family, hash, now + j->ctx->cfg.auth->refresh_ttl_s, now,
                               NULL);
    if (rc == 0)
        rc = db_session_create(db, uid, family, j->ip[0] ? j->ip : NULL,
                               j->user_agent[0] ? j->user_agent : NULL, now, sid);
    return rc;
}

int auth_session_touch(struct auth_job *j, struct db *db, int64_t uid, const char *family,
                       int64_t now, int64_t *sid)
{
    int rc = db_session_touch(db, family, j->ip[0] ? j->ip : NULL, now, sid);
    if (rc == DB_NOTFOUND)
        rc = db_session_create(db, uid, family, j->ip[0] ? j->ip : NULL,
                               j->user_agent[0] ? j->user_agent : NULL, now, sid);
    return rc;
}

void auth_session_forget(struct auth_job *j, struct db *db, const char *family)
{
    int64_t sid = 0;
    if (db_session_id(db, family, &sid) == 0)
        auth_userstate_forget(j->ctx->sessions, sid);
}
