/* router.c: linear scan of {method, pattern} routes.
 *
 * A server has tens of routes, so a scan that splits the path once and
 * compares segments beats a trie in simplicity at no measurable cost. When
 * several patterns match one path, the most specific wins: comparing from the
 * left, a literal segment beats a parameter ("/users/me" before "/users/:id"),
 * whatever the insertion order; a route with the request's method is chosen
 * before answering 405, even if a more specific pattern has other methods.
 * The Allow list of a 405 is sorted by name (deterministic, independent of
 * registration order) and covers every pattern matching the path. */
#include "server/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Splits an absolute path into its segments ("/" -> one empty segment,
 * "/a/" -> "a" and ""). Returns the count, or -1 when the path does not start
 * with '/' or has more than ROUTE_MAX_SEGMENTS segments. */
static int split_path(struct str path, struct str segs[ROUTE_MAX_SEGMENTS])
{
    size_t i = 1;
    int n = 0;

    if (path.n == 0 || path.p[0] != '/')
        return -1;
    for (;;) {
        size_t start = i;
        while (i < path.n && path.p[i] != '/')
            i++;
        if (n == ROUTE_MAX_SEGMENTS)
            return -1;
        segs[n++] = str_make(path.p + start, i - start);
        if (i == path.n)
            return n;
        i++;
    }
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool valid_method(const char *m)
{
    if (*m == '\0')
        return false;
    for (; *m != '\0'; m++)
        if (!is_tchar((unsigned char)*m))
            return false;
    return true;
}

static bool is_param(struct str seg) { return seg.n > 0 && seg.p[0] == ':'; }

static bool valid_segment(struct str seg, bool last)
{
    size_t i = is_param(seg) ? 1 : 0;

    if (seg.n == 0)
        return last; /* only a trailing slash may leave one empty */
    if (i == 1 && seg.n == 1)
        return false; /* ":" with no name */
    for (; i < seg.n; i++) {
        unsigned char c = (unsigned char)seg.p[i];
        bool ok = is_param(seg) ? ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                   (c >= '0' && c <= '9') || c == '_')
                                : (c > 0x20 && c < 0x7f && c != '?' && c != '#');
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_pattern(const char *pattern)
{
    struct str segs[ROUTE_MAX_SEGMENTS];
    int n = split_path(str_make(pattern, strlen(pattern)), segs);
    int params = 0;

    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        if (!valid_segment(segs[i], i == n - 1))
            return false;
        if (!is_param(segs[i]))
            continue;
        if (++params > ROUTE_MAX_PARAMS)
            return false;
        for (int j = 0; j < i; j++)
            if (segs[j].n == segs[i].n && memcmp(segs[j].p, segs[i].p, segs[i].n) == 0)
                return false; /* the same parameter name twice */
    }
    return true;
}

/* Matches pattern against the path's segments. On success fills *params
 * (when non-NULL) and *rank, where a lower rank is more specific: bit
 * (MAX - 1 - i) is set when segment i is a parameter. */
static bool match_pattern(const char *pattern, const struct str *segs, int nseg,
                          struct route_params *params, unsigned *rank)
{
    struct str psegs[ROUTE_MAX_SEGMENTS];
    int n = split_path(str_make(pattern, strlen(pattern)), psegs);
    struct route_params tmp = { 0 };

    if (n != nseg)
        return false;
    *rank = 0;
    for (int i = 0; i < n; i++) {
        struct str ps = psegs[i];
        if (!is_param(ps)) {
            if (ps.n != segs[i].n || memcmp(ps.p, segs[i].p, ps.n) != 0)
                return false;
            continue;
        }
        if (segs[i].n == 0)
            return false;
        tmp.p[tmp.n].name = str_make(ps.p + 1, ps.n - 1);
        tmp.p[tmp.n].value = segs[i];
        tmp.n++;
        *rank |= 1u << (ROUTE_MAX_SEGMENTS - 1 - i);
    }
    if (params != NULL)
        *params = tmp;
    return true;
}

/* Two patterns that match exactly the same paths (parameter names aside). */
static bool same_shape(const char *a, const char *b)
{
    struct str sa[ROUTE_MAX_SEGMENTS], sb[ROUTE_MAX_SEGMENTS];
    int na = split_path(str_make(a, strlen(a)), sa);
    int nb = split_path(str_make(b, strlen(b)), sb);

    if (na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        if (is_param(sa[i]) != is_param(sb[i]))
            return false;
        if (!is_param(sa[i]) && (sa[i].n != sb[i].n || memcmp(sa[i].p, sb[i].p, sa[i].n) != 0))
            return false;
    }
    return true;
}

void router_init(struct router *r)
{
    r->routes = NULL;
    r->n = 0;
    r->cap = 0;
}

void router_free(struct router *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->routes[i].method);
        free(r->routes[i].pattern);
    }
    free(r->routes);
    router_init(r);
}

