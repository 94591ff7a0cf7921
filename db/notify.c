/* notify.c: see notify.h. LISTEN and the notifications, through libpq. */
#include "db/notify.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static int listen_all(struct db *db)
{
    return db_pg_exec_plain(db, "LISTEN portcullis_user; LISTEN portcullis_session");
}

int db_listen(struct db *db)
{
    if (db->backend != DB_PG)
        return db_failf(db, DB_ERROR, "notifications need a PostgreSQL store");
    return listen_all(db);
}

/* A notification already read off the connection, if any: 1 or 0. */
static int take(struct db *db, int *kind, int64_t *id)
{
    PGnotify *n;

    while ((n = PQnotifies(db->pg)) != NULL) {
        int k = strcmp(n->relname, "portcullis_user") == 0      ? DB_CHANGE_USER
                : strcmp(n->relname, "portcullis_session") == 0 ? DB_CHANGE_SESSION
                                                                : 0;
        int64_t v = strtoll(n->extra, NULL, 10);

        PQfreemem(n);
        if (k && v > 0) {
            *kind = k;
            *id = v;
            return 1;
        }
    }
    return 0;
}

int db_next_change(struct db *db, int timeout_ms, int *kind, int64_t *id)
{
    struct pollfd p;

    if (db->broken || PQstatus(db->pg) != CONNECTION_OK) {
        if (db_pg_ready(db) != 0 || listen_all(db) != 0)
            return DB_ERROR;
        *kind = DB_CHANGE_ALL;
        *id = 0;
        return 1;
    }
    if (take(db, kind, id))
        return 1;
    p.fd = PQsocket(db->pg);
    p.events = POLLIN;
    p.revents = 0;
    if (p.fd < 0 || poll(&p, 1, timeout_ms) < 0)
        return 0; /* EINTR, or nothing to wait on: the caller comes back */
    if (p.revents && PQconsumeInput(db->pg) == 0) {
        db_pg_fail(db, NULL); /* records the message, notices the loss */
        db->broken = 1;
        return DB_ERROR;
    }
    return take(db, kind, id);
}
