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
    X(https_address) X(https_port) X(http_address) X(http_port) X(workers) \
    X(max_connections) X(user) X(www_root) X(static_cache_ms) X(log_level) X(demo) \
    X(demo_allow_non_loopback) X(max_header_bytes) X(max_headers) \
    X(max_uri_bytes) X(max_body_bytes) X(max_requests_per_connection) \
    X(handshake_timeout_ms) X(header_timeout_ms) X(body_timeout_ms) \
    X(keepalive_timeout_ms) X(write_timeout_ms) X(shutdown_timeout_ms) \
    X(cert_file) X(key_file) X(dev_cert_dir) X(session_tickets) \
    X(ticket_lifetime_s) X(hsts_max_age_s) X(db_path) X(db_busy_timeout_ms) \
    X(pool_threads) X(pool_queue) X(jwt_alg) X(jwt_key_file) X(jwt_secret) \
    X(jwt_issuer) X(jwt_audience) X(access_ttl_s) X(refresh_ttl_s) \
    X(jwt_leeway_s) X(argon2_memory_kib) X(argon2_iterations) \
    X(argon2_parallelism) X(refresh_cookie) X(user_cache_ms) X(totp_key_file) X(purge_interval_s) X(login_ip_per_minute) \
    X(login_user_per_minute) X(register_ip_per_minute) X(lockout_threshold) \
    X(lockout_base_s) X(lockout_max_s) X(wire_capture_bytes) \
    X(wire_capture_connections)
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
    ck_assert_str_eq(c.https_address, "127.0.0.1");
    ck_assert_int_eq(c.https_port, 8443);
    ck_assert_str_eq(c.http_address, "127.0.0.1");
    ck_assert_int_eq(c.http_port, 8080);
    ck_assert_int_eq(c.workers, 0);
    ck_assert_str_eq(c.user, "");
    ck_assert_str_eq(c.www_root, "www");
    ck_assert_int_eq(c.log_level, LOG_INFO);
    ck_assert(!c.demo && !c.demo_allow_non_loopback);
    ck_assert_uint_eq(c.max_header_bytes, 8192);
    ck_assert_uint_eq(c.max_headers, 64);
    ck_assert_uint_eq(c.max_uri_bytes, 2048);
    ck_assert_uint_eq(c.max_body_bytes, 65536);
    ck_assert_int_eq(c.max_requests_per_connection, 1000);
    ck_assert_int_eq(c.handshake_timeout_ms, 10000);
    ck_assert_int_eq(c.header_timeout_ms, 10000);
    ck_assert_int_eq(c.body_timeout_ms, 30000);
    ck_assert_int_eq(c.keepalive_timeout_ms, 30000);
    ck_assert_int_eq(c.write_timeout_ms, 30000);
    ck_assert_int_eq(c.shutdown_timeout_ms, 10000);
    ck_assert_str_eq(c.cert_file, "");
    ck_assert_str_eq(c.key_file, "");
    ck_assert_str_eq(c.dev_cert_dir, "certs/dev");
    ck_assert(c.session_tickets);
    ck_assert_int_eq(c.ticket_lifetime_s, 86400);
    ck_assert_int_eq(c.hsts_max_age_s, 63072000);
    ck_assert_str_eq(c.db_path, "data/portcullis.db");
    ck_assert_int_eq(c.db_busy_timeout_ms, 5000);
    ck_assert_int_eq(c.pool_threads, 0);
    ck_assert_int_eq(c.pool_queue, 256);
    ck_assert_str_eq(c.jwt_alg, "ES256");
    ck_assert_str_eq(c.jwt_key_file, "data/jwt-es256.pem");
    ck_assert_str_eq(c.totp_key_file, "data/totp.key");
    ck_assert_int_eq(c.purge_interval_s, 3600);
    ck_assert_str_eq(c.jwt_secret, "");
    ck_assert_str_eq(c.jwt_issuer, "portcullis");
    ck_assert_str_eq(c.jwt_audience, "portcullis-api");
    ck_assert_int_eq(c.access_ttl_s, 900);
    ck_assert_int_eq(c.refresh_ttl_s, 1209600);
    ck_assert_int_eq(c.jwt_leeway_s, 30);
    ck_assert_int_eq(c.argon2_memory_kib, 19456);
    ck_assert_int_eq(c.argon2_iterations, 2);
    ck_assert_int_eq(c.argon2_parallelism, 1);
    ck_assert(!c.refresh_cookie);
    ck_assert_int_eq(c.login_ip_per_minute, 20);
    ck_assert_int_eq(c.login_user_per_minute, 10);
    ck_assert_int_eq(c.register_ip_per_minute, 10);
    ck_assert_int_eq(c.lockout_threshold, 5);
    ck_assert_int_eq(c.lockout_base_s, 30);
    ck_assert_int_eq(c.lockout_max_s, 3600);
    ck_assert_int_eq(c.wire_capture_bytes, 2048);
    ck_assert_int_eq(c.wire_capture_connections, 16);
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_log_level_names)
{
    ck_assert_str_eq(config_log_level_name(LOG_DEBUG), "debug");
    ck_assert_str_eq(config_log_level_name(LOG_INFO), "info");
    ck_assert_str_eq(config_log_level_name(LOG_WARN), "warn");
    ck_assert_str_eq(config_log_level_name(LOG_ERROR), "error");
    ck_assert_str_eq(config_log_level_name((enum log_level)42), "unknown");
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
    ck_assert_int_eq(c.workers, 4);
    ck_assert_int_eq(c.http_port, -1);
    ck_assert(c.demo);
    ck_assert_int_eq(c.log_level, LOG_DEBUG);
    ck_assert_str_eq(c.www_root, "");
    ck_assert_str_eq(c.user, "nobody");
    ck_assert_uint_eq(c.max_body_bytes, 1073741824u);
    ck_assert(!c.session_tickets);
    ck_assert_str_eq(c.cert_file, "c.pem");
    ck_assert_str_eq(c.jwt_alg, "HS256");
    ck_assert_str_eq(c.jwt_issuer, "me");
    /* untouched keys keep their defaults */
    ck_assert_int_eq(c.https_port, 8443);
    ck_assert_int_eq(c.header_timeout_ms, 10000);
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
    ck_assert_int_eq(c.pool_threads, 3);
    ck_assert_int_eq(c.pool_queue, 9);

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
    ck_assert_str_eq(c.user, "");

    longv[255] = '\0';
    snprintf(json, sizeof(json), "{\"server\": {\"user\": \"%s\"}}", longv);
    ck_assert_msg(config_load_string(&c, json, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(strlen(c.user), 255);

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
    ck_assert_str_eq(c.jwt_secret, SECRET);

    /* without a file */
    config_defaults(&c);
    config_apply_env(&c);
    ck_assert_str_eq(c.jwt_secret, SECRET);

    /* empty variable = unset: the file's value stays */
    ck_assert_int_eq(setenv(ENV, "", 1), 0);
    config_defaults(&c);
    ck_assert_int_eq(
        config_load_string(&c, "{\"auth\": {\"jwt_secret\": \"file\"}}", err, sizeof(err)), 0);
    ck_assert_str_eq(c.jwt_secret, "file");
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
    ck_assert_str_eq(c.jwt_secret, ""); /* never truncated */
    ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ENV));
    ck_assert_ptr_null(strstr(err, "S3cr3t"));
}
END_TEST