static int grow(struct router *r)
{
    size_t cap = r->cap ? r->cap * 2 : 16;
    struct route *p;

    if (r->n < r->cap)
        return 0;
    p = realloc(r->routes, cap * sizeof(*p));
    if (p == NULL)
        return -1;
    r->routes = p;
    r->cap = cap;
    return 0;
}

int router_add(struct router *r, const char *method, const char *pattern, route_handler handler,
               int access, void *arg)
{
    struct route rt = { NULL, NULL, handler, access, arg, 0 };
    struct str psegs[ROUTE_MAX_SEGMENTS];

    if (!valid_method(method) || !valid_pattern(pattern))
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->routes[i].method, method) == 0 && same_shape(r->routes[i].pattern, pattern))
            return -1;
    rt.nseg = split_path(str_make(pattern, strlen(pattern)), psegs);
    rt.method = strdup(method);
    rt.pattern = strdup(pattern);
    if (rt.method == NULL || rt.pattern == NULL || grow(r) < 0)
        goto fail;
    r->routes[r->n++] = rt;
    return 0;
fail:
    free(rt.pattern);
    free(rt.method);
    return -1;
}

/* The smallest method name after `last` (NULL: the first) among routes
 * whose pattern matches; GET brings HEAD along. */
static const char *next_allowed(const struct router *r, const struct str *segs, int nseg,
                                const char *last)
{
    const char *next = NULL;
    unsigned rank;

    for (size_t i = 0; i < r->n; i++) {
        const char *cand[2] = { r->routes[i].method, NULL };
        if (!match_pattern(r->routes[i].pattern, segs, nseg, NULL, &rank))
            continue;
        if (strcmp(cand[0], "GET") == 0)
            cand[1] = "HEAD";
        for (int k = 0; k < 2 && cand[k] != NULL; k++)
            if ((last == NULL || strcmp(cand[k], last) > 0) &&
                (next == NULL || strcmp(cand[k], next) < 0))
                next = cand[k];
    }
    return next;
}

/* Writes the sorted, de-duplicated Allow list; a method that does not fit
 * whole is left out with all after it. */
static void build_allow(const struct router *r, const struct str *segs, int nseg, char *allow,
                        size_t allowlen)
{
    size_t len = 0;
    const char *m = NULL;

    while ((m = next_allowed(r, segs, nseg, m)) != NULL) {
        size_t need = strlen(m) + (len ? 2 : 0);
        if (len + need >= allowlen)
            break;
        if (len) {
            memcpy(allow + len, ", ", 2);
            len += 2;
        }
        memcpy(allow + len, m, strlen(m));
        len += strlen(m);
        allow[len] = '\0';
    }
}

int router_match(const struct router *r, struct str method, struct str path,
                 const struct route **out, struct route_params *params, char *allow,
                 size_t allowlen)
{
    struct str segs[ROUTE_MAX_SEGMENTS];
    int nseg = split_path(path, segs);
    const struct route *best = NULL;
    struct route_params bp = { 0 }, tp;
    unsigned best_rank = 0, rank;
    bool best_exact = false, any = false;
    bool head = str_eq(method, "HEAD");

    *out = NULL;
    if (allow != NULL && allowlen > 0)
        allow[0] = '\0';
    if (nseg < 0)
        return 404;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        if (rt->nseg != nseg || !match_pattern(rt->pattern, segs, nseg, &tp, &rank))
            continue;
        any = true;
        bool exact = str_eq(method, rt->method);
        if (!exact && !(head && strcmp(rt->method, "GET") == 0))
            continue;
        /* An explicit HEAD route beats GET on an equally specific pattern. */
        if (best == NULL || rank < best_rank || (rank == best_rank && exact && !best_exact)) {
            best = rt;
            bp = tp;
            best_rank = rank;
            best_exact = exact;
        }
    }
    if (best != NULL) {
        *out = best;
        if (params != NULL)
            *params = bp;
        return 0;
    }
    if (!any)
        return 404;
    if (allow != NULL && allowlen > 0)
        build_allow(r, segs, nseg, allow, allowlen);
    return 405;
}

struct str route_param(const struct route_params *params, const char *name)
{
    if (params != NULL)
        for (size_t i = 0; i < params->n; i++)
            if (str_eq(params->p[i].name, name))
                return params->p[i].value;
    return str_make(NULL, 0);
}
