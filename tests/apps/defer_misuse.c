/* defer_misuse.c: a server on the public API whose handlers misuse pc_defer,
 * for e2e_defer: each request must still get exactly one answer.
 *   GET /later-no-job   returns PC_LATER without a job        -> 500
 *   GET /done-with-job  queues a job, returns PC_DONE          -> the job's 200
 *   GET /defer-twice    queues a job, then a second one        -> 500
 *   GET /defer-in-done  its job's done calls pc_defer again    -> 500
 *   GET /ok             answers 200 at once
 *
 *   defer_misuse [--config FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/portcullis.h"

static void work(void *arg) { (void)arg; }

static void done_ok(struct pc_req *req, void *arg)
{
    (void)arg;
    pc_json(req, 200, json_pack("{s:s}", "answered_by", "job"));
}

static void done_defers_again(struct pc_req *req, void *arg)
{
    (void)arg;
    pc_json(req, 200, json_pack("{s:s}", "answered_by", "job"));
    if (pc_defer(req, work, done_ok, NULL) == PC_LATER)
        fputs("defer_misuse: a second pc_defer was accepted\n", stderr);
}

static int later_no_job(struct pc_req *req, void *arg)
{
    (void)req;
    (void)arg;
    return PC_LATER;
}

static int done_with_job(struct pc_req *req, void *arg)
{
    (void)arg;
    if (pc_defer(req, work, done_ok, NULL) != PC_LATER)
        return PC_DONE;
    return PC_DONE;
}

static int defer_twice(struct pc_req *req, void *arg)
{
    (void)arg;
    int rc = pc_defer(req, work, done_ok, NULL);
    if (rc != PC_LATER)
        return rc;
    if (pc_defer(req, work, done_ok, NULL) == PC_LATER)
        fputs("defer_misuse: a second pc_defer was accepted\n", stderr);
    return PC_LATER;
}

static int defer_in_done(struct pc_req *req, void *arg)
{
    (void)arg;
    return pc_defer(req, work, done_defers_again, NULL);
}

static int ok(struct pc_req *req, void *arg)
{
    (void)arg;
    pc_json(req, 200, json_pack("{s:s}", "answered_by", "handler"));
    return PC_DONE;
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    char err[512];
    struct pc_server *s = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else {
            fputs("usage: defer_misuse [--config FILE]\n", stderr);
            return 2;
        }
    }
    if (pc_server_new(&s, config, err, sizeof err) != 0) {
        fprintf(stderr, "defer_misuse: %s\n", err);
        return 2;
    }
    int rc = pc_route(s, "GET", "/later-no-job", "public", later_no_job, NULL);
    rc |= pc_route(s, "GET", "/done-with-job", "public", done_with_job, NULL);
    rc |= pc_route(s, "GET", "/defer-twice", "public", defer_twice, NULL);
    rc |= pc_route(s, "GET", "/defer-in-done", "public", defer_in_done, NULL);
    rc |= pc_route(s, "GET", "/ok", "public", ok, NULL);
    if (rc != 0) {
        pc_server_free(s);
        return 1;
    }
    rc = pc_server_run(s);
    pc_server_free(s);
    return rc == 0 ? 0 : 1;
}
