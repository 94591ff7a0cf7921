/* fuzz_http_parse: the request-head parser (http_parse_request), framing
 * (http_request_framing) and pipelining.
 *
 * Input: two seed bytes, then the bytes a client sent. The seed picks the
 * limits and the split points. For every input:
 *   1. one call with the whole buffer;
 *   2. the same bytes fed in growing prefixes (a trickling client), each
 *      call with last_len = the previous length and the prefix in a fresh
 *      exact-size copy (the connection's buffer may move between reads,
 *      and ASan then catches a read past the bytes given): the verdict,
 *      status and every slice must equal the whole-buffer call's;
 *   3. on success, the framing rules and the head's invariants;
 *   4. pipelining: requests are consumed one after another (bodies skipped
 *      by Content-Length or the chunked decoder) until the buffer ends or a
 *      request fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "server/http_parse.h"

#define HEADER_CAP    64
#define MAX_PIPELINED 64
#define MAX_SPLITS    32

struct slice_at {
    size_t off; /* from the buffer start; SIZE_MAX for a NULL slice */
    size_t n;
};

/* A parse verdict in buffer-independent form, comparable across copies. */
struct outcome {
    int rc;
    int status;
    struct slice_at method, target, path, query;
    int minor;
    size_t nh;
    struct slice_at name[HEADER_CAP], value[HEADER_CAP];
};

static struct slice_at at(const char *base, struct str s)
{
    struct slice_at a = { SIZE_MAX, s.n };

    if (s.p != NULL)
        a.off = (size_t)(s.p - base);
    return a;
}

static int slice_eq(struct slice_at a, struct slice_at b) { return a.off == b.off && a.n == b.n; }

