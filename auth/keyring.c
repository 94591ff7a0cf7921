/* keyring.c: see keyring.h. */
#include "auth/keyring.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "auth/keyset.h"
#include "auth/tickets.h"
#include "db/db.h"
#include "server/clock.h"
#include "server/log.h"

#define POKE_GAP_MS 1000

/* Every snapshot ever published, newest first (see keyring.h). */
struct snapshot {
    struct auth_tokens *tokens;
    struct snapshot *older;
};

struct auth_keyring {
    _Atomic(struct auth_tokens *) current;
    struct snapshot *all;
    const struct auth_settings *set;
    struct auth_token_opts opts;
    int64_t window_s; /* a retired key verifies this long: access ttl + leeway */
    int es256;
    unsigned char master[AUTH_SEAL_KEY_LEN];
    char sig[AUTH_KEYSET_SIG_MAX]; /* what the current snapshot was read from */
    struct db *db;                 /* the thread's (at start: the main thread's) */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop, poked;
    _Atomic int64_t last_poke_ms;
};

const struct auth_tokens *auth_keyring_tokens(const struct auth_keyring *r)
{
    return atomic_load_explicit(&((struct auth_keyring *)r)->current, memory_order_acquire);
}

/* Takes t: 0, or -1 (t freed) when out of memory. */
static int publish(struct auth_keyring *r, struct auth_tokens *t, const char *sig)
{
    struct snapshot *s = malloc(sizeof *s);
    if (s == NULL) {
        auth_tokens_free(t);
        return -1;
    }
    s->tokens = t;
    s->older = r->all;
    r->all = s;
    snprintf(r->sig, sizeof r->sig, "%s", sig);
    atomic_store_explicit(&r->current, t, memory_order_release);
    return 0;
}

/* Reads the signing keys; publishes them when they changed. */
static int refresh_signing(struct auth_keyring *r, int64_t now, char *err, size_t errlen)
{
    struct auth_tokens *t = NULL;
    char sig[AUTH_KEYSET_SIG_MAX];
    int rc = auth_keyset_load(r->db, r->master, &r->opts, r->window_s, now,
                              r->all != NULL ? r->sig : NULL, sig, &t, err, errlen);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (publish(r, t, sig) != 0) {
        snprintf(err, errlen, "key set: out of memory");
        return -1;
    }
    size_t n = 0; /* the summary: the signer, then one entry per key */
    for (const char *p = sig; *p != '\0'; p++)
        n += *p == ';';
    n = n > 0 ? n - 1 : 0;
    log_info("key set: signing with kid %s (%zu key%s in the set)", auth_tokens_kid(t), n,
             n == 1 ? "" : "s");
    return 0;
}

static int refresh_tickets(struct auth_keyring *r, int64_t now, char *err, size_t errlen)
{
    const struct auth_ticket_sink *sink = &r->set->tickets;
    struct auth_ticket_key prev, cur;
    int have_prev = 0, rc = -1;

    if (sink->install == NULL)
        return 0;
    /* auth_tickets_current may fail after reading a key into cur: both
     * are wiped on every path. */
    if (auth_tickets_current(r->db, r->master, sink->lifetime_s, now, &prev, &have_prev, &cur, err,
                             errlen) != 0)
        goto out;
    sink->install(sink->arg, have_prev ? &prev : NULL, &cur);
    rc = 0;
out:
    mbedtls_platform_zeroize(&prev, sizeof prev);
    mbedtls_platform_zeroize(&cur, sizeof cur);
    return rc;
}

static void refresh(struct auth_keyring *r)
{
    char err[512];
    int64_t now = (int64_t)time(NULL);
    if (r->es256 && refresh_signing(r, now, err, sizeof err) != 0)
        log_error("%s; keeping the signing keys loaded before", err);
    if (refresh_tickets(r, now, err, sizeof err) != 0)
        log_error("%s; keeping the ticket keys installed before", err);
}

