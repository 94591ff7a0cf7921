/* fuzz_chunked: the incremental chunked-body decoder (http_chunked_decode).
 *
 * Input: two seed bytes, then the bytes after a request head. The seed
 * picks the line and trailer limits and the split points. The bytes are
 * decoded once in one call and once in pieces (each piece in a fresh
 * exact-size buffer, as the connection hands over what one read brought,
 * with an empty call now and then): the verdict, the decoded body and the
 * bytes left over for the next request must be the same. Then the sticky
 * end states are checked: after ERROR every call fails, after completion
 * every call returns its whole input as left over. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "server/http_parse.h"

struct result {
    ssize_t rc;          /* ERROR, PARTIAL or bytes left over */
    unsigned char *body; /* decoded bytes (capacity: input size) */
    size_t body_n;
    unsigned char *rest; /* left over after the body (when rc >= 0) */
    size_t rest_n;
};

static void result_init(struct result *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->body = malloc(cap + 1);
    r->rest = malloc(cap + 1);
    FUZZ_CHECK(r->body != NULL && r->rest != NULL);
}

static void result_free(struct result *r)
{
    free(r->body);
    free(r->rest);
}

/* One decoder call on a fresh copy of p[0..n); appends what it decoded. */
static ssize_t feed(struct http_chunked *d, const unsigned char *p, size_t n, struct result *r)
{
    unsigned char *buf = fuzz_dup(p, n);
    size_t sz = n;
    ssize_t rc = http_chunked_decode(d, (char *)buf, &sz);

    FUZZ_CHECK(sz <= n);
    FUZZ_CHECK(rc == HTTP_PARSE_ERROR || rc == HTTP_PARSE_PARTIAL ||
               (rc >= 0 && sz + (size_t)rc <= n));
    /* PARTIAL consumes all input; ERROR may stop short. */
    memcpy(r->body + r->body_n, buf, sz);
    r->body_n += sz;
    if (rc >= 0) {
        memcpy(r->rest + r->rest_n, buf + sz, (size_t)rc);
        r->rest_n += (size_t)rc;
    }
    free(buf);
    return rc;
}

static void check_sticky(struct http_chunked *d, ssize_t verdict, const unsigned char *p, size_t n)
{
    unsigned char *buf = fuzz_dup(p, n);
    size_t sz = n;
    ssize_t rc = http_chunked_decode(d, (char *)buf, &sz);

    if (verdict == HTTP_PARSE_ERROR) {
        FUZZ_CHECK(rc == HTTP_PARSE_ERROR);
    } else if (verdict >= 0) {
        FUZZ_CHECK(rc == (ssize_t)n && sz == 0);
        FUZZ_CHECK(n == 0 || memcmp(buf, p, n) == 0);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_chunked one, inc;
    struct result a, b;
    struct fuzz_rng rng;
    const unsigned char *in;
    size_t n, max_line, max_trailer, off = 0;

    if (size < 2)
        return 0;
    fuzz_rng_seed(&rng, data[0], data[1]);
    in = data + 2;
    n = size - 2;
    max_line = data[0] & 0x80 ? 256 : fuzz_rng_range(&rng, 0, 40);
    max_trailer = data[0] & 0x40 ? 4096 : fuzz_rng_range(&rng, 0, 64);

    result_init(&a, n);
    result_init(&b, n);
    http_chunked_init(&one, max_line, max_trailer);
    http_chunked_init(&inc, max_line, max_trailer);
    a.rc = feed(&one, in, n, &a);

    b.rc = HTTP_PARSE_PARTIAL;
    while (b.rc == HTTP_PARSE_PARTIAL && off < n) {
        size_t step = (fuzz_rng_next(&rng) & 7) == 0 ? 0 : fuzz_rng_range(&rng, 1, 16);

        if (step > n - off)
            step = n - off;
        b.rc = feed(&inc, in + off, step, &b);
        off += step;
    }
    if (n == 0)
        b.rc = feed(&inc, in, 0, &b);
    if (b.rc >= 0 && off < n) {
        /* Completed early: the rest of the input was never fed, and is
         * left over just the same. */
        memcpy(b.rest + b.rest_n, in + off, n - off);
        b.rest_n += n - off;
    }
    FUZZ_CHECK((a.rc < 0 && a.rc == b.rc) || (a.rc >= 0 && b.rc >= 0));
    FUZZ_CHECK(a.body_n == b.body_n && memcmp(a.body, b.body, a.body_n) == 0);
    if (a.rc >= 0)
        FUZZ_CHECK(a.rest_n == b.rest_n && (size_t)a.rc == a.rest_n &&
                   memcmp(a.rest, b.rest, a.rest_n) == 0);
    check_sticky(&one, a.rc, in, n);
    check_sticky(&inc, b.rc, in, n);
    result_free(&a);
    result_free(&b);
    return 0;
}
