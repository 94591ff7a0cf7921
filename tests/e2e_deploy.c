/* e2e_deploy.c: what an operator meets when putting the real binary in
 * production: one process per port. */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

static Suite *deploy_suite(void)
{
    Suite *s = suite_create("e2e_deploy");
    TCase *ports = tcase_create("ports");
    tcase_set_timeout(ports, 120);
    tcase_add_loop_test(ports, second_instance_on_same_ports_refused, 0, 2);
    tcase_add_test(ports, port_held_by_another_program_refused);
    tcase_add_test(ports, ports_free_after_stop);
    suite_add_tcase(s, ports);
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
