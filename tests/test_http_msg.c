/* test_http_msg.c: the response writer of server/http_msg.c, byte for byte
 * where the wire format is fixed: status line, Content-Length, which
 * responses carry no body, Connection, the security headers per kind of
 * content and listener, the handlers' headers (and the refusal of anything
 * that could split a response), and a full output buffer. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/http_msg.h"

static struct http_response resp;
static struct buf out;
static char text[8192];

static void setup(void)
{
    memset(&resp, 0, sizeof resp);
    buf_init(&resp.headers, 4096);
    buf_init(&resp.body, 65536);
    buf_init(&out, 1 << 20);
}

static void teardown(void)
{
    buf_free(&resp.headers);
    buf_free(&resp.body);
    buf_free(&out);
}

/* Writes resp and returns the bytes as a string. */
static const char *write_resp(int is_tls, int minor, int keep_alive, int head_only)
{
    struct http_writer_opts o = { 31536000, is_tls };
    buf_reset(&out, 0);
    ck_assert_int_eq(http_resp_write(&resp, &o, minor, keep_alive, head_only, &out), 0);
    ck_assert_uint_lt(out.len, sizeof text);
    memcpy(text, buf_head(&out), out.len);
    text[out.len] = '\0';
    return text;
}

static int has_line(const char *s, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(s, want) != NULL;
}

static const char *body_of(const char *s)
{
    const char *p = strstr(s, "\r\n\r\n");
    ck_assert_ptr_nonnull(p);
    return p + 4;
}

