/* e2e_deploy.c: what an operator meets when putting the real binary in
 * production: one process per port, backup and restore of the live
 * database. */
#include <check.h>
#include <jansson.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/https.h"

/* A config fragment that pins both listeners to the given ports. */
static void ports_json(char *out, size_t cap, int https_port, int http_port)
{
    snprintf(out, cap, "{\"server\": {\"https_port\": %d, \"http_port\": %d}}", https_port,
             http_port);
}

static void assert_serves(const struct srv *s, int n)
{
    for (int i = 0; i < n; i++) {
        struct http_resp r;
        https_request(s, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r);
        ck_assert_int_eq(r.status, 200);
    }
}

START_TEST(second_instance_on_same_ports_refused)
{
    struct srv a, b;
    char json[128], want[64];
    ck_assert_int_eq(srv_start(&a, NULL, NULL), 0);
    /* _i == 0: the same HTTPS port; 1: only the plain-HTTP port is shared. */
    if (_i == 0)
        ports_json(json, sizeof json, a.https_port, a.http_port);
    else
        ports_json(json, sizeof json, 0, a.http_port);
    ck_assert_int_eq(srv_run_to_exit(&b, json, 20000), 1);
    snprintf(want, sizeof want, "port %d: another Portcullis process",
             _i == 0 ? a.https_port : a.http_port);
    ck_assert_msg(srv_log_contains(&b, want), "no '%s' in the second server's log", want);
    srv_stop(&b, SIGTERM);
    /* Every connection still reaches the first server: 50 fresh handshakes
     * would split between two listeners if the second had joined. */
    assert_serves(&a, 50);
    ck_assert_int_eq(srv_stop(&a, SIGTERM), 0);
}
END_TEST

/* Another program holding the port with SO_REUSEPORT (same user) would
 * share it too: the start-up probe sees any listener. */
START_TEST(port_held_by_another_program_refused)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    int port = ntohs(sin.sin_port);

    struct srv b;
    char json[128], want[80];
    ports_json(json, sizeof json, port, 0);
    ck_assert_int_eq(srv_run_to_exit(&b, json, 20000), 1);
    snprintf(want, sizeof want, "port %d: another process already listens there", port);
    ck_assert_msg(srv_log_contains(&b, want), "no '%s' in the log", want);
    srv_stop(&b, SIGTERM);
    close(fd);
}
END_TEST

/* After the first server stops, its ports are free again at once. */
START_TEST(ports_free_after_stop)
{
    struct srv a, b;
    char json[128];
    ck_assert_int_eq(srv_start(&a, NULL, NULL), 0);
    ports_json(json, sizeof json, a.https_port, a.http_port);
    ck_assert_int_eq(srv_stop(&a, SIGKILL), 128 + SIGKILL);
    ck_assert_int_eq(srv_start(&b, json, NULL), 0);
    assert_serves(&b, 3);
    ck_assert_int_eq(srv_stop(&b, SIGTERM), 0);
}
END_TEST

/* ---- backup and restore ------------------------------------------------- */

static int register_user(const struct srv *s, const char *name, const char *password)
{
    char body[256], req[512];
    struct http_resp r;
    int n = snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", name,
                     password);
    snprintf(req, sizeof req,
             "POST /api/register HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
             n, body);
    https_request(s, req, &r);
    return r.status;
}

static int login_status(const struct srv *s, const char *name, const char *password)
{
    char body[256], req[512];
    struct http_resp r;
    int n = snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", name,
                     password);
    snprintf(req, sizeof req,
             "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
             n, body);
    https_request(s, req, &r);
    return r.status;
}

