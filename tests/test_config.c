/* test_config.c: defaults, loading, every error class, environment and
 * cross-field validation of server/config.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

#define SECRET "S3cr3t-Value-Do-Not-Print-0123456789"
#define ENV    "PORTCULLIS_JWT_SECRET"

static char err[512];

/* Every field of struct config: a field missing here is a field the
 * "example equals defaults" test cannot see. */
/* clang-format off */
#define CONFIG_FIELDS(X) \
    X(server.https_address) X(server.https_port) X(server.http_address) \
    X(server.http_port) X(server.workers) X(server.max_connections) \
    X(server.user) X(server.www_root) X(server.static_cache_ms) \
    X(server.log_level) X(server.log_format) X(server.demo) X(server.demo_allow_non_loopback) X(server.trusted_proxies) X(server.proxy_protocol) \
    X(limits.max_header_bytes) X(limits.max_headers) \
    X(limits.max_uri_bytes) X(limits.max_body_bytes) \
    X(limits.max_requests_per_connection) X(timeouts.handshake_ms) \
    X(timeouts.header_ms) X(timeouts.body_ms) X(timeouts.keepalive_ms) \
    X(timeouts.write_ms) X(timeouts.shutdown_ms) X(tls.cert_file) \
    X(tls.key_file) X(tls.dev_cert_dir) X(tls.session_tickets) \
    X(tls.ticket_lifetime_s) X(tls.hsts_max_age_s) X(db.path) \
    X(db.busy_timeout_ms) X(pool.threads) X(pool.queue) X(auth.jwt_alg) \
    X(auth.jwt_key_file) X(auth.jwt_secret) X(auth.issuer) \
    X(auth.audience) X(auth.access_ttl_s) X(auth.refresh_ttl_s) \
    X(auth.leeway_s) X(auth.argon2_memory_kib) X(auth.argon2_iterations) \
    X(auth.argon2_parallelism) X(auth.refresh_cookie) \
    X(auth.user_cache_ms) X(auth.totp_key_file) X(auth.purge_interval_s) X(auth.master_key_file) X(rate_limits.login_ip_per_minute) \
    X(rate_limits.login_user_per_minute) \
    X(rate_limits.register_ip_per_minute) X(rate_limits.lockout_threshold) \
    X(rate_limits.lockout_base_s) X(rate_limits.lockout_max_s) \
    X(demo.wire_capture_bytes) X(demo.wire_capture_connections) \
    X(metrics.address) X(metrics.port) X(http.cors_origins) X(http.cors_max_age_s) \
    X(gateway)
/* clang-format on */

/* Byte comparison per field (padding ignored); returns the first differing
 * field name or NULL. */
static const char *config_diff(const struct config *a, const struct config *b)
{
#define CMP(f)                                   \
    if (memcmp(&a->f, &b->f, sizeof(a->f)) != 0) \
        return #f;
    CONFIG_FIELDS(CMP)
#undef CMP
    return NULL;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
    unsetenv(ENV);
    err[0] = '\0';
}

static void teardown(void) { unsetenv(ENV); }

