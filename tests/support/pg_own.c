/* pg_own.c: see pg_own.h. */
#include "support/pg_own.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];

void pg_own_init(const char *tag)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/pc_%s_%ld", tag, (long)getpid());
}

const char *pg_own_dir(void) { return g_dir; }

void pg_own(const char *cmd, char *out, size_t cap)
{
    char line[256], buf[512];
    snprintf(line, sizeof line, "bash %s/tests/support/pg_cluster.sh %s %s", PC_SOURCE_DIR, cmd,
             g_dir);
    FILE *p = popen(line, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    while (fgetc(p) != EOF) /* to the end: closing early would kill the script */
        ;
    buf[n] = '\0';
    int rc = pclose(p);
    ck_assert_msg(rc == 0, "pg_cluster.sh %s: status %d", cmd, rc);
    if (out) {
        buf[strcspn(buf, "\n")] = '\0';
        ck_assert_uint_lt(strlen(buf), cap);
        memcpy(out, buf, strlen(buf) + 1);
    }
}

int pg_own_run(Suite *su)
{
    char line[256];
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    snprintf(line, sizeof line, "bash %s/tests/support/pg_cluster.sh stop %s >/dev/null 2>&1",
             PC_SOURCE_DIR, g_dir);
    if (system(line) != 0)
        fprintf(stderr, "could not stop the cluster in %s\n", g_dir);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
