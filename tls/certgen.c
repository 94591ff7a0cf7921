/* certgen.c: dev CA and localhost certificate with mbedTLS x509write.
 * The extensions x509write has no helper for (subjectAltName with IP
 * addresses, extendedKeyUsage) are DER-encoded with its asn1write API. */
#include "tls/certgen.h"
#include "tls/compat.h"
#include "tls/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>

#define CERTGEN_CA_NAME   "CN=Portcullis Dev CA,O=Portcullis"
#define CERTGEN_LEAF_NAME "CN=localhost,O=Portcullis"
#define CERTGEN_PEM_MAX   4096
#define CERTGEN_SKEW_S    3600        /* not-before one hour ago */
#define CERTGEN_RENEW_S   (7 * 86400) /* re-make when closer to expiry */

struct certgen {
    const char *dir;
    const struct tls_dev_paths *paths;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context ca_key;
    mbedtls_pk_context leaf_key;
    unsigned char ca_pem[CERTGEN_PEM_MAX];
    unsigned char chain_pem[2 * CERTGEN_PEM_MAX];
    unsigned char ca_key_pem[CERTGEN_PEM_MAX];
    unsigned char leaf_key_pem[CERTGEN_PEM_MAX];
    char *err;
    size_t errlen;
};

struct cert_spec {
    mbedtls_pk_context *subject_key;
    mbedtls_pk_context *issuer_key;
    const char *subject;
    int years;
    int is_ca;
};

static int certgen_fail(struct certgen *g, const char *what, int ret)
{
    char msg[128];

    if (g->err != NULL && g->errlen > 0) {
        mbedtls_strerror(ret, msg, sizeof msg);
        snprintf(g->err, g->errlen, "%s: %s: %s", g->dir, what, msg);
    }
    return -1;
}

static int certgen_fail_errno(struct certgen *g, const char *path, const char *what, int e)
{
    if (g->err != NULL && g->errlen > 0)
        snprintf(g->err, g->errlen, "%s: %s: %s", path, what, strerror(e));
    return -1;
}

/* ---- reuse check ------------------------------------------------------- */

/* 1 when t (UTC) is at or before `when`. */
static int x509_time_before(const mbedtls_x509_time *t, time_t when)
{
    struct tm tm;
    int a[6], b[6];

    gmtime_r(&when, &tm);
    a[0] = t->year;
    a[1] = t->mon;
    a[2] = t->day;
    a[3] = t->hour;
    a[4] = t->min;
    a[5] = t->sec;
    b[0] = tm.tm_year + 1900;
    b[1] = tm.tm_mon + 1;
    b[2] = tm.tm_mday;
    b[3] = tm.tm_hour;
    b[4] = tm.tm_min;
    b[5] = tm.tm_sec;
    for (int i = 0; i < 6; i++)
        if (a[i] != b[i])
            return a[i] < b[i];
    return 1;
}

static int certgen_reusable(struct certgen *g)
{
    const struct tls_dev_paths *p = g->paths;
    mbedtls_x509_crt ca, chain;
    mbedtls_pk_context key;
    uint32_t flags = 0;
    int ok = 0;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&chain);
    mbedtls_pk_init(&key);
    if (mbedtls_x509_crt_parse_file(&ca, p->ca_file) != 0 ||
        mbedtls_x509_crt_parse_file(&chain, p->cert_file) != 0)
        goto out;
    if (mbedtls_x509_crt_verify(&chain, &ca, NULL, "localhost", &flags, NULL, NULL) != 0)
        goto out;
    if (x509_time_before(&chain.valid_to, time(NULL) + CERTGEN_RENEW_S))
        goto out;
    if (mbedtls_pk_parse_keyfile(&key, p->key_file, NULL, mbedtls_ctr_drbg_random, &g->drbg) != 0)
        goto out;
    ok = mbedtls_pk_check_pair(&chain.pk, &key, mbedtls_ctr_drbg_random, &g->drbg) == 0;
out:
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
    return ok;
}

/* ---- DER for the extensions x509write has no helper for ---------------- */

/* Adds the length written by an mbedtls_asn1_write_* call to *len. */
static int asn1_acc(size_t *len, int ret)
{
    if (ret < 0)
        return ret;
    *len += (size_t)ret;
    return 0;
}

/* Writes (backwards, as asn1write does) tag, length and value. */
static int asn1_tagged(unsigned char **p, unsigned char *start, unsigned char tag,
                       const unsigned char *v, size_t n, size_t *len)
{
    size_t l = 0;
    int ret;

    if ((ret = asn1_acc(&l, mbedtls_asn1_write_raw_buffer(p, start, v, n))) != 0 ||
        (ret = asn1_acc(&l, mbedtls_asn1_write_len(p, start, l))) != 0 ||
        (ret = asn1_acc(&l, mbedtls_asn1_write_tag(p, start, tag))) != 0)
        return ret;
    *len += l;
    return 0;
}

