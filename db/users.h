/* users.h: the users table.
 *
 * Usernames are unique case-insensitively ("Alice" and "alice" are the same
 * account) and are stored exactly as given; any byte string is data, never
 * SQL. Length limits are checked here too (DB_ERROR), but which characters
 * are allowed is the API layer's rule.
 *
 * The token epoch is the revocation switch for access tokens: a token is
 * valid only while its epoch claim equals the user's current token_epoch.
 * Every change that must end existing sessions bumps it in the same UPDATE.
 *
 * All functions return 0 or a negative DB_* code (see db.h). */
#ifndef PC_DB_USERS_H
#define PC_DB_USERS_H

#include <stdint.h>

#include "db/db.h"

#define DB_USERNAME_MAX 64  /* bytes */
#define DB_HASH_MAX     255 /* bytes of the PHC string */
#define DB_ROLE_MAX     7   /* "user" | "admin" */

struct db_user {
    int64_t id;
    char username[DB_USERNAME_MAX + 1];
    char password_hash[DB_HASH_MAX + 1];
    char role[DB_ROLE_MAX + 1];
    int disabled;
    int64_t token_epoch;
    int failed_logins;
    int64_t locked_until; /* Unix seconds; locked while now < locked_until */
    int64_t created_at;
    int64_t updated_at;
};

/* Called once per row; a non-zero return stops the listing (which still
 * returns 0). The row is valid only during the call. The callback may use
 * other db_* functions on the same connection, but not the same listing. */
typedef int (*db_user_cb)(void *arg, const struct db_user *user);

/* One INSERT: the user exists completely or not at all.
 * DB_CONFLICT if the name is taken (case-insensitively), DB_ERROR for an
 * empty or too long name or hash, or a role other than "user"/"admin". */
int db_user_create(struct db *db, const char *username, const char *password_hash, const char *role,
                   int64_t now, int64_t *id);

/* Exact lookups (the name case-insensitively). DB_NOTFOUND if absent. */
int db_user_by_name(struct db *db, const char *username, struct db_user *out);
int db_user_by_id(struct db *db, int64_t id, struct db_user *out);

/* New password hash; with bump_epoch, every access token issued before dies
 * in the same statement. DB_NOTFOUND if no such user. */
int db_user_set_password(struct db *db, int64_t id, const char *password_hash, int64_t now,
                         int bump_epoch);

/* Rehash on login when the hashing parameters changed: replaces the hash
 * only if it is still old_hash, so a password changed meanwhile is never
 * overwritten by a rehash of the old one. No epoch bump, updated_at kept.
 * DB_CONFLICT if the stored hash is no longer old_hash or the user is gone
 * (the caller can ignore both). */
int db_user_set_hash_only(struct db *db, int64_t id, const char *old_hash, const char *new_hash);

/* token_epoch + 1 ("log out everywhere"); the new epoch in *epoch (may be
 * NULL). DB_NOTFOUND if no such user. */
int db_user_bump_epoch(struct db *db, int64_t id, int64_t now, int64_t *epoch);

/* Disable (1) or enable (0). A change of state bumps the epoch; disabling
 * also revokes all the user's refresh tokens, atomically, so every session
 * ends at once. DB_NOTFOUND if no such user. */
int db_user_set_disabled(struct db *db, int64_t id, int disabled, int64_t now);

/* New role ("user" | "admin", else DB_ERROR); a change bumps the epoch so a
 * demoted admin's tokens die. DB_NOTFOUND if no such user. */
int db_user_set_role(struct db *db, int64_t id, const char *role, int64_t now);

/* Deletes the user and (cascade) their refresh tokens; audit rows stay.
 * DB_NOTFOUND if no such user. */
int db_user_delete(struct db *db, int64_t id);

/* Records a failed login, atomically. Once failed_logins reaches threshold,
 * the account is locked until now + min(max_s, base_s * 2^(failed -
 * threshold)); an existing longer lock is kept. *locked_until (may be NULL)
 * receives the resulting value (0 or in the past: not locked).
 * Requires threshold >= 1 and 1 <= base_s <= max_s. DB_NOTFOUND if no user. */
int db_user_login_failed(struct db *db, int64_t id, int64_t now, int threshold, int64_t base_s,
                         int64_t max_s, int64_t *locked_until);

/* Clears failed_logins and locked_until after a successful login. Writes
 * (and so syncs) only when there is something to clear; 0 also when the
 * user does not exist. */
int db_user_login_ok(struct db *db, int64_t id);

/* Users ordered by id, `limit` rows after skipping `offset` (both >= 0). */
int db_user_list(struct db *db, int64_t offset, int64_t limit, db_user_cb cb, void *arg);
int db_user_count(struct db *db, int64_t *count);

/* What the token middleware checks on every authenticated request, by
 * primary key: current epoch, disabled flag and role (role may be NULL).
 * DB_NOTFOUND if the user was deleted. */
int db_user_auth_state(struct db *db, int64_t id, int64_t *epoch, int *disabled,
                       char role[DB_ROLE_MAX + 1]);

#endif
