/* log.h: levelled logging and the access log, both to stderr.
 *
 * One line per call, written with a single write(2) so lines from different
 * threads never interleave. Nothing here ever receives a password or token:
 * callers pass only what may be logged. */
#ifndef PC_LOG_H
#define PC_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "debug", "info", "warn", "error", indexed by level, NULL-terminated (the
 * names the config file uses). */
extern const char *const log_level_names[];

/* The level's name, or "unknown". */
const char *log_level_name(enum log_level lvl);

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

#if defined(__GNUC__)
#define PC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PC_PRINTF(a, b)
#endif

void log_msg(enum log_level lvl, const char *fmt, ...) PC_PRINTF(2, 3);

#define log_debug(...)                       \
    do {                                     \
        if (log_get_level() <= LOG_DEBUG)    \
            log_msg(LOG_DEBUG, __VA_ARGS__); \
    } while (0)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* The access log: one line per answered request.
 * Method and path are printed with control and non-ASCII bytes escaped; the
 * query string is never printed (it could hold anything). */
struct log_access {
    const char *client; /* "127.0.0.1:51234" */
    const char *scheme; /* "https" | "http" */
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    int status;
    unsigned long long bytes; /* response bytes including head */
    double duration_ms;
};
void log_access(const struct log_access *a);

/* Copies src into dst as printable ASCII, escaping the rest as \xHH;
 * truncates with "..." when it does not fit. Returns dst. */
char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
