/* fuzz_upstream_resp: an upstream's answer head (upstream_parse_head) and
 * the head the client gets for it (upstream_client_head).
 *
 * Input: one seed byte (HEAD request or not, client HTTP/1.0 or 1.1,
 * keep-alive or not), then the bytes the upstream sent. Checked: the parse
 * never reads past the input and gives the same verdict for every prefix
 * that holds the whole head (and "more needed" for shorter ones); an
 * accepted head's framing is consistent; the client's head is one block of
 * CRLF-terminated lines ending in an empty one, with no bare CR or LF, no
 * hop-by-hop header, and exactly one of each security header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "server/gateway_int.h"

static size_t count_lines(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name), c = 0;
    for (size_t i = 0; i + k <= n; i++)
        if ((i == 0 || p[i - 1] == '\n') && strncasecmp(p + i, name, k) == 0)
            c++;
    return c;
}

static void check_client_head(const struct upstream_head *h, int minor, int keep)
{
    struct buf out;
    struct http_stream_info info = { &out, keep, minor, 1, 600 };
    bool chunked, close;
    buf_init(&out, 1 << 20);
    FUZZ_CHECK(upstream_client_head(h, &info, "rid", &out, &chunked, &close) == 0);
    const char *p = buf_head(&out);
    size_t n = out.len;
    FUZZ_CHECK(n >= 4 && memcmp(p + n - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r')
            FUZZ_CHECK(i + 1 < n && p[i + 1] == '\n');
        if (p[i] == '\n')
            FUZZ_CHECK(i > 0 && p[i - 1] == '\r');
    }
    FUZZ_CHECK(memmem(p, n, "\r\n\r\n", 4) == p + n - 4); /* the only empty line */
    static const char *const hop[] = {
        "Keep-Alive:", "TE:", "Trailer:", "Upgrade:", "Proxy-", NULL
    };
    for (int i = 0; hop[i] != NULL; i++)
        FUZZ_CHECK(count_lines(p, n, hop[i]) == 0);
    FUZZ_CHECK(count_lines(p, n, "Transfer-Encoding:") == (chunked ? 1u : 0u));
    FUZZ_CHECK(count_lines(p, n, "Content-Length:") <= 1);
    FUZZ_CHECK(count_lines(p, n, "X-Frame-Options:") >= 1);
    FUZZ_CHECK(count_lines(p, n, "Strict-Transport-Security:") >= 1);
    FUZZ_CHECK(!chunked || minor == 1);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct upstream_head h, again;
    const char *why;
    if (size < 1)
        return 0;
    bool head_request = data[0] & 1;
    int minor = data[0] & 2 ? 1 : 0, keep = data[0] & 4 ? 1 : 0;
    size_t n = size - 1;
    char *in = (char *)fuzz_dup(data + 1, n);
    long rc = upstream_parse_head(in, n, head_request, &h, &why);
    FUZZ_CHECK(rc >= -1 && rc <= (long)n);
    if (rc > 0) {
        /* Every shorter prefix lacks the end of the head. */
        FUZZ_CHECK(upstream_parse_head(in, (size_t)rc - 1, head_request, &again, &why) == 0);
        FUZZ_CHECK(upstream_parse_head(in, (size_t)rc, head_request, &again, &why) == rc);
        FUZZ_CHECK(h.status >= 100 && h.status <= 999 && h.status != 101);
        FUZZ_CHECK(h.body != UP_BODY_LENGTH || (h.has_length && h.content_length > 0));
        FUZZ_CHECK(h.body != UP_BODY_CLOSE || !h.keep_alive);
        FUZZ_CHECK(!head_request || h.body == UP_BODY_NONE);
        check_client_head(&h, minor, keep);
    }
    free(in);
    return 0;
}
