/* metrics_http.h: GET /metrics on a listener of its own, so the numbers are
 * never served with the API: plain HTTP/1.1 on metrics.address (loopback by
 * default) and metrics.port, one request per connection, answered by one
 * thread of its own (a scrape every few seconds needs no event loop).
 *
 * Threads: start and stop from the main thread. */
#ifndef PC_METRICS_HTTP_H
#define PC_METRICS_HTTP_H

#include <stddef.h>

struct metrics_http;

/* Binds addr:port (0 = a port the kernel picks; *bound_port receives it) and
 * starts the thread. 0, or -1 with err naming the address and port. */
int metrics_http_start(struct metrics_http **out, const char *addr, int port, int *bound_port,
                       char *err, size_t errlen);

/* Stops the thread and closes the listener. NULL ok. */
void metrics_http_stop(struct metrics_http *m);

#endif
