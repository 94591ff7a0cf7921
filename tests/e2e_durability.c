/* e2e_durability.c: crash durability of the real binary. Several rounds on
 * one database: client processes register users, log in and rotate refresh
 * tokens while the server is killed with SIGKILL at a random moment. After
 * each kill, with the server down, the database is opened directly:
 *   - every registration answered 201 is there (db_user_by_name),
 *   - every refresh token handed out (login or rotation answered 200) is
 *     stored, and every acknowledged rotation left the old token revoked and
 *     linked to the new one,
 *   - PRAGMA integrity_check is "ok" and foreign_key_check finds nothing,
 *   - no refresh token is both live and rotated, and each family has at
 *     most one live token.
 * A last start serves logins of users from every round.
 *
 * Clients are processes rather than threads because the test support's
 * response reader is not thread-safe; each appends what the server
 * acknowledged to its own file, one write() per line, only after the
 * answer arrived. The seed is printed; PC_DURABILITY_SEED replays it. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/refresh.h"
#include "db/db.h"
#include "db/tokens.h"
#include "db/users.h"
#include "support/api.h"

#define ROUNDS   5
#define CLIENTS  3
#define PASSWORD "durable-password"

struct dur {
    char dir[64];
    char db_path[128];
    char cfg[512];
    int users, tokens, rotations; /* acknowledged, over all rounds */
    char sample[ROUNDS][48];      /* one acknowledged user per round */
};

/* One line "<tag> a[ b]\n" in one write(). */
static void dur_write(int fd, char tag, const char *a, const char *b)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%c %s%s%s\n", tag, a, b[0] ? " " : "", b);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) != n)
        _exit(3);
}

/* POST /api/token/refresh; the status, the new token in next on 200. */
static int dur_rotate(const struct srv *s, const char *cur, char *next, size_t nextlen)
{
    struct api_resp r = { 0 };
    int st = api_json(s, "POST", "/api/token/refresh", NULL, &r, "{s:s}", "refresh_token", cur);
    if (st == 200)
        snprintf(next, nextlen, "%s", api_str(&r, "refresh_token"));
    api_resp_free(&r);
    return st;
}

/* A client process: register, log in, rotate, until killed. */
static void dur_client(const struct srv *s, int round, int idx, int out)
{
    char name[48], last[48] = "", cur[128] = "", next[128];
    int failures = 0;
    for (int i = 0; failures < 100; i++) {
        snprintf(name, sizeof name, "d%d_%d_%d", round, idx, i);
        int st = api_register(s, name, PASSWORD, NULL);
        if (st < 0) {
            failures++;
            usleep(20000);
            continue;
        }
        if (st == 201) {
            dur_write(out, 'U', name, "");
            snprintf(last, sizeof last, "%s", name);
        }
        if (cur[0] == '\0' && last[0] != '\0') {
            struct api_session t;
            if (api_login(s, last, PASSWORD, &t) == 200) {
                snprintf(cur, sizeof cur, "%s", t.refresh);
                dur_write(out, 'T', cur, "");
            }
        } else if (cur[0] != '\0') {
            st = dur_rotate(s, cur, next, sizeof next);
            if (st == 200)
                dur_write(out, 'R', cur, next);
            /* 401: a rotation we never saw answered did commit; start over. */
            if (st == 200 || st == 401)
                snprintf(cur, sizeof cur, "%s", st == 200 ? next : "");
        }
    }
    _exit(0);
}

/* ---- checks, with the server down ---- */

static int64_t token_row(struct db *db, const char *tok, struct db_refresh *row)
{
    unsigned char hash[AUTH_REFRESH_HASH_LEN];
    ck_assert_int_eq(auth_refresh_hash(tok, strlen(tok), hash), 0);
    int rc = db_refresh_find(db, hash, row);
    ck_assert_msg(rc == 0, "acknowledged refresh token %.8s... is missing (%s)", tok,
                  db_errmsg(db));
    return row->id;
}

/* Checks one line a client wrote; counts it. */
static void dur_check_line(struct dur *d, struct db *db, int round, char *line)
{
    char *a = strtok(line + 2, " \n"), *b = strtok(NULL, " \n");
    struct db_user u;
    struct db_refresh old, nw;
    ck_assert_ptr_nonnull(a);
    if (line[0] == 'U') {
        ck_assert_msg(db_user_by_name(db, a, &u) == 0, "user %s got 201 but is missing", a);
        snprintf(d->sample[round], sizeof d->sample[round], "%s", a);
        d->users++;
    } else if (line[0] == 'T') {
        token_row(db, a, &old);
        d->tokens++;
    } else if (line[0] == 'R') {
        ck_assert_ptr_nonnull(b);
        token_row(db, a, &old);
        int64_t nid = token_row(db, b, &nw);
        ck_assert_msg(old.revoked_at != 0 && old.replaced_by == nid,
                      "rotation %.8s -> %.8s acknowledged, but the old token is live "
                      "(revoked_at %lld, replaced_by %lld, new id %lld)",
                      a, b, (long long)old.revoked_at, (long long)old.replaced_by, (long long)nid);
        ck_assert_str_eq(old.family, nw.family);
        d->rotations++;
    }
}

static void dur_check_acknowledged(struct dur *d, int round)
{
    struct db *db = NULL;
    char err[256], path[160], line[256];
    ck_assert_msg(db_open(&db, d->db_path, 5000, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(path, sizeof path, "%s/acks-%d-%d", d->dir, round, i);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof line, f))
            dur_check_line(d, db, round, line);
        fclose(f);
        unlink(path);
    }
    db_close(db);
}

