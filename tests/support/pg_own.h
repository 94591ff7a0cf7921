/* pg_own.h: a PostgreSQL cluster of one e2e test's own, for the tests that
 * stop, restart or reconfigure it and so cannot share the cluster of the
 * CTest fixture "pg": tests/support/pg_cluster.sh in a directory named
 * after the test and its process. Main thread of the test process (the
 * Check cases run forked: the directory name is fixed before they fork). */
#ifndef PC_SUPPORT_PG_OWN_H
#define PC_SUPPORT_PG_OWN_H

#include <check.h>
#include <stddef.h>

/* Names the cluster's directory /tmp/pc_<tag>_<pid> (tag: a few letters,
 * short enough for a Unix socket path). Call once in main. */
void pg_own_init(const char *tag);

/* The cluster's directory (its data in DIR/data). */
const char *pg_own_dir(void);

/* Runs `pg_cluster.sh cmd DIR` (start, stop, url, down, up) and fails the
 * test unless it succeeds; the first line it printed into out[cap] when
 * out is not NULL. */
void pg_own(const char *cmd, char *out, size_t cap);

/* Runs the suite, then stops the cluster from this (the parent) process,
 * also after a case failed half-way. The process's exit status. */
int pg_own_run(Suite *su);

#endif
