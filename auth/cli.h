/* cli.h: the operator's commands: `portcullis user add NAME [--admin] | list |
 * disable NAME | enable NAME | delete NAME | role NAME admin|user | unlock NAME |
 * mfa-reset NAME | reset-password NAME`, `keys rotate | list`, `backup FILE`,
 * `restore FILE`.
 * The way the first admin is created: locally, never over the network.
 * Passwords come from standard input (echo off on a terminal), never argv. */
#ifndef PC_AUTH_CLI_H
#define PC_AUTH_CLI_H

#include "server/config.h"

struct db;

/* Opens and migrates the configured store for a command; a missing SQLite
 * file is an error naming its path (never created here). 0 with *out (the
 * caller closes it), or 1 (the exit code) with the reason on stderr. */
int auth_cli_open_store(const struct db_config *dbc, struct db **out);

/* argv[0] is "user". Returns the process exit code (0, 1 failure, 2 usage).
 * Hashes with the argon2 parameters of `auth`; opens the database of `db`. A
 * missing database file is an error naming its path (never created here). */
int auth_cli_user(const struct auth_config *auth, const struct db_config *db, int argc,
                  char **argv);

/* argv[0] is "keys": `keys rotate` adds a new signing key to the key set
 * and retires the active one (it verifies for the access-token lifetime
 * and leeway more); `keys list` prints the set. Exit code as above. */
int auth_cli_keys(const struct auth_config *auth, const struct db_config *db, int argc,
                  char **argv);

/* argv[0] is "backup": a consistent copy of the live database to argv[1],
 * safe while the server runs (see db/backup.h). Exit code as above. */
int auth_cli_backup(const struct db_config *db, int argc, char **argv);

/* argv[0] is "restore": checks the file argv[1] and puts it in place of the
 * configured database. Refused while a server holds the configured HTTPS
 * address and port. Exit code as above. */
int auth_cli_restore(const struct db_config *db, const struct server_config *srv, int argc,
                     char **argv);

#endif
