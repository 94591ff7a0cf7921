/* log.h: levelled logging and the access log, both to stderr, as text or
 * as JSON (one object per line, built with jansson).
 *
 * One line per call, written with a single write(2) so lines from different
 * threads never interleave. Nothing here ever receives a password or token:
 * callers pass only what may be logged.
 *
 * Request context: while a thread works on a request it names the request
 * (log_set_request), and every line it logs carries that request's id. */
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

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };
void log_set_format(enum log_format f);
enum log_format log_get_format(void);

/* The request the calling thread works on now (its id), or NULL for none.
 * The string must stay valid until the thread sets another or NULL. */
void log_set_request(const char *request_id);
const char *log_request(void);

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
    const char *client_ip; /* "127.0.0.1" */
    int client_port;
    const char *scheme; /* "https" | "http" */
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    int status;
    unsigned long long bytes; /* response bytes including head */
    double duration_ms;
    const char *request_id; /* may be NULL */
    const char *route;      /* the route pattern that answered, or NULL */
    long long user_id;      /* the authenticated user, 0 when none */
};
void log_access(const struct log_access *a);

/* Copies src into dst as printable ASCII, escaping the rest as \xHH;
 * truncates with "..." when it does not fit. Returns dst. */
char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
