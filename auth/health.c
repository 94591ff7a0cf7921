/* health.c: GET /healthz, see health.h. */
#include "auth/health.h"

#include <jansson.h>

#include "auth/middleware.h"
#include "db/db.h"
#include "server/log.h"
#include "server/metrics.h"

int auth_healthz(struct http_exchange *ex, void *arg)
{
    (void)arg;
    struct auth_loop *al = ex->loop_data;
    if (al != NULL && al->db != NULL && db_ping(al->db) != 0) {
        metrics_inc(MET_DB_ERRORS);
        log_error("health check: the store is unreachable: %s", db_errmsg(al->db));
        http_resp_json(&ex->resp, 503,
                       json_pack("{s:s, s:s, s:s}", "status", "unavailable", "error",
                                 "store_unavailable", "detail", "the database cannot be reached"));
        http_resp_header(&ex->resp, "Retry-After", "1");
        return 0;
    }
    http_resp_json(&ex->resp, 200, json_pack("{s:s}", "status", "ok"));
    return 0;
}
