/* config_gateway.h: the "gateway" section of the config file (internal to
 * server/config*.c): loading the route list and checking it. */
#ifndef PC_CONFIG_GATEWAY_H
#define PC_CONFIG_GATEWAY_H

#include <jansson.h>
#include <stddef.h>

#include "server/config.h"

/* Replaces *g with the section's routes (missing keys take their
 * defaults). 0, or -1 with the reason in msg (*g untouched). */
int config_gateway_apply(struct gateway_config *g, json_t *section, char *msg, size_t msglen);

/* Access rules, prefixes (shape, repeats, overlap with the server's own
 * paths) and upstream addresses, whose host names are resolved now (this
 * may block on DNS: start-up and --check-config only). 0 or -1 with msg. */
int config_gateway_validate(const struct gateway_config *g, char *msg, size_t msglen);

#endif
