/* token_cache.h: a per-event-loop cache of access tokens that already passed
 * auth_token_verify. A client presents the same token on every request for
 * its whole lifetime, and verifying an ES256 signature through libjwt costs
 * far more than the request itself (libjwt re-parses the PEM key with
 * OpenSSL on every call), so each loop remembers the verdicts it reached.
 *
 * Only successes are cached, matched on the whole token (a token that
 * differs in any byte is verified afresh), and a hit is honoured only
 * while the token is unexpired by the same rule as auth_token_verify. The
 * account checks (disabled, token epoch) are not cached: the middleware
 * still runs them on every request. One loop, one cache: no locking. */
#ifndef PC_AUTH_TOKEN_CACHE_H
#define PC_AUTH_TOKEN_CACHE_H

#include <stdint.h>

#include "auth/token.h"

struct auth_token_cache;

/* entries: slots of a direct-mapped table (rounded to a power of two). */
struct auth_token_cache *auth_token_cache_new(unsigned entries);
void auth_token_cache_free(struct auth_token_cache *c); /* NULL ok */

/* auth_token_verify with memory: same return values and claims. */
int auth_token_cache_verify(struct auth_token_cache *c, const struct auth_tokens *t,
                            const char *token, int64_t now, int leeway_s,
                            struct auth_claims *claims);

#endif
