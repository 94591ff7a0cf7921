/* cli_store.c: `portcullis backup FILE` and `portcullis restore FILE`, the
 * operator's side of db/backup.h. */
#include <stdio.h>

#include "auth/cli.h"
#include "db/backup.h"
#include "server/portlock.h"

/* `backup FILE` / `restore FILE`: argv[0] is the command word. */
static const char *cmd_file_arg(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
        fprintf(stderr, "portcullis: usage: portcullis [--config FILE] %s FILE\n", argv[0]);
        return NULL;
    }
    return argv[1];
}

int auth_cli_backup(const struct db_config *db, int argc, char **argv)
{
    char err[512];
    const char *file = cmd_file_arg(argc, argv);
    if (file == NULL)
        return 2;
    if (db_backup(config_db_target(db), file, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: backup failed: %s\n", err);
        return 1;
    }
    printf("backed up %s to %s\n", db->path, file);
    return 0;
}

/* A server using this config holds its HTTPS port: restoring under it would
 * pull the database from under its connections. */
int auth_cli_restore(const struct db_config *db, const struct server_config *srv, int argc,
                     char **argv)
{
    char err[512];
    struct portlock pl;
    const char *file = cmd_file_arg(argc, argv);
    if (file == NULL)
        return 2;
    portlock_init(&pl);
    if (portlock_claim(&pl, srv->https_address, srv->https_port, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: restore refused, stop the server first (%s)\n", err);
        return 1;
    }
    int rc = db_restore(file, config_db_target(db), err, sizeof err);
    portlock_release(&pl);
    if (rc != 0) {
        fprintf(stderr, "portcullis: restore failed: %s\n", err);
        return 1;
    }
    printf("restored %s from %s\n", db->path, file);
    return 0;
}
