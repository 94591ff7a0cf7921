/* alloc.c: the executable's allocation policy, linked into the portcullis
 * executable only (not the libraries, tests or sanitizer builds, whose
 * allocators differ). Two measured changes to glibc's defaults:
 *
 * 1. calloc. glibc 2.36's calloc never uses the per-thread cache. Every call
 *    takes the arena's lock and the slow path, and since calloc never draws
 *    from the cache, the cache stays full and the matching frees take the
 *    slow path too. mbedTLS's bignum code callocs and frees its limb arrays
 *    dozens of times per elliptic-curve operation: in a worker thread the
 *    allocator was a fifth of a full handshake's time, and the handshake
 *    rate rose 7% with this calloc (bench/, interleaved runs). Small
 *    requests go through malloc (cached) and are zeroed here; larger ones
 *    keep glibc's calloc, which skips zeroing fresh pages. Semantics are
 *    calloc's: overflow gives NULL with ENOMEM, the memory is zeroed,
 *    free() releases it.
 *
 * 2. The mmap threshold. mbedTLS 2.28 (Debian's build) gives every TLS
 *    connection two 16.7 KB record buffers for its whole life; an idle
 *    connection uses the first page or two of each. From the heap, a reused
 *    chunk is zeroed in full and stays resident; mapped on its own it is
 *    zero pages that become resident only where written, and it goes back
 *    to the system at close. Requests of at least ALLOC_MMAP_MIN bytes are
 *    mapped: measured, 27 KB -> 18.5 KB of memory per idle TLS connection.
 *    The threshold sits above our own 16 KiB read buffers (taken and freed
 *    per request, a 16400-byte chunk: mapping those cost 80% of keep-alive
 *    throughput) and below mbedTLS's buffers. Setting it also turns off
 *    glibc's adaptive threshold, which would otherwise rise past them after
 *    the first close. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)

/* glibc's exported entry points (GLIBC_2.2.5). Calling malloc by this name
 * also stops the compiler from fusing malloc + memset back into calloc. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);

/* The largest request glibc's per-thread cache serves. */
#define CALLOC_CACHED_MAX 1024
/* 16 KiB + 256: see 2. above (mbedTLS's buffers are 16717 bytes). */
#define ALLOC_MMAP_MIN (16 * 1024 + 256)

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

/* Before main and before any thread: a failure only keeps glibc's default. */
__attribute__((constructor)) static void alloc_tune(void)
{
    (void)mallopt(M_MMAP_THRESHOLD, ALLOC_MMAP_MIN);
}

#else
typedef int alloc_unused;    /* other C libraries: their own allocator */
#endif
