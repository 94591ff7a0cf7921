/* upstream.c: one loop's connections to the gateway's upstreams, and the
 * forwarding of one exchange over one of them (docs/ARCHITECTURE.md,
 * Gateway): a non-blocking connect (or a kept-alive connection from the
 * route's pool), the request head and body written as the socket takes
 * them, the response head parsed, then the body streamed to the client
 * with backpressure (reading stops while the client's output is full).
 *
 * Errors before the response head answer the client with a JSON error
 * (502 refused/reset/malformed, 504 timeout) on a connection that stays
 * open; after it, the client's connection closes (the head is gone). A
 * kept-alive connection that turns out closed before any byte of answer is
 * replaced once for idempotent methods. Everything runs on the loop's
 * thread. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server/clock.h"
#include "server/gateway_int.h"
#include "server/log.h"
#include "server/metrics.h"

#define UP_READ     16384
#define UP_HEAD_MAX 65536
#define UP_HIGH     (256 * 1024) /* client output above this: stop reading */

enum up_state {
    UP_IDLE,
    UP_CONNECTING,
    UP_SENDING,   /* the request, as far as it arrived */
    UP_BODY_WAIT, /* all of it sent that arrived: waiting for the client's body */
    UP_HEAD,      /* the answer's head */
    UP_BODY,      /* the answer's body, streamed to the client */
};

struct up_conn {
    struct loop_io io;
    struct loop_timer timer;
    struct gateway_loop *gl;
    const struct gateway_route *route;
    struct up_conn *next; /* the pool's idle list */
    enum up_state state;
    bool reused;    /* taken from the pool */
    bool got_bytes; /* some answer arrived */
    bool paused;    /* the client's output is full */
    bool chunked_out, client_close, extra;
    bool idempotent; /* the request may be sent again on a fresh connection */
    bool closed;
    struct http_exchange *ex;
    struct http_stream_info info;
    struct buf req; /* the request head */
    size_t req_sent, body_sent;
    /* A chunked request body (req.body_chunked) goes upstream re-framed:
     * what arrived and is not sent yet becomes one chunk, the last chunk
     * follows once the client's body is complete (its trailers are not
     * forwarded). frame is the framing due before the next body bytes. */
    char frame[32];
    size_t frame_len, frame_sent;
    size_t chunk_left; /* body bytes of the current chunk still to send */
    bool chunk_open;   /* a chunk is framed, its closing CRLF not yet */
    bool last_chunk;   /* the last chunk is framed */
    bool req_done;     /* the whole request is sent (the connection may be reused) */
    struct buf in;
    struct upstream_head head;
    struct http_chunked ch;
    uint64_t left; /* UP_BODY_LENGTH: bytes still to come */
    size_t sent;   /* bytes queued to the client (head, framing, body) */
    uint64_t started_us;
};

struct up_pool {
    struct up_conn *idle;
    int open; /* idle and busy */
};

struct gateway_loop {
    const struct gateway *g;
    struct loop *loop;
    struct up_pool pool[GATEWAY_ROUTES_MAX];
};

static void up_on_io(struct loop *l, void *data, uint32_t events);
static void up_on_timer(struct loop *l, struct loop_timer *t);
static void up_drained(void *arg);
static void up_abort(void *arg);
static void up_body_more(void *arg);
static const struct http_stream_ops up_ops = { up_drained, up_abort, up_body_more };

static struct up_pool *up_pool_of(struct up_conn *uc)
{
    return &uc->gl->pool[gateway_route_index(uc->gl->g, uc->route)];
}

struct gateway_loop *gateway_loop_create(const struct gateway *g, struct loop *l)
{
    if (g == NULL)
        return NULL;
    struct gateway_loop *gl = calloc(1, sizeof *gl);
    if (gl == NULL)
        return NULL;
    gl->g = g;
    gl->loop = l;
    return gl;
}

static void up_free_deferred(struct loop *l, void *arg)
{
    (void)l;
    struct up_conn *uc = arg;
    buf_free(&uc->req);
    buf_free(&uc->in);
    free(uc);
}

/* Closes the socket; the memory goes after this batch of events, as the
 * caller's stack may still hold uc. */
