/* test_http_chunked.c: the incremental chunked-body decoder
 * (server/http_chunked.c): valid bodies split at every cut, each bad chunk
 * form, the sticky end states; every piece in a guarded buffer. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "server/http_parse.h"
#include "support/guard.h"

#define S(x)         x, (sizeof(x) - 1)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- chunked ----------------------------------------------------------- */

struct feed_result {
    ssize_t rc;
    char body[256];
    size_t body_n;
    char rest[256];
    size_t rest_n;
};

/* Feeds in[0..n) in pieces split at cuts[] (ascending), each piece in its own
 * guarded buffer, collecting the decoded body and the bytes left over. */
static void chunk_feed(struct http_chunked *d, const char *in, size_t n, const size_t *cuts,
                       size_t ncuts, struct feed_result *fr)
{
    struct guard g;
    size_t from = 0;

    memset(fr, 0, sizeof *fr);
    guard_map(&g, n);
    fr->rc = HTTP_PARSE_PARTIAL;
    for (size_t c = 0; c <= ncuts && fr->rc == HTTP_PARSE_PARTIAL; c++) {
        size_t to = c < ncuts ? cuts[c] : n;
        size_t sz = to - from;
        char *p = guard_load(&g, in + from, sz);

        fr->rc = http_chunked_decode(d, p, &sz);
        if (fr->rc == HTTP_PARSE_ERROR)
            break;
        ck_assert_uint_le(sz, to - from);
        ck_assert_uint_le(fr->body_n + sz, sizeof fr->body);
        memcpy(fr->body + fr->body_n, p, sz);
        fr->body_n += sz;
        if (fr->rc >= 0) {
            ck_assert_uint_le(sz + (size_t)fr->rc, to - from);
            memcpy(fr->rest, p + sz, (size_t)fr->rc);
            memcpy(fr->rest + fr->rc, in + to, n - to);
            fr->rest_n = (size_t)fr->rc + n - to;
        }
        from = to;
    }
    guard_unmap(&g);
}

static const struct {
    const char *in;
    size_t n;
    const char *body;
    size_t body_n;
    const char *rest;
    size_t max_line, max_trailer;
} chunk_ok[] = {
    { S("5\r\nhello\r\n0\r\n\r\n"), S("hello"), "", 64, 64 },
    { S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), S("hello world"), "", 64, 64 },
    { S("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"), S("0123456789abcdefghij"), "", 64, 64 },
    { S("005\r\nhello\r\n000\r\n\r\n"), S("hello"), "", 64, 64 },
    { S("0\r\n\r\n"), S(""), "", 64, 64 },
    { S("4\r\n\r\n\r\n\r\n0\r\n\r\n"), S("\r\n\r\n"), "", 64, 64 },
    { S("3\r\na\0b\r\n0\r\n\r\n"), S("a\0b"), "", 64, 64 },
    { S("5;name=value\r\nhello\r\n0;last\r\n\r\n"), S("hello"), "", 64, 64 },
    { S("5 ;a=\"q s\"\r\nhello\r\n0\t; x\r\n\r\n"), S("hello"), "", 64, 64 },
    { S("5;abcdefghijklmn\r\nhello\r\n0\r\n\r\n"), S("hello"), "", 16, 64 },
    { S("5\r\nhello\r\n0\r\nX-Trailer: v\r\nY: w\r\n\r\n"), S("hello"), "", 64, 64 },
    { S("0\r\nX: 0123456789a\r\n\r\n"), S(""), "", 64, 16 },
    { S("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), S("hello"), "GET / HTTP/1.1\r\n\r\n", 64,
      64 },
    { S("0\r\nT: 1\r\n\r\nX"), S(""), "X", 64, 64 },
};

static void check_chunk_ok(size_t t, const size_t *cuts, size_t ncuts)
{
    struct http_chunked d;
    struct feed_result fr;

    http_chunked_init(&d, chunk_ok[t].max_line, chunk_ok[t].max_trailer);
    chunk_feed(&d, chunk_ok[t].in, chunk_ok[t].n, cuts, ncuts, &fr);
    ck_assert_msg(fr.rc >= 0, "case %zu (%zu cuts): rc %zd", t, ncuts, fr.rc);
    ck_assert_uint_eq(fr.body_n, chunk_ok[t].body_n);
    ck_assert_mem_eq(fr.body, chunk_ok[t].body, fr.body_n);
    ck_assert_uint_eq(fr.rest_n, strlen(chunk_ok[t].rest));
    ck_assert_mem_eq(fr.rest, chunk_ok[t].rest, fr.rest_n);
}

START_TEST(test_chunked_ok)
{
    size_t cuts[128];

    for (size_t t = 0; t < ARRAY_LEN(chunk_ok); t++) {
        size_t n = chunk_ok[t].n;

        ck_assert_uint_lt(n, ARRAY_LEN(cuts));
        check_chunk_ok(t, NULL, 0);
        for (size_t k = 0; k <= n; k++)
            check_chunk_ok(t, &k, 1);
        for (size_t k = 1; k < n; k++)
            cuts[k - 1] = k;
        check_chunk_ok(t, cuts, n - 1); /* one byte per call */
    }
}
END_TEST