/* Runs `portcullis --config CONFIG backup FILE` in the background. */
static pid_t backup_spawn(const char *config, const char *file)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(PC_BINARY, PC_BINARY, "--config", config, "backup", file, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int sql_count_user(sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    ck_assert_int_eq(
        sqlite3_prepare_v2(h, "SELECT count(*) FROM users WHERE username = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Registrations keep arriving while the copy is taken: the copy passes
 * integrity_check and holds every user acknowledged before it began. */
START_TEST(backup_under_registration_load)
{
    struct srv s;
    char dir[] = "/tmp/pc-bk-XXXXXX", file[128], name[32];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/copy.db", dir);
    ck_assert_int_eq(srv_start(&s, "{\"rate_limits\": {\"register_ip_per_minute\": 100000}}", NULL),
                     0);
    int acked = 0, before = -1, status = -1;
    pid_t pid = -1;
    for (int i = 0; i < 400 && (status < 0 || acked < before + 10); i++) {
        snprintf(name, sizeof name, "load-%04d", i);
        ck_assert_int_eq(register_user(&s, name, "correct horse"), 201);
        acked = i + 1;
        if (acked == 20) {
            before = acked;
            pid = backup_spawn(s.config, file);
            ck_assert_int_gt(pid, 0);
        }
        int st;
        if (pid > 0 && status < 0 && waitpid(pid, &st, WNOHANG) == pid)
            status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    if (status < 0) {
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    ck_assert_int_eq(status, 0);
    fprintf(stderr, "e2e_deploy: %d registrations acknowledged, backup began after %d\n", acked,
            before);

    sqlite3 *h = NULL;
    char ok[16] = "";
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(ok, sizeof ok, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    ck_assert_str_eq(ok, "ok");
    for (int i = 0; i < before; i++) {
        snprintf(name, sizeof name, "load-%04d", i);
        ck_assert_msg(sql_count_user(h, name) == 1, "%s missing from the copy", name);
    }
    sqlite3_close(h);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    unlink(file);
    rmdir(dir);
}
END_TEST

/* A config for the command line that points at srv's database and claims
 * its HTTPS port (the server's own config asks for port 0). */
static void cli_config(const struct srv *s, const char *path, const char *db)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"server\": {\"https_address\": \"127.0.0.1\", \"https_port\": %d},"
            " \"db\": {\"path\": \"%s\"}}\n",
            s->https_port, db);
    fclose(f);
}

START_TEST(restore_refused_while_running_then_restores)
{
    struct srv a, b;
    char dir[] = "/tmp/pc-rs-XXXXXX", file[128], cfg[128], db[400], key[400], args[600];
    char out[2048], json[1600];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/copy.db", dir);
    snprintf(cfg, sizeof cfg, "%s/cli.json", dir);
    ck_assert_int_eq(srv_start(&a, NULL, NULL), 0);
    snprintf(db, sizeof db, "%s/data/portcullis.db", a.dir);
    snprintf(key, sizeof key, "%s/data/jwt-es256.pem", a.dir);
    cli_config(&a, cfg, db);
    ck_assert_int_eq(register_user(&a, "alice", "alice password"), 201);
    snprintf(args, sizeof args, "--config %s backup %s", cfg, file);
    ck_assert_msg(cli_run(args, out, sizeof out) == 0, "%s", out);
    ck_assert_int_eq(register_user(&a, "bob", "bob password 1"), 201);

    snprintf(args, sizeof args, "--config %s restore %s", cfg, file);
    ck_assert_int_eq(cli_run(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "stop the server first") != NULL, "%s", out);
    /* Not a database at all: refused before anything is touched. */
    snprintf(args, sizeof args, "--config %s restore %s", cfg, cfg);
    ck_assert_int_eq(cli_run(args, out, sizeof out), 1);

    setenv("PC_KEEP_TMP", "1", 1);
    char adir[256];
    snprintf(adir, sizeof adir, "%s", a.dir);
    ck_assert_int_eq(srv_stop(&a, SIGTERM), 0);
    unsetenv("PC_KEEP_TMP");
    snprintf(args, sizeof args, "--config %s restore %s", cfg, "/nonexistent/copy.db");
    ck_assert_int_eq(cli_run(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/nonexistent/copy.db") != NULL, "%s", out);
    snprintf(args, sizeof args, "--config %s restore %s", cfg, file);
    ck_assert_msg(cli_run(args, out, sizeof out) == 0, "%s", out);

    /* A server on the restored database: alice is back, bob never was. */
    snprintf(json, sizeof json,
             "{\"db\": {\"path\": \"%s\"}, \"auth\": {\"jwt_key_file\": \"%s\","
             " \"master_key_file\": \"%s/data/master.key\"}}",
             db, key, adir);
    ck_assert_int_eq(srv_start(&b, json, NULL), 0);
    ck_assert_int_eq(login_status(&b, "alice", "alice password"), 200);
    ck_assert_int_eq(login_status(&b, "bob", "bob password 1"), 401);
    ck_assert_int_eq(srv_stop(&b, SIGTERM), 0);
    snprintf(args, sizeof args, "rm -rf %s %s", adir, dir);
    ck_assert_int_eq(system(args), 0);
}
END_TEST

/* ---- --check-config and the certificate ---------------------------------- */

static int check_with(const char *dir, const char *cert, const char *key, char *out, size_t cap)
{
    char path[256], args[512];
    snprintf(path, sizeof path, "%s/c.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"tls\": {\"cert_file\": \"%s/%s\", \"key_file\": \"%s/%s\"}}\n", dir, cert, dir,
            key);
    fclose(f);
    snprintf(args, sizeof args, "--check-config --config %s", path);
    return cli_run(args, out, cap);
}

START_TEST(check_config_checks_certificate_and_key)
{
    char dir[] = "/tmp/pc-cc-XXXXXX", path[256], args[512], out[2048];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/g.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"tls\": {\"dev_cert_dir\": \"%s\"}}\n", dir);
    fclose(f);
    snprintf(args, sizeof args, "gen-cert --config %s", path);
    ck_assert_msg(cli_run(args, out, sizeof out) == 0, "%s", out);

    ck_assert_msg(check_with(dir, "server.crt", "server.key", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "warning") == NULL, "%s", out);
    /* A key that is not the certificate's. */
    ck_assert_int_eq(check_with(dir, "server.crt", "ca.key", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "ca.key") != NULL || strstr(out, "match") != NULL, "%s", out);
    /* A missing file is named. */
    ck_assert_int_eq(check_with(dir, "missing.crt", "server.key", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "missing.crt") != NULL, "%s", out);
    /* Not PEM at all. */
    ck_assert_int_eq(check_with(dir, "g.json", "server.key", out, sizeof out), 2);
    /* A key readable by others: accepted, with a warning. */
    snprintf(path, sizeof path, "%s/server.key", dir);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_msg(check_with(dir, "server.crt", "server.key", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "warning") != NULL && strstr(out, "others") != NULL, "%s", out);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ck_assert_int_eq(system(args), 0);
}
END_TEST

/* ---- SIGHUP reloads the config ------------------------------------------- */

/* Rewrites the server's own config file: fn edits the parsed object. */
static void edit_config(const struct srv *s, void (*fn)(json_t *root))
{
    json_error_t je;
    json_t *root = json_load_file(s->config, 0, &je);
    ck_assert_ptr_nonnull(root);
    fn(root);
    ck_assert_int_eq(json_dump_file(root, s->config, JSON_INDENT(2)), 0);
    json_decref(root);
}

static void reloadable_changes(json_t *root)
{
    json_t *server = json_object_get(root, "server");
    json_object_set_new(server, "log_format", json_string("json"));
    json_object_set_new(server, "trusted_proxies", json_pack("[s]", "127.0.0.1"));
    json_object_set_new(server, "workers", json_integer(3)); /* needs a restart */
    json_object_set_new(root, "http",
                        json_pack("{s:[s]}", "cors_origins", "https://app.example.com"));
    json_object_set_new(root, "timeouts", json_pack("{s:i}", "header_ms", 5000));
    json_object_set_new(root, "rate_limits", json_pack("{s:i}", "register_ip_per_minute", 1));
}

static void broken(json_t *root)
{
    json_object_set_new(json_object_get(root, "server"), "workers", json_string("three"));
}

static void wait_log(const struct srv *s, const char *needle)
{
    for (int i = 0; i < 300 && !srv_log_contains(s, needle); i++)
        usleep(20000);
    ck_assert_msg(srv_log_contains(s, needle), "no '%s' in the log", needle);
}

START_TEST(sighup_reloads_config)
{
    struct srv s;
    struct http_resp r;
    char v[128];
    ck_assert_int_eq(srv_start(&s, NULL, NULL), 0);
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n\r\n",
                  &r);
    ck_assert_int_ne(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), 0);

    edit_config(&s, reloadable_changes);
    kill(s.pid, SIGHUP);
    wait_log(&s, "SIGHUP: config reloaded");
    ck_assert(srv_log_contains(&s, "'timeouts' changed: restart to apply"));
    ck_assert(srv_log_contains(&s, "'server' changed beyond"));
    /* CORS origins, trusted proxies and the log format apply at once. */
    https_request(&s,
                  "GET /healthz HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
                  "X-Forwarded-For: 203.0.113.9\r\n\r\n",
                  &r);
    ck_assert_int_eq(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), 0);
    ck_assert_str_eq(v, "https://app.example.com");
    wait_log(&s, "\"client_ip\":\"203.0.113.9\"");
    /* The rate limits too: one registration a minute from now on. */
    ck_assert_int_eq(register_user(&s, "reload1", "correct horse 1"), 201);
    ck_assert_int_eq(register_user(&s, "reload2", "correct horse 2"), 429);

    /* A config that does not validate changes nothing. */
    edit_config(&s, broken);
    kill(s.pid, SIGHUP);
    wait_log(&s, "keeping the running config");
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n\r\n",
                  &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v), 0);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

static Suite *deploy_suite(void)
{
    Suite *s = suite_create("e2e_deploy");
    TCase *ports = tcase_create("ports");
    tcase_set_timeout(ports, 120);
    tcase_add_loop_test(ports, second_instance_on_same_ports_refused, 0, 2);
    tcase_add_test(ports, port_held_by_another_program_refused);
    tcase_add_test(ports, ports_free_after_stop);
    suite_add_tcase(s, ports);
    TCase *backup = tcase_create("backup");
    tcase_set_timeout(backup, 120);
    tcase_add_test(backup, backup_under_registration_load);
    tcase_add_test(backup, restore_refused_while_running_then_restores);
    suite_add_tcase(s, backup);
    TCase *reload = tcase_create("reload");
    tcase_set_timeout(reload, 60);
    tcase_add_test(reload, sighup_reloads_config);
    suite_add_tcase(s, reload);
    TCase *check = tcase_create("check_config");
    tcase_add_test(check, check_config_checks_certificate_and_key);
    suite_add_tcase(s, check);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(deploy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