static void *keyring_main(void *arg)
{
    struct auth_keyring *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += AUTH_KEYRING_REFRESH_S;
        while (!r->stop && !r->poked &&
               pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT)
            ;
        if (r->stop)
            break;
        r->poked = 0;
        pthread_mutex_unlock(&r->lock);
        refresh(r);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void poke(struct auth_keyring *r, int force)
{
    int64_t now = (int64_t)clock_mono_ms();
    int64_t last = atomic_load_explicit(&r->last_poke_ms, memory_order_relaxed);
    if (!force && last != 0 && now - last < POKE_GAP_MS)
        return;
    if (!atomic_compare_exchange_strong(&r->last_poke_ms, &last, now) && !force)
        return; /* another thread poked just now */
    pthread_mutex_lock(&r->lock);
    r->poked = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void auth_keyring_poke(struct auth_keyring *r) { poke(r, 0); }

void auth_keyring_refresh(struct auth_keyring *r) { poke(r, 1); }

/* The master key and the first keys of an empty store, under the key set
 * lock (auth_keyset_begin), so that instances starting together agree. */
static int first_keys(struct auth_keyring *r, int64_t now, char *err, size_t errlen)
{
    const struct auth_config *cfg = r->set->auth;
    int imported = 0;
    if (auth_master_key_load(r->db, cfg->master_key_file, 1, r->master, err, errlen) != 0)
        return -1;
    if (r->es256) {
        if (auth_keyset_bootstrap(r->db, r->master, cfg->jwt_key_file, now, &imported, err,
                                  errlen) != 0)
            return -1;
        if (imported)
            log_info("key set: imported %s as the first signing key", cfg->jwt_key_file);
    }
    return refresh_tickets(r, now, err, errlen);
}

/* The first load, on the main thread: every failure stops start-up. */
static int first_load(struct auth_keyring *r, char *err, size_t errlen)
{
    const struct auth_config *cfg = r->set->auth;
    int64_t now = (int64_t)time(NULL);
    if (auth_keyset_begin(r->db, err, errlen) != 0)
        return -1;
    if (first_keys(r, now, err, errlen) != 0) {
        (void)db_rollback(r->db);
        return -1;
    }
    if (db_commit(r->db) != 0) {
        snprintf(err, errlen, "key set: %s", db_errmsg(r->db));
        return -1;
    }
    if (r->es256)
        return refresh_signing(r, now, err, errlen);
    struct auth_tokens *t = NULL;
    if (auth_tokens_load_hs256(&t, &r->opts, cfg->jwt_secret, strlen(cfg->jwt_secret), err,
                               errlen) != 0)
        return -1;
    if (publish(r, t, "") != 0) {
        snprintf(err, errlen, "key set: out of memory");
        return -1;
    }
    return 0;
}

int auth_keyring_start(struct auth_keyring **out, const struct auth_settings *set,
                       const struct auth_token_opts *opts, char *err, size_t errlen)
{
    struct auth_keyring *r = calloc(1, sizeof *r);
    char why[512] = "";
    *out = NULL;
    if (r == NULL) {
        snprintf(err, errlen, "key set: out of memory");
        return -1;
    }
    r->set = set;
    r->opts = *opts;
    r->window_s = (int64_t)opts->ttl_s + opts->leeway_s;
    r->es256 = strcmp(set->auth->jwt_alg, "HS256") != 0;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (db_open(&r->db, config_db_target(set->db), set->db->busy_timeout_ms, why, sizeof why) !=
        0) {
        snprintf(err, errlen, "key set: database (%s): %s", config_db_name(set->db), why);
        goto fail;
    }
    if (first_load(r, err, errlen) != 0)
        goto fail;
    if (pthread_create(&r->thread, NULL, keyring_main, r) != 0) {
        snprintf(err, errlen, "key set: cannot start a thread");
        goto fail;
    }
    r->started = 1;
    *out = r;
    return 0;
fail:
    auth_keyring_stop(r);
    return -1;
}

void auth_keyring_stop(struct auth_keyring *r)
{
    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stop = 1;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    db_close(r->db);
    while (r->all != NULL) {
        struct snapshot *s = r->all;
        r->all = s->older;
        auth_tokens_free(s->tokens);
        free(s);
    }
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    mbedtls_platform_zeroize(r, sizeof *r);
    free(r);
}
