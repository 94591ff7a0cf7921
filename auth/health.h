/* health.h: GET /healthz, public. {"status":"ok"} while the server can
 * serve; 503 with {"status":"unavailable","error":"store_unavailable",
 * "detail":...} and Retry-After while its store cannot be reached (a
 * PostgreSQL store that is down: a load balancer then sends the traffic to
 * another instance). On SQLite there is nothing to reach and no database
 * work at all. Runs on the loop, with the loop's own connection
 * (the exchange's loop_data is the struct auth_loop of middleware.h). */
#ifndef PC_AUTH_HEALTH_H
#define PC_AUTH_HEALTH_H

#include "server/portcullis.h"

int auth_healthz(struct pc_req *req, void *arg);

#endif
