/* config.c: JSON (jansson) -> struct config, driven by one table.
 *
 * Each option is one row of opts[]: section, key, type, field offset and
 * size, bounds and default side by side, so adding an option is one line
 * and loading, defaults and validation cannot disagree. */
#include "server/config.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config_gateway.h"
#include "server/cors.h"
#include "server/net.h"
#include "server/proxy.h"

#define ENV_JWT_SECRET "PORTCULLIS_JWT_SECRET"
#define ENV_DB_URL     "PORTCULLIS_DB_URL"
/* DECODE_ANY so a non-object top level gets our message, not jansson's. */
#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

enum cfg_type { CFG_INT, CFG_SIZE, CFG_BOOL, CFG_STRING, CFG_CHOICE, CFG_LOGLEVEL, CFG_LIST };

struct cfg_opt {
    const char *section;
    const char *key;
    enum cfg_type type;
    size_t offset;
    size_t size;                /* sizeof the field (strings: capacity incl. NUL) */
    long long min, max;         /* numbers: value range; strings: min length */
    long long def;              /* default of numbers, bools, log level */
    const char *sdef;           /* default of strings and choices */
    const char *const *choices; /* CFG_CHOICE: NULL-terminated allowed values */
};

static const char *const jwt_algs[] = { "ES256", "HS256", NULL };
static const char *const log_formats[] = { "text", "json", NULL };

/* _Generic with a single association turns a row whose macro does not match
 * the field's C type into a compile error, so the loader can never write an
 * int into a size_t or a bool into an enum. */
#define FIELD(f) (((struct config *)0)->f)
/* clang-format off */
#define OFS(f) offsetof(struct config, f), sizeof(FIELD(f))
/* A row names its section and key as identifiers: "section.key" in the
 * file is the field cfg->section.key, so the two cannot drift apart. */
