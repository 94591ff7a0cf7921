/* request.h: reading what an auth request sends: a JSON object body with
 * typed fields, query integers, the refresh cookie. Every failure fills
 * ex->resp with the right status and a clear {"error","detail"} body:
 * 415 wrong content type, 400 malformed JSON (with line and column),
 * 422 missing or wrongly typed fields (listed in "fields"). */
#ifndef PC_AUTH_REQUEST_H
#define PC_AUTH_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "server/http_msg.h"

#define AUTH_USERNAME_MIN 3
#define AUTH_USERNAME_MAX 64

enum auth_field_type { AUTH_F_STRING, AUTH_F_BOOL };

struct auth_field {
    const char *name;
    enum auth_field_type type;
    int required;
    /* out: for strings a pointer into the json_t (valid while it lives) and
     * the byte length; for bools 0/1; *present set to 1 when given. */
    const char **str;
    size_t *len;
    int *boolean;
    int *present;
};

/* Parses the body as a JSON object. Returns a new reference or NULL with
 * ex->resp set (415, 400, or 422 when it is not an object). */
json_t *auth_req_json(struct http_exchange *ex);

/* 1 when the request says Content-Type: application/json (charset allowed):
 * a header no cross-site form can send, the CSRF check for requests that a
 * cookie authenticates. */
int auth_req_is_json(const struct http_exchange *ex);

/* Extracts fields from obj; returns 0 or -1 with a 422 listing each missing
 * or mistyped field. Unknown members are ignored. */
int auth_req_fields(struct http_exchange *ex, json_t *obj, const struct auth_field *f, size_t n);

/* 1 when name is 3..64 bytes of [A-Za-z0-9._-]. */
int auth_username_valid(const char *name, size_t len);

/* Integer query parameter: *out = def when absent. Returns 0, or -1 with a
 * 400 when present but not a decimal integer within [min, max]. */
int auth_req_query_int(struct http_exchange *ex, const char *name, long def, long min, long max,
                       long *out);

/* Word query parameter (a role name): copied into out, "" when absent.
 * Returns 0, or -1 with a 400 when present but empty, too long for out or
 * not made of [a-z0-9_-]. */
int auth_req_query_word(struct http_exchange *ex, const char *name, char *out, size_t outlen);

/* Value of cookie `name` copied into out (NUL-terminated); 0 or -1. */
int auth_req_cookie(const struct http_exchange *ex, const char *name, char *out, size_t outlen);

#endif
