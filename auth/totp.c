/* totp.c: see totp.h. The HMAC is mbedTLS's; base32 and the URI are written
 * here because no library in the stack offers them (mbedTLS has base64
 * only), and are tested against RFC 4648's and RFC 6238's vectors. */
#include "auth/totp.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

int64_t totp_step(time_t t) { return t > 0 ? (int64_t)(t / TOTP_PERIOD_S) : 0; }

int totp_code(const unsigned char *key, size_t keylen, int64_t step, int digits, uint32_t *code)
{
    static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
    const mbedtls_md_info_t *sha1 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    unsigned char msg[8], mac[20];
    if (key == NULL || keylen == 0 || step < 0 || digits < 6 || digits > 8 || sha1 == NULL)
        return -1;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    if (mbedtls_md_hmac(sha1, key, keylen, msg, sizeof msg, mac) != 0)
        return -1;
    /* RFC 4226 §5.3: 31 bits from the offset named by the last nibble. */
    unsigned off = mac[19] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    *code = bin % mod[digits - 6];
    mbedtls_platform_zeroize(mac, sizeof mac);
    return 0;
}

static int six_digits(const char *code)
{
    if (code == NULL)
        return 0;
    for (int i = 0; i < TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return code[TOTP_DIGITS] == '\0';
}

int totp_verify(const unsigned char *key, size_t keylen, const char *code, time_t now,
                int64_t last_step, int64_t *step)
{
    int64_t base = totp_step(now), found = -1;
    if (!six_digits(code))
        return 0;
    for (int64_t d = -TOTP_DRIFT_STEPS; d <= TOTP_DRIFT_STEPS; d++) {
        uint32_t c;
        char want[TOTP_DIGITS + 1];
        if (base + d < 0 || totp_code(key, keylen, base + d, TOTP_DIGITS, &c) != 0)
            continue;
        snprintf(want, sizeof want, "%06u", (unsigned)c);
        int same = mbedtls_ct_memcmp(want, code, TOTP_DIGITS) == 0;
        /* No early exit: every candidate costs the same. */
        if (same && base + d > last_step && found < 0)
            found = base + d;
    }
    if (found < 0)
        return 0;
    *step = found;
    return 1;
}

int totp_base32(char *out, size_t outlen, const unsigned char *src, size_t len)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t need = (len * 8 + 4) / 5, n = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (outlen < need + 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | src[i];
        bits += 8;
        while (bits >= 5) {
            out[n++] = alpha[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[n++] = alpha[(acc << (5 - bits)) & 31];
    out[n] = '\0';
    return (int)n;
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved). */
static int pct_append(char *out, size_t outlen, size_t *n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (*n + (keep ? 1 : 3) >= outlen)
            return -1;
        if (keep) {
            out[(*n)++] = (char)*p;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[*p >> 4];
            out[(*n)++] = hex[*p & 15];
        }
    }
    out[*n] = '\0';
    return 0;
}

static int raw_append(char *out, size_t outlen, size_t *n, const char *s)
{
    size_t k = strlen(s);
    if (*n + k >= outlen)
        return -1;
    memcpy(out + *n, s, k + 1);
    *n += k;
    return 0;
}

int totp_uri(char *out, size_t outlen, const char *issuer, const char *account,
             const char *secret_b32)
{
    size_t n = 0;
    if (outlen == 0 || raw_append(out, outlen, &n, "otpauth://totp/") != 0 ||
        pct_append(out, outlen, &n, issuer) != 0 || raw_append(out, outlen, &n, ":") != 0 ||
        pct_append(out, outlen, &n, account) != 0 || raw_append(out, outlen, &n, "?secret=") != 0 ||
        raw_append(out, outlen, &n, secret_b32) != 0 ||
        raw_append(out, outlen, &n, "&issuer=") != 0 || pct_append(out, outlen, &n, issuer) != 0 ||
        raw_append(out, outlen, &n, "&algorithm=SHA1&digits=6&period=30") != 0)
        return -1;
    return (int)n;
}

/* One path of horizontal runs of dark modules, offset by the quiet zone. */
static int svg_runs(char *out, size_t cap, size_t *n, const QRcode *qr, int quiet)
{
    int w = qr->width;
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w;) {
            if (!(qr->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (qr->data[y * w + x + run] & 1))
                run++;
            int k = snprintf(out + *n, cap - *n, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run,
                             run);
            if (k < 0 || (size_t)k >= cap - *n)
                return -1;
            *n += (size_t)k;
            x += run;
        }
    return 0;
}

char *totp_qr_svg(const char *text)
{
    const int quiet = 4;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL)
        return NULL;
    int size = qr->width + 2 * quiet;
    /* At most one run per two modules of a row, each under 32 bytes. */
    size_t cap = (size_t)qr->width * (size_t)(qr->width / 2 + 1) * 32 + 512, n = 0;
    char *out = malloc(cap);
    if (out == NULL)
        goto fail;
    int k = snprintf(out, cap,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                     "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                     size, size, size, size);
    if (k < 0 || (size_t)k >= cap)
        goto fail;
    n = (size_t)k;
    if (svg_runs(out, cap, &n, qr, quiet) != 0 || n + 16 > cap)
        goto fail;
    memcpy(out + n, "\"/></svg>", 10);
    QRcode_free(qr);
    return out;
fail:
    free(out);
    QRcode_free(qr);
    return NULL;
}
