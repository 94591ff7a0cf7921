/* test_http_parse.c: request parser, framing rules and chunked decoder.
 * Parser and decoder input sits right before a PROT_NONE page, so any read
 * past the end crashes the test. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/http_parse.h"
#include "support/guard.h"

#define S(x)         x, (sizeof(x) - 1)
#define NHDR         16
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct http_parse_limits LIM = { 8192, 2048, 64 };

/* ---- parser helpers ---------------------------------------------------- */

struct parsed {
    struct http_request_head req;
    struct http_header hdrs[NHDR];
    int rc, status;
    const char *why;
};

static int parse_at(struct parsed *r, const char *buf, size_t len, size_t last_len,
                    const struct http_parse_limits *lim)
{
    memset(r, 0, sizeof *r);
    r->req.headers = r->hdrs;
    r->req.num_headers = NHDR;
    r->rc = http_parse_request(buf, len, last_len, &r->req, lim ? lim : &LIM, &r->status, &r->why);
    if (r->rc == HTTP_PARSE_ERROR)
        ck_assert_ptr_nonnull(r->why);
    return r->rc;
}

/* The slices of the last parse_guarded() result point into this mapping,
 * so it stays until the next call (or the end of the forked test). */
static struct guard last_guard;

/* Whole input in one call, from a guarded buffer. */
static int parse_guarded(struct parsed *r, const char *data, size_t n,
                         const struct http_parse_limits *lim)
{
    if (last_guard.map != NULL)
        guard_unmap(&last_guard);
    guard_map(&last_guard, n);
    return parse_at(r, guard_load(&last_guard, data, n), n, 0, lim);
}

/* Feeds one more byte per call with last_len; returns the first result that
 * is not PARTIAL (or PARTIAL), *stop = input length at that call. */
static int trickle(const char *data, size_t n, const struct http_parse_limits *lim, int *status,
                   size_t *stop)
{
    struct guard g;
    struct parsed r;
    size_t last = 0;

    guard_map(&g, n);
    r.rc = HTTP_PARSE_PARTIAL;
    r.status = 0;
    *stop = n;
    for (size_t k = 1; k <= n; k++) {
        if (parse_at(&r, guard_load(&g, data, k), k, last, lim) != HTTP_PARSE_PARTIAL) {
            *stop = k;
            break;
        }
        ck_assert_uint_eq(r.req.num_headers, NHDR); /* untouched while partial */
        last = k;
    }
    guard_unmap(&g);
    *status = r.status;
    return r.rc;
}

static void assert_str(struct str s, const char *want)
{
    ck_assert_msg(str_eq(s, want), "got \"%.*s\", want \"%s\"", (int)s.n, s.p, want);
}

/* ---- valid requests ---------------------------------------------------- */

START_TEST(test_valid_get)
{
    struct parsed r;
    const char in[] = "GET /index.html?a=1&b HTTP/1.1\r\nHost: example.com\r\n"
                      "User-Agent: t/1\r\n\r\n";

    ck_assert_int_eq(parse_guarded(&r, S(in), NULL), (int)sizeof(in) - 1);
    assert_str(r.req.method, "GET");
    assert_str(r.req.target, "/index.html?a=1&b");
    assert_str(r.req.path, "/index.html");
    assert_str(r.req.query, "a=1&b");
    ck_assert_int_eq(r.req.minor_version, 1);
    ck_assert_uint_eq(r.req.num_headers, 2);
    assert_str(r.hdrs[0].name, "Host");
    assert_str(r.hdrs[0].value, "example.com");
    assert_str(r.hdrs[1].name, "User-Agent");
    assert_str(r.hdrs[1].value, "t/1");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_null(r.why);
}
END_TEST

START_TEST(test_valid_post_headers)
{
    struct parsed r;
    const char in[] = "POST /api/login HTTP/1.1\r\nHost: a\r\n"
                      "Content-Type: application/json; charset=utf-8\r\n"
                      "X-Empty:\r\nX-Ows: \t v a l \t \r\nX-Obs: caf\xc3\xa9\r\n"
                      "Content-Length: 2\r\n\r\n{}";

    ck_assert_int_eq(parse_guarded(&r, S(in), NULL), (int)sizeof(in) - 3);
    assert_str(r.req.method, "POST");
    assert_str(r.req.path, "/api/login");
    ck_assert_ptr_null(r.req.query.p);
    ck_assert_uint_eq(r.req.query.n, 0);
    ck_assert_uint_eq(r.req.num_headers, 6);
    assert_str(r.hdrs[1].value, "application/json; charset=utf-8");
    assert_str(r.hdrs[2].value, "");
    assert_str(r.hdrs[3].value, "v a l");
    assert_str(r.hdrs[4].value, "caf\xc3\xa9");
    assert_str(r.hdrs[5].name, "Content-Length");
}
END_TEST

