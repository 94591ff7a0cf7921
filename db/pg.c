/* pg.c: the PostgreSQL half of the store, through libpq: the connection and
 * its settings, reconnecting with backoff, preparing and executing the
 * cached statements, reading results, and mapping SQLSTATEs to DB_* codes.
 * One PGconn per struct db, used by one thread, like SQLite's handle. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"

enum {
    BACKOFF_MIN_MS = 100,
    BACKOFF_MAX_MS = 5000,
    CONNECT_TIMEOUT_MS = 5000, /* a reconnection given up after this */
    STEP_WAIT_MS = 50,         /* the most one call waits on a reconnection */
    /* statement_timeout is db.busy_timeout_ms + STATEMENT_MARGIN_MS: a lock
     * wait ends first (lock_timeout), then a statement that runs on. */
    STATEMENT_MARGIN_MS = 2000,
    /* A transaction left idle (its client gone silent) is ended after
     * db.busy_timeout_ms + IDLE_TXN_MARGIN_MS, releasing its locks. */
    IDLE_TXN_MARGIN_MS = 10000,
    /* We wait for an answer at most db.busy_timeout_ms + WAIT_MARGIN_MS,
     * a little past statement_timeout, so that a server that answers
     * always answers first. */
    WAIT_MARGIN_MS = 3000
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Our message for a failed result or connection, without libpq's newline. */
static void record(struct db *db, const char *msg)
{
    size_t n;

    snprintf(db->errmsg, sizeof db->errmsg, "%s", msg && *msg ? msg : "PostgreSQL error");
    n = strlen(db->errmsg);
    while (n > 0 && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
        db->errmsg[--n] = '\0';
}

/* A failed result's message: the server's primary message and SQLSTATE
 * only. Its DETAIL may quote data (a CHECK or NOT NULL failure on users
 * prints the whole row, password hash included) and never reaches a log.
 * A result libpq made itself (no SQLSTATE: the connection failed) says
 * nothing of the data and is kept whole. */
static void record_result(struct db *db, const PGresult *res)
{
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    char msg[sizeof db->errmsg];

    if (!state) {
        record(db, PQresultErrorMessage(res));
        return;
    }
    snprintf(msg, sizeof msg, "%s (SQLSTATE %s)", primary && *primary ? primary : "error", state);
    record(db, msg);
}

/* Every statement cached on the old connection is gone with it. */
static void forget_prepared(struct db *db)
{
    for (int i = 0; i < DB_STMT_COUNT; i++)
        db->stmts[i].prepared = 0;
}

/* Session settings, applied on every (re)connection. Static SQL with our
 * own integer only. */
static int configure(struct db *db)
{
    char sql[256];

    snprintf(sql, sizeof sql,
             "SET lock_timeout = %d; SET statement_timeout = %d; "
             "SET idle_in_transaction_session_timeout = %d; "
             "SET client_min_messages = warning; SET TIME ZONE 'UTC'",
             db->busy_timeout_ms, db->busy_timeout_ms + STATEMENT_MARGIN_MS,
             db->busy_timeout_ms + IDLE_TXN_MARGIN_MS);
    return db_pg_exec_plain(db, sql);
}

static void mark_broken(struct db *db)
{
    if (!db->broken) {
        db->broken = 1;
        db->backoff_ms = BACKOFF_MIN_MS;
        db->retry_at_ms = mono_ms();
    }
}

/* A reconnection that failed: the next one waits out the backoff. */
static int reconnect_failed(struct db *db, const char *why)
{
    record(db, why);
    db->connecting = 0;
    db->retry_at_ms = mono_ms() + db->backoff_ms;
    db->backoff_ms = db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : db->backoff_ms * 2;
    return DB_ERROR;
}

/* Advances a reconnection started by PQresetStart for at most STEP_WAIT_MS:
 * the caller (often an event loop) never waits on a silent host for longer;
 * the next call goes on where this one stopped. 0 when connected. */
static int reconnect_step(struct db *db)
{
    int64_t now = mono_ms(), until = now + STEP_WAIT_MS;

    for (;;) {
        struct pollfd p = { PQsocket(db->pg), db->poll_for == 1 ? POLLIN : POLLOUT, 0 };
        int64_t left = until - now;

        if (p.fd < 0)
            return reconnect_failed(db, PQerrorMessage(db->pg));
        if (now >= db->connect_deadline_ms)
            return reconnect_failed(db, "PostgreSQL: timeout reconnecting");
        if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0) {
            if (mono_ms() >= until)
                return db_failf(db, DB_ERROR, "PostgreSQL connection lost; reconnecting");
            now = mono_ms();
            continue; /* EINTR */
        }
        switch (PQconnectPoll(db->pg)) {
        case PGRES_POLLING_OK: db->connecting = 0; return 0;
        case PGRES_POLLING_READING: db->poll_for = 1; break;
        case PGRES_POLLING_WRITING: db->poll_for = 2; break;
        default: return reconnect_failed(db, PQerrorMessage(db->pg));
        }
        now = mono_ms();
    }
}

