/* https.h: one-call HTTPS exchanges with a test server over the mbedTLS
 * test client (tls_client.h), trusting the server's dev CA. Failures are
 * Check assertions, so these are for use inside START_TEST only. */
#ifndef PC_TEST_HTTPS_H
#define PC_TEST_HTTPS_H

#include <sys/types.h>

#include "support/support.h"
#include "support/tls_client.h"

/* resp_read_fn over a tc_conn (ctx = struct tc_conn *). */
ssize_t tls_source(void *ctx, void *p, size_t n, int timeout_ms);
/* Connects and handshakes with s (asserts success). */
void tls_open(struct tc_conn *c, const struct srv *s);
/* Sends req on an open connection and reads one response (asserts one came). */
void tls_exchange(struct tc_conn *c, const char *req, struct http_resp *r);
/* A fresh connection for one request. */
void https_request(const struct srv *s, const char *req, struct http_resp *r);
/* Raw bytes over a fresh connection; the response status, 0 if none came. */
int https_raw_status(const struct srv *s, const char *req, size_t len);

#endif
