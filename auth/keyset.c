/* keyset.c: see keyset.h. */
#include "auth/keyset.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "auth/keyfile.h"
#include "auth/privfile.h"
#include "db/db.h"
#include "db/keys.h"

#define AAD_PREFIX "portcullis signing key "
#define PEM_MAX    (DB_SIGNING_SECRET_MAX - AUTH_SEAL_OVERHEAD)

/* ---- the master key --------------------------------------------------- */

int auth_keyset_begin(struct db *db, char *err, size_t errlen)
{
    if (db_begin(db) == 0) {
        if (db_keys_lock(db) == 0)
            return 0;
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
        (void)db_rollback(db);
        return -1;
    }
    snprintf(err, errlen, "key set: %s", db_errmsg(db));
    return -1;
}

int auth_master_key_load(struct db *db, const char *path, int create,
                         unsigned char key[AUTH_SEAL_KEY_LEN], char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int64_t n = 0;
    int rc = auth_privfile_read(path, 4096, &buf, &len, err, errlen);

    if (buf != NULL) {
        mbedtls_platform_zeroize(buf, len);
        free(buf);
    }
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (db_key_count(db, &n) != 0) {
            snprintf(err, errlen, "key set: %s", db_errmsg(db));
            return -1;
        }
        if (!create) {
            snprintf(err, errlen, "%s (auth.master_key_file): no such file", path);
            return -1;
        }
        if (n > 0) {
            snprintf(err, errlen,
                     "%s (auth.master_key_file): no such file, but the store holds %lld keys "
                     "sealed under a master key: copy that file from another instance or a "
                     "backup",
                     path, (long long)n);
            return -1;
        }
    }
    /* Creates it when missing (the store is empty), else reads it again. */
    return auth_seal_key_load(key, path, err, errlen);
}

/* ---- sealing ---------------------------------------------------------- */

