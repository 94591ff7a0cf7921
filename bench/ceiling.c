/* ceiling.c: the crypto ceiling of full TLS handshakes with ECDSA P-256 on
 * one core, server side, with this mbedTLS (3.6 LTS), per key exchange group
 * and per protocol version; and, for TLS 1.3, the bound the same crypto puts
 * on resumed handshakes ÷ full ones.
 *
 * What: the crypto a server does for one full handshake, for each group
 * Portcullis offers (x25519, secp256r1, secp384r1):
 *   TLS 1.2: ECDHE key generation and shared secret through the legacy ECDH
 *            module (what ssl_tls12_server.c uses when the library is built
 *            without MBEDTLS_USE_PSA_CRYPTO, as Debian's is), one ECDSA
 *            P-256 signature over the ServerKeyExchange hash, and the PRF
 *            work (master secret, key block, two Finished: 4 TLS-PRF-SHA256);
 *   TLS 1.3: the key share through PSA (what ssl_tls13 uses in every build:
 *            psa_generate_key + export of the public share, then
 *            psa_raw_key_agreement with the client's share), one ECDSA P-256
 *            signature (CertificateVerify), and the key schedule as 3.6 runs
 *            it, through PSA with the hash of TLS_AES_256_GCM_SHA384 (the
 *            suite OpenSSL's clients pick): 3 HKDF-Extract, 18
 *            HKDF-Expand-Label and 2 Finished HMACs (each with its key
 *            imported and destroyed), the counts uprobes showed per full
 *            handshake of Portcullis on 3.6.6 without a ticket.
 * A TLS 1.3 resumption with psk_dhe_ke (the only mode Portcullis accepts)
 * does the same key share, no signature, a longer key schedule (4 extracts,
 * 21 expands, 3 HMACs: the binder and two Finished, as counted the same way)
 * and the ticket's AES-256-GCM decryption plus the new ticket's encryption
 * (a 128-byte session state, the key set up once as mbedtls_ssl_ticket
 * does). Symmetric record crypto, transcript hashing, X.509, parsing and
 * I/O are left out, so 1e6 / (keygen_us + secret_us + sign_us + kdf_us) is
 * an upper bound on the full handshakes per second one core can do, and
 *   bound = (keygen + secret + sign + kdf) / (keygen + secret + kdf_resumed
 *           + ticket)
 * the most a resumed TLS 1.3 handshake can gain over a full one with this
 * crypto (the rest of the work, which both kinds share, only lowers it).
 *
 * How: each part timed on its own in the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: one core's capacity, whatever share of the core
 * other programs took meanwhile; on an idle core the same as wall time), in
 * a loop for the given wall time per group and version (CLOCK_MONOTONIC);
 * a fresh ephemeral key per handshake as
 * the TLS layer does; deterministic ECDSA when the library has
 * MBEDTLS_ECDSA_DETERMINISTIC, with one long-lived key (its group's
 * fixed-base table is cached after the first signature, as in the server).
 *
 * Usage: ceiling [seconds]   (default 3; pin it to one CPU with taskset)
 * Prints one line per version and group, e.g.
 *   ceiling tls=1.3 group=x25519 keygen_us=55.1 secret_us=54.2 sign_us=30.5
 *           kdf_us=9.0 handshakes_per_s=6720.0 iterations=20140  (one line)
 * and after each tls=1.3 line its resumption bound, e.g.
 *   ceiling-resumed tls=1.3 group=x25519 kdf_us=11.0 ticket_us=1.2
 *           resumed_per_s=8200.0 bound=1.22  (one line)
 *
 * Build: cc -O2 -o ceiling bench/ceiling.c -lmbedtls -lmbedx509 -lmbedcrypto
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 too */

#include <mbedtls/build_info.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/cipher.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl.h>
#include <psa/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARE_MAX 160 /* one ECPoint (or ECParameters + ECPoint) in TLS format */

struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

/* Summed microseconds of each part over all iterations; kdf_res_us and
 * ticket_us only for TLS 1.3 (the resumed handshake's own parts). */
struct parts {
    double keygen_us, secret_us, sign_us, kdf_us, kdf_res_us, ticket_us;
    long iterations;
};

/* What one TLS 1.3 handshake of 3.6 derives (see the top of the file). */
struct kdf13 {
    int extracts, expands, macs;
};
static const struct kdf13 kdf13_full = { 3, 18, 2 }, kdf13_resumed = { 4, 21, 3 };
#define KDF13_HASH PSA_ALG_SHA_384
#define KDF13_LEN  48 /* its output length */

struct group {
    const char *name;
    mbedtls_ecp_group_id legacy;
    psa_ecc_family_t family;
    size_t bits;
};

