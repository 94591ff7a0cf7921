/* fuzz_common.h: what the libFuzzer harnesses share, header-only because
 * each harness is its own executable.
 *
 * - FUZZ_CHECK: an invariant of the code under test; a violation aborts,
 *   which libFuzzer reports as a crash and saves the input.
 * - struct fuzz_rng: a deterministic stream seeded from input bytes, used
 *   to pick split points, so a saved crash input replays exactly.
 * - fuzz_tmpdir_*: a private temporary directory (mkdtemp under $TMPDIR)
 *   for the harnesses that need files (keys, certificates), removed at
 *   exit. tests/fuzz/run points TMPDIR into the build directory and
 *   removes it afterwards, so a crash leaves nothing in /tmp either. */
#ifndef PC_FUZZ_COMMON_H
#define PC_FUZZ_COMMON_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libFuzzer's entry points (it declares none for C). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Setup failures in LLVMFuzzerInitialize: not a finding, just stop. */
#define FUZZ_SETUP(cond, what)                                  \
    do {                                                        \
        if (!(cond)) {                                          \
            fprintf(stderr, "fuzz setup failed: %s\n", (what)); \
            exit(2);                                            \
        }                                                       \
    } while (0)

struct fuzz_rng {
    uint32_t s;
};

/* Seeds from two input bytes; never zero (xorshift's fixed point). */
static inline void fuzz_rng_seed(struct fuzz_rng *r, uint8_t a, uint8_t b)
{
    r->s = ((uint32_t)a << 8 | b) * 2654435761u | 1u;
}

static inline uint32_t fuzz_rng_next(struct fuzz_rng *r)
{
    uint32_t x = r->s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/* Uniform-ish in [lo, hi], hi >= lo. */
static inline size_t fuzz_rng_range(struct fuzz_rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)fuzz_rng_next(r) % (hi - lo + 1);
}

/* An exact-size heap copy, so ASan flags a read one byte past the end. */
static inline unsigned char *fuzz_dup(const void *p, size_t n)
{
    unsigned char *c = malloc(n > 0 ? n : 1);

    FUZZ_CHECK(c != NULL);
    if (n > 0)
        memcpy(c, p, n);
    return c;
}

static char fuzz_tmpdir_path[512];

/* Removes the directory made by fuzz_tmpdir_make and the files in it (no
 * subdirectories: the harnesses create none deeper). */
static inline void fuzz_tmpdir_remove(void)
{
    DIR *d;
    struct dirent *e;
    char p[1024];

    if (fuzz_tmpdir_path[0] == '\0' || (d = opendir(fuzz_tmpdir_path)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", fuzz_tmpdir_path, e->d_name);
        (void)unlink(p);
    }
    closedir(d);
    (void)rmdir(fuzz_tmpdir_path);
    fuzz_tmpdir_path[0] = '\0';
}

/* Makes a 0700 directory for this process; removed at exit. */
static inline const char *fuzz_tmpdir_make(const char *tag)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(fuzz_tmpdir_path, sizeof fuzz_tmpdir_path, "%s/pc-%s-XXXXXX", base, tag);
    FUZZ_SETUP(mkdtemp(fuzz_tmpdir_path) != NULL, "mkdtemp");
    atexit(fuzz_tmpdir_remove);
    return fuzz_tmpdir_path;
}

#endif
