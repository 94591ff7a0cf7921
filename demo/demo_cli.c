/* demo_cli.c: `portcullis demo`: runs the comparison (demo_compare.c) and
 * prints it for a terminal, HTTP on the left and HTTPS on the right, then
 * the cost table. --json prints the document itself. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo/demo.h"
#include "server/log.h"

#define DEMO_DEFAULT_HTTPS "https://127.0.0.1:8443"
#define DEMO_DEFAULT_HTTP  "http://127.0.0.1:8080"

struct demo_args {
    const char *https_url, *http_url, *ca_file, *user, *password;
    int runs, json, insecure, no_http, width, tls12;
};

static void demo_usage(FILE *f)
{
    fputs(
        "usage: portcullis [--config FILE] demo [https://HOST:PORT] [--http http://HOST:PORT]\n"
        "                  [--cacert FILE | --insecure] [--runs N] [--user NAME] [--password PW]\n"
        "                  [--no-http] [--tls12] [--json] [--width COLUMNS]\n"
        "Logs in over plain HTTP and over HTTPS and shows, side by side, what an\n"
        "eavesdropper saw of each and what each cost; --tls12 adds an HTTPS login\n"
        "capped at TLS 1.2 beside the TLS 1.3 one. Defaults: " DEMO_DEFAULT_HTTPS
        " and " DEMO_DEFAULT_HTTP
        ",\nthe dev CA from the config (tls.dev_cert_dir/ca.crt), 5 runs.\n",
        f);
}

/* ---- arguments ---- */

int demo_parse_url(const char *url, const char *scheme, char *host, size_t hostlen, int *port)
{
    size_t sl = strlen(scheme);
    if (strncmp(url, scheme, sl) != 0 || strncmp(url + sl, "://", 3) != 0)
        return -1;
    const char *h = url + sl + 3, *end;
    if (*h == '[') {
        end = strchr(++h, ']');
        if (end == NULL)
            return -1;
    } else {
        end = h + strcspn(h, ":/");
    }
    size_t n = (size_t)(end - h);
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    const char *rest = *end == ']' ? end + 1 : end;
    *port = strcmp(scheme, "https") == 0 ? 443 : 80;
    if (*rest == ':') {
        char *e;
        long p = strtol(rest + 1, &e, 10);
        if (e == rest + 1 || p < 1 || p > 65535 || (*e != '\0' && strcmp(e, "/") != 0))
            return -1;
        *port = (int)p;
    } else if (*rest != '\0' && strcmp(rest, "/") != 0) {
        return -1;
    }
    return 0;
}

static int demo_take(int argc, char **argv, int *i, const char **out)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "portcullis demo: %s needs a value\n", argv[*i]);
        return -1;
    }
    *out = argv[++*i];
    return 0;
}

static int demo_parse_args(struct demo_args *a, int argc, char **argv)
{
    const char *num = NULL, *runs = NULL;
    memset(a, 0, sizeof a[0]);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int rc = 0;
        if (strcmp(s, "--http") == 0)
            rc = demo_take(argc, argv, &i, &a->http_url);
        else if (strcmp(s, "--cacert") == 0)
            rc = demo_take(argc, argv, &i, &a->ca_file);
        else if (strcmp(s, "--user") == 0)
            rc = demo_take(argc, argv, &i, &a->user);
        else if (strcmp(s, "--password") == 0)
            rc = demo_take(argc, argv, &i, &a->password);
        else if (strcmp(s, "--runs") == 0 && (rc = demo_take(argc, argv, &i, &runs)) == 0)
            a->runs = atoi(runs);
        else if (strcmp(s, "--width") == 0 && (rc = demo_take(argc, argv, &i, &num)) == 0)
            a->width = atoi(num);
        else if (strcmp(s, "--json") == 0)
            a->json = 1;
        else if (strcmp(s, "--insecure") == 0)
            a->insecure = 1;
        else if (strcmp(s, "--no-http") == 0)
            a->no_http = 1;
        else if (strcmp(s, "--tls12") == 0)
            a->tls12 = 1;
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            return 1;
        else if (a->https_url == NULL && strncmp(s, "https://", 8) == 0)
            a->https_url = s;
        else {
            fprintf(stderr, "portcullis demo: unknown argument '%s'\n", s);
            return -1;
        }
        if (rc != 0)
            return -1;
    }
    if (runs != NULL && (a->runs < 1 || a->runs > DEMO_RUNS_MAX)) {
        fprintf(stderr, "portcullis demo: --runs must be between 1 and %d\n", DEMO_RUNS_MAX);
        return -1;
    }
    return 0;
}

