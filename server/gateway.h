/* gateway.h: path prefixes forwarded to upstream HTTP services (config
 * gateway.routes; docs/ARCHITECTURE.md, Gateway), internal to server/.
 *
 * The table (struct gateway) is built once at start and read-only after;
 * each event loop has its own upstream connections (struct gateway_loop),
 * used only on that loop's thread. The dispatcher matches a request's path,
 * runs the route's access check like any route's, then hands the exchange
 * to gateway_forward, which answers it later: an error through
 * http_exchange_complete, or the upstream's answer streamed through
 * http_stream_* (http_msg.h). */
#ifndef PC_GATEWAY_H
#define PC_GATEWAY_H

#include <stddef.h>

#include "server/config.h"
#include "server/http_msg.h"
#include "server/loop.h"
#include "server/str.h"

/* The authenticated user of an exchange, as the upstream is told. */
struct gateway_identity {
    char user_id[24];
    char username[72];
    char role[16];
};

/* From the composition root (server_hooks): what the server does not know. */
struct gateway_hooks {
    /* The router access level for an access rule ("public", "token",
     * "role:NAME"); -1 when unknown. */
    int (*access_level)(const char *rule, void *arg);
    /* Fills *out for an exchange the access check let through; 0, or -1
     * when it carries no user (public routes). */
    int (*identity)(const struct http_exchange *ex, struct gateway_identity *out, void *arg);
    void *arg;
};

struct gateway;
struct gateway_route;
struct gateway_loop;

/* Builds the table: access levels through hooks, upstream addresses
 * resolved now. cfg must be validated (config_validate). *out is NULL when
 * there are no routes. 0, or -1 with err. */
int gateway_create(struct gateway **out, const struct gateway_config *cfg,
                   const struct gateway_hooks *hooks, char *err, size_t errlen);
void gateway_free(struct gateway *g); /* NULL ok */

/* The route whose prefix is the longest to start path, or NULL. Prefixes
 * match byte for byte (case-sensitively) on the raw path, which is safe only
 * for paths gateway_path_safe accepts: dispatch refuses the others. */
const struct gateway_route *gateway_match(const struct gateway *g, struct str path);
/* May path be matched and forwarded as it is? false for a path whose
 * meaning an upstream could read differently from the raw bytes we match:
 * "." or ".." segments (also with ";parameters": "..;x"), empty segments
 * ("//"), a backslash, a malformed
 * '%', and any percent-encoding (%00 too) of an unreserved character (letters,
 * digits, "-._~"), of '/' or of '\' (an unreserved character has one
 * spelling only, so no decoding is needed to match). */
bool gateway_path_safe(struct str path);
/* The route's prefix (lives as long as the table). */
const char *gateway_route_label(const struct gateway_route *r);
/* The route's access level (0: public). */
int gateway_route_access(const struct gateway_route *r);
/* The route's index in gateway.routes, for the metrics. */
int gateway_route_index(const struct gateway *g, const struct gateway_route *r);
/* Route labels for the metrics: count and prefixes (borrowed). */
int gateway_route_count(const struct gateway *g);
const char *gateway_route_prefix(const struct gateway *g, int i);

/* One loop's connection pools; g may be NULL (then NULL is returned). On
 * the loop's thread; freed after every client connection closed. */
struct gateway_loop *gateway_loop_create(const struct gateway *g, struct loop *l);
void gateway_loop_free(struct gateway_loop *gl);

/* Forwards the request of ex (its access already checked). Returns 0 when
 * ex->resp holds an answer now (503: no connection free), 1 when the
 * answer comes later (see the top of this file). */
int gateway_forward(struct gateway_loop *gl, const struct gateway_route *r,
                    struct http_exchange *ex);

#endif
