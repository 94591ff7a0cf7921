/* idle_setup.c: bench/idle's start-up (see idle.h). */
#define _GNU_SOURCE

#include "idle.h"

/* ---- start-up ---- */

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    return end != s && *end == '\0' && errno == 0 && *out >= min && *out <= max ? 0 : -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    int ch, bad = 0;

    *o = (struct opts){
        "127.0.0.1", "/bench.json", 0, 0, 64, 120, 180, MBEDTLS_SSL_VERSION_TLS1_3
    };
    while ((ch = getopt(argc, argv, "p:n:a:P:i:w:T:V:")) != -1) {
        switch (ch) {
        case 'p': bad |= parse_long(optarg, 1, 65535, &o->port); break;
        case 'n': bad |= parse_long(optarg, 1, 1000000, &o->n); break;
        case 'a': o->addr = optarg; break;
        case 'P': o->path = optarg; break;
        case 'i': bad |= parse_long(optarg, 1, 100000, &o->inflight); break;
        case 'w': bad |= parse_long(optarg, 0, 86400, &o->hold_s); break;
        case 'T': bad |= parse_long(optarg, 1, 86400, &o->timeout_s); break;
        case 'V':
            if (strcmp(optarg, "1.2") == 0)
                o->version = MBEDTLS_SSL_VERSION_TLS1_2;
            else if (strcmp(optarg, "1.3") == 0)
                o->version = MBEDTLS_SSL_VERSION_TLS1_3;
            else
                bad = 1;
            break;
        default: bad = 1;
        }
    }
    if (bad || optind != argc || o->port == 0 || o->n == 0) {
        fprintf(stderr, "usage: idle -p PORT -n N [-a ADDR=127.0.0.1] [-P PATH=/bench.json]\n"
                        "            [-i INFLIGHT=64] [-w HOLD_S=120] [-T TIMEOUT_S=180]"
                        " [-V 1.3|1.2]\n");
        return -1;
    }
    return 0;
}

/* Loopback only: this is a load tool. */
static int resolve_loopback(struct bench *b)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&b->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&b->sa;

    memset(&b->sa, 0, sizeof b->sa);
    if (inet_pton(AF_INET, b->o.addr, &v4->sin_addr) == 1 &&
        (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)b->o.port);
        b->sa_len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, b->o.addr, &v6->sin6_addr) == 1 &&
        IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)b->o.port);
        b->sa_len = sizeof *v6;
        return 0;
    }
    fprintf(stderr, "idle: %s is not a loopback address (127.0.0.0/8 or ::1)\n", b->o.addr);
    return -1;
}

static int build_request(struct bench *b)
{
    const char *p = b->o.path;
    int len;

    if (p[0] != '/')
        goto bad;
    for (; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            goto bad;
    len = snprintf(b->req, sizeof b->req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", b->o.path);
    if (len < 0 || (size_t)len >= sizeof b->req)
        goto bad;
    b->req_len = (size_t)len;
    return 0;
bad:
    fprintf(stderr, "idle: PATH must start with '/', have no spaces or control characters "
                    "and be under 1 KiB\n");
    return -1;
}

static int raise_nofile(size_t n)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)n + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "idle: getrlimit(RLIMIT_NOFILE): %s\n", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr,
                "idle: need %lu file descriptors but the hard RLIMIT_NOFILE is %lu "
                "(raise it, e.g. ulimit -Hn, or lower -n)\n",
                (unsigned long)need, (unsigned long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "idle: setrlimit(RLIMIT_NOFILE, %lu): %s\n", (unsigned long)need,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int tls_fail(const char *what, int ret)
{
    char msg[160];

    mbedtls_strerror(ret, msg, sizeof msg);
    fprintf(stderr, "idle: %s: %s (-0x%04x)\n", what, msg, (unsigned)-ret);
    return -1;
}

/* A loopback bench client: the server's certificate is not verified
 * (VERIFY_NONE), as there is nothing to protect and no CA to trust. */
static int tls_setup(struct bench *b)
{
    static const char pers[] = "portcullis-bench-idle";
    int ret;

    ret = mbedtls_ctr_drbg_seed(&b->drbg, mbedtls_entropy_func, &b->entropy,
                                (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0)
        return tls_fail("ctr_drbg_seed", ret);
    ret = mbedtls_ssl_config_defaults(&b->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return tls_fail("ssl_config_defaults", ret);
    mbedtls_ssl_conf_authmode(&b->conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&b->conf, mbedtls_ctr_drbg_random, &b->drbg);
    mbedtls_ssl_conf_min_tls_version(&b->conf, b->o.version);
    mbedtls_ssl_conf_max_tls_version(&b->conf, b->o.version);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&b->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    /* Since 3.6.1 a client drops TLS 1.3 tickets unless it asks for them. */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &b->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    return 0;
}

/* SIGINT/SIGTERM arrive through a signalfd in the epoll set. */
static int events_setup(struct bench *b)
{
    struct epoll_event ev;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    /* SIGPIPE: a reader of stdout that went away must not kill us mid-hold. */
    if (b->ep < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
        sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
        (b->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "idle: epoll/signalfd setup: %s\n", strerror(errno));
        return -1;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = TAG_SIGNAL;
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->sigfd, &ev) != 0) {
        fprintf(stderr, "idle: epoll_ctl(signalfd): %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

void idle_init(struct bench *b)
{
    memset(b, 0, sizeof *b);
    b->ep = b->sigfd = -1;
    mbedtls_entropy_init(&b->entropy);
    mbedtls_ctr_drbg_init(&b->drbg);
    mbedtls_ssl_config_init(&b->conf);
    mbedtls_ssl_session_init(&b->saved);
}

int idle_setup(struct bench *b, int argc, char **argv)
{
    if (parse_opts(argc, argv, &b->o) != 0 || resolve_loopback(b) != 0 || build_request(b) != 0)
        return 2;
    b->n = (size_t)b->o.n;
    /* A closed stdin would hand fd 0 to a connection: park /dev/null there. */
    if (fcntl(STDIN_FILENO, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != STDIN_FILENO) {
        fprintf(stderr, "idle: stdin is closed and /dev/null cannot take its place\n");
        return 1;
    }
    if (raise_nofile(b->n) != 0 || tls_setup(b) != 0 || events_setup(b) != 0)
        return 1;
    b->c = calloc(b->n, sizeof *b->c);
    if (b->c == NULL) {
        fprintf(stderr, "idle: out of memory for %zu connections\n", b->n);
        return 1;
    }
    for (size_t i = 0; i < b->n; i++)
        mbedtls_net_init(&b->c[i].net); /* fd -1 */
    return 0;
}