int db_pg_ready(struct db *db)
{
    if (!db->broken && PQstatus(db->pg) == CONNECTION_OK)
        return 0;
    mark_broken(db);
    if (!db->connecting) {
        if (mono_ms() < db->retry_at_ms)
            return db_failf(db, DB_ERROR, "PostgreSQL connection lost; reconnecting");
        forget_prepared(db);
        if (!PQresetStart(db->pg))
            return reconnect_failed(db, PQerrorMessage(db->pg));
        db->connecting = 1;
        db->poll_for = 2;
        db->connect_deadline_ms = mono_ms() + CONNECT_TIMEOUT_MS;
    }
    if (reconnect_step(db) != 0)
        return DB_ERROR;
    db->broken = 0;
    if (configure(db) != 0) {
        char why[sizeof db->errmsg];

        memcpy(why, db->errmsg, sizeof why);
        mark_broken(db);
        return reconnect_failed(db, why);
    }
    return 0;
}

/* Maps a failed result to a DB_* code and records its message. */
int db_pg_fail(struct db *db, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (res)
        record_result(db, res);
    else
        record(db, PQerrorMessage(db->pg));
    if (PQstatus(db->pg) != CONNECTION_OK) {
        mark_broken(db);
        return DB_ERROR;
    }
    if (!state)
        return DB_ERROR;
    if (strcmp(state, "23505") == 0) /* unique_violation */
        return DB_CONFLICT;
    if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        return DB_NOTFOUND;
    if (strcmp(state, "40001") == 0 || /* serialization_failure */
        strcmp(state, "40P01") == 0 || /* deadlock_detected */
        strcmp(state, "55P03") == 0 || /* lock_not_available (lock_timeout) */
        strcmp(state, "57014") == 0)   /* query_canceled (statement_timeout) */
        return DB_BUSY;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
        mark_broken(db); /* connection exception, admin shutdown */
        return DB_ERROR;
    }
    return DB_ERROR;
}

/* Keeps the first failed result of a query's results, else the last. */
static PGresult *keep_result(PGresult *kept, PGresult *res)
{
    ExecStatusType k = kept ? PQresultStatus(kept) : PGRES_COMMAND_OK;

    if (kept && k != PGRES_COMMAND_OK && k != PGRES_TUPLES_OK) {
        PQclear(res);
        return kept;
    }
    PQclear(kept);
    return res;
}

/* Waits on the socket for `events` until the deadline: 1 ready, 0 the
 * deadline passed. */
static int wait_socket(struct db *db, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { PQsocket(db->pg), events, 0 };
        int64_t left = deadline - mono_ms();
        int n;

        if (left <= 0)
            return 0;
        if ((n = poll(&p, 1, (int)left)) > 0)
            return 1;
        if (n == 0)
            return 0; /* else EINTR */
    }
}

/* After a PQsend*: sends what libpq holds and reads the answer, waiting
 * at most db.busy_timeout_ms + WAIT_MARGIN_MS in all, so that a server
 * that stops answering (stopped, or a host gone silent) never holds the
 * caller (often an event loop) for longer. 0 with *out (the first failed
 * result, else the last; NULL when there was none). On the deadline the
 * connection is marked broken (the next use reconnects) and DB_BUSY
 * returned; when the connection fails, DB_ERROR. */
