/* schema.c: the versioned schema. migrations[i] takes user_version i to i+1.
 * A released migration is never edited: a change is a new entry appended.
 *
 * Tables are STRICT, so a value of the wrong type is refused instead of
 * being stored as whatever it happens to be. Usernames use COLLATE NOCASE,
 * which folds ASCII only; the API restricts usernames to [A-Za-z0-9._-]. */
#include <stdio.h>

#include "db/db_internal.h"

static const char migration_1[] =
    "CREATE TABLE users ("
    "  id            INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  username      TEXT    NOT NULL COLLATE NOCASE UNIQUE"
    "                        CHECK (length(CAST(username AS BLOB)) BETWEEN 1 AND 64),"
    "  password_hash TEXT    NOT NULL"
    "                        CHECK (length(CAST(password_hash AS BLOB)) BETWEEN 1 AND 255),"
    "  role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),"
    "  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
    "  token_epoch   INTEGER NOT NULL DEFAULT 0,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_until  INTEGER NOT NULL DEFAULT 0,"
    "  created_at    INTEGER NOT NULL,"
    "  updated_at    INTEGER NOT NULL"
    ") STRICT;"
    /* replaced_by is SET NULL on delete so purging an expired row never
     * trips over the older row that points at it; revoked_at still marks
     * the older row as used. */
    "CREATE TABLE refresh_tokens ("
    "  id          INTEGER PRIMARY KEY,"
    "  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  family      TEXT    NOT NULL CHECK (length(CAST(family AS BLOB)) BETWEEN 1 AND 64),"
    "  token_hash  BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
    "  expires_at  INTEGER NOT NULL,"
    "  created_at  INTEGER NOT NULL,"
    "  revoked_at  INTEGER,"
    "  replaced_by INTEGER REFERENCES refresh_tokens(id) ON DELETE SET NULL"
    ") STRICT;"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens(family);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);"
    "CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);"
    /* Without it every delete scans the table for rows pointing at it. */
    "CREATE INDEX refresh_tokens_replaced_by ON refresh_tokens(replaced_by);"
    /* No foreign key on user_id: the audit trail outlives deleted users. */
    "CREATE TABLE audit_log ("
    "  id       INTEGER PRIMARY KEY,"
    "  event    TEXT    NOT NULL,"
    "  user_id  INTEGER,"
    "  username TEXT,"
    "  ip       TEXT,"
    "  detail   TEXT,"
    "  at       INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX audit_log_at ON audit_log(at);"
    "CREATE INDEX audit_log_user ON audit_log(user_id, at);";

/* Failed sign-ins per lower-cased name, whether or not an account of that
 * name exists: the one record the lockout decides from (auth/guard.c), so
 * known and unknown names fail, decay and lock alike, across restarts.
 * users.failed_logins and users.locked_until are no longer written. */
static const char migration_2[] =
    "CREATE TABLE login_failures ("
    "  name     TEXT    PRIMARY KEY CHECK (length(CAST(name AS BLOB)) <= 64),"
    "  failures INTEGER NOT NULL CHECK (failures >= 1),"
    "  last_at  INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX login_failures_last_at ON login_failures(last_at);"
    /* The admin (or 0 for the local CLI) who made an admin change; NULL for
     * the user's own actions and rows written before this version. */
    "ALTER TABLE audit_log ADD COLUMN actor_id INTEGER;"
    /* Two-factor (TOTP): the secret sealed with AES-256-GCM (auth/seal.h),
     * pending until confirmed by a first code; last_step makes each code
     * usable once. */
    "CREATE TABLE mfa_totp ("
    "  user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  secret     BLOB    NOT NULL CHECK (length(secret) BETWEEN 1 AND 128),"
    "  enabled    INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),"
    "  last_step  INTEGER NOT NULL DEFAULT -1,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    /* Recovery codes: SHA-256 only, each usable once. */
    "CREATE TABLE mfa_recovery ("
    "  id        INTEGER PRIMARY KEY,"
    "  user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  code_hash BLOB    NOT NULL CHECK (length(code_hash) = 32),"
    "  used_at   INTEGER,"
    "  UNIQUE (user_id, code_hash)"
    ") STRICT;"
    /* The step between password and code: opaque tokens, SHA-256 only,
     * bound to the user's token epoch at the password check. */
    "CREATE TABLE mfa_tokens ("
    "  token_hash  BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),"
    "  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  token_epoch INTEGER NOT NULL,"
    "  expires_at  INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX mfa_tokens_user ON mfa_tokens(user_id);"
    "CREATE INDEX mfa_tokens_expires ON mfa_tokens(expires_at);"
    /* One-time password-reset tokens issued by an admin or the operator:
     * SHA-256 only, spent once (used_at), 30 minutes. */
    "CREATE TABLE password_resets ("
    "  token_hash BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),"
    "  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at    INTEGER"
    ") STRICT;"
    "CREATE INDEX password_resets_user ON password_resets(user_id);"
    "CREATE INDEX password_resets_expires ON password_resets(expires_at);"
    /* A session is one refresh-token family (one login on one device); it
     * is live while the family holds a live token. */
    "CREATE TABLE sessions ("
    "  id           INTEGER PRIMARY KEY,"
    "  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  family       TEXT    NOT NULL UNIQUE CHECK (length(CAST(family AS BLOB)) BETWEEN 1 AND 64),"
    "  created_at   INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL,"
    "  ip           TEXT    CHECK (ip IS NULL OR length(CAST(ip AS BLOB)) <= 64),"
    "  user_agent   TEXT    CHECK (user_agent IS NULL OR length(CAST(user_agent AS BLOB)) <= 128)"
    ") STRICT;"
    "CREATE INDEX sessions_user ON sessions(user_id);";

