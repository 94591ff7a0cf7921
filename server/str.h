/* str.h: a borrowed slice of bytes (pointer + length), never NUL-terminated.
 * A slice lives only as long as the buffer it points into. */
#ifndef PC_STR_H
#define PC_STR_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct str {
    const char *p;
    size_t n;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

static inline struct str str_make(const char *p, size_t n) { return (struct str){ p, n }; }

static inline int str_eq(struct str a, const char *lit)
{
    size_t n = strlen(lit);
    return a.n == n && memcmp(a.p, lit, n) == 0;
}

static inline int str_ieq(struct str a, const char *lit)
{
    size_t n = strlen(lit);
    return a.n == n && strncasecmp(a.p, lit, n) == 0;
}

#endif
