/* conn.c: the per-connection state machine (docs/ARCHITECTURE.md,
 * Connection life):
 * handshake -> read -> parse -> dispatch -> write -> keep-alive or close.
 *
 * Requests on one connection are answered strictly in order: the next
 * pipelined request is parsed only once the previous response is queued, and
 * nothing more is read while a response is waiting for the socket
 * (backpressure), so a connection never holds more than one input buffer and
 * one output buffer, each bounded at init. */
#include "server/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "server/metrics.h"
#include "server/net.h"
#include "server/proxy.h"

enum conn_state {
    CONN_PROXY,     /* reading the PROXY protocol header (server.proxy_protocol) */
    CONN_HANDSHAKE, /* TLS handshake in progress */
    CONN_READ,      /* reading / parsing a request (or idle between requests) */
    CONN_ASYNC,     /* a pool job is producing the response */
    CONN_WRITE,     /* response queued in http.out, draining to the socket */
    CONN_STREAM,    /* a producer (the gateway) streams the response into http.out */
};

struct conn {
    struct loop_io io;
    struct loop_timer timer;
    struct conn_set *set;
    struct conn *prev, *next; /* the set's list */
    struct tls_conn *tls;     /* NULL on the plain-HTTP listener */
    void *obs;                /* the observer's handle; NULL: not observed */
    enum conn_state state;
    int mstate;        /* the metrics gauge this connection counts in; -1: none */
    bool idle;         /* between requests, nothing buffered */
    bool closed;       /* conn_close ran; memory freed later */
    bool dead;         /* must close at the next chance */
    bool job_pending;  /* a pool job holds &http.ex */
    bool stream_ended; /* CONN_STREAM: the producer is done, http.out drains */
    uint32_t want;     /* epoll interest while waiting */
    unsigned char *pp; /* CONN_PROXY: the header so far (PROXY_V2_MAX bytes) */
    size_t pp_len;
    size_t write_len; /* length of a TLS write to retry */
    struct conn_http http;
};

static void conn_on_io(struct loop *l, void *data, uint32_t events);
static void conn_on_timer(struct loop *l, struct loop_timer *t);
static void conn_run(struct conn *c);

static const struct config *conn_cfg(const struct conn *c) { return c->set->http.cfg; }
static struct loop *conn_loop(const struct conn *c) { return c->set->http.loop; }

static void conn_set_timer(struct conn *c, int ms)
{
    if (loop_timer_set(conn_loop(c), &c->timer, (uint64_t)ms) != 0)
        c->dead = true; /* no timeout, no connection: conn_run closes it */
}

static void conn_free_deferred(struct loop *l, void *arg)
{
    (void)l;
    struct conn *c = arg;
    conn_http_free(&c->http);
    free(c->pp);
    free(c);
}

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy the response we just wrote (typically an error answer to a
 * request whose body we did not read). Send our FIN first and discard what
 * has already arrived. */
