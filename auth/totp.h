/* totp.h: time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1
 * from mbedTLS, 6 digits, 30-second steps, one step of drift each way.
 *
 * Pure functions over caller-owned buffers; no allocation except
 * totp_qr_svg. Thread-safe. The secret is the raw 20-byte key; it leaves
 * this module only base32-encoded for the user's authenticator app. */
#ifndef PC_AUTH_TOTP_H
#define PC_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommended length */
#define TOTP_DIGITS       6
#define TOTP_PERIOD_S     30
#define TOTP_DRIFT_STEPS  1
/* Base32 of TOTP_SECRET_BYTES without padding, plus NUL. */
#define TOTP_SECRET_B32_BUF 33

/* The step counter for Unix time t (t / 30; 0 before the epoch). */
int64_t totp_step(time_t t);

/* The code for one step: HOTP(key, step) with dynamic truncation, reduced to
 * `digits` (6..8) decimal digits. 0 or -1 (bad arguments). */
int totp_code(const unsigned char *key, size_t keylen, int64_t step, int digits, uint32_t *code);

/* Checks a 6-digit code typed by the user against the steps now-1..now+1
 * that are later than last_step (a code is accepted at most once). All
 * three candidates are computed and compared without early exit. Returns 1
 * with the matching step in *step, or 0 (wrong, reused, or not 6 ASCII
 * digits). */
int totp_verify(const unsigned char *key, size_t keylen, const char *code, time_t now,
                int64_t last_step, int64_t *step);

/* RFC 4648 base32 (A-Z2-7) without '=' padding, NUL-terminated. Returns the
 * encoded length, or -1 when out is too small. */
int totp_base32(char *out, size_t outlen, const unsigned char *src, size_t len);

/* otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded (RFC 3986 unreserved characters
 * kept). Returns the length, or -1 when out is too small. */
int totp_uri(char *out, size_t outlen, const char *issuer, const char *account,
             const char *secret_b32);

/* An SVG image (black modules on white, 4-module quiet zone) of the QR code
 * of text, made by libqrencode (error correction level M). Returns a
 * malloc'ed NUL-terminated string the caller frees, or NULL. */
char *totp_qr_svg(const char *text);

#endif
