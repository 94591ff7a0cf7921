/* metrics.h: the server's counters, gauges and histograms, exposed in the
 * Prometheus text format (see metrics_http.h for the listener).
 *
 * Cost on the hot path: each thread that updates metrics attaches its own
 * shard once (metrics_thread_attach); an update is then a load and a store
 * to memory only that thread writes: no lock, no atomic read-modify-write,
 * no shared cache line. A thread without a shard (the command line, tests)
 * falls back to one shared shard with atomic adds. A scrape sums every shard
 * with relaxed loads: it may see an update a moment late, never a torn one.
 *
 * Lifetime: metrics_init once at start-up, before any thread attaches; the
 * route names given there are copied. Shards live until metrics_free at exit
 * (a thread that ends leaves its counts behind, as Prometheus expects of a
 * counter). */
#ifndef PC_METRICS_H
#define PC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server/buf.h"

/* Plain counters and gauges. Gauges move by metrics_add(id, +1/-1) from the
 * thread that owns the thing counted, so the sum is the current value. */
enum metric_id {
    MET_TLS_FULL_12,
    MET_TLS_FULL_13,
    MET_TLS_RESUMED_12,
    MET_TLS_RESUMED_13,
    MET_TLS_FAIL_TIMEOUT,
    MET_TLS_FAIL_PROTOCOL,
    MET_TLS_FAIL_CLOSED,
    MET_TLS_FAIL_PLAINTEXT,
    MET_CONN_HANDSHAKE, /* gauges: open connections by state */
    MET_CONN_READING,
    MET_CONN_PROCESSING,
    MET_CONN_WRITING,
    MET_CONN_IDLE,
    MET_POOL_QUEUED, /* gauge: jobs waiting for a pool thread */
    MET_POOL_REJECTED,
    MET_LOGIN_OK,
    MET_LOGIN_FAILED,
    MET_LOGIN_LOCKED,
    MET_MFA_OK,
    MET_MFA_FAILED,
    MET_TOKEN_REFUSED_MISSING,
    MET_TOKEN_REFUSED_INVALID,
    MET_TOKEN_REFUSED_EXPIRED,
    MET_TOKEN_REFUSED_REVOKED,
    MET_TOKEN_REFUSED_ROLE,
    MET_REFRESH_REUSE,
    MET_DB_ERRORS,
    MET_DB_STMT_ERROR,        /* store statements failed: error (incl. unreachable) */
    MET_DB_STMT_BUSY,         /* ... or busy (lock timeout, serialization) */
    MET_UPSTREAM_ERR_CONNECT, /* gateway: refused, reset, closed, or no connection free */
    MET_UPSTREAM_ERR_TIMEOUT,
    MET_UPSTREAM_ERR_MALFORMED,
    MET_COUNT
};

/* Histograms: durations in microseconds, exposed in seconds. */
enum metric_hist { MET_H_POOL_WAIT, MET_H_DB_STATEMENT, MET_H_COUNT };

/* Request routes beyond the router's indexes: everything no route or file
 * answered (404, 405, redirects, framing errors), and static files. */
#define METRICS_ROUTE_UNMATCHED (-1)
#define METRICS_ROUTE_STATIC    (-2)

/* Copies the route labels (route i: methods[i] + patterns[i]) so requests
 * and their durations can be counted per route. 0 or -1 (no memory). */
int metrics_init(int nroutes, const char *const *methods, const char *const *patterns);
void metrics_free(void);

/* Gives the calling thread a shard of its own. 0, or -1 (no memory: the
 * thread then uses the shared shard). Idempotent. */
int metrics_thread_attach(void);

void metrics_add(enum metric_id id, int64_t delta);
static inline void metrics_inc(enum metric_id id) { metrics_add(id, 1); }
void metrics_observe(enum metric_hist h, uint64_t usec);
/* One answered request: the router's index of its route (or one of
 * METRICS_ROUTE_*), its status and its duration. */
void metrics_request(int route, int status, uint64_t usec);

/* The gateway's routes (route i labelled by prefixes[i], copied), for the
 * upstream series. Call after metrics_init, before the threads that count
 * attach. 0 or -1 (no memory). */
int metrics_gateway_init(int nroutes, const char *const *prefixes);
/* One upstream answer (its head) or failure (502/503/504) on gateway route
 * `route`, and the time from forwarding to it. */
void metrics_upstream(int route, int status, uint64_t usec);

/* The whole exposition (text format 0.0.4) appended to out. 0 or -1. */
int metrics_render(struct buf *out);

#endif
