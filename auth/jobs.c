/* jobs.c: see jobs.h. */
#include "auth/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "auth/auth.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/portcullis_int.h"

static void job_free(struct auth_job *j)
{
    if (j->password) {
        mbedtls_platform_zeroize(j->password, j->password_len);
        free(j->password);
    }
    if (j->new_password) {
        mbedtls_platform_zeroize(j->new_password, j->new_password_len);
        free(j->new_password);
    }
    json_decref(j->body);
    mbedtls_platform_zeroize(j, sizeof *j);
    free(j);
}

void auth_job_discard(struct auth_job *j)
{
    if (j != NULL)
        job_free(j);
}

struct auth_job *auth_job_new(struct http_exchange *ex, struct auth_ctx *ctx, auth_job_fn run)
{
    struct auth_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        http_resp_error(&ex->resp, 503, "unavailable", "out of memory, try again");
        http_resp_header(&ex->resp, "Retry-After", "1");
        return NULL;
    }
    j->ex = ex;
    j->ctx = ctx;
    j->run = run;
    snprintf(j->ip, sizeof j->ip, "%s", ex->req.client_ip ? ex->req.client_ip : "");
    /* Kept for the sessions list: shortened, and nothing a terminal or a
     * page would interpret. */
    struct str ua = http_req_header(&ex->req, "User-Agent");
    size_t n = 0;
    for (size_t i = 0; ua.p != NULL && i < ua.n && n < sizeof j->user_agent - 1; i++)
        j->user_agent[n++] = ua.p[i] >= 0x20 && ua.p[i] < 0x7f ? ua.p[i] : '?';
    j->user_agent[n] = '\0';
    return j;
}

int auth_job_secret(char **dst, size_t *dstlen, const char *src, size_t len)
{
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return -1;
    memcpy(*dst, src, len);
    (*dst)[len] = '\0';
    *dstlen = len;
    return 0;
}

void auth_job_fail(struct auth_job *j, int status, const char *error, const char *detail)
{
    j->status = status;
    j->error = error;
    j->detail = detail;
    json_decref(j->body);
    j->body = NULL;
}

void auth_job_ok(struct auth_job *j, int status, json_t *body)
{
    j->status = status;
    json_decref(j->body);
    j->body = body;
}

void auth_job_db_error(struct auth_job *j, struct db *db, const char *what)
{
    log_error("database error during %s: %s", what, db_errmsg(db));
    metrics_inc(MET_DB_ERRORS);
    auth_job_fail(j, 503, "unavailable", "the database is unavailable, retry shortly");
    j->retry_after = 1;
    j->set_cookie[0] = '\0'; /* nothing changed: neither does the client's cookie */
}

static void job_work(void *thread_ctx, void *arg)
{
    struct auth_job *j = arg;
    struct db *db = thread_ctx;
    j->status = 500;
    j->error = "internal";
    j->detail = "the request could not be completed";
    j->run(j, db);
}

/* On the owning loop (pc_defer's completion): the job's outputs become the
 * answer; pc_defer then sends it. */
static void job_done(struct pc_req *req, void *arg)
{
    struct auth_job *j = arg;
    char num[24];
    if (j->error != NULL && j->body == NULL && j->status >= 400)
        pc_error(req, j->status, j->error, j->detail);
    else if (j->body != NULL) {
        pc_json(req, j->status, j->body);
        j->body = NULL; /* stolen */
    } else {
        /* No body: a JSON answer without one (204, or an empty 200). */
        http_resp_bytes(&pc_exchange(req)->resp, j->status, NULL, HTTP_CONTENT_JSON, NULL, 0);
    }
    if (j->retry_after > 0) {
        snprintf(num, sizeof num, "%d", j->retry_after);
        pc_header(req, "Retry-After", num);
    }
    if (j->www_authenticate)
        pc_header(req, "WWW-Authenticate", "Bearer realm=\"portcullis\"");
    if (j->set_cookie[0])
        pc_header(req, "Set-Cookie", j->set_cookie);
    job_free(j);
}

/* The same pool and completion as an application's jobs (pc_defer), with
 * the pool thread's database connection. */
int auth_job_submit(struct auth_job *j)
{
    struct pc_req *req = pc_req_of(j->ex);
    if (pc_defer_ctx(req, job_work, job_done, j) == PC_LATER)
        return PC_LATER;
    job_free(j); /* 503 + Retry-After set */
    return PC_DONE;
}
