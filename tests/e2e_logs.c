/* e2e_logs.c: request ids and the log formats, against the real binary: an
 * id is kept (from a trusted proxy only) or made and echoed; JSON logs are one object per line with the
 * request's fields; and no log line ever holds a password, a token, a
 * cookie or a code, whatever the level. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/https.h"

static void rid_of(const struct http_resp *r, char *out, size_t cap)
{
    ck_assert_int_eq(resp_header(r, "X-Request-Id", out, cap), 0);
}

static int is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

START_TEST(request_id_kept_or_made)
{
    struct srv s;
    struct http_resp r;
    char a[80], b[80], want[128];
    /* A trusted proxy's id is kept when valid. */
    ck_assert_int_eq(srv_start(&s, "{\"server\": {\"trusted_proxies\": [\"127.0.0.1\"]}}", NULL),
                     0);
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: lb-7f3a.2:x_y\r\n\r\n",
                  &r);
    rid_of(&r, a, sizeof a);
    ck_assert_str_eq(a, "lb-7f3a.2:x_y");
    /* Not echoed as sent: spaces, a quote, or 65 characters. */
    static const char *bad[] = {
        "two words", "q\"uote", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: %s\r\n\r\n",
                 bad[i]);
        https_request(&s, req, &r);
        rid_of(&r, a, sizeof a);
        ck_assert_msg(is_hex32(a), "'%s' gave '%s'", bad[i], a);
    }
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    /* A client that is not a trusted proxy cannot choose its id. */
    ck_assert_int_eq(srv_start(&s, NULL, NULL), 0);
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: lb-7f3a.2:x_y\r\n\r\n",
                  &r);
    rid_of(&r, a, sizeof a);
    ck_assert_msg(is_hex32(a), "a client's id was adopted: '%s'", a);
    https_request(&s, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    rid_of(&r, a, sizeof a);
    https_request(&s, "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n", &r);
    rid_of(&r, b, sizeof b);
    ck_assert(is_hex32(a) && is_hex32(b));
    ck_assert_str_ne(a, b);
    /* Refused before a head was read: still an id. */
    https_request(&s, "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 400);
    rid_of(&r, a, sizeof a);
    ck_assert(is_hex32(a));
    snprintf(want, sizeof want, " id=%s", b);
    ck_assert(srv_log_contains(&s, "\"GET /nothing\" 404"));
    ck_assert_msg(srv_log_contains(&s, want), "no '%s' in the access log", want);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

/* Turns two-factor on for the holder of access and signs in with a code;
 * the secret, the codes, the recovery codes and the sign-in step's token
 * go into secrets[] (n in/out) for the log check. */
static void mfa_session(const struct srv *s, const char *name, const char *pw, const char *access,
                        char secrets[][200], size_t *n)
{
    struct api_resp r = { 0 };
    char code[7], next[7];
    ck_assert_int_eq(api_json(s, "POST", "/api/mfa/totp/setup", access, &r, NULL), 200);
    snprintf(secrets[(*n)++], 200, "%s", api_str(&r, "secret"));
    api_resp_free(&r);
    api_totp_code(secrets[*n - 1], 0, code);
    api_totp_code(secrets[*n - 1], 1, next); /* for the sign-in: this step is spent */
    ck_assert_int_eq(api_json(s, "POST", "/api/mfa/totp/enable", access, &r, "{s:s}", "code", code),
                     200);
    json_t *codes = json_object_get(r.json, "recovery_codes");
    ck_assert_uint_eq(json_array_size(codes), 10);
    snprintf(secrets[(*n)++], 200, "%s", json_string_value(json_array_get(codes, 0)));
    snprintf(secrets[(*n)++], 200, "%s", json_string_value(json_array_get(codes, 9)));
    api_resp_free(&r);
    snprintf(secrets[(*n)++], 200, "\"%s\"", code); /* quoted: six digits occur elsewhere */
    ck_assert_int_eq(
        api_json(s, "POST", "/api/login", NULL, &r, "{s:s, s:s}", "username", name, "password", pw),
        200);
    snprintf(secrets[(*n)++], 200, "%s", api_str(&r, "mfa_token"));
    api_resp_free(&r);
    ck_assert_int_eq(api_json(s, "POST", "/api/login/mfa", NULL, &r, "{s:s, s:s}", "mfa_token",
                              secrets[*n - 1], "code", next),
                     200);
    snprintf(secrets[(*n)++], 200, "\"%s\"", next);
    api_resp_free(&r);
}

static char logbuf[1 << 21];

static const char *read_log(const struct srv *s)
{
    FILE *f = fopen(s->log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(logbuf, 1, sizeof logbuf - 1, f);
    fclose(f);
    logbuf[n] = '\0';
    return logbuf;
}

/* Every line is a JSON object; returns the access line for path (a new
 * reference) or NULL. */
static json_t *json_lines(const char *text, const char *path)
{
    json_t *found = NULL;
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        ck_assert_msg(json_is_object(o), "not a JSON object: %s", line);
        const char *p = json_string_value(json_object_get(o, "path"));
        if (found == NULL && p && strcmp(p, path) == 0)
            found = json_incref(o);
        json_decref(o);
    }
    free(copy);
    return found;
}

START_TEST(json_logs_and_no_secrets)
{
    struct srv s;
    struct api_session t, t2;
    struct api_resp r = { 0 };
    const char *pw = "Secret-Horse-91x", *pw2 = "Another-Secret-5q";
    ck_assert_int_eq(api_start(&s,
                               "{\"server\": {\"log_format\": \"json\", \"log_level\": \"debug\", "
                               "\"trusted_proxies\": [\"127.0.0.1\"]}}"),
                     0);
    ck_assert_int_eq(api_new_user(&s, "loggy", pw, &t), 0);
    ck_assert_int_eq(api_login(&s, "loggy", "Wrong-Password-77", &t2), 401);
    struct api_req q = { .method = "GET",
                         .path = "/api/me",
                         .bearer = t.access,
                         .headers = "Cookie: portcullis_refresh=Cookie-Value-3k\r\n"
                                    "X-Request-Id: me-request-1\r\n" };
    ck_assert_int_eq(api_request(&s, &q, &r), 200);
    long long uid = api_int(&r, "id");
    api_resp_free(&r);
    ck_assert_int_eq(
        api_json(&s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", t.refresh),
        200);
    char refreshed[4200] = "";
    if (api_str(&r, "access_token"))
        snprintf(refreshed, sizeof refreshed, "%s", api_str(&r, "access_token"));
    api_resp_free(&r);
    ck_assert_int_eq(api_json(&s, "POST", "/api/password", t.access, &r, "{s:s, s:s}",
                              "old_password", pw, "new_password", pw2),
                     204);
    api_resp_free(&r);

    const char *log = read_log(&s);
    json_t *me = json_lines(log, "/api/me");
    ck_assert_ptr_nonnull(me);
    ck_assert_str_eq(json_string_value(json_object_get(me, "request_id")), "me-request-1");
    ck_assert_str_eq(json_string_value(json_object_get(me, "route")), "/api/me");
    ck_assert_str_eq(json_string_value(json_object_get(me, "method")), "GET");
    ck_assert_int_eq(json_integer_value(json_object_get(me, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(me, "user_id")), uid);
    ck_assert_str_eq(json_string_value(json_object_get(me, "client_ip")), "127.0.0.1");
    ck_assert_ptr_nonnull(json_object_get(me, "duration_ms"));
    json_decref(me);
    const char *secrets[] = { pw,
                              pw2,
                              "Wrong-Password-77",
                              t.access,
                              t.refresh,
                              "Cookie-Value-3k",
                              refreshed[0] ? refreshed : pw };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(strstr(log, secrets[i]) == NULL, "the log holds secret #%zu", i);
    /* Two-factor: the secret, codes, recovery codes and the sign-in step. */
    static char mfa[8][200];
    size_t nmfa = 0;
    struct api_session t3;
    ck_assert_int_eq(api_login(&s, "loggy", pw2, &t3), 200);
    mfa_session(&s, "loggy", pw2, t3.access, mfa, &nmfa);
    log = read_log(&s);
    for (size_t i = 0; i < nmfa; i++)
        ck_assert_msg(strstr(log, mfa[i]) == NULL, "the log holds two-factor secret #%zu", i);
    /* Not even a recognisable part of a token (its signature). */
    const char *sig = strrchr(t.access, '.');
    ck_assert(sig && strstr(log, sig + 1) == NULL);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("e2e_logs");
    TCase *tc = tcase_create("logs");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, request_id_kept_or_made);
    tcase_add_test(tc, json_logs_and_no_secrets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