static void conn_linger(int fd)
{
    char sink[4096];
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 16; i++)
        if (recv(fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
            break;
}

/* The state as the metrics name it (open connections by state). */
static int conn_metric_state(const struct conn *c)
{
    if (c->closed)
        return -1;
    switch (c->state) {
    case CONN_PROXY:
    case CONN_HANDSHAKE: return MET_CONN_HANDSHAKE;
    case CONN_READ: return c->idle ? MET_CONN_IDLE : MET_CONN_READING;
    case CONN_ASYNC: return MET_CONN_PROCESSING;
    case CONN_WRITE:
    case CONN_STREAM: return MET_CONN_WRITING;
    }
    return -1;
}

/* Moves this connection's +1 to the gauge of its current state. */
static void conn_metric_sync(struct conn *c)
{
    int now = conn_metric_state(c);
    if (now == c->mstate)
        return;
    if (c->mstate >= 0)
        metrics_add((enum metric_id)c->mstate, -1);
    if (now >= 0)
        metrics_add((enum metric_id)now, 1);
    c->mstate = now;
}

static void conn_close(struct conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    conn_metric_sync(c);
    if (c->http.ex.stream_ops != NULL) {
        /* A producer holds the exchange: it lets go now. */
        const struct http_stream_ops *ops = c->http.ex.stream_ops;
        c->http.ex.stream_ops = NULL;
        ops->abort(c->http.ex.stream_arg);
    }
    struct conn_set *set = c->set;
    struct loop *l = conn_loop(c);
    loop_timer_cancel(l, &c->timer);
    loop_io_del(l, &c->io);
    if (c->tls) {
        if (c->state != CONN_HANDSHAKE && c->state != CONN_PROXY)
            tls_conn_close_notify(c->tls);
        tls_conn_free(c->tls);
        c->tls = NULL;
    }
    if (c->obs != NULL)
        set->observer->close(c->obs);
    c->obs = NULL;
    conn_linger(c->io.fd);
    close(c->io.fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        set->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    set->n--;
    if (set->http.draining && set->n == 0)
        loop_stop(l); /* the last one of a graceful stop */
    /* A pool job still holds the exchange: the job's completion frees us. */
    if (!c->job_pending && loop_defer(l, conn_free_deferred, c) != 0)
        conn_free_deferred(l, c);
}

void conn_accept(struct conn_set *set, int fd, int is_tls, const struct sockaddr_storage *peer)
{
    const struct config *cfg = set->http.cfg;
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->set = set;
    c->mstate = -1;
    c->io.fd = fd;
    c->io.fn = conn_on_io;
    c->io.data = c;
    c->timer.fn = conn_on_timer;
    conn_http_init(&c->http, &set->http, is_tls);
    c->http.ex.conn = c;
    net_peer_text(peer, c->http.client_ip, sizeof c->http.client_ip, &c->http.client_port);
    c->state = !is_tls ? CONN_READ : cfg->server.proxy_protocol ? CONN_PROXY : CONN_HANDSHAKE;
    c->next = set->list;
    if (set->list)
        set->list->prev = c;
    set->list = c;
    set->n++;
    if (is_tls && tls_conn_setup(&c->tls, set->tls, fd) != 0) {
        log_warn("tls: cannot set up a session for %s", c->http.client_ip);
        conn_close(c);
        return;
    }
    const struct server_observer *obs = set->observer;
    if (obs->open != NULL) {
        c->obs = obs->open(obs->arg, is_tls, c->http.client_ip, c->http.client_port);
        if (c->obs != NULL && c->tls)
            tls_conn_set_observer(c->tls, obs->bytes, c->obs);
    }
    if (loop_io_add(set->http.loop, &c->io, EPOLLIN) != 0) {
        conn_close(c);
        return;
    }
    conn_set_timer(c, is_tls ? cfg->timeouts.handshake_ms : cfg->timeouts.header_ms);
    c->idle = !is_tls;
    conn_metric_sync(c);
}

/* ---- socket I/O: TLS or plain, same contract as tls_conn_* ---- */

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
    if (c->tls)
        return tls_conn_read(c->tls, p, n);
    ssize_t r = recv(c->io.fd, p, n, 0);
    if (r > 0) {
        if (c->obs != NULL)
            c->set->observer->bytes(c->obs, 'r', p, (size_t)r);
        return r;
    }
    if (r == 0)
        return TLS_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TLS_WANT_READ;
    return errno == ECONNRESET ? TLS_CLOSED : TLS_ERROR;
}

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
    if (c->tls)
        return tls_conn_write(c->tls, p, n);
    ssize_t r = send(c->io.fd, p, n, MSG_NOSIGNAL);
    if (r >= 0) {
        if (c->obs != NULL)
            c->set->observer->bytes(c->obs, 'w', p, (size_t)r);
        return r;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TLS_WANT_WRITE;
    return TLS_ERROR;
}

/* Writes out as much of http.out as the socket takes. Returns 0 when empty,
 * TLS_WANT_* when blocked, or TLS_ERROR/TLS_CLOSED. */
static int conn_flush(struct conn *c)
{
    struct buf *out = &c->http.out;
    while (out->len > 0) {
        /* mbedTLS wants the same length again after WANT_*: remember it. */
        size_t n = c->write_len ? c->write_len : out->len;
        if (c->tls && n > CONN_READ_CHUNK)
            n = CONN_READ_CHUNK;
        ssize_t r = conn_send(c, buf_head(out), n);
        if (r < 0) {
            c->write_len = n;
            return (int)r;
        }
        c->write_len = 0;
        buf_consume(out, (size_t)r);
    }
    return 0;
}

/* Reads what the socket (and mbedTLS' internal buffer) has into http.in.
 * Returns > 0 bytes read, TLS_WANT_*, TLS_CLOSED/TLS_ERROR, or 0 when the
 * input buffer is at its limit. */
static ssize_t conn_fill(struct conn *c)
{
    struct buf *in = &c->http.in;
    size_t room = in->max - in->len;
    if (room == 0)
        return 0;
    if (room > CONN_READ_CHUNK)
        room = CONN_READ_CHUNK;
    unsigned moves = in->moves;
    if (buf_reserve(in, room) != 0)
        return TLS_ERROR;
    if (in->moves != moves) /* even if nothing is read now, a producer may send */
        conn_http_input_moved(&c->http);
    ssize_t r = conn_recv(c, buf_tail(in), room);
    if (r > 0)
        in->len += (size_t)r;
    return r;
}

/* ---- states ---- */

static void conn_plaintext_on_tls(struct conn *c)
{
    static const char body[] =
        "{\"error\":\"plain_http\",\"detail\":\"this port speaks HTTPS; use https://\"}";
    char msg[256];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    ssize_t w = send(c->io.fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0 && c->obs != NULL) /* best effort: the client is confused anyway */
        c->set->observer->bytes(c->obs, 'w', (const unsigned char *)msg, (size_t)w);
    log_info("tls: cleartext HTTP from %s on the HTTPS port, answered 400", c->http.client_ip);
    conn_close(c);
}

/* The PROXY v2 header, read byte-exactly so not one byte of the TLS
 * handshake behind it is consumed: first its 16 fixed bytes, then the
 * length they announce. Without a valid header the connection is refused.
 * Returns 1 to go on, 0 to wait for the socket, -1 closed. */
static int conn_step_proxy(struct conn *c)
{
    char ip[PROXY_ADDR_MAX];
    if (c->pp == NULL && (c->pp = malloc(PROXY_V2_MAX)) == NULL) {
        conn_close(c);
        return -1;
    }
    for (;;) {
        size_t need = 16;
        if (c->pp_len >= 16)
            need += ((size_t)c->pp[14] << 8) | c->pp[15];
        long rc = proxy_v2_parse(c->pp, c->pp_len, ip, sizeof ip);
        if (rc > 0) {
            if (ip[0] != '\0') {
                snprintf(c->http.client_ip, sizeof c->http.client_ip, "%s", ip);
                c->http.client_port = 0;
            }
            free(c->pp);
            c->pp = NULL;
            c->state = CONN_HANDSHAKE;
            return 1;
        }
        if (rc < 0 || need > PROXY_V2_MAX) {
            log_info("proxy: %s sent no valid PROXY v2 header, closed", c->http.client_ip);
            conn_close(c);
            return -1;
        }
        ssize_t n = recv(c->io.fd, c->pp + c->pp_len, need - c->pp_len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            c->want = EPOLLIN;
            return 0;
        }
        if (n <= 0) {
            conn_close(c);
            return -1;
        }
        c->pp_len += (size_t)n;
    }
}

/* Returns 1 to go on, 0 to wait for the socket (interest set), -1 closed. */
static int conn_step_handshake(struct conn *c)
{
    int rc = tls_conn_handshake(c->tls);
    if (rc == 0) {
        int v13 = strcmp(tls_conn_version(c->tls), "TLSv1.3") == 0;
        if (tls_conn_resumed(c->tls))
            metrics_inc(v13 ? MET_TLS_RESUMED_13 : MET_TLS_RESUMED_12);
        else
            metrics_inc(v13 ? MET_TLS_FULL_13 : MET_TLS_FULL_12);
        c->state = CONN_READ;
        c->idle = true;
        conn_set_timer(c, conn_cfg(c)->timeouts.keepalive_ms);
        return 1;
    }
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
        c->want = rc == TLS_WANT_READ ? EPOLLIN : EPOLLOUT;
        return 0;
    }
    if (rc == TLS_PLAINTEXT) {
        metrics_inc(MET_TLS_FAIL_PLAINTEXT);
        conn_plaintext_on_tls(c);
        return -1;
    }
    metrics_inc(rc == TLS_CLOSED ? MET_TLS_FAIL_CLOSED : MET_TLS_FAIL_PROTOCOL);
    log_debug("tls: handshake with %s failed: %s", c->http.client_ip, tls_conn_last_error(c->tls));
    conn_close(c);
    return -1;
}

