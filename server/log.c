/* log.c: see log.h. Lines are formatted into a stack buffer and written once,
 * so concurrent threads never interleave within a line. */
#include "server/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/hex.h"

static _Atomic int g_level = LOG_INFO;

void log_set_level(enum log_level lvl) { atomic_store(&g_level, (int)lvl); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&g_level); }

static size_t log_stamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, len - n, ".%03ldZ ", ts.tv_nsec / 1000000L);
    return n + (m > 0 ? (size_t)m : 0);
}

static void log_write_line(char *line, size_t n, size_t cap)
{
    if (n >= cap - 1)
        n = cap - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nowhere to report a failing stderr */
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&g_level))
        return;
    char line[2048];
    size_t n = log_stamp(line, sizeof line);
    int m = snprintf(line + n, sizeof line - n, "%s ", log_level_name(lvl));
    n += m > 0 ? (size_t)m : 0;
    va_list ap;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n += m > 0 ? (size_t)m : 0;
    log_write_line(line, n, sizeof line);
}

const char *const log_level_names[] = { "debug", "info", "warn", "error", NULL };

const char *log_level_name(enum log_level lvl)
{
    if ((int)lvl < (int)LOG_DEBUG || (int)lvl > (int)LOG_ERROR)
        return "unknown";
    return log_level_names[lvl];
}

char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t o = 0;
    if (dstlen == 0)
        return dst;
    for (size_t i = 0; i < srclen; i++) {
        unsigned char c = (unsigned char)src[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') ? 1 : 4;
        if (o + need + 4 > dstlen) {
            if (o + 4 <= dstlen) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex_digit(c >> 4u);
            dst[o++] = hex_digit(c);
        }
    }
    dst[o] = '\0';
    return dst;
}

void log_access(const struct log_access *a)
{
    if (atomic_load(&g_level) > LOG_INFO)
        return;
    char method[40], path[512], line[1024];
    log_escape(method, sizeof method, a->method, a->method_len);
    log_escape(path, sizeof path, a->path, a->path_len);
    size_t n = log_stamp(line, sizeof line);
    int m = snprintf(line + n, sizeof line - n, "access %s %s \"%s %s\" %d %llu %.3fms", a->client,
                     a->scheme, method, path, a->status, a->bytes, a->duration_ms);
    n += m > 0 ? (size_t)m : 0;
    log_write_line(line, n, sizeof line);
}
