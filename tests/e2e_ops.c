/* e2e_ops.c: operating the real binary, each test with a server of its
 * own: timeouts, max_connections, graceful SIGTERM, SIGHUP reload,
 * privilege drop, and the --check-config and gen-cert commands. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/users.h"
#include "support/https.h"

START_TEST(slow_client_cut_by_header_timeout)
{
    struct srv s;
    ck_assert_int_eq(
        srv_start(&s, "{\"timeouts\": {\"header_ms\": 300, \"keepalive_ms\": 300}}", NULL), 0);
    struct tc_conn c;
    struct http_resp r;
    char carry[1];
    size_t cl = 0;
    tls_open(&c, &s);
    ck_assert_int_eq(tc_write_all(&c, "GET /healthz HTTP/1.1\r\n", 23, 5000), 0);
    usleep(150000);
    ck_assert_int_eq(tc_write_all(&c, "Host: a\r\n", 9, 5000), 0);
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 408);
    char b[16];
    ssize_t n = tc_read(&c, b, sizeof b, 20000);
    ck_assert(n == TC_CLOSED || n == TC_ERROR);
    tc_close(&c);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(idle_connection_closed)
{
    struct srv s;
    ck_assert_int_eq(
        srv_start(&s, "{\"timeouts\": {\"keepalive_ms\": 200, \"handshake_ms\": 200}}", NULL), 0);
    int fd = tcp_connect(s.https_port); /* never says hello */
    char b[16];
    ck_assert_int_eq(fd_read_timeout(&fd, b, sizeof b, 20000), 0);
    close(fd);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(sigterm_answers_in_flight)
{
    struct srv s;
    ck_assert_int_eq(srv_start(&s, NULL, NULL), 0);
    struct tc_conn c;
    struct http_resp r;
    char carry[1];
    size_t cl = 0;
    const char *head = "POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbo";
    tls_open(&c, &s);
    ck_assert_int_eq(tc_write_all(&c, head, strlen(head), 5000), 0);
    usleep(100000);
    kill(s.pid, SIGTERM);
    usleep(200000);
    ck_assert_int_eq(tc_write_all(&c, "dy", 2, 5000), 0);
    ck_assert_int_eq(resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_ptr_nonnull(strstr(r.head, "Connection: close"));
    tc_close(&c);
    ck_assert_int_eq(srv_wait(&s, 30000), 0);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(max_connections_refused_then_recovers)
{
    struct srv s;
    ck_assert_int_eq(srv_start(&s, "{\"server\": {\"max_connections\": 4, \"workers\": 1}}", NULL),
                     0);
    int fds[8];
    for (int i = 0; i < 8; i++)
        fds[i] = tcp_connect(s.https_port);
    /* The ones past the limit are closed at once. */
    int closed = 0;
    for (int i = 0; i < 8; i++) {
        char b;
        if (fds[i] >= 0 && fd_read_timeout(&fds[i], &b, 1, 300) == 0)
            closed++;
    }
    ck_assert_int_ge(closed, 4);
    for (int i = 0; i < 8; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    usleep(200000);
    struct http_resp r;
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Started as root with server.user set: serves as that user. */
START_TEST(drops_privileges)
{
    if (geteuid() != 0)
        return; /* nothing to drop */
    struct srv s;
    ck_assert_int_eq(srv_start(&s, "{\"server\": {\"user\": \"nobody\"}}", NULL), 0);
    char path[64], line[256];
    int uid = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)s.pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %*d %d", &uid) == 1)
            break;
    fclose(f);
    ck_assert_int_eq(uid, 65534);
    struct http_resp r;
    https_request(&s,
                  "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                  "Content-Length: 44\r\n\r\n{\"username\":\"nobody1\",\"password\":\"12345678\"}",
                  &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(check_config_names_the_key)
{
    char dir[] = "/tmp/pc-cfg-XXXXXX", path[128], args[256], out[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/c.json", dir);
    snprintf(args, sizeof args, "--check-config --config %s", path);
    write_text(path, "{\"server\": {\"workers\": 2}}");
    ck_assert_int_eq(cli_run(args, out, sizeof out), 0);
    write_text(path, "{\"server\": {\"wrokers\": 2}}");
    ck_assert_int_eq(cli_run(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "server.wrokers") != NULL, "%s", out);
    write_text(path, "{\"timeouts\": {\"header_ms\": \"10\"}}");
    ck_assert_int_eq(cli_run(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "timeouts.header_ms") != NULL, "%s", out);
    write_text(path, "{\"server\": {\n \"workers\": 2,,}}");
    ck_assert_int_eq(cli_run(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "line 2") != NULL, "%s", out);
    ck_assert_int_eq(
        cli_run("--check-config --config " PC_SOURCE_DIR "/config.example.json", out, sizeof out),
        0);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* A db.url libpq cannot parse: libpq's message would quote the part it
 * failed on, here the password. The server's log and the CLI's stderr say
 * the URL is invalid and never show it. */
START_TEST(bad_db_url_keeps_password_out_of_logs)
{
    struct srv s;
    char out[2048];

    ck_assert_int_eq(setenv("PORTCULLIS_DB_URL",
                            "postgresql://portcullis:S3cr%zzPassw0rd@127.0.0.1:1/portcullis", 1),
                     0);
    ck_assert_int_ne(srv_run_to_exit(&s, NULL, 20000), 0);
    ck_assert(srv_log_contains(&s, "not a valid libpq URL"));
    ck_assert(!srv_log_contains(&s, "Passw0rd"));
    srv_stop(&s, SIGTERM);
    ck_assert_int_ne(cli_run("user list", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "not a valid libpq URL") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "Passw0rd") == NULL, "%s", out);
    ck_assert_int_eq(unsetenv("PORTCULLIS_DB_URL"), 0);
}
END_TEST

START_TEST(gen_cert_creates_dev_ca)
{
    char dir[] = "/tmp/pc-gen-XXXXXX", path[128], args[256], out[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/c.json", dir);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"tls\": {\"dev_cert_dir\": \"%s/dev\"}}", dir);
    write_text(path, cfg);
    snprintf(args, sizeof args, "gen-cert --config %s", path);
    ck_assert_int_eq(cli_run(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "created") != NULL, "%s", out);
    ck_assert_int_eq(cli_run(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "kept existing") != NULL, "%s", out);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ck_assert_int_eq(system(args), 0);
}
END_TEST

START_TEST(sighup_reloads_certificate)
{
    struct srv s;
    struct http_resp r;
    ck_assert_int_eq(srv_start(&s, NULL, NULL), 0);
    kill(s.pid, SIGHUP);
    for (int i = 0; i < 200 && !srv_log_contains(&s, "certificate reloaded"); i++)
        usleep(20000);
    ck_assert(srv_log_contains(&s, "certificate reloaded"));
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* A full job queue answers 503 + Retry-After at once, never queues without
 * bound, and the server stays healthy. */
START_TEST(full_job_queue_answers_503)
{
    enum { N = 8 };
    struct srv s;
    ck_assert_int_eq(
        srv_start(&s,
                  "{\"pool\": {\"threads\": 1, \"queue\": 1},"
                  " \"auth\": {\"argon2_memory_kib\": 65536, \"argon2_iterations\": 3},"
                  " \"rate_limits\": {\"register_ip_per_minute\": 1000}}",
                  NULL),
        0);
    struct tc_conn c[N];
    char req[512], carry[1], v[16];
    int created = 0, busy = 0;
    for (int i = 0; i < N; i++)
        tls_open(&c[i], &s);
    for (int i = 0; i < N; i++) {
        char body[96];
        int n = snprintf(body, sizeof body, "{\"username\":\"pool%d\",\"password\":\"password%d\"}",
                         i, i);
        snprintf(req, sizeof req,
                 "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s",
                 n, body);
        ck_assert_int_eq(tc_write_all(&c[i], req, strlen(req), 5000), 0);
    }
    for (int i = 0; i < N; i++) {
        struct http_resp r;
        size_t cl = 0;
        ck_assert_int_eq(resp_read(tls_source, &c[i], &r, 60000, carry, sizeof carry, &cl), 0);
        ck_assert_msg(r.status == 201 || r.status == 503, "status %d", r.status);
        if (r.status == 503) {
            busy++;
            ck_assert_int_eq(resp_header(&r, "Retry-After", v, sizeof v), 0);
            ck_assert_int_ge(atoi(v), 1);
        } else {
            created++;
        }
        tc_close(&c[i]);
    }
    ck_assert_int_ge(created, 1);
    ck_assert_int_ge(busy, 1);
    struct http_resp r;
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static void post_json(const struct srv *s, const char *path, const char *json, int want)
{
    char req[1024];
    struct http_resp r;
    snprintf(req, sizeof req,
             "POST %s HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             path, strlen(json), json);
    https_request(s, req, &r);
    ck_assert_msg(r.status == want, "%s: %d %s", path, r.status, r.body);
}

static void stored_hash(const char *db_path, const char *user, char *out, size_t outlen)
{
    struct db *db = NULL;
    struct db_user u;
    char err[256];
    ck_assert_msg(db_open(&db, db_path, 5000, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_user_by_name(db, user, &u), 0);
    snprintf(out, outlen, "%s", u.password_hash);
    db_close(db);
}

/* New argon2 parameters in the config: the next successful login rehashes
 * the stored password with them (and the password keeps working). */
START_TEST(login_rehashes_with_new_parameters)
{
    char dir[] = "/tmp/pc-rehash-XXXXXX", db_path[128], cfg[512], hash[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/pc.db", dir);
    const char *cred = "{\"username\":\"rehash\",\"password\":\"rehash-password\"}";
    struct srv s;
    snprintf(cfg, sizeof cfg,
             "{\"db\": {\"path\": \"%s\"}, \"auth\": {\"argon2_memory_kib\": 8192,"
             " \"argon2_iterations\": 1, \"master_key_file\": \"%s/master.key\"}}",
             db_path, dir);
    ck_assert_int_eq(srv_start(&s, cfg, NULL), 0);
    post_json(&s, "/api/register", cred, 201);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    stored_hash(db_path, "rehash", hash, sizeof hash);
    ck_assert_msg(strstr(hash, "m=8192,t=1,p=1") != NULL, "%s", hash);

    snprintf(cfg, sizeof cfg,
             "{\"db\": {\"path\": \"%s\"}, \"auth\": {\"argon2_memory_kib\": 9216,"
             " \"argon2_iterations\": 2, \"master_key_file\": \"%s/master.key\"}}",
             db_path, dir);
    ck_assert_int_eq(srv_start(&s, cfg, NULL), 0);
    post_json(&s, "/api/login", cred, 200);
    stored_hash(db_path, "rehash", hash, sizeof hash);
    ck_assert_msg(strstr(hash, "m=9216,t=2,p=1") != NULL, "%s", hash);
    post_json(&s, "/api/login", cred, 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    snprintf(cfg, sizeof cfg, "rm -rf %s", dir);
    ck_assert_int_eq(system(cfg), 0);
}
END_TEST

static Suite *ops_suite(void)
{
    Suite *s = suite_create("e2e_ops");
    TCase *own = tcase_create("own_server");
    tcase_set_timeout(own, 180);
    tcase_add_test(own, slow_client_cut_by_header_timeout);
    tcase_add_test(own, bad_db_url_keeps_password_out_of_logs);
    tcase_add_test(own, idle_connection_closed);
    tcase_add_test(own, sigterm_answers_in_flight);
    tcase_add_test(own, max_connections_refused_then_recovers);
    tcase_add_test(own, drops_privileges);
    tcase_add_test(own, full_job_queue_answers_503);
    tcase_add_test(own, login_rehashes_with_new_parameters);
    tcase_add_test(own, sighup_reloads_certificate);
    tcase_add_test(own, check_config_names_the_key);
    tcase_add_test(own, gen_cert_creates_dev_ca);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ops_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