static int fail(const char *what, int ret)
{
    char msg[160];

    mbedtls_strerror(ret, msg, sizeof msg);
    fprintf(stderr, "ceiling: %s: %s (-0x%04x)\n", what, msg, (unsigned)-ret);
    return -1;
}

static double clock_us(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Wall time, for the length of each loop. */
static double now_us(void) { return clock_us(CLOCK_MONOTONIC); }

/* This thread's CPU time, for the parts. */
static double cpu_us(void) { return clock_us(CLOCK_THREAD_CPUTIME_ID); }

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

    ret = mbedtls_ecdsa_write_signature(key, MBEDTLS_MD_SHA256, hash, 32, sig, sizeof sig, &sig_len,
                                        mbedtls_ctr_drbg_random, &r->drbg);
    return ret != 0 ? fail("ecdsa_write_signature", ret) : 0;
}

/* The server's signing key, made once. The warm-up signature makes the key's
 * group cache its fixed-base comb table, which every later signature reuses,
 * as the server's long-lived key does. */
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

    t0 = cpu_us();
    mbedtls_ecdh_init(&ecdh);
    ret = mbedtls_ecdh_setup(&ecdh, grp);
    if (ret == 0)
        ret = mbedtls_ecdh_make_params(&ecdh, params_len, params, SHARE_MAX,
                                       mbedtls_ctr_drbg_random, &r->drbg);
    t1 = cpu_us();
    if (ret == 0)
        ret = mbedtls_ecdh_read_public(&ecdh, peer, peer_len);
    if (ret == 0)
        ret = mbedtls_ecdh_calc_secret(&ecdh, &pms_len, pms, sizeof pms, mbedtls_ctr_drbg_random,
                                       &r->drbg);
    mbedtls_ecdh_free(&ecdh);
    t2 = cpu_us();
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
    t0 = cpu_us();
    if (sign(key, hash, r) != 0)
        return -1;
    p->sign_us += cpu_us() - t0;
    return 0;
}

/* One TLS 1.3 key share, as ssl_tls13 does it through PSA: keygen is
 * psa_generate_key + the export of the public share (ServerHello), secret is
 * psa_raw_key_agreement with the client's share + psa_destroy_key. */
static int tls13_share_once(const struct group *g, const unsigned char *peer, size_t peer_len,
                            struct parts *p)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    unsigned char pub[SHARE_MAX], secret[PSA_RAW_KEY_AGREEMENT_OUTPUT_MAX_SIZE];
    size_t pub_len, secret_len;
    psa_status_t st;
    double t0, t1, t2;

    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(g->family));
    psa_set_key_bits(&attr, g->bits);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    t0 = cpu_us();
    st = psa_generate_key(&attr, &id);
    if (st == PSA_SUCCESS)
        st = psa_export_public_key(id, pub, sizeof pub, &pub_len);
    t1 = cpu_us();
    if (st == PSA_SUCCESS)
        st = psa_raw_key_agreement(PSA_ALG_ECDH, id, peer, peer_len, secret, sizeof secret,
                                   &secret_len);
    psa_destroy_key(id);
    t2 = cpu_us();
    if (st != PSA_SUCCESS) {
        fprintf(stderr, "ceiling: psa key share (%s): status %d\n", g->name, (int)st);
        return -1;
    }
    p->keygen_us += t1 - t0;
    p->secret_us += t2 - t1;
    return 0;
}

/* The client's TLS 1.3 share: an exported PSA public key, made once. */
static int tls13_peer_make(const struct group *g, unsigned char *buf, size_t size, size_t *len)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    psa_status_t st;

    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(g->family));
    psa_set_key_bits(&attr, g->bits);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    st = psa_generate_key(&attr, &id);
    if (st == PSA_SUCCESS)
        st = psa_export_public_key(id, buf, size, len);
    psa_destroy_key(id);
    if (st != PSA_SUCCESS) {
        fprintf(stderr, "ceiling: peer share (%s): status %d\n", g->name, (int)st);
        return -1;
    }
    return 0;
}

/* One HKDF step through PSA, as ssl_tls13_keys.c does it: Extract takes
 * the previous secret as salt, Expand-Label a secret and a label. */
static psa_status_t hkdf13(psa_algorithm_t alg, psa_key_derivation_step_t first, const uint8_t *a,
                           size_t a_len, psa_key_derivation_step_t second, const uint8_t *b,
                           size_t b_len, uint8_t *out)
{
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    psa_status_t st = psa_key_derivation_setup(&op, alg);

    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, first, a, a_len);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, second, b, b_len);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_output_bytes(&op, out, KDF13_LEN);
    psa_key_derivation_abort(&op);
    return st;
}

