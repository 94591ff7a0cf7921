/* buf.h: growable byte buffer with a hard maximum set at init (curl's dynbuf
 * "toobig"). Data lives at data[off .. off+len); consuming from the front only
 * moves `off`, and buf_compact() moves the rest down when space is needed, so
 * pipelined requests do not cost a memmove each. */
#ifndef PC_BUF_H
#define PC_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "server/log.h"

struct buf {
    char *data;
    size_t off;     /* start of unconsumed data */
    size_t len;     /* bytes of unconsumed data */
    size_t cap;     /* allocated bytes */
    size_t max;     /* hard limit for cap */
    unsigned moves; /* bumped whenever data moves (realloc, compaction):
                       slices into the buffer are stale after a change */
};

/* Zeroes b; no allocation until first use. Cannot fail. */
void buf_init(struct buf *b, size_t max);
/* Releases memory; b stays usable (empty). NULL ok. */
void buf_free(struct buf *b);

static inline char *buf_head(const struct buf *b) { return b->data + b->off; }
/* Free bytes after the data (call buf_reserve first). */
static inline char *buf_tail(const struct buf *b) { return b->data + b->off + b->len; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->off - b->len; }

/* Ensures at least `extra` free bytes after the data, compacting and growing
 * (never past max). Returns 0, or -1 when max would be exceeded or memory ran
 * out (the buffer is unchanged). */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
/* The decimal digits of v (no printf: it showed in keep-alive profiles). */
int buf_append_uint(struct buf *b, uint64_t v);
int buf_printf(struct buf *b, const char *fmt, ...) PC_PRINTF(2, 3);
/* Marks n bytes from the front as consumed (n <= len). Frees nothing. */
void buf_consume(struct buf *b, size_t n);
/* Empties b and releases memory above `keep` bytes (idle connections). */
void buf_reset(struct buf *b, size_t keep);

#endif
