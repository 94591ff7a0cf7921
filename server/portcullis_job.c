/* portcullis_job.c: pc_defer, the public API's way onto the job pool: the
 * work runs on a pool thread, its completion on the request's own loop,
 * which then sends the answer (docs/ARCHITECTURE.md, Job pool). */
#include <stdlib.h>

#include "server/log.h"
#include "server/pool.h"
#include "server/portcullis_int.h"

struct pc_job {
    struct http_exchange *ex;
    pc_work_fn work;         /* an application's: no thread context */
    pc_work_ctx_fn work_ctx; /* the built-in API's */
    pc_done_fn done;
    void *arg;
};

static void job_work(void *thread_ctx, void *arg)
{
    struct pc_job *j = arg;
    if (j->work_ctx != NULL)
        j->work_ctx(thread_ctx, j->arg);
    else
        j->work(j->arg);
}

static void job_done(struct loop *l, void *arg)
{
    (void)l;
    struct pc_job *j = arg;
    struct http_exchange *ex = j->ex;
    j->done(pc_req_of(ex), j->arg); /* job_pending still: a pc_defer here is refused */
    free(j);
    ex->job_pending = false;
    if (ex->resp.status == 0 || ex->job_refused)
        http_resp_error(&ex->resp, 500, "internal", "the request could not be completed");
    http_exchange_complete(ex);
}

static int submit(struct pc_req *req, pc_work_fn work, pc_work_ctx_fn work_ctx, pc_done_fn done,
                  void *arg)
{
    struct http_exchange *ex = pc_exchange(req);
    if (ex->job_pending) { /* one job per request: a second done would answer twice */
        log_error("handler bug: pc_defer while this request's job is pending; answering 500");
        ex->job_refused = true;
        http_resp_error(&ex->resp, 500, "internal", "the request could not be completed");
        return -1;
    }
    struct pc_job *j = malloc(sizeof *j);
    if (j != NULL) {
        *j = (struct pc_job){ ex, work, work_ctx, done, arg };
        if (ex->pool != NULL && pool_submit(ex->pool, ex->loop, job_work, job_done, j) == 0) {
            ex->job_pending = true;
            return PC_LATER;
        }
        free(j);
    }
    log_warn("job pool full: answering 503 to %s",
             ex->req.client_ip != NULL ? ex->req.client_ip : "?");
    http_resp_error(&ex->resp, 503, "busy", "the server is busy, retry shortly");
    http_resp_header(&ex->resp, "Retry-After", "1");
    return PC_DONE;
}

int pc_defer(struct pc_req *req, pc_work_fn work, pc_done_fn done, void *arg)
{
    return submit(req, work, NULL, done, arg);
}

int pc_defer_ctx(struct pc_req *req, pc_work_ctx_fn work, pc_done_fn done, void *arg)
{
    return submit(req, NULL, work, done, arg);
}
