/* health.c: GET /healthz, see health.h. */
#include "auth/health.h"

#include <jansson.h>

#include "auth/middleware.h"
#include "db/db.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/portcullis_int.h"

int auth_healthz(struct pc_req *req, void *arg)
{
    (void)arg;
    struct auth_loop *al = pc_exchange(req)->loop_data;
    if (al != NULL && al->db != NULL && db_ping(al->db) != 0) {
        metrics_inc(MET_DB_ERRORS);
        log_error("health check: the store is unreachable: %s", db_errmsg(al->db));
        pc_json(req, 503,
                json_pack("{s:s, s:s, s:s}", "status", "unavailable", "error", "store_unavailable",
                          "detail", "the database cannot be reached"));
        pc_header(req, "Retry-After", "1");
        return PC_DONE;
    }
    pc_json(req, 200, json_pack("{s:s}", "status", "ok"));
    return PC_DONE;
}
