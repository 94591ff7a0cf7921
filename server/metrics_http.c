/* metrics_http.c: see metrics_http.h. The thread polls the listener and an
 * eventfd (the stop signal); each scrape is read with a deadline, answered
 * and closed, so a stuck scraper holds the thread for at most that long. */
#include "server/metrics_http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/buf.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/net.h"
#include "server/portlock.h"

#define SCRAPE_TIMEOUT_MS 2000
#define SCRAPE_HEAD_MAX   4096
#define SCRAPE_BODY_MAX   (4u * 1024 * 1024)

struct metrics_http {
    int lfd, stopfd;
    struct portlock ports;
    pthread_t thread;
};

/* Reads until the end of the request head; 0, or -1 (timeout, EOF, too big). */
static int read_head(int fd, char *head, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, head + n, cap - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        head[n] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL)
            return 0;
    }
    return -1;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* head_only: HEAD, whose answer has the GET's length but no body. */
static void answer(int fd, int status, const char *reason, const char *type, const char *body,
                   size_t len, int head_only)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason, type, len);
    send_all(fd, head, (size_t)n);
    if (!head_only)
        send_all(fd, body, len);
}

static void serve_one(int fd)
{
    char head[SCRAPE_HEAD_MAX];
    struct timeval tv = { SCRAPE_TIMEOUT_MS / 1000, (SCRAPE_TIMEOUT_MS % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (read_head(fd, head, sizeof head) != 0)
        return;
    int get = strncmp(head, "GET ", 4) == 0, head_req = strncmp(head, "HEAD ", 5) == 0;
    const char *target = head + (get ? 4 : 5);
    if (!get && !head_req) {
        static const char msg[] = "{\"error\":\"method_not_allowed\",\"detail\":\"GET only\"}";
        answer(fd, 405, "Method Not Allowed", "application/json", msg, sizeof msg - 1, 0);
        return;
    }
    if (strncmp(target, "/metrics ", 9) != 0 && strncmp(target, "/metrics? ", 10) != 0 &&
        strncmp(target, "/metrics?", 9) != 0) {
        static const char msg[] = "{\"error\":\"not_found\",\"detail\":\"only /metrics here\"}";
        answer(fd, 404, "Not Found", "application/json", msg, sizeof msg - 1, 0);
        return;
    }
    struct buf out;
    buf_init(&out, SCRAPE_BODY_MAX);
    if (metrics_render(&out) != 0) {
        static const char msg[] = "{\"error\":\"internal\",\"detail\":\"metrics too large\"}";
        answer(fd, 500, "Internal Server Error", "application/json", msg, sizeof msg - 1, 0);
    } else {
        answer(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", buf_head(&out), out.len,
               head_req);
    }
    buf_free(&out);
}

static void *metrics_main(void *arg)
{
    struct metrics_http *m = arg;
    struct pollfd p[2] = { { m->lfd, POLLIN, 0 }, { m->stopfd, POLLIN, 0 } };
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        struct sockaddr_storage peer;
        int fd = net_accept(m->lfd, &peer);
        if (fd < 0)
            continue;
        /* The accepted socket is non-blocking; the deadlines need blocking. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        serve_one(fd);
        close(fd);
    }
    return NULL;
}

int metrics_http_start(struct metrics_http **out, const char *addr, int port, int *bound_port,
                       char *err, size_t errlen)
{
    struct metrics_http *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    m->stopfd = -1;
    portlock_init(&m->ports);
    if (portlock_claim(&m->ports, addr, port, err, errlen) != 0)
        goto fail;
    m->lfd = net_listen(addr, port, 16, bound_port, err, errlen);
    if (m->lfd < 0 || (port == 0 && portlock_hold(&m->ports, addr, *bound_port, err, errlen) != 0))
        goto fail;
    m->stopfd = eventfd(0, EFD_CLOEXEC);
    if (m->stopfd < 0 || pthread_create(&m->thread, NULL, metrics_main, m) != 0) {
        snprintf(err, errlen, "metrics: cannot start the listener thread: %s", strerror(errno));
        goto fail;
    }
    log_info("metrics on http://%s:%d/metrics", addr, *bound_port);
    *out = m;
    return 0;
fail:
    if (m->lfd >= 0)
        close(m->lfd);
    if (m->stopfd >= 0)
        close(m->stopfd);
    portlock_release(&m->ports);
    free(m);
    return -1;
}

void metrics_http_stop(struct metrics_http *m)
{
    if (m == NULL)
        return;
    uint64_t one = 1;
    if (write(m->stopfd, &one, sizeof one) == (ssize_t)sizeof one)
        pthread_join(m->thread, NULL);
    close(m->lfd);
    close(m->stopfd);
    portlock_release(&m->ports);
    free(m);
}