#define OPT_INT(s, k, d, lo, hi) \
    { #s, #k, _Generic(FIELD(s.k), int: CFG_INT), OFS(s.k), lo, hi, d, NULL, NULL }
#define OPT_SIZE(s, k, d, lo, hi) \
    { #s, #k, _Generic(FIELD(s.k), size_t: CFG_SIZE), OFS(s.k), lo, hi, d, NULL, NULL }
#define OPT_BOOL(s, k, d) \
    { #s, #k, _Generic(FIELD(s.k), bool: CFG_BOOL), OFS(s.k), 0, 1, d, NULL, NULL }
#define OPT_STR(s, k, d, minlen) \
    { #s, #k, _Generic(FIELD(s.k), char *: CFG_STRING), OFS(s.k), minlen, 0, 0, d, NULL }
#define OPT_CHOICE(s, k, d, list) \
    { #s, #k, _Generic(FIELD(s.k), char *: CFG_CHOICE), OFS(s.k), 1, 0, 0, d, list }
#define OPT_LIST(s, k) \
    { #s, #k, _Generic(FIELD(s.k), struct config_list: CFG_LIST), OFS(s.k), 0, CONFIG_LIST_MAX, 0, NULL, NULL }
#define OPT_LEVEL(s, k, d) \
    { #s, #k, _Generic(FIELD(s.k), enum log_level: CFG_LOGLEVEL), OFS(s.k), \
      LOG_DEBUG, LOG_ERROR, d, NULL, NULL }
/* clang-format on */

#define MS_MIN 100
#define MS_MAX 3600000

static const struct cfg_opt opts[] = {
    OPT_STR(server, https_address, "127.0.0.1", 1),
    OPT_INT(server, https_port, 8443, 0, 65535),
    OPT_STR(server, http_address, "127.0.0.1", 1),
    OPT_INT(server, http_port, 8080, -1, 65535),
    OPT_INT(server, workers, 0, 0, 256),
    OPT_INT(server, max_connections, 10000, 1, 1000000),
    OPT_STR(server, user, "", 0),
    OPT_STR(server, www_root, "www", 0),
    OPT_INT(server, static_cache_ms, 1000, 0, 60000),
    OPT_LEVEL(server, log_level, LOG_INFO),
    OPT_CHOICE(server, log_format, "text", log_formats),
    OPT_LIST(server, trusted_proxies),
    OPT_BOOL(server, proxy_protocol, false),
    OPT_BOOL(server, demo, false),
    OPT_BOOL(server, demo_allow_non_loopback, false),

    OPT_SIZE(limits, max_header_bytes, 8192, 1024, 1048576),
    OPT_SIZE(limits, max_headers, 64, 8, 1024),
    OPT_SIZE(limits, max_uri_bytes, 2048, 64, 1048576),
    OPT_SIZE(limits, max_body_bytes, 65536, 0, 1073741824),
    OPT_INT(limits, max_requests_per_connection, 1000, 0, 1000000000),

    OPT_INT(timeouts, handshake_ms, 10000, MS_MIN, MS_MAX),
    OPT_INT(timeouts, header_ms, 10000, MS_MIN, MS_MAX),
    OPT_INT(timeouts, body_ms, 30000, MS_MIN, MS_MAX),
    OPT_INT(timeouts, keepalive_ms, 30000, MS_MIN, MS_MAX),
    OPT_INT(timeouts, write_ms, 30000, MS_MIN, MS_MAX),
    OPT_INT(timeouts, shutdown_ms, 10000, MS_MIN, MS_MAX),

    OPT_STR(tls, cert_file, "", 0),
    OPT_STR(tls, key_file, "", 0),
    OPT_STR(tls, dev_cert_dir, "certs/dev", 1),
    OPT_BOOL(tls, session_tickets, true),
    /* RFC 8446 §4.6.1 caps ticket lifetime at 7 days. */
    OPT_INT(tls, ticket_lifetime_s, 86400, 60, 604800),
    OPT_INT(tls, hsts_max_age_s, 63072000, 0, 157680000),

    OPT_STR(db, path, "data/portcullis.db", 1),
    OPT_STR(db, url, "", 0),
    OPT_INT(db, busy_timeout_ms, 5000, 0, 600000),

    OPT_INT(pool, threads, 0, 0, 256),
    OPT_INT(pool, queue, 256, 1, 1000000),

    OPT_CHOICE(auth, jwt_alg, "ES256", jwt_algs),
    OPT_STR(auth, jwt_key_file, "data/jwt-es256.pem", 1),
    OPT_STR(auth, jwt_secret, "", 0),
    OPT_STR(auth, issuer, "portcullis", 1),
    OPT_STR(auth, audience, "portcullis-api", 1),
    OPT_INT(auth, access_ttl_s, 900, 10, 86400),
    OPT_INT(auth, refresh_ttl_s, 1209600, 300, 31536000),
    OPT_INT(auth, leeway_s, 30, 0, 300),
    OPT_INT(auth, argon2_memory_kib, 19456, 8192, 4194304),
    OPT_INT(auth, argon2_iterations, 2, 1, 10),
    OPT_INT(auth, argon2_parallelism, 1, 1, 16),
    OPT_BOOL(auth, refresh_cookie, false),
    OPT_INT(auth, user_cache_ms, 1000, 0, 60000),
    OPT_STR(auth, totp_key_file, "data/totp.key", 1),
    OPT_STR(auth, master_key_file, "data/master.key", 1),
    OPT_INT(auth, purge_interval_s, 3600, 1, 86400),

    OPT_INT(rate_limits, login_ip_per_minute, 20, 1, 100000),
    OPT_INT(rate_limits, login_user_per_minute, 10, 1, 100000),
    OPT_INT(rate_limits, register_ip_per_minute, 10, 1, 100000),
    OPT_INT(rate_limits, lockout_threshold, 5, 1, 1000),
    OPT_INT(rate_limits, lockout_base_s, 30, 1, 86400),
    OPT_INT(rate_limits, lockout_max_s, 3600, 1, 604800),

    OPT_INT(demo, wire_capture_bytes, 2048, 0, 65536),
    OPT_INT(demo, wire_capture_connections, 16, 0, 1024),

    OPT_LIST(http, cors_origins),
    OPT_INT(http, cors_max_age_s, 600, 0, 86400),

    OPT_STR(metrics, address, "127.0.0.1", 1),
    OPT_INT(metrics, port, -1, -1, 65535),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void *field_ptr(struct config *cfg, const struct cfg_opt *o)
{
    return (char *)cfg + o->offset;
}

static const void *field_cptr(const struct config *cfg, const struct cfg_opt *o)
{
    return (const char *)cfg + o->offset;
}

/* Copies a string whose length was checked; zero-fills the rest so no old
 * bytes (a previous secret) linger after the terminator. */
static void set_string(struct config *cfg, const struct cfg_opt *o, const char *s, size_t n)
{
    char *dst = field_ptr(cfg, o);
    memset(dst, 0, o->size);
    memcpy(dst, s, n);
}

static void set_number(struct config *cfg, const struct cfg_opt *o, long long v)
{
    void *dst = field_ptr(cfg, o);
    switch (o->type) {
    case CFG_INT: *(int *)dst = (int)v; break;
    case CFG_SIZE: *(size_t *)dst = (size_t)v; break;
    case CFG_BOOL: *(bool *)dst = v != 0; break;
    case CFG_LOGLEVEL: *(enum log_level *)dst = (enum log_level)v; break;
    default: break;
    }
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTS; i++) {
        const struct cfg_opt *o = &opts[i];
        if (o->type == CFG_STRING || o->type == CFG_CHOICE)
            set_string(cfg, o, o->sdef, strlen(o->sdef));
        else
            set_number(cfg, o, o->def);
    }
}

/* ---- error text ---- */

static void fmt_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Key names come from the file: keep them printable and short in messages. */
static void clean_name(const char *in, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; in[i] != '\0' && j + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        out[j++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    out[j] = '\0';
}

/* Context of one load: where the text came from, for messages. */
struct load_ctx {
    const char *file; /* NULL when loading from a string */
    char *err;
    size_t errlen;
};

static void load_err(const struct load_ctx *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void load_err(const struct load_ctx *lc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lc->file != NULL)
        fmt_err(lc->err, lc->errlen, "config: %s: %s", lc->file, msg);
    else
        fmt_err(lc->err, lc->errlen, "config: %s", msg);
}

/* ---- checks shared by loading and config_validate ---- */

static int choice_index(const char *const *list, const char *s)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return -1;
}

/* Lists the allowed values; the value given is not echoed, as it could be a
 * secret pasted into the wrong key. */
static void choice_err(const struct cfg_opt *o, char *msg, size_t msglen)
{
    const char *const *list = o->type == CFG_LOGLEVEL ? log_level_names : o->choices;
    size_t n = (size_t)snprintf(msg, msglen, "'%s.%s' must be one of", o->section, o->key);

    for (int i = 0; list[i] != NULL && n < msglen; i++)
        n += (size_t)snprintf(msg + n, msglen - n, "%s \"%s\"", i ? "," : "", list[i]);
}

static int check_string(const struct cfg_opt *o, const char *s, size_t n, char *msg, size_t msglen)
{
    if (n >= o->size) {
        snprintf(msg, msglen, "'%s.%s' is too long (at most %zu bytes)", o->section, o->key,
                 o->size - 1);
        return -1;
    }
    if (memchr(s, '\0', n) != NULL) {
        snprintf(msg, msglen, "'%s.%s' must not contain NUL", o->section, o->key);
        return -1;
    }
    if ((long long)n < o->min) {
        snprintf(msg, msglen, "'%s.%s' must not be empty", o->section, o->key);
        return -1;
    }
    if (o->type == CFG_CHOICE && choice_index(o->choices, s) < 0) {
        choice_err(o, msg, msglen);
        return -1;
    }
    return 0;
}

static int check_range(const struct cfg_opt *o, long long v, char *msg, size_t msglen)
{
    if (v < o->min || v > o->max) {
        snprintf(msg, msglen, "'%s.%s' must be between %lld and %lld", o->section, o->key, o->min,
                 o->max);
        return -1;
    }
    return 0;
}

/* ---- loading ---- */

static const struct cfg_opt *find_opt(const char *section, const char *key)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].section, section) == 0 && (key == NULL || strcmp(opts[i].key, key) == 0))
            return &opts[i];
    return NULL;
}

/* One list item: a non-empty string without NUL that fits. 0 or -1. */
static int check_item(const struct cfg_opt *o, const char *s, size_t n, char *msg, size_t msglen)
{
    if (n == 0 || n >= CONFIG_ITEM_MAX || memchr(s, '\0', n) != NULL) {
        snprintf(msg, msglen, "'%s.%s' items must be 1 to %d bytes without NUL", o->section, o->key,
                 CONFIG_ITEM_MAX - 1);
        return -1;
    }
    return 0;
}

static int apply_list(struct config_list *l, const struct cfg_opt *o, json_t *v, char *msg,
                      size_t msglen)
{
    size_t i;
    json_t *it;
    if (!json_is_array(v) || json_array_size(v) > CONFIG_LIST_MAX) {
        snprintf(msg, msglen, "'%s.%s' must be an array of at most %d strings", o->section, o->key,
                 CONFIG_LIST_MAX);
        return -1;
    }
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it) ||
            check_item(o, json_string_value(it), json_string_length(it), msg, msglen) < 0) {
            if (!json_is_string(it))
                snprintf(msg, msglen, "'%s.%s' must be an array of strings", o->section, o->key);
            return -1;
        }
    }
    memset(l, 0, sizeof *l);
    json_array_foreach(v, i, it) memcpy(l->item[i], json_string_value(it), json_string_length(it));
    l->n = (int)json_array_size(v);
    return 0;
}

