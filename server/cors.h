/* cors.h: cross-origin requests from the browser origins listed in
 * http.cors_origins (none by default: then no response carries a CORS
 * header and browsers keep other sites' pages away from the API).
 *
 * For a listed origin, every response names it in
 * Access-Control-Allow-Origin with Access-Control-Allow-Credentials (the
 * refresh cookie), and a preflight (OPTIONS with
 * Access-Control-Request-Method) also gets the methods the path accepts,
 * the request headers the API reads and a max-age. Unlisted origins get
 * nothing. Every response says Vary: Origin while a list is configured, so
 * caches keep the variants apart.
 *
 * Pure functions over the request and response; thread-safe. */
#ifndef PC_CORS_H
#define PC_CORS_H

#include "server/config.h"
#include "server/http_msg.h"

/* "https://app.example.com" or "http://127.0.0.1:5173": a scheme (http or
 * https), a host and an optional port; no path, query or trailing slash.
 * 1 or 0 (for the config check). */
int cors_origin_valid(const char *origin);

/* Adds the headers of an ordinary response (see above). */
void cors_response(const struct config_list *origins, const struct http_request *req,
                   struct http_response *resp);

/* Adds the preflight headers when req is a preflight from a listed origin;
 * allow: the methods the path accepts ("GET, POST"). */
void cors_preflight(const struct config_list *origins, int max_age_s,
                    const struct http_request *req, struct http_response *resp, const char *allow);

#endif
