/* static_cache.c: see static_cache.h. */
#include "server/static_cache.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void static_cache_init(struct static_cache *c, unsigned ttl_ms)
{
    memset(c, 0, sizeof *c);
    c->ttl_ms = ttl_ms;
    for (size_t i = 0; i < STATIC_CACHE_ENTRIES; i++)
        c->e[i].meta.fd = -1;
}

static void entry_clear(struct static_cache_entry *e)
{
    free(e->path);
    free(e->data);
    memset(e, 0, sizeof *e);
    e->meta.fd = -1;
}

void static_cache_free(struct static_cache *c)
{
    for (size_t i = 0; i < STATIC_CACHE_ENTRIES; i++)
        entry_clear(&c->e[i]);
}

static struct static_cache_entry *cache_find(struct static_cache *c, struct str path)
{
    for (size_t i = 0; i < STATIC_CACHE_ENTRIES; i++) {
        struct static_cache_entry *e = &c->e[i];
        if (e->path != NULL && e->path_len == path.n && memcmp(e->path, path.p, path.n) == 0)
            return e;
    }
    return NULL;
}

/* A free slot, else the one checked longest ago. */
static struct static_cache_entry *cache_victim(struct static_cache *c)
{
    struct static_cache_entry *v = &c->e[0];

    for (size_t i = 0; i < STATIC_CACHE_ENTRIES; i++) {
        if (c->e[i].path == NULL)
            return &c->e[i];
        if (c->e[i].checked_ms < v->checked_ms)
            v = &c->e[i];
    }
    return v;
}

/* Reads the whole open file; NULL when it changed size under us or on
 * error (the caller then serves it from disk, which reports the error). */
static unsigned char *read_all(const struct static_file *f)
{
    size_t size = (size_t)f->size, off = 0;
    unsigned char *p = malloc(size > 0 ? size : 1);

    while (p != NULL && off < size) {
        ssize_t n = pread(f->fd, p + off, size - off, (off_t)off);
        if (n <= 0) {
            free(p);
            return NULL;
        }
        off += (size_t)n;
    }
    return p;
}

/* Fills slot e from the open file f; f stays open. */
static int entry_fill(struct static_cache_entry *e, struct str path, const struct static_file *f,
                      uint64_t now_ms)
{
    char *p = malloc(path.n > 0 ? path.n : 1);
    unsigned char *data = read_all(f);

    if (p == NULL || data == NULL) {
        free(p);
        free(data);
        return -1;
    }
    memcpy(p, path.p, path.n);
    entry_clear(e);
    e->path = p;
    e->path_len = path.n;
    e->data = data;
    e->meta = *f;
    e->meta.fd = -1;
    e->checked_ms = now_ms;
    return 0;
}

int static_cache_lookup(struct static_cache *c, const struct static_root *r, struct str url_path,
                        uint64_t now_ms, const struct static_cache_entry **hit,
                        struct static_file *f)
{
    struct static_cache_entry *e = c->ttl_ms > 0 ? cache_find(c, url_path) : NULL;

    *hit = NULL;
    if (e != NULL && now_ms - e->checked_ms < c->ttl_ms) {
        *hit = e;
        return 0;
    }
    int rc = static_lookup(r, url_path, f);
    if (rc != 0 || c->ttl_ms == 0 || (size_t)f->size > STATIC_CACHE_FILE_MAX) {
        if (e != NULL)
            entry_clear(e);
        return rc != 0 ? rc : STATIC_CACHE_OPEN;
    }
    if (e != NULL && strcmp(e->meta.etag, f->etag) == 0) {
        e->checked_ms = now_ms; /* unchanged on disk: no need to read it */
    } else {
        if (e == NULL)
            e = cache_victim(c);
        if (entry_fill(e, url_path, f, now_ms) != 0) {
            entry_clear(e);
            return STATIC_CACHE_OPEN;
        }
    }
    static_file_close(f);
    *hit = e;
    return 0;
}