/* Applies one JSON value to its option; msg receives the reason on error. */
static int apply_value(struct config *cfg, const struct cfg_opt *o, json_t *v, char *msg,
                       size_t msglen)
{
    switch (o->type) {
    case CFG_INT:
    case CFG_SIZE:
        if (!json_is_integer(v)) {
            snprintf(msg, msglen, "'%s.%s' must be an integer", o->section, o->key);
            return -1;
        }
        if (check_range(o, (long long)json_integer_value(v), msg, msglen) < 0)
            return -1;
        set_number(cfg, o, (long long)json_integer_value(v));
        return 0;
    case CFG_BOOL:
        if (!json_is_boolean(v)) {
            snprintf(msg, msglen, "'%s.%s' must be true or false", o->section, o->key);
            return -1;
        }
        set_number(cfg, o, json_is_true(v));
        return 0;
    case CFG_LOGLEVEL: {
        int lvl = json_is_string(v) ? choice_index(log_level_names, json_string_value(v)) : -1;
        if (lvl < 0) {
            choice_err(o, msg, msglen);
            return -1;
        }
        set_number(cfg, o, lvl);
        return 0;
    }
    case CFG_STRING:
    case CFG_CHOICE:
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "'%s.%s' must be a string", o->section, o->key);
            return -1;
        }
        if (check_string(o, json_string_value(v), json_string_length(v), msg, msglen) < 0)
            return -1;
        set_string(cfg, o, json_string_value(v), json_string_length(v));
        return 0;
    case CFG_LIST: return apply_list(field_ptr(cfg, o), o, v, msg, msglen);
    }
    return -1;
}