static void slice_inside(const char *base, struct str s, size_t len)
{
    FUZZ_CHECK(s.p != NULL);
    FUZZ_CHECK(s.p >= base && (size_t)(s.p - base) + s.n <= len);
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* What any accepted head must satisfy (http_parse.h). */
static void check_head(const char *buf, size_t consumed, const struct http_request_head *h,
                       const struct http_parse_limits *lim)
{
    slice_inside(buf, h->method, consumed);
    slice_inside(buf, h->target, consumed);
    slice_inside(buf, h->path, consumed);
    FUZZ_CHECK(h->method.n >= 1 && h->method.n <= HTTP_METHOD_MAX);
    for (size_t i = 0; i < h->method.n; i++)
        FUZZ_CHECK(http_is_tchar((unsigned char)h->method.p[i]));
    FUZZ_CHECK(h->target.n >= 1 && h->target.n <= lim->max_uri_bytes);
    FUZZ_CHECK(h->path.p == h->target.p && h->path.n <= h->target.n);
    FUZZ_CHECK(h->path.p[0] == '/' || (h->path.n == 1 && h->path.p[0] == '*'));
    if (h->query.p != NULL) {
        slice_inside(buf, h->query, consumed);
        FUZZ_CHECK(h->query.p == h->path.p + h->path.n + 1);
    }
    FUZZ_CHECK(h->minor_version == 0 || h->minor_version == 1);
    FUZZ_CHECK(h->num_headers <= HEADER_CAP && h->num_headers <= lim->max_headers);
    for (size_t i = 0; i < h->num_headers; i++) {
        const struct http_header *f = &h->headers[i];

        slice_inside(buf, f->name, consumed);
        FUZZ_CHECK(f->name.n > 0);
        for (size_t k = 0; k < f->name.n; k++)
            FUZZ_CHECK(http_is_tchar((unsigned char)f->name.p[k]));
        if (f->value.n > 0) {
            slice_inside(buf, f->value, consumed);
            FUZZ_CHECK(!is_ows(f->value.p[0]) && !is_ows(f->value.p[f->value.n - 1]));
        }
        for (size_t k = 0; k < f->value.n; k++)
            FUZZ_CHECK(f->value.p[k] != '\r' && f->value.p[k] != '\n' && f->value.p[k] != '\0');
        if (f->name.n < 64) { /* lookup finds this field or an earlier namesake */
            char name[64];
            const struct http_header *g;

            memcpy(name, f->name.p, f->name.n);
            name[f->name.n] = '\0';
            g = http_find_header(h, name);
            FUZZ_CHECK(g != NULL && g <= f && g->name.n == f->name.n);
        }
    }
}

static int parse(const char *buf, size_t len, size_t last_len, struct http_header *hdrs,
                 const struct http_parse_limits *lim, struct http_request_head *h,
                 struct outcome *o)
{
    const char *why = NULL;

    memset(h, 0, sizeof *h);
    memset(o, 0, sizeof *o);
    h->headers = hdrs;
    h->num_headers = HEADER_CAP;
    o->rc = http_parse_request(buf, len, last_len, h, lim, &o->status, &why);
    if (o->rc > 0) {
        FUZZ_CHECK((size_t)o->rc <= len && o->status == 0);
        check_head(buf, (size_t)o->rc, h, lim);
        o->method = at(buf, h->method);
        o->target = at(buf, h->target);
        o->path = at(buf, h->path);
        o->query = at(buf, h->query);
        o->minor = h->minor_version;
        o->nh = h->num_headers;
        for (size_t i = 0; i < h->num_headers; i++) {
            o->name[i] = at(buf, h->headers[i].name);
            o->value[i] = at(buf, h->headers[i].value);
        }
    } else if (o->rc == HTTP_PARSE_ERROR) {
        FUZZ_CHECK(why != NULL);
        FUZZ_CHECK(o->status == 400 || o->status == 414 || o->status == 431 || o->status == 505);
    } else {
        FUZZ_CHECK(o->rc == HTTP_PARSE_PARTIAL && o->status == 0);
    }
    return o->rc;
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
    FUZZ_CHECK(a->rc == b->rc);
    FUZZ_CHECK(a->status == b->status);
    if (a->rc <= 0)
        return;
    FUZZ_CHECK(slice_eq(a->method, b->method) && slice_eq(a->target, b->target));
    FUZZ_CHECK(slice_eq(a->path, b->path) && slice_eq(a->query, b->query));
    FUZZ_CHECK(a->minor == b->minor && a->nh == b->nh);
    for (size_t i = 0; i < a->nh; i++)
        FUZZ_CHECK(slice_eq(a->name[i], b->name[i]) && slice_eq(a->value[i], b->value[i]));
}

/* Feeds req[0..n) in growing prefixes chosen by rng; returns the verdict of
 * the first call that did not ask for more (or of the last call). */
static void parse_split(const char *req, size_t n, struct fuzz_rng *rng,
                        const struct http_parse_limits *lim, struct outcome *o)
{
    struct http_header hdrs[HEADER_CAP];
    struct http_request_head h;
    size_t end = 0, last = 0;
    /* Byte by byte for short inputs now and then: the strictest trickle. */
    int bytewise = n <= 512 && (fuzz_rng_next(rng) & 3) == 0;
    size_t step_max = n / MAX_SPLITS + 1;

    if (n == 0) {
        parse(req, 0, 0, hdrs, lim, &h, o);
        return;
    }
    while (end < n) {
        size_t step = bytewise ? 1 : fuzz_rng_range(rng, 1, step_max * 2);
        unsigned char *copy;

        end = step >= n - end ? n : end + step;
        copy = fuzz_dup(req, end);
        parse((const char *)copy, end, last, hdrs, lim, &h, o);
        free(copy);
        if (o->rc != HTTP_PARSE_PARTIAL)
            return;
        last = end;
    }
}

static void check_framing(const struct http_request_head *h, struct http_framing *fr, int *ok)
{
    int status = -1;
    const char *why = NULL;
    int rc = http_request_framing(h, fr, &status, &why);

    *ok = rc == 0;
    if (rc == 0) {
        FUZZ_CHECK(status == 0 && why == NULL);
        FUZZ_CHECK(fr->body != HTTP_BODY_LENGTH || fr->content_length <= (uint64_t)INT64_MAX);
        FUZZ_CHECK(fr->body != HTTP_BODY_CHUNKED || h->minor_version == 1);
        FUZZ_CHECK(h->minor_version == 0 || fr->host.p != NULL);
        FUZZ_CHECK(!fr->expect_continue || h->minor_version == 1);
    } else {
        FUZZ_CHECK(rc == -1 && why != NULL && (status == 400 || status == 417));
    }
}

/* Skips the body that starts at buf[off..n): returns the offset of the next
 * request, or SIZE_MAX when the body is incomplete or malformed. */
static size_t skip_body(const char *buf, size_t n, size_t off, const struct http_framing *fr)
{
    struct http_chunked d;
    unsigned char *copy;
    size_t sz = n - off;
    ssize_t rc;

    if (fr->body == HTTP_BODY_NONE)
        return off;
    if (fr->body == HTTP_BODY_LENGTH)
        return fr->content_length <= n - off ? off + (size_t)fr->content_length : SIZE_MAX;
    copy = fuzz_dup(buf + off, sz);
    http_chunked_init(&d, 256, 4096);
    rc = http_chunked_decode(&d, (char *)copy, &sz);
    free(copy);
    if (rc < 0)
        return SIZE_MAX;
    FUZZ_CHECK((size_t)rc <= n - off);
    return n - (size_t)rc;
}

static void pipeline(const char *buf, size_t n, const struct http_parse_limits *lim)
{
    struct http_header hdrs[HEADER_CAP];
    struct http_request_head h;
    struct http_framing fr;
    struct outcome o;
    size_t off = 0;
    int ok;

    for (int i = 0; i < MAX_PIPELINED && off < n; i++) {
        if (parse(buf + off, n - off, 0, hdrs, lim, &h, &o) <= 0)
            return;
        check_framing(&h, &fr, &ok);
        if (!ok)
            return; /* the server answers and closes */
        off = skip_body(buf, n, off + (size_t)o.rc, &fr);
        if (off == SIZE_MAX)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_parse_limits lim;
    struct http_header hdrs[HEADER_CAP];
    struct http_request_head h;
    struct http_framing fr;
    struct outcome whole, split;
    struct fuzz_rng rng;
    unsigned char *req;
    size_t n;
    int ok;

    if (size < 2)
        return 0;
    fuzz_rng_seed(&rng, data[0], data[1]);
    /* Tight limits half of the time, the defaults of config.c otherwise. */
    if (data[0] & 0x80) {
        lim.max_head_bytes = 8192;
        lim.max_uri_bytes = 2048;
        lim.max_headers = HEADER_CAP;
    } else {
        lim.max_head_bytes = fuzz_rng_range(&rng, 16, 1024);
        lim.max_uri_bytes = fuzz_rng_range(&rng, 1, 256);
        lim.max_headers = fuzz_rng_range(&rng, 0, 16);
    }
    n = size - 2;
    req = fuzz_dup(data + 2, n);
    parse((const char *)req, n, 0, hdrs, &lim, &h, &whole);
    if (whole.rc > 0)
        check_framing(&h, &fr, &ok);
    parse_split((const char *)req, n, &rng, &lim, &split);
    check_same(&whole, &split);
    pipeline((const char *)req, n, &lim);
    free(req);
    return 0;
}
