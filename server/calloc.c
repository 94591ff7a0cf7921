/* calloc.c: the process's calloc, linked into the portcullis executable only
 * (not the libraries, tests or sanitizer builds, whose allocators differ).
 *
 * Why: glibc 2.36's calloc never uses the per-thread cache. Every call takes
 * the arena's lock and the slow path, and since calloc never draws from the
 * cache, the cache stays full and the matching frees take the slow path too.
 * mbedTLS's bignum code callocs and frees its limb arrays dozens of times per
 * elliptic-curve operation: in a worker thread, malloc was a fifth of a full
 * handshake's time, and the handshake rate rose 7% with this file (bench/,
 * interleaved runs). Small requests therefore go through malloc (cached) and
 * are zeroed here; larger ones keep glibc's calloc, which skips zeroing fresh
 * pages, so untouched parts of mbedTLS's 16 KiB record buffers never become
 * resident (memory per idle connection). Semantics are calloc's: overflow
 * gives NULL with ENOMEM, the memory is zeroed, free() releases it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)

/* glibc's exported entry points (GLIBC_2.2.5). Calling malloc by this name
 * also stops the compiler from fusing malloc + memset back into calloc. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);

/* The largest request glibc's per-thread cache serves. */
#define CALLOC_CACHED_MAX 1024

void *calloc(size_t n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > CALLOC_CACHED_MAX)
        return __libc_calloc(n, size);
    void *p = __libc_malloc(total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

#else
typedef int calloc_unused;   /* other C libraries: their own calloc */
#endif
