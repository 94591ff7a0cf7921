/* routes.c: see routes.h. Each handler runs on an event loop: it checks
 * its input there, copies what the database needs into a job and hands it
 * to the job pool (pc_defer); the job's completion answers back on the
 * loop. No SQLite call ever runs on a loop. */
#include "routes.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"

enum op { OP_CREATE, OP_LIST, OP_GET, OP_DELETE };

struct job {
    enum op op;
    long long user, id; /* copied from the request: work() never touches it */
    char *title, *body;
    int rc;      /* store_rc */
    json_t *out; /* the note(s) */
};

static void job_free(struct job *j)
{
    free(j->title);
    free(j->body);
    json_decref(j->out);
    free(j);
}

/* Pool thread. */
static void work(void *arg)
{
    struct job *j = arg;
    switch (j->op) {
    case OP_CREATE: j->rc = store_create(j->user, j->title, j->body, &j->out); break;
    case OP_LIST: j->rc = store_list(j->user, &j->out); break;
    case OP_GET: j->rc = store_get(j->user, j->id, &j->out); break;
    case OP_DELETE: j->rc = store_delete(j->user, j->id); break;
    }
}

/* Back on the loop: the answer. */
static void done(struct pc_req *req, void *arg)
{
    struct job *j = arg;
    if (j->rc == STORE_NOTFOUND)
        pc_error(req, 404, "not_found", "no such note");
    else if (j->rc == STORE_FULL)
        pc_error(req, 409, "too_many_notes", "delete a note before creating another");
    else if (j->rc != STORE_OK)
        pc_error(req, 503, "unavailable", "the notes store is busy, try again");
    else if (j->op == OP_DELETE)
        pc_json(req, 204, NULL);
    else if (j->op == OP_LIST)
        pc_json(req, 200, json_pack("{s:O}", "notes", j->out));
    else
        pc_json(req, j->op == OP_CREATE ? 201 : 200, json_incref(j->out));
    job_free(j);
}

/* A job for the request's user, or NULL with the answer set. */
static struct job *job_new(struct pc_req *req, enum op op)
{
    struct pc_user u;
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL || pc_user(req, &u) != 0) {
        free(j);
        pc_error(req, 500, "internal", "cannot start the request");
        return NULL;
    }
    j->op = op;
    j->user = u.id;
    return j;
}

static int submit(struct pc_req *req, struct job *j)
{
    int rc = pc_defer(req, work, done, j);
    if (rc != PC_LATER)
        job_free(j); /* 503 already set */
    return rc;
}

/* A string member within [min, max] bytes (pc_body_json's parser has
 * checked it is UTF-8 without NUL); def when absent and def is not NULL.
 * NULL with a 422 otherwise. */
static const char *field(struct pc_req *req, json_t *o, const char *name, size_t min, size_t max,
                         const char *def)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL && def != NULL)
        return def;
    if (!json_is_string(v) || json_string_length(v) < min || json_string_length(v) > max) {
        json_t *e = json_pack("{s:s, s:s, s:[s]}", "error", "invalid_fields", "detail",
                              "title must be a string of 1 to 200 bytes, body a string of at most "
                              "10000 bytes",
                              "fields", name);
        pc_json(req, 422, e);
        return NULL;
    }
    return json_string_value(v);
}

static int h_create(struct pc_req *req, void *arg)
{
    (void)arg;
    json_t *o = pc_body_json(req);
    if (o == NULL)
        return PC_DONE; /* 400, 415 or 422 set */
    const char *title = field(req, o, "title", 1, NOTES_TITLE_MAX, NULL);
    const char *body = title ? field(req, o, "body", 0, NOTES_BODY_MAX, "") : NULL;
    struct job *j = body ? job_new(req, OP_CREATE) : NULL;
    if (j != NULL && ((j->title = strdup(title)) == NULL || (j->body = strdup(body)) == NULL)) {
        job_free(j);
        j = NULL;
        pc_error(req, 503, "unavailable", "out of memory");
    }
    json_decref(o);
    return j != NULL ? submit(req, j) : PC_DONE;
}

static int h_list(struct pc_req *req, void *arg)
{
    (void)arg;
    struct job *j = job_new(req, OP_LIST);
    return j != NULL ? submit(req, j) : PC_DONE;
}

/* GET and DELETE /notes/:id: an id that is not a positive integer names no
 * note (404), like one that does not exist. */
static int by_id(struct pc_req *req, enum op op)
{
    long long id;
    if (pc_param_id(req, "id", &id) != 0) {
        pc_error(req, 404, "not_found", "no such note");
        return PC_DONE;
    }
    struct job *j = job_new(req, op);
    if (j == NULL)
        return PC_DONE;
    j->id = id;
    return submit(req, j);
}

static int h_get(struct pc_req *req, void *arg)
{
    (void)arg;
    return by_id(req, OP_GET);
}

static int h_delete(struct pc_req *req, void *arg)
{
    (void)arg;
    return by_id(req, OP_DELETE);
}

int notes_add_routes(struct pc_server *s)
{
    if (pc_route(s, "POST", "/notes", "token", h_create, NULL) != 0 ||
        pc_route(s, "GET", "/notes", "token", h_list, NULL) != 0 ||
        pc_route(s, "GET", "/notes/:id", "token", h_get, NULL) != 0 ||
        pc_route(s, "DELETE", "/notes/:id", "token", h_delete, NULL) != 0)
        return -1;
    return 0;
}
