/* log.c: see log.h. Lines are formatted into a stack buffer and written once,
 * so concurrent threads never interleave within a line. */
#include "server/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "server/hex.h"

static _Atomic int g_level = LOG_INFO;
static _Atomic int g_format = LOG_FORMAT_TEXT;
static _Thread_local const char *t_request;

void log_set_level(enum log_level lvl) { atomic_store(&g_level, (int)lvl); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&g_level); }
void log_set_format(enum log_format f) { atomic_store(&g_format, (int)f); }
enum log_format log_get_format(void) { return (enum log_format)atomic_load(&g_format); }
void log_set_request(const char *request_id) { t_request = request_id; }
const char *log_request(void) { return t_request; }

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

/* "2026-12-07T01:02:03.456Z" without the trailing space. */
static void log_time(char out[32])
{
    size_t n = log_stamp(out, 32);
    out[n > 0 ? n - 1 : 0] = '\0';
}

/* A JSON object as one line; takes the reference to o. */
static void log_write_json(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (text == NULL)
        return;
    size_t n = strlen(text);
    text[n] = '\n';
    ssize_t w = write(STDERR_FILENO, text, n + 1);
    (void)w;
    text[n] = '\0';
    free(text);
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
    size_t msg = 0;
    int m = snprintf(line + n, sizeof line - n, "%s ", log_level_name(lvl));
    n += m > 0 ? (size_t)m : 0;
    if (t_request != NULL && atomic_load(&g_format) == LOG_FORMAT_TEXT) {
        m = snprintf(line + n, sizeof line - n, "[%s] ", t_request);
        n += m > 0 ? (size_t)m : 0;
    }
    msg = n;
    va_list ap;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n += m > 0 ? (size_t)m : 0;
    if (atomic_load(&g_format) == LOG_FORMAT_JSON) {
        char t[32];
        log_time(t);
        line[n < sizeof line ? n : sizeof line - 1] = '\0';
        json_t *o = json_pack("{s:s, s:s, s:s}", "time", t, "level", log_level_name(lvl), "msg",
                              line + msg);
        if (o && t_request)
            json_object_set_new(o, "request_id", json_string(t_request));
        log_write_json(o);
        return;
    }
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

static json_t *log_access_json(const struct log_access *a, const char *method, const char *path)
{
    char t[32];
    log_time(t);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:f, s:s, s:i, s:s}", "time", t,
                          "level", "info", "type", "access", "method", method, "path", path,
                          "status", a->status, "bytes", (json_int_t)a->bytes, "duration_ms",
                          a->duration_ms, "client_ip", a->client_ip, "client_port", a->client_port,
                          "scheme", a->scheme);
    if (o && a->request_id)
        json_object_set_new(o, "request_id", json_string(a->request_id));
    if (o && a->route)
        json_object_set_new(o, "route", json_string(a->route));
    if (o && a->user_id > 0)
        json_object_set_new(o, "user_id", json_integer(a->user_id));
    return o;
}

void log_access(const struct log_access *a)
{
    if (atomic_load(&g_level) > LOG_INFO)
        return;
    char method[40], path[512], line[1024];
    log_escape(method, sizeof method, a->method, a->method_len);
    log_escape(path, sizeof path, a->path, a->path_len);
    if (atomic_load(&g_format) == LOG_FORMAT_JSON) {
        log_write_json(log_access_json(a, method, path));
        return;
    }
    size_t n = log_stamp(line, sizeof line);
    int m = snprintf(line + n, sizeof line - n, "access %s:%d %s \"%s %s\" %d %llu %.3fms",
                     a->client_ip, a->client_port, a->scheme, method, path, a->status, a->bytes,
                     a->duration_ms);
    n += m > 0 ? (size_t)m : 0;
    if (a->request_id && n < sizeof line) {
        m = snprintf(line + n, sizeof line - n, " id=%s", a->request_id);
        n += m > 0 ? (size_t)m : 0;
    }
    if (a->user_id > 0 && n < sizeof line) {
        m = snprintf(line + n, sizeof line - n, " user=%lld", a->user_id);
        n += m > 0 ? (size_t)m : 0;
    }
    log_write_line(line, n, sizeof line);
}
