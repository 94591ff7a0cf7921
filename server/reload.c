/* reload.c: see reload.h. */
#include "server/reload.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "server/log.h"

/* The sections (and, for "server", the keys) a reload cannot change. */
static void reload_report_restart(const struct config *run, const struct config *next)
{
    struct server_config a = run->server, b = next->server;
    /* The reloadable keys of "server" are not compared. */
    b.log_level = a.log_level;
    memcpy(b.log_format, a.log_format, sizeof b.log_format);
    b.trusted_proxies = a.trusted_proxies;
    static const struct {
        const char *name;
        size_t off, size;
    } sec[] = {
#define SEC(s) { #s, offsetof(struct config, s), sizeof(((struct config *)0)->s) }
        SEC(limits), SEC(timeouts), SEC(tls),     SEC(db),      SEC(pool),
        SEC(auth),   SEC(demo),     SEC(metrics), SEC(gateway),
#undef SEC
    };
    if (memcmp(&a, &b, sizeof a) != 0)
        log_warn("SIGHUP: 'server' changed beyond log_level, log_format and trusted_proxies: "
                 "restart to apply");
    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++)
        if (memcmp((const char *)run + sec[i].off, (const char *)next + sec[i].off, sec[i].size) !=
            0)
            log_warn("SIGHUP: '%s' changed: restart to apply", sec[i].name);
}

void reload_config(void *arg)
{
    struct reload_ctx *rc = arg;
    char err[512];
    if (rc->path == NULL) {
        log_info("SIGHUP: started without --config, no config file to reload");
        return;
    }
    struct config *next = malloc(sizeof *next);
    if (next == NULL) {
        log_error("SIGHUP: out of memory, config not reloaded");
        return;
    }
    config_defaults(next);
    int bad = config_load_file(next, rc->path, err, sizeof err) != 0;
    if (!bad && rc->demo)
        next->server.demo = true; /* as at start: --demo wins over the file */
    if (bad || config_validate(next, err, sizeof err) != 0) {
        log_error("SIGHUP: %s; keeping the running config", err);
        free(next);
        return;
    }
    if (server_reconfigure(rc->srv, next) != 0) {
        log_error("SIGHUP: out of memory, config not reloaded");
        free(next);
        return;
    }
    if (rc->apply != NULL && rc->apply(next, rc->apply_arg) < 0)
        log_error("SIGHUP: some settings could not be applied; see above");
    log_set_level(next->server.log_level);
    log_set_format(strcmp(next->server.log_format, "json") == 0 ? LOG_FORMAT_JSON
                                                                : LOG_FORMAT_TEXT);
    reload_report_restart(rc->running, next);
    log_info("SIGHUP: config reloaded from %s (log level %s, format %s, %d CORS origins, "
             "%d trusted proxies)",
             rc->path, log_level_name(next->server.log_level), next->server.log_format,
             next->http.cors_origins.n, next->server.trusted_proxies.n);
    free(next);
}
