/* support.h: end-to-end test helpers: run the real portcullis binary on
 * ephemeral loopback ports with a temporary config and data directory, talk
 * plain TCP to it, and read HTTP responses. TLS clients live in tls_client.h. */
#ifndef PC_TEST_SUPPORT_H
#define PC_TEST_SUPPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct srv {
    pid_t pid;
    int https_port;
    int http_port;
    char dir[256]; /* temp dir: config, certs, db, log */
    char config[320];
    char log[320];
    char ca_file[320]; /* dev CA of this server */
};

/* Starts the server with a config made of test defaults (ports 0, 2 workers,
 * short timeouts, files under a fresh temp dir) recursively merged with
 * extra_json (a JSON object text, may be NULL). extra_args are appended to
 * the command line (NULL-terminated, may be NULL). Waits until both
 * listeners are up. Returns 0 or -1 (with the log printed to stderr). */
int srv_start(struct srv *s, const char *extra_json, const char *const *extra_args);
/* The same with another executable that takes "--config FILE" and prints
 * the server's listening lines: an application on the public API. */
int srv_start_bin(struct srv *s, const char *binary, const char *extra_json,
                  const char *const *extra_args);
/* Sends sig, waits up to 30 s, returns the exit status (128+n if killed by a
 * signal n, -1 on timeout after SIGKILL). Removes the temp dir. */
int srv_stop(struct srv *s, int sig);
/* 1 when the server's stderr so far contains needle. */
int srv_log_contains(const struct srv *s, const char *needle);
/* The metrics listener's port, read from the server's log ("metrics on
 * http://ADDR:PORT/"), or -1 when it has none. */
int srv_metrics_port(const struct srv *s);
/* Waits up to timeout_ms for the process to exit; returns status or -1. */
int srv_wait(struct srv *s, int timeout_ms);
/* For configurations that must not start: runs the server like srv_start
 * (same defaults, extra_json merged over them) without waiting for its
 * listeners, and waits up to timeout_ms for it to exit. Returns the exit
 * status as srv_wait does, or -1 when it was still running (it is then
 * killed) or could not be started. The log stays readable with
 * srv_log_contains until srv_stop, which removes the temp dir. */
int srv_run_to_exit(struct srv *s, const char *extra_json, int timeout_ms);

/* Runs the binary with args (one shell-quoted string), waits for it and
 * returns its exit status (-1 if killed) with stdout and stderr in out. */
int cli_run(const char *args, char *out, size_t outlen);

/* A "normal client" running beside a test: a thread that GETs /healthz on a
 * fresh TLS connection (full handshake, trusting the server's dev CA)
 * every 100 ms until srv_probe_stop, timing each from connect to the end
 * of the answer. It does not use resp_read (whose buffer is static), so
 * the test's thread may go on using it. */
#define SRV_PROBE_KEEP 512
struct srv_probe {
    const struct srv *s;
    pthread_t thread;
    atomic_bool stop;
    int count, failures;      /* failures: no 200 within 5 s */
    long median_ms, worst_ms; /* set by srv_probe_stop */
    long ms[SRV_PROBE_KEEP];  /* the first SRV_PROBE_KEEP timings */
    char last_err[256];
};
/* 0 or -1 (no thread). */
int srv_probe_start(struct srv_probe *p, const struct srv *s);
/* Stops and joins the thread; fills median_ms and worst_ms. */
void srv_probe_stop(struct srv_probe *p);

/* Waits up to ms for the peer to close fds[0..n) (EOF or reset; data is
 * read and dropped). The closed ones are closed here and set to -1; fds
 * already -1 are skipped. Returns how many closed. */
int tcp_wait_closed(int *fds, int n, int ms);

/* The first flight (ClientHello) of the test TLS client, captured over a
 * socketpair: its length, or 0 on failure. */
size_t tls_client_hello(unsigned char *out, size_t cap);

/* Blocking TCP connect to 127.0.0.1:port with a 5 s timeout; fd or -1. */
int tcp_connect(int port);
int tcp_write_all(int fd, const void *p, size_t n);

/* Reads from a byte source until one whole HTTP/1.x response is in buf
 * (head + Content-Length body, or until EOF when no length). The source:
 * read(ctx, p, n, timeout_ms) -> bytes, 0 on EOF, -1 on error/timeout. */
typedef ssize_t (*resp_read_fn)(void *ctx, void *p, size_t n, int timeout_ms);

struct http_resp {
    int status;
    char head[8192];  /* status line + headers, NUL-terminated */
    char body[65536]; /* NUL-terminated (bodies in tests are text) */
    size_t body_len;
    size_t raw_len; /* bytes of the whole response */
};

/* Returns 0, or -1 on EOF/timeout before a whole response. Bytes read past
 * the response (pipelining) are kept in *carry (caller-owned buffer of
 * carry_cap, *carry_len in/out) and used first on the next call. */
int resp_read(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms, char *carry,
              size_t carry_cap, size_t *carry_len);

/* Same; head_only: the response to a HEAD request (no body whatever
 * Content-Length says). */
int resp_read_ex(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms, char *carry,
                 size_t carry_cap, size_t *carry_len, int head_only);

/* Value of a response header (case-insensitive) copied into out; 0 or -1. */
int resp_header(const struct http_resp *r, const char *name, char *out, size_t outlen);

/* resp_read_fn over a plain socket fd (ctx = &fd): > 0 bytes, 0 on EOF,
 * -1 on error (a reset is an error), -2 on timeout. */
ssize_t fd_read_timeout(void *ctx, void *p, size_t n, int timeout_ms);

#endif
