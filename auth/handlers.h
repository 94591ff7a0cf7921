/* handlers.h: the JSON API (docs/ARCHITECTURE.md, JSON API). Handlers are thin: parse and
 * validate on the loop, then either answer at once (reads) or hand the
 * work to the job pool (hashing, writes). arg = struct auth_ctx. */
#ifndef PC_AUTH_HANDLERS_H
#define PC_AUTH_HANDLERS_H

#include <jansson.h>

#include "db/users.h"
#include "server/http_msg.h"

/* handlers_session.c */
int auth_h_register(struct http_exchange *ex, void *arg);
int auth_h_login(struct http_exchange *ex, void *arg);
int auth_h_refresh(struct http_exchange *ex, void *arg);
int auth_h_logout(struct http_exchange *ex, void *arg);
int auth_h_logout_all(struct http_exchange *ex, void *arg);

/* handlers_account.c */
int auth_h_me(struct http_exchange *ex, void *arg);
int auth_h_password(struct http_exchange *ex, void *arg);
int auth_h_jwks(struct http_exchange *ex, void *arg);
/* GET /api/auth/check[?role=NAME]: 204 with the identity headers, or 401/403. */
int auth_h_check(struct http_exchange *ex, void *arg);

/* handlers_admin.c */
int auth_h_admin_list(struct http_exchange *ex, void *arg);
int auth_h_admin_patch(struct http_exchange *ex, void *arg);
int auth_h_admin_delete(struct http_exchange *ex, void *arg);
int auth_h_admin_audit(struct http_exchange *ex, void *arg);

/* Public view of a user: {id, username, role, disabled, created_at}
 * (+ failed_logins, locked_until when admin_view). */
json_t *auth_user_json(const struct db_user *u, int admin_view);
/* "2026-11-23T23:42:13Z" into out[32]. */
void auth_time_text(int64_t t, char out[32]);

#endif
