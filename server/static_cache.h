/* static_cache.h: small static files kept in memory, one cache per event loop
 * (no locks).
 *
 * Serving a file from disk costs four system calls per request (openat2,
 * fstat, pread, close). A cached file is served with none while its entry is
 * younger than `ttl_ms`; after that the next request runs the full
 * static_lookup again (same confinement rules, see static.h) and refreshes or
 * drops the entry. So a file changed, replaced or removed on disk is served
 * as it was for at most ttl_ms. Only regular files up to
 * STATIC_CACHE_FILE_MAX bytes are kept, in at most STATIC_CACHE_ENTRIES
 * entries (the least recently checked one is replaced): at most 2 MiB per
 * loop. ttl_ms 0 turns the cache off. Missing files are never cached. */
#ifndef PC_STATIC_CACHE_H
#define PC_STATIC_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "server/static.h"
#include "server/str.h"

#define STATIC_CACHE_ENTRIES  32
#define STATIC_CACHE_FILE_MAX (64 * 1024)
#define STATIC_CACHE_OPEN     1 /* see static_cache_lookup */

struct static_cache_entry {
    char *path; /* raw URL path; NULL for a free slot */
    size_t path_len;
    unsigned char *data;     /* meta.size bytes */
    struct static_file meta; /* fd is always -1 */
    uint64_t checked_ms;
};

struct static_cache {
    uint64_t ttl_ms;
    struct static_cache_entry e[STATIC_CACHE_ENTRIES];
};

/* Empty cache. Cannot fail. */
void static_cache_init(struct static_cache *c, unsigned ttl_ms);
/* Frees every entry; the cache is empty again. */
void static_cache_free(struct static_cache *c);

/* Resolves url_path (as static_lookup) at time now_ms (loop_now). Returns
 *   0 with *hit: the file's metadata and bytes, valid until the next call on c;
 *   STATIC_CACHE_OPEN with *f open (the caller reads and closes it): the file
 *     is too large for the cache, the cache is off, or memory ran out;
 *   otherwise static_lookup's status (400, 404, 500), with nothing open. */
int static_cache_lookup(struct static_cache *c, const struct static_root *r, struct str url_path,
                        uint64_t now_ms, const struct static_cache_entry **hit,
                        struct static_file *f);

#endif
