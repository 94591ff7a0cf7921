/* support.h: end-to-end test helpers: run the real portcullis binary on
 * ephemeral loopback ports with a temporary config and data directory, talk
 * plain TCP to it, and read HTTP responses. TLS clients live in tls_client.h. */
#ifndef PC_TEST_SUPPORT_H
#define PC_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

struct srv {
    pid_t pid;
    int https_port;
    int http_port;
    char dir[256];          /* temp dir: config, certs, db, log */
    char config[320];
    char log[320];
    char ca_file[320];      /* dev CA of this server */
};

/* Starts the server with a config made of test defaults (ports 0, 2 workers,
 * short timeouts, files under a fresh temp dir) recursively merged with
 * extra_json (a JSON object text, may be NULL). extra_args are appended to
 * the command line (NULL-terminated, may be NULL). Waits until both
 * listeners are up. Returns 0 or -1 (with the log printed to stderr). */
int srv_start(struct srv *s, const char *extra_json, const char *const *extra_args);
/* Sends sig, waits up to 30 s, returns the exit status (128+n if killed by a
 * signal n, -1 on timeout after SIGKILL). Removes the temp dir. */
int srv_stop(struct srv *s, int sig);
/* 1 when the server's stderr so far contains needle. */
int srv_log_contains(const struct srv *s, const char *needle);
/* Waits up to timeout_ms for the process to exit; returns status or -1. */
int srv_wait(struct srv *s, int timeout_ms);

/* Blocking TCP connect to 127.0.0.1:port with a 5 s timeout; fd or -1. */
int tcp_connect(int port);
int tcp_write_all(int fd, const void *p, size_t n);

/* Reads from a byte source until one whole HTTP/1.x response is in buf
 * (head + Content-Length body, or until EOF when no length). The source:
 * read(ctx, p, n, timeout_ms) -> bytes, 0 on EOF, -1 on error/timeout. */
typedef ssize_t (*resp_read_fn)(void *ctx, void *p, size_t n, int timeout_ms);

struct http_resp {
    int status;
    char head[8192];        /* status line + headers, NUL-terminated */
    char body[65536];       /* NUL-terminated (bodies in tests are text) */
    size_t body_len;
    size_t raw_len;         /* bytes of the whole response */
};

/* Returns 0, or -1 on EOF/timeout before a whole response. Bytes read past
 * the response (pipelining) are kept in *carry (caller-owned buffer of
 * carry_cap, *carry_len in/out) and used first on the next call. */
int resp_read(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms,
              char *carry, size_t carry_cap, size_t *carry_len);

/* Same; head_only: the response to a HEAD request (no body whatever
 * Content-Length says). */
int resp_read_ex(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms,
                 char *carry, size_t carry_cap, size_t *carry_len, int head_only);

/* Value of a response header (case-insensitive) copied into out; 0 or -1. */
int resp_header(const struct http_resp *r, const char *name, char *out, size_t outlen);

/* resp_read_fn over a plain socket fd (ctx = &fd): > 0 bytes, 0 on EOF,
 * -1 on error (a reset is an error), -2 on timeout. */
ssize_t fd_read_timeout(void *ctx, void *p, size_t n, int timeout_ms);

#endif
