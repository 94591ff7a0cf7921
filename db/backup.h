/* backup.h: consistent copies of a live database, and putting one back.
 *
 * Both use SQLite's online backup API, page by page inside one read
 * transaction of the source, so a copy taken while the server writes holds
 * exactly the transactions committed before it began, never half of one.
 *
 * Threads: for the command line; each call opens and closes its own
 * connections. */
#ifndef PC_DB_BACKUP_H
#define PC_DB_BACKUP_H

#include <stddef.h>

/* Copies the database at db_path (which must exist) to out_path: written to
 * a temporary file beside it (mode 0600: it holds password hashes), checked
 * with PRAGMA quick_check, made a self-contained rollback-journal file,
 * fsync'ed and renamed over out_path. Safe while servers use db_path.
 * 0 or DB_ERROR/DB_BUSY with a message in err. */
int db_backup(const char *db_path, const char *out_path, char *err, size_t errlen);

/* Checks that backup_path is a Portcullis database this build understands
 * and that PRAGMA integrity_check passes, then replaces the contents of
 * db_path with it (creating db_path and its directories if missing) in one
 * transaction, and migrates it to the current schema. No server may be
 * using db_path: the caller makes sure of that. 0 or a DB_* code with err. */
int db_restore(const char *backup_path, const char *db_path, char *err, size_t errlen);

#endif