static int conn_step_write(struct conn *c)
{
    struct conn_http *h = &c->http;
    /* A last response that fits in one record leaves with the close_notify
     * in one send() (tls.h). */
    bool last_tls = c->tls != NULL && h->close_after_write;
    if (last_tls && h->out.len <= CONN_READ_CHUNK)
        tls_conn_cork(c->tls);
    int rc = conn_flush(c);
    if (rc == 0 && last_tls)
        rc = tls_conn_finish(c->tls);
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
        c->want = rc == TLS_WANT_READ ? EPOLLIN : EPOLLOUT;
        conn_set_timer(c, conn_cfg(c)->timeouts.write_ms);
        return 0;
    }
    if (rc != 0 || h->close_after_write) {
        conn_close(c);
        return -1;
    }
    c->state = CONN_READ;
    if (c->set->http.draining && h->in.len == 0) {
        conn_close(c);
        return -1;
    }
    if (h->in.len == 0) {
        /* Idle keep-alive: give memory back while nobody talks. */
        c->idle = true;
        conn_http_idle(h);
        if (c->tls)
            tls_conn_idle(c->tls);
        conn_set_timer(c, conn_cfg(c)->timeouts.keepalive_ms);
    } else {
        /* More is buffered: the body after a 100 Continue, or the next
         * pipelined request, which gets a full header timeout of its own. */
        conn_set_timer(c, h->head_len ? conn_cfg(c)->timeouts.body_ms
                                      : conn_cfg(c)->timeouts.header_ms);
    }
    return 1;
}

