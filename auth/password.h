/* password.h: argon2id password hashing (libargon2), PHC strings.
 *
 * Policy (docs/ARCHITECTURE.md, Auth model, "Passwords"): argon2id with a
 * 16-byte salt from the OS CSPRNG; 8..1024 bytes of anything (bytes, not
 * characters; any Unicode; no composition rules; never truncated); rehash
 * on login when the configured parameters change; unknown users cost one
 * dummy verification so timing does not reveal which accounts exist.
 *
 * All functions are thread-safe. Hashing and verifying take tens of
 * milliseconds at the default parameters: call them from the job pool,
 * never from an event loop.
 *
 * Plaintext: this module never copies the password; the caller owns the
 * buffer and should wipe it (explicit_bzero) once done. */
#ifndef PC_AUTH_PASSWORD_H
#define PC_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

struct auth_pw_params {
    uint32_t m_kib; /* memory in KiB (config argon2_memory_kib, default 19456) */
    uint32_t t;     /* iterations  (config argon2_iterations, default 2) */
    uint32_t p;     /* lanes       (config argon2_parallelism, default 1) */
};

#define AUTH_PW_DEFAULT_PARAMS ((struct auth_pw_params){ 19456, 2, 1 })

#define AUTH_PW_MIN_LEN 8    /* bytes */
#define AUTH_PW_MAX_LEN 1024 /* bytes: a hashing-DoS guard */

/* Bounds accepted for parameters, both configured and parsed from stored
 * hashes: a corrupted or hostile hash must not make a login allocate
 * gigabytes or spin for minutes. The config table should stay inside. */
#define AUTH_PW_MAX_M_KIB 1048576u /* 1 GiB */
#define AUTH_PW_MAX_T     64u
#define AUTH_PW_MAX_P     16u

/* Size of a buffer that holds any encoded hash we produce or accept. */
#define AUTH_PW_HASH_MAX 192

#define AUTH_PW_MISMATCH (-1) /* wrong password */
#define AUTH_PW_ERROR    (-2) /* malformed stored hash, bad params, internal failure */
#define AUTH_PW_LENGTH   (-3) /* password length outside the policy */

/* Returns 0 if params are usable (libargon2 minimums, the caps above),
 * else AUTH_PW_ERROR with a message in err. */
int auth_pw_params_check(const struct auth_pw_params *params, char *err, size_t errlen);

/* Returns 0 if pwlen is within AUTH_PW_MIN_LEN..AUTH_PW_MAX_LEN bytes,
 * else AUTH_PW_LENGTH. For new passwords (register, change). */
int auth_pw_check_length(size_t pwlen);

/* Hashes pw into out as a PHC string "$argon2id$v=19$m=..,t=..,p=..$salt$hash"
 * (NUL-terminated; outlen >= AUTH_PW_HASH_MAX is always enough).
 * Enforces auth_pw_check_length. Returns 0, AUTH_PW_LENGTH or AUTH_PW_ERROR. */
int auth_pw_hash(const struct auth_pw_params *params, const void *pw, size_t pwlen, char *out,
                 size_t outlen);

/* Verifies pw against a stored PHC string, in constant time (libargon2).
 * Only the maximum length is enforced here (a DoS guard), so raising the
 * minimum later does not lock out existing users.
 * Returns 0 (match), AUTH_PW_MISMATCH, AUTH_PW_LENGTH (pwlen > max, no hash
 * computed) or AUTH_PW_ERROR (malformed hash or parameters out of bounds). */
int auth_pw_verify(const char *encoded, const void *pw, size_t pwlen);

/* Returns 1 if the stored hash was made with other parameters or another
 * argon2 version than params/v=19 (rehash after a successful login), 0 if
 * they are the same, AUTH_PW_ERROR if the hash cannot be parsed. */
int auth_pw_needs_rehash(const char *encoded, const struct auth_pw_params *params);

/* For a login naming an unknown user: costs what auth_pw_verify costs on a
 * real hash made with params (the dummy hash is made once per params,
 * lazily, under a lock), and never matches. Returns AUTH_PW_MISMATCH,
 * AUTH_PW_LENGTH (same early exit as auth_pw_verify) or AUTH_PW_ERROR. */
int auth_pw_dummy_verify(const struct auth_pw_params *params, const void *pw, size_t pwlen);

/* A static string for a return code above. */
const char *auth_pw_strerror(int rc);

#endif
