/* metrics.c: see metrics.h. */
#include "server/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 16
/* Upper bounds in microseconds, from 100 us to 10 s. */
static const uint64_t bucket_us[NBUCKETS] = { 100,     250,     500,     1000,    2500,   5000,
                                              10000,   25000,   50000,   100000,  250000, 500000,
                                              1000000, 2500000, 5000000, 10000000 };

struct hist {
    _Atomic uint64_t bucket[NBUCKETS]; /* observations in (bound[i-1], bound[i]] */
    _Atomic uint64_t sum_us, count;
};

struct shard {
    _Atomic int64_t c[MET_COUNT];
    struct hist h[MET_H_COUNT];
    _Atomic uint64_t *req;    /* [routes][5 status classes] */
    struct hist *dur;         /* [routes] */
    _Atomic uint64_t *up_req; /* [gateway routes][5 status classes] */
    struct hist *up_dur;      /* [gateway routes] */
    struct shard *next;
};

static const struct {
    const char *family, *type, *help, *labels;
} desc[MET_COUNT] = {
#define TLS_HS "portcullis_tls_handshakes_total", "counter", "TLS handshakes completed."
    [MET_TLS_FULL_12] = { TLS_HS, "kind=\"full\",version=\"TLSv1.2\"" },
    [MET_TLS_FULL_13] = { TLS_HS, "kind=\"full\",version=\"TLSv1.3\"" },
    [MET_TLS_RESUMED_12] = { TLS_HS, "kind=\"resumed\",version=\"TLSv1.2\"" },
    [MET_TLS_RESUMED_13] = { TLS_HS, "kind=\"resumed\",version=\"TLSv1.3\"" },
#define TLS_FAIL "portcullis_tls_handshake_failures_total", "counter", "TLS handshakes that failed."
    [MET_TLS_FAIL_TIMEOUT] = { TLS_FAIL, "reason=\"timeout\"" },
    [MET_TLS_FAIL_PROTOCOL] = { TLS_FAIL, "reason=\"protocol\"" },
    [MET_TLS_FAIL_CLOSED] = { TLS_FAIL, "reason=\"closed\"" },
    [MET_TLS_FAIL_PLAINTEXT] = { TLS_FAIL, "reason=\"plaintext\"" },
#define CONNS "portcullis_connections", "gauge", "Open client connections by state."
    [MET_CONN_HANDSHAKE] = { CONNS, "state=\"handshake\"" },
    [MET_CONN_READING] = { CONNS, "state=\"reading\"" },
    [MET_CONN_PROCESSING] = { CONNS, "state=\"processing\"" },
    [MET_CONN_WRITING] = { CONNS, "state=\"writing\"" },
    [MET_CONN_IDLE] = { CONNS, "state=\"idle\"" },
    [MET_POOL_QUEUED] = { "portcullis_pool_queue_depth", "gauge", "Jobs waiting for a pool thread.",
                          NULL },
    [MET_POOL_REJECTED] = { "portcullis_pool_rejected_total", "counter",
                            "Jobs refused because the queue was full (answered 503).", NULL },
#define LOGINS "portcullis_logins_total", "counter", "Password logins by result."
    [MET_LOGIN_OK] = { LOGINS, "result=\"ok\"" },
    [MET_LOGIN_FAILED] = { LOGINS, "result=\"failed\"" },
    [MET_LOGIN_LOCKED] = { LOGINS, "result=\"locked\"" },
#define MFA "portcullis_mfa_steps_total", "counter", "Second-factor login steps by result."
    [MET_MFA_OK] = { MFA, "result=\"ok\"" },
    [MET_MFA_FAILED] = { MFA, "result=\"failed\"" },
#define REFUSED "portcullis_token_refusals_total", "counter", "Access tokens refused, by reason."
    [MET_TOKEN_REFUSED_MISSING] = { REFUSED, "reason=\"missing\"" },
    [MET_TOKEN_REFUSED_INVALID] = { REFUSED, "reason=\"invalid\"" },
    [MET_TOKEN_REFUSED_EXPIRED] = { REFUSED, "reason=\"expired\"" },
    [MET_TOKEN_REFUSED_REVOKED] = { REFUSED, "reason=\"revoked\"" },
    [MET_TOKEN_REFUSED_ROLE] = { REFUSED, "reason=\"role\"" },
    [MET_REFRESH_REUSE] = { "portcullis_refresh_reuse_total", "counter",
                            "Reused refresh tokens (their whole family revoked).", NULL },
    [MET_DB_ERRORS] = { "portcullis_db_errors_total", "counter", "Database errors.", NULL },
#define STMT_ERR \
    "portcullis_db_statement_errors_total", "counter", "Store statements that failed, by kind."
    [MET_DB_STMT_ERROR] = { STMT_ERR, "kind=\"error\"" },
    [MET_DB_STMT_BUSY] = { STMT_ERR, "kind=\"busy\"" },
#define UPERR "portcullis_upstream_errors_total", "counter", "Gateway upstream failures, by kind."
    [MET_UPSTREAM_ERR_CONNECT] = { UPERR, "kind=\"connect\"" },
    [MET_UPSTREAM_ERR_TIMEOUT] = { UPERR, "kind=\"timeout\"" },
    [MET_UPSTREAM_ERR_MALFORMED] = { UPERR, "kind=\"malformed\"" },
};

