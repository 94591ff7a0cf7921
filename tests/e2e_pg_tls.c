/* e2e_pg_tls.c: TLS to PostgreSQL when the URL asks for it. The test runs a
 * cluster of its own that accepts TCP connections with TLS only
 * (pg_cluster.sh with PC_PG_TLS_PORT): portcullis with
 * sslmode=verify-full and the cluster's certificate as root serves, and
 * every connection it holds is encrypted (pg_stat_ssl); without TLS
 * (sslmode=disable) or with a root that did not sign the server's
 * certificate it refuses to start, saying why. */
#include <arpa/inet.h>
#include <check.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/api.h"
#include "support/pg_own.h"
#include "support/support.h"

#define PW "correct horse battery staple"

/* A loopback TCP port free at this moment. */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static long long count(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}

static void extra_for(char *out, size_t cap, const char *url)
{
    snprintf(out, cap, "{\"db\": {\"url\": \"%s\"}}", url);
}

START_TEST(tls_when_the_url_asks)
{
    struct srv s, bad;
    struct api_session t;
    char url[256], port[16], extra[1024], other[512];

    snprintf(port, sizeof port, "%d", free_port());
    ck_assert_int_eq(setenv("PC_PG_TLS_PORT", port, 1), 0);
    pg_own("start", NULL, 0);
    pg_own("url", url, sizeof url);
    ck_assert_ptr_nonnull(strstr(url, "sslmode=verify-full"));

    extra_for(extra, sizeof extra, url);
    ck_assert_int_eq(api_start(&s, extra), 0);
    ck_assert_int_eq(api_new_user(&s, "judy", PW, &t), 0);
    /* Every connection of the server is encrypted (the test's own too). */
    ck_assert_int_eq(count(url, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s "
                                "USING (pid) WHERE a.datname = 'portcullis' "
                                "AND a.backend_type = 'client backend' AND NOT s.ssl"),
                     0);
    ck_assert_int_ge(count(url, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s "
                                "USING (pid) WHERE a.datname = 'portcullis' AND s.ssl"),
                     4);

    /* Without TLS: the cluster refuses, so does the start. */
    snprintf(other, sizeof other, "postgresql://portcullis@127.0.0.1:%s/portcullis?sslmode=disable",
             port);
    extra_for(extra, sizeof extra, other);
    ck_assert_int_eq(srv_run_to_exit(&bad, extra, 30000), 1);
    ck_assert(srv_log_contains(&bad, "no encryption"));
    srv_stop(&bad, SIGTERM); /* exited already: removes its files */

    /* A root that did not sign the server's certificate (the dev CA of the
     * first server): verify-full refuses. */
    snprintf(other, sizeof other,
             "postgresql://portcullis@127.0.0.1:%s/portcullis?sslmode=verify-full&sslrootcert=%s",
             port, s.ca_file);
    extra_for(extra, sizeof extra, other);
    ck_assert_int_eq(srv_run_to_exit(&bad, extra, 30000), 1);
    ck_assert(srv_log_contains(&bad, "certificate verify failed"));
    srv_stop(&bad, SIGTERM); /* exited already: removes its files */

    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    pg_own("stop", NULL, 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pg_tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tls_when_the_url_asks);
    suite_add_tcase(su, tc);
    pg_own_init("pgt");
    return pg_own_run(su);
}
