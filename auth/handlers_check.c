/* handlers_check.c: GET /api/auth/check, the answer another server asks
 * before it lets a request through (nginx auth_request, Traefik
 * ForwardAuth). The token is checked by the same access check as every
 * token route (signature, claims, epoch, disabled accounts); this handler
 * only adds the role test and the identity headers. Nothing is read from
 * the database beyond what the access check reads, so it costs what
 * /api/me costs. */
#include <stdio.h>
#include <string.h>

#include "auth/handlers.h"
#include "auth/middleware.h"
#include "auth/request.h"

int auth_h_check(struct http_exchange *ex, void *arg)
{
    (void)arg;
    const struct auth_user_view *p = auth_principal(ex);
    char role[32], id[24];
    if (auth_req_query_word(ex, "role", role, sizeof role) != 0)
        return 0;
    if (role[0] != '\0' && strcmp(role, p->role) != 0) {
        http_resp_error(&ex->resp, 403, "forbidden", "the token's user does not have that role");
        return 0;
    }
    snprintf(id, sizeof id, "%lld", (long long)p->id);
    http_resp_bytes(&ex->resp, 204, NULL, HTTP_CONTENT_NONE, NULL, 0);
    http_resp_header(&ex->resp, "X-Portcullis-User-Id", id);
    http_resp_header(&ex->resp, "X-Portcullis-Username", p->username);
    http_resp_header(&ex->resp, "X-Portcullis-Role", p->role);
    http_resp_header(&ex->resp, "Cache-Control", "no-store");
    return 0;
}
