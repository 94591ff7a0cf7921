/* test_proxy.c: trusted-proxy networks, X-Forwarded-For and the PROXY
 * protocol v2 header, table-driven, with every partial prefix of a header. */
#include <check.h>
#include <string.h>

#include "server/proxy.h"

START_TEST(cidr_parse_cases)
{
    static const struct {
        const char *text;
        int ok, bits;
    } c[] = { { "10.0.0.0/8", 1, 8 },
              { "127.0.0.1", 1, 32 },
              { "::1", 1, 128 },
              { "fd00::/8", 1, 8 },
              { "0.0.0.0/0", 1, 0 },
              { "10.1.2.3/8", 0, 0 },
              { "10.0.0.0/33", 0, 0 },
              { "10.0.0.0/", 0, 0 },
              { "10.0.0.0/-1", 0, 0 },
              { "10.0.0.0/8x", 0, 0 },
              { "", 0, 0 },
              { "/8", 0, 0 },
              { "example.org", 0, 0 },
              { "::ffff:10.0.0.0/8", 1, 8 } };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct proxy_cidr p;
        int rc = proxy_cidr_parse(c[i].text, &p);
        ck_assert_msg((rc == 0) == c[i].ok, "%s", c[i].text);
        if (c[i].ok)
            ck_assert_int_eq(p.bits, c[i].bits);
    }
}
END_TEST

static struct proxy_cidr nets[3];

static void setup_nets(void)
{
    ck_assert_int_eq(proxy_cidr_parse("10.0.0.0/8", &nets[0]), 0);
    ck_assert_int_eq(proxy_cidr_parse("192.168.1.128/25", &nets[1]), 0);
    ck_assert_int_eq(proxy_cidr_parse("fd00:1::/32", &nets[2]), 0);
}

START_TEST(cidr_match_cases)
{
    setup_nets();
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "10.200.3.4"), 1);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "::ffff:10.200.3.4"), 1); /* mapped */
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "11.0.0.1"), 0);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "192.168.1.129"), 1);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "192.168.1.127"), 0);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "fd00:1:ffff::1"), 1);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "fd00:2::1"), 0);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, "garbage"), 0);
    ck_assert_int_eq(proxy_cidr_match(nets, 3, NULL), 0);
    ck_assert_int_eq(proxy_cidr_match(nets, 0, "10.0.0.1"), 0);
}
END_TEST

START_TEST(xff_cases)
{
    static const struct {
        const char *xff, *want; /* want NULL: refused */
    } c[] = {
        { "203.0.113.7", "203.0.113.7" },
        { "203.0.113.7, 10.0.0.2", "203.0.113.7" },
        { "1.1.1.1, 203.0.113.7, 10.0.0.2, 10.9.9.9", "203.0.113.7" }, /* left one is spoofable */
        { "10.0.0.3, 10.0.0.2", NULL },                                /* only proxies */
        { "203.0.113.7,garbage", NULL },
        { "", NULL },
        { " , ", NULL },
        { "  2001:db8::1  ,10.0.0.1", "2001:db8::1" },
        { "::ffff:203.0.113.9", "203.0.113.9" },
        { "203.0.113.7:443", NULL },
    };
    setup_nets();
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char out[PROXY_ADDR_MAX];
        int rc = proxy_xff_client(c[i].xff, strlen(c[i].xff), nets, 3, out, sizeof out);
        if (c[i].want == NULL) {
            ck_assert_msg(rc == -1, "'%s' gave %s", c[i].xff, out);
        } else {
            ck_assert_msg(rc == 0, "'%s' refused", c[i].xff);
            ck_assert_str_eq(out, c[i].want);
        }
    }
}
END_TEST

static const unsigned char sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

static size_t v2_header(unsigned char *h, int cmd, int fam, size_t body)
{
    memcpy(h, sig, 12);
    h[12] = (unsigned char)(0x20 | cmd);
    h[13] = (unsigned char)fam;
    h[14] = (unsigned char)(body >> 8);
    h[15] = (unsigned char)body;
    memset(h + 16, 0, body);
    return 16 + body;
}

START_TEST(v2_ipv4_and_every_prefix)
{
    unsigned char h[64];
    char ip[PROXY_ADDR_MAX];
    size_t n = v2_header(h, 1, 0x11, 12 + 5); /* with 5 bytes of TLVs after */
    const unsigned char src[4] = { 203, 0, 113, 7 };
    memcpy(h + 16, src, 4);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(proxy_v2_parse(h, k, ip, sizeof ip) == 0, "prefix of %zu bytes", k);
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), (long)n);
    ck_assert_str_eq(ip, "203.0.113.7");
    /* Bytes after the header (the TLS ClientHello) are not consumed. */
    h[n] = 0x16, h[n + 1] = 0x03, h[n + 2] = 0x01;
    ck_assert_int_eq(proxy_v2_parse(h, n + 3, ip, sizeof ip), (long)n);
}
END_TEST

START_TEST(v2_ipv6_and_local)
{
    unsigned char h[128];
    char ip[PROXY_ADDR_MAX];
    size_t n = v2_header(h, 1, 0x21, 36);
    h[16] = 0x20, h[17] = 0x01, h[18] = 0x0d, h[19] = 0xb8, h[31] = 1;
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), (long)n);
    ck_assert_str_eq(ip, "2001:db8::1");
    n = v2_header(h, 0, 0x00, 0); /* LOCAL: a health check */
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), (long)n);
    ck_assert_str_eq(ip, "");
}
END_TEST

START_TEST(v2_refused)
{
    unsigned char h[2048];
    char ip[PROXY_ADDR_MAX];
    size_t n = v2_header(h, 1, 0x12, 12); /* UDP */
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), -1);
    n = v2_header(h, 2, 0x11, 12); /* unknown command */
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), -1);
    n = v2_header(h, 1, 0x11, 8); /* too short for two IPv4 addresses */
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), -1);
    n = v2_header(h, 1, 0x11, PROXY_V2_MAX); /* longer than we take */
    ck_assert_int_eq(proxy_v2_parse(h, n, ip, sizeof ip), -1);
    h[12] = 0x11; /* version 1 in the version nibble */
    ck_assert_int_eq(proxy_v2_parse(h, 16, ip, sizeof ip), -1);
    static const char v1[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    ck_assert_int_eq(proxy_v2_parse((const unsigned char *)v1, sizeof v1 - 1, ip, sizeof ip), -1);
    static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x00, 0x40 }; /* TLS, no header */
    ck_assert_int_eq(proxy_v2_parse(hello, sizeof hello, ip, sizeof ip), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cidr_parse_cases);
    tcase_add_test(tc, cidr_match_cases);
    tcase_add_test(tc, xff_cases);
    tcase_add_test(tc, v2_ipv4_and_every_prefix);
    tcase_add_test(tc, v2_ipv6_and_local);
    tcase_add_test(tc, v2_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
