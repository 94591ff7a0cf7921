/* test_net.c: the socket helpers: the one loopback test (listen addresses
 * in config_validate, client addresses on the /demo routes) and a real
 * listening socket on an ephemeral loopback port. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/net.h"

static const struct {
    const char *ip;
    int loopback; /* 1, 0, or -1 not a literal */
} ips[] = {
    { "127.0.0.1", 1 },
    { "127.255.0.9", 1 },
    { "::1", 1 },
    { "::ffff:127.0.0.1", 1 },
    { "::ffff:127.3.2.1", 1 },
    { "128.0.0.1", 0 },
    { "10.0.0.1", 0 },
    { "0.0.0.0", 0 },
    { "::", 0 },
    { "::ffff:10.0.0.1", 0 },
    { "::ffff:128.0.0.1", 0 },
    { "fe80::1", 0 },
    { "::2", 0 },
    { "localhost", -1 },
    { "", -1 },
    { "127.0.0.1 ", -1 },
    { "[::1]", -1 },
};

START_TEST(loopback_table)
{
    ck_assert_msg(net_addr_loopback(ips[_i].ip) == ips[_i].loopback, "%s", ips[_i].ip);
}
END_TEST

START_TEST(loopback_null) { ck_assert_int_eq(net_addr_loopback(NULL), -1); }
END_TEST

/* A listener on port 0 reports the port the kernel chose, and a client
 * connecting there is accepted with its loopback address as peer text. */
START_TEST(listen_accept_peer)
{
    char err[256], ip[64];
    struct sockaddr_storage peer;
    struct sockaddr_in sa = { .sin_family = AF_INET };
    int port = 0, peer_port = 0, lfd, cfd, afd = -1;

    lfd = net_listen("127.0.0.1", 0, 16, &port, err, sizeof err);
    ck_assert_msg(lfd >= 0, "%s", err);
    ck_assert_int_gt(port, 0);
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sa, sizeof sa), 0);
    for (int i = 0; i < 1000 && afd < 0; i++) {
        afd = net_accept(lfd, &peer);
        if (afd < 0)
            usleep(1000);
    }
    ck_assert_int_ge(afd, 0);
    net_peer_text(&peer, ip, sizeof ip, &peer_port);
    ck_assert_str_eq(ip, "127.0.0.1");
    ck_assert_int_gt(peer_port, 0);
    ck_assert_int_eq(net_addr_loopback(ip), 1);
    close(afd);
    close(cfd);
    close(lfd);
}
END_TEST

START_TEST(listen_refuses_non_literal)
{
    char err[256] = "";
    int port = 0;

    ck_assert_int_eq(net_listen("localhost", 0, 16, &port, err, sizeof err), -1);
    ck_assert_int_gt((int)strlen(err), 0);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *t = tcase_create("net");
    tcase_add_loop_test(t, loopback_table, 0, (int)(sizeof ips / sizeof ips[0]));
    tcase_add_test(t, loopback_null);
    tcase_add_test(t, listen_accept_peer);
    tcase_add_test(t, listen_refuses_non_literal);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
