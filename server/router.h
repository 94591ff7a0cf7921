/* router.h: a table of {method, pattern, handler, access, arg}.
 *
 * Patterns are absolute paths whose segments are literals or ":name"
 * parameters ("/api/admin/users/:id"); a parameter matches exactly one
 * non-empty segment. Matching is exact (no prefix match, a trailing slash
 * matters). HEAD is served by GET routes. The router knows nothing of users:
 * `access` is an opaque integer the composition root gives meaning to
 * (public / token / role) through the access-check callback of the server. */
#ifndef PC_ROUTER_H
#define PC_ROUTER_H

#include <stddef.h>

#include "server/portcullis.h"
#include "server/str.h"

#define ROUTE_MAX_PARAMS   4
#define ROUTE_MAX_SEGMENTS 16

/* The public handler type (server/portcullis.h): every route, the built-in
 * API's included, is a pc_handler. Returns PC_DONE (0) when the answer is
 * set, PC_LATER (1) when a pool job will complete the exchange later on
 * the owning loop. */
typedef pc_handler route_handler;

struct route {
    char *method; /* owned copies */
    char *pattern;
    route_handler handler;
    int access;
    void *arg;
    int nseg; /* segments of pattern: most routes skip on this */
};

struct route_params {
    size_t n;
    struct {
        struct str name;  /* points into the route's pattern */
        struct str value; /* points into the request path (raw, not decoded) */
    } p[ROUTE_MAX_PARAMS];
};

struct router {
    struct route *routes;
    size_t n, cap;
};

void router_init(struct router *r);
/* Returns 0, or -1 when the pattern is invalid (not starting with '/',
 * empty parameter name, too many parameters/segments), the method is not a
 * token, the same method+pattern is already present, or memory ran out. */
int router_add(struct router *r, const char *method, const char *pattern, route_handler handler,
               int access, void *arg);
void router_free(struct router *r);

/* Finds the route for method + path.
 * Returns 0 (found: *out and *params set), 404 (no pattern matches the path),
 * or 405 (some pattern matches the path, not with this method). For 404 and
 * 405, allow[] receives the methods the path does accept, comma-separated
 * ("GET, HEAD, POST"; HEAD listed whenever GET is; empty for 404). */
int router_match(const struct router *r, struct str method, struct str path,
                 const struct route **out, struct route_params *params, char *allow,
                 size_t allowlen);

/* Value of parameter `name`, or an empty slice with p == NULL. */
struct str route_param(const struct route_params *params, const char *name);

#endif
