/* test_tls.c: the server side of tls/ after negotiation: data both ways,
 * pending bytes, the wire observer, ticket resumption, plaintext and garbage
 * detection, close semantics, load errors and reference counting. The
 * negotiation policy is in test_tls_policy.c. */
#include "support/tls_fixture.h"
#include "tls/tickets.h"

#include <sys/ioctl.h>

/* ---- data ---------------------------------------------------------------- */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31u + seed) & 0xff);
}

/* Reads exactly n bytes on the server side (the bytes are already queued). */
static void server_read_exact(struct tls_conn *s, unsigned char *buf, size_t n)
{
    size_t got = 0;

    for (int i = 0; got < n && i < 1000; i++) {
        ssize_t r = tls_conn_read(s, buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else
            ck_assert_msg(r == TLS_WANT_READ, "read %zd: %s", r, tls_conn_last_error(s));
    }
    ck_assert_uint_eq(got, n);
}

static void client_read_exact(struct tc_conn *c, unsigned char *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = tc_read(c, buf + got, n - got, 2000);
        ck_assert_msg(r > 0, "client read %zd: %s", r, tc_error(c));
        got += (size_t)r;
    }
}

START_TEST(data_both_ways)
{
    enum { BIG = 40000 };
    static unsigned char out[BIG], in[BIG];
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    size_t sent = 0;
    ssize_t first = 0;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);

    /* client → server: several records, read back in pieces */
    fill(out, BIG, 7);
    ck_assert_int_eq(tc_write_all(&c, out, BIG, 2000), 0);
    server_read_exact(sd.conn, in, BIG);
    ck_assert_mem_eq(in, out, BIG);

    /* server → client: one call takes at most one record's worth */
    fill(out, BIG, 11);
    while (sent < BIG) {
        ssize_t w = tls_conn_write(sd.conn, out + sent, BIG - sent);
        ck_assert_msg(w > 0, "write %zd", w);
        if (first == 0)
            first = w;
        sent += (size_t)w;
    }
    ck_assert_int_lt(first, BIG);
    client_read_exact(&c, in, BIG);
    ck_assert_mem_eq(in, out, BIG);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(pending_after_partial_read)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    unsigned char buf[100];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "0123456789abcdefghij", 20, 2000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, 5), 5);
    ck_assert_uint_eq(tls_conn_pending(sd.conn), 15);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf + 5, sizeof buf - 5), 15);
    ck_assert_mem_eq(buf, "0123456789abcdefghij", 20);
    ck_assert_uint_eq(tls_conn_pending(sd.conn), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_WANT_READ);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(observer_sees_wire_bytes)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    unsigned char buf[16];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "ping", 4, 2000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), 4);
    ck_assert_uint_eq(sd.wire.r, c.wire_out);
    ck_assert_uint_eq(sd.wire.w, c.wire_in);
    ck_assert_uint_gt(sd.wire.w, 500); /* the certificate chain went out */
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* ---- resumption ---------------------------------------------------------- */

/* Full handshake on a fresh connection of `loop`'s server; returns the
 * session to resume and the server's handshake bytes. */
static size_t connect_once(struct tls_server *srv, const struct tc_session *offer,
                           struct tc_session *save, int *resumed)
{
    struct tc_opts o = { .session = offer };
    struct side sd;
    struct tc_conn c;
    unsigned char b;
    size_t w;

