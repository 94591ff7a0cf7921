/* demo_int.h: what the demo's files share (internal to demo/). */
#ifndef PC_DEMO_INT_H
#define PC_DEMO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "demo/demo.h"
#include "demo/wire.h"
#include "tls/client.h"

/* The cost of one exchange; doubles so medians take every field alike. */
struct demo_probe {
    double connect_ms, handshake_ms, ttfb_ms, total_ms;
    double sent, received; /* bytes on the wire up to the last response byte */
    int round_trips;       /* TLS handshake round trips */
    int status;            /* HTTP status of the response */
    int resumed;           /* the TLS session was resumed */
};

/* One comparison in progress. */
struct demo_run {
    const struct demo_opts *o;
    int runs, timeout_ms;
    char server_name[256];
    struct tls_client_config *tls;
    struct tls_client_config *tls12; /* capped at TLS 1.2; NULL unless o->tls12 */
    struct wire_ring *ring;          /* the transcripts' captures */
};

/* demo_exchange.tls: HTTPS over the run's TLS 1.2-capped config. */
#define DEMO_TLS12 2

/* One request on a fresh connection. */
struct demo_exchange {
    int tls; /* HTTPS side (1: TLS 1.3 or what the server offers, DEMO_TLS12),
                else plain HTTP */
    const struct tls_client_session *resume; /* offer this session; NULL: full */
    struct tls_client_session **save;        /* NULL, or receives the session */
    const char *request;
    size_t request_len;
    struct wire_cap *cap; /* NULL, or captures the socket */
    /* results */
    struct demo_probe p;
    char version[32], suite[96];
    int verified;
};

int demo_run_setup(struct demo_run *x, const struct demo_opts *o, char *err, size_t errlen);
void demo_run_free(struct demo_run *x);
/* Connects, handshakes (TLS), sends, reads one whole response, measures.
 * 0, or -1 with err. */
int demo_exchange_run(const struct demo_run *x, struct demo_exchange *e, char *err, size_t errlen);
void demo_random_user(char *out, size_t outlen);

/* demo_wire.c: the server's wire view, one capture ring per listener. */
struct demo_wire;
/* Creates the rings and attaches them to srv as its connection observer
 * (after server_setup, before server_run). 0, or -1 with err. */
int demo_wire_attach(struct demo_wire **out, const struct config *cfg, struct server *srv,
                     char *err, size_t errlen);
/* The GET /demo/wire document ({"capture_bytes", "capture_connections",
 * "https": {"port", "tls", "connections"}, "http": {...}}); NULL when out of
 * memory. Thread-safe. */
json_t *demo_wire_json(const struct demo_wire *dw);
/* After server_run returned (no connection is observed any more). NULL ok. */
void demo_wire_free(struct demo_wire *dw);

#endif
