/* test_wire.c: the demo's wire view: TLS record header decoding (valid
 * flights, cut and malformed input), names, hex/text renderings, and the
 * capture ring (per-direction limits, eviction, segment cap, JSON, threads). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo/wire.h"
#include "server/hex.h"

/* ---- decoder ---- */

/* ClientHello (record version TLS 1.0, as clients send it), then a TLS 1.2
 * ChangeCipherSpec, an encrypted Finished, application data. */
static const unsigned char flight[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00, 0x14,
    0x03, 0x03, 0x00, 0x01, 0x01, 0x16, 0x03, 0x03, 0x00, 0x04, 0x14,
    0xaa, 0xbb, 0xcc, 0x17, 0x03, 0x03, 0x00, 0x03, 0xde, 0xad, 0x00,
};

START_TEST(decode_flight)
{
    struct wire_tls_record r[8];
    int garbage = -1;
    size_t n = wire_tls_decode(flight, sizeof flight, r, 8, &garbage);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(garbage, 0);
    static const struct {
        size_t off;
        unsigned type, version, length;
        int hs;
    } want[] = {
        { 0, 22, 0x0301, 5, 1 },
        { 10, 20, 0x0303, 1, -1 },
        { 16, 22, 0x0303, 4, -1 }, /* after change_cipher_spec: ciphertext */
        { 25, 23, 0x0303, 3, -1 },
    };
    for (size_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(r[i].offset, want[i].off);
        ck_assert_uint_eq(r[i].type, want[i].type);
        ck_assert_uint_eq(r[i].version, want[i].version);
        ck_assert_uint_eq(r[i].length, want[i].length);
        ck_assert_int_eq(r[i].handshake, want[i].hs);
        ck_assert_int_eq(r[i].complete, 1);
    }
    /* max caps the output */
    ck_assert_uint_eq(wire_tls_decode(flight, sizeof flight, r, 2, NULL), 2);
}
END_TEST

/* Inputs that are not (whole) TLS records. */
static const struct {
    const char *name;
    const unsigned char *p;
    size_t n;
    size_t records;
    int garbage;
    int last_complete;
} bad[] = {
    { "empty", (const unsigned char *)"", 0, 0, 0, 0 },
    { "header cut", (const unsigned char *)"\x16\x03\x03\x00", 4, 0, 0, 0 },
    { "type 19", (const unsigned char *)"\x13\x03\x03\x00\x01\x00", 6, 0, 1, 0 },
    { "type 25", (const unsigned char *)"\x19\x03\x03\x00\x01\x00", 6, 0, 1, 0 },
    { "major 2", (const unsigned char *)"\x16\x02\x00\x00\x01\x00", 6, 0, 1, 0 },
    { "too long", (const unsigned char *)"\x17\x03\x03\x48\x01\x00", 6, 0, 1, 0 },
    { "longest", (const unsigned char *)"\x17\x03\x03\x48\x00\x00", 6, 1, 0, 0 },
    { "plain http", (const unsigned char *)"GET / HTTP/1.1\r\n", 16, 0, 1, 0 },
    { "fragment cut", (const unsigned char *)"\x16\x03\x03\x00\x09\x02\x00", 7, 1, 0, 0 },
    { "record then junk", (const unsigned char *)"\x15\x03\x03\x00\x02\x01\x00GET /", 12, 1, 1, 1 },
    { "empty fragment", (const unsigned char *)"\x17\x03\x03\x00\x00", 5, 1, 0, 1 },
};

START_TEST(decode_malformed)
{
    struct wire_tls_record r[4];
    int garbage = -1;
    size_t n = wire_tls_decode(bad[_i].p, bad[_i].n, r, 4, &garbage);
    ck_assert_msg(n == bad[_i].records, "%s: %zu records", bad[_i].name, n);
    ck_assert_msg(garbage == bad[_i].garbage, "%s: garbage %d", bad[_i].name, garbage);
    if (n > 0)
        ck_assert_msg(r[n - 1].complete == bad[_i].last_complete, "%s: complete", bad[_i].name);
}
END_TEST

