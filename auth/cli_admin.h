/* cli_admin.h: `portcullis user delete NAME | role NAME admin|user |
 * unlock NAME | mfa-reset NAME | reset-password NAME | disable NAME | enable NAME` on an open, migrated database
 * (auth/cli.c opens it). Each prints one line on success and returns the
 * process exit code: 0, 1 failure (message on stderr), 2 usage. */
#ifndef PC_AUTH_CLI_ADMIN_H
#define PC_AUTH_CLI_ADMIN_H

#include "db/db.h"

int auth_cli_delete(struct db *db, const char *name);
int auth_cli_role(struct db *db, const char *name, const char *role);
int auth_cli_set_disabled(struct db *db, const char *name, int disabled);
/* Forgets the name's failed sign-ins (the lockout), account or not. */
int auth_cli_unlock(struct db *db, const char *name);
/* Turns the user's two-factor off (secret, recovery codes, pending steps). */
int auth_cli_mfa_reset(struct db *db, const char *name);
/* Prints a one-time password-reset token for the user (30 minutes). */
int auth_cli_reset_password(struct db *db, const char *name);

#endif
