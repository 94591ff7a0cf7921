/* api.h: the JSON API of a running test server (support.h), spoken over the
 * test TLS client (tls_client.h): one request on a fresh or a kept-alive
 * connection, the response with its body parsed by jansson; shortcuts to
 * register and log in; and the portcullis CLI run against the server's
 * own config and database.
 *
 * Functions return an HTTP status (> 0) or -1 when no complete response
 * arrived; none of them aborts, so tests assert on what they return. */
#ifndef PC_TEST_API_H
#define PC_TEST_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "support/support.h"
#include "support/tls_client.h"

#define API_TOKEN_MAX 4096

/* A response. Zero-initialise before first use ({0}); every call replaces
 * the previous content; api_resp_free drops the parsed body. */
struct api_resp {
    struct http_resp http; /* status, raw head and body */
    json_t *json;          /* the body parsed, NULL if empty or not JSON */
};

struct api_req {
    const char *method;
    const char *path;
    const char *bearer;       /* "Authorization: Bearer <bearer>"; NULL: none */
    const char *content_type; /* NULL: application/json when there is a body;
                                   "": no Content-Type header */
    const char *body;         /* NULL: no body */
    size_t body_len;          /* 0: strlen(body) */
    const char *headers;      /* extra "Name: value\r\n" lines; NULL: none */
};

/* A kept-alive connection. */
struct api_conn {
    int fd;       /* owned: closed by api_close */
    int attached; /* tc set up: freed by api_close */
    struct tc_conn tc;
    char carry[16384];
    size_t carry_len;
};

/* What a successful login returns. */
struct api_session {
    int64_t id; /* user id (api_new_user, api_make_admin) */
    char access[API_TOKEN_MAX + 1];
    char refresh[128];
};

/* srv_start with every rate limit and the lockout threshold raised out of
 * reach (a shared server answers many logins from 127.0.0.1), merged
 * under extra_json (may be NULL; its keys win). 0 or -1. */
int api_start(struct srv *s, const char *extra_json);

/* The same for another executable (srv_start_bin), with extra_args. */
int api_start_bin(struct srv *s, const char *binary, const char *extra_json,
                  const char *const *extra_args);

/* TLS connection to s (trusting its dev CA), with TCP_NODELAY. 0 or -1
 * with err; api_close afterwards either way. */
int api_open(struct api_conn *c, const struct srv *s, char *err, size_t errlen);
/* Closes; also after a failed api_open. Idempotent. */
void api_close(struct api_conn *c);

/* One request on c; the status or -1. */
int api_send(struct api_conn *c, const struct api_req *q, struct api_resp *r);
/* Its two halves, for pipelining and races: write one request (0 or -1);
 * read the next response (the status or -1). */
int api_write(struct api_conn *c, const struct api_req *q);
int api_read(struct api_conn *c, struct api_resp *r);
/* The same on a fresh connection, closed afterwards. */
int api_request(const struct srv *s, const struct api_req *q, struct api_resp *r);

/* method path with a JSON body built by json_pack(fmt, ...) (fmt NULL: no
 * body) and an optional bearer token, on a fresh connection. */
int api_json(const struct srv *s, const char *method, const char *path, const char *bearer,
             struct api_resp *r, const char *fmt, ...);

void api_resp_free(struct api_resp *r);

/* Members of the parsed body: "" / -1 when absent or of another type. */
const char *api_str(const struct api_resp *r, const char *key);
long long api_int(const struct api_resp *r, const char *key);
/* The "error" member ("" if none). */
const char *api_error(const struct api_resp *r);
/* Check assertions: the call returned status `want`, the body's "error" is
 * `code`, and it carries a "detail" string. st is the call's return. */
void api_expect_error(const struct api_resp *r, int st, int want, const char *code);
/* Value of a response header into out; 0 or -1. */
int api_header(const struct api_resp *r, const char *name, char *out, size_t outlen);
/* The response's header names, lower-cased, sorted, comma-separated,
 * without Date (the one header allowed to differ between two answers). */
void api_header_names(const struct api_resp *r, char *out, size_t outlen);

/* POST /api/register; the status; *id (may be NULL) on 201. */
int api_register(const struct srv *s, const char *user, const char *pw, int64_t *id);
/* POST /api/login; the status; fills *t (id left 0) on 200. */
int api_login(const struct srv *s, const char *user, const char *pw, struct api_session *t);
/* Register and log in: 0, or -1 if either did not succeed. */
int api_new_user(const struct srv *s, const char *user, const char *pw, struct api_session *t);
/* GET /api/admin/users with admin's token: the total, or -1. */
long long api_user_total(const struct srv *s, const char *admin_token);

/* Runs `portcullis --config <s->config> <args>` (args split by the shell),
 * writing stdin_text (may be NULL) to its standard input; stdout and
 * stderr together into out (may be NULL). Returns the exit status, or -1. */
int api_cli(const struct srv *s, const char *args, const char *stdin_text, char *out,
            size_t outlen);
/* `user add NAME --admin` with pw on stdin, then a login (t->id set from
 * the CLI's "(id N)"): 0 or -1. */
int api_make_admin(const struct srv *s, const char *name, const char *pw, struct api_session *t);

/* Base32 (RFC 4648, no padding) of a TOTP secret into out; its length.
 * Asserts on a character outside the alphabet or an overflow. */
size_t api_b32_decode(const char *s, unsigned char *out, size_t cap);
/* The 6-digit TOTP code of secret b32 for the step `ahead` steps from now
 * (computed with auth/totp.c; e2e_mfa checks the same against oathtool). */
void api_totp_code(const char *b32, int ahead, char out[7]);

#endif