static int asn1_sequence(unsigned char **p, unsigned char *start, size_t *len)
{
    int ret;

    if ((ret = asn1_acc(len, mbedtls_asn1_write_len(p, start, *len))) != 0 ||
        (ret = asn1_acc(len, mbedtls_asn1_write_tag(
                                 p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))) != 0)
        return ret;
    return 0;
}

/* GeneralNames: dNSName localhost, iPAddress 127.0.0.1, iPAddress ::1. */
static int certgen_set_san(mbedtls_x509write_cert *crt)
{
    static const unsigned char dns[] = "localhost";
    static const unsigned char ip4[4] = { 127, 0, 0, 1 };
    static const unsigned char ip6[16] = { [15] = 1 };
    unsigned char buf[128] = { 0 }; /* gcc cannot see that only the tail is read */
    unsigned char *p = buf + sizeof buf;
    size_t len = 0;
    int ret;

    if ((ret = asn1_tagged(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7, ip6, sizeof ip6, &len)) !=
            0 ||
        (ret = asn1_tagged(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7, ip4, sizeof ip4, &len)) !=
            0 ||
        (ret = asn1_tagged(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2, dns, sizeof dns - 1,
                           &len)) != 0 ||
        (ret = asn1_sequence(&p, buf, &len)) != 0)
        return ret;
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
                                               len);
}

/* ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId: serverAuth only. */
static int certgen_set_eku(mbedtls_x509write_cert *crt)
{
    unsigned char buf[32] = { 0 }; /* as above */
    unsigned char *p = buf + sizeof buf;
    size_t len = 0;
    int ret;

    if ((ret = asn1_acc(&len, mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                                     MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)))) !=
            0 ||
        (ret = asn1_sequence(&p, buf, &len)) != 0)
        return ret;
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                               p, len);
}

/* ---- issuing ----------------------------------------------------------- */

/* "YYYYMMDDhhmmss" (UTC) for `t` shifted by `years`; Feb 29 becomes Feb 28. */
static void certgen_time(char out[16], time_t t, int years)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    tm.tm_year += years;
    if (tm.tm_mon == 1 && tm.tm_mday == 29)
        tm.tm_mday = 28;
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

static int certgen_set_fields(mbedtls_x509write_cert *crt, const struct cert_spec *s,
                              mbedtls_ctr_drbg_context *drbg)
{
    unsigned char serial[16];
    char from[16], to[16];
    time_t start = time(NULL) - CERTGEN_SKEW_S;
    int ret;

    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(crt, s->subject_key);
    mbedtls_x509write_crt_set_issuer_key(crt, s->issuer_key);
    /* 16 random bytes, top bit clear (positive) and next bit set (no
     * leading zero byte to strip): exactly 128 bits on the wire. */
    if ((ret = mbedtls_ctr_drbg_random(drbg, serial, sizeof serial)) != 0)
        return ret;
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    certgen_time(from, start, 0);
    certgen_time(to, start, s->years);
    if ((ret = mbedtls_x509write_crt_set_serial_raw(crt, serial, sizeof serial)) != 0 ||
        (ret = mbedtls_x509write_crt_set_validity(crt, from, to)) != 0 ||
        (ret = mbedtls_x509write_crt_set_subject_name(crt, s->subject)) != 0 ||
        (ret = mbedtls_x509write_crt_set_issuer_name(crt, CERTGEN_CA_NAME)) != 0)
        return ret;
#if PC_HAVE_KEY_ID
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_authority_key_identifier(crt)) != 0)
        return ret;
#endif
    return 0;
}

static int certgen_set_profile(mbedtls_x509write_cert *crt, int is_ca)
{
    int ret;

    if (is_ca) {
        if ((ret = mbedtls_x509write_crt_set_basic_constraints(crt, 1, 0)) != 0)
            return ret;
        return mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                            MBEDTLS_X509_KU_CRL_SIGN);
    }
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(crt, 0, -1)) != 0 ||
        (ret = mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
        (ret = certgen_set_eku(crt)) != 0)
        return ret;
    return certgen_set_san(crt);
}

static int certgen_issue(const struct cert_spec *s, mbedtls_ctr_drbg_context *drbg,
                         unsigned char *pem, size_t pemlen)
{
    mbedtls_x509write_cert crt;
    int ret;

    mbedtls_x509write_crt_init(&crt);
    ret = certgen_set_fields(&crt, s, drbg);
    if (ret == 0)
        ret = certgen_set_profile(&crt, s->is_ca);
    if (ret == 0)
        ret = mbedtls_x509write_crt_pem(&crt, pem, pemlen, mbedtls_ctr_drbg_random, drbg);
    mbedtls_x509write_crt_free(&crt);
    return ret;
}

static int certgen_gen_key(mbedtls_pk_context *pk, mbedtls_ctr_drbg_context *drbg)
{
    int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

    if (ret != 0)
        return ret;
    return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                               mbedtls_ctr_drbg_random, drbg);
}

