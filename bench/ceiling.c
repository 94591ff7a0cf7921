/* ceiling.c: the crypto ceiling of full TLS 1.2 ECDHE-ECDSA handshakes on
 * one core, server side.
 *
 * What: the public-key work a server does for one full handshake, per key
 * exchange group (x25519, then secp256r1): ECDHE key generation, the ECDHE
 * shared secret, and one ECDSA P-256 signature over the ServerKeyExchange
 * hash. Symmetric crypto, X.509, parsing and I/O are left out, so
 * 1e6 / (keygen_us + secret_us + sign_us) is an upper bound on the full
 * handshakes per second one core can do with this mbedTLS.
 *
 * How: the calls the mbedTLS TLS layer itself makes, in its order: a fresh
 * ECDH context per handshake (setup, make_params, read_public of the
 * client's share, calc_secret, free), with the CTR_DRBG as f_rng for
 * blinding; and mbedtls_ecdsa_write_signature (deterministic ECDSA when the
 * library has MBEDTLS_ECDSA_DETERMINISTIC) with one long-lived key. Each
 * part is timed on its own with CLOCK_MONOTONIC, looping for the given time.
 *
 * Usage: ceiling [seconds]   (default 3; pin it to one CPU with taskset)
 * Prints one line per group, e.g.
 *   ceiling group=x25519 keygen_us=530.1 secret_us=540.2 sign_us=330.5
 *           handshakes_per_s=713.9 iterations=2140     (on one line)
 *
 * Build: cc -O2 -o ceiling bench/ceiling.c -lmbedtls -lmbedx509 -lmbedcrypto
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 too */

#include <mbedtls/version.h> /* pulls in config.h (2.28) or build_info.h (3.x) */

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARE_MAX 160 /* one ECPoint (or ECParameters + ECPoint) in TLS format */

struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

/* Summed microseconds of each part over all iterations. */
struct parts {
    double keygen_us, secret_us, sign_us;
    long iterations;
};

static int fail(const char *what, int ret)
{
    char msg[160];

    mbedtls_strerror(ret, msg, sizeof msg);
    fprintf(stderr, "ceiling: %s: %s (-0x%04x)\n", what, msg, (unsigned)-ret);
    return -1;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int rng_setup(struct rng *r)
{
    static const char pers[] = "portcullis-bench-ceiling";
    int ret;

    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    ret = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                (const unsigned char *)pers, sizeof pers - 1);
    return ret != 0 ? fail("ctr_drbg_seed", ret) : 0;
}

static void rng_free(struct rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

static int sign(mbedtls_ecdsa_context *key, const unsigned char hash[32], struct rng *r)
{
    unsigned char sig[MBEDTLS_ECDSA_MAX_LEN];
    size_t sig_len;
    int ret;

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ret = mbedtls_ecdsa_write_signature(key, MBEDTLS_MD_SHA256, hash, 32, sig, sizeof sig, &sig_len,
                                        mbedtls_ctr_drbg_random, &r->drbg);
#else
    ret = mbedtls_ecdsa_write_signature(key, MBEDTLS_MD_SHA256, hash, 32, sig, &sig_len,
                                        mbedtls_ctr_drbg_random, &r->drbg);
#endif
    return ret != 0 ? fail("ecdsa_write_signature", ret) : 0;
}

/* The server's signing key, made once. The warm-up signature makes the key's
 * group cache its fixed-base comb table, which every later signature reuses:
 * the best this library allows. (The TLS layer of 2.28 does worse with a key
 * parsed from PEM, a PK context of type MBEDTLS_PK_ECKEY: it copies the key
 * into a temporary ECDSA context per signature and the copy loses the table.
 * The ceiling is the best case.) */
static int signing_key_setup(mbedtls_ecdsa_context *key, struct rng *r)
{
    static const unsigned char hash[32];
    int ret;

    ret = mbedtls_ecdsa_genkey(key, MBEDTLS_ECP_DP_SECP256R1, mbedtls_ctr_drbg_random, &r->drbg);
    if (ret != 0)
        return fail("ecdsa_genkey", ret);
    return sign(key, hash, r);
}

/* The client's key share, in the ClientKeyExchange format read_public takes;
 * made once, outside the timed loop, as it is the client's work. */
static int peer_share_make(mbedtls_ecp_group_id grp, struct rng *r, unsigned char *buf, size_t size,
                           size_t *len)
{
    mbedtls_ecdh_context client;
    int ret;

    mbedtls_ecdh_init(&client);
    ret = mbedtls_ecdh_setup(&client, grp);
    if (ret == 0)
        ret = mbedtls_ecdh_make_public(&client, len, buf, size, mbedtls_ctr_drbg_random, &r->drbg);
    mbedtls_ecdh_free(&client);
    return ret != 0 ? fail("peer share (ecdh_make_public)", ret) : 0;
}

/* One handshake's server-side ECDHE, as ssl_srv.c does it: keygen is
 * setup + make_params (ServerKeyExchange), secret is read_public of the
 * ClientKeyExchange + calc_secret (premaster) + free. The ServerKeyExchange
 * params are returned in params for the signature. */
static int ecdhe_once(mbedtls_ecp_group_id grp, const unsigned char *peer, size_t peer_len,
                      struct rng *r, unsigned char *params, size_t *params_len, struct parts *p)
{
    mbedtls_ecdh_context ecdh;
    unsigned char pms[MBEDTLS_ECP_MAX_BYTES];
    size_t pms_len;
    double t0, t1, t2;
    int ret;

    t0 = now_us();
    mbedtls_ecdh_init(&ecdh);
    ret = mbedtls_ecdh_setup(&ecdh, grp);
    if (ret == 0)
        ret = mbedtls_ecdh_make_params(&ecdh, params_len, params, SHARE_MAX,
                                       mbedtls_ctr_drbg_random, &r->drbg);
    t1 = now_us();
    if (ret == 0)
        ret = mbedtls_ecdh_read_public(&ecdh, peer, peer_len);
    if (ret == 0)
        ret = mbedtls_ecdh_calc_secret(&ecdh, &pms_len, pms, sizeof pms, mbedtls_ctr_drbg_random,
                                       &r->drbg);
    mbedtls_ecdh_free(&ecdh);
    t2 = now_us();
    if (ret != 0)
        return fail("server ecdhe", ret);
    p->keygen_us += t1 - t0;
    p->secret_us += t2 - t1;
    return 0;
}

/* The signed hash differs per handshake (it covers the fresh params); it is
 * computed outside the timing, as it is not public-key work. */
static int sign_once(mbedtls_ecdsa_context *key, const unsigned char *params, size_t params_len,
                     struct rng *r, struct parts *p)
{
    unsigned char hash[32];
    double t0;
    int ret;

    ret = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), params, params_len, hash);
    if (ret != 0)
        return fail("sha256", ret);
    t0 = now_us();
    if (sign(key, hash, r) != 0)
        return -1;
    p->sign_us += now_us() - t0;
    return 0;
}