/* ---- two columns ---- */

struct demo_col {
    char **lines;
    size_t n, cap;
    int width;
};

static void demo_col_line(struct demo_col *c, const char *p, size_t n)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char **l = realloc(c->lines, cap * sizeof *l);
        if (l == NULL)
            return;
        c->lines = l;
        c->cap = cap;
    }
    c->lines[c->n] = strndup(p, n);
    if (c->lines[c->n] != NULL)
        c->n++;
}

/* Adds text, split at newlines and wrapped at the column width. */
static void demo_col_add(struct demo_col *c, const char *text)
{
    size_t w = (size_t)c->width;
    while (*text) {
        size_t n = strcspn(text, "\n");
        const char *p = text;
        do {
            size_t k = n - (size_t)(p - text) < w ? n - (size_t)(p - text) : w;
            demo_col_line(c, p, k);
            p += k;
        } while (p < text + n);
        text += n + (text[n] == '\n');
    }
}

static void demo_col_addf(struct demo_col *c, const char *fmt, ...) PC_PRINTF(2, 3);
static void demo_col_addf(struct demo_col *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    demo_col_add(c, line);
}

static void demo_col_free(struct demo_col *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    free(c->lines);
}

static void demo_print_cols(const struct demo_col *l, const struct demo_col *r)
{
    size_t n = l->n > r->n ? l->n : r->n;
    for (size_t i = 0; i < n; i++)
        printf("%-*s | %s\n", l->width, i < l->n ? l->lines[i] : "", i < r->n ? r->lines[i] : "");
}

static void demo_print_rule(int width)
{
    for (int i = 0; i < width; i++)
        putchar('-');
    fputs("-+-", stdout);
    for (int i = 0; i < width; i++)
        putchar('-');
    putchar('\n');
}

/* ---- what each side shows ---- */

static const char *demo_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double demo_num(const json_t *o, const char *key, const char *sub)
{
    return json_number_value(json_object_get(json_object_get(o, key), sub));
}

static void demo_side_head(struct demo_col *c, const json_t *side, const char *name)
{
    demo_col_addf(c, "%s  %s", name, demo_str(side, "url"));
    if (json_integer_value(json_object_get(side, "status")) > 0)
        demo_col_addf(c, "login answered %lld",
                      (long long)json_integer_value(json_object_get(side, "status")));
    const json_t *tls = json_object_get(side, "tls");
    if (tls != NULL) {
        demo_col_addf(c, "%s, %s", demo_str(tls, "version"), demo_str(tls, "ciphersuite"));
        demo_col_add(c, json_is_true(json_object_get(tls, "verified"))
                            ? "certificate verified against the CA"
                            : "certificate NOT verified (--insecure)");
    }
    if (!json_is_true(json_object_get(side, "ok")))
        demo_col_addf(c, "FAILED: %s", demo_str(side, "error"));
}

/* The TLS records, grouped by direction, and the start of the encrypted
 * login request as hex. */
