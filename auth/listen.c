/* listen.c: see listen.h. */
#include "auth/listen.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "auth/userstate.h"
#include "db/db.h"
#include "db/notify.h"
#include "server/log.h"

struct auth_listen {
    pthread_t thread;
    atomic_int stop;
    struct db *db;
    struct auth_userstate *users, *sessions;
};

static void apply(struct auth_listen *l, int kind, int64_t id)
{
    if (kind == DB_CHANGE_USER)
        auth_userstate_forget(l->users, id);
    else if (kind == DB_CHANGE_SESSION)
        auth_userstate_forget(l->sessions, id);
    else {
        auth_userstate_forget_all(l->users);
        auth_userstate_forget_all(l->sessions);
    }
}

static void *listen_main(void *arg)
{
    struct auth_listen *l = arg;
    int down = 0;
    while (!atomic_load(&l->stop)) {
        int kind = 0;
        int64_t id = 0;
        /* A quarter second at most between looks at the stop flag. */
        int rc = db_next_change(l->db, 250, &kind, &id);
        if (rc == 1) {
            if (down)
                log_info("store announcements: reconnected");
            down = 0;
            apply(l, kind, id);
        } else if (rc < 0) {
            if (!down)
                log_error("store announcements: %s", db_errmsg(l->db));
            down = 1;
            /* Failing fast while the store is down: wait before retrying. */
            nanosleep(&(struct timespec){ 0, 250 * 1000 * 1000 }, NULL);
        }
    }
    return NULL;
}

int auth_listen_start(struct auth_listen **out, const struct auth_settings *set,
                      struct auth_userstate *users, struct auth_userstate *sessions, char *err,
                      size_t errlen)
{
    char why[512] = "";
    *out = NULL;
    if (!set->db->url[0])
        return 0;
    struct auth_listen *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "auth: out of memory");
        return -1;
    }
    l->users = users;
    l->sessions = sessions;
    if (db_open(&l->db, config_db_target(set->db), set->db->busy_timeout_ms, why, sizeof why) !=
            0 ||
        db_listen(l->db) != 0) {
        snprintf(err, errlen, "database (db.url): listening: %s", l->db ? db_errmsg(l->db) : why);
        goto fail;
    }
    if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        snprintf(err, errlen, "auth: cannot start the announcement thread");
        goto fail;
    }
    *out = l;
    return 0;
fail:
    db_close(l->db);
    free(l);
    return -1;
}

void auth_listen_stop(struct auth_listen *l)
{
    if (l == NULL)
        return;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    db_close(l->db);
    free(l);
}
