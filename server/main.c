/* main.c: the composition root. Parses the command line, loads the config,
 * wires routes into the router, starts the server and waits for signals.
 * Nothing else lives here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/cli.h"
#include "server/config.h"
#include "server/demo.h"
#include "server/log.h"
#include "server/router.h"
#include "server/server.h"
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
        } else if (cli->command == NULL && (strcmp(a, "user") == 0 || strcmp(a, "demo") == 0)) {
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
        cfg->demo = true;
    if (config_validate(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_gen_cert(const struct config *cfg)
{
    struct tls_dev_paths p;
    char err[512];
    if (tls_certgen_dev(cfg->dev_cert_dir, &p, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 1;
    }
    printf("%s dev certificate %s (key %s)\nCA for clients: %s\n",
           p.generated ? "created" : "kept existing", p.cert_file, p.key_file, p.ca_file);
    return 0;
}

static int build_routes(struct router *r, struct auth_ctx *auth, struct demo_ctx *demo)
{
    if (router_add(r, "GET", "/healthz", server_healthz, AUTH_PUBLIC, NULL) != 0)
        return -1;
    /* Outside demo mode the /demo routes do not exist at all (404). */
    if (demo != NULL && demo_add_routes(r, demo, AUTH_PUBLIC) != 0)
        return -1;
    return auth_add_routes(r, auth);
}

static int serve(const struct config *cfg)
{
    char err[512];
    struct router router;
    struct server *srv = NULL;
    struct auth_ctx auth;
    struct demo_ctx *demo = NULL;
    int rc = 1;
    memset(&auth, 0, sizeof auth);
    router_init(&router);
    log_set_level(cfg->log_level);
    /* Before any thread exists, so every thread inherits the mask. */
    server_block_signals();
    auth.cfg = cfg;
    if (cfg->demo && demo_setup(&demo, cfg, err, sizeof err) != 0) {
        log_error("%s", err);
        goto out;
    }
    if (build_routes(&router, &auth, demo) != 0) {
        log_error("cannot build the route table");
        goto out;
    }
    /* Ports and the TLS key as root; the database and the JWT key as the
     * unprivileged user, so everything it creates is its own. */
    struct server_hooks hooks = auth_server_hooks(&auth);
    if (server_setup(&srv, cfg, &router, &hooks, err, sizeof err) != 0 ||
        server_drop_privileges(srv, err, sizeof err) != 0 ||
        auth_setup(&auth, cfg, err, sizeof err) != 0) {
        log_error("%s", err);
        goto out;
    }
    if (demo != NULL)
        demo_attach(demo, srv);
    rc = server_run(srv) == 0 ? 0 : 1;
out:
    /* In-flight jobs (and a demo run) finish and post to the stopped loops;
     * then the loops deliver those completions and free their connections. */
    demo_free(demo);
    auth_free(&auth);
    server_free(srv);
    router_free(&router);
    log_info("stopped");
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
    if (cli.check_config) {
        printf("config %s: ok\n", cli.config_path ? cli.config_path : "(defaults)");
        return 0;
    }
    if (tls_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 1;
    }
    if (cli.command && strcmp(cli.command, "gen-cert") == 0)
        return cmd_gen_cert(&cfg);
    if (cli.command && strcmp(cli.command, "user") == 0)
        return auth_cli_user(&cfg, cli.sub_argc, cli.sub_argv);
    if (cli.command && strcmp(cli.command, "demo") == 0)
        return demo_cli(&cfg, cli.sub_argc, cli.sub_argv);
    return serve(&cfg);
}
