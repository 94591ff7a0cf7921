/* test_tls_bio.c: tls/bio.c over a real socket pair: one recv() takes
 * everything the peer sent and later reads are served from the stash without
 * touching the socket; a batched flight leaves in one piece at flush, a full
 * socket gives WANT_WRITE and the rest goes out in order later; EOF, errors
 * and the observer behave as mbedTLS expects. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "tls/bio.h"

static int sv[2]; /* sv[0]: the bio's side, sv[1]: the peer */
static struct tls_bio bio;
static unsigned char scratch[4096];

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    memset(&bio, 0, sizeof bio);
    bio.fd = sv[0];
}

static void teardown(void)
{
    tls_bio_free(&bio);
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
}

static int unread(int fd)
{
    int n = -1;
    ck_assert_int_eq(ioctl(fd, FIONREAD, &n), 0);
    return n;
}

static void peer_write(const char *s)
{
    ck_assert_int_eq(write(sv[1], s, strlen(s)), (ssize_t)strlen(s));
}

START_TEST(one_recv_serves_header_then_body)
{
    unsigned char buf[64];

    peer_write("HEAD5the body of the first record|second");
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 5), 5);
    ck_assert_mem_eq(buf, "HEAD5", 5);
    ck_assert_int_eq(unread(sv[0]), 0); /* all of it read ahead */
    ck_assert_uint_eq(tls_bio_stashed(&bio), 35);
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 28), 28);
    ck_assert_mem_eq(buf, "the body of the first record", 28);
    /* A read larger than what is stashed gets the stash only (a short read,
     * which mbedTLS handles); the next one goes to the socket again. */
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, sizeof buf), 7);
    ck_assert_mem_eq(buf, "|second", 7);
    ck_assert_uint_eq(tls_bio_stashed(&bio), 0);
    ck_assert_ptr_null(bio.stash); /* freed once consumed */
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 5),
                     MBEDTLS_ERR_SSL_WANT_READ);
}
END_TEST

START_TEST(large_read_bypasses_scratch)
{
    size_t n = sizeof scratch + 100;
    unsigned char *big = malloc(n), *got = malloc(n);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(got);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7);
    ck_assert_int_eq(write(sv[1], big, n), (ssize_t)n);
    size_t off = 0;
    while (off < n) {
        int r = tls_bio_recv(&bio, scratch, sizeof scratch, got + off, n - off);
        ck_assert_int_gt(r, 0);
        off += (size_t)r;
    }
    ck_assert_mem_eq(got, big, n);
    ck_assert_ptr_null(bio.stash);
    free(big);
    free(got);
}
END_TEST

START_TEST(eof_and_errors)
{
    unsigned char buf[8];

    peer_write("ab");
    close(sv[1]);
    sv[1] = -1;
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 1), 1);
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 8), 1); /* stash */
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 8), 0); /* EOF */
    int r = tls_bio_send(&bio, (const unsigned char *)"x", 1);
    ck_assert(r == MBEDTLS_ERR_NET_CONN_RESET || r == MBEDTLS_ERR_NET_SEND_FAILED);
    ck_assert_int_ne(bio.sys_errno, 0);
}
END_TEST

START_TEST(batched_flight_leaves_at_flush)
{
    char buf[64];

    bio.batching = 1;
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"hello|", 6), 6);
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"cert|", 5), 5);
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"done", 4), 4);
    ck_assert_int_eq(unread(sv[1]), 0); /* nothing sent yet */
    bio.batching = 0;
    ck_assert_int_eq(tls_bio_flush(&bio), 0);
    ck_assert_int_eq(unread(sv[1]), 15);
    ck_assert_int_eq(read(sv[1], buf, sizeof buf), 15);
    ck_assert_mem_eq(buf, "hello|cert|done", 15);
    ck_assert_ptr_null(bio.queue);
    /* Not batching and nothing queued: straight to the socket. */
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"app", 3), 3);
    ck_assert_int_eq(unread(sv[1]), 3);
}
END_TEST

/* Fills the socket until send() would block; returns the bytes it took. */
static size_t fill_socket(void)
{
    static const unsigned char junk[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = send(sv[0], junk, sizeof junk, MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    return total;
}

static void drain(size_t n)
{
    unsigned char buf[4096];
    while (n > 0) {
        ssize_t r = read(sv[1], buf, n < sizeof buf ? n : sizeof buf);
        ck_assert_int_gt(r, 0);
        n -= (size_t)r;
    }
}

START_TEST(full_socket_keeps_order)
{
    int sndbuf = 4096;
    char buf[16];

    ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    size_t filler = fill_socket();
    bio.batching = 1;
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"flight", 6), 6);
    bio.batching = 0;
    ck_assert_int_eq(tls_bio_flush(&bio), MBEDTLS_ERR_SSL_WANT_WRITE);
    /* Still queued: a later write must not overtake it. */
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"-next", 5), 5);
    drain(filler);
    ck_assert_int_eq(tls_bio_flush(&bio), 0);
    ck_assert_int_eq(read(sv[1], buf, sizeof buf), 11);
    ck_assert_mem_eq(buf, "flight-next", 11);
}
END_TEST

static char seen[64];
static size_t seen_len;

static void observe(void *arg, char dir, const unsigned char *p, size_t n)
{
    (void)arg;
    ck_assert_uint_lt(seen_len + n + 2, sizeof seen);
    seen[seen_len++] = dir;
    memcpy(seen + seen_len, p, n);
    seen_len += n;
    seen[seen_len++] = ';';
}

START_TEST(observer_sees_the_stream)
{
    unsigned char buf[8];

    seen_len = 0;
    bio.obs = observe;
    peer_write("abcdef");
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 2), 2);
    ck_assert_int_eq(tls_bio_recv(&bio, scratch, sizeof scratch, buf, 8), 4);
    ck_assert_int_eq(tls_bio_send(&bio, (const unsigned char *)"xy", 2), 2);
    ck_assert_uint_eq(seen_len, 14);
    ck_assert_mem_eq(seen, "rab;rcdef;wxy;", 14);
}
END_TEST

static Suite *bio_suite(void)
{
    Suite *s = suite_create("tls_bio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_recv_serves_header_then_body);
    tcase_add_test(tc, large_read_bypasses_scratch);
    tcase_add_test(tc, eof_and_errors);
    tcase_add_test(tc, batched_flight_leaves_at_flush);
    tcase_add_test(tc, full_socket_keeps_order);
    tcase_add_test(tc, observer_sees_the_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
