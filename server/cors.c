/* cors.c: see cors.h. Origins are compared byte for byte: browsers send the
 * serialised origin (lower-case scheme and host, no default port), and the
 * config check makes the listed ones look the same. */
#include "server/cors.h"

#include <stdio.h>
#include <string.h>

int cors_origin_valid(const char *o)
{
    const char *host;
    if (strncmp(o, "https://", 8) == 0)
        host = o + 8;
    else if (strncmp(o, "http://", 7) == 0)
        host = o + 7;
    else
        return 0;
    if (*host == '\0')
        return 0;
    int colon = 0, bracket = host[0] == '[';
    for (const char *p = host; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            return 0; /* browsers send lower case: a listed upper case never matches */
        if (c == ']' && bracket)
            bracket = 0;
        else if (c == ':' && !bracket)
            colon = 1;
        else if (colon && (c < '0' || c > '9'))
            return 0;
        else if (!colon && !(c == '.' || c == '-' || c == '[' || c == ':' ||
                             (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return !bracket && host[strlen(host) - 1] != ':';
}

static int cors_listed(const struct config_list *origins, struct str origin)
{
    if (origin.p == NULL || origin.n == 0)
        return 0;
    for (int i = 0; i < origins->n; i++)
        if (strlen(origins->item[i]) == origin.n &&
            memcmp(origins->item[i], origin.p, origin.n) == 0)
            return 1;
    return 0;
}

void cors_response(const struct config_list *origins, const struct http_request *req,
                   struct http_response *resp)
{
    if (origins->n == 0)
        return;
    http_resp_header(resp, "Vary", "Origin");
    struct str origin = http_req_header(req, "Origin");
    if (!cors_listed(origins, origin))
        return;
    char value[CONFIG_ITEM_MAX];
    snprintf(value, sizeof value, "%.*s", (int)origin.n, origin.p);
    http_resp_header(resp, "Access-Control-Allow-Origin", value);
    http_resp_header(resp, "Access-Control-Allow-Credentials", "true");
    http_resp_header(resp, "Access-Control-Expose-Headers",
                     "X-Request-Id, Retry-After, WWW-Authenticate");
}

void cors_preflight(const struct config_list *origins, int max_age_s,
                    const struct http_request *req, struct http_response *resp, const char *allow)
{
    if (!cors_listed(origins, http_req_header(req, "Origin")) ||
        http_req_header(req, "Access-Control-Request-Method").p == NULL)
        return;
    char age[16];
    snprintf(age, sizeof age, "%d", max_age_s);
    http_resp_header(resp, "Access-Control-Allow-Methods", allow);
    http_resp_header(resp, "Access-Control-Allow-Headers",
                     "Authorization, Content-Type, X-Request-Id");
    http_resp_header(resp, "Access-Control-Max-Age", age);
}
