/* wire.c: capture rings, the TLS record decoder and the renderings of the
 * demo's wire view (see wire.h). */
#include "demo/wire.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/clock.h"
#include "server/hex.h"

/* Reads and writes kept per connection; past it only the totals grow. A
 * TLS login takes about a dozen, a trickling client could take thousands. */
#define WIRE_MAX_SEGMENTS 256

struct wire_seg {
    char dir;      /* 'r' or 'w' */
    uint64_t t_us; /* since the connection started */
    size_t size;   /* of the read/write */
    size_t off;    /* captured part: offset in its direction's half */
    size_t captured;
};

struct wire_slot {
    uint64_t id; /* 0: never used */
    char client[INET6_ADDRSTRLEN + 8];
    struct timespec started;   /* wall clock, for people */
    uint64_t start_us, end_us; /* monotonic; end_us 0 while open */
    size_t total[2];           /* [0] read, [1] written */
    size_t len[2];             /* captured of each */
    size_t nsegs;
    int truncated;
    unsigned char *buf;    /* 2 * ring->bytes: read half, write half */
    struct wire_seg *segs; /* WIRE_MAX_SEGMENTS; same allocation as buf */
};

struct wire_ring {
    pthread_mutex_t mu;
    size_t conns, bytes;
    uint64_t seq; /* last id given */
    struct wire_slot *slots;
};

/* ---- TLS record headers ------------------------------------------------ */

size_t wire_tls_decode(const unsigned char *p, size_t n, struct wire_tls_record *out, size_t max,
                       int *garbage)
{
    size_t off = 0, k = 0;
    int encrypted = 0; /* after change_cipher_spec, handshake bodies are ciphertext */

    if (garbage != NULL)
        *garbage = 0;
    while (k < max && n - off >= 5) {
        const unsigned char *h = p + off;
        unsigned len = (unsigned)h[3] << 8 | h[4];
        if (h[0] < 20 || h[0] > 24 || h[1] != 3 || len > WIRE_TLS_MAX_FRAGMENT) {
            if (garbage != NULL)
                *garbage = 1;
            break;
        }
        struct wire_tls_record *r = &out[k++];
        r->offset = off;
        r->type = h[0];
        r->version = (uint16_t)((unsigned)h[1] << 8 | h[2]);
        r->length = (uint16_t)len;
        r->complete = n - off - 5 >= len;
        r->handshake = h[0] == 22 && !encrypted && len > 0 && n - off > 5 ? h[5] : -1;
        if (h[0] == 20)
            encrypted = 1;
        if (!r->complete)
            break;
        off += 5 + len;
    }
    return k;
}

const char *wire_tls_type_name(unsigned type)
{
    switch (type) {
    case 20: return "change_cipher_spec";
    case 21: return "alert";
    case 22: return "handshake";
    case 23: return "application_data";
    case 24: return "heartbeat";
    default: return "unknown";
    }
}

const char *wire_tls_version_name(unsigned version)
{
    switch (version) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return "unknown";
    }
}

const char *wire_tls_handshake_name(int type)
{
    static const struct {
        int type;
        const char *name;
    } names[] = {
        { 0, "hello_request" },      { 1, "client_hello" },         { 2, "server_hello" },
        { 4, "new_session_ticket" }, { 5, "end_of_early_data" },    { 8, "encrypted_extensions" },
        { 11, "certificate" },       { 12, "server_key_exchange" }, { 13, "certificate_request" },
        { 14, "server_hello_done" }, { 15, "certificate_verify" },  { 16, "client_key_exchange" },
        { 20, "finished" },          { 24, "key_update" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].type == type)
            return names[i].name;
    return "unknown";
}

/* ---- renderings -------------------------------------------------------- */

size_t wire_text(char *out, const unsigned char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue; /* the '\n' that follows becomes the newline */
        out[k++] = p[i] == '\n' ? '\n' : (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
    }
    out[k] = '\0';
    return k;
}