START_TEST(json_response)
{
    ck_assert_int_eq(http_resp_json(&resp, 201, json_pack("{s:i}", "id", 7)), 0);
    const char *s = write_resp(0, 1, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 201 Created\r\nDate: ", 28), 0);
    ck_assert(has_line(s, "Content-Length: 8"));
    ck_assert(has_line(s, "Content-Type: application/json; charset=utf-8"));
    ck_assert(has_line(s, "Cache-Control: no-store"));
    ck_assert(has_line(s, "X-Content-Type-Options: nosniff"));
    ck_assert(has_line(s, "Referrer-Policy: no-referrer"));
    ck_assert(has_line(s, "X-Frame-Options: DENY"));
    ck_assert_ptr_null(strstr(s, "Strict-Transport-Security")); /* plain HTTP */
    ck_assert_ptr_null(strstr(s, "Connection:"));               /* 1.1 keep-alive */
    ck_assert_str_eq(body_of(s), "{\"id\":7}");
}
END_TEST

START_TEST(hsts_only_over_tls)
{
    ck_assert_int_eq(http_resp_bytes(&resp, 200, "text/plain", HTTP_CONTENT_OTHER, "ok", 2), 0);
    const char *s = write_resp(1, 1, 1, 0);
    ck_assert(has_line(s, "Strict-Transport-Security: max-age=31536000; includeSubDomains"));
    ck_assert_ptr_null(strstr(s, "Cache-Control"));
    ck_assert_ptr_null(strstr(s, "Content-Security-Policy"));
    ck_assert_str_eq(body_of(s), "ok");
}
END_TEST

START_TEST(html_gets_csp)
{
    ck_assert_int_eq(http_resp_bytes(&resp, 200, "text/html", HTTP_CONTENT_HTML, "<p>", 3), 0);
    const char *s = write_resp(1, 1, 1, 0);
    ck_assert_ptr_nonnull(strstr(s, "\r\nContent-Security-Policy: default-src 'self'; "
                                    "frame-ancestors 'none'"));
}
END_TEST

START_TEST(head_keeps_length_drops_body)
{
    ck_assert_int_eq(http_resp_bytes(&resp, 200, "text/plain", HTTP_CONTENT_OTHER, "hello", 5), 0);
    const char *s = write_resp(0, 1, 1, 1);
    ck_assert(has_line(s, "Content-Length: 5"));
    ck_assert_str_eq(body_of(s), "");
}
END_TEST

START_TEST(no_body_statuses)
{
    ck_assert_int_eq(http_resp_bytes(&resp, 204, "text/plain", HTTP_CONTENT_OTHER, "x", 1), 0);
    const char *s = write_resp(0, 1, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 204 No Content\r\n", 25), 0);
    ck_assert_ptr_null(strstr(s, "\r\nContent-Length:"));
    ck_assert_ptr_null(strstr(s, "\r\nContent-Type:"));
    ck_assert_str_eq(body_of(s), "");

    resp.status = 304;
    s = write_resp(0, 1, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 304 Not Modified\r\n", 27), 0);
    ck_assert_ptr_null(strstr(s, "\r\nContent-Length:"));
    ck_assert_str_eq(body_of(s), "");
}
END_TEST

START_TEST(connection_header)
{
    ck_assert_int_eq(http_resp_bytes(&resp, 200, NULL, HTTP_CONTENT_NONE, "", 0), 0);
    const char *s = write_resp(0, 1, 0, 0);
    ck_assert(has_line(s, "Connection: close"));
    ck_assert(has_line(s, "Content-Length: 0"));
    s = write_resp(0, 0, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.0 200 OK\r\n", 17), 0);
    ck_assert(has_line(s, "Connection: keep-alive"));
    s = write_resp(0, 0, 0, 0);
    ck_assert(has_line(s, "Connection: close"));
}
END_TEST

START_TEST(unset_or_bad_status_is_500)
{
    const char *s = write_resp(0, 1, 1, 0); /* no handler set a status */
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 500 Internal Server Error\r\n", 36), 0);
    resp.status = 1000;
    s = write_resp(0, 1, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 500 ", 13), 0);
    resp.status = 299; /* three digits but unnamed */
    s = write_resp(0, 1, 1, 0);
    ck_assert_int_eq(strncmp(s, "HTTP/1.1 299 Unknown\r\n", 22), 0);
}
END_TEST

START_TEST(handler_headers_checked)
{
    ck_assert_int_eq(http_resp_header(&resp, "Retry-After", "1"), 0);
    ck_assert_int_eq(http_resp_header(&resp, "X-Evil", "a\r\nSet-Cookie: x=1"), -1);
    ck_assert_int_eq(http_resp_header(&resp, "X-Evil", "a\nb"), -1);
    ck_assert_int_eq(http_resp_header(&resp, "Bad Name", "v"), -1);
    ck_assert_int_eq(http_resp_header(&resp, "Bad:Name", "v"), -1);
    ck_assert_int_eq(http_resp_header(&resp, "", "v"), -1);
    ck_assert_int_eq(http_resp_error(&resp, 503, "unavailable", "busy"), 0);
    const char *s = write_resp(0, 1, 1, 0);
    ck_assert(has_line(s, "Retry-After: 1"));
    ck_assert_ptr_null(strstr(s, "X-Evil"));
    ck_assert_ptr_null(strstr(s, "Set-Cookie"));
    ck_assert_ptr_null(strstr(s, "Bad"));
    ck_assert_str_eq(body_of(s), "{\"error\":\"unavailable\",\"detail\":\"busy\"}");
}
END_TEST

START_TEST(full_output_refused)
{
    struct http_writer_opts o = { 0, 0 };
    struct buf small;
    char body[600];
    memset(body, 'b', sizeof body);
    ck_assert_int_eq(http_resp_bytes(&resp, 200, "text/plain", HTTP_CONTENT_OTHER, body, 600), 0);
    buf_init(&small, 512);
    ck_assert_int_eq(http_resp_write(&resp, &o, 1, 1, 0, &small), -1);
    buf_free(&small);
    buf_init(&small, 4096);
    ck_assert_int_eq(http_resp_write(&resp, &o, 1, 1, 0, &small), 0);
    buf_free(&small);
}
END_TEST

START_TEST(request_header_lookup)
{
    struct http_header h[] = {
        { STR_LIT("Host"), STR_LIT("example") },
        { STR_LIT("authorization"), STR_LIT("Bearer abc") },
    };
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.head.headers = h;
    req.head.num_headers = 2;
    struct str v = http_req_header(&req, "Authorization");
    ck_assert_uint_eq(v.n, 10);
    ck_assert_mem_eq(v.p, "Bearer abc", 10);
    ck_assert_ptr_null(http_req_header(&req, "Cookie").p);
}
END_TEST

static Suite *http_msg_suite(void)
{
    Suite *s = suite_create("http_msg");
    TCase *t = tcase_create("writer");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, json_response);
    tcase_add_test(t, hsts_only_over_tls);
    tcase_add_test(t, html_gets_csp);
    tcase_add_test(t, head_keeps_length_drops_body);
    tcase_add_test(t, no_body_statuses);
    tcase_add_test(t, connection_header);
    tcase_add_test(t, unset_or_bad_status_is_500);
    tcase_add_test(t, handler_headers_checked);
    tcase_add_test(t, full_output_refused);
    tcase_add_test(t, request_header_lookup);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_msg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
