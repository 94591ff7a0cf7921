/* cli.h: `portcullis user add NAME [--admin] | list | disable NAME | enable NAME`.
 * The way the first admin is created: locally, never over the network.
 * Passwords come from standard input (echo off on a terminal), never argv. */
#ifndef PC_AUTH_CLI_H
#define PC_AUTH_CLI_H

#include "server/config.h"

/* argv[0] is "user". Returns the process exit code (0, 1 failure, 2 usage). */
/* Hashes with the argon2 parameters of `auth`; opens the database of `db`. */
int auth_cli_user(const struct auth_config *auth, const struct db_config *db, int argc,
                  char **argv);

#endif
