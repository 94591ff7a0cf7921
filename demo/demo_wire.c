/* demo_wire.c: the server's side of the wire view. One capture ring per
 * listener, filled through the server's connection observer; GET /demo/wire
 * reads them. */
#include <stdio.h>
#include <stdlib.h>

#include "demo/demo_int.h"

struct demo_wire {
    const struct config *cfg;
    struct wire_ring *https, *http; /* NULL: that listener is not captured */
    int https_port, http_port;
};

/* On the connection's loop; a connection whose handle is NULL is left alone. */
static void *demo_wire_open(void *arg, int tls, const char *client_ip, int client_port)
{
    struct demo_wire *dw = arg;
    struct wire_ring *r = tls ? dw->https : dw->http;
    if (r == NULL)
        return NULL;
    struct wire_cap *cap = malloc(sizeof *cap);
    if (cap != NULL)
        wire_cap_open(cap, r, client_ip, client_port);
    return cap;
}

static void demo_wire_close(void *conn)
{
    wire_cap_close(conn);
    free(conn);
}

int demo_wire_attach(struct demo_wire **out, const struct config *cfg, struct server *srv,
                     char *err, size_t errlen)
{
    size_t conns = (size_t)cfg->demo.wire_capture_connections;
    size_t bytes = (size_t)cfg->demo.wire_capture_bytes;
    struct demo_wire *dw = calloc(1, sizeof *dw);
    *out = NULL;
    if (dw == NULL)
        goto fail;
    dw->cfg = cfg;
    dw->https_port = server_https_port(srv);
    dw->http_port = server_http_port(srv);
    if (wire_ring_create(&dw->https, conns, bytes) != 0 ||
        (dw->http_port >= 0 && wire_ring_create(&dw->http, conns, bytes) != 0))
        goto fail;
    struct server_observer obs = { demo_wire_open, wire_cap_observe, demo_wire_close, dw };
    server_set_observer(srv, &obs);
    *out = dw;
    return 0;
fail:
    demo_wire_free(dw);
    snprintf(err, errlen, "demo: out of memory for the wire view");
    return -1;
}

static json_t *demo_wire_listener(struct wire_ring *r, int port, int tls)
{
    return json_pack("{s:i, s:b, s:o*}", "port", port, "tls", tls, "connections",
                     wire_ring_json(r, tls));
}

json_t *demo_wire_json(const struct demo_wire *dw)
{
    json_t *j = json_pack("{s:i, s:i}", "capture_bytes", dw->cfg->demo.wire_capture_bytes,
                          "capture_connections", dw->cfg->demo.wire_capture_connections);
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "https", demo_wire_listener(dw->https, dw->https_port, 1));
    if (dw->http_port >= 0)
        json_object_set_new(j, "http", demo_wire_listener(dw->http, dw->http_port, 0));
    return j;
}

void demo_wire_free(struct demo_wire *dw)
{
    if (dw == NULL)
        return;
    wire_ring_free(dw->https);
    wire_ring_free(dw->http);
    free(dw);
}