static int apply_section(struct config *cfg, const char *section, json_t *obj,
                         const struct load_ctx *lc)
{
    const char *key;
    json_t *v;
    char name[64], kname[64], msg[256];

    clean_name(section, name, sizeof(name));
    if (!json_is_object(obj)) {
        load_err(lc, "'%s' must be an object", name);
        return -1;
    }
    json_object_foreach(obj, key, v)
    {
        const struct cfg_opt *o = find_opt(section, key);
        if (o == NULL) {
            clean_name(key, kname, sizeof(kname));
            load_err(lc, "unknown key '%s.%s'", name, kname);
            return -1;
        }
        if (apply_value(cfg, o, v, msg, sizeof(msg)) < 0) {
            load_err(lc, "%s", msg);
            return -1;
        }
    }
    return 0;
}

/* The environment wins over the file. An empty variable counts as unset. */
static int apply_env_one(struct config *cfg, const char *env, const char *section, const char *key,
                         char *err, size_t errlen)
{
    const char *s = getenv(env);
    const struct cfg_opt *o = find_opt(section, key);
    size_t n;

    if (s == NULL || *s == '\0')
        return 0;
    n = strlen(s);
    if (n >= o->size) {
        fmt_err(err, errlen, "config: %s is too long (at most %zu bytes)", env, o->size - 1);
        return -1;
    }
    set_string(cfg, o, s, n);
    return 0;
}

static int apply_env(struct config *cfg, char *err, size_t errlen)
{
    if (apply_env_one(cfg, ENV_JWT_SECRET, "auth", "jwt_secret", err, errlen) < 0)
        return -1;
    return apply_env_one(cfg, ENV_DB_URL, "db", "url", err, errlen);
}

const char *config_db_target(const struct db_config *c) { return c->url[0] ? c->url : c->path; }

const char *config_db_name(const struct db_config *c)
{
    return c->url[0] ? "PostgreSQL (db.url)" : c->path;
}

void config_apply_env(struct config *cfg)
{
    /* A too-long value is left unapplied; config_validate reports it. */
    (void)apply_env(cfg, NULL, 0);
}

/* jansson appends "near '<token>'" to syntax errors, and the token can be
 * part of a secret: keep only the reason. */
static void syntax_err(const struct load_ctx *lc, json_error_t *je)
{
    char *near = strstr(je->text, " near '");
    if (near != NULL)
        *near = '\0';
    if (je->line < 0)
        fmt_err(lc->err, lc->errlen, "config: %s", je->text);
    else
        load_err(lc, "line %d, column %d: %s", je->line, je->column, je->text);
}

