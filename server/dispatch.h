/* dispatch.h: what answers a complete request (internal to server/): the
 * HTTPS redirect of the plain listener, OPTIONS, the router with its access
 * check, static files.
 *
 * The dispatcher fills the exchange's response and returns; it knows nothing
 * of connections, which serialize the answer themselves (conn_http.c). Runs
 * on the request's loop thread. */
#ifndef PC_DISPATCH_H
#define PC_DISPATCH_H

#include <stdatomic.h>

#include "server/config.h"
#include "server/gateway.h"
#include "server/http_msg.h"
#include "server/proxy.h"
#include "server/router.h"
#include "server/static.h"
#include "server/static_cache.h"
#include "server/str.h"

/* What requests are answered with: filled by server_setup (and
 * server_serve_plain), read-only while the loops run, shared by all. */
/* The settings a reload replaces (http.cors_origins, server.trusted_proxies):
 * one immutable block, published with a release store and read with an
 * acquire load, so a loop sees the old block or the new one, never a mix.
 * Retired blocks live until the server is freed. */
struct dispatch_live {
    struct config_list cors_origins;
    int cors_max_age_s;
    struct proxy_cidr trusted[CONFIG_LIST_MAX]; /* peers whose X-Forwarded-For is believed */
    size_t ntrusted;
};

/* Fills a block from a validated config (items that do not parse are
 * skipped: validation refuses them first). */
void dispatch_live_fill(struct dispatch_live *l, const struct config *cfg);

struct dispatch_site {
    const struct config *cfg;
    const struct router *router;
    /* for routes whose access is not 0: 0 allows, else ex->resp is filled */
    int (*access_check)(struct http_exchange *ex, int access, void *arg);
    void *access_arg;
    const struct static_root *www; /* NULL: no www root */
    const struct gateway *gateway; /* NULL: no gateway routes */
    int https_port;                /* where the plain listener redirects */
    const char *plain_warning;     /* non-NULL: the plain listener serves */
    struct pool *pool;             /* handlers' job pool (pc_defer), or NULL */
    /* What SIGHUP may change while the loops run: read once per request
     * through dispatch_live(); replaced whole, never modified. */
    _Atomic(const struct dispatch_live *) live;
};

static inline const struct dispatch_live *dispatch_live(const struct dispatch_site *site)
{
    return atomic_load_explicit(&site->live, memory_order_acquire);
}

enum dispatch_result {
    DISPATCH_ANSWERED, /* ex->resp holds the answer */
    DISPATCH_LATER,    /* a handler's job runs; it calls http_exchange_complete */
};

/* Whether a request whose head alone is in may be dispatched now, its body
 * streamed to the answerer as it arrives (a gateway route on a listener
 * that serves). */
int dispatch_early(const struct dispatch_site *site, const struct http_exchange *ex);

/* Answers the complete request in ex->req (head and body; host: the
 * validated Host header, for the redirect). files is the loop's static
 * cache; ex->loop must be set. */
enum dispatch_result dispatch_request(const struct dispatch_site *site, struct static_cache *files,
                                      struct http_exchange *ex, struct str host);

#endif
