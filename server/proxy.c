/* proxy.c: see proxy.h. */
#include "server/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parses an address literal; IPv4-mapped IPv6 becomes IPv4. 0 or -1. */
static int parse_addr(const char *s, int *family, unsigned char a[16])
{
    unsigned char v6[16];
    if (inet_pton(AF_INET, s, a) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, v6) != 1)
        return -1;
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(v6, mapped, 12) == 0) {
        *family = AF_INET;
        memcpy(a, v6 + 12, 4);
    } else {
        *family = AF_INET6;
        memcpy(a, v6, 16);
    }
    return 0;
}

int proxy_cidr_parse(const char *text, struct proxy_cidr *out)
{
    char buf[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    memset(out, 0, sizeof *out);
    if (parse_addr(buf, &out->family, out->addr) != 0)
        return -1;
    int max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || b < 0 || b > max)
            return -1;
        out->bits = (int)b;
    }
    /* Host bits set ("10.1.2.3/8") are a typo more often than an intent. */
    for (int i = out->bits; i < max; i++)
        if (out->addr[i / 8] & (0x80 >> (i % 8)))
            return -1;
    return 0;
}

static int in_net(const struct proxy_cidr *c, int family, const unsigned char a[16])
{
    if (c->family != family)
        return 0;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (a[full] & mask);
}

int proxy_cidr_match(const struct proxy_cidr *set, size_t n, const char *ip)
{
    int family;
    unsigned char a[16];
    if (ip == NULL || parse_addr(ip, &family, a) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (in_net(&set[i], family, a))
            return 1;
    return 0;
}

/* Normalised text of an address literal into out; 0 or -1. */
static int normalise(const char *s, char *out, size_t outlen)
{
    int family;
    unsigned char a[16];
    if (parse_addr(s, &family, a) != 0 || inet_ntop(family, a, out, (socklen_t)outlen) == NULL)
        return -1;
    return 0;
}

int proxy_xff_client(const char *xff, size_t len, const struct proxy_cidr *trusted, size_t n,
                     char *out, size_t outlen)
{
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        char item[PROXY_ADDR_MAX + 1];
        if (b == a || b - a > PROXY_ADDR_MAX)
            return -1;
        memcpy(item, xff + a, b - a);
        item[b - a] = '\0';
        if (normalise(item, out, outlen) != 0)
            return -1;
        if (!proxy_cidr_match(trusted, n, out))
            return 0;
        end = start > 0 ? start - 1 : 0;
    }
    return -1;
}

long proxy_v2_parse(const unsigned char *buf, size_t len, char *ip, size_t iplen)
{
    static const unsigned char sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
    size_t have = len < 12 ? len : 12;
    if (memcmp(buf, sig, have) != 0)
        return -1;
    if (len < 16)
        return 0;
    int version = buf[12] >> 4, command = buf[12] & 0x0f, fam = buf[13];
    size_t body = ((size_t)buf[14] << 8) | buf[15];
    if (version != 2 || command > 1 || 16 + body > PROXY_V2_MAX)
        return -1;
    if (len < 16 + body)
        return 0;
    if (iplen > 0)
        ip[0] = '\0';
    if (command == 0) /* LOCAL: the proxy's own connection (health checks) */
        return (long)(16 + body);
    if (fam == 0x11 && body >= 12) { /* TCP over IPv4: src, dst, sport, dport */
        if (inet_ntop(AF_INET, buf + 16, ip, (socklen_t)iplen) == NULL)
            return -1;
    } else if (fam == 0x21 && body >= 36) { /* TCP over IPv6 */
        if (inet_ntop(AF_INET6, buf + 16, ip, (socklen_t)iplen) == NULL)
            return -1;
    } else {
        return -1;
    }
    return (long)(16 + body);
}
