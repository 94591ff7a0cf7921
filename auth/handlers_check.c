/* handlers_check.c: GET /api/auth/check, the answer another server asks
 * before it lets a request through (nginx auth_request, Traefik
 * ForwardAuth). The token is checked by the same access check as every
 * token route (signature, claims, epoch, disabled accounts); this handler
 * only adds the role test and the identity headers. Nothing is read from
 * the database beyond what the access check reads, so it costs what
 * /api/me costs. Written on the public API alone (server/portcullis.h). */
#include <stdio.h>
#include <string.h>

#include "auth/handlers.h"

/* 1 when s is made of [a-z0-9_-] only. */
static int role_word(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

int auth_h_check(struct pc_req *req, void *arg)
{
    (void)arg;
    struct pc_user u;
    char role[32], id[24];
    int n = pc_query(req, "role", role, sizeof role);
    if (n == 0 || n == -2 || (n > 0 && !role_word(role))) {
        pc_error(req, 400, "bad_query", "query parameter 'role' must be 1 to 31 of [a-z0-9_-]");
        return PC_DONE;
    }
    if (pc_user(req, &u) != 0) {
        pc_error(req, 500, "internal", "no identity on a token route");
        return PC_DONE;
    }
    if (n > 0 && strcmp(role, u.role) != 0) {
        pc_error(req, 403, "forbidden", "the token's user does not have that role");
        return PC_DONE;
    }
    snprintf(id, sizeof id, "%lld", u.id);
    pc_json(req, 204, NULL);
    pc_header(req, "X-Portcullis-User-Id", id);
    pc_header(req, "X-Portcullis-Username", u.username);
    pc_header(req, "X-Portcullis-Role", u.role);
    pc_header(req, "Cache-Control", "no-store");
    return PC_DONE;
}
