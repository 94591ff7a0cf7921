/* portcullis.h: the public C API of Portcullis, for handlers of your own.
 *
 * The one header an application includes. It starts the same server the
 * `portcullis` binary runs (TLS, the login API, tokens, limits, logs,
 * metrics: everything the config file says) with routes of the
 * application's own added, each checked by the server's own token check
 * before its handler runs. The built-in API is registered through these
 * same functions.
 *
 *     #include "server/portcullis.h"
 *
 *     static int hello(struct pc_req *req, void *arg)
 *     {
 *         struct pc_user u;
 *         pc_user(req, &u);
 *         pc_json(req, 200, json_pack("{s:s}", "hello", u.username));
 *         return PC_DONE;
 *     }
 *
 *     int main(void)
 *     {
 *         char err[512];
 *         struct pc_server *s;
 *         if (pc_server_new(&s, "config.json", err, sizeof err) != 0)
 *             return fprintf(stderr, "%s\n", err), 2;
 *         pc_route(s, "GET", "/hello", "token", hello, NULL);
 *         int rc = pc_server_run(s);
 *         pc_server_free(s);
 *         return rc == 0 ? 0 : 1;
 *     }
 *
 * Link with the `libportcullis` CMake target (it brings jansson, SQLite,
 * mbedTLS, libjwt and libargon2 along).
 *
 * Stability: PORTCULLIS_API_VERSION is 1. Within a major version these
 * declarations only gain new functions; no signature, struct member or
 * meaning changes. Types are opaque except struct pc_user.
 *
 * Threads: the server runs one event loop per worker thread and a job
 * pool. A handler runs on the loop thread that owns its request and must
 * not block it (no file or database I/O, no sleeping): slow work goes to
 * the job pool with pc_defer. Every pc_req function may only be called on
 * that loop thread, from the handler or from its pc_defer completion. */
#ifndef PORTCULLIS_H
#define PORTCULLIS_H

#include <stddef.h>

#include <jansson.h>

#define PORTCULLIS_API_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked in (PORTCULLIS_API_VERSION when it was
 * built). An application may refuse to run against another major. */
int pc_api_version(void);

/* ---- The server ---- */

struct pc_server; /* opaque */

/* Loads and validates the configuration file (NULL: the compiled-in
 * defaults, with PORTCULLIS_JWT_SECRET from the environment), sets up
 * logging, blocks SIGINT, SIGTERM and SIGHUP for the calling thread (call
 * it before creating any thread: every later thread inherits the mask),
 * and registers the built-in routes (/healthz, /api/..., the demo's in
 * demo mode). Nothing is bound yet. One server per process (logging,
 * metrics and signals are the process's). Returns 0 with *out set, or -1
 * with a message in err (a bad config names the key). */
int pc_server_new(struct pc_server **out, const char *config_path, char *err, size_t errlen);

/* The request handler. Returns PC_DONE when the answer is set (pc_json,
 * pc_error), or the value of pc_defer (PC_LATER when a job will answer). A
 * handler that returns PC_DONE without an answer gets a 500, and so does
 * one that returns PC_LATER without a job (see pc_defer). */
enum pc_result { PC_DONE = 0, PC_LATER = 1 };
struct pc_req; /* opaque: one request, valid until it is answered */
typedef int (*pc_handler)(struct pc_req *req, void *arg);

/* Adds a route, before pc_server_run (main thread).
 *   method   "GET", "POST", "PUT", "PATCH", "DELETE", ... (GET also
 *            answers HEAD);
 *   pattern  an absolute path whose segments are literals or ":name"
 *            parameters ("/notes/:id"); a parameter matches one non-empty
 *            segment; matching is exact (a trailing slash matters); at most
 *            4 parameters and 16 segments;
 *   access   "public": anyone;
 *            "token": a valid access token of an enabled account
 *            (Authorization: Bearer, issued by this server's
 *            POST /api/login); 401 with WWW-Authenticate otherwise,
 *            before the handler runs;
 *            "role:NAME": the same, and the account's role is NAME (the
 *            user store knows "user" and "admin"); 403 otherwise.
 *   handler  called for each matching request with arg.
 * Strings are copied. Returns 0, or -1 when the pattern, the method or the
 * access rule is invalid, the same method and pattern exist already (the
 * built-in routes included), or memory ran out. */
int pc_route(struct pc_server *s, const char *method, const char *pattern, const char *access,
             pc_handler handler, void *arg);

/* Binds the configured ports, drops privileges (server.user), opens the
 * database and starts the workers and the job pool, then serves until
 * SIGINT or SIGTERM (a graceful stop; SIGHUP reloads the certificate and
 * the config file). Returns 0 after a clean stop, -1 when the server could
 * not start (the reason is logged). Call once. */
int pc_server_run(struct pc_server *s);

/* Frees the server, after pc_server_run returned (or instead of it). NULL
 * ok. */
void pc_server_free(struct pc_server *s);

