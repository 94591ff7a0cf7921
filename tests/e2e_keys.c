/* e2e_keys.c: the key set against the real binary. Access tokens carry
 * the kid of the key that signed them; `keys rotate` brings a new key
 * while tokens of the old one keep working until their window ends, when
 * the old key leaves the JWKS; an existing jwt_key_file becomes the first
 * key, so a token issued before the upgrade still verifies; a store with
 * keys and a missing or different master key stops the start; and two
 * processes on one store share signing keys and TLS ticket keys. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "support/api.h"
#include "support/db_fixture.h"
#include "support/jwt_forge.h"
#include "support/support.h"
#include "support/tls_client.h"

#define PW "keys password 1"

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The kid in a token's header ("" when it has none). */
static void token_kid(const char *token, char *out, size_t cap)
{
    json_t *h = forge_token_part(token, 0);
    ck_assert_ptr_nonnull(h);
    const char *kid = json_string_value(json_object_get(h, "kid"));
    snprintf(out, cap, "%s", kid != NULL ? kid : "");
    json_decref(h);
}

/* The kids the JWKS of s lists, comma-separated, in order; their count. */
static int jwks_kids(const struct srv *s, char *out, size_t cap)
{
    struct api_resp r = { 0 };
    ck_assert_int_eq(api_json(s, "GET", "/.well-known/jwks.json", NULL, &r, NULL), 200);
    json_t *keys = json_object_get(r.json, "keys");
    size_t i, n = json_array_size(keys);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *kid = json_string_value(json_object_get(json_array_get(keys, i), "kid"));
        ck_assert_ptr_nonnull(kid);
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", kid);
    }
    api_resp_free(&r);
    return (int)n;
}

/* Waits up to ms for the JWKS of s to list n keys; the count last seen. */
static int wait_jwks_count(const struct srv *s, int n, int ms, char *kids, size_t cap)
{
    int got = -1;
    for (int waited = 0; (got = jwks_kids(s, kids, cap)) != n && waited < ms; waited += 200)
        sleep_ms(200);
    return got;
}

static int me(const struct srv *s, const char *token)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "GET", "/api/me", token, &r, NULL);
    api_resp_free(&r);
    return st;
}

/* Logs user in on s until the access token is signed by a key other
 * than not_kid (the new key signs once every instance knows it: within
 * about 15 s), up to ms; the token into t and its kid into kid, the last
 * token still signed with not_kid into last_old. */
static void login_until_new_kid(const struct srv *s, const char *user, const char *not_kid,
                                struct api_session *last_old, struct api_session *t, char *kid,
                                size_t cap, int ms)
{
    for (int waited = 0;; waited += 500) {
        ck_assert_int_eq(api_login(s, user, PW, t), 200);
        token_kid(t->access, kid, cap);
        if (strcmp(kid, not_kid) != 0 || waited >= ms)
            break;
        *last_old = *t;
        sleep_ms(500);
    }
    ck_assert_str_ne(kid, not_kid);
}

static void rotate(const struct srv *s)
{
    char out[2048];
    ck_assert_msg(api_cli(s, "keys rotate", NULL, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, " added: ") != NULL, "%s", out);
}

/* ---- rotation on one server -------------------------------------------- */

START_TEST(rotation_keeps_old_tokens_until_their_window_ends)
{
    struct srv s;
    struct api_session t1, t2;
    char kid1[64], kid2[64], kids[512], out[4096];
    /* A 10 s access-token lifetime and no leeway: a 10 s window. */
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"access_ttl_s\": 10, \"leeway_s\": 0}}"), 0);
    ck_assert_int_eq(api_new_user(&s, "rita", PW, &t1), 0);
    token_kid(t1.access, kid1, sizeof kid1);
    ck_assert_uint_eq(strlen(kid1), 43); /* a SHA-256 thumbprint, base64url */
    ck_assert_int_eq(jwks_kids(&s, kids, sizeof kids), 1);
    ck_assert_str_eq(kids, kid1);

    rotate(&s);
    kill(s.pid, SIGHUP); /* read the set now, not within the next 5 s */
    ck_assert_int_eq(wait_jwks_count(&s, 2, 10000, kids, sizeof kids), 2);
    /* Published first: the old key still signs for a few seconds. */
    ck_assert_ptr_nonnull(strstr(kids, kid1));
    struct api_session old = t1;
    login_until_new_kid(&s, "rita", kid1, &old, &t2, kid2, sizeof kid2, 25000);
    /* The signing key first, then the retired one; both verify. */
    char want[160];
    snprintf(want, sizeof want, "%s,%s", kid2, kid1);
    ck_assert_int_eq(jwks_kids(&s, kids, sizeof kids), 2);
    ck_assert_str_eq(kids, want);
    ck_assert_int_eq(me(&s, old.access), 200); /* the old key's last token */
    ck_assert_int_eq(me(&s, t2.access), 200);
    ck_assert_int_eq(api_cli(&s, "keys list", NULL, out, sizeof out), 0);
    ck_assert_msg(strstr(out, kid1) != NULL && strstr(out, "retired") != NULL, "%s", out);
    ck_assert_msg(strstr(out, kid2) != NULL && strstr(out, "active") != NULL, "%s", out);
    char signing[128];
    snprintf(signing, sizeof signing, "signing now: %s", kid2);
    ck_assert_msg(strstr(out, signing) != NULL, "%s", out);

    /* After retired_at + 20 s + ttl + leeway the old key is unpublished
     * and its tokens are refused. */
    ck_assert_int_eq(wait_jwks_count(&s, 1, 40000, kids, sizeof kids), 1);
    ck_assert_str_eq(kids, kid2);
    ck_assert_int_eq(me(&s, old.access), 401);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

