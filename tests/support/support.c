/* support.c: see support.h. */
#include "support/support.h"
#include "server/clock.h"
#include "support/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) { return (long)clock_mono_ms(); }

static int write_config(struct srv *s, const char *extra_json)
{
    json_error_t je;
    json_t *cfg = json_pack("{s:{s:s, s:i, s:s, s:i, s:i, s:s, s:s}, s:{s:s}, s:{s:s},"
                            " s:{s:s, s:i, s:i, s:i}}",
                            "server", "https_address", "127.0.0.1", "https_port", 0, "http_address",
                            "127.0.0.1", "http_port", 0, "workers", 2, "www_root",
                            PC_SOURCE_DIR "/www", "log_level", "info", "tls", "dev_cert_dir", "",
                            "db", "path", "", "auth", "jwt_key_file", "", "argon2_memory_kib", 8192,
                            "argon2_iterations", 1, "argon2_parallelism", 1);
    if (cfg == NULL)
        return -1;
    char path[400];
    snprintf(path, sizeof path, "%s/certs", s->dir);
    json_object_set_new(json_object_get(cfg, "tls"), "dev_cert_dir", json_string(path));
    snprintf(path, sizeof path, "%s/data/portcullis.db", s->dir);
    json_object_set_new(json_object_get(cfg, "db"), "path", json_string(path));
    snprintf(path, sizeof path, "%s/data/jwt-es256.pem", s->dir);
    json_object_set_new(json_object_get(cfg, "auth"), "jwt_key_file", json_string(path));
    snprintf(path, sizeof path, "%s/data/totp.key", s->dir);
    json_object_set_new(json_object_get(cfg, "auth"), "totp_key_file", json_string(path));
    snprintf(path, sizeof path, "%s/data/master.key", s->dir);
    json_object_set_new(json_object_get(cfg, "auth"), "master_key_file", json_string(path));
    if (extra_json) {
        json_t *extra = json_loads(extra_json, 0, &je);
        if (extra == NULL) {
            fprintf(stderr, "support: bad extra_json: %s\n", je.text);
            json_decref(cfg);
            return -1;
        }
        json_object_update_recursive(cfg, extra);
        json_decref(extra);
    }
    int rc = json_dump_file(cfg, s->config, JSON_INDENT(2));
    json_decref(cfg);
    return rc;
}

static void print_log(const struct srv *s)
{
    FILE *f = fopen(s->log, "r");
    char line[1024];
    if (f == NULL)
        return;
    fprintf(stderr, "---- server log %s ----\n", s->log);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

static int parse_port(const char *text, const char *scheme)
{
    char needle[64];
    snprintf(needle, sizeof needle, "listening on %s://", scheme);
    const char *p = strstr(text, needle);
    if (p == NULL)
        return 0;
    p = strchr(p + strlen(needle), ':');
    return p ? atoi(p + 1) : 0;
}

static int read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return 0;
}

