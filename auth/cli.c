/* cli.c: see cli.h; the account-changing commands are in cli_admin.c. Runs in its own process next to (or without) a running
 * server: SQLite's WAL lets both write the same file. */
#include "auth/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "auth/cli_admin.h"
#include "auth/handlers.h"
#include "auth/password.h"
#include "auth/request.h"
#include "db/admin.h"
#include "db/db.h"
#include "db/users.h"

static int cli_usage(void)
{
    fputs("usage: portcullis [--config FILE] user add NAME [--admin]   (password on stdin)\n"
          "       portcullis [--config FILE] user list\n"
          "       portcullis [--config FILE] user disable NAME\n"
          "       portcullis [--config FILE] user enable NAME\n"
          "       portcullis [--config FILE] user delete NAME\n"
          "       portcullis [--config FILE] user role NAME admin|user\n"
          "       portcullis [--config FILE] user unlock NAME\n"
          "       portcullis [--config FILE] user mfa-reset NAME\n"
          "       portcullis [--config FILE] user reset-password NAME\n",
          stderr);
    return 2;
}

/* One line from stdin without its newline; echo off on a terminal. */
static int read_password(char *buf, size_t cap, size_t *len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fputs("password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *ok = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputs("\n", stderr);
    }
    if (ok == NULL)
        return -1;
    *len = strcspn(buf, "\r\n");
    buf[*len] = '\0';
    return 0;
}

static int cli_add(struct db *db, const struct auth_config *cfg, const char *name, int admin)
{
    char pw[AUTH_PW_MAX_LEN + 2], hash[AUTH_PW_HASH_MAX];
    size_t len = 0;
    struct auth_pw_params p = { (uint32_t)cfg->argon2_memory_kib, (uint32_t)cfg->argon2_iterations,
                                (uint32_t)cfg->argon2_parallelism };
    int64_t id = 0, now = (int64_t)time(NULL);
    int rc = 1;
    if (!auth_username_valid(name, strlen(name))) {
        fprintf(stderr, "portcullis: usernames are 3 to 64 characters of A-Z a-z 0-9 . _ -\n");
        return 1;
    }
    if (read_password(pw, sizeof pw, &len) != 0 || auth_pw_check_length(len) != 0) {
        fprintf(stderr, "portcullis: give a password of 8 to 1024 bytes on standard input\n");
        goto out;
    }
    if (auth_pw_hash(&p, pw, len, hash, sizeof hash) != 0) {
        fprintf(stderr, "portcullis: hashing failed\n");
        goto out;
    }
    int drc = db_begin(db);
    if (drc == 0)
        drc = db_user_create(db, name, hash, admin ? "admin" : "user", now, &id);
    if (drc == 0)
        drc = db_audit_add_by(db, "cli_user_add", id, name, 0, "local",
                              admin ? "role=admin" : "role=user", now);
    if (drc == 0)
        drc = db_commit(db);
    if (drc != 0) {
        if (drc == DB_CONFLICT)
            fprintf(stderr, "portcullis: user '%s' already exists\n", name);
        else
            fprintf(stderr, "portcullis: %s\n", db_errmsg(db));
        db_rollback(db);
        goto out;
    }
    printf("created %s '%s' (id %lld)\n", admin ? "admin" : "user", name, (long long)id);
    rc = 0;
out:
    mbedtls_platform_zeroize(pw, sizeof pw);
    return rc;
}

static int print_user(void *arg, const struct db_user *u)
{
    (void)arg;
    char created[32];
    auth_time_text(u->created_at, created);
    printf("%-6lld %-24s %-6s %-9s %s\n", (long long)u->id, u->username, u->role,
           u->disabled ? "disabled" : "active", created);
    return 0;
}

static int cli_list(struct db *db)
{
    printf("%-6s %-24s %-6s %-9s %s\n", "id", "username", "role", "state", "created");
    for (int64_t off = 0;; off += 500) {
        int64_t total = 0;
        if (db_user_list(db, off, 500, print_user, NULL) != 0 || db_user_count(db, &total) != 0) {
            fprintf(stderr, "portcullis: %s\n", db_errmsg(db));
            return 1;
        }
        if (off + 500 >= total)
            return 0;
    }
}

int auth_cli_open_store(const struct db_config *dbc, struct db **out)
{
    char err[512];
    struct stat st;
    *out = NULL;
    /* Never create a database here: a wrong working directory or config
     * would otherwise get an empty one, silently. */
    if (!dbc->url[0] && stat(dbc->path, &st) != 0) {
        fprintf(stderr,
                "portcullis: database %s: %s (start the server once to create it, or check "
                "db.path)\n",
                dbc->path, strerror(errno));
        return 1;
    }
    if (db_open(out, config_db_target(dbc), dbc->busy_timeout_ms, err, sizeof err) != 0 ||
        db_migrate(*out, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        db_close(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}

int auth_cli_user(const struct auth_config *auth, const struct db_config *dbc, int argc,
                  char **argv)
{
    struct db *db = NULL;
    int rc = 2;
    if (argc < 2)
        return cli_usage();
    if (auth_cli_open_store(dbc, &db) != 0)
        return 1;
    const char *cmd = argv[1];
    if (strcmp(cmd, "add") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "--admin") == 0)))
        rc = cli_add(db, auth, argv[2], argc == 4);
    else if (strcmp(cmd, "list") == 0 && argc == 2)
        rc = cli_list(db);
    else if ((strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) && argc == 3)
        rc = auth_cli_set_disabled(db, argv[2], strcmp(cmd, "disable") == 0);
    else if (strcmp(cmd, "delete") == 0 && argc == 3)
        rc = auth_cli_delete(db, argv[2]);
    else if (strcmp(cmd, "role") == 0 && argc == 4)
        rc = auth_cli_role(db, argv[2], argv[3]);
    else if (strcmp(cmd, "unlock") == 0 && argc == 3)
        rc = auth_cli_unlock(db, argv[2]);
    else if (strcmp(cmd, "mfa-reset") == 0 && argc == 3)
        rc = auth_cli_mfa_reset(db, argv[2]);
    else if (strcmp(cmd, "reset-password") == 0 && argc == 3)
        rc = auth_cli_reset_password(db, argv[2]);
    else
        rc = cli_usage();
    db_close(db);
    return rc;
}
