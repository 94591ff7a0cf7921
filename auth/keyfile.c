/* keyfile.c: create, check and load the ES256 key file (keyfile.h). */
#include "auth/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>

#include "auth/encode.h"

#define KEY_FILE_MAX 16384
#define PEM_MAX      1024 /* a P-256 key in PEM is ~230 bytes */
#define COORD_LEN    AUTH_KEYFILE_COORD_LEN

/* DER SubjectPublicKeyInfo of a P-256 key: this fixed prefix (SEQUENCE,
 * id-ecPublicKey, prime256v1, BIT STRING header) then the 65-byte
 * uncompressed point 04||x||y. Comparing it checks the curve and yields
 * x and y with public mbedTLS API only. */
static const unsigned char p256_spki_prefix[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

static int rng(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return auth_rand_bytes(buf, len) == 0 ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

/* 3.x takes an RNG for blinding while parsing a private key. (auth/ does not
 * include tls/, whose compat.h says the same for the TLS side.) */
static int pk_parse(mbedtls_pk_context *pk, const unsigned char *buf, size_t len)
{
    return mbedtls_pk_parse_key(pk, buf, len, NULL, 0, rng, NULL);
}

/* Creates each missing ancestor directory of path with mode 0700. */
static int mkdir_parents(const char *path)
{
    char *dir = strdup(path);
    char *s;
    int ret = 0;

    if (dir == NULL)
        return -1;
    for (s = dir + 1; *s != '\0' && ret == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            ret = -1;
        *s = '/';
    }
    free(dir);
    return ret;
}

/* Makes the new directory entry durable, not just the file's data. */
static void fsync_parent(const char *path)
{
    char *copy = strdup(path);
    int fd = copy != NULL ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Generates a P-256 key and publishes it at path without ever exposing a
 * partial file: mkostemp (O_EXCL, mode 0600) + fsync, then link(2), which
 * fails with EEXIST instead of replacing a key another process just made. */
static int key_file_create(const char *path, char *err, size_t errlen)
{
    mbedtls_pk_context pk;
    unsigned char pem[PEM_MAX];
    char *tmp = NULL;
    int fd = -1, ret = -1;

    mbedtls_pk_init(&pk);
    if (mkdir_parents(path) != 0) {
        snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
        goto fail;
    }
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng, NULL) != 0 ||
        mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)) != 0) {
        snprintf(err, errlen, "%s: cannot generate a P-256 key", path);
        goto fail;
    }
    if ((tmp = malloc(strlen(path) + 8)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    sprintf(tmp, "%s.XXXXXX", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, pem, strlen((const char *)pem)) != 0 ||
        fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write key: %s", path, strerror(errno));
        goto fail;
    }
    if (link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create key file: %s", path, strerror(errno));
        goto fail;
    }
    fsync_parent(path);
    ret = 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    mbedtls_platform_zeroize(pem, sizeof(pem));
    mbedtls_pk_free(&pk);
    return ret;
}

/* Reads the key file into a NUL-terminated malloc'd buffer (mbedTLS wants
 * the NUL counted for PEM). Returns 0, 1 if the file does not exist, -1. */
static int key_file_read(const char *path, unsigned char **buf, size_t *len, char *err,
                         size_t errlen)
{
    struct stat st;
    ssize_t n;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *buf = NULL;
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
        snprintf(err, errlen, "%s: not a regular file of 1..%d bytes", path, KEY_FILE_MAX);
        goto fail;
    }
    /* Like sshd: a key someone else owns could be known to them (a file
     * planted in a shared directory before our first start). */
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(err, errlen, "%s: private key is owned by uid %u, not by us (uid %u) or root",
                 path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto fail;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: private key is accessible by group/others (mode %04o); "
                 "run chmod 600 on it",
                 path, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (*buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, *buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    (*buf)[got] = '\0';
    *len = got + 1;
    close(fd);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(*buf);
    *buf = NULL;
    return -1;
}

static void wipe_free(char *p)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, strlen(p));
        free(p);
    }
}

void auth_keyfile_key_free(struct auth_keyfile_key *key)
{
    if (key == NULL)
        return;
    wipe_free(key->private_pem);
    free(key->public_pem);
    mbedtls_platform_zeroize(key, sizeof(*key));
}

/* Fills key from a parsed key: the coordinates (which also proves the
 * curve is P-256) and both PEMs. */
static int key_from_pk(struct auth_keyfile_key *key, mbedtls_pk_context *pk)
{
    unsigned char buf[PEM_MAX];
    const unsigned char *pt;
    int n, ret = -1;

    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
        goto done;
    n = mbedtls_pk_write_pubkey_der(pk, buf, sizeof(buf));
    if (n != (int)sizeof(p256_spki_prefix) + 2 * COORD_LEN)
        goto done;
    pt = buf + sizeof(buf) - n; /* mbedTLS writes DER at the buffer's end */
    if (memcmp(pt, p256_spki_prefix, sizeof(p256_spki_prefix)) != 0)
        goto done;
    pt += sizeof(p256_spki_prefix);
    memcpy(key->x, pt, COORD_LEN);
    memcpy(key->y, pt + COORD_LEN, COORD_LEN);
    if (mbedtls_pk_write_pubkey_pem(pk, buf, sizeof(buf)) != 0 ||
        (key->public_pem = strdup((const char *)buf)) == NULL)
        goto done;
    if (mbedtls_pk_write_key_pem(pk, buf, sizeof(buf)) != 0 ||
        (key->private_pem = strdup((const char *)buf)) == NULL)
        goto done;
    ret = 0;
done:
    mbedtls_platform_zeroize(buf, sizeof(buf));
    return ret;
}

int auth_keyfile_load(struct auth_keyfile_key *key, const char *path, char *err, size_t errlen)
{
    mbedtls_pk_context pk;
    unsigned char *file = NULL;
    size_t len = 0;
    int rc;

    memset(key, 0, sizeof(*key));
    mbedtls_pk_init(&pk);
    rc = key_file_read(path, &file, &len, err, errlen);
    if (rc == 1 && (rc = key_file_create(path, err, errlen)) == 0 &&
        (rc = key_file_read(path, &file, &len, err, errlen)) == 1)
        snprintf(err, errlen, "%s: created but cannot be opened", path);
    if (rc != 0)
        goto fail;
    rc = -1;
    if (pk_parse(&pk, file, len) != 0 || key_from_pk(key, &pk) != 0) {
        snprintf(err, errlen, "%s: not a P-256 EC private key in PEM", path);
        goto fail;
    }
    rc = 0;
fail:
    if (file != NULL) {
        mbedtls_platform_zeroize(file, len);
        free(file);
    }
    mbedtls_pk_free(&pk);
    if (rc != 0)
        auth_keyfile_key_free(key);
    return rc == 0 ? 0 : -1;
}
