/* hash_time.c: median time of one argon2id hash with given parameters, with
 * the same library call the server makes (argon2id_hash_encoded). The CPU
 * limit for logins is cores / this time. Built and run by bench/auth.
 * usage: hash_time M_KIB T P [runs] */
#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    unsigned m = (unsigned)atoi(argv[1]), t = (unsigned)atoi(argv[2]), p = (unsigned)atoi(argv[3]);
    int runs = argc > 4 ? atoi(argv[4]) : 9;
    double s[64];
    char out[256];
    static const char salt[16] = "benchsalt-16byte";
    if (runs < 1 || runs > 64)
        return 2;
    for (int i = 0; i < runs; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (argon2id_hash_encoded(t, m, p, "bench-password-1", 16, salt, sizeof salt, 32, out,
                                  sizeof out) != ARGON2_OK)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        s[i] = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    }
    qsort(s, (size_t)runs, sizeof s[0], cmp);
    printf("%.4f\n", s[runs / 2]);
    return 0;
}
