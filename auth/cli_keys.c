/* cli_keys.c: `portcullis keys rotate | list` (cli.h), the operator's view
 * of the key set (keyset.h). Runs beside the running instances: they read
 * the set again every few seconds (keyring.h), or at once on SIGHUP. */
#include "auth/cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "auth/handlers.h"
#include "auth/keyring.h"
#include "auth/keyset.h"
#include "db/admin.h"
#include "db/db.h"
#include "db/keys.h"

static int keys_usage(void)
{
    fputs("usage: portcullis [--config FILE] keys rotate   new signing key; the old one retires\n"
          "       portcullis [--config FILE] keys list     the signing keys in the store\n",
          stderr);
    return 2;
}

struct listing {
    int64_t now, window_s;
    int active_seen;
};

static int print_key(void *arg, const struct db_signing_key *k)
{
    struct listing *l = arg;
    char created[32], until[32] = "-";
    const char *state = "active";
    if (k->retired_at != 0) {
        int64_t end = k->retired_at + AUTH_KEYSET_GRACE_S + l->window_s;
        auth_time_text(end, until);
        state = end > l->now ? "retired" : "expired";
    } else if (l->active_seen) {
        state = "superseded"; /* a newer active key signs; this one still verifies */
    }
    l->active_seen |= k->retired_at == 0;
    auth_time_text(k->created_at, created);
    printf("%-44s %-10s %-20s %s\n", k->kid, state, created, until);
    return 0;
}

static int keys_list(struct db *db, int64_t window_s)
{
    struct listing l = { (int64_t)time(NULL), window_s, 0 };
    char kid[AUTH_TOKEN_KID_BUF], err[512];
    printf("%-44s %-10s %-20s %s\n", "kid", "state", "created", "verifies until");
    if (db_signing_key_list(db, INT64_MIN, print_key, &l) != 0) {
        fprintf(stderr, "portcullis: %s\n", db_errmsg(db));
        return 1;
    }
    if (auth_keyset_signer(db, window_s, l.now, kid, err, sizeof err) == 0)
        printf("signing now: %s\n", kid);
    return 0;
}

static int keys_rotate(struct db *db, const struct auth_config *cfg, int64_t window_s)
{
    unsigned char master[AUTH_SEAL_KEY_LEN];
    struct auth_token_opts opts = { cfg->issuer, cfg->audience, cfg->access_ttl_s, cfg->leeway_s };
    char err[512], kid[AUTH_TOKEN_KID_BUF], until[32], from[32];
    int64_t now = (int64_t)time(NULL);
    int rc = 1;
    if (strcmp(cfg->jwt_alg, "HS256") == 0) {
        fprintf(stderr, "portcullis: auth.jwt_alg is HS256: tokens are signed with "
                        "auth.jwt_secret, which the key set does not hold\n");
        return 1;
    }
    if (auth_master_key_load(db, cfg->master_key_file, 0, master, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s\n", err);
        return 1;
    }
    int drc = db_begin(db);
    if (drc != 0) {
        fprintf(stderr, "portcullis: %s\n", db_errmsg(db));
        goto out;
    }
    if (auth_keyset_rotate(db, master, &opts, window_s, now, kid, err, sizeof err) != 0) {
        fprintf(stderr, "portcullis: %s (start the server once to create the key set)\n", err);
        db_rollback(db);
        goto out;
    }
    if ((drc = db_audit_add_by(db, "cli_keys_rotate", 0, NULL, 0, "local", kid, now)) != 0 ||
        (drc = db_commit(db)) != 0) {
        fprintf(stderr, "portcullis: %s\n", db_errmsg(db));
        db_rollback(db);
        goto out;
    }
    auth_time_text(now + AUTH_KEYSET_PUBLISH_S, from);
    auth_time_text(now + AUTH_KEYSET_GRACE_S + window_s, until);
    printf("signing key %s added: every instance verifies it within %d seconds and signs "
           "with it from %s on;\nthe previous key verifies until %s.\n",
           kid, AUTH_KEYRING_REFRESH_S, from, until);
    rc = 0;
out:
    mbedtls_platform_zeroize(master, sizeof master);
    return rc;
}

int auth_cli_keys(const struct auth_config *auth, const struct db_config *dbc, int argc,
                  char **argv)
{
    struct db *db = NULL;
    int rc;
    int64_t window_s = (int64_t)auth->access_ttl_s + auth->leeway_s;
    if (argc != 2 || (strcmp(argv[1], "rotate") != 0 && strcmp(argv[1], "list") != 0))
        return keys_usage();
    if (auth_cli_open_store(dbc, &db) != 0)
        return 1;
    rc = strcmp(argv[1], "rotate") == 0 ? keys_rotate(db, auth, window_s) : keys_list(db, window_s);
    db_close(db);
    return rc;
}
