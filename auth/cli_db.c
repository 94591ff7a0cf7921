/* cli_db.c: see cli_db.h. */
#include "auth/cli_db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db/copy.h"
#include "db/db.h"

static int usage(void)
{
    fprintf(stderr, "portcullis: usage: portcullis [--config FILE] db migrate\n"
                    "       portcullis [--config FILE] db copy --from SOURCE [--to TARGET]\n");
    return 2;
}

/* How a store may be shown: a path as is, a URL never (it may hold a
 * password). */
static const char *shown(const char *target) { return db_is_url(target) ? "PostgreSQL" : target; }

static struct db *open_migrated(const char *target, int busy_ms, int must_exist)
{
    char err[512];
    struct db *db = NULL;
    struct stat st;
    if (must_exist && !db_is_url(target) && stat(target, &st) != 0) {
        fprintf(stderr, "portcullis: database %s: %s\n", target, strerror(errno));
        return NULL;
    }
    if (db_open(&db, target, busy_ms, err, sizeof err) != 0 ||
        db_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: database %s: %s\n", shown(target), err);
        db_close(db);
        return NULL;
    }
    return db;
}

static int cmd_migrate(const struct db_config *cfg)
{
    struct db *db = open_migrated(config_db_target(cfg), cfg->busy_timeout_ms, 0);
    if (db == NULL)
        return 1;
    printf("database %s: schema version %d\n", config_db_name(cfg), db_schema_version(db));
    db_close(db);
    return 0;
}

static int cmd_copy(const struct db_config *cfg, const char *from, const char *to)
{
    char err[512];
    int64_t users = 0;
    int rc = 1;
    struct db *src = open_migrated(from, cfg->busy_timeout_ms, 1);
    struct db *dst = src ? open_migrated(to, cfg->busy_timeout_ms, 0) : NULL;
    if (dst != NULL) {
        if (db_copy(src, dst, &users, err, sizeof err) == 0) {
            printf("copied %lld users (with sessions, two-factor state, resets and audit) "
                   "from %s to %s\n",
                   (long long)users, shown(from), shown(to));
            rc = 0;
        } else {
            fprintf(stderr, "portcullis: copy failed, nothing written: %s\n", err);
        }
    }
    db_close(dst);
    db_close(src);
    return rc;
}

int auth_cli_db(const struct db_config *db, int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    if (argc == 2 && strcmp(argv[1], "migrate") == 0)
        return cmd_migrate(db);
    if (argc < 2 || strcmp(argv[1], "copy") != 0)
        return usage();
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc || argv[i + 1][0] == '\0')
            return usage();
        if (strcmp(argv[i], "--from") == 0)
            from = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
        else
            return usage();
    }
    if (from == NULL)
        return usage();
    if (to == NULL)
        to = config_db_target(db);
    if (strcmp(from, to) == 0) {
        fprintf(stderr, "portcullis: db copy: source and target are the same store\n");
        return 2;
    }
    return cmd_copy(db, from, to);
}
