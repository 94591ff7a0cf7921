/* config.h: every run-time option of Portcullis, loaded from a JSON file
 * (jansson) over compiled-in defaults. config.example.json documents each key.
 *
 * The loader is driven by one table of {section, key, type, offset, min, max}
 * (Kore's config_directives[], Redis' createIntConfig): unknown keys, wrong
 * types and out-of-range values are errors at start, naming the key, with
 * jansson's line and column for syntax errors. */
#ifndef PC_CONFIG_H
#define PC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "server/log.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_STR_MAX  256
#define CONFIG_LIST_MAX 32  /* items in a list option */
#define CONFIG_ITEM_MAX 128 /* bytes of one item, with its NUL */

/* A JSON array of strings (CIDRs, origins). */
struct config_list {
    int n;
    char item[CONFIG_LIST_MAX][CONFIG_ITEM_MAX];
};

/* One struct per section of the file, so each part of the program receives
 * only the settings it uses (auth/ gets struct auth_config and the sections
 * it reads, never the whole struct config). Field names are the keys. */

struct server_config {
    char https_address[CONFIG_STR_MAX]; /* "127.0.0.1"; IPv4 or IPv6 literal */
    int https_port;                     /* 8443; 0 = kernel picks (tests) */
    char http_address[CONFIG_STR_MAX];  /* "127.0.0.1" */
    int http_port;                      /* 8080; 0 = kernel picks; -1 = no HTTP listener */
    int workers;                        /* 0 = number of CPUs */
    int max_connections;                /* total, all workers; over it new ones are closed */
    char user[CONFIG_STR_MAX];          /* drop to this user after bind when root; "" = stay */
    char www_root[CONFIG_PATH_MAX];     /* static files; "" = none */
    int static_cache_ms;                /* 1000: small files served from memory this long
                                         * after their last check; 0 = always from disk */
    enum log_level log_level;           /* "debug" | "info" | "warn" | "error" */
    char log_format[8];                 /* "text" | "json" (one object per line) */
    bool demo;                          /* HTTP listener serves the API too */
    bool demo_allow_non_loopback;       /* demo on a non-loopback address only if forced */
    struct config_list trusted_proxies; /* CIDRs whose X-Forwarded-For is believed */
    bool proxy_protocol;                /* HTTPS connections start with a PROXY v2 header */
};

struct limits_config {
    size_t max_header_bytes;         /* 8192: request line + headers */
    size_t max_headers;              /* 64 */
    size_t max_uri_bytes;            /* 2048 */
    size_t max_body_bytes;           /* 65536 */
    int max_requests_per_connection; /* 1000; 0 = unlimited */
};

struct timeouts_config { /* milliseconds */
    int handshake_ms;    /* 10000 */
    int header_ms;       /* 10000: whole head must arrive */
    int body_ms;         /* 30000 */
    int keepalive_ms;    /* 30000: idle between requests */
    int write_ms;        /* 30000: client must drain our response */
    int shutdown_ms;     /* 10000: SIGTERM grace for in-flight requests */
};

struct tls_config {
    char cert_file[CONFIG_PATH_MAX];    /* PEM chain; "" = dev certificate */
    char key_file[CONFIG_PATH_MAX];     /* PEM key */
    char dev_cert_dir[CONFIG_PATH_MAX]; /* "certs/dev" */
    bool session_tickets;               /* true */
    int ticket_lifetime_s;              /* 86400; keys rotate at this period */
    int hsts_max_age_s;                 /* 63072000 */
};

/* The store: the SQLite file at `path`, unless `url` (a postgresql:// URL,
 * libpq's syntax, so sslmode and the rest apply; PORTCULLIS_DB_URL in the
 * environment overrides it, keeping the password out of files) selects
 * PostgreSQL. Never log `url`: use config_db_name(). */
struct db_config {
    char path[CONFIG_PATH_MAX]; /* "data/portcullis.db" */
    char url[CONFIG_PATH_MAX];  /* "" = SQLite at path */
    int busy_timeout_ms;        /* 5000; PostgreSQL: lock_timeout */
};

struct pool_config {
    int threads; /* 0 = number of CPUs */
    int queue;   /* 256: jobs waiting; full -> 503 */
};

