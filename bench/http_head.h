/* http_head.h: reading an HTTP/1.1 response head, for the bench tools
 * (bench/idle.c). Pure functions over a byte range; nothing is allocated. */
#ifndef PC_BENCH_HTTP_HEAD_H
#define PC_BENCH_HTTP_HEAD_H

/* The CR of the first CRLF in [p, end), or NULL when there is none. */
const char *head_line_end(const char *p, const char *end);

/* Content-Length of the header lines in [p, end) (a head after its status
 * line, without the final CRLF CRLF); -1 if missing, duplicated or
 * malformed. Chunked responses are not expected here. */
long long head_content_length(const char *p, const char *end);

#endif
