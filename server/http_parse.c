/* http_parse.c: strict HTTP/1.x request parsing (RFC 9112), framing rules
 * and the chunked decoder. See http_parse.h for the contracts. */
#include "server/http_parse.h"

#include <limits.h>
#include <string.h>

#include "server/hex.h"

/* "HTTP/1.1" CR LF */
#define VERSION_LINE_LEN 10

struct req_line {
    struct str method;
    struct str target;
    int minor;
    size_t len; /* bytes including the CRLF */
};

static int fail(int *status, const char **why, int st, const char *w)
{
    *status = st;
    *why = w;
    return HTTP_PARSE_ERROR;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* '#' would start a fragment, which a request target never carries. */
static int is_target_char(unsigned char c) { return c >= 0x21 && c <= 0x7E && c != '#'; }

static int ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Locale-independent, unlike strncasecmp. */
static int ascii_ieq(struct str a, const char *lit)
{
    size_t n = strlen(lit);

    if (a.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a.p[i]) != ascii_lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

int http_is_tchar(unsigned char c)
{
    if (is_digit(c) || is_alpha(c))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* ---- request line ------------------------------------------------------ */

/* Checks "HTTP/1.x" CRLF against the n bytes available. Each byte is judged
 * as soon as it is present, so a prefix that cannot become 1.0/1.1 fails at
 * once and a whole-buffer parse reaches the same verdict as a trickle. */
static int check_version(const unsigned char *p, size_t n, int *minor, int *status,
                         const char **why)
{
    static const char name[] = "HTTP/";

    for (size_t i = 0; i < n && i < 5; i++)
        if (p[i] != (unsigned char)name[i])
            return fail(status, why, 400, "malformed HTTP version");
    if (n > 5 && !is_digit(p[5]))
        return fail(status, why, 400, "malformed HTTP version");
    if (n > 5 && p[5] != '1')
        return fail(status, why, 505, "HTTP version not supported");
    if (n > 6 && p[6] != '.')
        return fail(status, why, 400, "malformed HTTP version");
    if (n > 7 && !is_digit(p[7]))
        return fail(status, why, 400, "malformed HTTP version");
    if (n > 7 && p[7] > '1')
        return fail(status, why, 505, "HTTP version not supported");
    if (n > 8 && p[8] != '\r')
        return fail(status, why, 400, "junk after HTTP version");
    if (n > 9 && p[9] != '\n')
        return fail(status, why, 400, "bare CR in request line");
    if (n < VERSION_LINE_LEN)
        return HTTP_PARSE_PARTIAL;
    *minor = p[7] - '0';
    return 0;
}

/* Request target: origin-form, or "*" for OPTIONS. Sets *end to the index
 * of the SP after it. */
static int scan_target(const unsigned char *p, size_t n, size_t t, struct str method,
                       const struct http_parse_limits *lim, size_t *end, int *status,
                       const char **why)
{
    size_t i = t;

    if (i == n)
        return HTTP_PARSE_PARTIAL;
    if (p[t] != '/' && p[t] != '*')
        return fail(status, why, 400, "request target is not origin-form");
    if (p[t] == '*' && !str_eq(method, "OPTIONS"))
        return fail(status, why, 400, "asterisk-form is only for OPTIONS");
    for (; i < n && p[i] != ' '; i++) {
        if (!is_target_char(p[i]) || (p[t] == '*' && i > t))
            return fail(status, why, 400, "invalid character in request target");
        if (i - t >= lim->max_uri_bytes)
            return fail(status, why, 414, "request target too long");
    }
    if (i == n)
        return HTTP_PARSE_PARTIAL;
    *end = i;
    return 0;
}

/* Parses the request line at p[0..n), which may be cut short: returns 0
 * (complete, *rl set), PARTIAL (valid so far) or ERROR. The work is bounded
 * by HTTP_METHOD_MAX + max_uri_bytes, whatever n is. */
static int parse_request_line(const unsigned char *p, size_t n, const struct http_parse_limits *lim,
                              struct req_line *rl, int *status, const char **why)
{
    size_t i = 0, end = 0;
    int rc;

    while (i < n && http_is_tchar(p[i]))
        if (++i > HTTP_METHOD_MAX)
            return fail(status, why, 400, "method too long");
    if (i == n)
        return HTTP_PARSE_PARTIAL;
    if (i == 0 || p[i] != ' ')
        return fail(status, why, 400, "invalid method");
    rl->method = str_make((const char *)p, i);
    rc = scan_target(p, n, i + 1, rl->method, lim, &end, status, why);
    if (rc != 0)
        return rc;
    rl->target = str_make((const char *)p + i + 1, end - i - 1);
    i = end + 1;
    rc = check_version(p + i, n - i, &rl->minor, status, why);
    if (rc != 0)
        return rc;
    rl->len = i + VERSION_LINE_LEN;
    return 0;
}

/* ---- header block ------------------------------------------------------ */

static int header_name_error(const unsigned char *p, size_t ns, size_t i, int *status,
                             const char **why)
{
    if (i == ns && p[i] == ':')
        return fail(status, why, 400, "empty header name");
    if (is_ows(p[i]))
        return fail(status, why, 400, "whitespace before colon");
    return fail(status, why, 400, "invalid character in header name");
}

/* Parses the field lines of p[i..n), where p[0..n) is a whole head ending in
 * CRLF CRLF. Values are OWS-stripped. */
static int parse_fields(const unsigned char *p, size_t n, size_t i, struct http_header *h,
                        size_t cap, size_t *count, int *status, const char **why)
{
    size_t k = 0;

    for (;;) {
        size_t ns, ne, vs, ve;

        if (i >= n)
            return fail(status, why, 400, "truncated header block");
        if (p[i] == '\r') {
            if (i + 2 != n || p[i + 1] != '\n')
                return fail(status, why, 400, "malformed end of header block");
            break;
        }
        if (is_ows(p[i]))
            return fail(status, why, 400, "obsolete line folding");
        for (ns = i; i < n && http_is_tchar(p[i]); i++)
            ;
        if (i == n)
            return fail(status, why, 400, "truncated header block");
        if (i == ns || p[i] != ':')
            return header_name_error(p, ns, i, status, why);
        ne = i;
        for (i++; i < n && is_ows(p[i]); i++)
            ;
        /* find_head_end has refused every CTL but HTAB, and DEL, in the
         * whole head: a value runs to its CR (tokens make long values). */
        vs = i;
        const unsigned char *cr = memchr(p + i, '\r', n - i);
        i = cr != NULL ? (size_t)(cr - p) : n;
        if (i + 1 >= n || p[i + 1] != '\n')
            return fail(status, why, 400, "bare CR in header block");
        for (ve = i; ve > vs && is_ows(p[ve - 1]); ve--)
            ;
        if (k >= cap)
            return fail(status, why, 431, "too many header fields");
        h[k].name = str_make((const char *)p + ns, ne - ns);
        h[k].value = str_make((const char *)p + vs, ve - vs);
        k++;
        i += 2;
    }
    *count = k;
    return 0;
}

/* ---- whole request head ------------------------------------------------ */

/* Scans p[s..n) for the CRLF CRLF ending the head, rejecting on the way the
 * bytes no head may hold (CTLs other than HTAB, DEL, bare CR, bare LF).
 * Returns 0 with *end = 0 when no end is there yet. Every index looked at
 * from s - 3 on lies inside p[0..n). */
static int find_head_end(const unsigned char *p, size_t n, size_t skip, size_t s, size_t *end,
                         int *status, const char **why)
{
    for (size_t i = s; i < n; i++) {
        unsigned char c = p[i];

        if ((c >= 0x20 && c != 0x7F) || c == '\t')
            continue;
        if (c == '\r') {
            if (i + 1 < n && p[i + 1] != '\n')
                return fail(status, why, 400, "bare CR");
            continue;
        }
        if (c != '\n')
            return fail(status, why, 400, "control character in request head");
        if (i == 0 || p[i - 1] != '\r')
            return fail(status, why, 400, "bare LF");
        if (i >= skip + 3 && p[i - 2] == '\n' && p[i - 3] == '\r') {
            *end = i + 1;
            return 0;
        }
    }
    *end = 0;
    return 0;
}

static int parse_head(const unsigned char *p, size_t n, struct http_request_head *req,
                      const struct http_parse_limits *lim, int *status, const char **why)
{
    struct req_line rl;
    size_t cap = req->num_headers < lim->max_headers ? req->num_headers : lim->max_headers;
    size_t count = 0;
    const char *q;
    int rc;

    rc = parse_request_line(p, n, lim, &rl, status, why);
    if (rc == HTTP_PARSE_PARTIAL) /* cannot happen: the head has its CRLFs */
        return fail(status, why, 400, "malformed request line");
    if (rc != 0)
        return rc;
    rc = parse_fields(p, n, rl.len, req->headers, cap, &count, status, why);
    if (rc != 0)
        return rc;
    req->method = rl.method;
    req->target = rl.target;
    req->minor_version = rl.minor;
    req->num_headers = count;
    q = memchr(rl.target.p, '?', rl.target.n);
    if (q == NULL) {
        req->path = rl.target;
        req->query = str_make(NULL, 0);
    } else {
        req->path = str_make(rl.target.p, (size_t)(q - rl.target.p));
        req->query = str_make(q + 1, rl.target.n - req->path.n - 1);
    }
    return 0;
}

int http_parse_request(const char *buf, size_t len, size_t last_len, struct http_request_head *req,
                       const struct http_parse_limits *lim, int *status, const char **why)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t max = lim->max_head_bytes < INT_MAX ? lim->max_head_bytes : INT_MAX;
    size_t n = len < max ? len : max;
    size_t skip = 0, end = 0, scan_from;
    int st_local;
    const char *why_local;
    struct req_line rl;
    int rc;

    if (status == NULL)
        status = &st_local;
    if (why == NULL)
        why = &why_local;
    *status = 0;
    *why = NULL;
    if (n == 0)
        goto need_more; /* buf may be NULL */
    if (last_len > n)
        last_len = 0; /* not from a PARTIAL on this buffer: rescan */
    if (n >= 2 && p[0] == '\r' && p[1] == '\n')
        skip = 2;
    else if (n == 1 && p[0] == '\r')
        goto need_more;
    /* The request line is re-checked on every call until it is complete, so
     * that garbage fails at once; it is short (bounded by HTTP_METHOD_MAX +
     * max_uri_bytes) and skipped once an earlier call saw its LF. */
    if (last_len <= skip || memchr(p + skip, '\n', last_len - skip) == NULL) {
        rc = parse_request_line(p + skip, n - skip, lim, &rl, status, why);
        if (rc == HTTP_PARSE_ERROR)
            return rc;
    }
    /* Bytes before last_len held no end of head: resume three bytes back,
     * in case the CRLF CRLF straddles the old and new data. */
    scan_from = last_len > skip + 3 ? last_len - 3 : skip;
    rc = find_head_end(p, n, skip, scan_from, &end, status, why);
    if (rc != 0)
        return rc;
    if (end == 0)
        goto need_more;
    rc = parse_head(p + skip, end - skip, req, lim, status, why);
    return rc != 0 ? rc : (int)end;

need_more:
    if (len >= max)
        return fail(status, why, 431, "request head too large");
    return HTTP_PARSE_PARTIAL;
}

const struct http_header *http_find_header(const struct http_request_head *req, const char *name)
{
    for (size_t i = 0; i < req->num_headers; i++)
        if (ascii_ieq(req->headers[i].name, name))
            return &req->headers[i];
    return NULL;
}

/* ---- framing ----------------------------------------------------------- */

/* 1*DIGIT, leading zeros allowed, below 2^63. */
static int parse_content_length(struct str v, uint64_t *out)
{
    uint64_t x = 0;

    if (v.n == 0)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.p[i];

        if (!is_digit(c))
            return -1;
        if (x > ((uint64_t)INT64_MAX - (uint64_t)(c - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(c - '0');
    }
    *out = x;
    return 0;
}

static int is_reg_name_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* host [":" port]; see the header for how this is stricter than RFC 3986. */
static int valid_host(struct str v)
{
    const unsigned char *p = (const unsigned char *)v.p;
    size_t i = 0, digits;
    unsigned long port = 0;

    if (v.n > 0 && p[0] == '[') {
        for (i = 1; i < v.n && (hex_value(p[i]) >= 0 || p[i] == ':' || p[i] == '.'); i++)
            ;
        if (i == 1 || i >= v.n || p[i] != ']')
            return 0;
        i++;
    } else {
        while (i < v.n && is_reg_name_char(p[i]))
            i++;
        if (i == 0)
            return 0;
    }
    if (i == v.n)
        return 1;
    if (p[i++] != ':')
        return 0;
    digits = v.n - i;
    if (digits == 0 || digits > 5)
        return 0;
    for (; i < v.n; i++) {
        if (!is_digit(p[i]))
            return 0;
        port = port * 10 + (unsigned long)(p[i] - '0');
    }
    return port <= 65535;
}

/* Connection = #connection-option: looks for "close" and "keep-alive". */
static void connection_options(struct str v, int *close_seen, int *keep_seen)
{
    size_t i = 0;

    while (i < v.n) {
        size_t s, e;

        while (i < v.n && (is_ows((unsigned char)v.p[i]) || v.p[i] == ','))
            i++;
        for (s = i; i < v.n && v.p[i] != ','; i++)
            ;
        for (e = i; e > s && is_ows((unsigned char)v.p[e - 1]); e--)
            ;
        if (ascii_ieq(str_make(v.p + s, e - s), "close"))
            *close_seen = 1;
        else if (ascii_ieq(str_make(v.p + s, e - s), "keep-alive"))
            *keep_seen = 1;
    }
}

struct framing_seen {
    size_t n_cl, n_te, n_host;
    int close, keep, expect_continue, expect_other;
};

static int framing_header(const struct http_header *h, struct framing_seen *fs,
                          struct http_framing *out, int *status, const char **why)
{
    if (ascii_ieq(h->name, "content-length")) {
        if (++fs->n_cl > 1)
            return fail(status, why, 400, "duplicate Content-Length");
        if (parse_content_length(h->value, &out->content_length) != 0)
            return fail(status, why, 400, "invalid Content-Length");
    } else if (ascii_ieq(h->name, "transfer-encoding")) {
        if (++fs->n_te > 1)
            return fail(status, why, 400, "duplicate Transfer-Encoding");
        if (!ascii_ieq(h->value, "chunked"))
            return fail(status, why, 400, "unsupported Transfer-Encoding");
    } else if (ascii_ieq(h->name, "host")) {
        if (++fs->n_host > 1)
            return fail(status, why, 400, "duplicate Host");
        if (!valid_host(h->value))
            return fail(status, why, 400, "invalid Host");
        out->host = h->value;
    } else if (ascii_ieq(h->name, "connection")) {
        connection_options(h->value, &fs->close, &fs->keep);
    } else if (ascii_ieq(h->name, "expect")) {
        if (ascii_ieq(h->value, "100-continue"))
            fs->expect_continue = 1;
        else
            fs->expect_other = 1;
    }
    return 0;
}

int http_request_framing(const struct http_request_head *req, struct http_framing *out, int *status,
                         const char **why)
{
    struct framing_seen fs;
    int st_local;
    const char *why_local;
    int http11 = req->minor_version == 1;

    if (status == NULL)
        status = &st_local;
    if (why == NULL)
        why = &why_local;
    *status = 0;
    *why = NULL;
    memset(out, 0, sizeof *out);
    memset(&fs, 0, sizeof fs);
    for (size_t i = 0; i < req->num_headers; i++)
        if (framing_header(&req->headers[i], &fs, out, status, why) != 0)
            return -1;
    if (fs.n_te > 0 && !http11)
        return fail(status, why, 400, "Transfer-Encoding in HTTP/1.0");
    if (fs.n_te > 0 && fs.n_cl > 0)
        return fail(status, why, 400, "both Content-Length and Transfer-Encoding");
    if (http11 && fs.n_host == 0)
        return fail(status, why, 400, "missing Host");
    if (fs.expect_other)
        return fail(status, why, 417, "unsupported expectation");
    out->body = fs.n_te ? HTTP_BODY_CHUNKED : fs.n_cl ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    out->keep_alive = !fs.close && (http11 || fs.keep);
    out->expect_continue = http11 && fs.expect_continue;
    return 0;
}
