/* demo.h: the HTTP vs HTTPS demo (docs/ARCHITECTURE.md, HTTP vs HTTPS demo).
 *
 *   demo.c         the comparison: a client that logs in over plain HTTP and
 *                  over HTTPS, capturing its own socket (what an eavesdropper
 *                  saw) and timing connect, handshake, first byte, bytes on
 *                  the wire, for full and resumed (ticket) handshakes.
 *   demo_cli.c     `portcullis demo`: prints that comparison side by side.
 *   demo_routes.c  GET /demo/wire and POST /demo/run (demo mode, loopback
 *                  clients only); the run happens on a thread of its own.
 *   demo_wire.c    the server's wire view: a capture ring per listener,
 *                  plugged into the server as its connection observer.
 *   wire.c         the capture rings, TLS record decoding, renderings.
 *
 * Only main.c, the composition root, includes this: the server knows
 * nothing of the demo.
 *
 * The JSON documents are described in the README's demo section. */
#ifndef PC_DEMO_H
#define PC_DEMO_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "server/config.h"
#include "server/router.h"
#include "server/server.h"

#define DEMO_RUNS_DEFAULT     5
#define DEMO_RUNS_MAX         50
#define DEMO_DEFAULT_USER     "demo-eavesdrop"
#define DEMO_DEFAULT_PASSWORD "demo-password-visible-on-http"

struct demo_opts {
    const char *https_host; /* IP literal or name */
    int https_port;
    const char *http_host; /* NULL: no HTTP side */
    int http_port;
    const char *ca_file;      /* trust anchor; NULL or "": no verification */
    const char *server_name;  /* name checked in the certificate; NULL: the
                                   host when it is a name, else "localhost" */
    const char *user;         /* NULL: DEMO_DEFAULT_USER, or a fresh random
                                   name if that one belongs to someone else */
    const char *password;     /* NULL: DEMO_DEFAULT_PASSWORD */
    int runs;                 /* timed runs per case, 1..DEMO_RUNS_MAX; 0: default */
    int timeout_ms;           /* per connection; 0: 10000 */
    int tls12;                /* also an HTTPS side capped at TLS 1.2 ("https_tls12") */
    const atomic_int *cancel; /* may be NULL; non-zero: give up soon */
};

/* Runs the comparison (blocking: seconds at most, bounded by timeout_ms per
 * connection). Returns the POST /demo/run document, with a side's "ok"
 * false and "error" set when that side failed; NULL only when nothing could
 * start (bad CA file, out of memory), with err. */
json_t *demo_compare(const struct demo_opts *o, char *err, size_t errlen);

/* `portcullis demo [https://host:port] [--http http://host:port]
 * [--cacert FILE] [--runs N] [--user NAME] [--password PW] [--json]`;
 * argv[0] is "demo". Returns the process exit status. */
int demo_cli(const struct config *cfg, int argc, char **argv);

/* Parses "scheme://host[:port][/]" (host may be [IPv6]); port defaults to
 * 443 for https, 80 for http. 0 or -1. */
int demo_parse_url(const char *url, const char *scheme, char *host, size_t hostlen, int *port);

/* ---- routes ---- */

struct demo_ctx;

/* For `cfg` (demo mode). 0 or -1. */
int demo_setup(struct demo_ctx **out, const struct config *cfg, char *err, size_t errlen);
/* Adds GET /demo/wire and POST /demo/run, public (the handlers answer only
 * loopback clients), through the public API. 0 or -1. */
int demo_add_routes(struct pc_server *s, struct demo_ctx *d);
/* Plugs the demo into the running server: its plain-HTTP listener serves
 * the API (with a warning header), and the wire view captures every
 * connection; the routes use its ports and its dev CA. Call after
 * server_setup, before server_run. 0, or -1 with err. */
int demo_attach(struct demo_ctx *d, struct server *srv, char *err, size_t errlen);
/* Cancels and waits for a run in progress (call after server_run returned,
 * before the server is freed), then frees. NULL ok. */
void demo_free(struct demo_ctx *d);

#endif
