/* privfile.h (internal to auth/): private key files on disk, created and
 * checked the careful way (shared by keyfile.c and seal.c).
 *
 * Creation: missing parent directories made 0700; the bytes go to a
 * temporary file (O_EXCL, mode 0600) that is fsynced and then link(2)ed
 * into place, so a concurrent start never sees half a file or replaces
 * one another process just made; the directory entry is fsynced too.
 * Reading: like sshd, a file that group or others may access, or that is
 * owned by someone other than us or root, is refused: its content may be
 * known to someone else. */
#ifndef PC_AUTH_PRIVFILE_H
#define PC_AUTH_PRIVFILE_H

#include <stddef.h>

/* Publishes data at path unless a file already exists there (then 0 too:
 * the caller reads whichever won). 0 or -1 with a message naming path. */
int auth_privfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Reads the whole file (1..max bytes) into a malloc'd buffer with a NUL
 * after the data (*len excludes it). Returns 0, 1 when the file does not
 * exist, or -1 with a message naming path. The caller wipes and frees. */
int auth_privfile_read(const char *path, size_t max, unsigned char **buf, size_t *len, char *err,
                       size_t errlen);

#endif