static void up_close(struct up_conn *uc)
{
    if (uc->closed)
        return;
    uc->closed = true;
    loop_timer_cancel(uc->gl->loop, &uc->timer);
    if (uc->io.fd >= 0) {
        loop_io_del(uc->gl->loop, &uc->io);
        close(uc->io.fd);
        uc->io.fd = -1;
    }
    up_pool_of(uc)->open--;
    if (loop_defer(uc->gl->loop, up_free_deferred, uc) != 0)
        log_warn("gateway: out of memory freeing a connection");
}

void gateway_loop_free(struct gateway_loop *gl)
{
    if (gl == NULL)
        return;
    for (int i = 0; i < GATEWAY_ROUTES_MAX; i++)
        while (gl->pool[i].idle != NULL) {
            struct up_conn *uc = gl->pool[i].idle;
            gl->pool[i].idle = uc->next;
            up_close(uc);
        }
    free(gl);
}

/* A new socket connecting (non-blocking) to the route's upstream. 0, or -1
 * with errno. */
static int up_connect(struct up_conn *uc)
{
    const struct gateway_route *r = uc->route;
    int fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&r->addr, r->alen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    uc->io.fd = fd;
    uc->state = UP_CONNECTING;
    uc->reused = false;
    if (loop_io_add(uc->gl->loop, &uc->io, EPOLLOUT) != 0) {
        close(fd);
        uc->io.fd = -1;
        return -1;
    }
    return 0;
}

/* Is an idle connection still quiet? Bytes (an answer nobody asked for) or
 * the upstream's close may have arrived after the last answer without the
 * loop having seen them yet: such a connection would hand them to the next
 * request as its answer. */