/* ---- rings ------------------------------------------------------------- */

int wire_ring_create(struct wire_ring **out, size_t conns, size_t bytes)
{
    *out = NULL;
    if (conns == 0)
        return 0;
    struct wire_ring *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->slots = calloc(conns, sizeof *r->slots);
    if (r->slots == NULL || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r->slots);
        free(r);
        return -1;
    }
    r->conns = conns;
    r->bytes = bytes;
    *out = r;
    return 0;
}

void wire_ring_free(struct wire_ring *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->conns; i++)
        free(r->slots[i].buf);
    free(r->slots);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

size_t wire_ring_bytes(const struct wire_ring *r) { return r ? r->bytes : 0; }
size_t wire_ring_conns(const struct wire_ring *r) { return r ? r->conns : 0; }

/* The slot of cap if it still belongs to cap's connection (under r->mu). */
static struct wire_slot *wire_slot_of(const struct wire_cap *cap)
{
    struct wire_slot *s = &cap->ring->slots[cap->slot];
    return s->id == cap->id && s->buf != NULL ? s : NULL;
}

void wire_cap_open(struct wire_cap *cap, struct wire_ring *r, const char *client_ip,
                   int client_port)
{
    memset(cap, 0, sizeof *cap);
    if (r == NULL)
        return;
    /* Buffers are allocated once per slot and reused by later connections;
     * the (demo-only) allocation happens outside the lock. */
    size_t need = 2 * r->bytes + WIRE_MAX_SEGMENTS * sizeof(struct wire_seg);
    pthread_mutex_lock(&r->mu);
    uint64_t id = ++r->seq;
    struct wire_slot *s = &r->slots[id % r->conns];
    unsigned char *buf = s->buf;
    s->buf = NULL;
    pthread_mutex_unlock(&r->mu);
    if (buf == NULL)
        buf = malloc(need);
    pthread_mutex_lock(&r->mu);
    if (s->buf != NULL) { /* a newer connection took the slot meanwhile */
        pthread_mutex_unlock(&r->mu);
        free(buf);
        return;
    }
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->segs = buf ? (struct wire_seg *)(void *)(buf + 2 * r->bytes) : NULL;
    s->id = id;
    snprintf(s->client, sizeof s->client, "%s:%d", client_ip ? client_ip : "?", client_port);
    clock_gettime(CLOCK_REALTIME, &s->started);
    s->start_us = clock_mono_us();
    pthread_mutex_unlock(&r->mu);
    cap->ring = r;
    cap->slot = (size_t)(id % r->conns);
    cap->id = id;
}

void wire_cap_record(struct wire_cap *cap, char dir, const unsigned char *p, size_t n)
{
    if (cap == NULL || cap->ring == NULL || n == 0)
        return;
    struct wire_ring *r = cap->ring;
    int d = dir == 'w';
    pthread_mutex_lock(&r->mu);
    struct wire_slot *s = wire_slot_of(cap);
    if (s != NULL) {
        size_t room = r->bytes - s->len[d];
        size_t take = n < room ? n : room;
        s->total[d] += n;
        if (s->nsegs < WIRE_MAX_SEGMENTS) {
            struct wire_seg *g = &s->segs[s->nsegs++];
            g->dir = d ? 'w' : 'r';
            g->t_us = clock_mono_us() - s->start_us;
            g->size = n;
            g->off = s->len[d];
            g->captured = take;
            memcpy(s->buf + (size_t)d * r->bytes + s->len[d], p, take);
            s->len[d] += take;
        } else {
            take = 0;
        }
        if (take < n)
            s->truncated = 1;
    }
    pthread_mutex_unlock(&r->mu);
}

void wire_cap_observe(void *arg, char dir, const unsigned char *p, size_t n)
{
    wire_cap_record(arg, dir, p, n);
}

