/* purge.c: see purge.h. */
#include "auth/purge.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "db/db.h"
#include "db/failures.h"
#include "db/mfa.h"
#include "db/resets.h"
#include "db/sessions.h"
#include "server/log.h"

#define RESET_KEEP_S 86400 /* spent reset tokens stay a day (investigations) */

struct auth_purge {
    const struct auth_settings *set;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
};

int auth_purge_once(struct db *db, const struct auth_settings *set, long long now)
{
    int64_t tokens = 0, sessions = 0;
    int rc = db_session_purge(db, now, &tokens, &sessions);
    if (rc == 0)
        rc = db_mfa_token_purge(db, now);
    if (rc == 0)
        rc = db_reset_purge(db, now - RESET_KEEP_S);
    if (rc == 0)
        rc = db_failure_purge(db, now - set->rate_limits->lockout_max_s);
    if (rc != 0)
        log_warn("purge: database error: %s", db_errmsg(db));
    else if (tokens > 0 || sessions > 0)
        log_info("purge: %lld refresh tokens and %lld sessions removed", (long long)tokens,
                 (long long)sessions);
    return rc;
}

static void *purge_main(void *arg)
{
    struct auth_purge *p = arg;
    struct db *db = NULL;
    char err[512] = "";
    if (db_open(&db, config_db_target(p->set->db), p->set->db->busy_timeout_ms, err, sizeof err) !=
        0) {
        log_error("purge: %s: no scheduled purge", err);
        return NULL;
    }
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        auth_purge_once(db, p->set, (long long)time(NULL));
        pthread_mutex_lock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += p->interval_s;
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    db_close(db);
    return NULL;
}

int auth_purge_start(struct auth_purge **out, const struct auth_settings *set, int interval_s,
                     char *err, size_t errlen)
{
    struct auth_purge *p = calloc(1, sizeof *p);
    *out = NULL;
    if (p == NULL) {
        snprintf(err, errlen, "purge: out of memory");
        return -1;
    }
    p->set = set;
    p->interval_s = interval_s > 0 ? interval_s : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, purge_main, p) != 0) {
        snprintf(err, errlen, "purge: cannot start a thread");
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void auth_purge_stop(struct auth_purge *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
