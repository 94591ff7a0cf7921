/* https.c: see https.h. */
#include "support/https.h"

#include <check.h>
#include <string.h>

ssize_t tls_source(void *ctx, void *p, size_t n, int timeout_ms)
{
    ssize_t r = tc_read(ctx, p, n, timeout_ms);
    return r > 0 ? r : (r == TC_CLOSED ? 0 : -1);
}

void tls_open(struct tc_conn *c, const struct srv *s)
{
    struct tc_opts o = { .ca_file = s->ca_file, .timeout_ms = 20000 };
    char err[256];
    ck_assert_msg(tc_connect(c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0,
                  "connect: %s", err);
}

/* Sends req on an open TLS connection and reads one response. */
void tls_exchange(struct tc_conn *c, const char *req, struct http_resp *r)
{
    char carry[1] = { 0 };
    size_t carry_len = 0;
    ck_assert_int_eq(tc_write_all(c, req, strlen(req), 10000), 0);
    ck_assert_msg(resp_read(tls_source, c, r, 20000, carry, sizeof carry, &carry_len) == 0,
                  "no complete response to %.40s", req);
}

void https_request(const struct srv *s, const char *req, struct http_resp *r)
{
    struct tc_conn c;
    tls_open(&c, s);
    tls_exchange(&c, req, r);
    tc_close(&c);
}

/* Sends raw bytes over TLS and returns the response status (0 if closed). */
int https_raw_status(const struct srv *s, const char *req, size_t len)
{
    struct tc_conn c;
    struct http_resp r;
    char carry[1];
    size_t cl = 0;
    tls_open(&c, s);
    ck_assert_int_eq(tc_write_all(&c, req, len, 10000), 0);
    int st = resp_read(tls_source, &c, &r, 20000, carry, sizeof carry, &cl) == 0 ? r.status : 0;
    tc_close(&c);
    return st;
}
