/* copy.c: see copy.h. Table-driven: each table's columns with one letter
 * each (db_query_vals: 'i' integer, 'n' nullable integer, 't' text, 'b'
 * blob), read from the source in id order and inserted into the
 * destination with their ids, parents before children. */
#include "db/copy.h"

#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"

struct table {
    const char *read;   /* SELECT cols FROM t ORDER BY ... */
    const char *write;  /* INSERT INTO t (cols) VALUES (?1, ...) */
    const char *types;  /* one letter per column */
    const char *serial; /* PostgreSQL: the identity column's table, or NULL */
};

/* refresh_tokens.replaced_by points at a newer row: it is linked after all
 * rows are in (copy_links). */
static const struct table tables[] = {
    { "SELECT id, username, password_hash, role, disabled, token_epoch, failed_logins, "
      "locked_until, created_at, updated_at FROM users ORDER BY id",
      "INSERT INTO users (id, username, password_hash, role, disabled, token_epoch, "
      "failed_logins, locked_until, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      "itttiiiiii", "users" },
    { "SELECT id, user_id, family, token_hash, expires_at, created_at, revoked_at "
      "FROM refresh_tokens ORDER BY id",
      "INSERT INTO refresh_tokens (id, user_id, family, token_hash, expires_at, created_at, "
      "revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "iitbiin", "refresh_tokens" },
    { "SELECT id, user_id, family, created_at, last_used_at, ip, user_agent FROM sessions "
      "ORDER BY id",
      "INSERT INTO sessions (id, user_id, family, created_at, last_used_at, ip, user_agent) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "iitiitt", "sessions" },
    { "SELECT id, event, user_id, username, ip, detail, at, actor_id FROM audit_log ORDER BY id",
      "INSERT INTO audit_log (id, event, user_id, username, ip, detail, at, actor_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      "itntttin", "audit_log" },
    { "SELECT name, failures, last_at FROM login_failures ORDER BY name",
      "INSERT INTO login_failures (name, failures, last_at) VALUES (?1, ?2, ?3)", "tii", NULL },
    { "SELECT user_id, secret, enabled, last_step, created_at FROM mfa_totp ORDER BY user_id",
      "INSERT INTO mfa_totp (user_id, secret, enabled, last_step, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      "ibiii", NULL },
    { "SELECT id, user_id, code_hash, used_at FROM mfa_recovery ORDER BY id",
      "INSERT INTO mfa_recovery (id, user_id, code_hash, used_at) VALUES (?1, ?2, ?3, ?4)", "iibn",
      "mfa_recovery" },
    { "SELECT token_hash, user_id, token_epoch, expires_at FROM mfa_tokens ORDER BY token_hash",
      "INSERT INTO mfa_tokens (token_hash, user_id, token_epoch, expires_at) "
      "VALUES (?1, ?2, ?3, ?4)",
      "biii", NULL },
    { "SELECT token_hash, user_id, created_at, expires_at, used_at FROM password_resets "
      "ORDER BY token_hash",
      "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      "biiin", NULL },
    { "SELECT kid, alg, secret, created_at, retired_at FROM signing_keys ORDER BY kid",
      "INSERT INTO signing_keys (kid, alg, secret, created_at, retired_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      "ttbin", NULL },
    { "SELECT lifetime_s, starts_at, secret, created_at FROM ticket_keys "
      "ORDER BY lifetime_s, starts_at",
      "INSERT INTO ticket_keys (lifetime_s, starts_at, secret, created_at) "
      "VALUES (?1, ?2, ?3, ?4)",
      "iibi", NULL },
};

#define NTABLES (sizeof tables / sizeof tables[0])
_Static_assert(NTABLES <= DB_STMT_COPY_READ_LAST - DB_STMT_COPY_READ + 1, "one slot per table");

/* The current row of `st` as values for the destination's INSERT. */
static void row_values(struct db_stmt *st, const char *types, struct db_val *v)
{
    for (int i = 0; types[i]; i++) {
        size_t len = 0;

        memset(&v[i], 0, sizeof v[i]);
        v[i].null = db_col_null(st, i);
        if (types[i] == 'i' || types[i] == 'n')
            v[i].i = db_col_i64(st, i);
        else if (types[i] == 't')
            v[i].p = db_col_str(st, i);
        else {
            v[i].p = db_col_blob(st, i, &len);
            v[i].len = (int)len;
        }
    }
}

/* Copies table t; *rows counts its rows, *max_id is its largest id (rows
 * come in id order; 0 for tables without generated ids). */
static int copy_table(struct db *src, struct db *dst, size_t t, int64_t *rows, int64_t *max_id)
{
    enum db_stmt_id rid = (enum db_stmt_id)(DB_STMT_COPY_READ + (int)t);
    enum db_stmt_id wid = (enum db_stmt_id)(DB_STMT_COPY_WRITE + (int)t);
    struct db_val v[DB_MAX_PARAMS];
    struct db_stmt *rd = db_query(src, rid, tables[t].read, ""), *wr;
    int rc;

    *rows = *max_id = 0;
    if (!rd)
        return db_failf(dst, DB_ERROR, "source: %s", db_errmsg(src));
    for (;;) {
        if ((rc = db_step(src, rd)) != 1) {
            if (rc < 0)
                db_failf(dst, rc, "source: %s", db_errmsg(src));
            break;
        }
        row_values(rd, tables[t].types, v);
        if (tables[t].serial)
            *max_id = v[0].i;
        wr = db_query_vals(dst, wid, tables[t].write, tables[t].types, v);
        if ((rc = wr ? db_exec_stmt(dst, wr) : DB_ERROR) != 0)
            break;
        (*rows)++;
    }
    db_stmt_reset(rd);
    return rc;
}

/* The successor links of rotated refresh tokens, once every row exists. */
static int copy_links(struct db *src, struct db *dst)
{
    struct db_stmt *rd = db_query(src, DB_STMT_COPY_LINK,
                                  "SELECT id, replaced_by FROM refresh_tokens "
                                  "WHERE replaced_by IS NOT NULL ORDER BY id",
                                  "");
    int rc;

    if (!rd)
        return db_failf(dst, DB_ERROR, "source: %s", db_errmsg(src));
    while ((rc = db_step(src, rd)) == 1)
        if ((rc = db_exec(dst, DB_STMT_COPY_LINK,
                          "UPDATE refresh_tokens SET replaced_by = ?2 WHERE id = ?1", "ii",
                          db_col_i64(rd, 0), db_col_i64(rd, 1))) != 0)
            break;
    db_stmt_reset(rd);
    return rc;
}

/* Every table the copy writes must be empty: a store that a server has
 * started on already holds a key set (signing and ticket keys) sealed under
 * that server's master key, and the copy's keys would mix with it. */
static int check_empty(struct db *dst)
{
    struct db_stmt *st = db_query(dst, DB_STMT_COPY_EMPTY,
                                  "SELECT (SELECT count(*) FROM users) + "
                                  "(SELECT count(*) FROM refresh_tokens) + "
                                  "(SELECT count(*) FROM sessions) + "
                                  "(SELECT count(*) FROM audit_log) + "
                                  "(SELECT count(*) FROM login_failures) + "
                                  "(SELECT count(*) FROM mfa_totp) + "
                                  "(SELECT count(*) FROM mfa_recovery) + "
                                  "(SELECT count(*) FROM mfa_tokens) + "
                                  "(SELECT count(*) FROM password_resets) + "
                                  "(SELECT count(*) FROM signing_keys) + "
                                  "(SELECT count(*) FROM ticket_keys)",
                                  "");
    int rc;

    _Static_assert(NTABLES == 11, "check_empty counts every copied table");
    if (!st)
        return DB_ERROR;
    if ((rc = db_step_row(dst, st)) == 0 && db_col_i64(st, 0) != 0)
        rc = db_failf(dst, DB_CONFLICT,
                      "the destination is not empty (it holds accounts, tokens, an audit log "
                      "or a key set; copy into a new store that no server has started on)");
    db_stmt_reset(st);
    return rc;
}

/* The last id `src` handed out for table `name` (0 if none): its counter,
 * which is past max(id) when the newest rows were deleted. SQLite keeps it
 * in sqlite_sequence (AUTOINCREMENT tables only), PostgreSQL in the
 * identity sequence. */
static int source_counter(struct db *src, const char *name, int64_t *out)
{
    struct db_stmt *st = src->backend == DB_PG
                             ? db_query(src, DB_STMT_COPY_COUNTER,
                                        "SELECT COALESCE(pg_sequence_last_value("
                                        "pg_get_serial_sequence(?1, 'id')::regclass), 0)",
                                        "t", name)
                             : db_query(src, DB_STMT_COPY_COUNTER,
                                        "SELECT seq FROM sqlite_sequence WHERE name = ?1", "t",
                                        name);
    int rc;

    *out = 0;
    if (!st)
        return DB_ERROR;
    if ((rc = db_step(src, st)) == 1)
        *out = db_col_i64(st, 0);
    db_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The destination's counter for `name` set to `last` (the last id used),
 * so that the next row gets last + 1 and no id is ever handed out twice. */
static int set_counter(struct db *dst, const char *name, int64_t last)
{
    int rc;

    if (dst->backend == DB_PG)
        return db_exec(dst, DB_STMT_COPY_SEQ_SET,
                       "SELECT setval(pg_get_serial_sequence(?1, 'id'), ?2, false)", "ti", name,
                       last + 1);
    rc = db_exec(dst, DB_STMT_COPY_SEQ_DROP, "DELETE FROM sqlite_sequence WHERE name = ?1", "t",
                 name);
    if (rc == 0)
        rc = db_exec(dst, DB_STMT_COPY_SEQ_SET,
                     "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)", "ti", name, last);
    return rc;
}

/* Each table with generated ids continues past the source's own counter
 * (or its largest copied id, whichever is larger): a deleted account's id
 * is never given to a new one, whose audit rows and tokens would then
 * carry it. */
static int copy_counters(struct db *src, struct db *dst, const int64_t *max_id)
{
    int64_t last;
    int rc = 0;

    for (size_t t = 0; t < NTABLES && rc == 0; t++) {
        if (!tables[t].serial)
            continue;
        if ((rc = source_counter(src, tables[t].serial, &last)) != 0)
            return db_failf(dst, rc, "source: %s", db_errmsg(src));
        rc = set_counter(dst, tables[t].serial, last > max_id[t] ? last : max_id[t]);
    }
    return rc;
}

/* The source is read in one transaction, so the copy is one consistent
 * snapshot even while a server writes to it: SQLite's write lock (held
 * for the copy's few seconds), PostgreSQL's REPEATABLE READ. */
static int begin_snapshot(struct db *src)
{
    if (src->backend == DB_PG)
        return db_pg_exec_plain(src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    return db_begin(src);
}

int db_copy(struct db *src, struct db *dst, int64_t *users, char *err, size_t errlen)
{
    int64_t rows = 0, first = 0, max_id[NTABLES] = { 0 };
    int rc;

    if ((rc = begin_snapshot(src)) != 0) {
        snprintf(err, errlen, "source: %s", db_errmsg(src));
        return rc;
    }
    if ((rc = db_begin(dst)) != 0)
        goto out;
    rc = check_empty(dst);
    for (size_t t = 0; t < NTABLES && rc == 0; t++) {
        rc = copy_table(src, dst, t, &rows, &max_id[t]);
        if (t == 0)
            first = rows;
    }
    if (rc == 0)
        rc = copy_links(src, dst);
    if (rc == 0)
        rc = copy_counters(src, dst, max_id);
    if (rc == 0)
        rc = db_commit(dst);
    else
        (void)db_rollback(dst);
out:
    (void)db_rollback(src); /* read only */
    if (rc != 0)
        snprintf(err, errlen, "%s", db_errmsg(dst));
    else if (users)
        *users = first;
    return rc;
}
