/* store.h: the notes example's own SQLite table, one connection per job
 * pool thread, every statement prepared with bound parameters.
 *
 * Threads: store_open runs once on the main thread before the server
 * starts; every other function runs on a job pool thread (never on an
 * event loop: SQLite may wait on a lock or fsync). */
#ifndef NOTES_STORE_H
#define NOTES_STORE_H

#include <jansson.h>
#include <stddef.h>

#define NOTES_TITLE_MAX    200   /* bytes of UTF-8 */
#define NOTES_BODY_MAX     10000 /* bytes of UTF-8 */
#define NOTES_PER_USER_MAX 1000

/* Creates the table if needed (path is kept for the pool threads'
 * connections and must outlive the server). 0, or -1 with err. */
int store_open(const char *path, char *err, size_t errlen);

enum store_rc { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_FULL = 2, STORE_ERROR = -1 };

/* Each returns a store_rc. *out gets a new reference on STORE_OK (a note
 * object, or for store_list an array of them). */
int store_create(long long user, const char *title, const char *body, json_t **out);
int store_list(long long user, json_t **out);
int store_get(long long user, long long id, json_t **out);
int store_delete(long long user, long long id);

#endif
