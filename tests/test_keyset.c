/* test_keyset.c: the key set over a real store (auth/keyset.c,
 * auth/tickets.c, db/keys.c): the master key's rules, an existing key file
 * taken in as the first key (its tokens keep verifying), rotation with the
 * retired key verifying until its window ends, keys the master key does
 * not open, and ticket keys every instance derives alike. */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/keyfile.h"
#include "auth/keyset.h"
#include "auth/tickets.h"
#include "db/keys.h"
#include "support/db_fixture.h"

#include <jansson.h>
#include <psa/crypto.h>

#define TTL    900
#define LEEWAY 30
#define WINDOW (TTL + LEEWAY)

static const struct auth_token_opts opts = { "portcullis", "portcullis-api", TTL, LEEWAY };
static char err[512];

static void path_in(char *out, size_t cap, const char *name)
{
    ck_assert_int_lt(snprintf(out, cap, "%s/%s", fx_dir, name), (int)cap);
}

static void master(unsigned char key[AUTH_SEAL_KEY_LEN])
{
    char path[PATH_MAX];
    path_in(path, sizeof path, "master.key");
    ck_assert_msg(auth_master_key_load(fx_db, path, 1, key, err, sizeof err) == 0, "%s", err);
}

/* The set as it stands at now; fails the test unless it loads. */
static struct auth_tokens *load_at(const unsigned char *mk, int64_t now)
{
    struct auth_tokens *t = NULL;
    char sig[AUTH_KEYSET_SIG_MAX];
    ck_assert_msg(auth_keyset_load(fx_db, mk, &opts, WINDOW, now, NULL, sig, &t, err, sizeof err) ==
                      0,
                  "%s", err);
    return t;
}

static char *issue(const struct auth_tokens *t, int64_t now)
{
    char *tok = NULL;
    ck_assert_int_eq(auth_token_issue(t, 7, "user", 0, now, &tok), 0);
    return tok;
}

static int verify(const struct auth_tokens *t, const char *tok, int64_t now)
{
    struct auth_claims c;
    return auth_token_verify(t, tok, now, &c);
}

static int jwks_count(const struct auth_tokens *t, int64_t now)
{
    char *s = auth_tokens_jwks_json(t, now);
    json_t *doc = json_loads(s, 0, NULL);
    int n = (int)json_array_size(json_object_get(doc, "keys"));
    json_decref(doc);
    free(s);
    return n;
}

