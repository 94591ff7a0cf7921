/* portcullis_int.h: what is behind the public API's opaque types, for the
 * code that implements it (server/portcullis.c, server/root.c) and for
 * handlers of the built-in API that still need the exchange itself.
 * Never included by an application. */
#ifndef PC_PORTCULLIS_INT_H
#define PC_PORTCULLIS_INT_H

#include "server/http_msg.h"
#include "server/portcullis.h"
#include "server/router.h"

struct pc_root; /* the composition root's state (server/root.c) */

struct pc_server {
    struct router router;
    /* Gives an access rule ("public", "token", "role:NAME") its router
     * integer (0 = public: no check), or -1 when it is not a rule. Set by
     * the composition root from the layer that checks tokens; NULL: only
     * "public" routes. */
    int (*access_parse)(const char *rule);
    struct pc_root *root;
};

/* A struct pc_req is the exchange itself: the conversions cost nothing. */
static inline struct http_exchange *pc_exchange(struct pc_req *req)
{
    return (struct http_exchange *)(void *)req;
}

static inline const struct http_exchange *pc_exchange_const(const struct pc_req *req)
{
    return (const struct http_exchange *)(const void *)req;
}

static inline struct pc_req *pc_req_of(struct http_exchange *ex)
{
    return (struct pc_req *)(void *)ex;
}

/* pc_defer for the built-in API: work also gets the pool thread's context
 * (the pool hooks' per-thread data: auth/'s database connection), which an
 * application never sees. Same returns and rules as pc_defer. */
typedef void (*pc_work_ctx_fn)(void *thread_ctx, void *arg);
int pc_defer_ctx(struct pc_req *req, pc_work_ctx_fn work, pc_done_fn done, void *arg);

#endif
