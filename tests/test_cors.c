/* test_cors.c: which origins the config accepts, and the headers of
 * ordinary and preflight answers for listed, unlisted and absent origins. */
#include <check.h>
#include <string.h>

#include "server/cors.h"

START_TEST(origin_syntax)
{
    static const struct {
        const char *o;
        int ok;
    } c[] = { { "https://app.example.com", 1 },
              { "http://127.0.0.1:5173", 1 },
              { "https://[::1]:8443", 1 },
              { "http://localhost", 1 },
              { "https://app.example.com/", 0 },
              { "https://App.example.com", 0 },
              { "ftp://example.com", 0 },
              { "https://", 0 },
              { "https://a.com:", 0 },
              { "https://a.com:80x", 0 },
              { "https://a.com/path", 0 },
              { "*", 0 },
              { "null", 0 },
              { "https://[::1", 0 } };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        ck_assert_msg(cors_origin_valid(c[i].o) == c[i].ok, "%s", c[i].o);
}
END_TEST

static struct config_list origins;
static struct http_header hdr[4];
static struct http_request req;
static struct http_response resp;

static void setup(void)
{
    memset(&origins, 0, sizeof origins);
    strcpy(origins.item[0], "https://app.example.com");
    origins.n = 1;
    memset(&req, 0, sizeof req);
    req.head.headers = hdr;
    memset(&resp, 0, sizeof resp);
    buf_init(&resp.headers, 4096);
}

static void teardown(void) { buf_free(&resp.headers); }

static void with_headers(const char *origin, const char *acrm)
{
    size_t n = 0;
    if (origin)
        hdr[n++] = (struct http_header){ STR_LIT("Origin"), str_make(origin, strlen(origin)) };
    if (acrm)
        hdr[n++] = (struct http_header){ STR_LIT("Access-Control-Request-Method"),
                                         str_make(acrm, strlen(acrm)) };
    req.head.num_headers = n;
}

static const char *headers(void)
{
    buf_append(&resp.headers, "", 1);
    return buf_head(&resp.headers);
}

START_TEST(listed_origin_named)
{
    with_headers("https://app.example.com", NULL);
    cors_response(&origins, &req, &resp);
    const char *h = headers();
    ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Origin: https://app.example.com\r\n"));
    ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Credentials: true\r\n"));
    ck_assert_ptr_nonnull(strstr(h, "Vary: Origin\r\n"));
    ck_assert_ptr_null(strstr(h, "Access-Control-Allow-Methods"));
}
END_TEST

START_TEST(unlisted_or_absent_origin_gets_nothing)
{
    static const char *other[] = { "https://evil.example.com", "https://app.example.com.evil.org",
                                   "http://app.example.com", "https://app.example.co", NULL };
    for (int i = 0; i < 5; i++) {
        buf_reset(&resp.headers, 4096);
        with_headers(other[i], "POST");
        cors_response(&origins, &req, &resp);
        cors_preflight(&origins, 600, &req, &resp, "POST, OPTIONS");
        const char *h = headers();
        ck_assert_msg(strstr(h, "Access-Control-") == NULL, "%s: %s", other[i], h);
        ck_assert_ptr_nonnull(strstr(h, "Vary: Origin\r\n"));
    }
    /* No list configured: not even Vary. */
    origins.n = 0;
    buf_reset(&resp.headers, 4096);
    with_headers("https://app.example.com", NULL);
    cors_response(&origins, &req, &resp);
    ck_assert_str_eq(headers(), "");
}
END_TEST

START_TEST(preflight_of_listed_origin)
{
    with_headers("https://app.example.com", "POST");
    cors_preflight(&origins, 600, &req, &resp, "POST, OPTIONS");
    const char *h = headers();
    ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Methods: POST, OPTIONS\r\n"));
    ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Headers: Authorization, Content-Type"));
    ck_assert_ptr_nonnull(strstr(h, "Access-Control-Max-Age: 600\r\n"));
    /* An OPTIONS without Access-Control-Request-Method is no preflight. */
    buf_reset(&resp.headers, 4096);
    with_headers("https://app.example.com", NULL);
    cors_preflight(&origins, 600, &req, &resp, "POST, OPTIONS");
    ck_assert_str_eq(headers(), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cors");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, origin_syntax);
    tcase_add_test(tc, listed_origin_named);
    tcase_add_test(tc, unlisted_or_absent_origin_gets_nothing);
    tcase_add_test(tc, preflight_of_listed_origin);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
