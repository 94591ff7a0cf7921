/* cli_admin.c: the operator's account commands (delete, role, unlock,
 * disable/enable): each change, the "at least one enabled admin" rule and
 * its audit event (actor 0: the local CLI) in one transaction. */
#include "auth/cli_admin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "auth/guard.h"
#include "auth/handlers.h"
#include "auth/refresh.h"
#include "auth/request.h"
#include "db/admin.h"
#include "db/mfa.h"
#include "db/users.h"

/* Commits, or rolls back and says why. The process exit code. */
static int finish(struct db *db, int rc, const char *name)
{
    if (rc == 0 && (rc = db_commit(db)) == 0)
        return 0;
    if (rc == DB_NOTFOUND)
        fprintf(stderr, "portcullis: no user '%s'\n", name);
    else if (rc == DB_CONFLICT)
        fprintf(stderr, "portcullis: at least one enabled admin must remain\n");
    else
        fprintf(stderr, "portcullis: database: %s\n", db_errmsg(db));
    db_rollback(db);
    return 1;
}

static int keep_an_admin(struct db *db, int64_t before)
{
    int64_t after = 0;
    int rc = db_admin_count_enabled(db, &after);
    return rc != 0 ? rc : before > 0 && after == 0 ? DB_CONFLICT : 0;
}

/* Starts the transaction, finds the user and counts the enabled admins
 * (for keep_an_admin). 0 or a DB_* code. */
static int begin_on(struct db *db, const char *name, struct db_user *u, int64_t *admins)
{
    int rc = db_begin(db);
    if (rc == 0)
        rc = db_user_by_name(db, name, u);
    if (rc == 0 && admins != NULL)
        rc = db_admin_count_enabled(db, admins);
    return rc;
}

int auth_cli_delete(struct db *db, const char *name)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL);
    int64_t admins = 0;
    int rc = begin_on(db, name, &u, &admins);
    if (rc == 0)
        rc = db_user_delete(db, u.id);
    if (rc == 0)
        rc = db_audit_keep_name(db, u.id, u.username);
    if (rc == 0)
        rc = keep_an_admin(db, admins);
    if (rc == 0)
        rc = db_audit_add_by(db, "cli_user_delete", u.id, u.username, 0, "local", NULL, now);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("deleted '%s'\n", u.username);
    return 0;
}

int auth_cli_role(struct db *db, const char *name, const char *role)
{
    struct db_user u;
    char detail[16];
    int64_t now = (int64_t)time(NULL);
    if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0) {
        fprintf(stderr, "portcullis: the role is admin or user\n");
        return 2;
    }
    int64_t admins = 0;
    int rc = begin_on(db, name, &u, &admins);
    if (rc == 0)
        rc = db_user_set_role(db, u.id, role, now);
    if (rc == 0)
        rc = keep_an_admin(db, admins);
    snprintf(detail, sizeof detail, "role=%s", role);
    if (rc == 0)
        rc = db_audit_add_by(db, "cli_user_role", u.id, u.username, 0, "local", detail, now);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("'%s' is now %s\n", u.username, role);
    return 0;
}

int auth_cli_set_disabled(struct db *db, const char *name, int disabled)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL);
    int64_t admins = 0;
    int rc = begin_on(db, name, &u, &admins);
    if (rc == 0)
        rc = db_user_set_disabled(db, u.id, disabled, now);
    if (rc == 0)
        rc = keep_an_admin(db, admins);
    if (rc == 0)
        rc = db_audit_add_by(db, disabled ? "cli_user_disable" : "cli_user_enable", u.id,
                             u.username, 0, "local", NULL, now);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("%s '%s'\n", disabled ? "disabled" : "enabled", u.username);
    return 0;
}

int auth_cli_unlock(struct db *db, const char *name)
{
    struct db_user u;
    int64_t now = (int64_t)time(NULL), uid = 0;
    if (!auth_username_valid(name, strlen(name))) {
        fprintf(stderr, "portcullis: usernames are 3 to 64 characters of A-Z a-z 0-9 . _ -\n");
        return 1;
    }
    /* Any name can be locked (unknown ones too); the event names the
     * account when there is one. */
    int rc = db_begin(db);
    if (rc == 0) {
        rc = db_user_by_name(db, name, &u);
        if (rc == 0)
            uid = u.id;
        rc = rc == DB_NOTFOUND ? 0 : rc;
    }
    if (rc == 0)
        rc = auth_guard_clear(db, name);
    if (rc == 0)
        rc = db_audit_add_by(db, "cli_user_unlock", uid, name, 0, "local", NULL, now);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("unlocked '%s'\n", name);
    return 0;
}

int auth_cli_mfa_reset(struct db *db, const char *name)
{
    struct db_user u;
    int removed = 0;
    int64_t now = (int64_t)time(NULL);
    int rc = begin_on(db, name, &u, NULL);
    if (rc == 0)
        rc = db_mfa_remove(db, u.id, &removed);
    if (rc == 0)
        rc = db_audit_add_by(db, "cli_mfa_reset", u.id, u.username, 0, "local",
                             removed ? "two-factor removed" : "two-factor was off", now);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("two-factor %s for '%s'\n", removed ? "turned off" : "was already off", u.username);
    return 0;
}

int auth_cli_reset_password(struct db *db, const char *name)
{
    struct db_user u;
    char token[AUTH_REFRESH_TOKEN_LEN + 1];
    int rc = begin_on(db, name, &u, NULL);
    if (rc == 0)
        rc = auth_reset_issue(db, u.id, u.username, 0, "local", token);
    if (finish(db, rc, name) != 0)
        return 1;
    printf("password reset token for '%s' (usable once, for %d minutes):\n%s\n", u.username,
           AUTH_RESET_TTL_S / 60, token);
    mbedtls_platform_zeroize(token, sizeof token);
    return 0;
}