static int wait_listening(struct srv *s, int want_http)
{
    static char text[1 << 16];
    long deadline = now_ms() + 60000; /* sanitizer builds start slowly */
    while (now_ms() < deadline) {
        if (read_file(s->log, text, sizeof text) == 0) {
            s->https_port = parse_port(text, "https");
            s->http_port = parse_port(text, "http");
            if (s->https_port > 0 && (!want_http || s->http_port > 0))
                return 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

int srv_start(struct srv *s, const char *extra_json, const char *const *extra_args)
{
    return srv_start_bin(s, PC_BINARY, extra_json, extra_args);
}

int srv_start_bin(struct srv *s, const char *binary, const char *extra_json,
                  const char *const *extra_args)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/pc-e2e-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    /* The data directory is open to any user, so a server that drops
     * privileges (server.user) can still create its database there. */
    char data[300];
    snprintf(data, sizeof data, "%s/data", s->dir);
    if (chmod(s->dir, 0711) != 0 || mkdir(data, 0700) != 0 || chmod(data, 01777) != 0)
        return -1;
    snprintf(s->config, sizeof s->config, "%s/config.json", s->dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    snprintf(s->ca_file, sizeof s->ca_file, "%s/certs/ca.crt", s->dir);
    if (write_config(s, extra_json) != 0)
        return -1;
    const char *argv[32] = { binary, "--config", s->config };
    int argc = 3;
    for (int i = 0; extra_args && extra_args[i] && argc < 30; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        /* A test that dies mid-way must not leave its server running. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execv(binary, (char *const *)argv);
        _exit(127);
    }
    int want_http = extra_json == NULL || strstr(extra_json, "\"http_port\": -1") == NULL;
    if (wait_listening(s, want_http) != 0) {
        print_log(s);
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
        return -1;
    }
    return 0;
}

int srv_wait(struct srv *s, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    int st;
    while (now_ms() < deadline) {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    return -1;
}

int srv_run_to_exit(struct srv *s, const char *extra_json, int timeout_ms)
{
    char data[300];
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/pc-e2e-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(s->config, sizeof s->config, "%s/config.json", s->dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    snprintf(s->ca_file, sizeof s->ca_file, "%s/certs/ca.crt", s->dir);
    if (mkdir(data, 0700) != 0 || write_config(s, extra_json) != 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execl(PC_BINARY, PC_BINARY, "--config", s->config, (char *)NULL);
        _exit(127);
    }
    int st = srv_wait(s, timeout_ms);
    if (st < 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    return st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int srv_stop(struct srv *s, int sig)
{
    int st = 0;
    if (s->pid > 0) {
        kill(s->pid, sig);
        st = srv_wait(s, 30000);
        if (st < 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
        if (st != 0)
            print_log(s);
    }
    if (s->dir[0] && getenv("PC_KEEP_TMP") == NULL)
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
    return st;
}

int cli_run(const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", PC_BINARY, args);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int srv_log_contains(const struct srv *s, const char *needle)
{
    static char text[1 << 20];
    if (read_file(s->log, text, sizeof text) != 0)
        return 0;
    return strstr(text, needle) != NULL;
}

int srv_metrics_port(const struct srv *s)
{
    char line[512];
    FILE *f = fopen(s->log, "r");
    int port = -1;
    if (f == NULL)
        return -1;
    while (port < 0 && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "metrics on http://");
        const char *c = p ? strrchr(p, ':') : NULL;
        if (c)
            port = atoi(c + 1);
    }
    fclose(f);
    return port > 0 ? port : -1;
}

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tcp_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t fd_read_timeout(void *ctx, void *p, size_t n, int timeout_ms)
{
    int fd = *(int *)ctx;
    struct pollfd pfd = { fd, POLLIN, 0 };
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0)
        return -2;
    ssize_t got = recv(fd, p, n, 0);
    return got < 0 ? -1 : got;
}

/* Content-Length of a head, or -1 when absent. */
static long head_content_length(const char *head, int status)
{
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        return 0;
    const char *p = head;
    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return strtol(p + 15, NULL, 10);
    }
    return -1;
}

static size_t resp_take(char *dst, size_t want, char *carry, size_t *carry_len)
{
    size_t n = want < *carry_len ? want : *carry_len;
    memcpy(dst, carry, n);
    memmove(carry, carry + n, *carry_len - n);
    *carry_len -= n;
    return n;
}

int resp_read(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms, char *carry,
              size_t carry_cap, size_t *carry_len)
{
    return resp_read_ex(fn, ctx, r, timeout_ms, carry, carry_cap, carry_len, 0);
}

int resp_read_ex(resp_read_fn fn, void *ctx, struct http_resp *r, int timeout_ms, char *carry,
                 size_t carry_cap, size_t *carry_len, int head_only)
{
    static char acc[sizeof r->head + sizeof r->body];
    size_t n = resp_take(acc, sizeof acc, carry, carry_len);
    long deadline = now_ms() + timeout_ms;
    memset(r, 0, sizeof *r);
    for (;;) {
        acc[n] = '\0';
        char *end = n >= 4 ? memmem(acc, n, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t hl = (size_t)(end - acc) + 4;
            r->status = atoi(acc + 9);
            long cl = head_only ? 0 : head_content_length(acc, r->status);
            size_t need = cl >= 0 ? hl + (size_t)cl : 0;
            if (hl < sizeof r->head && cl >= 0 && n >= need && (size_t)cl < sizeof r->body) {
                memcpy(r->head, acc, hl);
                r->head[hl] = '\0';
                memcpy(r->body, acc + hl, (size_t)cl);
                r->body[cl] = '\0';
                r->body_len = (size_t)cl;
                r->raw_len = need;
                size_t extra = n - need;
                if (extra > carry_cap - *carry_len)
                    extra = carry_cap - *carry_len;
                memcpy(carry + *carry_len, acc + need, extra);
                *carry_len += extra;
                return 0;
            }
        }
        long left = deadline - now_ms();
        if (left <= 0 || n >= sizeof acc - 1)
            return -1;
        ssize_t got = fn(ctx, acc + n, sizeof acc - 1 - n, (int)left);
        if (got <= 0)
            return -1;
        n += (size_t)got;
    }
}

int resp_header(const struct http_resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = r->head;
    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

/* ---- the normal client beside a test ---- */

/* With Connection: close the answer is everything up to the close. */
static int probe_status(struct tc_conn *c)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        ssize_t r = tc_read(c, buf + n, sizeof buf - 1 - n, 5000);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == sizeof buf - 1)
            break;
    }
    buf[n] = '\0';
    if (n < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0 || strstr(buf, "\r\n\r\n") == NULL)
        return -1;
    return atoi(buf + 9);
}

static void *probe_main(void *arg)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    struct srv_probe *p = arg;
    while (!atomic_load(&p->stop)) {
        struct tc_opts o = { .ca_file = p->s->ca_file, .timeout_ms = 5000 };
        struct tc_conn c;
        long t0 = now_ms();
        int ok = tc_connect(&c, "127.0.0.1", p->s->https_port, &o, p->last_err,
                            sizeof p->last_err) == 0 &&
                 tc_write_all(&c, req, sizeof req - 1, 5000) == 0 && probe_status(&c) == 200;
        long dt = now_ms() - t0;
        if (!ok && c.live)
            snprintf(p->last_err, sizeof p->last_err, "%s",
                     tc_error(&c)[0] ? tc_error(&c) : "no 200 answer");
        tc_close(&c);
        if (p->count < SRV_PROBE_KEEP)
            p->ms[p->count] = dt;
        p->count++;
        p->failures += !ok;
        if (dt > p->worst_ms)
            p->worst_ms = dt;
        usleep(100000);
    }
    return NULL;
}

int srv_probe_start(struct srv_probe *p, const struct srv *s)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    return pthread_create(&p->thread, NULL, probe_main, p) == 0 ? 0 : -1;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

void srv_probe_stop(struct srv_probe *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    int n = p->count < SRV_PROBE_KEEP ? p->count : SRV_PROBE_KEEP;
    qsort(p->ms, (size_t)n, sizeof p->ms[0], cmp_long);
    p->median_ms = n > 0 ? p->ms[n / 2] : 0;
}

int tcp_wait_closed(int *fds, int n, int ms)
{
    struct pollfd *pfd = calloc((size_t)n + 1, sizeof *pfd);
    int *idx = calloc((size_t)n + 1, sizeof *idx), closed = 0;
    long end = now_ms() + ms;
    for (long left = ms; pfd != NULL && idx != NULL && left > 0; left = end - now_ms()) {
        int np = 0;
        for (int i = 0; i < n; i++)
            if (fds[i] >= 0) {
                pfd[np] = (struct pollfd){ fds[i], POLLIN, 0 };
                idx[np++] = i;
            }
        if (np == 0 || poll(pfd, (nfds_t)np, (int)left) <= 0)
            break;
        for (int k = 0; k < np; k++) {
            char b[4096];
            if (pfd[k].revents == 0)
                continue;
            ssize_t got = recv(fds[idx[k]], b, sizeof b, MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                close(fds[idx[k]]);
                fds[idx[k]] = -1;
                closed++;
            }
        }
    }
    free(pfd);
    free(idx);
    return closed;
}

size_t tls_client_hello(unsigned char *out, size_t cap)
{
    int sp[2];
    struct tc_conn c;
    struct tc_opts o = { 0 };
    char err[128];
    ssize_t n = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0)
        return 0;
    if (tc_attach(&c, sp[0], &o, err, sizeof err) == 0) {
        if (tc_handshake_step(&c) == TC_WANT_READ)
            n = recv(sp[1], out, cap, 0);
        tc_close(&c);
    }
    close(sp[0]);
    close(sp[1]);
    return n > 0 ? (size_t)n : 0;
}