/* Applies root onto a copy so a failed load leaves *cfg untouched. */
static int load_json(struct config *cfg, json_t *root, const struct load_ctx *lc)
{
    struct config tmp = *cfg;
    const char *section;
    json_t *obj;
    char name[64];
    int rc = -1;

    if (!json_is_object(root)) {
        load_err(lc, "top level must be an object");
        goto done;
    }
    json_object_foreach(root, section, obj)
    {
        if (strcmp(section, "gateway") == 0) {
            char msg[256];
            if (config_gateway_apply(&tmp.gateway, obj, msg, sizeof msg) != 0) {
                load_err(lc, "%s", msg);
                goto done;
            }
            continue;
        }
        if (find_opt(section, NULL) == NULL) {
            clean_name(section, name, sizeof(name));
            load_err(lc, "unknown section '%s'", name);
            goto done;
        }
        if (apply_section(&tmp, section, obj, lc) < 0)
            goto done;
    }
    if (apply_env(&tmp, lc->err, lc->errlen) < 0)
        goto done;
    *cfg = tmp;
    rc = 0;
done:
    explicit_bzero(&tmp, sizeof(tmp));
    return rc;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    struct load_ctx lc = { path, err, errlen };
    json_error_t je;
    json_t *root = json_load_file(path, LOAD_FLAGS, &je);
    int rc;

    if (root == NULL) {
        syntax_err(&lc, &je);
        return -1;
    }
    rc = load_json(cfg, root, &lc);
    json_decref(root);
    return rc;
}

int config_load_string(struct config *cfg, const char *json, char *err, size_t errlen)
{
    struct load_ctx lc = { NULL, err, errlen };
    json_error_t je;
    json_t *root = json_loads(json, LOAD_FLAGS, &je);
    int rc;

    if (root == NULL) {
        syntax_err(&lc, &je);
        return -1;
    }
    rc = load_json(cfg, root, &lc);
    json_decref(root);
    return rc;
}

/* ---- validation ---- */

/* Re-checks every field against the table, for configs built in code. */
static int validate_fields(const struct config *cfg, char *msg, size_t msglen)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const struct cfg_opt *o = &opts[i];
        const void *p = field_cptr(cfg, o);
        long long v = 0;

        switch (o->type) {
        case CFG_STRING:
        case CFG_CHOICE: {
            size_t n = strnlen(p, o->size);
            if (check_string(o, p, n, msg, msglen) < 0)
                return -1;
            continue;
        }
        case CFG_BOOL: continue;
        case CFG_LIST: {
            const struct config_list *l = p;
            if (l->n < 0 || l->n > CONFIG_LIST_MAX) {
                snprintf(msg, msglen, "'%s.%s' holds at most %d items", o->section, o->key,
                         CONFIG_LIST_MAX);
                return -1;
            }
            for (int k = 0; k < l->n; k++)
                if (check_item(o, l->item[k], strnlen(l->item[k], CONFIG_ITEM_MAX), msg, msglen) <
                    0)
                    return -1;
            continue;
        }
        case CFG_INT: v = *(const int *)p; break;
        case CFG_SIZE:
            v = *(const size_t *)p > (size_t)LLONG_MAX ? LLONG_MAX : (long long)*(const size_t *)p;
            break;
        case CFG_LOGLEVEL: v = (long long)*(const enum log_level *)p; break;
        }
        if (check_range(o, v, msg, msglen) < 0)
            return -1;
    }
    return 0;
}

static int cidr_valid(const char *s)
{
    struct proxy_cidr c;
    return proxy_cidr_parse(s, &c) == 0;
}

/* Every item of a list option passes valid(); msg names the first that
 * does not, with what is expected. */
static int validate_list(const struct config_list *l, const char *key, int (*valid)(const char *),
                         const char *expected, char *msg, size_t msglen)
{
    for (int i = 0; i < l->n; i++)
        if (!valid(l->item[i])) {
            snprintf(msg, msglen, "'%s' item '%.64s' is not %s", key, l->item[i], expected);
            return -1;
        }
    return 0;
}

