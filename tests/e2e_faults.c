/* e2e_faults.c: the real binary under resource faults. Each gives a clear
 * log line and a defined response, never a crash:
 *   - file descriptors run out (a low RLIMIT_NOFILE for the server): new
 *     connections are shed (accepted and closed at once) with an "out of
 *     file descriptors" line, open connections keep being served, the
 *     server does not spin, and it recovers when the clients go away;
 *   - the database cannot be created or opened: no start, exit status
 *     non-zero, a message naming the path;
 *   - the certificate or key is missing or unreadable: the same, naming the
 *     file.
 * The full job queue (503 + Retry-After) is tested by e2e_ops.c
 * (full_job_queue_answers_503). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/clock.h"
#include "support/https.h"
#include "tls/certgen.h"

#define FDS_FOR_SERVER 64
#define CROWD          150

static long now_ms(void) { return (long)clock_mono_ms(); }

/* CPU time (user + system) the process used so far, in ms. */
static long cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime) follow the ")" that ends the name. */
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st),
                     2);
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static int open_fds(pid_t pid)
{
    char cmd[96], out[32] = "";
    snprintf(cmd, sizeof cmd, "ls /proc/%d/fd | wc -l", (int)pid);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    pclose(p);
    return atoi(out);
}

static int healthz_on(struct tc_conn *c)
{
    struct http_resp r;
    char carry[1];
    size_t cl = 0;
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    if (tc_write_all(c, req, sizeof req - 1, 5000) != 0 ||
        resp_read(tls_source, c, &r, 5000, carry, sizeof carry, &cl) != 0)
        return -1;
    return r.status;
}