/* Acts on what the HTTP half says. Returns 1 to go on, 0 to read more. */
static int conn_step_http(struct conn *c)
{
    switch (conn_http_advance(&c->http)) {
    case CONN_HTTP_NEED_MORE: return 0;
    case CONN_HTTP_BODY:
        /* From the end of the head, the body has a deadline of its own. */
        loop_timer_set(conn_loop(c), &c->timer, (uint64_t)conn_cfg(c)->timeouts.body_ms);
        return 1;
    case CONN_HTTP_WRITE: c->state = CONN_WRITE; return 1;
    case CONN_HTTP_LATER:
        c->state = CONN_ASYNC;
        /* A streaming producer lets go when the connection closes; a pool
         * job cannot, so it frees a connection closed meanwhile. */
        c->job_pending = c->http.ex.stream_ops == NULL;
        loop_timer_cancel(conn_loop(c), &c->timer);
        return 1;
    case CONN_HTTP_CLOSE: break;
    }
    conn_close(c);
    return 1;
}

static int conn_step_read(struct conn *c)
{
    if (conn_step_http(c) != 0)
        return c->closed ? -1 : 1;
    ssize_t r = conn_fill(c);
    if (r > 0) {
        if (c->idle) {
            /* First byte of a new request: from now on the whole head must
             * arrive within header_timeout (slowloris). */
            c->idle = false;
            conn_set_timer(c, conn_cfg(c)->timeouts.header_ms);
        }
        return 1;
    }
    if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
        c->want = r == TLS_WANT_READ ? EPOLLIN : EPOLLOUT;
        return 0;
    }
    if (r == 0) {
        /* Buffer full and still incomplete: the parser's limits failed to
         * trigger, which they always should before this; fail safe. */
        conn_http_fail(&c->http, 413, "too_large", "request exceeds the configured limits");
        c->state = CONN_WRITE;
        return 1;
    }
    conn_close(c); /* peer closed or error */
    return -1;
}

/* Writes what the producer queued; once all is written, asks for more or,
 * after the end, goes on as after any answer. 1 to go on, 0 to wait. */
static int conn_step_stream(struct conn *c)
{
    int rc = conn_flush(c);
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
        c->want = rc == TLS_WANT_READ ? EPOLLIN : EPOLLOUT;
        conn_set_timer(c, conn_cfg(c)->timeouts.write_ms);
        return 0;
    }
    if (rc != 0) {
        conn_close(c);
        return -1;
    }
    if (c->stream_ended) {
        c->stream_ended = false;
        c->state = CONN_WRITE;
        return 1;
    }
    /* Nothing to write until the producer has more (its own timer runs). */
    loop_timer_cancel(conn_loop(c), &c->timer);
    c->want = 0;
    c->http.ex.stream_ops->drained(c->http.ex.stream_arg);
    return 0;
}

/* Waiting for a streaming producer (the gateway): the socket's interest is
 * left as it was and dropped only if it fires (conn_on_io), which saves two
 * epoll_ctl calls per forwarded request when the client sends nothing more
 * meanwhile. */
static bool conn_lazy_wait(const struct conn *c)
{
    return c->http.ex.stream_ops != NULL && c->want == 0 &&
           (c->state == CONN_ASYNC || c->state == CONN_STREAM);
}