    side_open(&sd, srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    w = sd.wire.w;
    *resumed = tls_conn_resumed(sd.conn);
    /* One byte of data: on TLS 1.3 the ticket arrives after the handshake. */
    ck_assert_int_eq(tls_conn_write(sd.conn, "x", 1), 1);
    ck_assert_int_eq(tc_read(&c, &b, 1, 2000), 1);
    if (save != NULL)
        ck_assert_msg(tc_get_session(&c, save) == 0, "%s", tc_error(&c));
    tc_close(&c);
    side_close(&sd);
    return w;
}

START_TEST(ticket_resumption)
{
    struct tls_server *srv = server_new(1);
    struct tc_session s1 = { 0 }, s2 = { 0 };
    int resumed;
    size_t full, again, third;

    full = connect_once(srv, NULL, &s1, &resumed);
    ck_assert_int_eq(resumed, 0);
    again = connect_once(srv, &s1, &s2, &resumed);
    ck_assert_int_eq(resumed, 1);
    ck_assert_msg(again * 2 < full, "resumed %zu bytes vs full %zu", again, full);
    /* The renewed ticket works too. */
    third = connect_once(srv, &s2, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    ck_assert_uint_lt(third, full);
    tc_session_free(&s1);
    tc_session_free(&s2);
    tls_server_release(srv);
}
END_TEST

START_TEST(ticket_shared_across_loops)
{
    /* connect_once sets up a new tls_loop each time: the ticket key lives in
     * the server, so any loop resumes a session another one issued. */
    struct tls_server *srv = server_new(1);
    struct tls_server *other = server_new(1);
    struct tc_session s = { 0 };
    int resumed;

    connect_once(srv, NULL, &s, &resumed);
    connect_once(srv, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    /* A different server (another key load: new ticket keys) cannot. */
    connect_once(other, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);
    tls_server_release(other);
    tls_server_release(srv);
}
END_TEST

static struct tls_server *server_with(struct tls_tickets *t)
{
    struct tls_server_opts o = { g_paths.cert_file, g_paths.key_file, 1, 3600, t };
    struct tls_server *s;
    char err[256];
    ck_assert_msg(tls_server_load(&s, &o, err, sizeof err) == 0, "load: %s", err);
    return s;
}

static struct tls_ticket_key ticket_key(unsigned char fill)
{
    struct tls_ticket_key k;
    memset(k.name, fill, sizeof k.name);
    memset(k.key, fill ^ 0x5c, sizeof k.key);
    return k;
}

/* Two servers that share nothing but installed ticket keys (as two
 * processes on one store do) resume each other's sessions; after the
 * keys move on by one period the old ticket still opens (the previous
 * key), after two it does not. A reload keeps them (the set outlives
 * the tls_server). */
START_TEST(installed_ticket_keys_shared_between_servers)
{
    struct tls_tickets *ta = NULL, *tb = NULL;
    struct tls_ticket_key k1 = ticket_key(1), k2 = ticket_key(2), k3 = ticket_key(3);
    struct tc_session s = { 0 };
    char err[256];
    int resumed;

    ck_assert_int_eq(tls_tickets_new(&ta, 3600, err, sizeof err), 0);
    ck_assert_int_eq(tls_tickets_new(&tb, 3600, err, sizeof err), 0);
    struct tls_server *a = server_with(ta), *b = server_with(tb);
    /* Random keys of their own: no sharing. */
    connect_once(a, NULL, &s, &resumed);
    connect_once(b, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);

    ck_assert_int_eq(tls_tickets_install(ta, NULL, &k1), 0);
    ck_assert_int_eq(tls_tickets_install(tb, NULL, &k1), 0);
    connect_once(a, NULL, &s, &resumed);
    connect_once(b, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    /* Next period on b: k1 is the previous key and still opens it. */
    ck_assert_int_eq(tls_tickets_install(tb, &k1, &k2), 0);
    connect_once(b, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    /* A certificate reload on b: a new tls_server over the same keys. */
    tls_server_release(b);
    b = server_with(tb);
    connect_once(b, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 1);
    /* Two periods on: k1 is gone. */
    ck_assert_int_eq(tls_tickets_install(tb, &k2, &k3), 0);
    connect_once(b, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);
    tls_server_release(a);
    tls_server_release(b);
    tls_tickets_release(ta);
    tls_tickets_release(tb);
}
END_TEST

START_TEST(no_tickets_no_resumption)
{
    struct tls_server *srv = server_new(0);
    struct tc_session s = { 0 };
    int resumed;

    connect_once(srv, NULL, &s, &resumed);
    connect_once(srv, &s, NULL, &resumed);
    ck_assert_int_eq(resumed, 0);
    tc_session_free(&s);
    tls_server_release(srv);
}
END_TEST

/* ---- what is not TLS ----------------------------------------------------- */

static const char *const plaintext_cases[] = {
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "POST /api/login HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
    "OPTIONS * HTTP/1.1\r\n\r\n",
    "P",
};

START_TEST(plaintext_detected_not_consumed)
{
    const char *req = plaintext_cases[_i];
    size_t n = strlen(req);
    char buf[256];
    struct side sd;
    int r = 0;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    ck_assert_int_eq(write(sd.cfd, req, n), (ssize_t)n);
    for (int i = 0; i < MAX_STEPS && (i == 0 || srv_want(r)); i++)
        r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, TLS_PLAINTEXT);
    ck_assert_int_eq(tls_conn_handshake(sd.conn), TLS_PLAINTEXT); /* sticky */
    ck_assert_uint_eq(sd.wire.r, 0);
    ck_assert_uint_eq(sd.wire.w, 0); /* no alert sent */
    /* Nothing was consumed: the caller can still read the request. */
    ck_assert_int_eq(recv(sd.sfd, buf, sizeof buf, 0), (ssize_t)n);
    ck_assert_mem_eq(buf, req, n);
    side_close(&sd);
}
END_TEST

static const struct {
    const char *bytes;
    size_t len;
    int expect;
} garbage_cases[] = {
    { "\x00\x01\x02\x03\x04\x05\x06\x07", 8, TLS_ERROR },
    { "get / http/1.1\r\n\r\n", 18, TLS_ERROR },      /* lower case */
    { "\x16\x03\x01\xff\xff\x01\x00", 7, TLS_ERROR }, /* oversized record */
    /* A handshake message longer than its record: since 3.6.3 mbedTLS waits
     * for the rest in later records, so EOF ends it. */
    { "\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10, TLS_CLOSED },
    { "\x16\x03\x01\x00\x04\xff\x00\x00\x00", 9, TLS_ERROR }, /* unknown message type */
    { "\x17\x03\x03\x00\x04"
      "abcd",
      9, TLS_ERROR },                                  /* data before handshake */
    { "\x15\x03\x03\x00\x02\x02\x28", 7, TLS_ERROR },  /* fatal alert */
    { "\x80\x2e\x01\x03\x01\x00\x15", 7, TLS_ERROR },  /* SSLv2 hello */
    { "\x16\x03\x01\x00\x40\x01\x00", 7, TLS_CLOSED }, /* truncated, then EOF */
    { "", 0, TLS_CLOSED },                             /* EOF at once */
};

START_TEST(garbage_fails_fast)
{
    struct side sd;
    int r = TLS_WANT_READ;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    if (garbage_cases[_i].len > 0)
        ck_assert_int_eq(write(sd.cfd, garbage_cases[_i].bytes, garbage_cases[_i].len),
                         (ssize_t)garbage_cases[_i].len);
    ck_assert_int_eq(shutdown(sd.cfd, SHUT_WR), 0);
    for (int i = 0; i < MAX_STEPS && srv_want(r); i++)
        r = tls_conn_handshake(sd.conn);
    ck_assert_int_eq(r, garbage_cases[_i].expect);
    if (r == TLS_ERROR)
        ck_assert_str_ne(tls_conn_last_error(sd.conn), "");
    side_close(&sd);
}
END_TEST

START_TEST(peer_closes_mid_handshake)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    int r;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    ck_assert_int_eq(tc_handshake_step(&c), TC_WANT_READ);        /* ClientHello sent */
    ck_assert_int_eq(tls_conn_handshake(sd.conn), TLS_WANT_READ); /* server flight sent */
    tc_close(&c);
    close(sd.cfd);
    sd.cfd = -1;
    r = tls_conn_handshake(sd.conn);
    ck_assert_msg(r == TLS_CLOSED || r == TLS_ERROR, "got %d", r);
    side_close(&sd);
}
END_TEST

/* ---- closing -------------------------------------------------------------- */

START_TEST(client_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_shutdown(&c), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_CLOSED);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(server_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    tls_conn_close_notify(sd.conn);
    tls_conn_close_notify(sd.conn); /* once only */
    ck_assert_int_eq(tc_read(&c, buf, sizeof buf, 1000), TC_CLOSED);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

/* A last response: tls_conn_cork holds its records back (nothing reaches
 * the client's socket), tls_conn_finish sends them with the close_notify,
 * and a second finish or a close_notify afterwards sends nothing more. */
START_TEST(corked_last_response)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[16];
    int waiting = -1;

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    tls_conn_cork(sd.conn);
    ck_assert_int_eq(tls_conn_write(sd.conn, "last", 4), 4);
    ck_assert_int_eq(ioctl(sd.cfd, FIONREAD, &waiting), 0);
    ck_assert_int_eq(waiting, 0);
    ck_assert_int_eq(tls_conn_finish(sd.conn), 0);
    ck_assert_int_eq(tls_conn_finish(sd.conn), 0);
    tls_conn_close_notify(sd.conn);
    ck_assert_int_eq(tc_read(&c, buf, sizeof buf, 1000), 4);
    ck_assert_mem_eq(buf, "last", 4);
    ck_assert_int_eq(tc_read(&c, buf, sizeof buf, 1000), TC_CLOSED);
    ck_assert_int_eq(ioctl(sd.cfd, FIONREAD, &waiting), 0);
    ck_assert_int_eq(waiting, 0);
    tc_close(&c);
    side_close(&sd);
}
END_TEST

START_TEST(eof_without_close_notify)
{
    struct tc_opts o = { 0 };
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, server_new(0));
    tls_server_release(sd.srv);
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    tc_close(&c);
    close(sd.cfd);
    sd.cfd = -1;
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), TLS_CLOSED);
    side_close(&sd);
}
END_TEST

/* ---- loading --------------------------------------------------------------- */

static const struct {
    const char *cert, *key; /* relative to g_dir */
    int tickets, lifetime;
    const char *in_err; /* must appear in the message */
} load_cases[] = {
    { "missing.crt", "server.key", 0, 0, "missing.crt" },
    { "server.crt", "missing.key", 0, 0, "missing.key" },
    { "garbage.pem", "server.key", 0, 0, "garbage.pem" },
    { "server.crt", "garbage.pem", 0, 0, "garbage.pem" },
    { "empty.pem", "server.key", 0, 0, "empty.pem" },
    { "server.crt", "other/server.key", 0, 0, "other/server.key" }, /* not the pair */
    { "server.key", "server.key", 0, 0, "server.key" },
    { "server.crt", "server.crt", 0, 0, "server.crt" },
    { "server.crt", "server.key", 1, 0, "lifetime" },
    { "server.crt", "server.key", 1, TLS_TICKET_LIFETIME_MAX_S + 1, "lifetime" },
};

START_TEST(load_errors_name_the_file)
{
    char cert[512], key[512], err[512] = "";
    struct tls_server_opts o = { cert, key, load_cases[_i].tickets, load_cases[_i].lifetime, NULL };
    struct tls_server *s = (struct tls_server *)&o; /* must be reset to NULL */

    snprintf(cert, sizeof cert, "%s/%s", g_dir, load_cases[_i].cert);
    snprintf(key, sizeof key, "%s/%s", g_dir, load_cases[_i].key);
    ck_assert_int_eq(tls_server_load(&s, &o, err, sizeof err), -1);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, load_cases[_i].in_err) != NULL, "err: %s", err);
}
END_TEST

