/* config_gateway.c: the "gateway" section of the config file (a list of
 * route objects, which the one-row-per-key table of config.c does not
 * describe), its defaults and its checks (see config_gateway.h). */
#include "server/config_gateway.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_TIMEOUT_DEF 30000
#define ROUTE_MAXCONN_DEF 64

/* Paths the server answers itself: no prefix may cover one, nor be covered. */
static const char *const reserved[] = { "/api/", "/.well-known/", "/healthz", "/demo/", NULL };

static const char *const accesses[] = { "public", "token", "role:user", "role:admin", NULL };

static void route_defaults(struct gateway_route_config *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->access, sizeof r->access, "token");
    r->timeout_ms = ROUTE_TIMEOUT_DEF;
    r->max_connections = ROUTE_MAXCONN_DEF;
}

static int route_string(json_t *v, char *dst, size_t cap, const char *key, int i, char *msg,
                        size_t msglen)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap ||
        memchr(json_string_value(v), '\0', json_string_length(v)) != NULL) {
        snprintf(msg, msglen, "'gateway.routes[%d].%s' must be a string of 1 to %zu bytes", i, key,
                 cap - 1);
        return -1;
    }
    memcpy(dst, json_string_value(v), json_string_length(v));
    dst[json_string_length(v)] = '\0';
    return 0;
}

static int route_int(json_t *v, int *dst, long long lo, long long hi, const char *key, int i,
                     char *msg, size_t msglen)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(msg, msglen, "'gateway.routes[%d].%s' must be an integer between %lld and %lld", i,
                 key, lo, hi);
        return -1;
    }
    *dst = (int)json_integer_value(v);
    return 0;
}

static int route_bool(json_t *v, bool *dst, const char *key, int i, char *msg, size_t msglen)
{
    if (!json_is_boolean(v)) {
        snprintf(msg, msglen, "'gateway.routes[%d].%s' must be true or false", i, key);
        return -1;
    }
    *dst = json_is_true(v);
    return 0;
}

static int route_key(struct gateway_route_config *r, const char *key, json_t *v, int i, char *msg,
                     size_t msglen)
{
    if (strcmp(key, "prefix") == 0)
        return route_string(v, r->prefix, sizeof r->prefix, key, i, msg, msglen);
    if (strcmp(key, "upstream") == 0)
        return route_string(v, r->upstream, sizeof r->upstream, key, i, msg, msglen);
    if (strcmp(key, "access") == 0)
        return route_string(v, r->access, sizeof r->access, key, i, msg, msglen);
    if (strcmp(key, "strip_prefix") == 0)
        return route_bool(v, &r->strip_prefix, key, i, msg, msglen);
    if (strcmp(key, "forward_authorization") == 0)
        return route_bool(v, &r->forward_authorization, key, i, msg, msglen);
    if (strcmp(key, "timeout_ms") == 0)
        return route_int(v, &r->timeout_ms, 100, 3600000, key, i, msg, msglen);
    if (strcmp(key, "max_connections") == 0)
        return route_int(v, &r->max_connections, 1, 10000, key, i, msg, msglen);
    snprintf(msg, msglen, "unknown key 'gateway.routes[%d].%.40s'", i, key);
    return -1;
}

static int route_apply(struct gateway_route_config *r, json_t *obj, int i, char *msg, size_t msglen)
{
    const char *key;
    json_t *v;
    route_defaults(r);
    if (!json_is_object(obj)) {
        snprintf(msg, msglen, "'gateway.routes[%d]' must be an object", i);
        return -1;
    }
    json_object_foreach(obj, key, v)
    {
        if (route_key(r, key, v, i, msg, msglen) != 0)
            return -1;
    }
    if (r->prefix[0] == '\0' || r->upstream[0] == '\0') {
        snprintf(msg, msglen, "'gateway.routes[%d]' needs a 'prefix' and an 'upstream'", i);
        return -1;
    }
    return 0;
}

int config_gateway_apply(struct gateway_config *g, json_t *section, char *msg, size_t msglen)
{
    const char *key;
    json_t *v, *it;
    size_t i;
    struct gateway_config tmp;
    memset(&tmp, 0, sizeof tmp);
    if (!json_is_object(section)) {
        snprintf(msg, msglen, "'gateway' must be an object");
        return -1;
    }
    json_object_foreach(section, key, v)
    {
        if (strcmp(key, "routes") != 0) {
            snprintf(msg, msglen, "unknown key 'gateway.%.40s'", key);
            return -1;
        }
        if (!json_is_array(v) || json_array_size(v) > GATEWAY_ROUTES_MAX) {
            snprintf(msg, msglen, "'gateway.routes' must be an array of at most %d objects",
                     GATEWAY_ROUTES_MAX);
            return -1;
        }
        json_array_foreach(v, i, it)
        {
            if (route_apply(&tmp.routes[i], it, (int)i, msg, msglen) != 0)
                return -1;
        }
        tmp.n = (int)json_array_size(v);
    }
    *g = tmp;
    return 0;
}

