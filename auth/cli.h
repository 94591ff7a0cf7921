/* cli.h: `portcullis user add NAME [--admin] | list | disable NAME | enable NAME |
 * delete NAME | role NAME admin|user | unlock NAME | mfa-reset NAME |
 * reset-password NAME`.
 * The way the first admin is created: locally, never over the network.
 * Passwords come from standard input (echo off on a terminal), never argv. */
#ifndef PC_AUTH_CLI_H
#define PC_AUTH_CLI_H

#include "server/config.h"

/* argv[0] is "user". Returns the process exit code (0, 1 failure, 2 usage).
 * A missing database file is an error naming its path (never created here). */
int auth_cli_user(const struct config *cfg, int argc, char **argv);

#endif
