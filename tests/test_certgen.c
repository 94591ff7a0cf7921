/* test_certgen.c: the dev CA and localhost certificate: file modes, what
 * the certificates say (checked by parsing them back with mbedTLS), reuse,
 * regeneration of a broken set, and errors. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>

#include "tls/certgen.h"
#include "tls/compat.h"
#include "tls/tls.h"

static char g_tmp[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_setup(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/pc_test_certgen.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_tmp));
}

static void tmp_teardown(void) { nftw(g_tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS); }

static void gen(const char *dir, struct tls_dev_paths *p)
{
    char err[512] = "";

    ck_assert_msg(tls_certgen_dev(dir, p, err, sizeof err) == 0, "certgen: %s", err);
}

static void sub(char *out, size_t n, const char *rel) { snprintf(out, n, "%s/%s", g_tmp, rel); }

static unsigned mode_of(const char *path)
{
    struct stat st;

    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    return (unsigned)st.st_mode & 0777;
}

static void crt_load(mbedtls_x509_crt *c, const char *path)
{
    mbedtls_x509_crt_init(c);
    ck_assert_msg(mbedtls_x509_crt_parse_file(c, path) == 0, "parse %s", path);
}

static int crt_info_has(const mbedtls_x509_crt *c, const char *needle)
{
    char buf[4096];

    ck_assert_int_gt(mbedtls_x509_crt_info(buf, sizeof buf, "", c), 0);
    return strstr(buf, needle) != NULL;
}

/* 1 when the leaf's subjectAltName holds an entry with this tag and value. */
static int san_has(const mbedtls_x509_crt *c, int tag, const void *v, size_t n)
{
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s != NULL; s = s->next)
        if (s->buf.tag == tag && s->buf.len == n && memcmp(s->buf.p, v, n) == 0)
            return 1;
    return 0;
}

static int key_matches(const char *key_file, const mbedtls_x509_crt *c)
{
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context pk;
    int ok;

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&pk);
    ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, NULL, 0) == 0 &&
         mbedtls_pk_parse_keyfile(&pk, key_file, NULL, mbedtls_ctr_drbg_random, &drbg) == 0 &&
         mbedtls_pk_check_pair(&c->pk, &pk, mbedtls_ctr_drbg_random, &drbg) == 0;
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return ok;
}

static int this_year(void)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

/* ---- files ---------------------------------------------------------------- */

START_TEST(creates_dirs_and_modes)
{
    struct tls_dev_paths p;
    char dir[512], cakey[600];

    sub(dir, sizeof dir, "a/b/dev");
    gen(dir, &p);
    ck_assert_int_eq(p.generated, 1);
    ck_assert_uint_eq(mode_of(dir), 0700);
    sub(cakey, sizeof cakey, "a");
    ck_assert_uint_eq(mode_of(cakey), 0700);
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    ck_assert_uint_eq(mode_of(cakey), 0600);
    ck_assert_uint_eq(mode_of(p.key_file), 0600);
    ck_assert_uint_eq(mode_of(p.cert_file), 0644);
    ck_assert_uint_eq(mode_of(p.ca_file), 0644);
    ck_assert_ptr_nonnull(strstr(p.ca_file, "/a/b/dev/ca.crt"));
    ck_assert_ptr_nonnull(strstr(p.cert_file, "/a/b/dev/server.crt"));
    ck_assert_ptr_nonnull(strstr(p.key_file, "/a/b/dev/server.key"));
}
END_TEST

/* ---- what the certificates say --------------------------------------------- */