/* Each case edits a default config; want NULL means it must validate. */
static void v_cert_only(struct config *c) { strcpy(c->cert_file, "c.pem"); }
static void v_key_only(struct config *c) { strcpy(c->key_file, "k.pem"); }
static void v_cert_key(struct config *c)
{
    v_cert_only(c);
    v_key_only(c);
}
static void v_hs_nosecret(struct config *c) { strcpy(c->jwt_alg, "HS256"); }
static void v_hs_31(struct config *c)
{
    strcpy(c->jwt_alg, "HS256");
    memset(c->jwt_secret, 's', 31);
}
static void v_hs_32(struct config *c)
{
    v_hs_31(c);
    c->jwt_secret[31] = 's';
}
static void v_es_secret(struct config *c) { strcpy(c->jwt_secret, "short"); }
static void v_bad_alg(struct config *c) { strcpy(c->jwt_alg, "none"); }
static void v_demo(struct config *c) { c->demo = true; }
static void v_demo_v6(struct config *c)
{
    c->demo = true;
    strcpy(c->https_address, "::1");
    strcpy(c->http_address, "127.0.0.2");
}
static void v_demo_public(struct config *c)
{
    c->demo = true;
    strcpy(c->http_address, "0.0.0.0");
}
static void v_demo_public6(struct config *c)
{
    c->demo = true;
    strcpy(c->https_address, "::");
}
static void v_demo_forced(struct config *c)
{
    v_demo_public(c);
    c->demo_allow_non_loopback = true;
}
static void v_demo_nohttp(struct config *c)
{
    c->demo = true;
    c->http_port = -1;
}
static void v_public(struct config *c) { strcpy(c->https_address, "0.0.0.0"); }
static void v_hostname(struct config *c) { strcpy(c->https_address, "localhost"); }
static void v_www_off(struct config *c) { c->www_root[0] = '\0'; }
static void v_uri_gt_head(struct config *c) { c->max_uri_bytes = 16384; }
static void v_lockout(struct config *c) { c->lockout_base_s = 7200; }
static void v_ttls(struct config *c)
{
    c->access_ttl_s = 3600;
    c->refresh_ttl_s = 3600;
}
static void v_range(struct config *c) { c->workers = 1000; }
static void v_size_range(struct config *c) { c->max_body_bytes = (size_t)-1; }
static void v_level(struct config *c) { c->log_level = (enum log_level)9; }
static void v_unterminated(struct config *c) { memset(c->user, 'u', sizeof(c->user)); }

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
    { v_range, "'server.workers' must be between 0 and 256" },
    { v_size_range, "'limits.max_body_bytes' must be between" },
    { v_level, "'server.log_level' must be between" },
    { v_unterminated, "'server.user' is too long" },
};

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