/* A new connection answers /healthz within ms. */
static int healthz_new_within(const struct srv *s, int ms)
{
    long end = now_ms() + ms;
    int status = -1;
    while (status != 200 && now_ms() < end) {
        struct tc_opts o = { .ca_file = s->ca_file, .timeout_ms = 2000 };
        struct tc_conn c;
        char err[128];
        status = tc_connect(&c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0
                     ? healthz_on(&c)
                     : -1;
        tc_close(&c);
        if (status != 200)
            usleep(50000);
    }
    return status;
}

START_TEST(fd_exhaustion_sheds_and_recovers)
{
    struct srv s;
    struct rlimit old, low;
    int fds[CROWD];
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = FDS_FOR_SERVER;
    /* The server inherits the low limit; this process gets its own back. */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int started = srv_start(&s, "{\"timeouts\": {\"handshake_ms\": 30000}}", NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(started, 0);
    fprintf(stderr, "e2e_faults: server started with %d of %d fds in use\n", open_fds(s.pid),
            FDS_FOR_SERVER);

    struct tc_conn kept;
    tls_open(&kept, &s);
    ck_assert_int_eq(healthz_on(&kept), 200);
    for (int i = 0; i < CROWD; i++)
        ck_assert_int_ge(fds[i] = tcp_connect(s.https_port), 0);
    int shed = tcp_wait_closed(fds, CROWD, 1500);
    fprintf(stderr, "e2e_faults: %d of %d connections shed at once\n", shed, CROWD);
    ck_assert_int_gt(shed, 0);
    ck_assert_int_lt(shed, CROWD);
    for (int i = 0; i < 200 && !srv_log_contains(&s, "out of file descriptors"); i++)
        usleep(10000);
    ck_assert(srv_log_contains(&s, "out of file descriptors"));

    /* Still at the limit: an open connection is served, a new one is shed
     * at once rather than left hanging, and no worker spins. */
    ck_assert_int_eq(healthz_on(&kept), 200);
    int extra = tcp_connect(s.https_port);
    ck_assert_int_ge(extra, 0);
    ck_assert_int_eq(tcp_wait_closed(&extra, 1, 1000), 1);
    long cpu0 = cpu_ms(s.pid);
    usleep(1000000);
    long spent = cpu_ms(s.pid) - cpu0;
    fprintf(stderr, "e2e_faults: %ld ms of CPU in 1 s at the limit\n", spent);
    ck_assert_msg(spent < 300, "the server burns %ld ms of CPU per second at the fd limit", spent);

    /* The clients go away: service comes back for new connections. */
    for (int i = 0; i < CROWD; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    ck_assert_int_eq(healthz_new_within(&s, 5000), 200);
    ck_assert_int_eq(healthz_on(&kept), 200);
    tc_close(&kept);
    ck_assert(!srv_log_contains(&s, "AddressSanitizer"));
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* The server refuses to start with cfg: a non-zero exit, no listener, and
 * a log naming `needle` (a path) with `why` (NULL: any reason). */
static void refuses_to_start(const char *cfg, const char *needle, const char *why)
{
    struct srv s;
    int st = srv_run_to_exit(&s, cfg, 60000);
    ck_assert_msg(st > 0 && st < 128, "exit status %d for %s", st, cfg);
    ck_assert_msg(srv_log_contains(&s, needle), "the log does not name %s", needle);
    ck_assert_msg(why == NULL || srv_log_contains(&s, why), "the log does not say '%s'", why);
    ck_assert(!srv_log_contains(&s, "listening on"));
    srv_stop(&s, SIGTERM);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(unusable_database_refuses_to_start)
{
    char dir[] = "/tmp/pc-fault-XXXXXX", path[160], cfg[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* Root ignores permissions, so "unwritable" is a parent that is a file. */
    snprintf(path, sizeof path, "%s/afile", dir);
    write_text(path, "not a directory\n");
    snprintf(path, sizeof path, "%s/afile/sub/pc.db", dir);
    snprintf(cfg, sizeof cfg, "{\"db\": {\"path\": \"%s\"}}", path);
    refuses_to_start(cfg, path, "database (db.path)");
    refuses_to_start(cfg, path, "Not a directory");
    /* A directory where the file should be. */
    snprintf(path, sizeof path, "%s/adir", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(cfg, sizeof cfg, "{\"db\": {\"path\": \"%s\"}}", path);
    refuses_to_start(cfg, path, "unable to open database file");
    /* A file that is not a database. */
    snprintf(path, sizeof path, "%s/garbage.db", dir);
    write_text(path, "this is not an SQLite database, but it is long enough to look like one.\n");
    snprintf(cfg, sizeof cfg, "{\"db\": {\"path\": \"%s\"}}", path);
    refuses_to_start(cfg, path, "not a database");
    snprintf(cfg, sizeof cfg, "rm -rf %s", dir);
    ck_assert_int_eq(system(cfg), 0);
}
END_TEST

START_TEST(unusable_certificate_refuses_to_start)
{
    char dir[] = "/tmp/pc-fault-XXXXXX", path[160], cfg[4096], err[256];
    struct tls_dev_paths dev;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/dev", dir);
    ck_assert_msg(tls_certgen_dev(path, &dev, err, sizeof err) == 0, "%s", err);
    /* Missing certificate. */
    snprintf(cfg, sizeof cfg,
             "{\"tls\": {\"cert_file\": \"%s/missing.crt\", \"key_file\": \"%s\"}}", dir,
             dev.key_file);
    snprintf(path, sizeof path, "%s/missing.crt", dir);
    refuses_to_start(cfg, path, "file");
    /* A directory instead of the certificate. */
    snprintf(cfg, sizeof cfg, "{\"tls\": {\"cert_file\": \"%s\", \"key_file\": \"%s\"}}", dir,
             dev.key_file);
    /* mbedTLS sizes its read by seeking to the end of the "file": for a
     * directory that is huge, calloc fails and it reports "PK - Memory
     * allocation failed"; the path is the clue. ASan would abort on that
     * calloc where libc returns NULL, so let it return NULL too. */
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL, opts[512];
    snprintf(opts, sizeof opts, "%s%sallocator_may_return_null=1", asan ? asan : "",
             asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    refuses_to_start(cfg, dir, NULL);
    if (saved)
        setenv("ASAN_OPTIONS", saved, 1);
    else
        unsetenv("ASAN_OPTIONS");
    free(saved);
    /* Missing key. */
    snprintf(cfg, sizeof cfg,
             "{\"tls\": {\"cert_file\": \"%s\", \"key_file\": \"%s/missing.key\"}}", dev.cert_file,
             dir);
    snprintf(path, sizeof path, "%s/missing.key", dir);
    refuses_to_start(cfg, path, "file");
    /* A key that is not PEM. */
    snprintf(path, sizeof path, "%s/garbage.key", dir);
    write_text(path, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
    snprintf(cfg, sizeof cfg, "{\"tls\": {\"cert_file\": \"%s\", \"key_file\": \"%s\"}}",
             dev.cert_file, path);
    refuses_to_start(cfg, path, "PEM");
    /* The key of another certificate: the CA's certificate with the server key. */
    snprintf(cfg, sizeof cfg, "{\"tls\": {\"cert_file\": \"%s\", \"key_file\": \"%s\"}}",
             dev.ca_file, dev.key_file);
    refuses_to_start(cfg, dev.key_file, "does not match");
    /* No certificate configured and the dev directory cannot be created. */
    snprintf(path, sizeof path, "%s/afile", dir);
    write_text(path, "not a directory\n");
    snprintf(cfg, sizeof cfg, "{\"tls\": {\"dev_cert_dir\": \"%s/afile/dev\"}}", dir);
    refuses_to_start(cfg, path, "Not a directory");
    snprintf(cfg, sizeof cfg, "rm -rf %s", dir);
    ck_assert_int_eq(system(cfg), 0);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("e2e_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, fd_exhaustion_sheds_and_recovers);
    tcase_add_test(tc, unusable_database_refuses_to_start);
    tcase_add_test(tc, unusable_certificate_refuses_to_start);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(faults_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