/* The key set (auth/keyset.c): JWT signing keys and TLS session-ticket
 * keys, shared by every instance on this store. Private parts are sealed
 * with AES-256-GCM under the master key file, bound to their row (kid;
 * lifetime and start). A signing key with no retired_at is active (the
 * newest one signs); a retired one verifies until its tokens expired. A
 * ticket key serves the period [starts_at, starts_at + lifetime_s); the
 * primary key lets the first instance that sees a period due create its
 * key while the others, inserting too, keep the one that won. */
static const char migration_3[] =
    "CREATE TABLE signing_keys ("
    "  kid        TEXT    PRIMARY KEY CHECK (length(CAST(kid AS BLOB)) BETWEEN 1 AND 64),"
    "  alg        TEXT    NOT NULL CHECK (alg IN ('ES256')),"
    "  secret     BLOB    NOT NULL CHECK (length(secret) BETWEEN 1 AND 1024),"
    "  created_at INTEGER NOT NULL,"
    "  retired_at INTEGER"
    ") STRICT;"
    "CREATE TABLE ticket_keys ("
    "  lifetime_s INTEGER NOT NULL,"
    "  starts_at  INTEGER NOT NULL,"
    "  secret     BLOB    NOT NULL CHECK (length(secret) BETWEEN 1 AND 128),"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (lifetime_s, starts_at)"
    ") STRICT;";

static const char *const migrations[] = { migration_1, migration_2, migration_3 };

_Static_assert(sizeof migrations / sizeof migrations[0] == DB_SCHEMA_VERSION,
               "one migration per schema version");

int db_schema_version(struct db *db)
{
    int64_t v = 0;
    int rc;

    if (db->backend == DB_PG)
        return db_pg_schema_version(db);
    rc = db_pragma_int(db, "PRAGMA user_version", &v);

    if (rc != 0)
        return rc;
    if (v < 0 || v > INT32_MAX)
        return db_failf(db, DB_ERROR, "invalid user_version %lld", (long long)v);
    return (int)v;
}

/* 0 if the file is ours at a version we know, with that version in *version. */
static int check_identity(struct db *db, int *version)
{
    int64_t app = 0;
    int rc = db_pragma_int(db, "PRAGMA application_id", &app);

    if (rc != 0)
        return rc;
    if (app != 0 && app != DB_APPLICATION_ID)
        return db_failf(db, DB_ERROR, "not a Portcullis database (application_id %lld)",
                        (long long)app);
    if ((rc = db_schema_version(db)) < 0)
        return rc;
    if (rc > DB_SCHEMA_VERSION)
        return db_failf(db, DB_ERROR,
                        "database schema version %d is newer than this build supports (%d); "
                        "upgrade Portcullis",
                        rc, DB_SCHEMA_VERSION);
    *version = rc;
    return 0;
}

static int apply(struct db *db, int from)
{
    char pragma[96];
    int rc;

    for (int v = from; v < DB_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(db->sql, migrations[v], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            rc = db_fail(db, rc);
            return db_failf(db, rc, "migration %d: %s", v + 1, sqlite3_errmsg(db->sql));
        }
    }
    /* Integers we chose, never user data: the one place a pragma is built. */
    snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             DB_APPLICATION_ID, DB_SCHEMA_VERSION);
    rc = sqlite3_exec(db->sql, pragma, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(db, rc);
}

int db_migrate(struct db *db, char *err, size_t errlen)
{
    int version = 0;
    int rc;

    if (db->backend == DB_PG) {
        rc = db_pg_migrate(db);
        if (rc != 0 && err && errlen)
            snprintf(err, errlen, "%s", db->errmsg);
        return rc;
    }
    /* Fast path without the write lock: every thread's connection calls
     * this at start and all but the first find nothing to do. */
    if ((rc = check_identity(db, &version)) == 0 && version == DB_SCHEMA_VERSION)
        return 0;
    if (rc == 0 && (rc = db_begin(db)) == 0) {
        /* Re-read under the lock: another connection may have migrated. */
        rc = check_identity(db, &version);
        if (rc == 0 && version < DB_SCHEMA_VERSION)
            rc = apply(db, version);
        if (rc == 0)
            rc = db_commit(db);
        else
            (void)db_rollback(db);
    }
    if (rc != 0 && err && errlen)
        snprintf(err, errlen, "%s", db->errmsg);
    return rc;
}