static const struct {
    const char *family, *help;
} hist_desc[MET_H_COUNT] = {
    [MET_H_POOL_WAIT] = { "portcullis_pool_wait_seconds",
                          "Time jobs waited in the queue for a pool thread." },
    [MET_H_DB_STATEMENT] = { "portcullis_db_statement_seconds",
                             "Time a store statement took to run (SQLite or PostgreSQL)." },
};

static struct {
    pthread_mutex_t lock; /* guards the shard list */
    struct shard *shards;
    struct shard shared; /* for threads without a shard: atomic adds */
    int nroutes;         /* router's routes + static + unmatched */
    char **route_method, **route_pattern;
    int nup; /* gateway routes */
    char **up_prefix;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local struct shard *mine;

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static int shard_alloc_routes(struct shard *s)
{
    size_t n = (size_t)(g.nroutes > 0 ? g.nroutes : 1);
    s->req = calloc(n * 5, sizeof *s->req);
    s->dur = calloc(n, sizeof *s->dur);
    if (g.nup > 0) {
        s->up_req = calloc((size_t)g.nup * 5, sizeof *s->up_req);
        s->up_dur = calloc((size_t)g.nup, sizeof *s->up_dur);
        if (s->up_req == NULL || s->up_dur == NULL)
            return -1;
    }
    return s->req && s->dur ? 0 : -1;
}

int metrics_gateway_init(int nroutes, const char *const *prefixes)
{
    if (nroutes <= 0)
        return 0;
    g.up_prefix = calloc((size_t)nroutes, sizeof *g.up_prefix);
    if (g.up_prefix == NULL)
        return -1;
    g.nup = nroutes;
    for (int i = 0; i < nroutes; i++)
        if ((g.up_prefix[i] = dup_or_empty(prefixes[i])) == NULL)
            return -1;
    g.shared.up_req = calloc((size_t)nroutes * 5, sizeof *g.shared.up_req);
    g.shared.up_dur = calloc((size_t)nroutes, sizeof *g.shared.up_dur);
    return g.shared.up_req && g.shared.up_dur ? 0 : -1;
}

int metrics_init(int nroutes, const char *const *methods, const char *const *patterns)
{
    g.nroutes = nroutes + 2;
    g.route_method = calloc((size_t)g.nroutes, sizeof *g.route_method);
    g.route_pattern = calloc((size_t)g.nroutes, sizeof *g.route_pattern);
    if (g.route_method == NULL || g.route_pattern == NULL)
        return -1;
    for (int i = 0; i < g.nroutes; i++) {
        int own = i < nroutes;
        g.route_method[i] = dup_or_empty(own ? methods[i] : "");
        g.route_pattern[i] = dup_or_empty(own            ? patterns[i]
                                          : i == nroutes ? "static"
                                                         : "unmatched");
        if (g.route_method[i] == NULL || g.route_pattern[i] == NULL)
            return -1;
    }
    return shard_alloc_routes(&g.shared);
}

static void shard_free(struct shard *s)
{
    free(s->req);
    free(s->dur);
    free(s->up_req);
    free(s->up_dur);
}

void metrics_free(void)
{
    pthread_mutex_lock(&g.lock);
    for (struct shard *s = g.shards, *next; s; s = next) {
        next = s->next;
        shard_free(s);
        free(s);
    }
    g.shards = NULL;
    shard_free(&g.shared);
    for (int i = 0; g.route_method && i < g.nroutes; i++) {
        free(g.route_method[i]);
        free(g.route_pattern[i]);
    }
    free(g.route_method);
    free(g.route_pattern);
    for (int i = 0; g.up_prefix && i < g.nup; i++)
        free(g.up_prefix[i]);
    free(g.up_prefix);
    g.up_prefix = NULL;
    g.nup = 0;
    memset(&g.shared, 0, sizeof g.shared);
    g.route_method = g.route_pattern = NULL;
    g.nroutes = 0;
    pthread_mutex_unlock(&g.lock);
}

int metrics_thread_attach(void)
{
    if (mine != NULL)
        return 0;
    struct shard *s = calloc(1, sizeof *s);
    if (s == NULL || shard_alloc_routes(s) != 0) {
        if (s)
            shard_free(s);
        free(s);
        return -1;
    }
    pthread_mutex_lock(&g.lock);
    s->next = g.shards;
    g.shards = s;
    pthread_mutex_unlock(&g.lock);
    mine = s;
    return 0;
}

/* The owner is the only writer of its shard: load + store, no lock prefix. */
static inline void bump_u(_Atomic uint64_t *x, uint64_t d)
{
    if (mine != NULL)
        atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + d,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(x, d, memory_order_relaxed);
}

void metrics_add(enum metric_id id, int64_t delta)
{
    struct shard *s = mine ? mine : &g.shared;
    if ((unsigned)id >= MET_COUNT)
        return;
    if (mine != NULL)
        atomic_store_explicit(&s->c[id],
                              atomic_load_explicit(&s->c[id], memory_order_relaxed) + delta,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&s->c[id], delta, memory_order_relaxed);
}

static void hist_add(struct hist *h, uint64_t usec)
{
    int i = 0;
    while (i < NBUCKETS && usec > bucket_us[i])
        i++;
    if (i < NBUCKETS)
        bump_u(&h->bucket[i], 1);
    bump_u(&h->sum_us, usec);
    bump_u(&h->count, 1);
}

void metrics_observe(enum metric_hist h, uint64_t usec)
{
    struct shard *s = mine ? mine : &g.shared;
    if ((unsigned)h < MET_H_COUNT)
        hist_add(&s->h[h], usec);
}

void metrics_request(int route, int status, uint64_t usec)
{
    struct shard *s = mine ? mine : &g.shared;
    int cls = status / 100 - 1;
    if (route == METRICS_ROUTE_STATIC)
        route = g.nroutes - 2;
    else if (route < 0 || route >= g.nroutes - 2)
        route = g.nroutes - 1;
    if (s->req == NULL)
        return;
    cls = cls < 0 ? 0 : cls > 4 ? 4 : cls;
    bump_u(&s->req[route * 5 + cls], 1);
    hist_add(&s->dur[route], usec);
}

void metrics_upstream(int route, int status, uint64_t usec)
{
    struct shard *s = mine ? mine : &g.shared;
    int cls = status / 100 - 1;
    if (route < 0 || route >= g.nup || s->up_req == NULL)
        return;
    cls = cls < 0 ? 0 : cls > 4 ? 4 : cls;
    bump_u(&s->up_req[route * 5 + cls], 1);
    hist_add(&s->up_dur[route], usec);
}

/* ---- exposition --------------------------------------------------------- */

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Label values: backslash, double quote and newline escaped. */
static int put_label(struct buf *out, const char *name, const char *v)
{
    if (buf_printf(out, "%s=\"", name) != 0)
        return -1;
    for (; *v; v++) {
        const char *e = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
        if ((e ? buf_append_str(out, e) : buf_append(out, v, 1)) != 0)
            return -1;
    }
    return buf_append_str(out, "\"");
}

static int put_head(struct buf *out, const char *family, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", family, help, family, type);
}

static int render_plain(struct buf *out)
{
    const char *prev = "";
    for (int id = 0; id < MET_COUNT; id++) {
        int64_t sum = LOAD(g.shared.c[id]);
        for (struct shard *s = g.shards; s; s = s->next)
            sum += LOAD(s->c[id]);
        if (strcmp(prev, desc[id].family) != 0 &&
            put_head(out, desc[id].family, desc[id].type, desc[id].help) != 0)
            return -1;
        prev = desc[id].family;
        if (buf_printf(out, "%s%s%s%s %lld\n", desc[id].family, desc[id].labels ? "{" : "",
                       desc[id].labels ? desc[id].labels : "", desc[id].labels ? "}" : "",
                       (long long)sum) != 0)
            return -1;
    }
    return 0;
}

/* One histogram summed over shards; labels (may be "") end with a comma. */
static int put_hist(struct buf *out, const char *family, const char *labels, size_t off_route,
                    int is_route, int which)
{
    uint64_t b[NBUCKETS] = { 0 }, sum = 0, count = 0, cum = 0;
    for (struct shard *s = &g.shared; s; s = s == &g.shared ? g.shards : s->next) {
        const struct hist *h = is_route == 2 ? (s->up_dur ? &s->up_dur[off_route] : NULL)
                               : is_route    ? &s->dur[off_route]
                                             : &s->h[which];
        if (h == NULL)
            continue;
        for (int i = 0; i < NBUCKETS; i++)
            b[i] += LOAD(h->bucket[i]);
        sum += LOAD(h->sum_us);
        count += LOAD(h->count);
    }
    for (int i = 0; i < NBUCKETS; i++) {
        cum += b[i];
        if (buf_printf(out, "%s_bucket{%sle=\"%g\"} %llu\n", family, labels,
                       (double)bucket_us[i] / 1e6, (unsigned long long)cum) != 0)
            return -1;
    }
    int nl = (int)(strlen(labels) ? strlen(labels) - 1 : 0); /* without the comma */
    const char *o = nl ? "{" : "", *c = nl ? "}" : "";
    return buf_printf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", family, labels,
                      (unsigned long long)count) |
           buf_printf(out, "%s_sum%s%.*s%s %.6f\n", family, o, nl, labels, c, (double)sum / 1e6) |
           buf_printf(out, "%s_count%s%.*s%s %llu\n", family, o, nl, labels, c,
                      (unsigned long long)count);
}