START_TEST(test_defaults)
{
    struct config c;
    config_defaults(&c);
    ck_assert_str_eq(c.server.https_address, "127.0.0.1");
    ck_assert_int_eq(c.server.https_port, 8443);
    ck_assert_str_eq(c.server.http_address, "127.0.0.1");
    ck_assert_int_eq(c.server.http_port, 8080);
    ck_assert_int_eq(c.server.workers, 0);
    ck_assert_str_eq(c.server.user, "");
    ck_assert_str_eq(c.server.www_root, "www");
    ck_assert_int_eq(c.server.log_level, LOG_INFO);
    ck_assert(!c.server.demo && !c.server.demo_allow_non_loopback);
    ck_assert_uint_eq(c.limits.max_header_bytes, 8192);
    ck_assert_uint_eq(c.limits.max_headers, 64);
    ck_assert_uint_eq(c.limits.max_uri_bytes, 2048);
    ck_assert_uint_eq(c.limits.max_body_bytes, 65536);
    ck_assert_int_eq(c.limits.max_requests_per_connection, 1000);
    ck_assert_int_eq(c.timeouts.handshake_ms, 10000);
    ck_assert_int_eq(c.timeouts.header_ms, 10000);
    ck_assert_int_eq(c.timeouts.body_ms, 30000);
    ck_assert_int_eq(c.timeouts.keepalive_ms, 30000);
    ck_assert_int_eq(c.timeouts.write_ms, 30000);
    ck_assert_int_eq(c.timeouts.shutdown_ms, 10000);
    ck_assert_str_eq(c.tls.cert_file, "");
    ck_assert_str_eq(c.tls.key_file, "");
    ck_assert_str_eq(c.tls.dev_cert_dir, "certs/dev");
    ck_assert(c.tls.session_tickets);
    ck_assert_int_eq(c.tls.ticket_lifetime_s, 86400);
    ck_assert_int_eq(c.tls.hsts_max_age_s, 63072000);
    ck_assert_str_eq(c.db.path, "data/portcullis.db");
    ck_assert_int_eq(c.db.busy_timeout_ms, 5000);
    ck_assert_int_eq(c.pool.threads, 0);
    ck_assert_int_eq(c.pool.queue, 256);
    ck_assert_str_eq(c.auth.jwt_alg, "ES256");
    ck_assert_str_eq(c.auth.jwt_key_file, "data/jwt-es256.pem");
    ck_assert_str_eq(c.auth.jwt_secret, "");
    ck_assert_str_eq(c.auth.issuer, "portcullis");
    ck_assert_str_eq(c.auth.audience, "portcullis-api");
    ck_assert_int_eq(c.auth.access_ttl_s, 900);
    ck_assert_int_eq(c.auth.refresh_ttl_s, 1209600);
    ck_assert_int_eq(c.auth.leeway_s, 30);
    ck_assert_int_eq(c.auth.argon2_memory_kib, 19456);
    ck_assert_int_eq(c.auth.argon2_iterations, 2);
    ck_assert_int_eq(c.auth.argon2_parallelism, 1);
    ck_assert(!c.auth.refresh_cookie);
    ck_assert_int_eq(c.rate_limits.login_ip_per_minute, 20);
    ck_assert_int_eq(c.rate_limits.login_user_per_minute, 10);
    ck_assert_int_eq(c.rate_limits.register_ip_per_minute, 10);
    ck_assert_int_eq(c.rate_limits.lockout_threshold, 5);
    ck_assert_int_eq(c.rate_limits.lockout_base_s, 30);
    ck_assert_int_eq(c.rate_limits.lockout_max_s, 3600);
    ck_assert_int_eq(c.demo.wire_capture_bytes, 2048);
    ck_assert_int_eq(c.demo.wire_capture_connections, 16);
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_log_level_names)
{
    ck_assert_str_eq(log_level_name(LOG_DEBUG), "debug");
    ck_assert_str_eq(log_level_name(LOG_INFO), "info");
    ck_assert_str_eq(log_level_name(LOG_WARN), "warn");
    ck_assert_str_eq(log_level_name(LOG_ERROR), "error");
    ck_assert_str_eq(log_level_name((enum log_level)42), "unknown");
}
END_TEST

/* config.example.json must list every key with its default: loaded over two
 * different poison patterns, any key it omits keeps poison and differs. */
START_TEST(test_example_equals_defaults)
{
    static const int poison[] = { 0x00, 0xA5 };
    struct config def, c;

    config_defaults(&def);
    for (size_t i = 0; i < 2; i++) {
        memset(&c, poison[i], sizeof(c));
        ck_assert_msg(
            config_load_file(&c, PC_SOURCE_DIR "/config.example.json", err, sizeof(err)) == 0, "%s",
            err);
        const char *f = config_diff(&def, &c);
        ck_assert_msg(f == NULL, "config.example.json differs from defaults at %s", f);
    }
}
END_TEST

