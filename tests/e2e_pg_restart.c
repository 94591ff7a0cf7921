/* e2e_pg_restart.c: PostgreSQL restarting under a running server. The test
 * runs a cluster of its own (tests/support/pg_cluster.sh, not the shared
 * one: it stops it), starts portcullis on it, and keeps a client asking
 * for /api/me and logging in throughout; stops PostgreSQL: requests
 * that need the store get 503 (JSON, Retry-After), /healthz says the store
 * is down, the process stays up; PostgreSQL comes back: the server
 * reconnects by itself and serves again, and stops cleanly. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/api.h"
#include "support/pg_own.h"
#include "support/support.h"

#define PW "correct horse battery staple"

static int status(const struct srv *s, const char *method, const char *path, const char *bearer,
                  const char *user)
{
    struct api_resp r = { 0 };
    int st = user ? api_json(s, method, path, bearer, &r, "{s:s, s:s}", "username", user,
                             "password", PW)
                  : api_json(s, method, path, bearer, &r, NULL);
    if (st == 503) {
        char ra[16] = "";
        ck_assert_int_eq(api_header(&r, "Retry-After", ra, sizeof ra), 0);
        ck_assert_ptr_nonnull(api_error(&r));
    }
    api_resp_free(&r);
    return st;
}

/* status() until it is 200, for at most 15 s; the last status. Meanwhile
 * only 503 (the store still away) is a right answer. */
static int until_ok(const struct srv *s, const char *method, const char *path, const char *bearer,
                    const char *user)
{
    int st = 0;
    for (int i = 0; i < 150 && st != 200; i++) {
        st = status(s, method, path, bearer, user);
        if (st != 200) {
            ck_assert_int_eq(st, 503);
            usleep(100 * 1000);
        }
    }
    return st;
}

/* The load: a child process asking for /api/me and logging in, one request
 * after another, until its parent kills it; every status goes down the
 * pipe as one byte (a transport failure as 0). */
static pid_t load_start(const struct srv *s, const char *access, int *rd)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        for (unsigned i = 0;; i++) {
            struct api_resp r = { 0 };
            int st = i % 4 == 3 ? api_json(s, "POST", "/api/login", NULL, &r, "{s:s, s:s}",
                                           "username", "heidi", "password", PW)
                                : api_json(s, "GET", "/api/me", access, &r, NULL);
            api_resp_free(&r);
            unsigned char b = st == 200 ? 2 : st == 503 ? 5 : st <= 0 ? 0 : 9;
            if (write(fds[1], &b, 1) != 1)
                _exit(0);
        }
    }
    close(fds[1]);
    *rd = fds[0];
    return pid;
}

/* Stops the load; every answer was 200 or 503 (never a failed connection or
 * another status), and there were both. */
static void load_check(pid_t pid, int rd)
{
    unsigned char buf[4096];
    long n200 = 0, n503 = 0, other = 0;
    ssize_t n;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while ((n = read(rd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            buf[i] == 2 ? n200++ : buf[i] == 5 ? n503++ : other++;
    close(rd);
    ck_assert_msg(other == 0, "%ld answers neither 200 nor 503 (%ld ok, %ld 503)", other, n200,
                  n503);
    ck_assert_int_gt(n200, 0);
    ck_assert_int_gt(n503, 0);
}

START_TEST(postgresql_restarts_under_load)
{
    struct srv s;
    struct api_session t;
    char url[256], extra[512];

    pg_own("start", NULL, 0);
    pg_own("url", url, sizeof url);
    snprintf(extra, sizeof extra, "{\"db\": {\"url\": \"%s\"}, \"auth\": {\"user_cache_ms\": 0}}",
             url);
    ck_assert_int_eq(api_start(&s, extra), 0);
    ck_assert_int_eq(api_new_user(&s, "heidi", PW, &t), 0);
    ck_assert_int_eq(status(&s, "GET", "/healthz", NULL, NULL), 200);
    int rd;
    pid_t load = load_start(&s, t.access, &rd);
    usleep(500 * 1000);

    pg_own("down", NULL, 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(status(&s, "GET", "/healthz", NULL, NULL), 503);
        ck_assert_int_eq(status(&s, "GET", "/api/me", t.access, NULL), 503);
        ck_assert_int_eq(status(&s, "POST", "/api/login", NULL, "heidi"), 503);
    }
    ck_assert_int_eq(kill(s.pid, 0), 0);

    pg_own("up", NULL, 0);
    /* Every loop and pool thread reconnects on its own, after a backoff of
     * at most 5 s: each kind of request comes back within 15 s. */
    ck_assert_int_eq(until_ok(&s, "GET", "/healthz", NULL, NULL), 200);
    ck_assert_int_eq(until_ok(&s, "POST", "/api/login", NULL, "heidi"), 200);
    ck_assert_int_eq(until_ok(&s, "GET", "/api/me", t.access, NULL), 200);
    usleep(500 * 1000);
    load_check(load, rd);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    pg_own("stop", NULL, 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pg_restart");
    TCase *tc = tcase_create("restart");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, postgresql_restarts_under_load);
    suite_add_tcase(su, tc);
    pg_own_init("pgr");
    return pg_own_run(su);
}