struct auth_config {
    char jwt_alg[16];                    /* "ES256" | "HS256" */
    char jwt_key_file[CONFIG_PATH_MAX];  /* ES256 key PEM imported into the key set once */
    char jwt_secret[CONFIG_STR_MAX];     /* HS256; env PORTCULLIS_JWT_SECRET overrides; >= 32 */
    char issuer[CONFIG_STR_MAX];         /* "portcullis" */
    char audience[CONFIG_STR_MAX];       /* "portcullis-api" */
    int access_ttl_s;                    /* 900 */
    int refresh_ttl_s;                   /* 1209600 (14 days) */
    int leeway_s;                        /* 30 */
    int argon2_memory_kib;               /* 19456 */
    int argon2_iterations;               /* 2 */
    int argon2_parallelism;              /* 1 */
    int user_cache_ms;                   /* 1000: account state cached for token checks;
                                         * changes by another process show within this */
    bool refresh_cookie;                 /* also set the refresh token as a cookie */
    char totp_key_file[CONFIG_PATH_MAX]; /* AES-256 key sealing TOTP secrets; created 0600 */
    int purge_interval_s; /* 3600: dead refresh tokens, sessions, one-time tokens purged */
    char master_key_file[CONFIG_PATH_MAX]; /* AES-256 key sealing the key set; created 0600 */
};

struct rate_limits_config {
    int login_ip_per_minute;    /* 20 (bucket refill per minute, burst = same) */
    int login_user_per_minute;  /* 10 */
    int register_ip_per_minute; /* 10 */
    int lockout_threshold;      /* 5 failures */
    int lockout_base_s;         /* 30, doubling each further failure */
    int lockout_max_s;          /* 3600 */
};

struct demo_config {
    int wire_capture_bytes;       /* 2048 first bytes per connection */
    int wire_capture_connections; /* 16 recent connections per listener */
};

struct http_config {
    struct config_list cors_origins; /* browser origins allowed to call the API */
    int cors_max_age_s;              /* 600: how long a preflight answer is cached */
};

struct metrics_config {
    char address[CONFIG_STR_MAX]; /* "127.0.0.1": never exposed with the API */
    int port;                     /* -1 = off (default); 0 = kernel picks */
};

/* gateway.routes: path prefixes forwarded to upstream HTTP services
 * (server/gateway.c). Checked at load (shape, types, ranges) and by
 * config_validate (prefixes, upstream addresses, which must resolve). */
#define GATEWAY_ROUTES_MAX 32

struct gateway_route_config {
    char prefix[CONFIG_ITEM_MAX];   /* "/notes/": starts and ends with '/' */
    char upstream[CONFIG_ITEM_MAX]; /* "http://host:port", nothing else */
    char access[CONFIG_ITEM_MAX];   /* "public" | "token" | "role:user" | "role:admin" */
    bool strip_prefix;              /* false: "/notes/x" -> "/x" when true */
    bool forward_authorization;     /* false: the client's Authorization is not forwarded */
    int timeout_ms;                 /* 30000: connect + answer head, and between reads */
    int max_connections;            /* 64: to this upstream, per event loop */
};

struct gateway_config {
    int n;
    struct gateway_route_config routes[GATEWAY_ROUTES_MAX];
};

/* The whole file: filled by the loader, owned by the composition root
 * (server/main.c), read-only once the server starts. */
struct config {
    struct server_config server;
    struct limits_config limits;
    struct timeouts_config timeouts;
    struct tls_config tls;
    struct db_config db;
    struct pool_config pool;
    struct auth_config auth;
    struct rate_limits_config rate_limits;
    struct demo_config demo;
    struct metrics_config metrics;
    struct http_config http;
    struct gateway_config gateway;
};

/* Fills *cfg with the compiled-in defaults. Cannot fail. */
void config_defaults(struct config *cfg);

/* Loads `path` over the current contents of *cfg (call config_defaults
 * first), then applies environment overrides (PORTCULLIS_JWT_SECRET,
 * PORTCULLIS_DB_URL).
 * Returns 0, or -1 with a one-line message in err naming the file, the key
 * (as "section.key") and, for syntax errors, line and column. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same, from a string (for tests and --check-config of stdin). */
int config_load_string(struct config *cfg, const char *json, char *err, size_t errlen);

/* Applies environment overrides only (used when no file is given). */
void config_apply_env(struct config *cfg);

/* What db_open() takes for this configuration: db.url when set, else
 * db.path. Points into *c. */
const char *config_db_target(const struct db_config *c);

/* The store as it may be logged: the SQLite path, or "PostgreSQL (db.url)"
 * without the URL (it may hold a password). Points into *c or is static. */
const char *config_db_name(const struct db_config *c);

/* Cross-field validation after loading (e.g. HS256 needs a 32-byte secret,
 * cert_file and key_file both set or both empty, demo on a non-loopback
 * address without demo_allow_non_loopback). Returns 0 or -1 with err. */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* "http://host:port" split into host (brackets of an IPv6 literal removed)
 * and port. 0, or -1 with a reason in msg (https:// included: upstreams
 * are plain HTTP on a network the operator trusts). Does not resolve. */
int config_upstream_split(const char *url, char *host, size_t hostlen, int *port, char *msg,
                          size_t msglen);

#endif
