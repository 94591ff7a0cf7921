/* test_demo.c: the demo's pure helpers: target URLs of `portcullis demo`.
 * (The loopback test guarding the /demo routes is net_addr_loopback, in
 * test_net.c; the comparison itself runs against a real server in
 * e2e_demo.c.) */
#include <check.h>
#include <string.h>

#include "demo/demo.h"

static const struct {
    const char *url, *scheme, *host;
    int port; /* -1: refused */
} urls[] = {
    { "https://127.0.0.1:8443", "https", "127.0.0.1", 8443 },
    { "https://127.0.0.1:8443/", "https", "127.0.0.1", 8443 },
    { "https://localhost", "https", "localhost", 443 },
    { "http://localhost", "http", "localhost", 80 },
    { "http://127.0.0.1:8080", "http", "127.0.0.1", 8080 },
    { "https://[::1]:8443", "https", "::1", 8443 },
    { "https://[::1]", "https", "::1", 443 },
    { "http://127.0.0.1:8080", "https", NULL, -1 }, /* wrong scheme */
    { "https://127.0.0.1:0", "https", NULL, -1 },
    { "https://127.0.0.1:65536", "https", NULL, -1 },
    { "https://127.0.0.1:", "https", NULL, -1 },
    { "https://127.0.0.1:84x", "https", NULL, -1 },
    { "https://:8443", "https", NULL, -1 },
    { "https://[::1:8443", "https", NULL, -1 },
    { "https://host/path", "https", NULL, -1 },
    { "https:/host", "https", NULL, -1 },
    { "127.0.0.1:8443", "https", NULL, -1 },
    { "", "https", NULL, -1 },
};

START_TEST(parse_urls)
{
    char host[64] = "unchanged";
    int port = 0;
    int rc = demo_parse_url(urls[_i].url, urls[_i].scheme, host, sizeof host, &port);
    if (urls[_i].port < 0) {
        ck_assert_msg(rc == -1, "%s accepted", urls[_i].url);
        return;
    }
    ck_assert_msg(rc == 0, "%s refused", urls[_i].url);
    ck_assert_str_eq(host, urls[_i].host);
    ck_assert_int_eq(port, urls[_i].port);
}
END_TEST

START_TEST(url_host_too_long)
{
    char host[8];
    int port;
    ck_assert_int_eq(demo_parse_url("https://localhost:1", "https", host, sizeof host, &port), -1);
    ck_assert_int_eq(demo_parse_url("https://abcdefg:1", "https", host, sizeof host, &port), 0);
}
END_TEST

static Suite *demo_suite(void)
{
    Suite *s = suite_create("demo");
    TCase *t = tcase_create("helpers");
    tcase_add_loop_test(t, parse_urls, 0, (int)(sizeof urls / sizeof urls[0]));
    tcase_add_test(t, url_host_too_long);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(demo_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