static int await(struct db *db, PGresult **out)
{
    int limit = db->long_wait_ms > 0 ? db->long_wait_ms : db->busy_timeout_ms + WAIT_MARGIN_MS;
    int64_t deadline = mono_ms() + limit;
    PGresult *kept = NULL, *res;
    int flushing = 1;

    *out = NULL;
    for (;;) {
        if (flushing && (flushing = PQflush(db->pg)) < 0)
            goto lost;
        if (!flushing && !PQisBusy(db->pg)) {
            if (!(res = PQgetResult(db->pg)))
                break;
            kept = keep_result(kept, res);
            continue;
        }
        if (!wait_socket(db, flushing ? POLLIN | POLLOUT : POLLIN, deadline)) {
            PQclear(kept);
            mark_broken(db);
            return db_failf(db, DB_BUSY, "PostgreSQL: no answer within %d ms", limit);
        }
        if (!PQconsumeInput(db->pg))
            goto lost;
    }
    *out = kept;
    return 0;
lost:
    PQclear(kept);
    record(db, PQerrorMessage(db->pg));
    mark_broken(db);
    return DB_ERROR;
}

/* Runs a query sent or not (sent 0: PQerrorMessage says why) to its
 * results: 0 with *out, or an error (DB_* code, recorded). */
static int finish(struct db *db, int sent, PGresult **out)
{
    ExecStatusType s;
    int rc;

    *out = NULL;
    if (!sent) {
        record(db, PQerrorMessage(db->pg));
        if (PQstatus(db->pg) != CONNECTION_OK)
            mark_broken(db);
        return DB_ERROR;
    }
    if ((rc = await(db, out)) != 0)
        return rc;
    s = PQresultStatus(*out);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        rc = db_pg_fail(db, *out);
        PQclear(*out);
        *out = NULL;
    }
    return rc;
}

int db_pg_query_plain(struct db *db, const char *sql, PGresult **out)
{
    return finish(db, PQsendQuery(db->pg, sql), out);
}

int db_pg_exec_plain(struct db *db, const char *sql)
{
    PGresult *res = NULL;
    int rc = db_pg_query_plain(db, sql, &res);

    PQclear(res);
    return rc;
}

