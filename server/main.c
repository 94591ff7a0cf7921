/* main.c: the `portcullis` binary. Parses the command line, loads the
 * config, runs a command or serves: the wiring itself is the composition
 * root's (server/root.c), the same an application gets through
 * server/portcullis.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cli.h"
#include "auth/cli_db.h"
#include "demo/demo.h"
#include "server/config.h"
#include "server/log.h"
#include "server/root.h"
#include "tls/certcheck.h"
#include "tls/certgen.h"
#include "tls/tls.h"

struct cli {
    const char *config_path;
    const char *command; /* NULL = serve */
    int demo;
    int check_config;
    int sub_argc; /* "user ..." / "demo ...": the words from there on */
    char **sub_argv;
};

static void usage(FILE *f)
{
    fputs("usage: portcullis [--config FILE] [--demo]     run the server\n"
          "       portcullis --check-config [--config FILE] validate a config file\n"
          "       portcullis gen-cert [--config FILE]       create the dev CA and certificate\n"
          "       portcullis [--config FILE] user add NAME [--admin] | list | disable NAME | "
          "enable NAME | delete NAME | role NAME admin|user | unlock NAME | mfa-reset NAME | "
          "reset-password NAME\n"
          "       portcullis [--config FILE] keys rotate | list  the signing key set\n"
          "       portcullis [--config FILE] backup FILE  consistent copy of the live database\n"
          "       portcullis [--config FILE] restore FILE put a backup back (server stopped)\n"
          "       portcullis [--config FILE] db migrate   create or upgrade the store's schema\n"
          "       portcullis [--config FILE] db copy --from SOURCE [--to TARGET]\n"
          "                                       copy a store (e.g. SQLite) into an empty one\n"
          "       portcullis [--config FILE] demo [https://HOST:PORT] [--http http://HOST:PORT] "
          "[--cacert FILE]\n"
          "                                       HTTP vs HTTPS side by side (demo --help)\n"
          "       portcullis --version | --help\n",
          f);
}

/* Returns 0, 1 to exit successfully now, or -1 on a usage error. */
static int cli_parse(struct cli *cli, int argc, char **argv)
{
    memset(cli, 0, sizeof *cli);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "portcullis: %s needs a file\n", a);
                return -1;
            }
            cli->config_path = argv[i];
        } else if (strcmp(a, "--demo") == 0) {
            cli->demo = 1;
        } else if (strcmp(a, "--check-config") == 0) {
            cli->check_config = 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("portcullis %s\n", PC_VERSION);
            return 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (cli->command == NULL && strcmp(a, "gen-cert") == 0) {
            cli->command = a;
        } else if (cli->command == NULL &&
                   (strcmp(a, "user") == 0 || strcmp(a, "demo") == 0 || strcmp(a, "backup") == 0 ||
                    strcmp(a, "restore") == 0 || strcmp(a, "keys") == 0 || strcmp(a, "db") == 0)) {
            cli->command = a;
            cli->sub_argc = argc - i;
            cli->sub_argv = argv + i;
            break; /* the rest belongs to the subcommand */
        } else if (cli->check_config && cli->config_path == NULL && a[0] != '-') {
            cli->config_path = a;
        } else {
            fprintf(stderr, "portcullis: unknown argument '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int load_config(struct config *cfg, const struct cli *cli)
{
    char err[512];
    config_defaults(cfg);
    if (cli->config_path) {
        if (config_load_file(cfg, cli->config_path, err, sizeof err) != 0) {
            fprintf(stderr, "portcullis: %s\n", err);
            return -1;
        }
    } else {
        config_apply_env(cfg);
    }
    if (cli->demo)
        cfg->server.demo = true;
    if (config_validate(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return -1;
    }
    return 0;
}

/* --check-config: the file parsed and validated (load_config); a configured
 * certificate and key also load and match. Exit 0, or 2 like a bad config. */
static int check_config(const struct config *cfg, const char *path)
{
    char err[512], warn[512];
    if (cfg->tls.cert_file[0] != '\0' &&
        tls_check_cert_files(cfg->tls.cert_file, cfg->tls.key_file, warn, sizeof warn, err,
                             sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 2;
    }
    if (cfg->tls.cert_file[0] != '\0' && warn[0] != '\0')
        fprintf(stderr, "portcullis: warning: %s\n", warn);
    printf("config %s: ok\n", path ? path : "(defaults)");
    return 0;
}

static int cmd_gen_cert(const struct config *cfg)
{
    struct tls_dev_paths p;
    char err[512];
    if (tls_certgen_dev(cfg->tls.dev_cert_dir, &p, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 1;
    }
    printf("%s dev certificate %s (key %s)\nCA for clients: %s\n",
           p.generated ? "created" : "kept existing", p.cert_file, p.key_file, p.ca_file);
    return 0;
}

static int serve(const struct config *cfg, const struct cli *cli)
{
    char err[512];
    struct pc_server *s = NULL;
    if (root_server_new(&s, cfg, cli->config_path, cli->demo, err, sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    int rc = pc_server_run(s) == 0 ? 0 : 1;
    pc_server_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli cli;
    struct config cfg;
    char err[256];
    int rc = cli_parse(&cli, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (load_config(&cfg, &cli) != 0)
        return 2;
    if (tls_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 1;
    }
    if (cli.check_config)
        return check_config(&cfg, cli.config_path);
    if (cli.command && strcmp(cli.command, "gen-cert") == 0)
        return cmd_gen_cert(&cfg);
    if (cli.command && strcmp(cli.command, "user") == 0)
        return auth_cli_user(&cfg.auth, &cfg.db, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "keys") == 0)
        return auth_cli_keys(&cfg.auth, &cfg.db, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "db") == 0)
        return auth_cli_db(&cfg.db, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "backup") == 0)
        return auth_cli_backup(&cfg.db, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "restore") == 0)
        return auth_cli_restore(&cfg.db, &cfg.server, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "demo") == 0)
        return demo_cli(&cfg, cli.sub_argc, cli.sub_argv);
    return serve(&cfg, &cli);
}
