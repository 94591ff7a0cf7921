/* sessions.h: sessions per device. A session is one refresh-token family
 * (one login on one device) with when it began, when and from where it was
 * last used, and a shortened User-Agent. It is live while its family holds
 * a live refresh token (not revoked, not expired), so every way a family
 * ends (logout, reuse, revocations of all the user's tokens, expiry) ends
 * the session without a second record to keep in step.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_SESSIONS_H
#define PC_DB_SESSIONS_H

#include <stdint.h>

#include "db/db.h"

#define DB_SESSION_IP_MAX 64
#define DB_SESSION_UA_MAX 128

struct db_session {
    int64_t id;
    int64_t created_at;
    int64_t last_used_at;
    const char *ip;         /* NULL: unknown; valid during the callback only */
    const char *user_agent; /* NULL: none sent */
};

/* Non-zero return stops the listing (which still returns 0). */
typedef int (*db_session_cb)(void *arg, const struct db_session *s);

/* A new session for family; its id in *id (may be NULL). ip and ua may be
 * NULL; longer values are refused (DB_ERROR): callers shorten them. */
int db_session_create(struct db *db, int64_t user_id, const char *family, const char *ip,
                      const char *ua, int64_t now, int64_t *id);
/* Marks family's session used now from ip; its id in *id. DB_NOTFOUND if
 * the family has no session (a login from before sessions existed). */
int db_session_touch(struct db *db, const char *family, const char *ip, int64_t now, int64_t *id);
/* The user's live sessions, most recently used first. */
int db_session_list(struct db *db, int64_t user_id, int64_t now, db_session_cb cb, void *arg);
/* *live = 1 when session id belongs to user_id and is live at now. */
int db_session_live(struct db *db, int64_t id, int64_t user_id, int64_t now, int *live);
/* The family of the user's live session id (family[65]); DB_NOTFOUND when
 * there is none (another user's, ended, unknown). */
int db_session_family(struct db *db, int64_t id, int64_t user_id, int64_t now, char *family);

/* The id of family's session; DB_NOTFOUND if it has none. */
int db_session_id(struct db *db, const char *family, int64_t *id);

/* The scheduled purge: refresh tokens that expired, and every token of a
 * family with no live token left (logged out, revoked: nothing to detect
 * any more); then sessions without tokens. Rotated tokens of live families
 * stay until they expire, so their reuse is still recognised. *tokens and
 * *sessions (may be NULL) receive the rows deleted. */
int db_session_purge(struct db *db, int64_t now, int64_t *tokens, int64_t *sessions);

#endif