/* ---- lifetimes --------------------------------------------------------------- */

START_TEST(release_order_is_free)
{
    struct tc_opts o = { 0 };
    struct tls_server *srv = server_new(1);
    struct side sd;
    struct tc_conn c;
    char buf[8];

    side_open(&sd, srv);
    /* Drop every handle but the connection's before using it. */
    tls_server_release(srv);
    tls_loop_release(sd.loop);
    sd.loop = NULL;
    client_attach(&c, sd.cfd, &o);
    handshake_ok(&sd, &c);
    ck_assert_int_eq(tc_write_all(&c, "hi", 2, 1000), 0);
    ck_assert_int_eq(tls_conn_read(sd.conn, buf, sizeof buf), 2);
    tc_close(&c);
    side_close(&sd); /* frees the conn, then the loop, then the server */
    tls_conn_free(NULL);
    tls_loop_release(NULL);
    tls_server_release(NULL);
}
END_TEST

START_TEST(retain_release_balance)
{
    struct tls_server *srv = server_new(0);
    struct tls_loop *l;
    char err[256];

    ck_assert_ptr_eq(tls_server_retain(srv), srv);
    tls_server_release(srv);
    ck_assert_int_eq(tls_loop_setup(&l, srv, err, sizeof err), 0);
    ck_assert_ptr_eq(tls_loop_retain(l), l);
    tls_loop_release(l);
    tls_server_release(srv);
    tls_loop_release(l); /* last reference: loop, then server (ASan/LSan) */
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, data_both_ways);
    tcase_add_test(tc, pending_after_partial_read);
    tcase_add_test(tc, observer_sees_wire_bytes);
    tcase_add_test(tc, ticket_resumption);
    tcase_add_test(tc, ticket_shared_across_loops);
    tcase_add_test(tc, no_tickets_no_resumption);
    tcase_add_test(tc, installed_ticket_keys_shared_between_servers);
    tcase_add_loop_test(tc, plaintext_detected_not_consumed, 0,
                        (int)(sizeof plaintext_cases / sizeof plaintext_cases[0]));
    tcase_add_loop_test(tc, garbage_fails_fast, 0,
                        (int)(sizeof garbage_cases / sizeof garbage_cases[0]));
    tcase_add_test(tc, peer_closes_mid_handshake);
    tcase_add_test(tc, client_close_notify);
    tcase_add_test(tc, server_close_notify);
    tcase_add_test(tc, corked_last_response);
    tcase_add_test(tc, eof_without_close_notify);
    tcase_add_loop_test(tc, load_errors_name_the_file, 0,
                        (int)(sizeof load_cases / sizeof load_cases[0]));
    tcase_add_test(tc, release_order_is_free);
    tcase_add_test(tc, retain_release_balance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tls_fixture_main(tls_suite); }