START_TEST(leaf_verifies_against_ca)
{
    struct tls_dev_paths p;
    mbedtls_x509_crt ca, chain;
    uint32_t flags = 0;

    gen(g_tmp, &p);
    crt_load(&ca, p.ca_file);
    crt_load(&chain, p.cert_file);
    ck_assert_int_eq(mbedtls_x509_crt_verify(&chain, &ca, NULL, "localhost", &flags, NULL, NULL),
                     0);
    ck_assert_uint_eq(flags, 0);
    ck_assert_int_ne(mbedtls_x509_crt_verify(&chain, &ca, NULL, "example.com", &flags, NULL, NULL),
                     0);
    ck_assert(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    /* server.crt is the leaf followed by the CA. */
    ck_assert_ptr_nonnull(chain.next);
    ck_assert_ptr_null(chain.next->next);
    ck_assert_uint_eq(chain.next->raw.len, ca.raw.len);
    ck_assert_mem_eq(chain.next->raw.p, ca.raw.p, ca.raw.len);
    ck_assert(key_matches(p.key_file, &chain));
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
}
END_TEST

START_TEST(leaf_profile)
{
    static const unsigned char ip4[4] = { 127, 0, 0, 1 };
    static const unsigned char ip6[16] = { [15] = 1 };
    struct tls_dev_paths p;
    mbedtls_x509_crt leaf;
    char dn[256];

    gen(g_tmp, &p);
    crt_load(&leaf, p.cert_file);
    ck_assert_int_gt(mbedtls_x509_dn_gets(dn, sizeof dn, &leaf.subject), 0);
    ck_assert_ptr_nonnull(strstr(dn, "CN=localhost"));
    ck_assert(san_has(&leaf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2, "localhost", 9));
    ck_assert(san_has(&leaf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7, ip4, sizeof ip4));
    ck_assert(san_has(&leaf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7, ip6, sizeof ip6));
    ck_assert_int_eq(mbedtls_x509_crt_check_key_usage(&leaf, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
    ck_assert_int_ne(mbedtls_x509_crt_check_key_usage(&leaf, MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
    ck_assert_int_eq(mbedtls_x509_crt_check_extended_key_usage(
                         &leaf, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                     0);
    ck_assert_int_ne(mbedtls_x509_crt_check_extended_key_usage(
                         &leaf, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
                     0);
    ck_assert(crt_info_has(&leaf, "CA=false"));
    ck_assert(crt_info_has(&leaf, "ECDSA with SHA256"));
    ck_assert_int_eq(mbedtls_pk_get_type(&leaf.pk), MBEDTLS_PK_ECKEY);
    ck_assert_uint_eq(mbedtls_pk_get_bitlen(&leaf.pk), 256);
    ck_assert_uint_eq(leaf.serial.len, 16);
    ck_assert(mbedtls_x509_time_is_past(&leaf.valid_from));
    ck_assert(mbedtls_x509_time_is_future(&leaf.valid_to));
    ck_assert_int_eq(leaf.valid_to.year - leaf.valid_from.year, 1);
    mbedtls_x509_crt_free(&leaf);
}
END_TEST

START_TEST(ca_profile)
{
    struct tls_dev_paths p;
    mbedtls_x509_crt ca;
    char dn[256], cakey[600];
    uint32_t flags = 0;

    gen(g_tmp, &p);
    crt_load(&ca, p.ca_file);
    ck_assert_int_gt(mbedtls_x509_dn_gets(dn, sizeof dn, &ca.subject), 0);
    ck_assert_ptr_nonnull(strstr(dn, "CN=Portcullis Dev CA"));
    ck_assert(crt_info_has(&ca, "CA=true, max_pathlen=0"));
    ck_assert_int_eq(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                               MBEDTLS_X509_KU_CRL_SIGN),
                     0);
    ck_assert_int_ne(mbedtls_x509_crt_check_key_usage(&ca, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
    ck_assert_int_eq(mbedtls_x509_crt_verify(&ca, &ca, NULL, NULL, &flags, NULL, NULL), 0);
    ck_assert_int_eq(ca.valid_to.year - ca.valid_from.year, 10);
    ck_assert_int_le(ca.valid_from.year, this_year());
    ck_assert_uint_eq(ca.serial.len, 16);
    snprintf(cakey, sizeof cakey, "%s/ca.key", g_tmp);
    ck_assert(key_matches(cakey, &ca));
    mbedtls_x509_crt_free(&ca);
}
END_TEST

START_TEST(serials_are_random)
{
    struct tls_dev_paths p1, p2;
    mbedtls_x509_crt a, b;
    char d1[512], d2[512];

    sub(d1, sizeof d1, "one");
    sub(d2, sizeof d2, "two");
    gen(d1, &p1);
    gen(d2, &p2);
    crt_load(&a, p1.ca_file);
    crt_load(&b, p2.ca_file);
    ck_assert_int_ne(memcmp(a.serial.p, b.serial.p, 16), 0);
    mbedtls_x509_crt_free(&b);
    mbedtls_x509_crt_free(&a);
}
END_TEST

/* ---- reuse and regeneration ------------------------------------------------ */

static const char *const files[] = { "ca.crt", "ca.key", "server.crt", "server.key" };

static void mtimes(const char *dir, struct timespec out[4])
{
    char path[600];
    struct stat st;

    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        ck_assert_int_eq(stat(path, &st), 0);
        out[i] = st.st_mtim;
    }
}

START_TEST(second_call_reuses)
{
    struct tls_dev_paths p1, p2;
    struct timespec before[4], after[4];

    gen(g_tmp, &p1);
    mtimes(g_tmp, before);
    gen(g_tmp, &p2);
    ck_assert_int_eq(p2.generated, 0);
    ck_assert_str_eq(p1.cert_file, p2.cert_file);
    mtimes(g_tmp, after);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(before[i].tv_sec, after[i].tv_sec);
        ck_assert_int_eq(before[i].tv_nsec, after[i].tv_nsec);
    }
}
END_TEST

/* Ways an existing set can be unusable; each must lead to a fresh set. */
enum damage { GARBLE_CERT, DROP_KEY, FOREIGN_KEY, DROP_CA, FOREIGN_CA, EMPTY_CERT };

static void copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    size_t n;

    ck_assert(in != NULL && out != NULL);
    n = fread(buf, 1, sizeof buf, in);
    ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void damage(const struct tls_dev_paths *p, enum damage d)
{
    struct tls_dev_paths other;
    char dir[512];
    FILE *f;

    sub(dir, sizeof dir, "other");
    if (d == FOREIGN_KEY || d == FOREIGN_CA)
        gen(dir, &other);
    switch (d) {
    case GARBLE_CERT:
    case EMPTY_CERT:
        f = fopen(p->cert_file, "w");
        ck_assert_ptr_nonnull(f);
        if (d == GARBLE_CERT)
            fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", f);
        fclose(f);
        break;
    case DROP_KEY: ck_assert_int_eq(unlink(p->key_file), 0); break;
    case FOREIGN_KEY: copy_file(other.key_file, p->key_file); break;
    case DROP_CA: ck_assert_int_eq(unlink(p->ca_file), 0); break;
    case FOREIGN_CA: copy_file(other.ca_file, p->ca_file); break;
    }
}

START_TEST(broken_set_is_regenerated)
{
    struct tls_dev_paths p, again;
    mbedtls_x509_crt ca, chain;
    uint32_t flags = 0;

    gen(g_tmp, &p);
    damage(&p, (enum damage)_i);
    gen(g_tmp, &again);
    ck_assert_int_eq(again.generated, 1);
    crt_load(&ca, again.ca_file);
    crt_load(&chain, again.cert_file);
    ck_assert_int_eq(mbedtls_x509_crt_verify(&chain, &ca, NULL, "localhost", &flags, NULL, NULL),
                     0);
    ck_assert(key_matches(again.key_file, &chain));
    ck_assert_uint_eq(mode_of(again.key_file), 0600);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(unwritable_dir_fails)
{
    struct tls_dev_paths p;
    char file[512], dir[600], err[512] = "";
    FILE *f;

    /* A regular file where a parent directory should be: fails even for
     * root, which ignores permission bits. */
    sub(file, sizeof file, "plainfile");
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/certs", file);
    ck_assert_int_eq(tls_certgen_dev(dir, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "plainfile") != NULL, "err: %s", err);

    if (geteuid() != 0) {
        sub(dir, sizeof dir, "ro");
        ck_assert_int_eq(mkdir(dir, 0500), 0);
        err[0] = '\0';
        ck_assert_int_eq(tls_certgen_dev(dir, &p, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "/ro/") != NULL, "err: %s", err);
    }
}
END_TEST

START_TEST(too_long_path_fails)
{
    struct tls_dev_paths p;
    char dir[TLS_DEV_PATH_MAX + 64], err[256] = "";

    memset(dir, 'x', sizeof dir - 1);
    dir[0] = '/';
    dir[sizeof dir - 1] = '\0';
    ck_assert_int_eq(tls_certgen_dev(dir, &p, err, sizeof err), -1);
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(tls_certgen_dev(NULL, &p, err, sizeof err), -1);
}
END_TEST

static Suite *certgen_suite(void)
{
    Suite *s = suite_create("certgen");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, creates_dirs_and_modes);
    tcase_add_test(tc, leaf_verifies_against_ca);
    tcase_add_test(tc, leaf_profile);
    tcase_add_test(tc, ca_profile);
    tcase_add_test(tc, serials_are_random);
    tcase_add_test(tc, second_call_reuses);
    tcase_add_loop_test(tc, broken_set_is_regenerated, GARBLE_CERT, EMPTY_CERT + 1);
    tcase_add_test(tc, unwritable_dir_fails);
    tcase_add_test(tc, too_long_path_fails);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    char err[256];
    int failed;

    if (tls_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sr = srunner_create(certgen_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