static bool up_idle_quiet(const struct up_conn *uc)
{
    char c;
    ssize_t n = recv(uc->io.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* An idle connection of the pool, or a new one; NULL when the route has
 * max_connections open (errno EBUSY) or the connect failed at once. */
static struct up_conn *up_acquire(struct gateway_loop *gl, const struct gateway_route *r)
{
    struct up_pool *p = &gl->pool[gateway_route_index(gl->g, r)];
    while (p->idle != NULL && !up_idle_quiet(p->idle)) {
        struct up_conn *stale = p->idle;
        p->idle = stale->next;
        up_close(stale);
    }
    if (p->idle != NULL) {
        struct up_conn *uc = p->idle;
        p->idle = uc->next;
        uc->next = NULL;
        uc->reused = true;
        uc->state = UP_SENDING;
        return uc;
    }
    if (p->open >= r->max_connections) {
        errno = EBUSY;
        return NULL;
    }
    struct up_conn *uc = calloc(1, sizeof *uc);
    if (uc == NULL)
        return NULL;
    uc->gl = gl;
    uc->route = r;
    uc->io.fn = up_on_io;
    uc->io.data = uc;
    uc->timer.fn = up_on_timer;
    buf_init(&uc->req, 1024 * 1024);
    buf_init(&uc->in, UP_HEAD_MAX + UP_READ);
    if (up_connect(uc) != 0) {
        int e = errno;
        up_free_deferred(gl->loop, uc);
        errno = e;
        return NULL;
    }
    p->open++;
    return uc;
}

/* Back to the pool (the answer was complete and the upstream keeps the
 * connection), or closed. */
static void up_release(struct up_conn *uc, bool reusable)
{
    uc->ex = NULL;
    struct up_pool *p = up_pool_of(uc);
    if (!reusable || uc->gl == NULL) {
        up_close(uc);
        return;
    }
    loop_timer_cancel(uc->gl->loop, &uc->timer);
    uc->state = UP_IDLE;
    uc->paused = uc->got_bytes = uc->extra = false;
    buf_reset(&uc->req, 4096);
    buf_reset(&uc->in, UP_READ);
    if (loop_io_set(uc->gl->loop, &uc->io, EPOLLIN) != 0) {
        up_close(uc);
        return;
    }
    uc->next = p->idle;
    p->idle = uc;
}

static void up_unlink_idle(struct up_conn *uc)
{
    struct up_conn **pp = &up_pool_of(uc)->idle;
    while (*pp != NULL && *pp != uc)
        pp = &(*pp)->next;
    if (*pp == uc)
        *pp = uc->next;
}

/* ---- ending an exchange ---- */

/* Before the head: the client gets a JSON error, its connection stays. */
static void up_fail(struct up_conn *uc, int status, const char *code, const char *detail,
                    enum metric_id kind)
{
    struct http_exchange *ex = uc->ex;
    metrics_inc(kind);
    metrics_upstream(gateway_route_index(uc->gl->g, uc->route), status,
                     clock_mono_us() - uc->started_us);
    log_info("gateway: %s %s: %s", uc->route->prefix, code, detail);
    up_release(uc, false);
    ex->stream_ops = NULL;
    http_resp_error(&ex->resp, status, code, detail);
    http_exchange_complete(ex);
}

/* After the head: complete, or cut short (the client's connection closes). */
static void up_finish(struct up_conn *uc, bool complete)
{
    struct http_exchange *ex = uc->ex;
    if (complete && uc->chunked_out) {
        buf_append_str(uc->info.out, "0\r\n\r\n");
        uc->sent += 5;
    }
    int status = uc->head.status;
    size_t bytes = uc->sent;
    bool close = !complete || uc->client_close;
    if (!complete)
        log_info("gateway: %s: the upstream's answer ended early", uc->route->prefix);
    /* An answer before the whole request was sent leaves the upstream
     * waiting for the rest: that connection is not reused. */
    up_release(uc, complete && uc->head.keep_alive && !uc->extra && uc->req_done);
    http_stream_end(ex, status, bytes, close);
}

/* At dispatch, while the head's slices are sure to be valid (a streamed
 * body may move the input buffer later). */
static bool up_idempotent(const struct http_exchange *ex)
{
    struct str m = ex->req.head.method;
    return str_eq(m, "GET") || str_eq(m, "HEAD") || str_eq(m, "OPTIONS") || str_eq(m, "PUT") ||
           str_eq(m, "DELETE");
}

/* Nothing of the request sent yet. */
static void up_request_reset(struct up_conn *uc)
{
    uc->req_sent = uc->body_sent = 0;
    uc->frame_len = uc->frame_sent = uc->chunk_left = 0;
    uc->chunk_open = uc->last_chunk = uc->req_done = false;
}

/* The connection failed before any answer: a kept-alive one the upstream
 * had closed is replaced once (idempotent requests), else 502. */
static void up_broken(struct up_conn *uc, const char *why)
{
    if (uc->reused && !uc->got_bytes && uc->idempotent) {
        loop_io_del(uc->gl->loop, &uc->io);
        close(uc->io.fd);
        uc->io.fd = -1;
        up_request_reset(uc);
        uc->in.len = 0;
        if (up_connect(uc) == 0)
            return;
        why = strerror(errno);
    }
    up_fail(uc, 502, "bad_gateway", why, MET_UPSTREAM_ERR_CONNECT);
}

/* ---- the response ---- */

static void up_out(struct up_conn *uc, const char *p, size_t n)
{
    size_t before = uc->info.out->len;
    if (n == 0)
        return;
    if (uc->chunked_out)
        buf_printf(uc->info.out, "%zx\r\n", n);
    buf_append(uc->info.out, p, n);
    if (uc->chunked_out)
        buf_append(uc->info.out, "\r\n", 2);
    uc->sent += uc->info.out->len - before;
}

/* Body bytes p[0..n) (decoded in place when chunked). 1 complete, 0 more
 * to come, -1 malformed. */
static int up_body(struct up_conn *uc, char *p, size_t n)
{
    switch (uc->head.body) {
    case UP_BODY_NONE: uc->extra = n > 0; return 1;
    case UP_BODY_LENGTH: {
        size_t take = n < uc->left ? n : (size_t)uc->left;
        up_out(uc, p, take);
        uc->left -= take;
        uc->extra = take < n;
        return uc->left == 0;
    }
    case UP_BODY_CHUNKED: {
        size_t m = n;
        ssize_t rc = http_chunked_decode(&uc->ch, p, &m);
        if (rc == HTTP_PARSE_ERROR)
            return -1;
        up_out(uc, p, m);
        uc->extra = rc > 0;
        return rc >= 0;
    }
    case UP_BODY_CLOSE: up_out(uc, p, n); return 0;
    }
    return -1;
}

/* The head arrived: the client's head goes out, then what followed it. 1
 * to go on reading, 0 when the exchange ended, -1 when it failed. */
static int up_head(struct up_conn *uc)
{
    const char *why;
    long hlen;
    for (;;) {
        hlen = upstream_parse_head(buf_head(&uc->in), uc->in.len, uc->ex->req.is_head, &uc->head,
                                   &why);
        if (hlen < 0 || (hlen == 0 && uc->in.len >= UP_HEAD_MAX)) {
            up_fail(uc, 502, "bad_gateway", hlen < 0 ? why : "response head too large",
                    MET_UPSTREAM_ERR_MALFORMED);
            return -1;
        }
        if (hlen == 0)
            return 1;
        if (uc->head.status >= 200)
            break;
        buf_consume(&uc->in, (size_t)hlen); /* 1xx interim answers are not forwarded */
    }
    struct http_exchange *ex = uc->ex;
    metrics_upstream(gateway_route_index(uc->gl->g, uc->route), uc->head.status,
                     clock_mono_us() - uc->started_us);
    http_stream_begin(ex, &uc->info);
    size_t before = uc->info.out->len;
    if (upstream_client_head(&uc->head, &uc->info, ex->request_id, uc->info.out, &uc->chunked_out,
                             &uc->client_close) != 0) {
        up_finish(uc, false);
        return 0;
    }
    uc->sent += uc->info.out->len - before;
    uc->state = UP_BODY;
    uc->left = uc->head.content_length;
    http_chunked_init(&uc->ch, 1024, 16384);
    buf_consume(&uc->in, (size_t)hlen);
    return 1;
}

/* Processes what `in` holds. 1 to read on, 0 when the exchange ended. */
static int up_process(struct up_conn *uc)
{
    if (uc->state == UP_HEAD) {
        int rc = up_head(uc);
        if (rc <= 0 || uc->state != UP_BODY)
            return rc > 0;
    }
    int done = up_body(uc, buf_head(&uc->in), uc->in.len);
    uc->in.len = 0;
    if (done != 0) {
        up_finish(uc, done > 0);
        return 0;
    }
    struct http_exchange *ex = uc->ex;
    http_stream_push(ex);
    if (uc->ex == NULL)
        return 0; /* the client went away: up_abort closed us */
    if (uc->info.out->len > UP_HIGH) {
        uc->paused = true;
        loop_timer_cancel(uc->gl->loop, &uc->timer);
        loop_io_set(uc->gl->loop, &uc->io, 0);
        return 0;
    }
    loop_timer_set(uc->gl->loop, &uc->timer, (uint64_t)uc->route->timeout_ms);
    return 1;
}

static void up_read(struct up_conn *uc)
{
    while (uc->ex != NULL && !uc->paused) {
        if (buf_reserve(&uc->in, UP_READ) != 0) {
            up_fail(uc, 502, "bad_gateway", "out of memory", MET_UPSTREAM_ERR_MALFORMED);
            return;
        }
        ssize_t r = recv(uc->io.fd, buf_tail(&uc->in), UP_READ, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r <= 0) {
            const char *why = r == 0 ? "the upstream closed the connection" : strerror(errno);
            if (uc->state == UP_HEAD && !uc->got_bytes)
                up_broken(uc, why);
            else if (uc->state == UP_HEAD)
                up_fail(uc, 502, "bad_gateway", "the upstream's answer ended in its head",
                        MET_UPSTREAM_ERR_MALFORMED);
            else
                up_finish(uc, r == 0 && uc->head.body == UP_BODY_CLOSE);
            return;
        }
        uc->got_bytes = true;
        uc->in.len += (size_t)r;
        if (up_process(uc) == 0)
            return;
    }
}

/* ---- the request ---- */

/* Frames what follows in a chunked request body once the previous framing
 * and chunk data are out: the CRLF ending that chunk (at once, so that the
 * upstream has the whole chunk without waiting for the next one), then the
 * size of what arrived since, or the last chunk once the body is complete
 * and all of it is sent. */
static void up_frame_next(struct up_conn *uc, size_t unsent, bool more)
{
    if (uc->frame_sent < uc->frame_len || uc->chunk_left > 0 || uc->last_chunk)
        return;
    const char *crlf = uc->chunk_open ? "\r\n" : "";
    int n;
    if (unsent > 0) {
        n = snprintf(uc->frame, sizeof uc->frame, "%s%zx\r\n", crlf, unsent);
        uc->chunk_left = unsent;
        uc->chunk_open = true;
    } else if (!more) {
        n = snprintf(uc->frame, sizeof uc->frame, "%s0\r\n\r\n", crlf);
        uc->last_chunk = true;
        uc->chunk_open = false;
    } else if (uc->chunk_open) {
        n = snprintf(uc->frame, sizeof uc->frame, "\r\n"); /* the chunk is whole now */
        uc->chunk_open = false;
    } else {
        return;
    }
    uc->frame_len = (size_t)n;
    uc->frame_sent = 0;
}

/* Writes the head, then the body as far as it arrived (chunked: with its
 * framing). 1 done, 0 blocked, -1 failed. */
static int up_send(struct up_conn *uc)
{
    const struct http_request *rq = &uc->ex->req;
    struct str body = rq->body;
    for (;;) {
        if (rq->body_chunked)
            up_frame_next(uc, body.n - uc->body_sent, rq->body_more);
        size_t head_left = uc->req.len - uc->req_sent;
        size_t frame_left = uc->frame_len - uc->frame_sent;
        size_t body_left = body.n - uc->body_sent;
        if (rq->body_chunked && body_left > uc->chunk_left)
            body_left = uc->chunk_left;
        struct iovec iov[3];
        int n = 0;
        if (head_left > 0)
            iov[n++] = (struct iovec){ buf_head(&uc->req) + uc->req_sent, head_left };
        if (frame_left > 0)
            iov[n++] = (struct iovec){ uc->frame + uc->frame_sent, frame_left };
        if (body_left > 0)
            iov[n++] = (struct iovec){ (char *)body.p + uc->body_sent, body_left };
        if (n == 0)
            return 1;
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(uc->io.fd, &mh, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (w < 0)
            return -1;
        size_t k = (size_t)w;
        size_t h = k < head_left ? k : head_left;
        uc->req_sent += h;
        k -= h;
        size_t f = k < frame_left ? k : frame_left;
        uc->frame_sent += f;
        k -= f;
        uc->body_sent += k;
        if (rq->body_chunked)
            uc->chunk_left -= k;
    }
}

/* Everything of the request that arrived is sent: wait for the answer, or
 * for more of a body still arriving (the client's body timeout runs then,
 * not the route's; an early answer or close is still noticed). 0, or -1
 * when epoll failed. */
static int up_request_sent(struct up_conn *uc)
{
    if (uc->ex->req.body_more) {
        uc->state = UP_BODY_WAIT;
        loop_timer_cancel(uc->gl->loop, &uc->timer);
    } else {
        uc->state = UP_HEAD;
        uc->req_done = true;
        if (uc->timer.idx == 0)
            loop_timer_set(uc->gl->loop, &uc->timer, (uint64_t)uc->route->timeout_ms);
    }
    return loop_io_set(uc->gl->loop, &uc->io, EPOLLIN);
}

static void up_step_send(struct up_conn *uc)
{
    int rc = up_send(uc);
    if (rc < 0 && (errno == EPIPE || errno == ECONNRESET) &&
        loop_io_set(uc->gl->loop, &uc->io, EPOLLIN) == 0) {
        /* The upstream stopped taking the request: it may have answered
         * first (from the head, before the body) and closed. Its answer is
         * read like any; none there (a reset, the end) fails as before. */
        uc->state = UP_HEAD;
        if (uc->timer.idx == 0)
            loop_timer_set(uc->gl->loop, &uc->timer, (uint64_t)uc->route->timeout_ms);
        up_read(uc);
        return;
    }
    if (rc < 0) {
        up_broken(uc, strerror(errno));
        return;
    }
    if (rc == 0) {
        loop_io_set(uc->gl->loop, &uc->io, EPOLLOUT);
        return;
    }
    if (up_request_sent(uc) != 0)
        up_fail(uc, 502, "bad_gateway", "epoll failed", MET_UPSTREAM_ERR_CONNECT);
}

/* Writes at once what can go without blocking; anything else (blocked,
 * failed) is met at the socket's next event, so the caller (the dispatcher,
 * or the connection reading a body) is never answered from here. */
static void up_send_now(struct up_conn *uc)
{
    uc->state = UP_SENDING;
    if (up_send(uc) != 1 || up_request_sent(uc) != 0)
        loop_io_set(uc->gl->loop, &uc->io, EPOLLOUT);
}

static void up_body_more(void *arg)
{
    struct up_conn *uc = arg;
    if (uc->state == UP_BODY_WAIT)
        up_send_now(uc);
    /* Connecting or sending: the pending EPOLLOUT sends it; answering: the
     * upstream answered early, the rest of the body is not sent. */
}

static void up_on_io(struct loop *l, void *data, uint32_t events)
{
    (void)l;
    struct up_conn *uc = data;
    if (uc->closed)
        return;
    switch (uc->state) {
    case UP_IDLE: /* the upstream closed (or spoke out of turn) while idle */
        up_unlink_idle(uc);
        up_close(uc);
        return;
    case UP_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(uc->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            up_fail(uc, 502, "bad_gateway", err ? strerror(err) : "connect failed",
                    MET_UPSTREAM_ERR_CONNECT);
            return;
        }
        uc->state = UP_SENDING;
    }
        /* fall through */
    case UP_SENDING: up_step_send(uc); return;
    case UP_BODY_WAIT: /* the upstream answers (or closes) before the whole body */
        uc->state = UP_HEAD;
        loop_timer_set(uc->gl->loop, &uc->timer, (uint64_t)uc->route->timeout_ms);
        up_read(uc);
        return;
    case UP_HEAD:
    case UP_BODY:
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            up_read(uc);
        return;
    }
}

static void up_on_timer(struct loop *l, struct loop_timer *t)
{
    (void)l;
    struct up_conn *uc = (struct up_conn *)((char *)t - offsetof(struct up_conn, timer));
    if (uc->closed || uc->ex == NULL)
        return;
    if (uc->state == UP_BODY) {
        metrics_inc(MET_UPSTREAM_ERR_TIMEOUT);
        up_finish(uc, false);
        return;
    }
    up_fail(uc, 504, "gateway_timeout", "the upstream did not answer in time",
            MET_UPSTREAM_ERR_TIMEOUT);
}

static void up_drained(void *arg)
{
    struct up_conn *uc = arg;
    if (!uc->paused)
        return;
    uc->paused = false;
    loop_timer_set(uc->gl->loop, &uc->timer, (uint64_t)uc->route->timeout_ms);
    if (loop_io_set(uc->gl->loop, &uc->io, EPOLLIN) != 0)
        log_warn("gateway: epoll failed resuming a response");
}

static void up_abort(void *arg)
{
    struct up_conn *uc = arg;
    uc->ex = NULL;
    up_close(uc); /* mid-exchange: the connection cannot be reused */
}

int gateway_forward(struct gateway_loop *gl, const struct gateway_route *r,
                    struct http_exchange *ex)
{
    uint64_t t0 = clock_mono_us();
    int idx = gateway_route_index(gl->g, r);
    struct up_conn *uc = up_acquire(gl, r);
    if (uc == NULL) {
        bool busy = errno == EBUSY;
        metrics_inc(MET_UPSTREAM_ERR_CONNECT);
        metrics_upstream(idx, busy ? 503 : 502, 0);
        if (busy) {
            http_resp_error(&ex->resp, 503, "upstream_busy",
                            "every connection to the upstream is in use; try again");
            http_resp_header(&ex->resp, "Retry-After", "1");
        } else {
            http_resp_error(&ex->resp, 502, "bad_gateway", strerror(errno));
        }
        return 0;
    }
    uc->ex = ex;
    uc->started_us = t0;
    uc->sent = 0;
    up_request_reset(uc);
    uc->chunked_out = uc->client_close = uc->extra = uc->got_bytes = false;
    uc->idempotent = up_idempotent(ex);
    if (gateway_request_head(gl->g, r, ex, &uc->req) != 0) {
        up_release(uc, uc->reused);
        http_resp_error(&ex->resp, 431, "headers_too_large", "the request head is too large");
        return 0;
    }
    ex->stream_ops = &up_ops;
    ex->stream_arg = uc;
    loop_timer_set(gl->loop, &uc->timer, (uint64_t)r->timeout_ms);
    if (uc->state == UP_SENDING) /* kept alive: write now */
        up_send_now(uc);
    return 1;
}