static int validate_network(const struct config *cfg, char *msg, size_t msglen)
{
    if (validate_list(&cfg->server.trusted_proxies, "server.trusted_proxies", cidr_valid,
                      "an address or a network (\"10.0.0.0/8\", \"::1\"; host bits must be zero)",
                      msg, msglen) != 0 ||
        validate_list(&cfg->http.cors_origins, "http.cors_origins", cors_origin_valid,
                      "an origin (\"https://app.example.com\", lower case, no path)", msg,
                      msglen) != 0)
        return -1;
    int https_lo = net_addr_loopback(cfg->server.https_address);
    int http_lo = net_addr_loopback(cfg->server.http_address);

    if (https_lo < 0 || http_lo < 0) {
        snprintf(msg, msglen, "'server.%s' must be an IPv4 or IPv6 address literal",
                 https_lo < 0 ? "https_address" : "http_address");
        return -1;
    }
    if (!cfg->server.demo)
        return 0;
    if (cfg->server.http_port == -1) {
        snprintf(msg, msglen,
                 "'server.demo' needs the HTTP listener "
                 "('server.http_port' is -1)");
        return -1;
    }
    if (!cfg->server.demo_allow_non_loopback && (!https_lo || !http_lo)) {
        snprintf(msg, msglen,
                 "'server.demo' on a non-loopback address needs "
                 "'server.demo_allow_non_loopback': the demo serves the API "
                 "over plain HTTP");
        return -1;
    }
    return 0;
}

static int validate_cross(const struct config *cfg, char *msg, size_t msglen)
{
    if ((cfg->tls.cert_file[0] == '\0') != (cfg->tls.key_file[0] == '\0')) {
        snprintf(msg, msglen, "'tls.cert_file' and 'tls.key_file' must be set together");
        return -1;
    }
    if (strcmp(cfg->auth.jwt_alg, "HS256") == 0 && strlen(cfg->auth.jwt_secret) < 32) {
        snprintf(msg, msglen,
                 "'auth.jwt_alg' HS256 needs 'auth.jwt_secret' (or %s) "
                 "of at least 32 bytes",
                 ENV_JWT_SECRET);
        return -1;
    }
    if (cfg->limits.max_uri_bytes > cfg->limits.max_header_bytes) {
        snprintf(msg, msglen,
                 "'limits.max_uri_bytes' must not exceed "
                 "'limits.max_header_bytes'");
        return -1;
    }
    if (cfg->rate_limits.lockout_base_s > cfg->rate_limits.lockout_max_s) {
        snprintf(msg, msglen,
                 "'rate_limits.lockout_base_s' must not exceed "
                 "'rate_limits.lockout_max_s'");
        return -1;
    }
    if (cfg->db.url[0] && strncmp(cfg->db.url, "postgresql://", 13) != 0 &&
        strncmp(cfg->db.url, "postgres://", 11) != 0) {
        /* The value is not echoed: it may hold a password. */
        snprintf(msg, msglen,
                 "'db.url' (or %s) must be a PostgreSQL URL, postgresql://USER@HOST/DB; "
                 "for SQLite set 'db.path' instead",
                 ENV_DB_URL);
        return -1;
    }
    if (cfg->auth.access_ttl_s >= cfg->auth.refresh_ttl_s) {
        snprintf(msg, msglen, "'auth.access_ttl_s' must be less than 'auth.refresh_ttl_s'");
        return -1;
    }
    /* One file, one key: the master key never doubles as another. */
    if (strcmp(cfg->auth.master_key_file, cfg->auth.totp_key_file) == 0 ||
        strcmp(cfg->auth.master_key_file, cfg->auth.jwt_key_file) == 0) {
        snprintf(msg, msglen,
                 "'auth.master_key_file' must differ from 'auth.totp_key_file' and "
                 "'auth.jwt_key_file'");
        return -1;
    }
    if (validate_network(cfg, msg, msglen) != 0)
        return -1;
    return config_gateway_validate(&cfg->gateway, msg, msglen);
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
    char msg[256];
    const char *env = getenv(ENV_JWT_SECRET);
    const char *url = getenv(ENV_DB_URL);

    if (env != NULL && strlen(env) >= sizeof(cfg->auth.jwt_secret)) {
        fmt_err(err, errlen, "config: %s is too long (at most %zu bytes)", ENV_JWT_SECRET,
                sizeof(cfg->auth.jwt_secret) - 1);
        return -1;
    }
    if (url != NULL && strlen(url) >= sizeof(cfg->db.url)) {
        fmt_err(err, errlen, "config: %s is too long (at most %zu bytes)", ENV_DB_URL,
                sizeof(cfg->db.url) - 1);
        return -1;
    }
    if (validate_fields(cfg, msg, sizeof(msg)) < 0 || validate_cross(cfg, msg, sizeof(msg)) < 0) {
        fmt_err(err, errlen, "config: %s", msg);
        return -1;
    }
    return 0;
}