/* One Finished (or binder) HMAC: its key imported, used once, destroyed. */
static psa_status_t finished13(const uint8_t key[KDF13_LEN], const uint8_t hash[KDF13_LEN])
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    uint8_t mac[PSA_HASH_MAX_SIZE];
    size_t mac_len;
    psa_status_t st;

    psa_set_key_type(&attr, PSA_KEY_TYPE_HMAC);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&attr, PSA_ALG_HMAC(KDF13_HASH));
    st = psa_import_key(&attr, key, KDF13_LEN, &id);
    if (st == PSA_SUCCESS)
        st = psa_mac_compute(id, PSA_ALG_HMAC(KDF13_HASH), hash, KDF13_LEN, mac, sizeof mac,
                             &mac_len);
    psa_destroy_key(id);
    return st;
}

/* The TLS 1.3 key schedule of one handshake (counts in k), added to *us. */
static int tls13_kdf_once(const struct kdf13 *k, double *us)
{
    uint8_t secret[KDF13_LEN] = { 0 }, ikm[KDF13_LEN] = { 0 }, label[64] = { 0 };
    psa_status_t st = PSA_SUCCESS;
    double t0 = cpu_us();

    for (int i = 0; i < k->extracts && st == PSA_SUCCESS; i++)
        st = hkdf13(PSA_ALG_HKDF_EXTRACT(KDF13_HASH), PSA_KEY_DERIVATION_INPUT_SALT, secret,
                    sizeof secret, PSA_KEY_DERIVATION_INPUT_SECRET, ikm, sizeof ikm, secret);
    for (int i = 0; i < k->expands && st == PSA_SUCCESS; i++)
        st = hkdf13(PSA_ALG_HKDF_EXPAND(KDF13_HASH), PSA_KEY_DERIVATION_INPUT_SECRET, secret,
                    sizeof secret, PSA_KEY_DERIVATION_INPUT_INFO, label, sizeof label, secret);
    for (int i = 0; i < k->macs && st == PSA_SUCCESS; i++)
        st = finished13(secret, ikm);
    *us += cpu_us() - t0;
    if (st != PSA_SUCCESS) {
        fprintf(stderr, "ceiling: psa key schedule: status %d\n", (int)st);
        return -1;
    }
    return 0;
}

/* The session tickets' AES-256-GCM: one ticket decrypted (the client's)
 * and one encrypted (the new one), each with a fresh nonce, as
 * mbedtls_ssl_ticket_parse and _write do with a key set up once. */
#define TICKET_STATE 128 /* about a serialized TLS 1.3 session */
static int ticket_once(mbedtls_cipher_context_t *key, struct rng *r, double *us)
{
    unsigned char iv[12], state[TICKET_STATE] = { 0 }, sealed[TICKET_STATE + 16],
                          opened[TICKET_STATE];
    size_t sealed_len, opened_len;
    double t0 = cpu_us();
    int ret = mbedtls_ctr_drbg_random(&r->drbg, iv, sizeof iv);

    if (ret == 0)
        ret = mbedtls_cipher_auth_encrypt_ext(key, iv, sizeof iv, NULL, 0, state, sizeof state,
                                              sealed, sizeof sealed, &sealed_len, 16);
    if (ret == 0)
        ret = mbedtls_cipher_auth_decrypt_ext(key, iv, sizeof iv, NULL, 0, sealed, sealed_len,
                                              opened, sizeof opened, &opened_len, 16);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_random(&r->drbg, iv, sizeof iv);
    if (ret == 0)
        ret = mbedtls_cipher_auth_encrypt_ext(key, iv, sizeof iv, NULL, 0, state, sizeof state,
                                              sealed, sizeof sealed, &sealed_len, 16);
    *us += cpu_us() - t0;
    return ret != 0 ? fail("ticket aes-256-gcm", ret) : 0;
}

static int ticket_key_setup(mbedtls_cipher_context_t *key, struct rng *r)
{
    unsigned char k[32];
    int ret = mbedtls_ctr_drbg_random(&r->drbg, k, sizeof k);

    if (ret == 0)
        ret = mbedtls_cipher_setup(key, mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_256_GCM));
    if (ret == 0)
        ret = mbedtls_cipher_setkey(key, k, 256, MBEDTLS_ENCRYPT);
    return ret != 0 ? fail("ticket key setup", ret) : 0;
}

/* TLS 1.2's PRF work in a full handshake with AES-128-GCM-SHA256: the
 * (extended) master secret, the key block, the two Finished. */
static int tls12_prf_once(struct parts *p)
{
    static const struct {
        const char *label;
        size_t secret, seed, out;
    } steps[] = { { "extended master secret", 32, 32, 48 },
                  { "key expansion", 48, 64, 40 },
                  { "client finished", 48, 32, 12 },
                  { "server finished", 48, 32, 12 } };
    unsigned char secret[48] = { 0 }, seed[64] = { 0 }, out[48];
    double t0 = cpu_us();
    int ret = 0;

    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && ret == 0; i++)
        ret = mbedtls_ssl_tls_prf(MBEDTLS_SSL_TLS_PRF_SHA256, secret, steps[i].secret,
                                  steps[i].label, seed, steps[i].seed, out, steps[i].out);
    p->kdf_us += cpu_us() - t0;
    return ret != 0 ? fail("tls_prf", ret) : 0;
}