START_TEST(test_master_key_rules)
{
    unsigned char k1[AUTH_SEAL_KEY_LEN], k2[AUTH_SEAL_KEY_LEN];
    char path[PATH_MAX];
    struct stat st;
    int imported = 1;

    path_in(path, sizeof path, "master.key");
    /* Not created for a command (create 0), even on an empty store. */
    ck_assert_int_eq(auth_master_key_load(fx_db, path, 0, k1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "master.key"));
    /* Created 0600 on the first start of an empty store, then read back. */
    master(k1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    master(k2);
    ck_assert_mem_eq(k1, k2, sizeof k1);
    /* Once the store holds keys, a missing master key is never replaced. */
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, k1, "", 100, &imported, err, sizeof err), 0);
    ck_assert_int_eq(imported, 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(auth_master_key_load(fx_db, path, 1, k2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "sealed under a master key") != NULL, "%s", err);
    ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

/* Two instances starting at once on an empty store, each with its own
 * (missing) master key file: the first holds the key set lock while it
 * makes its master key and first key, the second cannot take the lock
 * until then, and afterwards sees that key and refuses to make a master
 * key of its own. */
START_TEST(test_first_keys_under_lock)
{
    unsigned char k1[AUTH_SEAL_KEY_LEN], k2[AUTH_SEAL_KEY_LEN];
    char p1[PATH_MAX], p2[PATH_MAX];
    struct db *other = fx_open(fx_path, 200);
    struct stat st;
    int imported = 0;

    path_in(p1, sizeof p1, "one.key");
    path_in(p2, sizeof p2, "two.key");
    ck_assert_msg(auth_keyset_begin(fx_db, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(auth_master_key_load(fx_db, p1, 1, k1, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(auth_keyset_begin(other, err, sizeof err), -1);
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, k1, "", 100, &imported, err, sizeof err), 0);
    ck_assert_int_eq(db_commit(fx_db), 0);
    ck_assert_msg(auth_keyset_begin(other, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(auth_master_key_load(other, p2, 1, k2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "sealed under a master key") != NULL, "%s", err);
    ck_assert_int_eq(db_rollback(other), 0);
    ck_assert_int_eq(stat(p2, &st), -1);
    db_close(other);
}
END_TEST

START_TEST(test_key_file_imported_and_its_tokens_verify)
{
    unsigned char mk[AUTH_SEAL_KEY_LEN];
    char path[PATH_MAX], *old;
    struct auth_tokens *file = NULL, *set;
    int imported = 0;

    master(mk);
    path_in(path, sizeof path, "jwt-es256.pem");
    /* The single-key server of before: its key file and a token from it. */
    ck_assert_int_eq(auth_tokens_load_es256(&file, &opts, path, err, sizeof err), 0);
    old = issue(file, 1000);
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, mk, path, 1000, &imported, err, sizeof err), 0);
    ck_assert_int_eq(imported, 1);
    set = load_at(mk, 1001);
    ck_assert_str_eq(auth_tokens_kid(set), auth_tokens_kid(file));
    ck_assert_int_eq(verify(set, old, 1001), 0);
    /* A second start finds the set and imports nothing. */
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, mk, path, 1002, &imported, err, sizeof err), 0);
    ck_assert_int_eq(imported, 0);
    free(old);
    auth_tokens_free(set);
    auth_tokens_free(file);
}
END_TEST

START_TEST(test_rotation_and_retirement_window)
{
    unsigned char mk[AUTH_SEAL_KEY_LEN];
    char kid[AUTH_TOKEN_KID_BUF], first_kid[AUTH_TOKEN_KID_BUF], sig[AUTH_KEYSET_SIG_MAX], *before,
        *after;
    struct auth_tokens *a, *b, *c, *none = NULL;
    int imported = 1;

    master(mk);
    /* No key file: a new key, and no file written. */
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, mk, "", 1000, &imported, err, sizeof err), 0);
    ck_assert_int_eq(imported, 0);
    a = load_at(mk, 1000);
    snprintf(first_kid, sizeof first_kid, "%s", auth_tokens_kid(a));
    before = issue(a, 1000);
    /* Unchanged store: nothing unsealed, 1. */
    ck_assert_int_eq(
        auth_keyset_load(fx_db, mk, &opts, WINDOW, 1001, NULL, sig, &none, err, sizeof err), 0);
    auth_tokens_free(none);
    none = NULL;
    ck_assert_int_eq(
        auth_keyset_load(fx_db, mk, &opts, WINDOW, 1001, sig, sig, &none, err, sizeof err), 1);
    ck_assert_ptr_null(none);

    ck_assert_int_eq(auth_keyset_rotate(fx_db, mk, &opts, WINDOW, 2000, kid, err, sizeof err), 0);
    ck_assert_str_ne(kid, first_kid);
    /* Published at once, signing only once every instance has read it:
     * until then the retired key signs on. */
    b = load_at(mk, 2000 + AUTH_KEYSET_PUBLISH_S - 1);
    ck_assert_str_eq(auth_tokens_kid(b), first_kid);
    char signer[AUTH_TOKEN_KID_BUF];
    ck_assert_int_eq(auth_keyset_signer(fx_db, WINDOW, 2000 + AUTH_KEYSET_PUBLISH_S - 1, signer,
                                        err, sizeof err),
                     0);
    ck_assert_str_eq(signer, first_kid);
    ck_assert_int_eq(
        auth_keyset_signer(fx_db, WINDOW, 2000 + AUTH_KEYSET_PUBLISH_S, signer, err, sizeof err),
        0);
    ck_assert_str_eq(signer, kid);
    ck_assert_int_eq(jwks_count(b, 2001), 2);
    auth_tokens_free(b);
    b = load_at(mk, 2000 + AUTH_KEYSET_PUBLISH_S);
    ck_assert_str_eq(auth_tokens_kid(b), kid);
    after = issue(b, 2010);
    /* Both verify, both keys published. */
    ck_assert_int_eq(verify(b, before, 1100), 0);
    ck_assert_int_eq(verify(b, after, 2011), 0);
    ck_assert_int_eq(jwks_count(b, 2011), 2);
    /* From retired_at + grace + window the old key is gone from the JWKS,
     * and a token naming it is refused for its key (whatever its times). */
    const int64_t end = 2000 + AUTH_KEYSET_GRACE_S + WINDOW;
    ck_assert_int_eq(jwks_count(b, end - 1), 2);
    ck_assert_int_eq(jwks_count(b, end), 1);
    ck_assert_int_eq(verify(b, before, end), AUTH_TOKEN_KEY);
    /* The store agrees: read after the window, the set has one key. */
    c = load_at(mk, end);
    ck_assert_int_eq(jwks_count(c, end), 1);
    ck_assert_int_eq(verify(c, before, 1100), AUTH_TOKEN_KEY);
    ck_assert_int_eq(verify(c, after, 2011), 0);
    free(before);
    free(after);
    auth_tokens_free(a);
    auth_tokens_free(b);
    auth_tokens_free(c);
}
END_TEST