void wire_cap_close(struct wire_cap *cap)
{
    if (cap == NULL || cap->ring == NULL)
        return;
    pthread_mutex_lock(&cap->ring->mu);
    struct wire_slot *s = wire_slot_of(cap);
    if (s != NULL && s->end_us == 0)
        s->end_us = clock_mono_us();
    pthread_mutex_unlock(&cap->ring->mu);
}

static int wire_find(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
    return m > 0 && n >= m && memmem(hay, n, needle, m) != NULL;
}

int wire_cap_contains(const struct wire_cap *cap, const void *needle, size_t n)
{
    int found = 0;
    if (cap == NULL || cap->ring == NULL)
        return 0;
    pthread_mutex_lock(&cap->ring->mu);
    const struct wire_slot *s = wire_slot_of(cap);
    if (s != NULL)
        found = wire_find(s->buf, s->len[0], needle, n) ||
                wire_find(s->buf + cap->ring->bytes, s->len[1], needle, n);
    pthread_mutex_unlock(&cap->ring->mu);
    return found;
}

/* ---- JSON -------------------------------------------------------------- */

/* A slot copied out of the ring, so JSON is built without the lock. */
struct wire_snap {
    struct wire_slot s;
    size_t bytes;
    uint64_t now_us;
};

static int wire_snap_take(struct wire_ring *r, size_t slot, uint64_t id, struct wire_snap *out)
{
    int ok = 0;
    unsigned char *copy = malloc(2 * r->bytes + WIRE_MAX_SEGMENTS * sizeof(struct wire_seg));
    if (copy == NULL)
        return -1;
    pthread_mutex_lock(&r->mu);
    const struct wire_slot *s = &r->slots[slot];
    if (s->buf != NULL && s->id != 0 && (id == 0 || s->id == id)) {
        out->s = *s;
        memcpy(copy, s->buf, s->len[0]);
        memcpy(copy + r->bytes, s->buf + r->bytes, s->len[1]);
        memcpy(copy + 2 * r->bytes, s->segs, s->nsegs * sizeof *s->segs);
        ok = 1;
    }
    pthread_mutex_unlock(&r->mu);
    if (!ok) {
        free(copy);
        return -1;
    }
    out->s.buf = copy;
    out->s.segs = (struct wire_seg *)(void *)(copy + 2 * r->bytes);
    out->bytes = r->bytes;
    out->now_us = clock_mono_us();
    return 0;
}

static json_t *wire_json_bytes(const unsigned char *p, size_t n, int hex)
{
    char *tmp = malloc(2 * n + 1);
    if (tmp == NULL)
        return NULL;
    size_t len = 2 * n;
    if (hex)
        hex_encode(tmp, p, n);
    else
        len = wire_text(tmp, p, n);
    json_t *j = json_stringn(tmp, len);
    free(tmp);
    return j;
}

static const char *wire_dir_name(char dir, int client_side)
{
    return (dir == 'r') != (client_side != 0) ? "client" : "server";
}

static json_t *wire_json_segments(const struct wire_snap *sn, int client_side)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < sn->s.nsegs; i++) {
        const struct wire_seg *g = &sn->s.segs[i];
        const unsigned char *p = sn->s.buf + (g->dir == 'w' ? sn->bytes : 0) + g->off;
        json_array_append_new(a, json_pack("{s:s, s:f, s:I, s:o*, s:o*}", "dir",
                                           wire_dir_name(g->dir, client_side), "t_ms",
                                           (double)g->t_us / 1000.0, "size", (json_int_t)g->size,
                                           "hex", wire_json_bytes(p, g->captured, 1), "text",
                                           wire_json_bytes(p, g->captured, 0)));
    }
    return a;
}

static json_t *wire_json_record(const struct wire_tls_record *r, char dir, double t_ms,
                                int client_side)
{
    json_t *o = json_pack(
        "{s:s, s:f, s:s, s:i, s:s, s:i, s:b}", "dir", wire_dir_name(dir, client_side), "t_ms", t_ms,
        "type", wire_tls_type_name(r->type), "content_type", (int)r->type, "version",
        wire_tls_version_name(r->version), "length", (int)r->length, "complete", r->complete);
    if (o != NULL && r->handshake >= 0)
        json_object_set_new(o, "handshake", json_string(wire_tls_handshake_name(r->handshake)));
    return o;
}

