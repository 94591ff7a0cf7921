/* handlers.h: the JSON API of DESIGN.md §7. Handlers are thin: parse and
 * validate on the loop, then either answer at once (reads) or hand the
 * work to the job pool (hashing, writes). arg = struct auth_ctx. */
#ifndef PC_AUTH_HANDLERS_H
#define PC_AUTH_HANDLERS_H

#include <jansson.h>

#include "db/users.h"
#include "server/http_msg.h"

/* handlers_session.c */
struct auth_limiter;
/* 429 rate_limited + Retry-After from a token bucket, on the loop, for
 * the NUL-terminated key. Returns 1 when limited (response set). */
int auth_limited(struct http_exchange *ex, struct auth_limiter *lim, const char *key);
int auth_h_register(struct http_exchange *ex, void *arg);
int auth_h_login(struct http_exchange *ex, void *arg);
int auth_h_refresh(struct http_exchange *ex, void *arg);
int auth_h_logout(struct http_exchange *ex, void *arg);
int auth_h_logout_all(struct http_exchange *ex, void *arg);

/* handlers_account.c */
int auth_h_me(struct http_exchange *ex, void *arg);
int auth_h_password(struct http_exchange *ex, void *arg);
int auth_h_jwks(struct http_exchange *ex, void *arg);

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