START_TEST(test_overrides_each_type)
{
    struct config c;
    config_defaults(&c);
    ck_assert_msg(
        config_load_string(&c,
                           "{\"server\": {\"workers\": 4, \"http_port\": -1, \"demo\": true,"
                           "  \"log_level\": \"debug\", \"www_root\": \"\", \"user\": \"nobody\"},"
                           " \"limits\": {\"max_body_bytes\": 1073741824},"
                           " \"tls\": {\"session_tickets\": false, \"cert_file\": \"c.pem\"},"
                           " \"auth\": {\"jwt_alg\": \"HS256\", \"issuer\": \"me\"},"
                           " \"timeouts\": {}}",
                           err, sizeof(err)) == 0,
        "%s", err);
    ck_assert_int_eq(c.server.workers, 4);
    ck_assert_int_eq(c.server.http_port, -1);
    ck_assert(c.server.demo);
    ck_assert_int_eq(c.server.log_level, LOG_DEBUG);
    ck_assert_str_eq(c.server.www_root, "");
    ck_assert_str_eq(c.server.user, "nobody");
    ck_assert_uint_eq(c.limits.max_body_bytes, 1073741824u);
    ck_assert(!c.tls.session_tickets);
    ck_assert_str_eq(c.tls.cert_file, "c.pem");
    ck_assert_str_eq(c.auth.jwt_alg, "HS256");
    ck_assert_str_eq(c.auth.issuer, "me");
    /* untouched keys keep their defaults */
    ck_assert_int_eq(c.server.https_port, 8443);
    ck_assert_int_eq(c.timeouts.header_ms, 10000);
}
END_TEST

START_TEST(test_load_file)
{
    char dir[] = "/tmp/pc-config-XXXXXX", path[64];
    struct config c;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/c.json", dir);
    write_file(path, "{\"pool\": {\"threads\": 3, \"queue\": 9}}\n");
    config_defaults(&c);
    ck_assert_msg(config_load_file(&c, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(c.pool.threads, 3);
    ck_assert_int_eq(c.pool.queue, 9);

    /* Errors from a file name the file. */
    write_file(path, "{\"pool\": {\"threads\": 3,\n  \"bogus\": 1}}\n");
    ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "unknown key 'pool.bogus'"));

    write_file(path, "{\n  \"pool\": {\n    \"threads\": 3,\n  }\n}\n");
    ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_msg(strstr(err, "line 4, column") != NULL, "%s", err);

    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_syntax_line_column)
{
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_string(&c, "{\n  \"server\": {\n    \"workers\": 4 x\n  }\n}", err,
                                        sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "line 3, column") != NULL, "%s", err);
}
END_TEST

