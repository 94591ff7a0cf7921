/* fuzz_config: the configuration loader (config_load_string) and the
 * cross-field validation (config_validate).
 *
 * Input: the text of a config file (a NUL-terminated copy; an embedded NUL
 * ends it, as it would for a C string). Invariants: a failed load leaves
 * the config untouched and says why; a successful load yields a config
 * whose every field the table accepts, so validation can fail only on
 * cross-field rules; error text is a bounded, terminated string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "server/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The environment override would make verdicts depend on the shell. */
    unsetenv("PORTCULLIS_JWT_SECRET");
    return 0;
}

static void check_err(const char *err, size_t cap)
{
    FUZZ_CHECK(memchr(err, '\0', cap) != NULL);
    FUZZ_CHECK(strncmp(err, "config: ", 8) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config defaults;
    struct config cfg, before;
    char *text = malloc(size + 1);
    char err[300];
    int rc;

    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    config_defaults(&defaults);
    cfg = defaults;
    before = cfg;

    memset(err, 0, sizeof err);
    rc = config_load_string(&cfg, text, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1);
        check_err(err, sizeof err);
        FUZZ_CHECK(memcmp(&cfg, &before, sizeof cfg) == 0);
    } else {
        memset(err, 0, sizeof err);
        if (config_validate(&cfg, err, sizeof err) != 0) {
            /* Only cross-field rules may fail: the loader must never accept
             * a single value that validation's per-field pass refuses. */
            static const char *const per_field[] = {
                "must be between", "is too long",          "must not be empty",
                "must be one of",  "must not contain NUL",
            };

            check_err(err, sizeof err);
            for (size_t i = 0; i < sizeof per_field / sizeof per_field[0]; i++)
                FUZZ_CHECK(strstr(err, per_field[i]) == NULL);
        }
        FUZZ_CHECK(log_level_name(cfg.server.log_level) != NULL);
        FUZZ_CHECK(memchr(cfg.auth.jwt_secret, '\0', sizeof cfg.auth.jwt_secret) != NULL);
        FUZZ_CHECK(memchr(cfg.tls.cert_file, '\0', sizeof cfg.tls.cert_file) != NULL);
    }
    /* A tiny error buffer must be filled without overflow. */
    cfg = defaults;
    rc = config_load_string(&cfg, text, err, 5);
    FUZZ_CHECK(rc != 0 || config_validate(&cfg, err, 1) <= 0);
    free(text);
    return 0;
}
