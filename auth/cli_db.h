/* cli_db.h: `portcullis db migrate` and `portcullis db copy --from SOURCE
 * [--to TARGET]`, the operator's commands on the store itself. */
#ifndef PC_AUTH_CLI_DB_H
#define PC_AUTH_CLI_DB_H

#include "server/config.h"

/* argv[0] is "db". `migrate` brings the configured store (db.url, or
 * db.path) to this build's schema version, creating it when empty (several
 * instances may run it at once: see db_migrate). `copy` copies every row of
 * the store SOURCE (a SQLite file, which must exist, or a URL) into TARGET
 * (a URL or file; default: the configured store), which must be empty: how
 * a single node moves to PostgreSQL with its users' passwords intact. A URL
 * is never printed. Returns the exit code (0, 1 failure, 2 usage). */
int auth_cli_db(const struct db_config *db, int argc, char **argv);

#endif