static const struct {
    const char *json;
    const char *want; /* substring of the message */
} bad[] = {
    { "{\"server\": {\"foo\": 1}}", "config: unknown key 'server.foo'" },
    { "{\"tls\": {\"port\": 1}}", "unknown key 'tls.port'" },
    { "{\"nosuch\": {}}", "unknown section 'nosuch'" },
    { "{\"Server\": {}}", "unknown section 'Server'" },
    { "{\"server\": {\"workers\": \"4\"}}", "config: 'server.workers' must be an integer" },
    { "{\"server\": {\"workers\": 1.5}}", "'server.workers' must be an integer" },
    { "{\"server\": {\"workers\": true}}", "'server.workers' must be an integer" },
    { "{\"limits\": {\"max_headers\": null}}", "'limits.max_headers' must be an integer" },
    { "{\"server\": {\"workers\": 257}}", "'server.workers' must be between 0 and 256" },
    { "{\"server\": {\"workers\": -1}}", "'server.workers' must be between 0 and 256" },
    { "{\"server\": {\"https_port\": 65536}}", "'server.https_port' must be between 0 and 65535" },
    { "{\"server\": {\"http_port\": -2}}", "'server.http_port' must be between -1 and 65535" },
    { "{\"server\": {\"max_connections\": 0}}",
      "'server.max_connections' must be between 1 and 1000000" },
    { "{\"server\": {\"workers\": 4294967300}}", "'server.workers' must be between" },
    { "{\"limits\": {\"max_body_bytes\": -1}}",
      "'limits.max_body_bytes' must be between 0 and 1073741824" },
    { "{\"limits\": {\"max_header_bytes\": 1023}}",
      "'limits.max_header_bytes' must be between 1024 and 1048576" },
    { "{\"timeouts\": {\"header_ms\": 99}}",
      "'timeouts.header_ms' must be between 100 and 3600000" },
    { "{\"auth\": {\"argon2_memory_kib\": 4096}}",
      "'auth.argon2_memory_kib' must be between 8192 and 4194304" },
    { "{\"auth\": {\"argon2_iterations\": 11}}",
      "'auth.argon2_iterations' must be between 1 and 10" },
    { "{\"auth\": {\"argon2_parallelism\": 0}}",
      "'auth.argon2_parallelism' must be between 1 and 16" },
    { "{\"server\": {\"workers\": 99999999999999999999}}", "line 1, column" },
    { "{\"server\": {\"demo\": 1}}", "'server.demo' must be true or false" },
    { "{\"server\": {\"demo\": \"true\"}}", "'server.demo' must be true or false" },
    { "{\"server\": {\"log_level\": \"verbose\"}}",
      "'server.log_level' must be one of \"debug\", \"info\", \"warn\", \"error\"" },
    { "{\"server\": {\"log_level\": \"INFO\"}}", "'server.log_level' must be one of" },
    { "{\"server\": {\"log_level\": 1}}", "'server.log_level' must be one of" },
    { "{\"auth\": {\"jwt_alg\": \"none\"}}", "'auth.jwt_alg' must be one of \"ES256\", \"HS256\"" },
    { "{\"auth\": {\"jwt_alg\": \"es256\"}}", "'auth.jwt_alg' must be one of" },
    { "{\"auth\": {\"jwt_alg\": \"RS256\"}}", "'auth.jwt_alg' must be one of" },
    { "{\"auth\": {\"jwt_alg\": \"\"}}", "'auth.jwt_alg' must not be empty" },
    { "{\"server\": {\"user\": null}}", "'server.user' must be a string" },
    { "{\"server\": {\"user\": 5}}", "'server.user' must be a string" },
    { "{\"db\": {\"path\": \"\"}}", "'db.path' must not be empty" },
    { "{\"server\": {\"user\": \"a\\u0000b\"}}", "line 1, column" },
    { "[]", "top level must be an object" },
    { "42", "top level must be an object" },
    { "{\"server\": []}", "'server' must be an object" },
    { "{\"server\": 1}", "'server' must be an object" },
    { "{\"server\": {\"workers\": 1, \"workers\": 2}}", "duplicate" },
    { "", "line 1, column" },
    { "{\"server\": {}", "line 1, column" },
};