/* Our ?N placeholders as PostgreSQL's $N, outside quoted literals. */
static int rewrite(const char *sql, char *out, size_t size)
{
    size_t o = 0;
    char quote = 0;

    for (const char *p = sql; *p; p++) {
        char c = *p;

        if (quote && c == quote)
            quote = 0;
        else if (!quote && (c == '\'' || c == '"'))
            quote = c;
        else if (!quote && c == '?')
            c = '$';
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static Oid type_oid(char letter)
{
    switch (letter) {
    case 't': return 25; /* text */
    case 'i':
    case 'r':
    case 'n': return 20; /* int8 */
    default: return 17;  /* bytea */
    }
}

static int prepare(struct db *db, struct db_stmt *st)
{
    char name[16], text[2048];
    Oid types[DB_MAX_PARAMS];
    PGresult *res = NULL;
    int rc;

    if (rewrite(st->sql, text, sizeof text) != 0)
        return db_failf(db, DB_ERROR, "statement %d too long", (int)st->id);
    for (int i = 0; i < st->nparams; i++)
        types[i] = type_oid(st->types[i]);
    snprintf(name, sizeof name, "s%d", (int)st->id);
    rc = finish(db, PQsendPrepare(db->pg, name, text, st->nparams, types), &res);
    PQclear(res);
    if (rc == 0)
        st->prepared = 1;
    return rc;
}

static int execute_once(struct db *db, struct db_stmt *st)
{
    char name[16];
    PGresult *res = NULL;
    int rc;

    if ((rc = db_pg_ready(db)) != 0)
        return rc;
    if (!st->prepared && (rc = prepare(db, st)) != 0)
        return rc;
    snprintf(name, sizeof name, "s%d", (int)st->id);
    rc = finish(
        db, PQsendQueryPrepared(db->pg, name, st->nparams, st->values, st->lengths, st->formats, 0),
        &res);
    if (rc != 0)
        return rc;
    if (!res) {
        record(db, "PostgreSQL: no result");
        return DB_ERROR;
    }
    db->changes = strtoll(PQcmdTuples(res), NULL, 10);
    st->res = res;
    st->row = -1;
    return 0;
}

/* A connection that died while idle (PostgreSQL restarted) is noticed only
 * by the next statement. A read outside a transaction is repeated once on a
 * new connection at once, so that a restart costs the reads nothing; a
 * write is not repeated (it may have been applied before the connection
 * dropped): it fails, and the caller answers 503. */
int db_pg_execute(struct db *db, struct db_stmt *st)
{
    int idle = !db->broken && !db_pg_in_txn(db);
    int rc = execute_once(db, st);

    if (rc == DB_ERROR && idle && db->broken && strncmp(st->sql, "SELECT", 6) == 0) {
        db->retry_at_ms = 0;
        rc = execute_once(db, st);
    }
    return rc;
}

void db_pg_clear(struct db_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    PQfreemem(st->blob);
    st->blob = NULL;
    st->row = -1;
}

int db_pg_in_txn(struct db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(db->pg);

    /* A connection given up on (no answer in time) is reset by its next
     * use: like a lost one, it has no transaction left to go on with. */
    if (db->broken)
        return 0;

    if (t == PQTRANS_INERROR)
        return 2;
    return t == PQTRANS_INTRANS || t == PQTRANS_ACTIVE;
}

int db_pg_rows(const struct db_stmt *st) { return st->res ? PQntuples(st->res) : 0; }

static int valid(const struct db_stmt *st, int col)
{
    return st->res && st->row >= 0 && st->row < PQntuples(st->res) && col >= 0 &&
           col < PQnfields(st->res);
}

int db_pg_isnull(const struct db_stmt *st, int col)
{
    return !valid(st, col) || PQgetisnull(st->res, st->row, col);
}

const char *db_pg_value(const struct db_stmt *st, int col)
{
    return valid(st, col) ? PQgetvalue(st->res, st->row, col) : "";
}

const void *db_pg_blob(struct db_stmt *st, int col, size_t *len)
{
    *len = 0;
    if (db_pg_isnull(st, col))
        return NULL;
    PQfreemem(st->blob);
    st->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col), len);
    return st->blob;
}

int db_pg_open(struct db *db, const char *url, char *err, size_t errlen)
{
    /* Defaults the URL may override (libpq: later keywords win, and the URL
     * expands in place of dbname): a connection attempt, and a request
     * waiting on a dead server, end within seconds, not TCP's minutes; TCP
     * keepalives notice an idle connection whose host is gone. */
    static const char *const keys[] = {
        "connect_timeout",     "tcp_user_timeout", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "dbname",     NULL
    };
    const char *values[] = { "5", "10000", "1", "30", "10", "3", url, NULL };
    PQconninfoOption *parsed;
    char *why = NULL;

    /* libpq's message for an unparsable URL quotes the part it failed on,
     * which may be the password: it is never shown, only that it failed. */
    if (!(parsed = PQconninfoParse(url, &why))) {
        PQfreemem(why);
        snprintf(err, errlen, "PostgreSQL: db.url is not a valid libpq URL");
        return DB_ERROR;
    }
    PQconninfoFree(parsed);
    db->pg = PQconnectdbParams(keys, values, 1);
    if (!db->pg) {
        snprintf(err, errlen, "PostgreSQL: out of memory");
        return DB_ERROR;
    }
    if (PQstatus(db->pg) != CONNECTION_OK) {
        record(db, PQerrorMessage(db->pg));
        snprintf(err, errlen, "PostgreSQL: %s", db->errmsg);
        return DB_ERROR;
    }
    if (configure(db) != 0) {
        snprintf(err, errlen, "PostgreSQL: %s", db->errmsg);
        return DB_ERROR;
    }
    return 0;
}

void db_pg_close(struct db *db)
{
    if (db->pg && PQstatus(db->pg) == CONNECTION_OK && db_pg_in_txn(db))
        (void)db_pg_exec_plain(db, "ROLLBACK");
    PQfinish(db->pg);
    db->pg = NULL;
}
