/* keyfile.h (internal to auth/): an ES256 signing key on disk, in the
 * store (keyset.c) and in the forms token.c needs, so that token.c deals in JWTs and never in files,
 * permissions or mbedTLS key structures.
 *
 * The key is a P-256 private key in PEM (SEC1 or PKCS#8). On first start
 * the file does not exist and a new key is generated and written with mode
 * 0600, missing parent directories created 0700; it is written to a
 * temporary file and linked into place, so a concurrent start never sees
 * half a key or replaces one. Like sshd, a file that group or others may
 * access, or that is owned by someone other than us or root, is refused:
 * such a key may be known to someone else. */
#ifndef PC_AUTH_KEYFILE_H
#define PC_AUTH_KEYFILE_H

#include <stddef.h>

#define AUTH_KEYFILE_COORD_LEN 32 /* bytes in each P-256 coordinate */

/* A loaded key. Both PEMs are malloc'd and NUL-terminated; whoever holds
 * them frees them (auth_keyfile_key_free wipes and frees what is left). */
struct auth_keyfile_key {
    char *private_pem;                       /* what libjwt signs with */
    char *public_pem;                        /* what libjwt verifies with */
    unsigned char x[AUTH_KEYFILE_COORD_LEN]; /* the public point, big-endian, */
    unsigned char y[AUTH_KEYFILE_COORD_LEN]; /* for the JWK (RFC 7518 §6.2.1) */
};

/* Loads the key at path, creating it first if the file does not exist.
 * Returns 0 and fills *key, or -1 with a message naming path in err (key
 * is then all NULL/zero). */
int auth_keyfile_load(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen);

/* Reads the key at path without creating it. 0, 1 when the file does not
 * exist, or -1 with a message naming path in err. */
int auth_keyfile_read(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen);

/* Parses a P-256 private key from pem[0..len) (pem[len] must be NUL), as
 * unsealed from the store. 0 or -1 (key then all NULL/zero). */
int auth_keyfile_parse(struct auth_keyfile_key *key, const char *pem, size_t len);

/* A new P-256 key in memory (no file). 0 or -1. */
int auth_keyfile_generate(struct auth_keyfile_key *key);

/* Wipes and frees the PEMs still held (a NULL member is skipped) and
 * zeroes key. NULL ok. */
void auth_keyfile_key_free(struct auth_keyfile_key *key);

#endif