/* The first column of the first row of sql, as text ("" when no row). */
static void dur_query(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(out, outlen, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
}

static void dur_check_invariants(const struct dur *d)
{
    sqlite3 *db = NULL;
    char v[256];
    ck_assert_int_eq(sqlite3_open_v2(d->db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    dur_query(db, "PRAGMA integrity_check", v, sizeof v);
    ck_assert_str_eq(v, "ok");
    dur_query(db, "PRAGMA foreign_key_check", v, sizeof v);
    ck_assert_msg(v[0] == '\0', "foreign_key_check: %s", v);
    /* Valid (neither revoked nor rotated) and rotated at once. */
    dur_query(db,
              "SELECT count(*) FROM refresh_tokens WHERE replaced_by IS NOT NULL"
              " AND revoked_at IS NULL",
              v, sizeof v);
    ck_assert_str_eq(v, "0");
    dur_query(db,
              "SELECT family FROM refresh_tokens WHERE revoked_at IS NULL AND"
              " replaced_by IS NULL GROUP BY family HAVING count(*) > 1",
              v, sizeof v);
    ck_assert_msg(v[0] == '\0', "family %s has two live refresh tokens", v);
    dur_query(db,
              "SELECT count(*) FROM refresh_tokens a JOIN refresh_tokens b"
              " ON a.replaced_by = b.id WHERE a.family <> b.family",
              v, sizeof v);
    ck_assert_str_eq(v, "0");
    /* A token is replaced at most once. */
    dur_query(db,
              "SELECT replaced_by FROM refresh_tokens WHERE replaced_by IS NOT NULL"
              " GROUP BY replaced_by HAVING count(*) > 1",
              v, sizeof v);
    ck_assert_msg(v[0] == '\0', "token %s succeeds two tokens", v);
    sqlite3_close(db);
}

/* ---- the rounds ---- */

static unsigned dur_seed(void)
{
    const char *env = getenv("PC_DURABILITY_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
    fprintf(stderr, "e2e_durability: PC_DURABILITY_SEED=%u\n", seed);
    return seed;
}

/* "R" lines the clients of this round have written so far. */
static int dur_rotations_so_far(const struct dur *d, int round)
{
    char path[160], line[256];
    int n = 0;
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(path, sizeof path, "%s/acks-%d-%d", d->dir, round, i);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (fgets(line, sizeof line, f))
            n += line[0] == 'R';
        fclose(f);
    }
    return n;
}

static void dur_round(struct dur *d, int round, unsigned *seed)
{
    struct srv s;
    pid_t kids[CLIENTS];
    char path[160];
    ck_assert_int_eq(api_start(&s, d->cfg), 0);
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(path, sizeof path, "%s/acks-%d-%d", d->dir, round, i);
        int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
        ck_assert_int_ge(out, 0);
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0)
            dur_client(&s, round, i, out);
        close(out);
    }
    /* Kill at a random moment once the clients are in full swing (a
     * rotation acknowledged), however slow the build or the machine. */
    long waited = 0;
    while (dur_rotations_so_far(d, round) == 0 && waited < 30000) {
        usleep(20000);
        waited += 20;
    }
    int delay_ms = (int)((unsigned)rand_r(seed) % 1500);
    usleep((useconds_t)delay_ms * 1000);
    ck_assert_int_eq(kill(s.pid, SIGKILL), 0);
    /* 128 + SIGKILL: the kill, not a crash of its own, ended it. */
    ck_assert_int_eq(srv_wait(&s, 10000), 128 + SIGKILL);
    for (int i = 0; i < CLIENTS; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    srv_stop(&s, SIGTERM); /* only removes its temp dir now */
    int before = d->users, rot = d->rotations;
    dur_check_acknowledged(d, round);
    dur_check_invariants(d);
    fprintf(stderr,
            "e2e_durability: round %d killed %d ms after the first rotation: %d"
            " registrations, %d rotations acknowledged, all present\n",
            round, delay_ms, d->users - before, d->rotations - rot);
}

START_TEST(kill9_loses_nothing_acknowledged)
{
    struct dur d;
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "/tmp/pc-dur-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d.dir));
    snprintf(d.db_path, sizeof d.db_path, "%s/pc.db", d.dir);
    snprintf(d.cfg, sizeof d.cfg,
             "{\"db\": {\"path\": \"%s\"}, \"auth\": {\"jwt_key_file\":"
             " \"%s/jwt.pem\", \"master_key_file\": \"%s/master.key\"}, \"pool\":"
             " {\"threads\": 2}}",
             d.db_path, d.dir, d.dir);
    unsigned seed = dur_seed();
    for (int round = 0; round < ROUNDS; round++)
        dur_round(&d, round, &seed);
    ck_assert_int_ge(d.users, ROUNDS);
    ck_assert_int_ge(d.rotations, ROUNDS);

    /* A clean start on the crashed-into database serves every round's users. */
    struct srv s;
    struct api_session t;
    ck_assert_int_eq(api_start(&s, d.cfg), 0);
    for (int round = 0; round < ROUNDS; round++)
        if (d.sample[round][0])
            ck_assert_int_eq(api_login(&s, d.sample[round], PASSWORD, &t), 200);
    ck_assert_int_eq(srv_stop(&s, SIGTERM), 0);
    dur_check_invariants(&d);
    fprintf(stderr,
            "e2e_durability: %d rounds: %d users, %d logins, %d rotations acknowledged"
            " and found\n",
            ROUNDS, d.users, d.tokens, d.rotations);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d.dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *durability_suite(void)
{
    Suite *s = suite_create("e2e_durability");
    TCase *tc = tcase_create("kill9");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, kill9_loses_nothing_acknowledged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(durability_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
