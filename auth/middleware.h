/* middleware.h: Bearer token check for routes that declare AUTH_TOKEN or
 * AUTH_ADMIN, run by the server before the handler (server_hooks.
 * access_check). On success the exchange carries an auth_principal. */
#ifndef PC_AUTH_MIDDLEWARE_H
#define PC_AUTH_MIDDLEWARE_H

#include <stdint.h>

#include "auth/userstate.h"
#include "db/db.h"
#include "server/gateway.h"
#include "server/http_msg.h"

struct auth_ctx;
struct auth_token_cache;

/* What each event loop owns (ex->loop_data). */
struct auth_loop {
    struct auth_ctx *ctx;
    struct db *db;
    struct auth_token_cache *tokens; /* verdicts of this loop, see token_cache.h */
};

/* The principal of a request is the account behind its token, checked for
 * this very request (so handlers like /api/me need no database read). */

/* Returns 0 (principal attached) or non-zero with ex->resp set:
 * 401 + WWW-Authenticate for a missing or invalid token (bad signature, wrong
 * alg, expired, unknown or disabled user, epoch older than the user's),
 * 403 for a valid token without the role. arg = struct auth_ctx. */
int auth_access_check(struct http_exchange *ex, int access, void *arg);

/* The router integer of a public API access rule (server/portcullis.h):
 * "public", "token", "role:admin", "role:user" (the roles the user store
 * knows); -1 for anything else. */
int auth_access_parse(const char *rule);
/* The access level of a gateway route's rule: "token" (any user),
 * "role:admin", "role:user" (exactly that role, as /api/auth/check?role=);
 * -1 for anything else. arg unused. */
int auth_access_level(const char *rule, void *arg);
/* The identity of an authenticated exchange for an upstream: 0, or -1 on a
 * public route. */
int auth_identity(const struct http_exchange *ex, struct gateway_identity *out, void *arg);

/* The token of "Authorization: Bearer <token>" (scheme case-insensitive,
 * spaces before the token skipped), copied NUL-terminated into out.
 * Returns 0; -1 when there is no Bearer token (no header, another scheme,
 * nothing after the scheme); -2 when it does not fit in outlen, which makes
 * it an invalid token rather than a missing one (RFC 6750 §3.1). */
int auth_bearer_token(const struct http_request *req, char *out, size_t outlen);

/* The principal of an authenticated exchange (NULL on public routes). */
const struct auth_user_view *auth_principal(const struct http_exchange *ex);

#endif