static int first_row(void *arg, const struct db_signing_key *k)
{
    *(struct db_signing_key *)arg = *k;
    return 1;
}

START_TEST(test_foreign_master_key_and_moved_secret_refused)
{
    unsigned char mk[AUTH_SEAL_KEY_LEN], other[AUTH_SEAL_KEY_LEN];
    char kid[AUTH_TOKEN_KID_BUF], sig[AUTH_KEYSET_SIG_MAX];
    struct auth_tokens *t = NULL;
    struct db_signing_key row;
    int imported;

    master(mk);
    memset(other, 0x5a, sizeof other);
    ck_assert_int_eq(auth_keyset_bootstrap(fx_db, mk, "", 1000, &imported, err, sizeof err), 0);
    ck_assert_int_eq(
        auth_keyset_load(fx_db, other, &opts, WINDOW, 1000, NULL, sig, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "does not open with this master key") != NULL, "%s", err);
    ck_assert_ptr_null(t);
    /* A rotation under the wrong master key would strand every instance:
     * refused, and the store keeps one key. */
    ck_assert_int_eq(auth_keyset_rotate(fx_db, other, &opts, WINDOW, 2000, kid, err, sizeof err),
                     -1);
    ck_assert_int_eq(db_signing_key_list(fx_db, INT64_MIN, first_row, &row), 1);
    /* A sealed key copied under another kid (and made the newest) does not
     * open: the kid is bound into the seal. */
    snprintf(row.kid, sizeof row.kid, "somebody-else");
    row.created_at = 3000;
    ck_assert_int_eq(db_signing_key_add(fx_db, &row), 0);
    ck_assert_int_eq(
        auth_keyset_load(fx_db, mk, &opts, WINDOW, 3000, NULL, sig, &t, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "somebody-else"));
}
END_TEST

START_TEST(test_ticket_keys_shared_per_period)
{
    unsigned char mk[AUTH_SEAL_KEY_LEN];
    struct auth_ticket_key prev, cur, prev2, cur2;
    int have_prev = -1, have2 = -1;
    const int life = 3600;
    const int64_t t0 = 7200 * 100 + 10; /* period 200 */

    master(mk);
    ck_assert_int_eq(
        auth_tickets_current(fx_db, mk, life, t0, &prev, &have_prev, &cur, err, sizeof err), 0);
    ck_assert_int_eq(have_prev, 0);
    ck_assert_int_eq(cur.name[3], 200);
    ck_assert_int_eq(cur.name[0] | cur.name[1] | cur.name[2], 0);
    /* Another instance later in the same period derives the same key. */
    ck_assert_int_eq(
        auth_tickets_current(fx_db, mk, life, t0 + 3000, &prev2, &have2, &cur2, err, sizeof err),
        0);
    ck_assert_mem_eq(&cur, &cur2, sizeof cur);
    /* The next period: a new key, the old one as prev. */
    ck_assert_int_eq(
        auth_tickets_current(fx_db, mk, life, t0 + life, &prev2, &have2, &cur2, err, sizeof err),
        0);
    ck_assert_int_eq(have2, 1);
    ck_assert_mem_eq(&prev2, &cur, sizeof cur);
    ck_assert_int_eq(cur2.name[3], 201);
    ck_assert(memcmp(cur2.key, cur.key, sizeof cur.key) != 0);
    /* Keys older than the previous period were deleted with the new one. */
    ck_assert_int_eq(auth_tickets_current(fx_db, mk, life, t0 + 2 * life, &prev2, &have2, &cur2,
                                          err, sizeof err),
                     0);
    struct db_ticket_key row;
    ck_assert_int_eq(db_ticket_key_get(fx_db, life, t0 - 10, &row), DB_NOTFOUND);
    /* A foreign master key opens none of them. */
    memset(mk, 0x11, sizeof mk);
    ck_assert_int_eq(auth_tickets_current(fx_db, mk, life, t0 + 2 * life, &prev2, &have2, &cur2,
                                          err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "does not open") != NULL, "%s", err);
}
END_TEST

static Suite *keyset_suite(void)
{
    Suite *s = suite_create("keyset");
    TCase *tc = tcase_create("keyset");

    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, test_master_key_rules);
    tcase_add_test(tc, test_first_keys_under_lock);
    tcase_add_test(tc, test_key_file_imported_and_its_tokens_verify);
    tcase_add_test(tc, test_rotation_and_retirement_window);
    tcase_add_test(tc, test_foreign_master_key_and_moved_secret_refused);
    tcase_add_test(tc, test_ticket_keys_shared_per_period);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    psa_crypto_init();
    return fx_run(keyset_suite());
}
