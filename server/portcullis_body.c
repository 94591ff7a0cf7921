/* portcullis_body.c: the request body as a JSON object (pc_body_json), the
 * one parser of JSON bodies for the built-in API and applications alike. */
#include <stdio.h>
#include <string.h>

#include "server/portcullis_int.h"

/* jansson ends its message with " near '<token>'", quoting the input cut
 * at a byte count: possibly mid UTF-8 sequence, which json_pack refuses
 * (the client then got an empty 500 instead of this 400), and possibly a
 * piece of a password. Keep only the reason, in printable ASCII. */
static void json_error_reason(const json_error_t *je, char *out, size_t outlen)
{
    const char *near = strstr(je->text, " near '");
    size_t n = near != NULL ? (size_t)(near - je->text) : strnlen(je->text, sizeof je->text);
    if (n >= outlen)
        n = outlen - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)je->text[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

json_t *pc_body_json(struct pc_req *req)
{
    struct http_exchange *ex = pc_exchange(req);
    json_error_t je;
    char detail[256], reason[sizeof je.text];
    if (!http_req_is_json(&ex->req)) {
        http_resp_error(&ex->resp, 415, "unsupported_media_type",
                        "send the body as Content-Type: application/json");
        return NULL;
    }
    /* DECODE_ANY: a bare string or number is valid JSON (RFC 8259), just
     * not an object; it gets the 422 below, not "malformed". */
    json_t *obj = json_loadb(ex->req.body.p ? ex->req.body.p : "", ex->req.body.n,
                             JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (obj == NULL) {
        json_error_reason(&je, reason, sizeof reason);
        snprintf(detail, sizeof detail, "malformed JSON at line %d, column %d (byte %d): %s",
                 je.line, je.column, je.position, reason);
        http_resp_error(&ex->resp, 400, "malformed_json", detail);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        http_resp_error(&ex->resp, 422, "invalid_body", "the body must be a JSON object");
        return NULL;
    }
    return obj;
}