/* ---- validation ---- */

int config_upstream_split(const char *url, char *host, size_t hostlen, int *port, char *msg,
                          size_t msglen)
{
    if (strncmp(url, "https://", 8) == 0) {
        snprintf(msg, msglen,
                 "https:// upstreams are not supported (upstream certificates are not "
                 "verified): use http:// to a service on loopback or a private network");
        return -1;
    }
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(msg, msglen, "must be \"http://host:port\"");
        return -1;
    }
    const char *h = url + 7, *colon, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        colon = end ? end + 1 : NULL;
        h++;
    } else {
        end = colon = strrchr(h, ':');
    }
    if (end == NULL || colon == NULL || *colon != ':' || end == h) {
        snprintf(msg, msglen, "must be \"http://host:port\" with an explicit port");
        return -1;
    }
    size_t n = (size_t)(end - h);
    char *stop;
    long p = strtol(colon + 1, &stop, 10);
    if (colon[1] < '0' || colon[1] > '9' || *stop != '\0' || p < 1 || p > 65535) {
        snprintf(msg, msglen, "must be \"http://host:port\" with a port 1-65535 and no path");
        return -1;
    }
    if (n >= hostlen || memchr(h, '/', n) != NULL || memchr(h, '@', n) != NULL) {
        snprintf(msg, msglen, "must be \"http://host:port\" (no user, no path)");
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

static int path_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* Starts and ends with '/', plain path characters, no empty, "." or ".."
 * segment, longer than "/", clear of the server's own paths. */
static int prefix_check(const char *p, char *why, size_t whylen)
{
    size_t n = strlen(p);
    if (n < 2 || p[0] != '/' || p[n - 1] != '/') {
        snprintf(why, whylen, "must start and end with '/' and name at least one segment");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!path_char((unsigned char)p[i])) {
            snprintf(why, whylen, "may hold only unreserved path characters (no '%%', '?', '#')");
            return -1;
        }
    if (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../")) {
        snprintf(why, whylen, "must not hold empty, '.' or '..' segments");
        return -1;
    }
    for (int i = 0; reserved[i] != NULL; i++) {
        size_t rn = strlen(reserved[i]);
        if (strncmp(p, reserved[i], n < rn ? n : rn) == 0) {
            snprintf(why, whylen, "overlaps the server's own %s", reserved[i]);
            return -1;
        }
    }
    return 0;
}

/* The upstream parses and its host resolves now (a literal, or a name the
 * resolver knows at start: it is not looked up again). */
static int upstream_check(const char *url, char *why, size_t whylen)
{
    char host[CONFIG_ITEM_MAX], port[8];
    int p;
    if (config_upstream_split(url, host, sizeof host, &p, why, whylen) != 0)
        return -1;
    snprintf(port, sizeof port, "%d", p);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whylen, "host '%.64s' does not resolve: %s", host, gai_strerror(rc));
        return -1;
    }
    freeaddrinfo(ai);
    return 0;
}

int config_gateway_validate(const struct gateway_config *g, char *msg, size_t msglen)
{
    char why[200];
    for (int i = 0; i < g->n; i++) {
        const struct gateway_route_config *r = &g->routes[i];
        int a = 0;
        while (accesses[a] != NULL && strcmp(accesses[a], r->access) != 0)
            a++;
        if (accesses[a] == NULL) {
            snprintf(msg, msglen,
                     "'gateway.routes[%d].access' must be one of \"public\", \"token\", "
                     "\"role:user\", \"role:admin\"",
                     i);
            return -1;
        }
        if (prefix_check(r->prefix, why, sizeof why) != 0) {
            snprintf(msg, msglen, "'gateway.routes[%d].prefix' %s", i, why);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(g->routes[j].prefix, r->prefix) == 0) {
                snprintf(msg, msglen, "'gateway.routes[%d].prefix' repeats routes[%d]", i, j);
                return -1;
            }
        if (upstream_check(r->upstream, why, sizeof why) != 0) {
            snprintf(msg, msglen, "'gateway.routes[%d].upstream' %s", i, why);
            return -1;
        }
    }
    return 0;
}
