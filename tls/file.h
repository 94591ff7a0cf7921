/* file.h: the one atomic file writer of Portcullis. Every file the server
 * writes whole (dev certificates and their keys, the JWT key, the TOTP
 * sealing key) goes through it, so each is either absent or complete, and
 * never readable by others while half written:
 *   - missing parent directories are made 0700 (FILE_MKDIRS);
 *   - the bytes go to a temporary file beside the target (mkostemp:
 *     O_EXCL, mode 0600, then the requested mode), which is fsynced;
 *   - it is renamed over the target (FILE_REPLACE), or linked to it only if
 *     no file is there yet (FILE_CREATE: a concurrent start that made the
 *     file first wins, and the caller reads that one);
 *   - the directory is fsynced, so the new entry survives a crash.
 * It lives in tls/, the lowest layer that writes files; server/file.h hands
 * it to the layers above. (db/backup.c renames a file SQLite wrote.)
 *
 * Threads: any. */
#ifndef PC_TLS_FILE_H
#define PC_TLS_FILE_H

#include <stddef.h>

#define FILE_REPLACE 0x1 /* rename over an existing file (else: create only) */
#define FILE_MKDIRS  0x2 /* create missing parent directories, mode 0700 */

/* Writes data[0..len) to path with the given mode (e.g. 0600, 0644).
 * Returns 0 when written, 1 when FILE_REPLACE is not set and a file was
 * already there (nothing written), or -1 with err naming path. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, int flags,
                      char *err, size_t errlen);

#endif