static int route_labels(struct buf *lab, int r)
{
    lab->off = lab->len = 0;
    return put_label(lab, "method", g.route_method[r]) != 0 || buf_append_str(lab, ",") != 0 ||
                   put_label(lab, "route", g.route_pattern[r]) != 0 ||
                   buf_append_str(lab, ",") != 0 || buf_append(lab, "", 1) != 0
               ? -1
               : 0;
}

static int render_requests(struct buf *out, struct buf *lab)
{
    static const char *cls[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
    const char *fam = "portcullis_http_requests_total";
    if (put_head(out, fam, "counter", "HTTP requests answered, by route and status class.") != 0)
        return -1;
    for (int r = 0; r < g.nroutes; r++)
        for (int c = 0; c < 5; c++) {
            uint64_t n = 0;
            for (struct shard *s = &g.shared; s; s = s == &g.shared ? g.shards : s->next)
                n += LOAD(s->req[r * 5 + c]);
            if (route_labels(lab, r) != 0 ||
                buf_printf(out, "%s{%scode=\"%s\"} %llu\n", fam, buf_head(lab), cls[c],
                           (unsigned long long)n) != 0)
                return -1;
        }
    fam = "portcullis_http_request_duration_seconds";
    if (put_head(out, fam, "histogram", "Time from a complete request head to its response.") != 0)
        return -1;
    for (int r = 0; r < g.nroutes; r++)
        if (route_labels(lab, r) != 0 || put_hist(out, fam, buf_head(lab), (size_t)r, 1, 0) != 0)
            return -1;
    return 0;
}

/* The gateway's upstream series, by route prefix. */
static int render_upstream(struct buf *out, struct buf *lab)
{
    static const char *cls[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
    const char *fam = "portcullis_upstream_requests_total";
    if (put_head(out, fam, "counter",
                 "Gateway requests by route and upstream status class (502/503/504: ours).") != 0)
        return -1;
    for (int r = 0; r < g.nup; r++)
        for (int c = 0; c < 5; c++) {
            uint64_t n = 0;
            for (struct shard *s = &g.shared; s; s = s == &g.shared ? g.shards : s->next)
                n += s->up_req ? LOAD(s->up_req[r * 5 + c]) : 0;
            lab->off = lab->len = 0;
            if (put_label(lab, "route", g.up_prefix[r]) != 0 || buf_append(lab, "", 1) != 0 ||
                buf_printf(out, "%s{%s,code=\"%s\"} %llu\n", fam, buf_head(lab), cls[c],
                           (unsigned long long)n) != 0)
                return -1;
        }
    fam = "portcullis_upstream_duration_seconds";
    if (put_head(out, fam, "histogram", "Time from forwarding a request to the upstream's head.") !=
        0)
        return -1;
    for (int r = 0; r < g.nup; r++) {
        lab->off = lab->len = 0;
        if (put_label(lab, "route", g.up_prefix[r]) != 0 || buf_append(lab, ",", 2) != 0 ||
            put_hist(out, fam, buf_head(lab), (size_t)r, 2, 0) != 0)
            return -1;
    }
    return 0;
}

int metrics_render(struct buf *out)
{
    struct buf lab;
    int rc = 0;
    buf_init(&lab, 4096);
    pthread_mutex_lock(&g.lock);
    rc |= put_head(out, "portcullis_build_info", "gauge", "Version of the running binary.");
    rc |= buf_printf(out, "portcullis_build_info{version=\"%s\"} 1\n", PC_VERSION);
    rc |= render_plain(out);
    for (int h = 0; rc == 0 && h < MET_H_COUNT; h++)
        rc |= put_head(out, hist_desc[h].family, "histogram", hist_desc[h].help) |
              put_hist(out, hist_desc[h].family, "", 0, 0, h);
    if (rc == 0 && g.nroutes > 0)
        rc = render_requests(out, &lab);
    if (rc == 0 && g.nup > 0)
        rc = render_upstream(out, &lab);
    pthread_mutex_unlock(&g.lock);
    buf_free(&lab);
    return rc == 0 ? 0 : -1;
}
