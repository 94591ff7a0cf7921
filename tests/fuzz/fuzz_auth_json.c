/* fuzz_auth_json: how every auth endpoint reads its request (auth/request.c).
 *
 * Input: any bytes. They are used at once as
 *   - the body (Content-Type: application/json) of each endpoint, decoded
 *     with auth_req_json and the endpoint's own field table through
 *     auth_req_fields, then the checks the handlers apply next
 *     (auth_username_valid, the role names);
 *   - the Content-Type header of one more decode;
 *   - the query string of the admin listings (auth_req_query_int);
 *   - the Cookie header that may carry the refresh token (auth_req_cookie).
 * Every failure must leave a response: a 4xx status and a JSON body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "auth/refresh.h"
#include "auth/request.h"
#include "server/http_msg.h"

#define RESP_HEADERS_MAX (64 * 1024)
#define RESP_BODY_MAX    (4 * 1024 * 1024)

/* The outputs of one endpoint's field table. */
struct fields {
    const char *s[2];
    size_t len[2];
    int b;
    int present[2];
};

enum endpoint { EP_CREDENTIALS, EP_REFRESH, EP_PASSWORD, EP_ADMIN_PATCH, EP_COUNT };

/* The tables of auth/handlers_*.c: register and login share
 * read_credentials; refresh has an optional field, read_patch two. */
static size_t table(enum endpoint ep, struct fields *v, struct auth_field f[2])
{
    memset(v, 0, sizeof *v);
    memset(f, 0, 2 * sizeof *f);
    switch (ep) {
    case EP_CREDENTIALS:
        f[0] = (struct auth_field){
            "username", AUTH_F_STRING, 1, &v->s[0], &v->len[0], NULL, NULL
        };
        f[1] = (struct auth_field){
            "password", AUTH_F_STRING, 1, &v->s[1], &v->len[1], NULL, NULL
        };
        return 2;
    case EP_REFRESH:
        f[0] = (struct auth_field){ "refresh_token", AUTH_F_STRING, 0, &v->s[0], &v->len[0], NULL,
                                    &v->present[0] };
        return 1;
    case EP_PASSWORD:
        f[0] = (struct auth_field){ "old_password", AUTH_F_STRING, 1,   &v->s[0],
                                    &v->len[0],     NULL,          NULL };
        f[1] = (struct auth_field){ "new_password", AUTH_F_STRING, 1,   &v->s[1],
                                    &v->len[1],     NULL,          NULL };
        return 2;
    default:
        f[0] = (struct auth_field){ "disabled", AUTH_F_BOOL, 0, NULL, NULL, &v->b, &v->present[0] };
        f[1] = (struct auth_field){ "role", AUTH_F_STRING, 0, &v->s[1], &v->len[1],
                                    NULL,   &v->present[1] };
        return 2;
    }
}

static void resp_reset(struct http_exchange *ex)
{
    buf_free(&ex->resp.headers);
    buf_free(&ex->resp.body);
    ex->resp.status = 0;
    ex->resp.content_type = NULL;
    ex->resp.kind = HTTP_CONTENT_NONE;
}

/* A handler that gives up must have answered: 4xx with a JSON error body. */
static void check_answered(const struct http_exchange *ex, int lo, int hi)
{
    json_t *j;

    FUZZ_CHECK(ex->resp.status >= lo && ex->resp.status <= hi);
    FUZZ_CHECK(ex->resp.body.len > 0);
    j = json_loadb(buf_head(&ex->resp.body), ex->resp.body.len, 0, NULL);
    FUZZ_CHECK(j != NULL && json_is_object(j));
    FUZZ_CHECK(json_is_string(json_object_get(j, "error")));
    json_decref(j);
}

static void check_string(json_t *obj, const char *name, const char *s, size_t len)
{
    json_t *v = json_object_get(obj, name);

    FUZZ_CHECK(s != NULL && json_is_string(v) && s == json_string_value(v));
    FUZZ_CHECK(len == json_string_length(v));
}