static void demo_side_records(struct demo_col *c, const json_t *side)
{
    const json_t *r;
    size_t i;
    const char *last = "";
    json_array_foreach(json_object_get(side, "records"), i, r)
    {
        const char *dir = demo_str(r, "dir"), *hs = demo_str(r, "handshake");
        const char *type = demo_str(r, "type");
        if (strcmp(dir, last) != 0)
            demo_col_add(c,
                         strcmp(dir, "client") == 0 ? "> client -> server" : "< server -> client");
        last = dir;
        long long len = (long long)json_integer_value(json_object_get(r, "length"));
        if (hs[0])
            demo_col_addf(c, "  %s: %s, %lld bytes", type, hs, len);
        else if (strcmp(type, "change_cipher_spec") == 0)
            demo_col_addf(c, "  %s, %lld byte%s", type, len, len == 1 ? "" : "s");
        else
            demo_col_addf(c, "  %s (encrypted), %lld bytes", type, len);
    }
    json_array_foreach(json_object_get(side, "segments"), i, r)
    {
        const char *hex = demo_str(r, "hex");
        if (strcmp(demo_str(r, "dir"), "client") != 0 || strncmp(hex, "1703", 4) != 0)
            continue;
        demo_col_add(c, "");
        demo_col_add(c, "the login request as sent (first 48 bytes):");
        for (size_t k = 0; k < 48 && hex[2 * k] && hex[2 * k + 1]; k += 16) {
            char line[64] = "  ";
            size_t n = 2;
            for (size_t j = k; j < k + 16 && hex[2 * j] && hex[2 * j + 1]; j++)
                n += (size_t)snprintf(line + n, sizeof line - n, "%.2s ", hex + 2 * j);
            demo_col_add(c, line);
        }
        break;
    }
}

static void demo_side_verdict(struct demo_col *c, const json_t *side)
{
    const json_t *r;
    size_t i;
    int cert = 0;
    if (!json_is_boolean(json_object_get(side, "password_visible")))
        return;
    demo_col_add(c, json_is_true(json_object_get(side, "password_visible"))
                        ? "password on the wire: VISIBLE to anyone on the path"
                        : "password on the wire: not visible (only TLS records)");
    if (json_object_get(side, "records") == NULL)
        return;
    json_array_foreach(json_object_get(side, "records"), i, r)
        cert |= strcmp(demo_str(r, "handshake"), "certificate") == 0;
    demo_col_add(c, cert ? "server certificate: in the clear (TLS 1.2)"
                         : "server certificate: encrypted (after ServerHello)");
}

/* ---- the cost table ---- */

static void demo_cell(char *out, size_t n, const json_t *side, const char *key, const char *sub,
                      int integer)
{
    const json_t *v = json_object_get(json_object_get(side, key), sub);
    if (side == NULL || !json_is_true(json_object_get(side, "ok")) || v == NULL)
        snprintf(out, n, "-");
    else if (integer)
        snprintf(out, n, "%lld", (long long)json_number_value(v));
    else
        snprintf(out, n, "%.3f", json_number_value(v));
}

static void demo_row(const char *label, const json_t *http, const json_t *https, const char *key,
                     const char *rkey, const char *sub, int integer)
{
    char a[32], b[32], r[32];
    demo_cell(a, sizeof a, http, key, sub, integer);
    demo_cell(b, sizeof b, https, key, sub, integer);
    demo_cell(r, sizeof r, https, rkey, sub, integer);
    printf("%-26s %12s %14s %15s\n", label, a, b, r);
}