static int report(const char *tls, const char *name, const struct parts *p)
{
    double n = (double)p->iterations, kg = p->keygen_us / n, sc = p->secret_us / n,
           sg = p->sign_us / n, kd = p->kdf_us / n, kr = p->kdf_res_us / n, tk = p->ticket_us / n;

    printf("ceiling tls=%s group=%s keygen_us=%.1f secret_us=%.1f sign_us=%.1f kdf_us=%.1f "
           "handshakes_per_s=%.1f iterations=%ld\n",
           tls, name, kg, sc, sg, kd, 1e6 / (kg + sc + sg + kd), p->iterations);
    if (p->ticket_us > 0)
        printf("ceiling-resumed tls=%s group=%s kdf_us=%.1f ticket_us=%.1f resumed_per_s=%.1f "
               "bound=%.2f\n",
               tls, name, kr, tk, 1e6 / (kg + sc + kr + tk),
               (kg + sc + sg + kd) / (kg + sc + kr + tk));
    return fflush(stdout) == 0 ? 0 : -1;
}

static int bench_tls12(const struct group *g, double seconds, mbedtls_ecdsa_context *key,
                       struct rng *r)
{
    unsigned char peer[SHARE_MAX], params[SHARE_MAX];
    size_t peer_len, params_len;
    struct parts p = { 0 };
    double end;

    if (peer_share_make(g->legacy, r, peer, sizeof peer, &peer_len) != 0)
        return -1;
    end = now_us() + seconds * 1e6;
    do {
        if (ecdhe_once(g->legacy, peer, peer_len, r, params, &params_len, &p) != 0 ||
            sign_once(key, params, params_len, r, &p) != 0 || tls12_prf_once(&p) != 0)
            return -1;
        p.iterations++;
    } while (now_us() < end);
    return report("1.2", g->name, &p);
}

/* Each iteration: one full handshake's crypto, then the parts a resumed one
 * does instead of the signature and the full key schedule. */
static int bench_tls13(const struct group *g, double seconds, mbedtls_ecdsa_context *key,
                       mbedtls_cipher_context_t *ticket_key, struct rng *r)
{
    unsigned char peer[SHARE_MAX];
    size_t peer_len;
    struct parts p = { 0 };
    double end;

    if (tls13_peer_make(g, peer, sizeof peer, &peer_len) != 0)
        return -1;
    end = now_us() + seconds * 1e6;
    do {
        /* The signed content differs per handshake (it covers the transcript);
         * the peer share stands in for it. */
        if (tls13_share_once(g, peer, peer_len, &p) != 0 || sign_once(key, peer, peer_len, r, &p) ||
            tls13_kdf_once(&kdf13_full, &p.kdf_us) != 0 ||
            tls13_kdf_once(&kdf13_resumed, &p.kdf_res_us) != 0 ||
            ticket_once(ticket_key, r, &p.ticket_us) != 0)
            return -1;
        p.iterations++;
    } while (now_us() < end);
    return report("1.3", g->name, &p);
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
    static const struct group groups[] = {
        { "x25519", MBEDTLS_ECP_DP_CURVE25519, PSA_ECC_FAMILY_MONTGOMERY, 255 },
        { "secp256r1", MBEDTLS_ECP_DP_SECP256R1, PSA_ECC_FAMILY_SECP_R1, 256 },
        { "secp384r1", MBEDTLS_ECP_DP_SECP384R1, PSA_ECC_FAMILY_SECP_R1, 384 },
    };
    mbedtls_ecdsa_context key;
    mbedtls_cipher_context_t ticket_key;
    struct rng r;
    double seconds;
    int rc = 1;

    if (parse_seconds(argc, argv, &seconds) != 0) {
        fprintf(stderr, "usage: ceiling [seconds]   (0 < seconds <= 3600, default 3)\n");
        return 2;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "ceiling: psa_crypto_init failed\n");
        return 1;
    }
    mbedtls_ecdsa_init(&key);
    mbedtls_cipher_init(&ticket_key);
    if (rng_setup(&r) != 0 || signing_key_setup(&key, &r) != 0 ||
        ticket_key_setup(&ticket_key, &r) != 0)
        goto out;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (bench_tls13(&groups[i], seconds, &key, &ticket_key, &r) != 0 ||
            bench_tls12(&groups[i], seconds, &key, &r) != 0)
            goto out;
    rc = 0;
out:
    mbedtls_cipher_free(&ticket_key);
    mbedtls_ecdsa_free(&key);
    rng_free(&r);
    mbedtls_psa_crypto_free();
    return rc;
}