START_TEST(test_errors)
{
    struct config c, before;
    config_defaults(&c);
    before = c;
    err[0] = '\0';
    ck_assert_msg(config_load_string(&c, bad[_i].json, err, sizeof(err)) == -1, "accepted: %s",
                  bad[_i].json);
    ck_assert_msg(strstr(err, bad[_i].want) != NULL, "input %s: got \"%s\", want \"%s\"",
                  bad[_i].json, err, bad[_i].want);
    ck_assert_msg(strncmp(err, "config: ", 8) == 0, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_ptr_null(config_diff(&before, &c));
}
END_TEST

START_TEST(test_string_too_long)
{
    char json[2200], longv[1100];
    struct config c;

    config_defaults(&c);
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    /* server.user holds 255 bytes, tls.cert_file 1023, auth.jwt_alg 15 */
    longv[256] = '\0';
    snprintf(json, sizeof(json), "{\"server\": {\"user\": \"%s\"}}", longv);
    ck_assert_int_eq(config_load_string(&c, json, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "'server.user' is too long (at most 255 bytes)") != NULL, "%s", err);
    ck_assert_str_eq(c.server.user, "");

    longv[255] = '\0';
    snprintf(json, sizeof(json), "{\"server\": {\"user\": \"%s\"}}", longv);
    ck_assert_msg(config_load_string(&c, json, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(strlen(c.server.user), 255);

    memset(longv, 'b', 1024);
    longv[1024] = '\0';
    snprintf(json, sizeof(json), "{\"tls\": {\"cert_file\": \"%s\"}}", longv);
    ck_assert_int_eq(config_load_string(&c, json, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "'tls.cert_file' is too long (at most 1023 bytes)"));

    ck_assert_int_eq(config_load_string(&c, "{\"auth\": {\"jwt_alg\": \"ES256ES256ES256ES256\"}}",
                                        err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "'auth.jwt_alg' is too long"));
}
END_TEST

START_TEST(test_env_override)
{
    struct config c;

    config_defaults(&c);
    ck_assert_int_eq(setenv(ENV, SECRET, 1), 0);
    ck_assert_int_eq(
        config_load_string(&c,
                           "{\"auth\": {\"jwt_secret\": \"from-the-file-from-the-file-0123456\"}}",
                           err, sizeof(err)),
        0);
    ck_assert_str_eq(c.auth.jwt_secret, SECRET);

    /* without a file */
    config_defaults(&c);
    config_apply_env(&c);
    ck_assert_str_eq(c.auth.jwt_secret, SECRET);

    /* empty variable = unset: the file's value stays */
    ck_assert_int_eq(setenv(ENV, "", 1), 0);
    config_defaults(&c);
    ck_assert_int_eq(
        config_load_string(&c, "{\"auth\": {\"jwt_secret\": \"file\"}}", err, sizeof(err)), 0);
    ck_assert_str_eq(c.auth.jwt_secret, "file");
}
END_TEST

/* PORTCULLIS_DB_URL selects PostgreSQL over the file's db.url; a db.url
 * that is not a PostgreSQL URL is refused without echoing it (it may hold
 * a password). */
START_TEST(test_db_url)
{
    struct config c;

    config_defaults(&c);
    ck_assert_str_eq(config_db_target(&c.db), "data/portcullis.db");
    ck_assert_str_eq(config_db_name(&c.db), "data/portcullis.db");
    ck_assert_int_eq(setenv("PORTCULLIS_DB_URL", "postgresql://u:pw@db.example/pc", 1), 0);
    ck_assert_int_eq(
        config_load_string(&c, "{\"db\": {\"url\": \"postgresql://other/x\"}}", err, sizeof err),
        0);
    ck_assert_int_eq(unsetenv("PORTCULLIS_DB_URL"), 0);
    ck_assert_str_eq(c.db.url, "postgresql://u:pw@db.example/pc");
    ck_assert_str_eq(config_db_target(&c.db), "postgresql://u:pw@db.example/pc");
    ck_assert_ptr_null(strstr(config_db_name(&c.db), "pw"));
    ck_assert_int_eq(config_validate(&c, err, sizeof err), 0);

    config_defaults(&c);
    ck_assert_int_eq(
        config_load_string(&c, "{\"db\": {\"url\": \"mysql://u:hunter2@h/d\"}}", err, sizeof err),
        0);
    ck_assert_int_eq(config_validate(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "db.url"));
    ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

START_TEST(test_env_too_long)
{
    char longv[400];
    struct config c;

    memset(longv, 'x', sizeof(longv) - 1);
    memcpy(longv, SECRET, strlen(SECRET));
    longv[sizeof(longv) - 1] = '\0';
    ck_assert_int_eq(setenv(ENV, longv, 1), 0);

    config_defaults(&c);
    ck_assert_int_eq(config_load_string(&c, "{}", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ENV));
    ck_assert_ptr_null(strstr(err, "S3cr3t"));

    config_defaults(&c);
    config_apply_env(&c);
    ck_assert_str_eq(c.auth.jwt_secret, ""); /* never truncated */
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ENV));
    ck_assert_ptr_null(strstr(err, "S3cr3t"));
}
END_TEST

/* Each case edits a default config; want NULL means it must validate. */
static void v_cert_only(struct config *c) { strcpy(c->tls.cert_file, "c.pem"); }
static void v_key_only(struct config *c) { strcpy(c->tls.key_file, "k.pem"); }
static void v_cert_key(struct config *c)
{
    v_cert_only(c);
    v_key_only(c);
}
static void v_hs_nosecret(struct config *c) { strcpy(c->auth.jwt_alg, "HS256"); }
static void v_hs_31(struct config *c)
{
    strcpy(c->auth.jwt_alg, "HS256");
    memset(c->auth.jwt_secret, 's', 31);
}
static void v_hs_32(struct config *c)
{
    v_hs_31(c);
    c->auth.jwt_secret[31] = 's';
}
static void v_es_secret(struct config *c) { strcpy(c->auth.jwt_secret, "short"); }
static void v_bad_alg(struct config *c) { strcpy(c->auth.jwt_alg, "none"); }
static void v_demo(struct config *c) { c->server.demo = true; }
static void v_demo_v6(struct config *c)
{
    c->server.demo = true;
    strcpy(c->server.https_address, "::1");
    strcpy(c->server.http_address, "127.0.0.2");
}
static void v_demo_public(struct config *c)
{
    c->server.demo = true;
    strcpy(c->server.http_address, "0.0.0.0");
}
static void v_demo_public6(struct config *c)
{
    c->server.demo = true;
    strcpy(c->server.https_address, "::");
}
static void v_demo_forced(struct config *c)
{
    v_demo_public(c);
    c->server.demo_allow_non_loopback = true;
}
static void v_demo_nohttp(struct config *c)
{
    c->server.demo = true;
    c->server.http_port = -1;
}
static void v_public(struct config *c) { strcpy(c->server.https_address, "0.0.0.0"); }
static void v_hostname(struct config *c) { strcpy(c->server.https_address, "localhost"); }
static void v_www_off(struct config *c) { c->server.www_root[0] = '\0'; }
static void v_uri_gt_head(struct config *c) { c->limits.max_uri_bytes = 16384; }
static void v_lockout(struct config *c) { c->rate_limits.lockout_base_s = 7200; }
static void v_ttls(struct config *c)
{
    c->auth.access_ttl_s = 3600;
    c->auth.refresh_ttl_s = 3600;
}
static void v_master_is_totp(struct config *c)
{
    strcpy(c->auth.master_key_file, c->auth.totp_key_file);
}
static void v_master_is_jwt(struct config *c)
{
    strcpy(c->auth.master_key_file, c->auth.jwt_key_file);
}
static void v_range(struct config *c) { c->server.workers = 1000; }
static void v_size_range(struct config *c) { c->limits.max_body_bytes = (size_t)-1; }
static void v_level(struct config *c) { c->server.log_level = (enum log_level)9; }
static void v_unterminated(struct config *c)
{
    memset(c->server.user, 'u', sizeof(c->server.user));
}

static const struct {
    void (*edit)(struct config *);
    const char *want;
} vcases[] = {
    { v_cert_only, "'tls.cert_file' and 'tls.key_file' must be set together" },
    { v_key_only, "'tls.cert_file' and 'tls.key_file' must be set together" },
    { v_cert_key, NULL },
    { v_hs_nosecret, "HS256 needs 'auth.jwt_secret'" },
    { v_hs_31, "at least 32 bytes" },
    { v_hs_32, NULL },
    { v_es_secret, NULL },
    { v_bad_alg, "'auth.jwt_alg' must be one of" },
    { v_demo, NULL },
    { v_demo_v6, NULL },
    { v_demo_public, "'server.demo_allow_non_loopback'" },
    { v_demo_public6, "'server.demo_allow_non_loopback'" },
    { v_demo_forced, NULL },
    { v_demo_nohttp, "'server.demo' needs the HTTP listener" },
    { v_public, NULL },
    { v_hostname, "'server.https_address' must be an IPv4 or IPv6 address literal" },
    { v_www_off, NULL },
    { v_uri_gt_head, "'limits.max_uri_bytes' must not exceed" },
    { v_lockout, "'rate_limits.lockout_base_s' must not exceed" },
    { v_ttls, "'auth.access_ttl_s' must be less than" },
    { v_master_is_totp, "'auth.master_key_file' must differ" },
    { v_master_is_jwt, "'auth.master_key_file' must differ" },
    { v_range, "'server.workers' must be between 0 and 256" },
    { v_size_range, "'limits.max_body_bytes' must be between" },
    { v_level, "'server.log_level' must be between" },
    { v_unterminated, "'server.user' is too long" },
};

/* gateway.routes: loading with defaults, then every refusal names the route
 * and says why. */
static int gw_check(const char *routes, char *why, size_t whylen)
{
    struct config c;
    char json[1024];
    config_defaults(&c);
    snprintf(json, sizeof json, "{\"gateway\": {\"routes\": [%s]}}", routes);
    if (config_load_string(&c, json, why, whylen) != 0)
        return -1;
    return config_validate(&c, why, whylen);
}

START_TEST(test_gateway_routes)
{
    struct config c;
    char why[512];
    config_defaults(&c);
    ck_assert_int_eq(c.gateway.n, 0);
    ck_assert_int_eq(config_load_string(&c,
                                        "{\"gateway\": {\"routes\": [{\"prefix\": \"/notes/\","
                                        " \"upstream\": \"http://127.0.0.1:3000\"}]}}",
                                        err, sizeof err),
                     0);
    ck_assert_int_eq(c.gateway.n, 1);
    ck_assert_str_eq(c.gateway.routes[0].access, "token");
    ck_assert_int_eq(c.gateway.routes[0].timeout_ms, 30000);
    ck_assert_int_eq(c.gateway.routes[0].strip_prefix, 0);
    ck_assert_int_eq(config_validate(&c, err, sizeof err), 0);

    static const struct {
        const char *routes, *needle;
    } refused[] = {
        { "{\"prefix\": \"/n/\", \"upstream\": \"https://127.0.0.1:3000\"}", "https://" },
        { "{\"prefix\": \"/n/\", \"upstream\": \"http://127.0.0.1\"}", "port" },
        { "{\"prefix\": \"/n/\", \"upstream\": \"http://127.0.0.1:3000/x\"}", "port" },
        { "{\"prefix\": \"/n/\", \"upstream\": \"ftp://127.0.0.1:3000\"}", "http://host:port" },
        { "{\"prefix\": \"/n/\", \"upstream\": \"http://no-such-host.invalid:80\"}", "resolve" },
        { "{\"prefix\": \"/n\", \"upstream\": \"http://127.0.0.1:1\"}", "end with '/'" },
        { "{\"prefix\": \"/\", \"upstream\": \"http://127.0.0.1:1\"}", "end with '/'" },
        { "{\"prefix\": \"/api/x/\", \"upstream\": \"http://127.0.0.1:1\"}", "/api/" },
        { "{\"prefix\": \"/a/../\", \"upstream\": \"http://127.0.0.1:1\"}", "segments" },
        { "{\"prefix\": \"/a/\", \"upstream\": \"http://[::1]:1\", \"access\": \"admin\"}",
          "access" },
        { "{\"prefix\": \"/a/\", \"upstream\": \"http://[::1]:1\", \"timeout_ms\": 5}",
          "timeout_ms" },
        { "{\"prefix\": \"/a/\", \"upstream\": \"http://[::1]:1\", \"colour\": 5}", "unknown key" },
        { "{\"prefix\": \"/a/\"}", "needs" },
        { "{\"prefix\": \"/a/\", \"upstream\": \"http://[::1]:1\"},"
          "{\"prefix\": \"/a/\", \"upstream\": \"http://[::1]:2\"}",
          "repeats" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        why[0] = '\0';
        ck_assert_msg(gw_check(refused[i].routes, why, sizeof why) != 0, "accepted %s",
                      refused[i].routes);
        ck_assert_msg(strstr(why, refused[i].needle) != NULL, "%s: %s", refused[i].routes, why);
    }
    ck_assert_int_eq(gw_check("{\"prefix\": \"/a/b/\", \"upstream\": \"http://[::1]:1\","
                              " \"access\": \"role:admin\", \"strip_prefix\": true}",
                              why, sizeof why),
                     0);
    ck_assert_int_eq(
        gw_check("{\"prefix\": \"/a/\", \"upstream\": \"http://localhost:1\"}", why, sizeof why),
        0);
}
END_TEST

START_TEST(test_validate)
{
    struct config c;
    config_defaults(&c);
    vcases[_i].edit(&c);
    err[0] = '\0';
    int rc = config_validate(&c, err, sizeof(err));
    if (vcases[_i].want == NULL) {
        ck_assert_msg(rc == 0, "case %d: %s", _i, err);
    } else {
        ck_assert_msg(rc == -1, "case %d accepted", _i);
        ck_assert_msg(strstr(err, vcases[_i].want) != NULL, "case %d: got \"%s\"", _i, err);
    }
}
END_TEST

/* Inputs that fail while a secret is in play; no message may contain it. */
static const char *const secret_inputs[] = {
    "{\"auth\": {\"jwt_secret\": \"" SECRET "\\q\"}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET,
    "{\"auth\": {\"jwt_secret\": " SECRET "}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET "\", \"jwt_secret\": \"x\"}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET "\", \"foo\": 1}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET "\"}, \"server\": {\"workers\": -5}}",
    "{\"auth\": {\"jwt_alg\": \"" SECRET "\"}}",
    "{\"auth\": {\"jwt_secret\": [\"" SECRET "\"]}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET SECRET SECRET SECRET SECRET SECRET SECRET SECRET "\"}}",
    "{\"server\": {\"log_level\": \"" SECRET "\"}}",
    "{\"auth\": {\"jwt_secret\": \"" SECRET "\x01\"}}",
};

START_TEST(test_secret_never_printed)
{
    struct config c;
    config_defaults(&c);
    err[0] = '\0';
    ck_assert_int_eq(config_load_string(&c, secret_inputs[_i], err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "S3cr3t") == NULL, "leaked: %s", err);
    ck_assert_msg(err[0] != '\0', "no message");
}
END_TEST

START_TEST(test_secret_not_in_validate)
{
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(
        config_load_string(&c,
                           "{\"auth\": {\"jwt_alg\": \"HS256\", \"jwt_secret\": \"S3cr3t-short\"}}",
                           err, sizeof(err)),
        0);
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_ptr_null(strstr(err, "S3cr3t"));
}
END_TEST

START_TEST(test_small_err_buffer)
{
    struct config c;
    char small[8];
    config_defaults(&c);
    ck_assert_int_eq(config_load_string(&c, "{\"server\": {\"foo\": 1}}", small, sizeof(small)),
                     -1);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    ck_assert_int_eq(config_load_string(&c, "{\"server\": {\"foo\": 1}}", NULL, 0), -1);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_db_url);
    tcase_add_test(tc, test_log_level_names);
    tcase_add_test(tc, test_example_equals_defaults);
    tcase_add_test(tc, test_overrides_each_type);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_syntax_line_column);
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, test_string_too_long);
    tcase_add_test(tc, test_env_override);
    tcase_add_test(tc, test_env_too_long);
    tcase_add_loop_test(tc, test_validate, 0, (int)(sizeof(vcases) / sizeof(vcases[0])));
    tcase_add_loop_test(tc, test_secret_never_printed, 0,
                        (int)(sizeof(secret_inputs) / sizeof(secret_inputs[0])));
    tcase_add_test(tc, test_secret_not_in_validate);
    tcase_add_test(tc, test_small_err_buffer);
    tcase_add_test(tc, test_gateway_routes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