START_TEST(test_valid_forms)
{
    struct parsed r;

    ck_assert_int_eq(parse_guarded(&r, S("GET /x HTTP/1.0\r\n\r\n"), NULL), 19);
    ck_assert_int_eq(r.req.minor_version, 0);
    ck_assert_uint_eq(r.req.num_headers, 0);

    ck_assert_int_gt(parse_guarded(&r, S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), NULL), 0);
    assert_str(r.req.path, "*");
    ck_assert_ptr_null(r.req.query.p);

    ck_assert_int_gt(parse_guarded(&r, S("GET /?q HTTP/1.1\r\n\r\n"), NULL), 0);
    assert_str(r.req.path, "/");
    assert_str(r.req.query, "q");
    ck_assert_int_gt(parse_guarded(&r, S("GET /a? HTTP/1.1\r\n\r\n"), NULL), 0);
    ck_assert_ptr_nonnull(r.req.query.p);
    ck_assert_uint_eq(r.req.query.n, 0);

    /* one leading CRLF is ignored and counted */
    ck_assert_int_eq(parse_guarded(&r, S("\r\nGET / HTTP/1.1\r\n\r\n"), NULL), 20);
    assert_str(r.req.method, "GET");
}
END_TEST

START_TEST(test_pipelined)
{
    struct parsed r;
    const char in[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                      "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
    size_t first = 28;
    int rc = parse_guarded(&r, S(in), NULL);

    ck_assert_int_eq(rc, (int)first);
    assert_str(r.req.path, "/a");
    ck_assert_int_eq(parse_at(&r, in + first, sizeof(in) - 1 - first, 0, NULL),
                     (int)(sizeof(in) - 1 - first));
    assert_str(r.req.path, "/b");
    assert_str(r.hdrs[0].value, "b");
}
END_TEST

static const struct {
    const char *in;
    size_t n;
} valid_reqs[] = {
    { S("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n") },
    { S("POST /api/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n") },
    { S("GET /x HTTP/1.0\r\n\r\n") },
    { S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") },
    { S("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") },
    { S("GET / HTTP/1.1\r\nX:\r\nY: \t v \t \r\nZ: caf\xc3\xa9\x80\xff\r\n\r\n") },
    { S("ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&' /~!$&'()*+,;=:@.-_?/? HTTP/1.1\r\n\r\n") },
};

/* "incomplete 1..N": every proper prefix is PARTIAL, the whole is its length,
 * and a byte-by-byte feed with last_len ends at the same place. */
START_TEST(test_every_prefix)
{
    for (size_t t = 0; t < ARRAY_LEN(valid_reqs); t++) {
        const char *in = valid_reqs[t].in;
        size_t n = valid_reqs[t].n, stop;
        struct parsed r;
        int status;

        for (size_t k = 0; k < n; k++)
            ck_assert_msg(parse_guarded(&r, in, k, NULL) == HTTP_PARSE_PARTIAL,
                          "req %zu prefix %zu: rc %d", t, k, r.rc);
        ck_assert_int_eq(parse_guarded(&r, in, n, NULL), (int)n);
        ck_assert_int_eq(trickle(in, n, NULL, &status, &stop), (int)n);
        ck_assert_uint_eq(stop, n);
    }
}
END_TEST

/* The end-of-head search resumes 3 bytes before last_len: a head whose
 * CRLF CRLF lies wholly before that is not found again (we feed a dishonest
 * last_len to prove the old bytes are not rescanned). */
START_TEST(test_last_len_resume)
{
    const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\nBODYBODYBODY";
    size_t head = 27, n = sizeof(in) - 1;
    struct parsed r;

    for (size_t last = 0; last < head; last++)
        ck_assert_int_eq(parse_at(&r, in, n, last, NULL), (int)head);
    for (size_t last = head + 3; last <= n; last++)
        ck_assert_int_eq(parse_at(&r, in, n, last, NULL), HTTP_PARSE_PARTIAL);
    /* last_len beyond len is ignored (full rescan) */
    ck_assert_int_eq(parse_at(&r, in, head, n, NULL), (int)head);
}
END_TEST

START_TEST(test_optional_out_params)
{
    struct http_header h[4];
    struct http_request_head req = { .headers = h, .num_headers = 4 };

    ck_assert_int_eq(http_parse_request(S("GET / HTTP/1.1\r\n\r\n"), 0, &req, &LIM, NULL, NULL),
                     18);
    req.num_headers = 4;
    ck_assert_int_eq(http_parse_request(S("GET\x01"), 0, &req, &LIM, NULL, NULL), HTTP_PARSE_ERROR);
    ck_assert_int_eq(http_parse_request(NULL, 0, 0, &req, &LIM, NULL, NULL), HTTP_PARSE_PARTIAL);
    ck_assert_uint_eq(req.num_headers, 4);
}
END_TEST

/* ---- rejections -------------------------------------------------------- */

static const struct http_parse_limits LIM_URI10 = { 8192, 10, 64 };
static const struct http_parse_limits LIM_HEAD32 = { 32, 2048, 64 };
static const struct http_parse_limits LIM_HDR2 = { 8192, 2048, 2 };

static const struct {
    const char *in;
    size_t n;
    int status;
    const struct http_parse_limits *lim;
} bad_reqs[] = {
    { S("G(T / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S(" GET / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET  / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET /  HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1 \r\n\r\n"), 400, NULL },
    { S("GET\t/ HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET /\tHTTP/1.1\r\n\r\n"), 400, NULL },
    { S("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, NULL },
    { S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, NULL },
    { S("GET * HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("OPTIONS *x HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("OPTIONS /* HTTP/1.1\r\n\r\n"), 0, NULL },
    { S("GET /a#b HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET /\r\n\r\n"), 400, NULL },
    { S("GET / \r\n\r\n"), 400, NULL },
    { S("GET / http/1.1\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.10\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.x\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/x.1\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/11\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/2.0\r\n\r\n"), 505, NULL },
    { S("GET / HTTP/1.2\r\n\r\n"), 505, NULL },
    { S("GET / HTTP/0.9\r\n\r\n"), 505, NULL },
    { S("GET / HTTP/9.9\r\n\r\n"), 505, NULL },
    { S("GET / HTTP/1.1\n\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\n\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), 400, NULL },
    { S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("\nGET / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("\r\rGET / HTTP/1.1\r\n\r\n"), 400, NULL },
    { S("GET /abcdefghi HTTP/1.1\r\n\r\n"), 0, &LIM_URI10 },
    { S("GET /abcdefghij HTTP/1.1\r\n\r\n"), 414, &LIM_URI10 },
    { S("GET / HTTP/1.1\r\nX: aaaaaaaaa\r\n\r\n"), 0, &LIM_HEAD32 },
    { S("GET / HTTP/1.1\r\nX: aaaaaaaaaa\r\n\r\n"), 431, &LIM_HEAD32 },
    { S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"), 0, &LIM_HDR2 },
    { S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431, &LIM_HDR2 },
    { S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\0\r\n"), 400, &LIM_HDR2 },
};

/* One call with the whole input and a byte-by-byte feed agree. */
START_TEST(test_reject_table)
{
    for (size_t t = 0; t < ARRAY_LEN(bad_reqs); t++) {
        struct parsed r;
        int rc = parse_guarded(&r, bad_reqs[t].in, bad_reqs[t].n, bad_reqs[t].lim);
        int status;
        size_t stop;

        if (bad_reqs[t].status == 0) {
            ck_assert_msg(rc > 0, "case %zu: rc %d (%s)", t, rc, r.why);
            continue;
        }
        ck_assert_msg(rc == HTTP_PARSE_ERROR && r.status == bad_reqs[t].status,
                      "case %zu: rc %d status %d, want %d", t, rc, r.status, bad_reqs[t].status);
        rc = trickle(bad_reqs[t].in, bad_reqs[t].n, bad_reqs[t].lim, &status, &stop);
        ck_assert_msg(rc == HTTP_PARSE_ERROR && status == bad_reqs[t].status,
                      "case %zu trickled: rc %d status %d", t, rc, status);
    }
}
END_TEST

/* Incomplete heads whose last byte already proves the error: reported at
 * once, not after waiting for the end of the head. */
static const struct {
    const char *in;
    size_t n;
    int status;
    const struct http_parse_limits *lim;
} early_reqs[] = {
    { S("G\x01"), 400, NULL },
    { S("GET\0"), 400, NULL },
    { S("GE@"), 400, NULL },
    { S("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"), 400, NULL },
    { S("GET x"), 400, NULL },
    { S("GET  "), 400, NULL },
    { S("GET *"), 400, NULL },
    { S("GET /a\x80"), 400, NULL },
    { S("GET /abcdefghij"), 414, &LIM_URI10 },
    { S("GET / HTTP/2"), 505, NULL },
    { S("GET / HTTP/1.2"), 505, NULL },
    { S("GET / HTTPS"), 400, NULL },
    { S("GET / HTTP/1.1 "), 400, NULL },
    { S("GET / HTTP/1.1\n"), 400, NULL },
    { S("GET / HTTP/1.1\rX"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\0"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\x1b"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\rb"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: a\n"), 400, NULL },
    { S("GET / HTTP/1.1\r\nX: aaaaaaaaaaaaa"), 431, &LIM_HEAD32 },
    { S("\n"), 400, NULL },
    { S("\rX"), 400, NULL },
    { S("\r\n\r"), 400, NULL },
};

START_TEST(test_early_reject)
{
    for (size_t t = 0; t < ARRAY_LEN(early_reqs); t++) {
        struct parsed r;
        int status;
        size_t stop;
        int rc = parse_guarded(&r, early_reqs[t].in, early_reqs[t].n, early_reqs[t].lim);

        ck_assert_msg(rc == HTTP_PARSE_ERROR && r.status == early_reqs[t].status,
                      "case %zu: rc %d status %d", t, rc, r.status);
        rc = trickle(early_reqs[t].in, early_reqs[t].n, early_reqs[t].lim, &status, &stop);
        ck_assert_msg(rc == HTTP_PARSE_ERROR && status == early_reqs[t].status &&
                          stop == early_reqs[t].n,
                      "case %zu trickled: rc %d status %d at %zu", t, rc, status, stop);
    }
}
END_TEST

static int want_ok_value(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }
static int want_ok_target(unsigned char c) { return c >= 0x21 && c <= 0x7E && c != '#'; }

static int want_ok_name(unsigned char c) { return http_is_tchar(c) || c == ':'; }

/* Every byte value in the method, target, header name and header value
 * ('_' in the template marks the place). */
static const struct {
    const char *tmpl;
    int (*ok)(unsigned char c);
} places[] = {
    { "G_T / HTTP/1.1\r\nHost: a\r\n\r\n", http_is_tchar },
    { "GET /a_b HTTP/1.1\r\nHost: a\r\n\r\n", want_ok_target },
    { "GET / HTTP/1.1\r\nX_y: v\r\n\r\n", want_ok_name },
    { "GET / HTTP/1.1\r\nX: a_b\r\n\r\n", want_ok_value },
};

START_TEST(test_every_byte)
{
    for (size_t k = 0; k < ARRAY_LEN(places); k++) {
        size_t n = strlen(places[k].tmpl);
        size_t pos = (size_t)(strchr(places[k].tmpl, '_') - places[k].tmpl);
        char in[64];

        ck_assert_uint_lt(n, sizeof in);
        memcpy(in, places[k].tmpl, n);
        for (int c = 0; c < 256; c++) {
            struct parsed r;
            size_t stop;
            int status, rc;

            in[pos] = (char)c;
            rc = parse_guarded(&r, in, n, NULL);
            if (places[k].ok((unsigned char)c)) {
                ck_assert_msg(rc == (int)n, "byte 0x%02x place %zu: rc %d", c, k, rc);
                continue;
            }
            ck_assert_msg(rc == HTTP_PARSE_ERROR && r.status == 400,
                          "byte 0x%02x place %zu: rc %d status %d", c, k, rc, r.status);
            rc = trickle(in, n, NULL, &status, &stop);
            ck_assert_msg(rc == HTTP_PARSE_ERROR && status == 400, "byte 0x%02x place %zu trickled",
                          c, k);
        }
    }
}
END_TEST

/* obs-fold would also fail the name check; it must be named as such. */
START_TEST(test_obs_fold_reason)
{
    struct parsed r;

    ck_assert_int_eq(parse_guarded(&r, S("GET / HTTP/1.1\r\nA: a\r\n b\r\n\r\n"), NULL),
                     HTTP_PARSE_ERROR);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.why, "folding"));
    ck_assert_int_eq(parse_guarded(&r, S("GET / HTTP/1.1\r\nA : a\r\n\r\n"), NULL),
                     HTTP_PARSE_ERROR);
    ck_assert_ptr_nonnull(strstr(r.why, "before colon"));
}
END_TEST

START_TEST(test_header_capacity)
{
    struct http_header h[2];
    struct http_request_head req = { .headers = h, .num_headers = 2 };
    int status = 0;

    ck_assert_int_eq(http_parse_request(S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 0,
                                        &req, &LIM, &status, NULL),
                     HTTP_PARSE_ERROR);
    ck_assert_int_eq(status, 431);
    ck_assert_int_eq(http_parse_request(S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"), 0, &req, &LIM,
                                        &status, NULL),
                     30);
    ck_assert_uint_eq(req.num_headers, 2);
}
END_TEST

START_TEST(test_find_header)
{
    struct parsed r;

    ck_assert_int_gt(parse_guarded(&r,
                                   S("GET / HTTP/1.1\r\nHOST: a\r\nx-Thing: 1\r\n"
                                     "X-THING: 2\r\n\r\n"),
                                   NULL),
                     0);
    ck_assert_ptr_eq(http_find_header(&r.req, "host"), &r.hdrs[0]);
    ck_assert_ptr_eq(http_find_header(&r.req, "X-Thing"), &r.hdrs[1]);
    ck_assert_ptr_null(http_find_header(&r.req, "X-Thin"));
    ck_assert_ptr_null(http_find_header(&r.req, "X-Things"));
    ck_assert_ptr_null(http_find_header(&r.req, ""));
}
END_TEST

START_TEST(test_tchar)
{
    const char *extra = "!#$%&'*+-.^_`|~";

    for (int c = 0; c < 256; c++) {
        int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != 0 && strchr(extra, c) != NULL);

        ck_assert_msg(http_is_tchar((unsigned char)c) == want, "byte 0x%02x", c);
    }
}
END_TEST

/* ---- framing ----------------------------------------------------------- */

#define H11 "GET / HTTP/1.1\r\nHost: a\r\n"
#define P11 "POST / HTTP/1.1\r\nHost: a\r\n"
#define P10 "POST / HTTP/1.0\r\n"

static const struct {
    const char *in;
    int status;
    enum http_body_kind body;
    uint64_t cl;
    int keep, expect;
} framing[] = {
    { H11 "\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { P11 "Content-Length: 5\r\n\r\n", 0, HTTP_BODY_LENGTH, 5, 1, 0 },
    { P11 "Content-Length: 007\r\n\r\n", 0, HTTP_BODY_LENGTH, 7, 1, 0 },
    { P11 "Content-Length: 0\r\n\r\n", 0, HTTP_BODY_LENGTH, 0, 1, 0 },
    { P11 "content-length:  12 \r\n\r\n", 0, HTTP_BODY_LENGTH, 12, 1, 0 },
    { P11 "Content-Length: 9223372036854775807\r\n\r\n", 0, HTTP_BODY_LENGTH,
      UINT64_C(9223372036854775807), 1, 0 },
    { P11 "Content-Length: 9223372036854775808\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 18446744073709551616\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 99999999999999999999999999\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: +5\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: -1\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 0x10\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 4 2\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length:\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 1,1\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 5a\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0, 1, 0 },
    { P11 "transfer-encoding: CHUNKED\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0, 1, 0 },
    { P11 "Transfer-Encoding:   Chunked \t\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0, 1, 0 },
    { P11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked, identity\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: identity\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: xchunked\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked;q=1\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked,\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding:\r\n\r\n", 400, 0, 0, 0, 0 },
    { P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0 },
    { P10 "Transfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0 },
    { P10 "Content-Length: 3\r\n\r\n", 0, HTTP_BODY_LENGTH, 3, 0, 0 },
    /* Host */
    { "GET / HTTP/1.1\r\n\r\n", 400, 0, 0, 0, 0 },
    { H11 "Host: a\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: example.com:8443\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.1\r\nHost: [fe80::1.2.3.4]\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.1\r\nHost: a-b.c_d~e.:65535\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: %61\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.0\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, 0, 0, 0, 0 },
    { "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400, 0, 0, 0, 0 },
    /* keep-alive */
    { H11 "Connection: close\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { H11 "Connection: CLOSE\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { H11 "Connection: keep-alive, close\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { H11 "Connection: foo ,\tclose , bar\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { H11 "Connection: a\r\nConnection: close\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { H11 "Connection: closed\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { H11 "Connection: x-close, closer\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { H11 "Connection: keep-alive\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.0\r\nConnection: foo,keep-alive\r\n\r\n", 0, HTTP_BODY_NONE, 0, 1, 0 },
    { "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { "GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", 0, HTTP_BODY_NONE, 0, 0, 0 },
    /* Expect */
    { P11 "Content-Length: 1\r\nExpect: 100-continue\r\n\r\n", 0, HTTP_BODY_LENGTH, 1, 1, 1 },
    { P11 "Content-Length: 1\r\nExpect: 100-Continue\r\n\r\n", 0, HTTP_BODY_LENGTH, 1, 1, 1 },
    { P10 "Content-Length: 1\r\nExpect: 100-continue\r\n\r\n", 0, HTTP_BODY_LENGTH, 1, 0, 0 },
    { P11 "Expect: 100-continue, foo\r\n\r\n", 417, 0, 0, 0, 0 },
    { P11 "Expect: foo\r\n\r\n", 417, 0, 0, 0, 0 },
    { P11 "Expect:\r\n\r\n", 417, 0, 0, 0, 0 },
    { P11 "Expect: 100-continue\r\nExpect: 200-ok\r\n\r\n", 417, 0, 0, 0, 0 },
    { P10 "Expect: foo\r\n\r\n", 417, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nExpect: foo\r\n\r\n", 400, 0, 0, 0, 0 },
};

START_TEST(test_framing)
{
    for (size_t t = 0; t < ARRAY_LEN(framing); t++) {
        struct parsed r;
        struct http_framing f;
        int status = -5;
        const char *why = NULL;
        int rc;

        ck_assert_msg(parse_guarded(&r, framing[t].in, strlen(framing[t].in), NULL) > 0,
                      "case %zu does not parse: %d %s", t, r.status, r.why);
        rc = http_request_framing(&r.req, &f, &status, &why);
        if (framing[t].status != 0) {
            ck_assert_msg(rc == -1 && status == framing[t].status && why != NULL,
                          "case %zu: rc %d status %d", t, rc, status);
            continue;
        }
        ck_assert_msg(rc == 0 && status == 0, "case %zu: rc %d status %d (%s)", t, rc, status, why);
        ck_assert_msg(f.body == framing[t].body && f.content_length == framing[t].cl &&
                          f.keep_alive == framing[t].keep && f.expect_continue == framing[t].expect,
                      "case %zu: body %d cl %llu keep %d expect %d", t, (int)f.body,
                      (unsigned long long)f.content_length, f.keep_alive, f.expect_continue);
    }
}
END_TEST

START_TEST(test_framing_host)
{
    struct parsed r;
    struct http_framing f;

    ck_assert_int_gt(
        parse_guarded(&r, S("GET / HTTP/1.1\r\nHost:  example.com:8443 \r\n\r\n"), NULL), 0);
    ck_assert_int_eq(http_request_framing(&r.req, &f, NULL, NULL), 0);
    assert_str(f.host, "example.com:8443");
    ck_assert_int_gt(parse_guarded(&r, S("GET / HTTP/1.0\r\n\r\n"), NULL), 0);
    ck_assert_int_eq(http_request_framing(&r.req, &f, NULL, NULL), 0);
    ck_assert_uint_eq(f.host.n, 0);
}
END_TEST

static Suite *http_parse_suite(void)
{
    Suite *s = suite_create("http_parse");
    TCase *tc = tcase_create("parse");
    TCase *tf = tcase_create("framing");

    tcase_add_test(tc, test_valid_get);
    tcase_add_test(tc, test_valid_post_headers);
    tcase_add_test(tc, test_valid_forms);
    tcase_add_test(tc, test_pipelined);
    tcase_add_test(tc, test_every_prefix);
    tcase_add_test(tc, test_last_len_resume);
    tcase_add_test(tc, test_optional_out_params);
    tcase_add_test(tc, test_reject_table);
    tcase_add_test(tc, test_early_reject);
    tcase_add_test(tc, test_every_byte);
    tcase_add_test(tc, test_obs_fold_reason);
    tcase_add_test(tc, test_header_capacity);
    tcase_add_test(tc, test_find_header);
    tcase_add_test(tc, test_tchar);
    suite_add_tcase(s, tc);
    tcase_add_test(tf, test_framing);
    tcase_add_test(tf, test_framing_host);
    suite_add_tcase(s, tf);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_parse_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
