/* seal.h: authenticated encryption of small secrets at rest (AES-256-GCM
 * from mbedTLS), e.g. TOTP secrets in the database.
 *
 * A sealed blob is nonce (12 random bytes, fresh for every seal) ||
 * ciphertext || tag (16 bytes). The additional data (AAD) binds the blob
 * to its context (the owner's row): unsealing with another AAD, another
 * key, or a changed byte fails. Pure functions over caller buffers;
 * thread-safe. */
#ifndef PC_AUTH_SEAL_H
#define PC_AUTH_SEAL_H

#include <stddef.h>

#define AUTH_SEAL_KEY_LEN   32 /* AES-256 */
#define AUTH_SEAL_NONCE_LEN 12
#define AUTH_SEAL_TAG_LEN   16
#define AUTH_SEAL_OVERHEAD  (AUTH_SEAL_NONCE_LEN + AUTH_SEAL_TAG_LEN)

/* Seals pt[0..ptlen) into out (ptlen + AUTH_SEAL_OVERHEAD bytes). 0 or -1
 * (randomness or cipher failure; out is then zeroed). */
int auth_seal(const unsigned char key[AUTH_SEAL_KEY_LEN], const void *aad, size_t aadlen,
              const unsigned char *pt, size_t ptlen, unsigned char *out);

/* Opens a blob of inlen bytes into pt (inlen - AUTH_SEAL_OVERHEAD bytes).
 * 0, or -1 when it is too short, was changed, or key or aad differ (pt is
 * then zeroed: no unauthenticated plaintext escapes). */
int auth_unseal(const unsigned char key[AUTH_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const unsigned char *in, size_t inlen, unsigned char *pt);

/* The sealing key at path (32 raw bytes), created from the CSPRNG on first
 * use with mode 0600 like the JWT key (privfile.h: refused when group- or
 * other-accessible or owned by someone else). 0 or -1 with err. */
int auth_seal_key_load(unsigned char key[AUTH_SEAL_KEY_LEN], const char *path, char *err,
                       size_t errlen);

#endif