static void decode_endpoint(struct http_exchange *ex, enum endpoint ep)
{
    struct fields v;
    struct auth_field f[2];
    size_t n = table(ep, &v, f);
    json_t *obj = auth_req_json(ex);

    if (obj == NULL) {
        check_answered(ex, 400, 422);
        FUZZ_CHECK(ex->resp.status == 400 || ex->resp.status == 415 || ex->resp.status == 422);
        goto done;
    }
    FUZZ_CHECK(json_is_object(obj) && ex->resp.status == 0);
    if (auth_req_fields(ex, obj, f, n) != 0) {
        check_answered(ex, 422, 422);
        goto done;
    }
    FUZZ_CHECK(ex->resp.status == 0);
    for (size_t i = 0; i < n; i++) {
        int given = f[i].present ? *f[i].present : 1;

        FUZZ_CHECK(given == (json_object_get(obj, f[i].name) != NULL));
        if (given && f[i].type == AUTH_F_STRING)
            check_string(obj, f[i].name, *f[i].str, *f[i].len);
        if (given && f[i].type == AUTH_F_BOOL)
            FUZZ_CHECK(*f[i].boolean == json_is_true(json_object_get(obj, f[i].name)));
    }
    if (ep == EP_CREDENTIALS && auth_username_valid(v.s[0], v.len[0])) {
        FUZZ_CHECK(v.len[0] >= AUTH_USERNAME_MIN && v.len[0] <= AUTH_USERNAME_MAX);
        FUZZ_CHECK(strlen(v.s[0]) == v.len[0]);
    }
done:
    json_decref(obj);
    resp_reset(ex);
}

static void query_ints(struct http_exchange *ex)
{
    static const struct {
        const char *name;
        long def, min, max;
    } q[] = {
        { "offset", 0, 0, 1L << 40 },
        { "limit", 50, 1, 500 },
        { "user_id", 0, 0, 1L << 53 },
    };

    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        long out = -12345;

        if (auth_req_query_int(ex, q[i].name, q[i].def, q[i].min, q[i].max, &out) == 0) {
            FUZZ_CHECK(out == q[i].def || (out >= q[i].min && out <= q[i].max));
            FUZZ_CHECK(ex->resp.status == 0);
        } else {
            check_answered(ex, 400, 400);
        }
        resp_reset(ex);
    }
}

static void cookies(const struct http_exchange *ex, size_t outlen)
{
    char out[AUTH_REFRESH_TOKEN_LEN + 1 + 16];

    memset(out, 'x', sizeof out);
    if (auth_req_cookie(ex, "pc_refresh", out, outlen) == 0) {
        FUZZ_CHECK(outlen > 0 && memchr(out, '\0', outlen) != NULL);
        FUZZ_CHECK(strchr(out, ';') == NULL);
    }
    for (size_t i = outlen; i < sizeof out; i++)
        FUZZ_CHECK(out[i] == 'x'); /* nothing written past outlen */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_exchange ex;
    struct http_header hdrs[3];
    char *in = (char *)fuzz_dup(data, size);
    struct str input = str_make(in, size);

    memset(&ex, 0, sizeof ex);
    buf_init(&ex.resp.headers, RESP_HEADERS_MAX);
    buf_init(&ex.resp.body, RESP_BODY_MAX);
    hdrs[0] = (struct http_header){ STR_LIT("Content-Type"), STR_LIT("application/json") };
    hdrs[1] = (struct http_header){ STR_LIT("Cookie"), input };
    hdrs[2] = (struct http_header){ STR_LIT("Cookie"), STR_LIT("a=b; pc_refresh=tail") };
    ex.req.head.method = STR_LIT("POST");
    ex.req.head.headers = hdrs;
    ex.req.head.num_headers = 3;
    ex.req.body = input;
    ex.req.head.query = input;
    ex.req.client_ip = "127.0.0.1";
    ex.req.is_tls = 1;

    for (int ep = 0; ep < EP_COUNT; ep++)
        decode_endpoint(&ex, (enum endpoint)ep);
    auth_username_valid(in, size);

    /* The input as the Content-Type of an empty-object body. */
    hdrs[0].value = input;
    ex.req.body = STR_LIT("{}");
    decode_endpoint(&ex, EP_REFRESH);

    query_ints(&ex);
    cookies(&ex, size > 0 ? (size_t)data[0] % (AUTH_REFRESH_TOKEN_LEN + 2) : 0);
    cookies(&ex, AUTH_REFRESH_TOKEN_LEN + 1);

    buf_free(&ex.resp.headers);
    buf_free(&ex.resp.body);
    free(in);
    return 0;
}
