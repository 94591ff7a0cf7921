/* reqid.c: see reqid.h. New ids come from a per-thread splitmix64 stream
 * seeded once from getrandom(2): no system call and no lock per request. */
#include "server/reqid.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "server/hex.h"

int reqid_valid(struct str s)
{
    if (s.p == NULL || s.n == 0 || s.n >= REQID_MAX)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static _Thread_local uint64_t stream;
static _Thread_local int seeded;

static uint64_t reqid_next(void)
{
    if (!seeded) {
        if (getrandom(&stream, sizeof stream, 0) != (ssize_t)sizeof stream)
            stream = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&stream;
        seeded = 1;
    }
    uint64_t z = (stream += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void reqid_assign(char out[REQID_MAX], struct str incoming)
{
    if (reqid_valid(incoming)) {
        memcpy(out, incoming.p, incoming.n);
        out[incoming.n] = '\0';
        return;
    }
    unsigned char raw[16];
    uint64_t a = reqid_next(), b = reqid_next();
    memcpy(raw, &a, 8);
    memcpy(raw + 8, &b, 8);
    hex_encode(out, raw, sizeof raw);
}
