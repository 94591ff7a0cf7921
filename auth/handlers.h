/* handlers.h: the JSON API (docs/ARCHITECTURE.md, JSON API). Handlers are thin: parse and
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
int auth_h_register(struct pc_req *req, void *arg);
int auth_h_login(struct pc_req *req, void *arg);
int auth_h_refresh(struct pc_req *req, void *arg);
int auth_h_logout(struct pc_req *req, void *arg);
int auth_h_logout_all(struct pc_req *req, void *arg);
int auth_h_token_logout(struct pc_req *req, void *arg);

struct auth_job;
struct db;
/* 200 {access_token, token_type, expires_in, refresh_token} (+ the cookie
 * in cookie mode), from a job that has stored the refresh token of session
 * sid (named in the access token). */
void auth_token_response(struct auth_job *j, int64_t uid, const char *role, int64_t epoch,
                         int64_t sid, const char *refresh, int64_t now);

/* handlers_mfa.c */
int auth_h_totp_setup(struct pc_req *req, void *arg);
int auth_h_totp_enable(struct pc_req *req, void *arg);
int auth_h_totp_disable(struct pc_req *req, void *arg);
int auth_h_login_mfa(struct pc_req *req, void *arg);
/* From a login job whose password was right: when u has two-factor on,
 * answers 200 {mfa_required, mfa_token, expires_in} and returns 1; 0 when
 * it is off (carry on with the tokens); -1 after answering an error. */
int auth_mfa_login_step(struct auth_job *j, struct db *db, const struct db_user *u, int64_t now);

/* handlers_reset.c */
#define AUTH_RESET_TTL_S 1800 /* a reset token lasts 30 minutes */
int auth_h_admin_password_reset(struct pc_req *req, void *arg);
int auth_h_password_reset(struct pc_req *req, void *arg);
/* Issues a reset token for the user (minted into token, stored hashed,
 * audited with actor: an admin's id, 0 for the CLI), in the caller's
 * transaction. 0 or a DB_* code. */
int auth_reset_issue(struct db *db, int64_t user_id, const char *username, int64_t actor,
                     const char *ip, char token[44]);

/* handlers_sessions.c */
int auth_h_sessions(struct pc_req *req, void *arg);
int auth_h_session_end(struct pc_req *req, void *arg);

/* handlers_account.c */
int auth_h_me(struct pc_req *req, void *arg);
int auth_h_password(struct pc_req *req, void *arg);
int auth_h_jwks(struct pc_req *req, void *arg);
/* GET /api/auth/check[?role=NAME]: 204 with the identity headers, or 401/403. */
int auth_h_check(struct pc_req *req, void *arg);

/* handlers_admin.c */
int auth_h_admin_list(struct pc_req *req, void *arg);
int auth_h_admin_patch(struct pc_req *req, void *arg);
int auth_h_admin_delete(struct pc_req *req, void *arg);
int auth_h_admin_audit(struct pc_req *req, void *arg);
int auth_h_admin_mfa_reset(struct pc_req *req, void *arg);
/* The :id of an admin route, or 0 with a 404 set. */
int64_t auth_target_id(struct http_exchange *ex);

/* Public view of a user: {id, username, role, disabled, created_at}
 * (+ failed_logins, locked_until when admin_view). */
json_t *auth_user_json(const struct db_user *u, int admin_view);
/* "2026-11-23T23:42:13Z" into out[32]. */
void auth_time_text(int64_t t, char out[32]);

#endif