/* Records of both directions in wire order: each is stamped with the time of
 * the read/write that carried its header. */
static json_t *wire_json_records(const struct wire_snap *sn, int client_side)
{
    struct wire_tls_record *rec[2] = { NULL, NULL };
    size_t nrec[2] = { 0, 0 }, next[2] = { 0, 0 };
    json_t *a = json_array();
    for (int d = 0; d < 2; d++) {
        size_t max = sn->s.len[d] / 5 + 1;
        rec[d] = malloc(max * sizeof *rec[d]);
        if (rec[d] == NULL)
            goto fail;
        nrec[d] = wire_tls_decode(sn->s.buf + (size_t)d * sn->bytes, sn->s.len[d], rec[d], max,
                                  NULL);
    }
    for (size_t i = 0; a != NULL && i < sn->s.nsegs; i++) {
        const struct wire_seg *g = &sn->s.segs[i];
        int d = g->dir == 'w';
        while (next[d] < nrec[d] && rec[d][next[d]].offset < g->off + g->captured)
            json_array_append_new(a, wire_json_record(&rec[d][next[d]++], g->dir,
                                                      (double)g->t_us / 1000.0, client_side));
    }
    free(rec[0]);
    free(rec[1]);
    return a;
fail:
    free(rec[0]);
    free(rec[1]);
    json_decref(a);
    return NULL;
}

static json_t *wire_snap_json(const struct wire_snap *sn, int tls, int client_side)
{
    const struct wire_slot *s = &sn->s;
    struct tm tm;
    char started[40];
    gmtime_r(&s->started.tv_sec, &tm);
    size_t k = strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(started + k, sizeof started - k, ".%03ldZ", s->started.tv_nsec / 1000000L);
    uint64_t end = s->end_us ? s->end_us : sn->now_us;
    return json_pack("{s:I, s:s, s:s, s:b, s:f, s:I, s:I, s:I, s:I, s:b, s:o*, s:o*}", "id",
                     (json_int_t)s->id, "client", s->client, "started", started, "open",
                     s->end_us == 0, "duration_ms", (double)(end - s->start_us) / 1000.0,
                     "bytes_read", (json_int_t)s->total[0], "bytes_written",
                     (json_int_t)s->total[1], "captured_read", (json_int_t)s->len[0],
                     "captured_written", (json_int_t)s->len[1], "truncated", s->truncated,
                     "segments", wire_json_segments(sn, client_side), "records",
                     tls ? wire_json_records(sn, client_side) : json_array());
}

json_t *wire_cap_json(const struct wire_cap *cap, int tls, int client_side)
{
    struct wire_snap sn;
    if (cap == NULL || cap->ring == NULL || wire_snap_take(cap->ring, cap->slot, cap->id, &sn) != 0)
        return NULL;
    json_t *j = wire_snap_json(&sn, tls, client_side);
    free(sn.s.buf);
    return j;
}

json_t *wire_ring_json(struct wire_ring *r, int tls)
{
    json_t *a = json_array();
    if (a == NULL || r == NULL)
        return a;
    pthread_mutex_lock(&r->mu);
    uint64_t last = r->seq;
    pthread_mutex_unlock(&r->mu);
    /* Newest first: ids last, last-1, ...; a slot taken over by a newer
     * connection meanwhile is skipped (its id no longer matches). */
    for (size_t i = 0; i < r->conns && i < last; i++) {
        uint64_t id = last - i;
        struct wire_snap sn;
        if (wire_snap_take(r, (size_t)(id % r->conns), id, &sn) != 0)
            continue;
        json_t *c = wire_snap_json(&sn, tls, 0);
        free(sn.s.buf);
        if (c != NULL)
            json_array_append_new(a, c);
    }
    return a;
}