START_TEST(rotate_refused_without_the_master_key)
{
    struct srv s;
    char out[2048], path[400], args[1000];
    ck_assert_int_eq(api_start(&s, NULL), 0);
    snprintf(path, sizeof path, "%s/data/master.key", s.dir);
    snprintf(args, sizeof args, "mv '%s' '%s.away'", path, path);
    ck_assert_int_eq(system(args), 0);
    ck_assert_int_eq(api_cli(&s, "keys rotate", NULL, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "master.key") != NULL, "%s", out);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* A store with keys and no master key, or another one: the server will
 * not start, and says which file is wrong. */
START_TEST(start_refused_without_the_right_master_key)
{
    struct srv a, b;
    char adir[256], json[800], path[400], cmd[700];
    unsigned char junk[32];
    ck_assert_int_eq(api_start(&a, NULL), 0);
    snprintf(adir, sizeof adir, "%s", a.dir);
    setenv("PC_KEEP_TMP", "1", 1);
    ck_assert_int_eq(srv_stop(&a, SIGTERM), 0);
    unsetenv("PC_KEEP_TMP");

    /* Its own (new) master key path: missing, and not created. */
    snprintf(json, sizeof json, "{\"db\": {\"path\": \"%s/data/portcullis.db\"}}", adir);
    ck_assert_int_eq(srv_run_to_exit(&b, json, 10000), 1);
    ck_assert(srv_log_contains(&b, "no such file, but the store holds"));
    snprintf(path, sizeof path, "%s/data/master.key", b.dir);
    ck_assert_int_eq(access(path, F_OK), -1);
    srv_stop(&b, SIGTERM);

    /* Another master key: refused too. */
    snprintf(path, sizeof path, "%s/other.key", adir);
    ck_assert_int_eq(forge_rng(NULL, junk, sizeof junk), 0);
    FILE *f = fopen(path, "wx");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0600), 0);
    snprintf(json, sizeof json,
             "{\"db\": {\"path\": \"%s/data/portcullis.db\"}, \"auth\": {\"master_key_file\":"
             " \"%s\"}}",
             adir, path);
    ck_assert_int_eq(srv_run_to_exit(&b, json, 10000), 1);
    ck_assert(srv_log_contains(&b, "does not open with this master key"));
    srv_stop(&b, SIGTERM);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", adir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* With HS256 the secret signs: no key to rotate, and tokens carry no kid. */
