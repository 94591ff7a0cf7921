/* e2e_pg_stall.c: a PostgreSQL server that stops answering without closing
 * its connections (its processes stopped with SIGSTOP: a hung host, a
 * frozen VM). The test runs a cluster of its own (pg_own.h), starts
 * portcullis on it with db.busy_timeout_ms 1000, then stops every process
 * of that cluster by PID (its postmaster, from DIR/data/postmaster.pid,
 * and the postmaster's children): /healthz and /api/me answer 503 instead
 * of waiting for ever, a static file is still served, the process stays
 * up; the processes continued (SIGCONT), the server serves again. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/api.h"
#include "support/pg_own.h"
#include "support/support.h"

#define PW      "correct horse battery staple"
#define MAX_PID 64

/* The cluster's processes: the postmaster and its children. */
static int cluster_pids(pid_t *out, int cap)
{
    char path[128], line[256];
    FILE *f;
    DIR *d;
    struct dirent *e;
    long master = 0;
    int n = 0;

    snprintf(path, sizeof path, "%s/data/postmaster.pid", pg_own_dir());
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    master = strtol(line, NULL, 10);
    ck_assert_int_gt(master, 1);
    out[n++] = (pid_t)master;
    ck_assert_ptr_nonnull(d = opendir("/proc"));
    while ((e = readdir(d)) != NULL && n < cap) {
        long pid = strtol(e->d_name, NULL, 10), ppid = 0;
        char *p;

        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (!(f = fopen(path, "r")))
            continue;
        /* pid (comm) state ppid ...: comm may hold spaces, ends at the last ')'. */
        if (fgets(line, sizeof line, f) && (p = strrchr(line, ')')) != NULL &&
            sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == master)
            out[n++] = (pid_t)pid;
        fclose(f);
    }
    closedir(d);
    return n;
}

static void signal_all(const pid_t *pids, int n, int sig)
{
    for (int i = 0; i < n; i++)
        kill(pids[i], sig);
}

static int status(const struct srv *s, const char *path, const char *bearer)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "GET", path, bearer, &r, NULL);

    if (st == 503)
        ck_assert_ptr_nonnull(api_error(&r));
    api_resp_free(&r);
    return st;
}

static int static_file(const struct srv *s)
{
    struct api_req q = { .method = "GET", .path = "/favicon.svg" };
    struct api_resp r = { 0 };
    int st = api_request(s, &q, &r);

    api_resp_free(&r);
    return st;
}

START_TEST(stalled_postgresql_answers_503)
{
    struct srv s;
    struct api_session t;
    pid_t pids[MAX_PID];
    char url[256], extra[512];
    int n, st = 0;

    pg_own("start", NULL, 0);
    pg_own("url", url, sizeof url);
    snprintf(extra, sizeof extra,
             "{\"db\": {\"url\": \"%s\", \"busy_timeout_ms\": 1000}, "
             "\"auth\": {\"user_cache_ms\": 0}}",
             url);
    ck_assert_int_eq(api_start(&s, extra), 0);
    ck_assert_int_eq(api_new_user(&s, "ivan", PW, &t), 0);
    ck_assert_int_eq(status(&s, "/healthz", NULL), 200);
    ck_assert_int_eq(status(&s, "/api/me", t.access), 200);

    n = cluster_pids(pids, MAX_PID);
    ck_assert_int_gt(n, 1);
    /* Should an assertion end the case with the cluster stopped, a guard
     * continues it after 60 s, so that the cluster can be stopped. */
    pid_t guard = fork();
    ck_assert_int_ge(guard, 0);
    if (guard == 0) {
        sleep(60);
        signal_all(pids, n, SIGCONT);
        kill(guard, SIGKILL);
        waitpid(guard, NULL, 0);
        _exit(0);
    }
    signal_all(pids, n, SIGSTOP);
    /* The client waits up to 20 s: without a bound on the server's wait,
     * these would end in no answer at all. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(status(&s, "/healthz", NULL), 503);
        ck_assert_int_eq(status(&s, "/api/me", t.access), 503);
        ck_assert_int_eq(static_file(&s), 200);
    }
    ck_assert_int_eq(kill(s.pid, 0), 0);
    signal_all(pids, n, SIGCONT);
    kill(guard, SIGKILL);
    waitpid(guard, NULL, 0);

    /* Reconnected after a backoff of at most 5 s. */
    for (int i = 0; i < 150 && st != 200; i++) {
        st = status(&s, "/api/me", t.access);
        if (st != 200) {
            ck_assert_int_eq(st, 503);
            usleep(100 * 1000);
        }
    }
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(status(&s, "/healthz", NULL), 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    pg_own("stop", NULL, 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pg_stall");
    TCase *tc = tcase_create("stall");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stalled_postgresql_answers_503);
    suite_add_tcase(su, tc);
    pg_own_init("pgs");
    return pg_own_run(su);
}