static void demo_print_costs(const json_t *doc, const json_t *http, const json_t *https)
{
    printf("\nCost of %s (no server work: this is the transport), %s:\n",
           demo_str(doc, "timed_request"), demo_str(doc, "timing_note"));
    printf("%-26s %12s %14s %15s\n", "", "HTTP", "HTTPS full", "HTTPS resumed");
    demo_row("TCP connect (ms)", http, https, "median_ms", "resumed_median_ms", "connect", 0);
    demo_row("TLS handshake (ms)", NULL, https, "median_ms", "resumed_median_ms", "handshake", 0);
    printf("%-26s %12s %14lld %15lld\n", "handshake round trips", "0",
           (long long)json_integer_value(json_object_get(https, "handshake_round_trips")),
           (long long)json_integer_value(json_object_get(https, "resumed_handshake_round_trips")));
    demo_row("time to first byte (ms)", http, https, "median_ms", "resumed_median_ms", "ttfb", 0);
    demo_row("total (ms)", http, https, "median_ms", "resumed_median_ms", "total", 0);
    demo_row("bytes sent", http, https, "bytes", "resumed_bytes", "sent", 1);
    demo_row("bytes received", http, https, "bytes", "resumed_bytes", "received", 1);
    printf("%-26s %12s %14s %9lld of %lld\n", "resumed from the ticket", "-", "-",
           (long long)json_integer_value(json_object_get(https, "resumed_runs")),
           (long long)json_integer_value(json_object_get(doc, "runs")));
    printf("One login each (argon2id included, one run): HTTP %.1f ms, HTTPS %.1f ms.\n",
           demo_num(http, "login_ms", "total"), demo_num(https, "login_ms", "total"));
}

/* --tls12: the TLS 1.3 login beside the TLS 1.2 one, then both costs. */
static void demo_print_tls12(const json_t *doc, const json_t *t13, const json_t *t12, int width)
{
    struct demo_col l = { .width = width }, r = { .width = width };
    printf("\nThe same HTTPS login in TLS 1.3 (left) and TLS 1.2 (right):\n\n");
    demo_side_head(&l, t13, "HTTPS");
    demo_side_head(&r, t12, "HTTPS, TLS 1.2 asked");
    demo_side_records(&l, t13);
    demo_side_records(&r, t12);
    demo_col_add(&l, "");
    demo_col_add(&r, "");
    demo_side_verdict(&l, t13);
    demo_side_verdict(&r, t12);
    demo_print_cols(&l, &r);
    demo_col_free(&l);
    demo_col_free(&r);
    printf("\nCost of %s, %s:\n", demo_str(doc, "timed_request"), demo_str(doc, "timing_note"));
    printf("%-26s %12s %14s %15s\n", "", "", "TLS 1.3 full", "TLS 1.3 resumed");
    demo_row("TLS handshake (ms)", NULL, t13, "median_ms", "resumed_median_ms", "handshake", 0);
    demo_row("total (ms)", NULL, t13, "median_ms", "resumed_median_ms", "total", 0);
    demo_row("bytes received", NULL, t13, "bytes", "resumed_bytes", "received", 1);
    printf("%-26s %12s %14lld %15lld\n", "handshake round trips", "",
           (long long)json_integer_value(json_object_get(t13, "handshake_round_trips")),
           (long long)json_integer_value(json_object_get(t13, "resumed_handshake_round_trips")));
    printf("%-26s %12s %14s %15s\n", "", "", "TLS 1.2 full", "TLS 1.2 resumed");
    demo_row("TLS handshake (ms)", NULL, t12, "median_ms", "resumed_median_ms", "handshake", 0);
    demo_row("total (ms)", NULL, t12, "median_ms", "resumed_median_ms", "total", 0);
    demo_row("bytes received", NULL, t12, "bytes", "resumed_bytes", "received", 1);
    printf("%-26s %12s %14lld %15lld\n", "handshake round trips", "",
           (long long)json_integer_value(json_object_get(t12, "handshake_round_trips")),
           (long long)json_integer_value(json_object_get(t12, "resumed_handshake_round_trips")));
}