START_TEST(decode_handshake_type_needs_a_byte)
{
    /* A handshake header whose first fragment byte was not captured. */
    struct wire_tls_record r[1];
    ck_assert_uint_eq(wire_tls_decode((const unsigned char *)"\x16\x03\x03\x00\x20", 5, r, 1, NULL),
                      1);
    ck_assert_int_eq(r[0].handshake, -1);
    ck_assert_int_eq(r[0].complete, 0);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(wire_tls_type_name(20), "change_cipher_spec");
    ck_assert_str_eq(wire_tls_type_name(21), "alert");
    ck_assert_str_eq(wire_tls_type_name(22), "handshake");
    ck_assert_str_eq(wire_tls_type_name(23), "application_data");
    ck_assert_str_eq(wire_tls_type_name(24), "heartbeat");
    ck_assert_str_eq(wire_tls_type_name(0), "unknown");
    ck_assert_str_eq(wire_tls_version_name(0x0301), "TLS 1.0");
    ck_assert_str_eq(wire_tls_version_name(0x0303), "TLS 1.2");
    ck_assert_str_eq(wire_tls_version_name(0x0304), "TLS 1.3");
    ck_assert_str_eq(wire_tls_version_name(0x0305), "unknown");
    ck_assert_str_eq(wire_tls_handshake_name(1), "client_hello");
    ck_assert_str_eq(wire_tls_handshake_name(2), "server_hello");
    ck_assert_str_eq(wire_tls_handshake_name(11), "certificate");
    ck_assert_str_eq(wire_tls_handshake_name(12), "server_key_exchange");
    ck_assert_str_eq(wire_tls_handshake_name(14), "server_hello_done");
    ck_assert_str_eq(wire_tls_handshake_name(16), "client_key_exchange");
    ck_assert_str_eq(wire_tls_handshake_name(4), "new_session_ticket");
    ck_assert_str_eq(wire_tls_handshake_name(20), "finished");
    ck_assert_str_eq(wire_tls_handshake_name(3), "unknown");
    ck_assert_str_eq(wire_tls_handshake_name(-1), "unknown");
}
END_TEST

START_TEST(renderings)
{
    static const unsigned char in[] = { 0x00, 'A', '\r', '\n', 'b', '\n', '\r', 0x7f, 0xff };
    char hex[2 * sizeof in + 1], text[sizeof in + 1];
    hex_encode(hex, in, sizeof in);
    ck_assert_str_eq(hex, "00410d0a620a0d7fff");
    ck_assert_uint_eq(wire_text(text, in, sizeof in), 8);
    ck_assert_str_eq(text, ".A\nb\n...");
    hex_encode(hex, in, 0);
    ck_assert_str_eq(hex, "");
    ck_assert_uint_eq(wire_text(text, (const unsigned char *)"\r", 1), 1);
    ck_assert_str_eq(text, ".");
}
END_TEST

/* ---- rings ---- */

static const json_t *seg(const json_t *conn, size_t i)
{
    return json_array_get(json_object_get(conn, "segments"), i);
}

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    ck_assert_msg(s != NULL, "missing string %s", k);
    return s;
}

static long long iget(const json_t *o, const char *k)
{
    ck_assert_msg(json_is_integer(json_object_get(o, k)), "missing integer %s", k);
    return (long long)json_integer_value(json_object_get(o, k));
}

