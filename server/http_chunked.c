/* http_chunked.c: the incremental, in-place chunked-body decoder declared in
 * http_parse.h (phr_decode_chunked's contract, with strict RFC 9112 §7.1
 * syntax and bounded size lines and trailers). */
#include "server/http_parse.h"

#include <string.h>

#include "server/hex.h"

static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* field-value bytes (trailers): HTAB, SP, VCHAR, obs-text. */
static int is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

/* ---- chunked decoder ----------------------------------------------------- */

enum {
    CH_SIZE = 0, /* chunk-size digits */
    CH_SIZE_WS,  /* BWS after the size: only ";" may follow */
    CH_EXT,      /* chunk extensions up to CR */
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_START, /* start of a trailer field or of the final CRLF */
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
    CH_ERROR
};

void http_chunked_init(struct http_chunked *d, size_t max_line, size_t max_trailer)
{
    memset(d, 0, sizeof *d);
    d->max_line = max_line;
    d->max_trailer = max_trailer;
    d->state = CH_SIZE;
}

static int size_line_byte(struct http_chunked *d, unsigned char c)
{
    int v;

    if (c == '\r' && (d->state == CH_EXT || (d->state == CH_SIZE && d->hex_count > 0))) {
        d->state = CH_SIZE_LF;
        return 0;
    }
    if (++d->line_len > d->max_line)
        return -1;
    if (d->state == CH_EXT)
        return is_value_char(c) ? 0 : -1;
    if (d->state == CH_SIZE && (v = hex_value(c)) >= 0) {
        if (d->bytes_left_in_chunk > ((uint64_t)INT64_MAX - (uint64_t)v) / 16)
            return -1;
        d->bytes_left_in_chunk = d->bytes_left_in_chunk * 16 + (uint64_t)v;
        d->hex_count++;
        return 0;
    }
    if (d->hex_count == 0)
        return -1;
    if (c == ';')
        d->state = CH_EXT;
    else if (is_ows(c))
        d->state = CH_SIZE_WS;
    else
        return -1;
    return 0;
}

static int trailer_byte(struct http_chunked *d, unsigned char c)
{
    if (d->state == CH_TRAILER_START && c == '\r') {
        d->state = CH_FINAL_LF;
        return 0;
    }
    if (++d->trailer_len > d->max_trailer)
        return -1;
    switch (d->state) {
    case CH_TRAILER_START:
        /* a field name; rules out obs-fold, ':' and bare LF */
        if (!http_is_tchar(c))
            return -1;
        d->state = CH_TRAILER;
        return 0;
    case CH_TRAILER:
        if (c == '\r')
            d->state = CH_TRAILER_LF;
        else if (!is_value_char(c))
            return -1;
        return 0;
    default: /* CH_TRAILER_LF */
        if (c != '\n')
            return -1;
        d->state = CH_TRAILER_START;
        return 0;
    }
}

/* One byte of anything but chunk data. */
static int chunk_byte(struct http_chunked *d, unsigned char c)
{
    switch (d->state) {
    case CH_SIZE:
    case CH_SIZE_WS:
    case CH_EXT: return size_line_byte(d, c);
    case CH_SIZE_LF:
        if (c != '\n')
            return -1;
        d->line_len = 0;
        d->hex_count = 0;
        d->state = d->bytes_left_in_chunk > 0 ? CH_DATA : CH_TRAILER_START;
        return 0;
    case CH_DATA_CR: d->state = CH_DATA_LF; return c == '\r' ? 0 : -1;
    case CH_DATA_LF: d->state = CH_SIZE; return c == '\n' ? 0 : -1;
    case CH_TRAILER_START:
    case CH_TRAILER:
    case CH_TRAILER_LF: return trailer_byte(d, c);
    case CH_FINAL_LF: d->state = CH_DONE; return c == '\n' ? 0 : -1;
    default: return -1;
    }
}

ssize_t http_chunked_decode(struct http_chunked *d, char *buf, size_t *bufsz)
{
    size_t src = 0, dst = 0, len = *bufsz;

    if (d->state == CH_DONE) {
        *bufsz = 0;
        return (ssize_t)len;
    }
    while (src < len && d->state != CH_ERROR && d->state != CH_DONE) {
        if (d->state == CH_DATA) {
            size_t take = len - src;

            if (d->bytes_left_in_chunk < take)
                take = (size_t)d->bytes_left_in_chunk;
            memmove(buf + dst, buf + src, take);
            dst += take;
            src += take;
            d->bytes_left_in_chunk -= take;
            if (d->bytes_left_in_chunk == 0)
                d->state = CH_DATA_CR;
        } else if (chunk_byte(d, (unsigned char)buf[src++]) != 0) {
            d->state = CH_ERROR;
        }
    }
    *bufsz = dst;
    if (d->state == CH_ERROR)
        return HTTP_PARSE_ERROR;
    if (d->state != CH_DONE)
        return HTTP_PARSE_PARTIAL;
    /* The caller finds the next request right after the body it keeps. */
    memmove(buf + dst, buf + src, len - src);
    return (ssize_t)(len - src);
}