static void demo_print(const json_t *doc, int width)
{
    const json_t *http = json_object_get(doc, "http"), *https = json_object_get(doc, "https");
    struct demo_col l = { .width = width }, r = { .width = width };
    printf("Portcullis demo: one login over plain HTTP and one over HTTPS, as an eavesdropper\n"
           "on the network saw them (user %s; look for its password on each side).\n\n",
           demo_str(doc, "user"));
    if (http != NULL)
        demo_side_head(&l, http, "HTTP");
    else
        demo_col_add(&l, "HTTP  (not tried)");
    demo_side_head(&r, https, "HTTPS");
    demo_print_cols(&l, &r);
    demo_print_rule(width);
    demo_col_free(&l);
    demo_col_free(&r);
    l = (struct demo_col){ .width = width };
    r = (struct demo_col){ .width = width };
    if (http != NULL)
        demo_col_add(&l, demo_str(http, "eavesdropper_text"));
    demo_side_records(&r, https);
    demo_print_cols(&l, &r);
    demo_print_rule(width);
    demo_col_free(&l);
    demo_col_free(&r);
    l = (struct demo_col){ .width = width };
    r = (struct demo_col){ .width = width };
    demo_side_verdict(&l, http);
    demo_side_verdict(&r, https);
    demo_print_cols(&l, &r);
    demo_col_free(&l);
    demo_col_free(&r);
    demo_print_costs(doc, http, https);
    if (json_object_get(doc, "https_tls12") != NULL)
        demo_print_tls12(doc, https, json_object_get(doc, "https_tls12"), width);
}

/* ---- the command ---- */

static int demo_width(int asked)
{
    struct winsize ws;
    int cols = asked;
    if (cols <= 0)
        cols = isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0
                   ? ws.ws_col
                   : 120;
    if (cols < 60)
        cols = 60;
    if (cols > 400)
        cols = 400;
    return (cols - 3) / 2;
}

static int demo_targets(const struct demo_args *a, struct demo_opts *o, char *https_host,
                        char *http_host, size_t hostlen)
{
    const char *hu = a->https_url ? a->https_url : DEMO_DEFAULT_HTTPS;
    const char *pu = a->http_url ? a->http_url : DEMO_DEFAULT_HTTP;
    if (demo_parse_url(hu, "https", https_host, hostlen, &o->https_port) != 0) {
        fprintf(stderr, "portcullis demo: '%s' is not https://HOST[:PORT]\n", hu);
        return -1;
    }
    o->https_host = https_host;
    if (a->no_http)
        return 0;
    if (demo_parse_url(pu, "http", http_host, hostlen, &o->http_port) != 0) {
        fprintf(stderr, "portcullis demo: '%s' is not http://HOST[:PORT]\n", pu);
        return -1;
    }
    o->http_host = http_host;
    return 0;
}

int demo_cli(const struct config *cfg, int argc, char **argv)
{
    struct demo_args a;
    struct demo_opts o = { 0 };
    char https_host[256], http_host[256], ca[CONFIG_PATH_MAX + 16], err[512];
    struct stat st;
    int rc = demo_parse_args(&a, argc, argv);
    if (rc != 0) {
        demo_usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    if (demo_targets(&a, &o, https_host, http_host, sizeof https_host) != 0)
        return 2;
    snprintf(ca, sizeof ca, "%s/ca.crt", cfg->tls.dev_cert_dir);
    o.ca_file = a.insecure ? NULL : a.ca_file ? a.ca_file : ca;
    if (o.ca_file != NULL && stat(o.ca_file, &st) != 0) {
        fprintf(stderr,
                "portcullis demo: no CA file %s: start the server once (it creates the "
                "dev CA), or pass --cacert FILE (or --insecure)\n",
                o.ca_file);
        return 2;
    }
    o.user = a.user;
    o.password = a.password;
    o.runs = a.runs;
    o.tls12 = a.tls12;
    json_t *doc = demo_compare(&o, err, sizeof err);
    if (doc == NULL) {
        fprintf(stderr, "portcullis demo: %s\n", err);
        return 1;
    }
    if (a.json) {
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        demo_print(doc, demo_width(a.width));
    }
    const json_t *http = json_object_get(doc, "http"), *t12 = json_object_get(doc, "https_tls12");
    rc = json_is_true(json_object_get(json_object_get(doc, "https"), "ok")) &&
                 (http == NULL || json_is_true(json_object_get(http, "ok"))) &&
                 (t12 == NULL || json_is_true(json_object_get(t12, "ok")))
             ? 0
             : 1;
    json_decref(doc);
    return rc;
}