/* ---- Reading a request (loop thread only) ---- */

/* The path parameter `name` of the route's pattern, percent-decoded and
 * NUL-terminated, into out. Returns its length, -1 when the pattern has no
 * such parameter, or -2 when it does not fit in outlen or its encoding is
 * malformed (or decodes to a NUL byte). */
int pc_param(struct pc_req *req, const char *name, char *out, size_t outlen);

/* The path parameter `name` as a positive decimal integer (1 to 2^63-1,
 * digits only). Returns 0 with *out set, or -1 (absent, or not such an
 * integer: a client asking for /notes/abc usually deserves a 404). */
int pc_param_id(struct pc_req *req, const char *name, long long *out);

/* The query parameter `name` (compared with the raw name) of
 * "?a=1&b=x%20y", percent-decoded ('+' is a space) and NUL-terminated, into
 * out; "a" without '=' is the empty string. The first occurrence wins.
 * Returns its length, -1 when absent, -2 when it does not fit or is
 * malformed. */
int pc_query(struct pc_req *req, const char *name, char *out, size_t outlen);

/* The request body as a JSON object (jansson). Returns a new reference the
 * caller must json_decref, or NULL with the answer already set:
 *   415 unsupported_media_type  Content-Type is not application/json;
 *   400 malformed_json          no body, or not valid JSON (the detail
 *                               gives line and column);
 *   422 invalid_body            valid JSON but not an object.
 * The handler then just returns PC_DONE. Duplicate keys are refused. The
 * body's size is bounded by limits.max_body_bytes before any handler runs. */
json_t *pc_body_json(struct pc_req *req);

/* The authenticated user. Strings point into the request and are valid
 * until it is answered (copy them into a job). */
struct pc_user {
    long long id;         /* the account's id, > 0 */
    const char *username; /* 3 to 64 of [A-Za-z0-9._-] */
    const char *role;     /* "user" or "admin" */
};
/* Fills *out and returns 0 on a "token" or "role:" route; -1 on a public
 * route (no identity was checked). */
int pc_user(const struct pc_req *req, struct pc_user *out);

/* Value of request header `name` (case-insensitive), copied and
 * NUL-terminated into out. Returns its length, -1 when absent, -2 when it
 * does not fit. */
int pc_header_get(const struct pc_req *req, const char *name, char *out, size_t outlen);

/* The request's id (the X-Request-Id echoed to the client and written in
 * every log line about it). */
const char *pc_request_id(const struct pc_req *req);

/* ---- Answering (loop thread only) ---- */

/* Status and a JSON body (sent compact, Content-Type: application/json).
 * Steals the reference to body; NULL: no body (for 204). Replaces any
 * earlier status and body (headers added with pc_header stay). Returns 0,
 * or -1 when the body could not be written out (out of memory). */
int pc_json(struct pc_req *req, int status, json_t *body);

/* The standard error answer, {"error": code, "detail": detail}: code a
 * short machine-readable word ("not_found"), detail a sentence for people.
 * Returns 0 or -1 as pc_json. */
int pc_error(struct pc_req *req, int status, const char *code, const char *detail);

/* Adds a response header. Refuses (-1) a name that is not an HTTP token or
 * a value with CR or LF, so no answer can be split, and the framing headers
 * Content-Length, Transfer-Encoding and Connection (any case), which only
 * the server writes. Content-Type, X-Request-Id and the security headers
 * are written by the server too: do not add them. */
int pc_header(struct pc_req *req, const char *name, const char *value);

/* ---- Slow work: the job pool ---- */

typedef void (*pc_work_fn)(void *arg);
typedef void (*pc_done_fn)(struct pc_req *req, void *arg);

/* Runs work(arg) on a job pool thread, then done(req, arg) back on the
 * request's loop thread, which must answer (pc_json or pc_error; no answer
 * is a 500) and free what arg owns. work must not touch req: copy what it
 * needs (parameters, the body's fields, the user) into arg first. work
 * may block (SQLite, files, hashing); the pool has pool.threads threads
 * shared with the built-in API, and the request's id is the log context
 * while work runs. If the client hangs up meanwhile, done still runs
 * (its answer is dropped).
 * Returns PC_LATER, which the handler returns; or PC_DONE when the queue
 * is full (pool.queue) or memory ran out: neither function will run, a
 * 503 with Retry-After is set, and the caller still owns arg.
 * One job per request: while one is pending (queued, running, or in its
 * done), pc_defer for the same request returns -1 without running either
 * function (the caller still owns arg) and the request is answered 500
 * once that job completes. A handler must return exactly what pc_defer
 * returned: PC_LATER with no job queued is answered 500 at once, and
 * PC_DONE with a job queued is taken as PC_LATER (the job answers); both
 * are logged as handler bugs. */
int pc_defer(struct pc_req *req, pc_work_fn work, pc_done_fn done, void *arg);

#ifdef __cplusplus
}
#endif

#endif
