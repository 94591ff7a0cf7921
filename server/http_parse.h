/* http_parse.h: stateless, zero-copy HTTP/1.1 request parser (picohttpparser's
 * contract), request framing rules, and an incremental chunked-body decoder.
 *
 * Nothing here allocates. Every struct str points into the caller's buffer
 * and is valid only while that buffer is neither freed nor moved. */
#ifndef PC_HTTP_PARSE_H
#define PC_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/str.h"

#define HTTP_PARSE_ERROR   (-1)
#define HTTP_PARSE_PARTIAL (-2)
#define HTTP_METHOD_MAX    32 /* longer methods are rejected (400) */

struct http_header {
    struct str name;
    struct str value; /* leading/trailing SP and HTAB stripped */
};

/* Limits the parser enforces; each violation maps to a status (see below). */
struct http_parse_limits {
    size_t max_head_bytes; /* request line + headers + final CRLF; over: 431 */
    size_t max_uri_bytes;  /* request target; over: 414 */
    size_t max_headers;    /* header count (also <= capacity passed in); over: 431 */
};

struct http_request_head {
    struct str method; /* a token (RFC 9110 tchar) */
    struct str target; /* whole request target as sent (never empty) */
    struct str path;   /* target up to '?', origin-form only ("/..."), or "*" */
    struct str query;  /* after '?', may be empty; p may be NULL when absent */
    int minor_version; /* 0 or 1 (HTTP/1.x); anything else -> 505 */
    struct http_header *headers;
    size_t num_headers; /* in: capacity of headers[]; out: count (written
                               only on success, so the same struct can be
                               passed again after PARTIAL) */
};

/* Parses the request line and headers at buf[0..len).
 * last_len is the length already scanned by a previous call that returned
 * PARTIAL (0 on first call): the parser must not rescan old bytes to find the
 * end of the head, so a trickling client costs O(n) in total.
 * Returns:
 *   > 0                 bytes of the head consumed (including the blank line)
 *   HTTP_PARSE_PARTIAL  need more bytes (and the bytes so far are valid and
 *                       within limits)
 *   HTTP_PARSE_ERROR    malformed; *status set to the response status:
 *                       400 bad syntax (bad method or target token, control
 *                           characters, NUL, bare CR, bare LF in the request
 *                           line, obs-fold, whitespace before ':', empty header
 *                           name, missing SP), 414 target too long,
 *                       431 head too large or too many headers,
 *                       505 HTTP version other than 1.0/1.1,
 *                       and *why a short static reason text.
 * Bare LF as a line terminator inside the header block is rejected (400).
 *
 * Details of the strictness (RFC 9112):
 * - One leading CRLF before the request line is ignored (RFC 9112 §2.2); a
 *   second empty line is a 400. The skipped bytes count in the return value
 *   and against max_head_bytes.
 * - Method: 1..HTTP_METHOD_MAX tchars. Exactly one SP between the parts.
 * - Target: origin-form ("/" followed by 0x21-0x7E except '#'), or exactly
 *   "*" with OPTIONS; absolute-form and authority-form are 400.
 * - Version: exactly "HTTP/1.0" or "HTTP/1.1"; "HTTP/" DIGIT "." DIGIT with
 *   other digits is 505; anything else (e.g. "http/1.1", "HTTP/1.10") 400.
 * - Header name: 1+ tchars then ':'. Value: HTAB, SP, 0x21-0x7E, 0x80-0xFF;
 *   NUL, other CTLs and DEL are 400.
 * - Errors are reported as soon as a prefix proves them (method garbage, a
 *   target past max_uri_bytes, a bad version, NUL/CTL, bare CR or LF, a head
 *   reaching max_head_bytes with no end), and a byte-by-byte feed reports the
 *   same status as one call with the whole input.
 * - lim must not be NULL; status and why may be NULL. On PARTIAL and ERROR
 *   *req is not updated (headers[] entries may have been written). */
int http_parse_request(const char *buf, size_t len, size_t last_len, struct http_request_head *req,
                       const struct http_parse_limits *lim, int *status, const char **why);

/* Case-insensitive lookup of the first header named `name`; NULL if absent. */
const struct http_header *http_find_header(const struct http_request_head *req, const char *name);

enum http_body_kind { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED };

/* What the head says about framing and connection handling. */
struct http_framing {
    enum http_body_kind body;
    uint64_t content_length; /* valid when body == HTTP_BODY_LENGTH */
    int keep_alive;          /* 1.1 default on unless "close"; 1.0 only with "keep-alive" */
    int expect_continue;     /* "Expect: 100-continue" present (1.1 only) */
    struct str host;         /* Host header value (may be empty for 1.0) */
};

/* Applies RFC 9112 §6 framing rules (docs/ARCHITECTURE.md, HTTP/1.1) to a head
 * http_parse_request() accepted:
 * rejects (returns -1, *status = 400, *why set) Content-Length together with
 * Transfer-Encoding, duplicate Content-Length headers (even if equal),
 * malformed Content-Length ("+5", "0x10", "4 2", "", >= 2^63), any
 * Transfer-Encoding other than exactly "chunked" (case-insensitive),
 * Transfer-Encoding in HTTP/1.0, missing or duplicate Host in HTTP/1.1,
 * Host values with characters not allowed in a host[:port];
 * an Expect other than "100-continue" -> 417.
 * Precisely:
 * - Content-Length: 1+ DIGITs (leading zeros allowed), value < 2^63.
 * - Transfer-Encoding: exactly one header whose (OWS-stripped) value is
 *   "chunked"; any other coding or list ("gzip, chunked") is 400, not 501,
 *   because the connection must close either way.
 * - Host: uri-host [":" port], where uri-host is a reg-name of ALPHA DIGIT
 *   "-" "." "_" "~" (stricter than RFC 3986: no %-escapes or sub-delims) or
 *   "[" hex/":"/"." "]"; port 1-5 digits <= 65535. An empty Host is 400 (an
 *   origin server's clients always know its authority). Checked in 1.0 too
 *   when present; a duplicate is 400 in both versions.
 * - Connection: comma-separated tokens, case-insensitive; "close" wins over
 *   "keep-alive".
 * - Expect: every value must be "100-continue" (case-insensitive) or it is
 *   417, in either version; expect_continue is set for HTTP/1.1 only
 *   (RFC 9110 §10.1.1: ignore it in 1.0). 400 checks take precedence.
 * Returns 0 on success (*status = 0, *why = NULL). *out is zeroed first and
 * meaningful only on success. status and why may be NULL. */
int http_request_framing(const struct http_request_head *req, struct http_framing *out, int *status,
                         const char **why);

/* Incremental, in-place chunked decoder (phr_decode_chunked's contract).
 * Zero-initialize with http_chunked_init() before first use. */
struct http_chunked {
    size_t max_line;    /* max bytes of a chunk-size line incl.
                                 extensions, excluding its CRLF */
    size_t max_trailer; /* max bytes of the trailer fields, each with
                                 its CRLF (not the final empty line) */
    /* private state */
    uint64_t bytes_left_in_chunk;
    size_t line_len;
    size_t trailer_len;
    int state;
    int hex_count;
};

void http_chunked_init(struct http_chunked *d, size_t max_line, size_t max_trailer);

/* Decodes buf[0..*bufsz) in place: on return, buf[0..*bufsz) holds the
 * decoded body bytes produced by this call (append them to what earlier calls
 * produced, the caller keeps them). Returns:
 *   >= 0  the body is complete; that many bytes right after the new *bufsz
 *         are undecoded data following the body (the next pipelined request)
 *   HTTP_PARSE_PARTIAL  need more input (all input so far consumed)
 *   HTTP_PARSE_ERROR    bad chunk size (non-hex, empty, "0x", "-1", overflow
 *                       past 2^63), missing CRLF after chunk data, bare LF,
 *                       line or trailer over its limit.
 * Accepted: chunk-size = 1+ HEXDIG (leading zeros ok), optional
 * [BWS ";" ext] where ext bytes are HTAB, SP, VCHAR or obs-text; each line
 * ends in CRLF exactly. Trailer fields are checked only loosely (start with
 * a tchar, no CTLs) and discarded.
 * After an ERROR every later call returns ERROR; after completion every later
 * call returns all its input as left over (*bufsz = 0). */
ssize_t http_chunked_decode(struct http_chunked *d, char *buf, size_t *bufsz);

/* RFC 9110 token character test, shared by the router and header checks. */
int http_is_tchar(unsigned char c);

#endif
