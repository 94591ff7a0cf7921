/* test_totp.c: TOTP against RFC 4226's and RFC 6238's test vectors, base32
 * against RFC 4648's, codes against an implementation nobody here wrote
 * (oathtool), and the QR code's structure. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/totp.h"

static const unsigned char rfc_key[] = "12345678901234567890"; /* 20 ASCII bytes */

START_TEST(hotp_rfc4226_vectors)
{
    static const uint32_t want[] = { 755224, 287082, 359152, 969429, 338314,
                                     254676, 287922, 162583, 399871, 520489 };
    for (int i = 0; i < 10; i++) {
        uint32_t c;
        ck_assert_int_eq(totp_code(rfc_key, 20, i, 6, &c), 0);
        ck_assert_uint_eq(c, want[i]);
    }
}
END_TEST

START_TEST(totp_rfc6238_sha1_vectors)
{
    static const struct {
        long long t;
        uint32_t code;
    } v[] = { { 59, 94287082 },         { 1111111109, 7081804 },  { 1111111111, 14050471 },
              { 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000LL, 65353130 } };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t c;
        ck_assert_int_eq(totp_code(rfc_key, 20, totp_step((time_t)v[i].t), 8, &c), 0);
        ck_assert_uint_eq(c, v[i].code);
    }
}
END_TEST

START_TEST(bad_arguments_refused)
{
    uint32_t c;
    ck_assert_int_eq(totp_code(rfc_key, 0, 1, 6, &c), -1);
    ck_assert_int_eq(totp_code(NULL, 20, 1, 6, &c), -1);
    ck_assert_int_eq(totp_code(rfc_key, 20, -1, 6, &c), -1);
    ck_assert_int_eq(totp_code(rfc_key, 20, 1, 5, &c), -1);
    ck_assert_int_eq(totp_code(rfc_key, 20, 1, 9, &c), -1);
}
END_TEST

static void code_at(time_t t, char out[7])
{
    uint32_t c;
    ck_assert_int_eq(totp_code(rfc_key, 20, totp_step(t), 6, &c), 0);
    snprintf(out, 7, "%06u", (unsigned)c);
}

START_TEST(verify_window_and_replay)
{
    const time_t now = 1111111111;
    char code[7];
    int64_t step = -1;
    code_at(now, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, -1, &step), 1);
    ck_assert_int_eq(step, totp_step(now));
    /* The same code again: refused once its step is recorded. */
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, step, &step), 0);
    /* One step of drift each way is accepted, two are not. */
    code_at(now - 30, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, -1, &step), 1);
    code_at(now + 30, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, -1, &step), 1);
    code_at(now - 60, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, -1, &step), 0);
    code_at(now + 60, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, -1, &step), 0);
    /* An older step than the last used one is refused even inside the window. */
    code_at(now - 30, code);
    ck_assert_int_eq(totp_verify(rfc_key, 20, code, now, totp_step(now), &step), 0);
}
END_TEST

START_TEST(verify_rejects_malformed)
{
    static const char *bad[] = { "",        "12345",  "1234567", "12345a", " 23456",
                                 "123456 ", "+12345", "-12345",  NULL };
    int64_t step;
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(totp_verify(rfc_key, 20, bad[i], 1111111111, -1, &step) == 0, "'%s'", bad[i]);
    ck_assert_int_eq(totp_verify(rfc_key, 20, NULL, 1111111111, -1, &step), 0);
}
END_TEST

START_TEST(base32_rfc4648_vectors)
{
    static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *out[] = { "", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI" };
    char buf[32];
    for (int i = 0; i < 7; i++) {
        int n = totp_base32(buf, sizeof buf, (const unsigned char *)in[i], strlen(in[i]));
        ck_assert_int_eq(n, (int)strlen(out[i]));
        ck_assert_str_eq(buf, out[i]);
    }
    ck_assert_int_eq(totp_base32(buf, 4, (const unsigned char *)"foo", 3), -1);
    unsigned char key[TOTP_SECRET_BYTES] = { 0 };
    char b32[TOTP_SECRET_B32_BUF];
    ck_assert_int_eq(totp_base32(b32, sizeof b32, key, sizeof key), 32);
}
END_TEST

START_TEST(uri_percent_encodes)
{
    char uri[256];
    ck_assert_int_gt(totp_uri(uri, sizeof uri, "Port Cullis", "al:ice@x.org", "MZXW6"), 0);
    ck_assert_str_eq(uri, "otpauth://totp/Port%20Cullis:al%3Aice%40x.org?secret=MZXW6"
                          "&issuer=Port%20Cullis&algorithm=SHA1&digits=6&period=30");
    ck_assert_int_eq(totp_uri(uri, 20, "Portcullis", "alice", "MZXW6"), -1);
}
END_TEST

/* oathtool (Debian's oathtool package) computes the same codes. */
START_TEST(codes_match_oathtool)
{
    static const long long times[] = { 59, 1111111109, 1700000000, 1767225600 + 12345 };
    unsigned char key[TOTP_SECRET_BYTES];
    char b32[TOTP_SECRET_B32_BUF], cmd[256], line[32];
    for (int i = 0; i < TOTP_SECRET_BYTES; i++)
        key[i] = (unsigned char)(37 * i + 11 + _i);
    ck_assert_int_gt(totp_base32(b32, sizeof b32, key, sizeof key), 0);
    for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
        uint32_t c;
        char mine[8];
        snprintf(cmd, sizeof cmd, "oathtool --totp -b %s --now @%lld 2>&1", b32, times[k]);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
        ck_assert_int_eq(pclose(p), 0);
        line[strcspn(line, "\n")] = '\0';
        ck_assert_int_eq(totp_code(key, sizeof key, totp_step((time_t)times[k]), 6, &c), 0);
        snprintf(mine, sizeof mine, "%06u", (unsigned)c);
        ck_assert_str_eq(mine, line);
    }
}
END_TEST

/* The QR code has the finder pattern's 7-module top row at the corner
 * after the 4-module quiet zone, and the declared size fits its version. */
START_TEST(qr_svg_structure)
{
    char *svg = totp_qr_svg("otpauth://totp/Portcullis:alice?secret=MZXW6YTBOI&issuer=Portcullis"
                            "&algorithm=SHA1&digits=6&period=30");
    ck_assert_ptr_nonnull(svg);
    ck_assert_int_eq(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
    ck_assert_ptr_nonnull(strstr(svg, "d=\"M4 4h7v1h-7z"));
    int size = 0;
    ck_assert_int_eq(sscanf(strstr(svg, "viewBox=\"0 0 "), "viewBox=\"0 0 %d", &size), 1);
    ck_assert_int_eq((size - 8 - 17) % 4, 0); /* QR versions are 17 + 4v modules wide */
    ck_assert_ptr_nonnull(strstr(svg, "\"/></svg>"));
    free(svg);
}
END_TEST

static Suite *totp_suite(void)
{
    Suite *s = suite_create("totp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hotp_rfc4226_vectors);
    tcase_add_test(tc, totp_rfc6238_sha1_vectors);
    tcase_add_test(tc, bad_arguments_refused);
    tcase_add_test(tc, verify_window_and_replay);
    tcase_add_test(tc, verify_rejects_malformed);
    tcase_add_test(tc, base32_rfc4648_vectors);
    tcase_add_test(tc, uri_percent_encodes);
    tcase_add_loop_test(tc, codes_match_oathtool, 0, 3);
    tcase_add_test(tc, qr_svg_structure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(totp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