static int bench_group(const char *name, mbedtls_ecp_group_id grp, double seconds,
                       mbedtls_ecdsa_context *key, struct rng *r)
{
    unsigned char peer[SHARE_MAX], params[SHARE_MAX];
    size_t peer_len, params_len;
    struct parts p = { 0, 0, 0, 0 };
    double end, kg, sc, sg;

    if (peer_share_make(grp, r, peer, sizeof peer, &peer_len) != 0)
        return -1;
    end = now_us() + seconds * 1e6;
    do {
        if (ecdhe_once(grp, peer, peer_len, r, params, &params_len, &p) != 0 ||
            sign_once(key, params, params_len, r, &p) != 0)
            return -1;
        p.iterations++;
    } while (now_us() < end);
    kg = p.keygen_us / (double)p.iterations;
    sc = p.secret_us / (double)p.iterations;
    sg = p.sign_us / (double)p.iterations;
    printf("ceiling group=%s keygen_us=%.1f secret_us=%.1f sign_us=%.1f "
           "handshakes_per_s=%.1f iterations=%ld\n",
           name, kg, sc, sg, 1e6 / (kg + sc + sg), p.iterations);
    return fflush(stdout) == 0 ? 0 : -1;
}

static int parse_seconds(int argc, char **argv, double *seconds)
{
    char *end;

    *seconds = 3.0;
    if (argc > 2)
        return -1;
    if (argc == 2) {
        *seconds = strtod(argv[1], &end);
        if (end == argv[1] || *end != '\0' || !(*seconds > 0.0 && *seconds <= 3600.0))
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        mbedtls_ecp_group_id id;
    } groups[] = {
        { "x25519", MBEDTLS_ECP_DP_CURVE25519 },
        { "secp256r1", MBEDTLS_ECP_DP_SECP256R1 },
    };
    mbedtls_ecdsa_context key;
    struct rng r;
    double seconds;
    int rc = 1;

    if (parse_seconds(argc, argv, &seconds) != 0) {
        fprintf(stderr, "usage: ceiling [seconds]   (0 < seconds <= 3600, default 3)\n");
        return 2;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "ceiling: psa_crypto_init failed\n");
        return 1;
    }
#endif
    mbedtls_ecdsa_init(&key);
    if (rng_setup(&r) != 0 || signing_key_setup(&key, &r) != 0)
        goto out;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (bench_group(groups[i].name, groups[i].id, seconds, &key, &r) != 0)
            goto out;
    rc = 0;
out:
    mbedtls_ecdsa_free(&key);
    rng_free(&r);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_psa_crypto_free();
#endif
    return rc;
}