static size_t aad_of(const char *kid, char *aad, size_t cap)
{
    int n = snprintf(aad, cap, "%s%s", AAD_PREFIX, kid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The row for key (kid computed here), its private PEM sealed. */
static int seal_key(const unsigned char master[AUTH_SEAL_KEY_LEN],
                    const struct auth_keyfile_key *key, int64_t now, struct db_signing_key *row)
{
    char aad[sizeof AAD_PREFIX + DB_KEY_KID_MAX];
    size_t len = strlen(key->private_pem), alen;

    memset(row, 0, sizeof *row);
    if (len == 0 || len > PEM_MAX || auth_token_kid(key, row->kid) != 0 ||
        (alen = aad_of(row->kid, aad, sizeof aad)) == 0 ||
        auth_seal(master, aad, alen, (const unsigned char *)key->private_pem, len, row->secret) !=
            0)
        return -1;
    snprintf(row->alg, sizeof row->alg, "ES256");
    row->secret_len = len + AUTH_SEAL_OVERHEAD;
    row->created_at = now;
    return 0;
}

/* A new P-256 key when key_in is NULL, else *key_in (which it frees),
 * sealed into *row. 0, or -1 with err naming `what` ("first", "new"). */
static int make_row(const unsigned char master[AUTH_SEAL_KEY_LEN], struct auth_keyfile_key *key_in,
                    int64_t now, struct db_signing_key *row, const char *what, char *err,
                    size_t errlen)
{
    struct auth_keyfile_key fresh;
    struct auth_keyfile_key *key = key_in != NULL ? key_in : &fresh;
    if (key_in == NULL && auth_keyfile_generate(&fresh) != 0) {
        snprintf(err, errlen, "key set: cannot generate a P-256 key");
        return -1;
    }
    int rc = seal_key(master, key, now, row);
    auth_keyfile_key_free(key);
    if (rc != 0) {
        snprintf(err, errlen, "key set: cannot seal the %s key", what);
        return -1;
    }
    return 0;
}

/* Opens row into key and checks the key is the one its kid names. */
static int unseal_key(const unsigned char master[AUTH_SEAL_KEY_LEN],
                      const struct db_signing_key *row, struct auth_keyfile_key *key)
{
    char aad[sizeof AAD_PREFIX + DB_KEY_KID_MAX], pem[PEM_MAX + 1], kid[AUTH_TOKEN_KID_BUF];
    size_t alen = aad_of(row->kid, aad, sizeof aad), n;
    int rc = -1;

    memset(key, 0, sizeof *key);
    if (alen == 0 || strcmp(row->alg, "ES256") != 0 || row->secret_len <= AUTH_SEAL_OVERHEAD ||
        (n = row->secret_len - AUTH_SEAL_OVERHEAD) > PEM_MAX ||
        auth_unseal(master, aad, alen, row->secret, row->secret_len, (unsigned char *)pem) != 0)
        goto out;
    pem[n] = '\0';
    if (auth_keyfile_parse(key, pem, n) == 0 && auth_token_kid(key, kid) == 0 &&
        strcmp(kid, row->kid) == 0)
        rc = 0;
out:
    mbedtls_platform_zeroize(pem, sizeof pem);
    if (rc != 0)
        auth_keyfile_key_free(key);
    return rc;
}

/* ---- first key -------------------------------------------------------- */

static int any_key(void *arg, const struct db_signing_key *k)
{
    (void)k;
    *(int *)arg = 1;
    return 1; /* one is enough */
}

int auth_keyset_bootstrap(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                          const char *jwt_key_file, int64_t now, int *imported, char *err,
                          size_t errlen)
{
    struct auth_keyfile_key key;
    struct db_signing_key row;
    int found = 0, rc;

    *imported = 0;
    rc = db_signing_key_list(db, INT64_MIN, any_key, &found);
    if (rc < 0) {
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
        return -1;
    }
    if (found)
        return 0;
    rc = jwt_key_file != NULL && jwt_key_file[0] != '\0'
             ? auth_keyfile_read(&key, jwt_key_file, err, errlen)
             : 1;
    if (rc < 0)
        return -1;
    *imported = rc == 0;
    if (make_row(master, rc == 0 ? &key : NULL, now, &row, "first", err, errlen) != 0)
        return -1;
    /* Another instance starting at the same time may have added it first. */
    rc = db_signing_key_add(db, &row);
    mbedtls_platform_zeroize(&row, sizeof row);
    if (rc != 0 && rc != DB_CONFLICT) {
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

/* ---- reading the set -------------------------------------------------- */

struct rows {
    struct db_signing_key *row; /* DB_SIGNING_KEYS_LIST_MAX of them */
    size_t n;
};

static int keep_row(void *arg, const struct db_signing_key *k)
{
    struct rows *r = arg;
    if (r->n < DB_SIGNING_KEYS_LIST_MAX)
        r->row[r->n++] = *k;
    return 0;
}

/* The key that signs at now (keyset.h): the newest active key once it is
 * AUTH_KEYSET_PUBLISH_S old; before that, the key retired most recently
 * within that time (the one it replaced), if any. r->n when no key is
 * active. */
static size_t pick_signer(const struct rows *r, int64_t now)
{
    size_t active = r->n, replaced = r->n;

    for (size_t i = 0; i < r->n; i++) {
        const struct db_signing_key *k = &r->row[i];
        if (k->retired_at == 0 && active == r->n)
            active = i;
        else if (k->retired_at != 0 && k->retired_at > now - AUTH_KEYSET_PUBLISH_S &&
                 (replaced == r->n || k->retired_at > r->row[replaced].retired_at))
            replaced = i;
    }
    if (active == r->n || r->row[active].created_at <= now - AUTH_KEYSET_PUBLISH_S ||
        replaced == r->n)
        return active;
    return replaced;
}

/* The summary compared between reloads: kids, retirement times, signer. */
static int summary(const struct rows *r, size_t signer, char *sig, size_t cap)
{
    size_t used = 0;
    int n = snprintf(sig, cap, "%s;", r->row[signer].kid);

    if (n < 0 || (size_t)n >= cap)
        return -1;
    used = (size_t)n;
    for (size_t i = 0; i < r->n; i++) {
        n = snprintf(sig + used, cap - used, "%s:%" PRId64 ";", r->row[i].kid,
                     r->row[i].retired_at);
        if (n < 0 || (size_t)n >= cap - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

/* Unseals every row into a set: the signer first. */
static int build(const struct rows *r, size_t signer, const unsigned char master[AUTH_SEAL_KEY_LEN],
                 const struct auth_token_opts *opts, int64_t window_s, struct auth_tokens **out,
                 char *err, size_t errlen)
{
    struct auth_keyfile_key keys[DB_SIGNING_KEYS_LIST_MAX];
    int64_t until[DB_SIGNING_KEYS_LIST_MAX];
    size_t n = 0;
    int rc = -1;

    memset(keys, 0, sizeof keys);
    for (size_t k = 0; k < r->n; k++, n++) {
        /* The signer goes first; the others keep their order. */
        size_t i = k == 0 ? signer : (k <= signer ? k - 1 : k);
        if (unseal_key(master, &r->row[i], &keys[n]) != 0) {
            snprintf(err, errlen,
                     "key set: signing key %s does not open with this master key "
                     "(auth.master_key_file must be the same file on every instance)",
                     r->row[i].kid);
            goto out;
        }
        until[n] = r->row[i].retired_at == 0
                       ? 0
                       : r->row[i].retired_at + AUTH_KEYSET_GRACE_S + window_s;
    }
    rc = auth_tokens_load_es256_set(out, opts, keys, until, n, err, errlen);
out:
    for (size_t i = 0; i < r->n; i++)
        auth_keyfile_key_free(&keys[i]);
    return rc;
}

int auth_keyset_load(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                     const struct auth_token_opts *opts, int64_t window_s, int64_t now,
                     const char *have, char sig[AUTH_KEYSET_SIG_MAX], struct auth_tokens **out,
                     char *err, size_t errlen)
{
    struct rows r = { calloc(DB_SIGNING_KEYS_LIST_MAX, sizeof *r.row), 0 };
    size_t signer = 0;
    int rc = -1;

    *out = NULL;
    if (r.row == NULL) {
        snprintf(err, errlen, "key set: out of memory");
        return -1;
    }
    if (db_signing_key_list(db, now - window_s - AUTH_KEYSET_GRACE_S, keep_row, &r) != 0)
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
    else if ((signer = pick_signer(&r, now)) == r.n)
        snprintf(err, errlen, "key set: no active signing key in the store");
    else if (summary(&r, signer, sig, AUTH_KEYSET_SIG_MAX) != 0)
        snprintf(err, errlen, "key set: too many keys");
    else if (have != NULL && strcmp(have, sig) == 0)
        rc = 1;
    else
        rc = build(&r, signer, master, opts, window_s, out, err, errlen);
    mbedtls_platform_zeroize(r.row, DB_SIGNING_KEYS_LIST_MAX * sizeof *r.row);
    free(r.row);
    return rc;
}

int auth_keyset_signer(struct db *db, int64_t window_s, int64_t now, char kid[AUTH_TOKEN_KID_BUF],
                       char *err, size_t errlen)
{
    struct rows r = { calloc(DB_SIGNING_KEYS_LIST_MAX, sizeof *r.row), 0 };
    size_t signer;
    int rc = -1;

    if (r.row == NULL) {
        snprintf(err, errlen, "key set: out of memory");
        return -1;
    }
    if (db_signing_key_list(db, now - window_s - AUTH_KEYSET_GRACE_S, keep_row, &r) != 0)
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
    else if ((signer = pick_signer(&r, now)) == r.n ||
             strlen(r.row[signer].kid) >= AUTH_TOKEN_KID_BUF)
        snprintf(err, errlen, "key set: no active signing key in the store");
    else {
        memcpy(kid, r.row[signer].kid, strlen(r.row[signer].kid) + 1);
        rc = 0;
    }
    mbedtls_platform_zeroize(r.row, DB_SIGNING_KEYS_LIST_MAX * sizeof *r.row);
    free(r.row);
    return rc;
}

/* ---- rotation --------------------------------------------------------- */

int auth_keyset_rotate(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                       const struct auth_token_opts *opts, int64_t window_s, int64_t now,
                       char kid[AUTH_TOKEN_KID_BUF], char *err, size_t errlen)
{
    struct auth_tokens *current = NULL;
    struct db_signing_key row;
    char sig[AUTH_KEYSET_SIG_MAX];
    int rc;

    if (auth_keyset_load(db, master, opts, window_s, now, NULL, sig, &current, err, errlen) != 0)
        return -1;
    auth_tokens_free(current);
    if (make_row(master, NULL, now, &row, "new", err, errlen) != 0)
        return -1;
    rc = db_signing_key_rotate(db, &row, now, now - window_s - AUTH_KEYSET_GRACE_S);
    memcpy(kid, row.kid, AUTH_TOKEN_KID_BUF); /* auth_token_kid wrote it */
    kid[AUTH_TOKEN_KID_BUF - 1] = '\0';
    mbedtls_platform_zeroize(&row, sizeof row);
    if (rc != 0) {
        snprintf(err, errlen, "key set: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}
