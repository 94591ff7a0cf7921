/* store.c: see store.h. A note belongs to the user id of the token that
 * created it; every read and delete is filtered by that id in SQL, so
 * another user's note is simply not found. */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

static const char *db_path;
static pthread_key_t conn_key;

static void conn_close(void *db) { sqlite3_close(db); }

/* This thread's connection, opened at its first job, closed when the
 * thread ends (the pool's threads end when the server stops). */
static sqlite3 *conn(void)
{
    sqlite3 *db = pthread_getspecific(conn_key);
    if (db != NULL)
        return db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "notes: %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    if (pthread_setspecific(conn_key, db) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int store_open(const char *path, char *err, size_t errlen)
{
    static const char schema[] = "PRAGMA journal_mode=WAL;"
                                 "CREATE TABLE IF NOT EXISTS notes ("
                                 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                 "  user_id INTEGER NOT NULL,"
                                 "  title TEXT NOT NULL,"
                                 "  body TEXT NOT NULL,"
                                 "  created_at INTEGER NOT NULL);"
                                 "CREATE INDEX IF NOT EXISTS notes_by_user ON notes (user_id, id);";
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    if (rc != SQLITE_OK || pthread_key_create(&conn_key, conn_close) != 0)
        return -1;
    db_path = path;
    return 0;
}

/* A prepared statement on this thread's connection, or NULL. */
static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3 *db = conn();
    sqlite3_stmt *st = NULL;
    if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        if (db != NULL)
            fprintf(stderr, "notes: prepare: %s\n", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

static json_t *note_row(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0), "title",
                     (const char *)sqlite3_column_text(st, 1), "body",
                     (const char *)sqlite3_column_text(st, 2), "created_at",
                     (json_int_t)sqlite3_column_int64(st, 3));
}

static int exec(const char *sql)
{
    sqlite3 *db = conn();
    return db != NULL && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Inside the write transaction: the count and the insert are one step. */
static int create_locked(long long user, const char *title, const char *body, json_t **out)
{
    int rc = STORE_ERROR;
    sqlite3_stmt *count = prepare("SELECT count(*) FROM notes WHERE user_id = ?1");
    sqlite3_stmt *ins = prepare("INSERT INTO notes (user_id, title, body, created_at) "
                                "VALUES (?1, ?2, ?3, ?4) RETURNING id, title, body, created_at");
    if (count == NULL || ins == NULL)
        goto out;
    sqlite3_bind_int64(count, 1, user);
    if (sqlite3_step(count) != SQLITE_ROW)
        goto out;
    if (sqlite3_column_int64(count, 0) >= NOTES_PER_USER_MAX) {
        rc = STORE_FULL;
        goto out;
    }
    sqlite3_bind_int64(ins, 1, user);
    sqlite3_bind_text(ins, 2, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(ins) == SQLITE_ROW && (*out = note_row(ins)) != NULL &&
        sqlite3_step(ins) == SQLITE_DONE)
        rc = STORE_OK;
out:
    sqlite3_finalize(count);
    sqlite3_finalize(ins);
    return rc;
}

int store_create(long long user, const char *title, const char *body, json_t **out)
{
    *out = NULL;
    if (exec("BEGIN IMMEDIATE") != 0)
        return STORE_ERROR;
    int rc = create_locked(user, title, body, out);
    if (rc != STORE_OK || exec("COMMIT") != 0) {
        exec("ROLLBACK");
        json_decref(*out);
        *out = NULL;
        return rc == STORE_OK ? STORE_ERROR : rc;
    }
    return STORE_OK;
}

int store_list(long long user, json_t **out)
{
    sqlite3_stmt *st = prepare("SELECT id, title, body, created_at FROM notes "
                               "WHERE user_id = ?1 ORDER BY id");
    json_t *arr = json_array();
    int step = SQLITE_ERROR;
    if (st != NULL && arr != NULL) {
        sqlite3_bind_int64(st, 1, user);
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            if (json_array_append_new(arr, note_row(st)) != 0)
                break;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        return STORE_ERROR;
    }
    *out = arr;
    return STORE_OK;
}

int store_get(long long user, long long id, json_t **out)
{
    sqlite3_stmt *st = prepare("SELECT id, title, body, created_at FROM notes "
                               "WHERE id = ?1 AND user_id = ?2");
    int rc = STORE_ERROR;
    if (st == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, user);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = (*out = note_row(st)) != NULL ? STORE_OK : STORE_ERROR;
    else if (step == SQLITE_DONE)
        rc = STORE_NOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

int store_delete(long long user, long long id)
{
    sqlite3_stmt *st = prepare("DELETE FROM notes WHERE id = ?1 AND user_id = ?2");
    int rc = STORE_ERROR;
    if (st == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, user);
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = sqlite3_changes(sqlite3_db_handle(st)) > 0 ? STORE_OK : STORE_NOTFOUND;
    sqlite3_finalize(st);
    return rc;
}
