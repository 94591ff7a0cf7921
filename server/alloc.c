/* alloc.c: the executable's allocation policy, linked into the portcullis
 * executable only (not the libraries, tests or sanitizer builds, whose
 * allocators differ).
 *
 * calloc: glibc 2.36's calloc never uses the per-thread cache. Every call
 * takes the arena's lock and the slow path, and since calloc never draws
 * from the cache, the cache stays full and the matching frees take the slow
 * path too. mbedTLS's bignum code callocs and frees its limb arrays dozens
 * of times per elliptic-curve operation: in a worker thread the allocator
 * was a fifth of a full handshake's time, and the handshake rate rose 7%
 * with this calloc (bench/, interleaved runs). Small requests go through
 * malloc (cached) and are zeroed here; larger ones keep glibc's calloc,
 * which skips zeroing fresh pages (when malloc is glibc's: with another
 * allocator preloaded, every block comes from its malloc). Semantics are
 * calloc's: overflow gives NULL with ENOMEM, the memory is zeroed, free()
 * releases it.
 *
 * Not changed, and why: glibc's mmap threshold. mbedTLS 2.28 keeps two
 * 16.7 KB record buffers per connection; mapped on their own pages (a fixed
 * threshold of 16 KiB + 256) only the written pages would be resident, and
 * memory per idle connection fell from 27 KB to 18.7 KB in bench/run. But
 * the threshold is process-wide and a fixed one ends glibc's adaptive
 * threshold, which is what lets argon2id's 19 MiB block come back from the
 * heap: every hash then mapped and faulted in 19 MiB fresh, and logins/s
 * fell from 75 to 21 (bench/run, same run). Logins matter more. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)

/* glibc's own calloc, for large blocks (exported, GLIBC_2.2.5). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);

/* The largest request glibc's per-thread cache serves. */
#define CALLOC_CACHED_MAX 1024

/* malloc as the process resolves it: glibc's, or an allocator put in front
 * with LD_PRELOAD, whose free() must only get its own blocks. Called through
 * a volatile pointer so the compiler cannot fuse malloc + memset back into a
 * call to calloc (this function). */
static void *(*volatile alloc_malloc)(size_t) = malloc;

void *calloc(size_t n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > CALLOC_CACHED_MAX && alloc_malloc == __libc_malloc)
        return __libc_calloc(n, size);
    void *p = alloc_malloc(total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

#else
typedef int alloc_unused; /* other C libraries: their own allocator */
#endif