START_TEST(hs256_keeps_its_secret)
{
    struct srv s;
    struct api_session t;
    char out[2048], kid[64], kids[256];
    ck_assert_int_eq(api_start(&s, "{\"auth\": {\"jwt_alg\": \"HS256\", \"jwt_secret\":"
                                   " \"0123456789abcdef0123456789abcdef\"}}"),
                     0);
    ck_assert_int_eq(api_new_user(&s, "hazel", PW, &t), 0);
    token_kid(t.access, kid, sizeof kid);
    ck_assert_str_eq(kid, "");
    ck_assert_int_eq(jwks_kids(&s, kids, sizeof kids), 0);
    ck_assert_int_eq(api_cli(&s, "keys rotate", NULL, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "HS256") != NULL, "%s", out);
    ck_assert_int_eq(me(&s, t.access), 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* ---- an existing key file --------------------------------------------- */

/* RFC 7638 thumbprint of pk's public key, computed here independently of
 * the server: what the kid of a token it signed must be. */
static void thumbprint(mbedtls_pk_context *pk, char *out, size_t cap)
{
    unsigned char der[256], hash[32];
    int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);
    ck_assert_int_gt(n, 64);
    const unsigned char *xy = der + sizeof der - 64; /* ... 04 || x || y */
    char *x = forge_b64url(xy, 32), *y = forge_b64url(xy + 32, 32), jwk[256];
    snprintf(jwk, sizeof jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_int_eq(mbedtls_sha256((const unsigned char *)jwk, strlen(jwk), hash, 0), 0);
    char *kid = forge_b64url(hash, sizeof hash);
    snprintf(out, cap, "%s", kid);
    free(x);
    free(y);
    free(kid);
}

START_TEST(existing_key_file_becomes_the_first_key)
{
    char dir[] = "/tmp/pc-keyfile-XXXXXX", path[128], json[256], kid[64], kids[256], cmd[200];
    mbedtls_pk_context pk;
    struct srv s;
    int64_t id = 0, now = (int64_t)time(NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/jwt-es256.pem", dir);
    ck_assert_int_eq(forge_make_key_file(path), 0);
    ck_assert_int_eq(forge_load_key(&pk, path), 0);
    thumbprint(&pk, kid, sizeof kid);
    /* A token as the single-key server signed it before the upgrade: for
     * the first user (id 1), epoch 0, no session. */
    json_t *hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "kid", kid, "typ", "JWT");
    json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:i}", "iss", "portcullis", "aud",
                               "portcullis-api", "sub", "1", "iat", (json_int_t)now, "nbf",
                               (json_int_t)now, "exp", (json_int_t)(now + 600), "jti",
                               "issued-before-the-key-set", "role", "user", "ep", 0);
    char *old = forge_token(hdr, claims, FORGE_ES256, &pk, NULL, 0);
    ck_assert_ptr_nonnull(old);

    snprintf(json, sizeof json, "{\"auth\": {\"jwt_key_file\": \"%s\"}}", path);
    ck_assert_int_eq(api_start(&s, json), 0);
    ck_assert(srv_log_contains(&s, "imported"));
    ck_assert_int_eq(api_register(&s, "first", PW, &id), 201);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(me(&s, old), 200);
    ck_assert_int_eq(jwks_kids(&s, kids, sizeof kids), 1);
    ck_assert_str_eq(kids, kid);
    /* Tokens issued now name the same key. */
    struct api_session t;
    char now_kid[64];
    ck_assert_int_eq(api_login(&s, "first", PW, &t), 200);
    token_kid(t.access, now_kid, sizeof now_kid);
    ck_assert_str_eq(now_kid, kid);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    free(old);
    mbedtls_pk_free(&pk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- two processes on one store ---------------------------------------- */

/* The metrics port from the server's log. */
static int metrics_port(const struct srv *s)
{
    int port = srv_metrics_port(s);
    ck_assert_int_gt(port, 0);
    return port;
}

/* The count of s's handshakes of kind ("full"|"resumed") and version. */
static long handshakes(const struct srv *s, const char *kind, const char *version)
{
    char req[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", series[160], carry[1];
    static struct http_resp r;
    size_t cl = 0;
    int fd = tcp_connect(metrics_port(s));
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tcp_write_all(fd, req, strlen(req)), 0);
    ck_assert_int_eq(resp_read(fd_read_timeout, &fd, &r, 10000, carry, sizeof carry, &cl), 0);
    close(fd);
    snprintf(series, sizeof series, "portcullis_tls_handshakes_total{kind=\"%s\",version=\"%s\"} ",
             kind, version);
    const char *p = strstr(r.body, series);
    return p != NULL ? atol(p + strlen(series)) : 0;
}

/* One request over TLS to s (offering sess when not NULL); the session
 * afterwards into out (when not NULL). */
static void tls_visit(const struct srv *s, int max_version, const struct tc_session *sess,
                      struct tc_session *out)
{
    struct tc_opts o = {
        .ca_file = s->ca_file, .max_version = max_version, .session = sess, .timeout_ms = 5000
    };
    struct tc_conn c;
    char err[256], buf[4096];
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ck_assert_msg(tc_connect(&c, "127.0.0.1", s->https_port, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(tc_write_all(&c, req, strlen(req), 5000), 0);
    ck_assert_int_gt(tc_read(&c, buf, sizeof buf, 5000), 0);
    if (out != NULL)
        ck_assert_int_eq(tc_get_session(&c, out), 0);
    tc_close(&c);
}

/* A session made with a resumes on b (same store) and not on c (a store
 * of its own), in TLS 1.3 and 1.2. */
static void check_resumption(const struct srv *a, const struct srv *b, const struct srv *c)
{
    static const struct {
        int max;
        const char *name;
    } v[] = { { TC_TLS1_3, "TLSv1.3" }, { TC_TLS1_2, "TLSv1.2" } };
    for (size_t i = 0; i < 2; i++) {
        struct tc_session sess = { 0 };
        long b0 = handshakes(b, "resumed", v[i].name), c0 = handshakes(c, "full", v[i].name);
        tls_visit(a, v[i].max, NULL, &sess);
        tls_visit(b, v[i].max, &sess, NULL);
        tls_visit(c, v[i].max, &sess, NULL);
        ck_assert_msg(handshakes(b, "resumed", v[i].name) == b0 + 1, "%s: no resumption on B",
                      v[i].name);
        ck_assert_msg(handshakes(c, "full", v[i].name) == c0 + 1, "%s: C resumed", v[i].name);
        tc_session_free(&sess);
    }
}

/* A and B share a SQLite file, or (with PC_TEST_PG_URL: e2e_keys_pg) a
 * PostgreSQL store; C always has a store of its own. */
START_TEST(two_instances_share_signing_and_ticket_keys)
{
    struct srv a, b, c;
    struct api_session t1, t2;
    char json[PATH_MAX + 1400], store[PATH_MAX + 64], kid1[64], kid2[64], kids[512];
    if (fx_pg()) {
        fx_make_dir(); /* a fresh schema; fx_path is its URL */
        snprintf(store, sizeof store, "\"url\": \"%s\"", fx_path);
        snprintf(json, sizeof json, "{\"db\": {%s}, \"metrics\": {\"port\": 0}}", store);
        ck_assert_int_eq(api_start(&a, json), 0);
    } else {
        ck_assert_int_eq(api_start(&a, "{\"metrics\": {\"port\": 0}}"), 0);
        snprintf(store, sizeof store, "\"path\": \"%s/data/portcullis.db\"", a.dir);
    }
    snprintf(json, sizeof json,
             "{\"db\": {%s}, \"auth\": {\"master_key_file\":"
             " \"%s/data/master.key\"}, \"tls\": {\"dev_cert_dir\": \"%s/certs\"},"
             " \"metrics\": {\"port\": 0}}",
             store, a.dir, a.dir);
    ck_assert_int_eq(api_start(&b, json), 0);
    snprintf(b.ca_file, sizeof b.ca_file, "%s", a.ca_file);
    ck_assert_int_eq(api_start(&c, "{\"metrics\": {\"port\": 0}}"), 0);

    /* A token from A works on B: same store, same keys. */
    ck_assert_int_eq(api_new_user(&a, "shared", PW, &t1), 0);
    ck_assert_int_eq(me(&b, t1.access), 200);
    ck_assert_int_eq(me(&c, t1.access), 401); /* C's keys are its own */
    check_resumption(&a, &b, &c);

    /* Rotated with A's config: B publishes the new key on its own (it
     * reads the store every few seconds), and A signs with it only once
     * every instance can have read it, so B accepts A's first token. */
    rotate(&a);
    token_kid(t1.access, kid1, sizeof kid1);
    ck_assert_int_eq(wait_jwks_count(&b, 2, 10000, kids, sizeof kids), 2);
    struct api_session old = t1;
    login_until_new_kid(&a, "shared", kid1, &old, &t2, kid2, sizeof kid2, 25000);
    ck_assert_int_eq(me(&b, t2.access), 200);
    ck_assert_int_eq(me(&b, t1.access), 200);
    ck_assert_int_eq(me(&b, old.access), 200);
    ck_assert_int_eq(me(&c, t2.access), 401);
    check_resumption(&a, &b, &c);

    ck_assert_int_eq(srv_stop(&c, SIGTERM), 0);
    ck_assert_int_eq(srv_stop(&b, SIGTERM), 0);
    ck_assert_int_eq(srv_stop(&a, SIGTERM), 0);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("e2e_keys");
    TCase *tc = tcase_create("keys");
    tcase_set_timeout(tc, 60);
    if (fx_pg()) { /* e2e_keys_pg: what changes with the store */
        tcase_add_checked_fixture(tc, NULL, fx_teardown);
        tcase_add_test(tc, two_instances_share_signing_and_ticket_keys);
        suite_add_tcase(s, tc);
        return s;
    }
    tcase_add_test(tc, rotation_keeps_old_tokens_until_their_window_ends);
    tcase_add_test(tc, rotate_refused_without_the_master_key);
    tcase_add_test(tc, hs256_keeps_its_secret);
    tcase_add_test(tc, start_refused_without_the_right_master_key);
    tcase_add_test(tc, existing_key_file_becomes_the_first_key);
    tcase_add_test(tc, two_instances_share_signing_and_ticket_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return fx_run(keys_suite()); }
