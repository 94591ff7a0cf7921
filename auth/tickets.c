/* tickets.c: see tickets.h. */
#include "auth/tickets.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "auth/encode.h"
#include "db/db.h"
#include "db/keys.h"

static size_t aad_of(int64_t lifetime_s, int64_t starts_at, char *aad, size_t cap)
{
    int n = snprintf(aad, cap, "portcullis ticket key %" PRId64 " %" PRId64, lifetime_s, starts_at);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The key of the period starting at starts_at into out: 0, 1 when the
 * store has none, -1 with err. */
static int period_key(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                      int64_t lifetime_s, int64_t starts_at, struct auth_ticket_key *out, char *err,
                      size_t errlen)
{
    struct db_ticket_key row;
    char aad[96];
    size_t alen = aad_of(lifetime_s, starts_at, aad, sizeof aad);
    int rc = db_ticket_key_get(db, lifetime_s, starts_at, &row);
    uint32_t period = (uint32_t)(starts_at / lifetime_s);

    if (rc == DB_NOTFOUND)
        return 1;
    if (rc != 0) {
        snprintf(err, errlen, "ticket keys: %s", db_errmsg(db));
        return -1;
    }
    rc = row.secret_len == AUTH_TICKET_KEY_LEN + AUTH_SEAL_OVERHEAD && alen > 0 &&
                 auth_unseal(master, aad, alen, row.secret, row.secret_len, out->key) == 0
             ? 0
             : -1;
    mbedtls_platform_zeroize(&row, sizeof row);
    if (rc != 0) {
        snprintf(err, errlen,
                 "ticket keys: the key of %" PRId64 " does not open with this master key "
                 "(auth.master_key_file must be the same file on every instance)",
                 starts_at);
        return -1;
    }
    out->name[0] = (unsigned char)(period >> 24);
    out->name[1] = (unsigned char)(period >> 16);
    out->name[2] = (unsigned char)(period >> 8);
    out->name[3] = (unsigned char)period;
    return 0;
}

/* Seals a fresh key for the period and offers it to the store, which
 * keeps whichever insert came first. */
static int make_key(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                    int64_t lifetime_s, int64_t starts_at, int64_t now, char *err, size_t errlen)
{
    unsigned char key[AUTH_TICKET_KEY_LEN];
    struct db_ticket_key row = { lifetime_s, starts_at, { 0 }, 0, now };
    char aad[96];
    size_t alen = aad_of(lifetime_s, starts_at, aad, sizeof aad);
    int rc = -1;

    if (alen > 0 && auth_rand_bytes(key, sizeof key) == 0 &&
        auth_seal(master, aad, alen, key, sizeof key, row.secret) == 0) {
        row.secret_len = sizeof key + AUTH_SEAL_OVERHEAD;
        rc = db_ticket_key_add(db, &row);
        /* The previous period's key is the oldest still needed. */
        if (rc == 0)
            rc = db_ticket_key_purge(db, lifetime_s, starts_at - lifetime_s);
        if (rc != 0)
            snprintf(err, errlen, "ticket keys: %s", db_errmsg(db));
    } else {
        snprintf(err, errlen, "ticket keys: cannot make a key");
    }
    mbedtls_platform_zeroize(key, sizeof key);
    return rc == 0 ? 0 : -1;
}

int auth_tickets_current(struct db *db, const unsigned char master[AUTH_SEAL_KEY_LEN],
                         int lifetime_s, int64_t now, struct auth_ticket_key *prev, int *have_prev,
                         struct auth_ticket_key *cur, char *err, size_t errlen)
{
    int64_t life = lifetime_s > 0 ? lifetime_s : 1, starts = now - now % life;
    int rc = period_key(db, master, life, starts, cur, err, errlen);

    *have_prev = 0;
    if (rc == 1) {
        if (make_key(db, master, life, starts, now, err, errlen) != 0)
            return -1;
        if ((rc = period_key(db, master, life, starts, cur, err, errlen)) == 1)
            snprintf(err, errlen, "ticket keys: the key of %" PRId64 " vanished", starts);
    }
    if (rc != 0)
        return -1;
    rc = period_key(db, master, life, starts - life, prev, err, errlen);
    if (rc < 0)
        return -1;
    *have_prev = rc == 0;
    return 0;
}
