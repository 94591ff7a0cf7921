/* jobs.h: auth work that must not run on an event loop (argon2id, database
 * writes that fsync) goes to the job pool as an auth_job. The handler fills
 * the inputs and submits; run() executes on a pool thread with that
 * thread's database connection and fills the outputs; the answer is then
 * written on the owning loop and the job freed (secrets wiped). */
#ifndef PC_AUTH_JOBS_H
#define PC_AUTH_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "auth/refresh.h"
#include "db/db.h"
#include "server/http_msg.h"

struct auth_ctx;
struct auth_job;

typedef void (*auth_job_fn)(struct auth_job *j, struct db *db);

struct auth_job {
    struct http_exchange *ex;
    struct auth_ctx *ctx;
    auth_job_fn run;
    /* inputs (copied: the request buffer is not touched off the loop) */
    char username[65];
    char ip[48];
    char *password; /* wiped and freed with the job */
    size_t password_len;
    char *new_password;
    size_t new_password_len;
    int64_t user_id; /* the principal, or the target of an admin action */
    int64_t target_id;
    char refresh[AUTH_REFRESH_TOKEN_LEN + 1];
    int set_disabled, disabled, set_role;
    char role[8];
    char code[72];                              /* a TOTP or recovery code */
    int recovery;                               /* code is a recovery code */
    char mfa_token[AUTH_REFRESH_TOKEN_LEN + 1]; /* between password and code */
    char user_agent[129];                       /* shortened, printable ASCII only ("" if none) */
    int64_t sid;                                /* the principal's session (0: none) */
    int cookie_mode;                            /* browser: the refresh token only in the cookie */
    /* outputs */
    int status;
    json_t *body;               /* NULL: no body (204) */
    const char *error, *detail; /* when body is NULL and status >= 400 */
    int retry_after;            /* > 0: Retry-After header */
    int www_authenticate;       /* add the Bearer challenge (401 on token routes) */
    char set_cookie[256];
};

/* A zeroed job bound to ex; NULL when out of memory (503 set). */
struct auth_job *auth_job_new(struct http_exchange *ex, struct auth_ctx *ctx, auth_job_fn run);
/* Copies a secret into the job (malloc'd, wiped on free). 0 or -1. */
int auth_job_secret(char **dst, size_t *dstlen, const char *src, size_t len);
/* Submits; returns 1 (the handler returns 1 to the router), or 0 with a
 * 503 + Retry-After already in ex->resp when the queue is full. */
int auth_job_submit(struct auth_job *j);

/* Frees a job that was never submitted (the handler answered itself). */
void auth_job_discard(struct auth_job *j);

/* Output helpers for run(). */
void auth_job_fail(struct auth_job *j, int status, const char *error, const char *detail);
void auth_job_ok(struct auth_job *j, int status, json_t *body);
/* A database failure during `what`: logged with SQLite's message (never a
 * bound value, so no secret), and answered 503 + Retry-After: 1, so that
 * clients retry instead of discarding what they hold (no Set-Cookie). */
void auth_job_db_error(struct auth_job *j, struct db *db, const char *what);

#endif