START_TEST(ring_limits_per_direction)
{
    struct wire_ring *r;
    struct wire_cap a;
    ck_assert_int_eq(wire_ring_create(&r, 2, 8), 0);
    ck_assert_uint_eq(wire_ring_bytes(r), 8);
    ck_assert_uint_eq(wire_ring_conns(r), 2);
    wire_cap_open(&a, r, "127.0.0.1", 4242);
    wire_cap_record(&a, 'r', (const unsigned char *)"hello", 5);
    wire_cap_record(&a, 'w', (const unsigned char *)"0123456789", 10);
    wire_cap_record(&a, 'w', (const unsigned char *)"xyz", 3);
    ck_assert_int_eq(wire_cap_contains(&a, "hello", 5), 1);
    ck_assert_int_eq(wire_cap_contains(&a, "4567", 4), 1);
    ck_assert_int_eq(wire_cap_contains(&a, "89", 2), 0); /* past the limit */
    ck_assert_int_eq(wire_cap_contains(&a, "xyz", 3), 0);
    ck_assert_int_eq(wire_cap_contains(&a, "lo01", 4), 0); /* directions never join */
    json_t *j = wire_cap_json(&a, 0, 0);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(sget(j, "client"), "127.0.0.1:4242");
    ck_assert_int_eq(iget(j, "bytes_read"), 5);
    ck_assert_int_eq(iget(j, "bytes_written"), 13);
    ck_assert_int_eq(iget(j, "captured_read"), 5);
    ck_assert_int_eq(iget(j, "captured_written"), 8);
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    ck_assert(json_is_true(json_object_get(j, "open")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "segments")), 3);
    ck_assert_str_eq(sget(seg(j, 0), "dir"), "client");
    ck_assert_str_eq(sget(seg(j, 0), "text"), "hello");
    ck_assert_str_eq(sget(seg(j, 1), "dir"), "server");
    ck_assert_int_eq(iget(seg(j, 1), "size"), 10);
    ck_assert_str_eq(sget(seg(j, 1), "hex"), "3031323334353637");
    ck_assert_str_eq(sget(seg(j, 2), "hex"), ""); /* nothing left to keep */
    ck_assert_uint_eq(json_array_size(json_object_get(j, "records")), 0);
    ck_assert_ptr_nonnull(strstr(sget(j, "started"), "Z"));
    json_decref(j);
    wire_cap_close(&a);
    j = wire_cap_json(&a, 0, 0);
    ck_assert(json_is_false(json_object_get(j, "open")));
    json_decref(j);
    wire_ring_free(r);
}
END_TEST

START_TEST(ring_evicts_oldest)
{
    struct wire_ring *r;
    struct wire_cap a, b, c;
    ck_assert_int_eq(wire_ring_create(&r, 2, 64), 0);
    wire_cap_open(&a, r, "10.0.0.1", 1);
    wire_cap_record(&a, 'r', (const unsigned char *)"AAAA", 4);
    wire_cap_open(&b, r, "10.0.0.2", 2);
    wire_cap_open(&c, r, "10.0.0.3", 3); /* takes a's slot */
    wire_cap_record(&a, 'r', (const unsigned char *)"late", 4);
    wire_cap_record(&c, 'r', (const unsigned char *)"CCCC", 4);
    ck_assert_int_eq(wire_cap_contains(&a, "AAAA", 4), 0);
    ck_assert_int_eq(wire_cap_contains(&c, "late", 4), 0);
    ck_assert_int_eq(wire_cap_contains(&c, "CCCC", 4), 1);
    ck_assert_ptr_null(wire_cap_json(&a, 0, 0));
    wire_cap_close(&a); /* harmless on an evicted capture */
    json_t *all = wire_ring_json(r, 0);
    ck_assert_uint_eq(json_array_size(all), 2);
    ck_assert_str_eq(sget(json_array_get(all, 0), "client"), "10.0.0.3:3"); /* newest first */
    ck_assert_str_eq(sget(json_array_get(all, 1), "client"), "10.0.0.2:2");
    ck_assert_int_gt(iget(json_array_get(all, 0), "id"), iget(json_array_get(all, 1), "id"));
    json_decref(all);
    wire_ring_free(r);
}
END_TEST

START_TEST(ring_none_records_nothing)
{
    struct wire_ring *r = (struct wire_ring *)1;
    struct wire_cap a;
    ck_assert_int_eq(wire_ring_create(&r, 0, 2048), 0);
    ck_assert_ptr_null(r);
    wire_cap_open(&a, r, "127.0.0.1", 1);
    wire_cap_record(&a, 'r', (const unsigned char *)"x", 1);
    wire_cap_observe(&a, 'w', (const unsigned char *)"x", 1);
    wire_cap_close(&a);
    ck_assert_int_eq(wire_cap_contains(&a, "x", 1), 0);
    ck_assert_ptr_null(wire_cap_json(&a, 1, 0));
    json_t *all = wire_ring_json(NULL, 1);
    ck_assert_uint_eq(json_array_size(all), 0);
    json_decref(all);
    wire_ring_free(NULL);
}
END_TEST

START_TEST(ring_segment_cap)
{
    struct wire_ring *r;
    struct wire_cap a;
    ck_assert_int_eq(wire_ring_create(&r, 1, 4096), 0);
    wire_cap_open(&a, r, "::1", 9);
    for (int i = 0; i < 300; i++)
        wire_cap_record(&a, i % 2 ? 'w' : 'r', (const unsigned char *)"z", 1);
    json_t *j = wire_cap_json(&a, 0, 0);
    ck_assert_uint_lt(json_array_size(json_object_get(j, "segments")), 300);
    ck_assert_uint_gt(json_array_size(json_object_get(j, "segments")), 100);
    ck_assert_int_eq(iget(j, "bytes_read") + iget(j, "bytes_written"), 300);
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    wire_ring_free(r);
}
END_TEST

