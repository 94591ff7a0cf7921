/* root.h: the composition root as the `portcullis` binary's main.c uses
 * it: the public API's server (server/portcullis.h) built from a config
 * main.c has already loaded, with the command line's say on reloads. */
#ifndef PC_ROOT_H
#define PC_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "server/config.h"
#include "server/portcullis.h"

/* Like pc_server_new over a loaded and validated cfg (copied).
 * config_path: the file SIGHUP reads again (NULL: nothing to reload; the
 * string must outlive the server); demo_flag: --demo was given (it wins
 * over a reloaded file). Returns 0, or -1 with err. */
int root_server_new(struct pc_server **out, const struct config *cfg, const char *config_path,
                    bool demo_flag, char *err, size_t errlen);

#endif