static int certgen_make(struct certgen *g)
{
    struct cert_spec ca = { &g->ca_key, &g->ca_key, CERTGEN_CA_NAME, 10, 1 };
    struct cert_spec leaf = { &g->leaf_key, &g->ca_key, CERTGEN_LEAF_NAME, 1, 0 };
    size_t n;
    int ret;

    if ((ret = certgen_gen_key(&g->ca_key, &g->drbg)) != 0 ||
        (ret = certgen_gen_key(&g->leaf_key, &g->drbg)) != 0)
        return certgen_fail(g, "generating a P-256 key", ret);
    if ((ret = certgen_issue(&ca, &g->drbg, g->ca_pem, sizeof g->ca_pem)) != 0)
        return certgen_fail(g, "issuing the CA certificate", ret);
    if ((ret = certgen_issue(&leaf, &g->drbg, g->chain_pem, CERTGEN_PEM_MAX)) != 0)
        return certgen_fail(g, "issuing the server certificate", ret);
    n = strlen((const char *)g->chain_pem);
    memcpy(g->chain_pem + n, g->ca_pem, strlen((const char *)g->ca_pem) + 1);
    if ((ret = mbedtls_pk_write_key_pem(&g->ca_key, g->ca_key_pem, sizeof g->ca_key_pem)) != 0 ||
        (ret = mbedtls_pk_write_key_pem(&g->leaf_key, g->leaf_key_pem, sizeof g->leaf_key_pem)) !=
            0)
        return certgen_fail(g, "encoding a private key", ret);
    return 0;
}

/* ---- files ------------------------------------------------------------- */

static int certgen_mkdirs(struct certgen *g)
{
    char path[TLS_DEV_PATH_MAX];
    size_t n = strlen(g->dir);

    if (n == 0 || n >= sizeof path)
        return certgen_fail_errno(g, g->dir, "directory", ENAMETOOLONG);
    memcpy(path, g->dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return certgen_fail_errno(g, path, "mkdir", errno);
        path[i] = i < n ? '/' : '\0';
    }
    return 0;
}

/* Each file through the one atomic writer (tls/file.h): a reader never
 * sees half a file, and a key is never readable by others. */
static int certgen_write(struct certgen *g)
{
    char ca_key[TLS_DEV_PATH_MAX + 16];
    const struct {
        const char *path;
        const unsigned char *pem;
        unsigned mode;
    } f[] = {
        { ca_key, g->ca_key_pem, 0600 },
        { g->paths->key_file, g->leaf_key_pem, 0600 },
        { g->paths->ca_file, g->ca_pem, 0644 },
        { g->paths->cert_file, g->chain_pem, 0644 },
    };
    snprintf(ca_key, sizeof ca_key, "%s/ca.key", g->dir);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (file_write_atomic(f[i].path, f[i].pem, strlen((const char *)f[i].pem), f[i].mode,
                              FILE_REPLACE, g->err, g->errlen) != 0)
            return -1;
    return 0;
}

/* ---- entry point ------------------------------------------------------- */

static int certgen_paths(const char *dir, struct tls_dev_paths *out)
{
    memset(out, 0, sizeof *out);
    if ((size_t)snprintf(out->ca_file, sizeof out->ca_file, "%s/ca.crt", dir) >=
            sizeof out->ca_file ||
        (size_t)snprintf(out->cert_file, sizeof out->cert_file, "%s/server.crt", dir) >=
            sizeof out->cert_file ||
        (size_t)snprintf(out->key_file, sizeof out->key_file, "%s/server.key", dir) >=
            sizeof out->key_file)
        return -1;
    return 0;
}

static void certgen_cleanup(struct certgen *g)
{
    mbedtls_platform_zeroize(g->ca_key_pem, sizeof g->ca_key_pem);
    mbedtls_platform_zeroize(g->leaf_key_pem, sizeof g->leaf_key_pem);
    mbedtls_pk_free(&g->leaf_key);
    mbedtls_pk_free(&g->ca_key);
    mbedtls_ctr_drbg_free(&g->drbg);
    mbedtls_entropy_free(&g->entropy);
    free(g);
}

int tls_certgen_dev(const char *dir, struct tls_dev_paths *out, char *err, size_t errlen)
{
    static const unsigned char pers[] = "portcullis certgen";
    struct certgen *g;
    int ret = -1;

    if (dir == NULL || certgen_paths(dir, out) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: certificate directory path too long", dir ? dir : "(null)");
        return -1;
    }
    g = calloc(1, sizeof *g); /* ~20 KiB of PEM buffers: not on the stack */
    if (g == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    g->dir = dir;
    g->paths = out;
    g->err = err;
    g->errlen = errlen;
    mbedtls_entropy_init(&g->entropy);
    mbedtls_ctr_drbg_init(&g->drbg);
    mbedtls_pk_init(&g->ca_key);
    mbedtls_pk_init(&g->leaf_key);

    ret = mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy, pers, sizeof pers - 1);
    if (ret != 0) {
        ret = certgen_fail(g, "seeding the random generator", ret);
        goto done;
    }
    if (certgen_reusable(g)) {
        ret = 0;
        goto done;
    }
    ret = -1;
    if (certgen_mkdirs(g) == 0 && certgen_make(g) == 0 && certgen_write(g) == 0) {
        out->generated = 1;
        ret = 0;
    }
done:
    certgen_cleanup(g);
    return ret;
}
