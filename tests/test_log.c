/* test_log.c: server/log.c: the escaping that keeps request bytes from
 * forging or breaking log lines (control bytes, quotes, backslashes,
 * non-ASCII become \xHH; truncation is marked and always terminated), the
 * access line as written to stderr (the query string never appears), and
 * the level filter. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

static char out[256];

START_TEST(printable_unchanged)
{
    const char *s = "GET /a/b-c_d.e~f?x=1";
    ck_assert_str_eq(log_escape(out, sizeof out, s, strlen(s)), s);
}
END_TEST

START_TEST(control_bytes_escaped)
{
    const char s[] = "a\r\nb\tc\x1b[31m\x7f";
    log_escape(out, sizeof out, s, sizeof s - 1);
    ck_assert_str_eq(out, "a\\x0d\\x0ab\\x09c\\x1b[31m\\x7f");
    ck_assert_ptr_null(strchr(out, '\n'));
}
END_TEST

START_TEST(quotes_and_backslash_escaped)
{
    const char s[] = "say \"hi\" \\ bye";
    log_escape(out, sizeof out, s, sizeof s - 1);
    ck_assert_str_eq(out, "say \\x22hi\\x22 \\x5c bye");
}
END_TEST

START_TEST(nul_and_high_bytes_escaped)
{
    const char s[] = { 'a', '\0', 'b', (char)0xc3, (char)0xa9, (char)0xff };
    log_escape(out, sizeof out, s, sizeof s);
    ck_assert_str_eq(out, "a\\x00b\\xc3\\xa9\\xff");
}
END_TEST

START_TEST(truncation_marked_and_terminated)
{
    char small[12];
    const char *s = "abcdefghijklmnopqrstuvwxyz";
    log_escape(small, sizeof small, s, strlen(s));
    ck_assert_uint_lt(strlen(small), sizeof small);
    ck_assert_int_eq(strncmp(small, "abcdefg", 7), 0);
    ck_assert_str_eq(small + strlen(small) - 3, "...");
    /* An escape is never cut in half. */
    memset(small, 0, sizeof small);
    log_escape(small, sizeof small, "ab\x01\x02\x03\x04", 6);
    ck_assert_uint_lt(strlen(small), sizeof small);
    ck_assert_str_eq(small, "ab\\x01...");
}
END_TEST

START_TEST(tiny_destinations)
{
    char one[1] = { 'x' };
    char five[5];
    ck_assert_ptr_eq(log_escape(one, 0, "abc", 3), one);
    ck_assert_int_eq(one[0], 'x'); /* dstlen 0: untouched */
    log_escape(one, sizeof one, "abc", 3);
    ck_assert_int_eq(one[0], '\0');
    log_escape(five, sizeof five, "abcdef", 6);
    ck_assert_uint_lt(strlen(five), sizeof five);
    log_escape(five, sizeof five, "", 0);
    ck_assert_str_eq(five, "");
}
END_TEST

/* Runs fn with stderr sent to a file and returns what was written. */
static char captured[4096];
static const char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/pc-test-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    fn();
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    ck_assert_int_ge(n, 0);
    captured[n] = '\0';
    close(fd);
    unlink(path);
    return captured;
}

static void write_access(void)
{
    static const char method[] = "GE\"T";
    static const char path[] = "/x\n/y";
    struct log_access a = { .client_ip = "127.0.0.1",
                            .client_port = 5000,
                            .scheme = "https",
                            .method = method,
                            .method_len = sizeof method - 1,
                            .path = path,
                            .path_len = sizeof path - 1,
                            .status = 404,
                            .bytes = 123,
                            .duration_ms = 1.5,
                            .request_id = "req-1",
                            .route = "/x/:id",
                            .user_id = 7 };
    log_set_level(LOG_INFO);
    log_access(&a);
}

static void write_access_json(void)
{
    log_set_format(LOG_FORMAT_JSON);
    write_access();
    log_set_request("req-2");
    log_warn("a \"quoted\" message");
    log_set_request(NULL);
    log_set_format(LOG_FORMAT_TEXT);
}

/* One JSON object per line, with every field an operator filters on. */
START_TEST(access_line_json)
{
    char *s = strdup(capture_stderr(write_access_json));
    char *nl = strchr(s, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    json_error_t je;
    json_t *a = json_loads(s, 0, &je), *m = json_loads(nl + 1, 0, &je);
    ck_assert_msg(a != NULL && m != NULL, "not JSON lines: %s", s);
    ck_assert_str_eq(json_string_value(json_object_get(a, "type")), "access");
    ck_assert_str_eq(json_string_value(json_object_get(a, "method")), "GE\\x22T");
    ck_assert_str_eq(json_string_value(json_object_get(a, "path")), "/x\\x0a/y");
    ck_assert_str_eq(json_string_value(json_object_get(a, "route")), "/x/:id");
    ck_assert_str_eq(json_string_value(json_object_get(a, "request_id")), "req-1");
    ck_assert_str_eq(json_string_value(json_object_get(a, "client_ip")), "127.0.0.1");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "status")), 404);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "bytes")), 123);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "user_id")), 7);
    ck_assert(json_real_value(json_object_get(a, "duration_ms")) == 1.5);
    ck_assert_ptr_nonnull(json_object_get(a, "time"));
    ck_assert_str_eq(json_string_value(json_object_get(m, "msg")), "a \"quoted\" message");
    ck_assert_str_eq(json_string_value(json_object_get(m, "level")), "warn");
    ck_assert_str_eq(json_string_value(json_object_get(m, "request_id")), "req-2");
    json_decref(a);
    json_decref(m);
    free(s);
}
END_TEST

START_TEST(access_line_escaped)
{
    const char *s = capture_stderr(write_access);
    ck_assert_msg(strstr(s, "access 127.0.0.1:5000 https \"GE\\x22T /x\\x0a/y\" 404 123 ") != NULL,
                  "got: %s", s);
    ck_assert_msg(strstr(s, " id=req-1 user=7\n") != NULL, "got: %s", s);
    /* One line: the newline of the path did not end it early. */
    ck_assert_ptr_eq(strchr(s, '\n'), s + strlen(s) - 1);
}
END_TEST

static void write_levels(void)
{
    log_set_level(LOG_WARN);
    log_info("hidden-info");
    log_debug("hidden-debug");
    log_warn("shown-%s", "warn");
    log_error("shown-error");
    log_set_level(LOG_INFO);
}

START_TEST(level_filter)
{
    const char *s = capture_stderr(write_levels);
    ck_assert_ptr_null(strstr(s, "hidden"));
    ck_assert_ptr_nonnull(strstr(s, "warn shown-warn\n"));
    ck_assert_ptr_nonnull(strstr(s, "error shown-error\n"));
    ck_assert_str_eq(log_level_name(LOG_DEBUG), "debug");
    ck_assert_str_eq(log_level_name((enum log_level)9), "unknown");
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *t = tcase_create("escape");
    tcase_add_test(t, printable_unchanged);
    tcase_add_test(t, control_bytes_escaped);
    tcase_add_test(t, quotes_and_backslash_escaped);
    tcase_add_test(t, nul_and_high_bytes_escaped);
    tcase_add_test(t, truncation_marked_and_terminated);
    tcase_add_test(t, tiny_destinations);
    suite_add_tcase(s, t);
    tcase_add_test(t, access_line_escaped);
    tcase_add_test(t, access_line_json);
    tcase_add_test(t, access_line_escaped);
    tcase_add_test(t, level_filter);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
