/* guard.c: see guard.h. */
#include "support/guard.h"

#include <check.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void guard_map(struct guard *g, size_t room)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = room / pg + 1;

    g->maplen = (pages + 1) * pg;
    g->room = pages * pg;
    g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(g->map, MAP_FAILED);
    ck_assert_int_eq(mprotect(g->map + g->room, pg, PROT_NONE), 0);
}

char *guard_load(struct guard *g, const char *data, size_t n)
{
    char *p = g->map + g->room - n;

    ck_assert_uint_le(n, g->room);
    memcpy(p, data, n);
    return p;
}

void guard_unmap(struct guard *g) { munmap(g->map, g->maplen); }