static void conn_run(struct conn *c)
{
    int go = 1;
    while (go > 0 && !c->closed) {
        if (c->dead) {
            conn_close(c);
            return;
        }
        switch (c->state) {
        case CONN_PROXY: go = conn_step_proxy(c); break;
        case CONN_HANDSHAKE: go = conn_step_handshake(c); break;
        case CONN_READ: go = conn_step_read(c); break;
        case CONN_WRITE: go = conn_step_write(c); break;
        case CONN_STREAM: go = conn_step_stream(c); break;
        case CONN_ASYNC:
            c->want = 0;
            go = 0;
            break;
        }
    }
    if (go == 0 && !c->closed && !conn_lazy_wait(c) &&
        loop_io_set(conn_loop(c), &c->io, c->want) != 0)
        conn_close(c);
    if (!c->closed)
        conn_metric_sync(c);
}

static void conn_on_io(struct loop *l, void *data, uint32_t events)
{
    (void)l;
    struct conn *c = data;
    if (c->closed)
        return;
    if (c->state == CONN_ASYNC || (c->state == CONN_STREAM && c->want == 0)) {
        /* A producer holds the exchange: a hang-up closes the connection
         * (the producer lets go), or for a pool job only marks it. */
        if ((events & (EPOLLERR | EPOLLHUP)) && c->http.ex.stream_ops != NULL) {
            conn_close(c);
            return;
        }
        if (c->http.ex.stream_ops != NULL) { /* the lazy interest fired: drop it now */
            if (loop_io_set(l, &c->io, 0) != 0)
                conn_close(c);
            return;
        }
        if (events & (EPOLLERR | EPOLLHUP)) {
            /* Level-triggered: stop listening, or the hang-up would wake
             * this loop again and again until the job is done. */
            c->dead = true;
            loop_io_del(l, &c->io);
        }
        return;
    }
    conn_run(c);
}

static void conn_on_timer(struct loop *l, struct loop_timer *t)
{
    (void)l;
    struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, timer));
    if (c->closed || c->state == CONN_ASYNC || (c->state == CONN_STREAM && c->want == 0))
        return;
    if (c->state == CONN_HANDSHAKE || c->state == CONN_PROXY)
        metrics_inc(MET_TLS_FAIL_TIMEOUT);
    if (c->state == CONN_READ && !c->idle) {
        log_info("timeout: %s did not send a complete request in time, answering 408",
                 c->http.client_ip);
        conn_http_fail(&c->http, 408, "timeout", "the request did not arrive in time");
        c->state = CONN_WRITE;
        /* One short try to deliver the 408, then close whatever happens. */
        conn_flush(c);
    }
    conn_close(c);
}

/* The end of an asynchronous exchange (conn_http.h: CONN_HTTP_LATER), on
 * the owning loop; the connection may have closed meanwhile. */
void http_exchange_complete(struct http_exchange *ex)
{
    struct conn *c = ex->conn;
    c->job_pending = false;
    if (c->closed) {
        conn_free_deferred(conn_loop(c), c);
        return;
    }
    if (ex->req.body_more)
        ex->resp.close = 1; /* answered before its body: the rest is not read */
    conn_http_finish(&c->http);
    c->state = CONN_WRITE;
    conn_run(c);
}

void http_stream_begin(struct http_exchange *ex, struct http_stream_info *info)
{
    struct conn *c = ex->conn;
    const struct config *cfg = conn_cfg(c);
    c->state = CONN_STREAM;
    c->stream_ended = false;
    info->out = &c->http.out;
    /* A body still arriving is never read now: the connection closes after. */
    info->keep_alive = conn_http_keep(&c->http) && !ex->req.body_more;
    info->minor_version = ex->req.head.minor_version;
    info->is_tls = c->http.is_tls;
    info->hsts_max_age_s = cfg->tls.hsts_max_age_s;
}

void http_stream_push(struct http_exchange *ex)
{
    struct conn *c = ex->conn;
    if (!c->closed && c->state == CONN_STREAM)
        conn_run(c);
}

void http_stream_end(struct http_exchange *ex, int status, size_t bytes, int close)
{
    struct conn *c = ex->conn;
    ex->stream_ops = NULL;
    bool keep = !close && !ex->req.body_more && conn_http_keep(&c->http);
    conn_http_done(&c->http, status, bytes, keep);
    c->stream_ended = true;
    if (!c->closed)
        conn_run(c);
}

void conn_drain_all(struct conn_set *set)
{
    set->http.draining = true;
    struct conn *c = set->list;
    while (c != NULL) {
        struct conn *next = c->next;
        /* Busy ones finish their request: its answer sees http.draining
         * and says Connection: close. */
        if (c->state == CONN_PROXY || c->state == CONN_HANDSHAKE ||
            (c->state == CONN_READ && c->idle))
            conn_close(c);
        c = next;
    }
}

void conn_close_all(struct conn_set *set)
{
    while (set->list != NULL)
        conn_close(set->list);
}