/* A TLS capture whose first record header and body arrive in separate
 * reads, seen from a client's socket (client_side: 'w' is the client). */
START_TEST(ring_tls_records_in_wire_order)
{
    struct wire_ring *r;
    struct wire_cap a;
    ck_assert_int_eq(wire_ring_create(&r, 1, 4096), 0);
    wire_cap_open(&a, r, "127.0.0.1", 443);
    wire_cap_observe(&a, 'w', flight, 5);
    wire_cap_observe(&a, 'w', flight + 5, 5);
    wire_cap_observe(&a, 'r', (const unsigned char *)"\x16\x03\x03\x00\x02\x02\x00", 7);
    wire_cap_observe(&a, 'w', flight + 10, sizeof flight - 10);
    json_t *j = wire_cap_json(&a, 1, 1);
    const json_t *recs = json_object_get(j, "records");
    ck_assert_uint_eq(json_array_size(recs), 5);
    static const char *want[][3] = {
        { "client", "handshake", "client_hello" }, { "server", "handshake", "server_hello" },
        { "client", "change_cipher_spec", NULL },  { "client", "handshake", NULL },
        { "client", "application_data", NULL },
    };
    for (size_t i = 0; i < 5; i++) {
        const json_t *rec = json_array_get(recs, i);
        ck_assert_str_eq(sget(rec, "dir"), want[i][0]);
        ck_assert_str_eq(sget(rec, "type"), want[i][1]);
        if (want[i][2])
            ck_assert_str_eq(sget(rec, "handshake"), want[i][2]);
        else
            ck_assert_ptr_null(json_object_get(rec, "handshake"));
        ck_assert(json_is_true(json_object_get(rec, "complete")));
    }
    ck_assert_str_eq(sget(json_array_get(recs, 0), "version"), "TLS 1.0");
    ck_assert_int_eq(iget(json_array_get(recs, 0), "content_type"), 22);
    ck_assert_int_eq(iget(json_array_get(recs, 0), "length"), 5);
    ck_assert_str_eq(sget(seg(j, 2), "dir"), "server");
    json_decref(j);
    wire_ring_free(r);
}
END_TEST

static void *hammer(void *arg)
{
    struct wire_ring *r = arg;
    for (int i = 0; i < 2000; i++) {
        struct wire_cap c;
        wire_cap_open(&c, r, "127.0.0.1", i);
        wire_cap_record(&c, 'r', (const unsigned char *)"\x16\x03\x03\x00\x01\x01", 6);
        wire_cap_record(&c, 'w', (const unsigned char *)"abc", 3);
        if (i % 100 == 0)
            json_decref(wire_ring_json(r, 1));
        wire_cap_close(&c);
    }
    return NULL;
}

START_TEST(ring_shared_by_threads)
{
    struct wire_ring *r;
    pthread_t t[4];
    ck_assert_int_eq(wire_ring_create(&r, 3, 16), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, r), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    json_t *all = wire_ring_json(r, 1);
    ck_assert_uint_eq(json_array_size(all), 3);
    ck_assert_int_eq(iget(json_array_get(all, 0), "id"), 8000);
    json_decref(all);
    wire_ring_free(r);
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *d = tcase_create("decode");
    tcase_add_test(d, decode_flight);
    tcase_add_loop_test(d, decode_malformed, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(d, decode_handshake_type_needs_a_byte);
    tcase_add_test(d, names);
    tcase_add_test(d, renderings);
    suite_add_tcase(s, d);
    TCase *r = tcase_create("ring");
    tcase_add_test(r, ring_limits_per_direction);
    tcase_add_test(r, ring_evicts_oldest);
    tcase_add_test(r, ring_none_records_nothing);
    tcase_add_test(r, ring_segment_cap);
    tcase_add_test(r, ring_tls_records_in_wire_order);
    tcase_add_test(r, ring_shared_by_threads);
    suite_add_tcase(s, r);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wire_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