static const struct {
    const char *in;
    size_t n;
    size_t max_line, max_trailer;
} chunk_bad[] = {
    { S("z\r\n"), 64, 64 },
    { S("-1\r\n"), 64, 64 },
    { S("+1\r\n"), 64, 64 },
    { S("0x5\r\nhello\r\n0\r\n\r\n"), 64, 64 },
    { S("\r\n"), 64, 64 },
    { S(";a\r\n"), 64, 64 },
    { S(" 5\r\nhello\r\n0\r\n\r\n"), 64, 64 },
    { S("5 5\r\n"), 64, 64 },
    { S("5 \r\nhello\r\n0\r\n\r\n"), 64, 64 },
    { S("ffffffffffffffffff\r\n"), 64, 64 },
    { S("8000000000000000\r\n"), 64, 64 },
    { S("10000000000000000\r\n"), 64, 64 },
    { S("5\r\nhelloX"), 64, 64 },
    { S("5\r\nhelloXX\r\n0\r\n\r\n"), 64, 64 },
    { S("5\r\nhello0\r\n\r\n"), 64, 64 },
    { S("5\r\nhello\rX"), 64, 64 },
    { S("5\nhello\r\n0\r\n\r\n"), 64, 64 },
    { S("5\r\rhello"), 64, 64 },
    { S("5\r\nhello\n0\r\n\r\n"), 64, 64 },
    { S("5\r\nhello\r\n0\n\r\n"), 64, 64 },
    { S("5\r\nhello\r\n0\r\n\n"), 64, 64 },
    { S("5\r\nhello\r\n0\r\n\rX"), 64, 64 },
    { S("5;a\nhello"), 64, 64 },
    { S("5;\x01\r\nhello"), 64, 64 },
    { S("5;\x7f\r\nhello"), 64, 64 },
    { S("5;abcdefghijklmno\r\nhello\r\n0\r\n\r\n"), 16, 64 },
    { S("00000000000000005\r\nhello"), 16, 64 },
    { S("0\r\nX: 0123456789ab\r\n\r\n"), 64, 16 },
    { S("0\r\nX: a\r\n b\r\n\r\n"), 64, 64 },
    { S("0\r\n: a\r\n\r\n"), 64, 64 },
    { S("0\r\nX: a\n\r\n"), 64, 64 },
    { S("0\r\nX: a\0\r\n\r\n"), 64, 64 },
    { S("0\r\nX: a\rb\r\n\r\n"), 64, 64 },
};

START_TEST(test_chunked_bad)
{
    size_t cuts[64];

    for (size_t t = 0; t < ARRAY_LEN(chunk_bad); t++) {
        struct http_chunked d;
        struct feed_result fr;
        size_t n = chunk_bad[t].n;

        ck_assert_uint_lt(n, ARRAY_LEN(cuts));

        http_chunked_init(&d, chunk_bad[t].max_line, chunk_bad[t].max_trailer);
        chunk_feed(&d, chunk_bad[t].in, n, NULL, 0, &fr);
        ck_assert_msg(fr.rc == HTTP_PARSE_ERROR, "case %zu: rc %zd", t, fr.rc);
        for (size_t k = 1; k < n; k++)
            cuts[k - 1] = k;
        http_chunked_init(&d, chunk_bad[t].max_line, chunk_bad[t].max_trailer);
        chunk_feed(&d, chunk_bad[t].in, n, cuts, n - 1, &fr);
        ck_assert_msg(fr.rc == HTTP_PARSE_ERROR, "case %zu trickled: rc %zd", t, fr.rc);
    }
}
END_TEST

START_TEST(test_chunked_states)
{
    struct http_chunked d;
    char buf[64];
    size_t sz;

    /* the largest size below 2^63 is accepted, then waits for data */
    http_chunked_init(&d, 64, 64);
    memcpy(buf, "7fffffffffffffff\r\nab", 20);
    sz = 20;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), HTTP_PARSE_PARTIAL);
    ck_assert_uint_eq(sz, 2);
    ck_assert_mem_eq(buf, "ab", 2);

    /* errors are sticky */
    http_chunked_init(&d, 64, 64);
    memcpy(buf, "z", 1);
    sz = 1;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), HTTP_PARSE_ERROR);
    memcpy(buf, "0\r\n\r\n", 5);
    sz = 5;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), HTTP_PARSE_ERROR);

    /* after completion, all input is left over */
    http_chunked_init(&d, 64, 64);
    memcpy(buf, "0\r\n\r\n", 5);
    sz = 5;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), 0);
    ck_assert_uint_eq(sz, 0);
    memcpy(buf, "GET", 3);
    sz = 3;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), 3);
    ck_assert_uint_eq(sz, 0);
    ck_assert_mem_eq(buf, "GET", 3);

    /* empty input is PARTIAL */
    http_chunked_init(&d, 64, 64);
    sz = 0;
    ck_assert_int_eq(http_chunked_decode(&d, buf, &sz), HTTP_PARSE_PARTIAL);
}
END_TEST

static Suite *http_chunked_suite(void)
{
    Suite *s = suite_create("http_chunked");
    TCase *tk = tcase_create("chunked");

    tcase_add_test(tk, test_chunked_ok);
    tcase_add_test(tk, test_chunked_bad);
    tcase_add_test(tk, test_chunked_states);
    suite_add_tcase(s, tk);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_chunked_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
