/* http_head.c: see http_head.h. */
#define _GNU_SOURCE
#include "http_head.h"

#include <string.h>
#include <strings.h>

const char *head_line_end(const char *p, const char *end)
{
    while (p + 1 < end && !(p[0] == '\r' && p[1] == '\n'))
        p++;
    return p + 1 < end ? p : NULL;
}

long long head_content_length(const char *p, const char *end)
{
    static const char cl[] = "content-length:";
    long long len = -1;

    for (const char *e; p < end && (e = head_line_end(p, end)) != NULL; p = e + 2) {
        if ((size_t)(e - p) < sizeof cl - 1 || strncasecmp(p, cl, sizeof cl - 1) != 0)
            continue;
        if (len >= 0)
            return -1;
        const char *v = p + sizeof cl - 1;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        if (v == e)
            return -1;
        for (len = 0; v < e && *v >= '0' && *v <= '9' && len < (1LL << 40); v++)
            len = len * 10 + (*v - '0');
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        if (v != e || len >= (1LL << 40))
            return -1;
    }
    return len;
}
