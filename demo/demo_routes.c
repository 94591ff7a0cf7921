/* demo_routes.c: GET /demo/wire and POST /demo/run, registered only in demo
 * mode, answered only to loopback clients (they show passwords).
 *
 * POST /demo/run makes the server its own client over loopback, which takes
 * a while and blocks: it runs on a thread of its own (one run at a time), and
 * the answer returns to the connection's loop through loop_post, like a pool
 * job's. Not the job pool: the run's own logins need the pool's threads, so
 * a run occupying one could wait on itself. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo/demo_int.h"
#include "server/log.h"
#include "server/net.h"
#include "server/portcullis_int.h"

struct demo_ctx {
    const struct config *cfg;
    struct server *srv;
    struct demo_wire *wire;
    atomic_int busy;   /* a run is in progress */
    atomic_int cancel; /* shutting down: runs give up */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running; /* threads not yet finished (under mu) */
};

struct demo_job {
    struct demo_ctx *d;
    struct http_exchange *ex;
    struct demo_opts o;
    char https_host[CONFIG_STR_MAX], http_host[CONFIG_STR_MAX];
    json_t *doc;
    char err[256];
};

int demo_setup(struct demo_ctx **out, const struct config *cfg, char *err, size_t errlen)
{
    struct demo_ctx *d = calloc(1, sizeof *d);
    *out = NULL;
    if (d == NULL || pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        snprintf(err, errlen, "demo: out of memory");
        return -1;
    }
    if (pthread_cond_init(&d->cv, NULL) != 0) {
        pthread_mutex_destroy(&d->mu);
        free(d);
        snprintf(err, errlen, "demo: out of memory");
        return -1;
    }
    d->cfg = cfg;
    *out = d;
    return 0;
}

int demo_attach(struct demo_ctx *d, struct server *srv, char *err, size_t errlen)
{
    if (demo_wire_attach(&d->wire, d->cfg, srv, err, errlen) != 0)
        return -1;
    server_serve_plain(srv, "plaintext HTTP (demo mode): anyone on the path can read this");
    d->srv = srv;
    return 0;
}

void demo_free(struct demo_ctx *d)
{
    if (d == NULL)
        return;
    atomic_store(&d->cancel, 1);
    pthread_mutex_lock(&d->mu);
    while (d->running > 0)
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    demo_wire_free(d->wire);
    free(d);
}

/* 1 when ex may see the demo; else a 403 is set. */
static int demo_allowed(struct http_exchange *ex)
{
    if (net_addr_loopback(ex->req.client_ip) == 1)
        return 1;
    http_resp_error(&ex->resp, 403, "forbidden", "the demo routes answer loopback clients only");
    return 0;
}

static int demo_wire(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct demo_ctx *d = arg;
    if (!demo_allowed(ex))
        return PC_DONE;
    json_t *j = d->wire ? demo_wire_json(d->wire) : NULL;
    if (j == NULL)
        pc_error(req, 500, "internal", "the wire view is not available");
    else
        pc_json(req, 200, j);
    return PC_DONE;
}

/* ---- POST /demo/run ---- */

/* Where to reach our own listener: a wildcard bind means loopback. */
static void demo_self(char *out, size_t outlen, const char *bound)
{
    if (strcmp(bound, "0.0.0.0") == 0)
        bound = "127.0.0.1";
    else if (strcmp(bound, "::") == 0)
        bound = "::1";
    snprintf(out, outlen, "%s", bound);
}

/* On the connection's loop. */
static void demo_done(struct loop *l, void *arg)
{
    (void)l;
    struct demo_job *j = arg;
    struct http_exchange *ex = j->ex;
    if (j->doc != NULL)
        http_resp_json(&ex->resp, 200, j->doc); /* steals doc */
    else
        http_resp_error(&ex->resp, 500, "internal", j->err);
    free(j);
    ex->job_pending = false;
    http_exchange_complete(ex);
}

static void *demo_thread(void *arg)
{
    struct demo_job *j = arg;
    struct demo_ctx *d = j->d;
    j->doc = demo_compare(&j->o, j->err, sizeof j->err);
    if (j->doc == NULL)
        log_warn("demo: run failed: %s", j->err);
    atomic_store(&d->busy, 0);
    if (loop_post(j->ex->loop, demo_done, j) != 0)
        demo_done(j->ex->loop, j); /* only when out of memory; as the pool does */
    pthread_mutex_lock(&d->mu);
    d->running--;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static int demo_start(struct demo_ctx *d, struct demo_job *j)
{
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&d->mu);
    d->running++;
    int rc = pthread_create(&t, &attr, demo_thread, j);
    if (rc != 0)
        d->running--;
    pthread_mutex_unlock(&d->mu);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

/* An optional body {"tls12": true}: also an HTTPS side capped at TLS 1.2. */
static int demo_wants_tls12(const struct http_exchange *ex)
{
    if (ex->req.body.n == 0)
        return 0;
    json_t *b = json_loadb(ex->req.body.p, ex->req.body.n, 0, NULL);
    int on = json_is_true(json_object_get(b, "tls12"));
    json_decref(b);
    return on;
}

static int demo_run(struct pc_req *req, void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    struct demo_ctx *d = arg;
    int idle = 0;
    if (!demo_allowed(ex))
        return PC_DONE;
    if (d->srv == NULL || !atomic_compare_exchange_strong(&d->busy, &idle, 1)) {
        pc_error(req, 503, "busy", "a demo run is in progress, retry shortly");
        pc_header(req, "Retry-After", "1");
        return PC_DONE;
    }
    struct demo_job *j = calloc(1, sizeof *j);
    if (j != NULL) {
        j->d = d;
        j->ex = ex;
        demo_self(j->https_host, sizeof j->https_host, d->cfg->server.https_address);
        demo_self(j->http_host, sizeof j->http_host, d->cfg->server.http_address);
        j->o.https_host = j->https_host;
        j->o.https_port = server_https_port(d->srv);
        j->o.http_host = server_http_port(d->srv) >= 0 ? j->http_host : NULL;
        j->o.http_port = server_http_port(d->srv);
        /* The dev CA when we run on the dev certificate; with a configured
         * certificate we do not know its CA, and verifying our own socket
         * over loopback proves nothing anyway (the document says so). */
        j->o.ca_file = server_dev_ca_file(d->srv);
        j->o.server_name = "localhost";
        j->o.cancel = &d->cancel;
        j->o.timeout_ms = 5000; /* per connection; a loopback exchange takes ms */
        j->o.tls12 = demo_wants_tls12(ex);
        ex->job_pending = true; /* demo_done completes the exchange (dispatch checks) */
        if (demo_start(d, j) == 0)
            return PC_LATER;
        ex->job_pending = false;
        free(j);
    }
    atomic_store(&d->busy, 0);
    pc_error(req, 503, "unavailable", "cannot start a demo run");
    pc_header(req, "Retry-After", "1");
    return PC_DONE;
}

int demo_add_routes(struct pc_server *s, struct demo_ctx *d)
{
    if (pc_route(s, "GET", "/demo/wire", "public", demo_wire, d) != 0 ||
        pc_route(s, "POST", "/demo/run", "public", demo_run, d) != 0)
        return -1;
    return 0;
}
