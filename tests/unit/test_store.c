/*
 * test_store.c - the token store (store.h) over its SQLite backend.
 *
 * Files are made in a fresh temporary folder per test.  Where the test
 * needs to look at the file from outside (application id, journal mode,
 * a foreign database) it runs the sqlite3 command-line shell, which no one
 * here wrote.  The race tests fork processes that each open their own
 * connection, as STACK.md requires.
 */
#define _GNU_SOURCE	/* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ac_error.h"
#include "config.h"
#include "store.h"

struct fixture {
	char	dir[64];
	char	path[128];
	ac_store *s;
};

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ac_store_close(f->s);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A fixture with a freshly created store open in f->s. */
static int
setup_open(void **state)
{
	struct fixture *f;
	char err[256];

	if (setup(state) != 0)
		return -1;
	f = *state;
	if (ac_store_create_sqlite(f->path, -1, &f->s, err, sizeof(err)) != 0) {
		fprintf(stderr, "create: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Runs `sqlite3 PATH SQL` and returns its trimmed standard output in out.
 * Returns the shell's exit status.
 */
static int
sqlite_cli(const char *path, const char *sql, char *out, size_t outlen)
{
	int fds[2], status = -1;
	size_t n = 0;
	ssize_t k;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("sqlite3", "sqlite3", "-batch", path, sql, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (n + 1 < outlen &&
	    (k = read(fds[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void
fill_token(struct ac_token *t, const char *serial, const char *owner,
    int64_t created)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	snprintf(t->serial, sizeof(t->serial), "%s", serial);
	snprintf(t->owner, sizeof(t->owner), "%s", owner);
	t->type = AC_TOKEN_TOTP;
	t->state = AC_STATE_ACTIVE;
	t->algo = AC_ALGO_SHA256;
	t->digits = 8;
	t->period = 60;
	t->counter = 55000000;
	t->drift = -1;
	t->fail_count = 2;
	t->locked_until = 0;
	t->bypass_until = AC_FOREVER;
	snprintf(t->key_id, sizeof(t->key_id), "0123456789abcdef");
	t->sealed_len = 60;
	for (i = 0; i < t->sealed_len; i++)
		t->sealed[i] = (uint8_t)(i * 7 + 1);
	t->has_pin = 1;
	memset(t->pin_salt, 0xa5, sizeof(t->pin_salt));
	memset(t->pin_hash, 0x5a, sizeof(t->pin_hash));
	snprintf(t->description, sizeof(t->description), "phone 'x' \"y\"");
	snprintf(t->email, sizeof(t->email), "%s@example.org", owner);
	t->created = created;
	t->activated = created + 5;
	t->last_used = 0;
	t->expires = 0;
}

static void
assert_token_equal(const struct ac_token *a, const struct ac_token *b)
{
	assert_string_equal(a->serial, b->serial);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->owner, b->owner);
	assert_int_equal(a->algo, b->algo);
	assert_int_equal(a->digits, b->digits);
	assert_int_equal(a->period, b->period);
	assert_true(a->counter == b->counter);
	assert_true(a->drift == b->drift);
	assert_int_equal(a->fail_count, b->fail_count);
	assert_true(a->locked_until == b->locked_until);
	assert_true(a->bypass_until == b->bypass_until);
	assert_string_equal(a->key_id, b->key_id);
	assert_int_equal(a->sealed_len, b->sealed_len);
	assert_memory_equal(a->sealed, b->sealed, a->sealed_len);
	assert_int_equal(a->has_pin, b->has_pin);
	assert_memory_equal(a->pin_salt, b->pin_salt, sizeof(a->pin_salt));
	assert_memory_equal(a->pin_hash, b->pin_hash, sizeof(a->pin_hash));
	assert_string_equal(a->description, b->description);
	assert_string_equal(a->email, b->email);
	assert_true(a->created == b->created);
	assert_true(a->activated == b->activated);
	assert_true(a->last_used == b->last_used);
	assert_true(a->expires == b->expires);
}

/* ---- create, open, refuse ------------------------------------------- */

static void
test_create_open(void **state)
{
	struct fixture *f = *state;
	char err[256], out[256];
	struct stat sb;
	int v = -1;

	assert_int_equal(ac_store_create_sqlite(f->path, -1, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_schema_version(f->s, &v), 0);
	assert_int_equal(v, ac_store_schema_latest());
	assert_true(ac_store_schema_latest() >= 1);
	ac_store_close(f->s);
	f->s = NULL;

	/* The file holds sealed secrets: owner-only. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* Seen from outside: WAL, our application id, the fixed tables. */
	assert_int_equal(sqlite_cli(f->path, "PRAGMA journal_mode", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "wal");
	assert_int_equal(sqlite_cli(f->path, "PRAGMA application_id", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "1414221908");	/* 0x544b5054, "TKPT" */
	assert_int_equal(sqlite_cli(f->path, "SELECT name FROM sqlite_master "
	    "WHERE type='table' AND name IN ('tokens','events','sessions',"
	    "'throttle','challenges') ORDER BY name", out, sizeof(out)), 0);
	assert_string_equal(out, "challenges\nevents\nsessions\nthrottle\n"
	    "tokens");
	assert_int_equal(sqlite_cli(f->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE type='index' AND name IN ('tokens_owner',"
	    "'events_serial','events_user')", out, sizeof(out)), 0);
	assert_string_equal(out, "3");

	assert_int_equal(ac_store_open_sqlite(f->path, 0, 1000, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_schema_version(f->s, &v), 0);
	assert_int_equal(v, ac_store_schema_latest());
}

static void
test_create_refuses_existing(void **state)
{
	struct fixture *f = *state;
	ac_store *s2 = NULL;
	char err[256] = "", out[64];
	struct stat sb;

	assert_int_equal(ac_store_create_sqlite(f->path, -1, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_create_sqlite(f->path, -1, &s2, err,
	    sizeof(err)), AC_ERR_EXISTS);
	assert_null(s2);
	assert_non_null(strstr(err, f->path));
	/* The existing store is untouched and still usable. */
	assert_int_equal(sqlite_cli(f->path, "SELECT count(*) FROM tokens",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "0");

	/* Any non-empty file is refused, and left as it was. */
	snprintf(f->path, sizeof(f->path), "%s/other", f->dir);
	write_file(f->path, "hello", 5);
	assert_int_equal(ac_store_create_sqlite(f->path, -1, &s2, err,
	    sizeof(err)), AC_ERR_EXISTS);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, 5);
}

static void
test_open_missing(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	struct stat sb;

	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), AC_ERR_NOT_FOUND);
	assert_null(f->s);
	assert_non_null(strstr(err, f->path));
	/* Opening never creates the file. */
	assert_int_equal(stat(f->path, &sb), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_open_not_ours(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", out[256];
	char junk[4096];
	size_t i;

	/* Garbage bytes. */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 31 + 7);
	write_file(f->path, junk, sizeof(junk));
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), AC_ERR_NOT_OURS);
	assert_null(f->s);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "not a tokenportal store"));

	/* An empty file. */
	write_file(f->path, "", 0);
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), AC_ERR_NOT_OURS);

	/* Somebody else's SQLite database: refused, and not converted to
	 * WAL or otherwise written. */
	snprintf(f->path, sizeof(f->path), "%s/foreign.db", f->dir);
	assert_int_equal(sqlite_cli(f->path, "CREATE TABLE tokens(a);"
	    "INSERT INTO tokens VALUES(1)", out, sizeof(out)), 0);
	assert_int_equal(ac_store_open_sqlite(f->path, 1, -1, &f->s, err,
	    sizeof(err)), AC_ERR_NOT_OURS);
	assert_non_null(strstr(err, "application_id"));
	assert_int_equal(sqlite_cli(f->path, "PRAGMA journal_mode", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "delete");

	/* A directory. */
	assert_int_equal(ac_store_open_sqlite(f->dir, 0, -1, &f->s, err,
	    sizeof(err)), AC_ERR_NOT_OURS);
}

/* Opening through the config: store.driver, store.path relative to the
 * config's folder, store.busy_timeout_ms. */
static void
test_open_config(void **state)
{
	struct fixture *f = *state;
	ac_config *cfg = NULL;
	ac_store *s2 = NULL;
	char err[256] = "";
	struct stat sb;

	assert_int_equal(ac_config_parse("store.driver = sqlite\n"
	    "store.path = store.db\nstore.busy_timeout_ms = 250\n", f->dir,
	    &cfg, err, sizeof(err)), 0);
	assert_int_equal(ac_store_open(cfg, 0, &f->s, err, sizeof(err)),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_create(cfg, &f->s, err, sizeof(err)), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(ac_store_create(cfg, &s2, err, sizeof(err)),
	    AC_ERR_EXISTS);
	assert_int_equal(ac_store_open(cfg, 0, &s2, err, sizeof(err)), 0);
	ac_store_close(s2);
	s2 = NULL;
	ac_config_free(cfg);

	assert_int_equal(ac_config_parse("store.driver = oracle\n"
	    "store.path = store.db\n", f->dir, &cfg, err, sizeof(err)), 0);
	assert_int_equal(ac_store_open(cfg, 0, &s2, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "store.driver"));
	assert_non_null(strstr(err, "oracle"));
	ac_config_free(cfg);

	assert_int_equal(ac_config_parse("store.driver = sqlite\n", f->dir,
	    &cfg, err, sizeof(err)), 0);
	assert_int_equal(ac_store_open(cfg, 0, &s2, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "store.path"));
	ac_config_free(cfg);

	assert_int_equal(ac_config_parse("store.path = store.db\n"
	    "store.busy_timeout_ms = soon\n", f->dir, &cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_open(cfg, 0, &s2, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "store.busy_timeout_ms"));
	ac_config_free(cfg);
	assert_null(s2);
}

/* A store written by an older program: refused unless allow_old_schema,
 * then brought up to date by upgrade in one go. */
static void
test_schema_upgrade(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", out[256];
	int v = -1, from = -1, to = -1;

	/* Our application id, but no schema yet (version 0). */
	assert_int_equal(sqlite_cli(f->path, "PRAGMA application_id="
	    "1414221908; CREATE TABLE leftover(a)", out, sizeof(out)), 0);
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), AC_ERR_SCHEMA);
	assert_non_null(strstr(err, "tokenctl upgrade"));
	assert_int_equal(ac_store_open_sqlite(f->path, 1, -1, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_schema_version(f->s, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ac_store_upgrade(f->s, &from, &to), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, ac_store_schema_latest());
	assert_int_equal(ac_store_upgrade(f->s, &from, &to), 0);
	assert_int_equal(from, to);
	ac_store_close(f->s);
	f->s = NULL;
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), 0);
	ac_store_close(f->s);
	f->s = NULL;

	/* A newer schema than ours is refused even for upgrade. */
	assert_int_equal(sqlite_cli(f->path, "INSERT INTO schema_version "
	    "VALUES(999, 0)", out, sizeof(out)), 0);
	assert_int_equal(ac_store_open_sqlite(f->path, 1, -1, &f->s, err,
	    sizeof(err)), AC_ERR_SCHEMA);
	assert_non_null(strstr(err, "newer"));
}

/* ---- tokens ------------------------------------------------------------ */

static void
test_token_crud(void **state)
{
	struct fixture *f = *state;
	struct ac_token t, got;
	char long_serial[AC_MAX_SERIAL + 2];

	fill_token(&t, "TOTP0001", "alice", 1000);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_token_get(f->s, "TOTP0001", &got), 0);
	assert_token_equal(&t, &got);
	assert_int_equal(ac_store_token_insert(f->s, &t), AC_ERR_EXISTS);
	assert_non_null(strstr(ac_store_last_error(f->s), "TOTP0001"));

	/* Update writes every column. */
	t.state = AC_STATE_DISABLED;
	t.owner[0] = '\0';
	t.counter = 7;
	t.has_pin = 0;
	memset(t.pin_salt, 0, sizeof(t.pin_salt));
	memset(t.pin_hash, 0, sizeof(t.pin_hash));
	t.sealed_len = 28;
	t.last_used = 4242;
	t.expires = 99;
	assert_int_equal(ac_store_token_update(f->s, &t), 0);
	assert_int_equal(ac_store_token_get(f->s, "TOTP0001", &got), 0);
	assert_token_equal(&t, &got);

	assert_int_equal(ac_store_token_get(f->s, "nope", &got),
	    AC_ERR_NOT_FOUND);
	fill_token(&t, "nope", "bob", 1);
	assert_int_equal(ac_store_token_update(f->s, &t), AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_token_delete(f->s, "TOTP0001"), 0);
	assert_int_equal(ac_store_token_get(f->s, "TOTP0001", &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_token_delete(f->s, "TOTP0001"),
	    AC_ERR_NOT_FOUND);

	/* Lengths are checked before anything reaches the database. */
	memset(long_serial, 'S', sizeof(long_serial) - 1);
	long_serial[sizeof(long_serial) - 1] = '\0';
	assert_int_equal(ac_store_token_get(f->s, long_serial, &got),
	    AC_ERR_TOO_LONG);
	assert_int_equal(ac_store_token_get(f->s, "", &got), AC_ERR_INVALID);
	fill_token(&t, "T2", "bob", 1);
	memset(t.owner, 'o', sizeof(t.owner));	/* no terminator */
	assert_int_equal(ac_store_token_insert(f->s, &t), AC_ERR_TOO_LONG);
	fill_token(&t, "T2", "bob", 1);
	t.sealed_len = AC_MAX_SEALED + 1;
	assert_int_equal(ac_store_token_insert(f->s, &t), AC_ERR_TOO_LONG);
	assert_int_equal(ac_store_token_get(f->s, "T2", &got),
	    AC_ERR_NOT_FOUND);
}

static void
test_token_list_count(void **state)
{
	struct fixture *f = *state;
	struct ac_token t, *v = NULL;
	struct ac_token_filter flt;
	size_t n = 99;
	int c = -1;

	/* An empty store lists nothing. */
	assert_int_equal(ac_store_token_list(f->s, NULL, &v, &n), 0);
	assert_null(v);
	assert_int_equal(n, 0);

	fill_token(&t, "B2", "bob", 300);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	fill_token(&t, "A2", "alice", 200);
	t.state = AC_STATE_PENDING;
	t.expires = 500;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	fill_token(&t, "A1", "alice", 100);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	fill_token(&t, "U1", "", 50);
	t.state = AC_STATE_PENDING;
	t.expires = 1500;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);

	/* Everything, ordered by owner then created. */
	assert_int_equal(ac_store_token_list(f->s, NULL, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].serial, "U1");
	assert_string_equal(v[1].serial, "A1");
	assert_string_equal(v[2].serial, "A2");
	assert_string_equal(v[3].serial, "B2");
	assert_string_equal(v[3].email, "bob@example.org");
	free(v);

	memset(&flt, 0, sizeof(flt));
	flt.owner = "alice";
	flt.state = -1;
	assert_int_equal(ac_store_token_list(f->s, &flt, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].serial, "A1");
	assert_string_equal(v[1].serial, "A2");
	free(v);
	assert_int_equal(ac_store_token_count(f->s, &flt, &c), 0);
	assert_int_equal(c, 2);

	flt.state = AC_STATE_PENDING;
	assert_int_equal(ac_store_token_count(f->s, &flt, &c), 0);
	assert_int_equal(c, 1);
	flt.owner = NULL;
	assert_int_equal(ac_store_token_count(f->s, &flt, &c), 0);
	assert_int_equal(c, 2);

	/* Pending tokens whose enrollment expired before 1000. */
	flt.state = -1;
	flt.expired_before = 1000;
	assert_int_equal(ac_store_token_list(f->s, &flt, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].serial, "A2");
	free(v);

	flt.expired_before = 0;
	flt.owner = "carol";
	assert_int_equal(ac_store_token_list(f->s, &flt, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(ac_store_token_count(f->s, NULL, &c), 0);
	assert_int_equal(c, 4);
}

/* The replay guard and the failure counter. */
static void
test_token_accept_fail(void **state)
{
	struct fixture *f = *state;
	struct ac_token t, got;
	int fails = -1;

	fill_token(&t, "H1", "alice", 1);
	t.type = AC_TOKEN_HOTP;
	t.counter = 10;		/* counters 0..9 used */
	t.fail_count = 0;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);

	/* Counter 9 again, or counter 10 as "new counter 10": replays. */
	assert_int_equal(ac_store_token_accept(f->s, "H1", 10, 0, 100),
	    AC_ERR_REPLAY);
	assert_int_equal(ac_store_token_accept(f->s, "H1", 3, 0, 100),
	    AC_ERR_REPLAY);
	/* Counter 12 accepted: next unused is 13. */
	assert_int_equal(ac_store_token_accept(f->s, "H1", 13, 2, 100), 0);
	assert_int_equal(ac_store_token_accept(f->s, "H1", 13, 2, 101),
	    AC_ERR_REPLAY);
	assert_int_equal(ac_store_token_get(f->s, "H1", &got), 0);
	assert_true(got.counter == 13);
	assert_true(got.drift == 2);
	assert_true(got.last_used == 100);
	assert_int_equal(ac_store_token_accept(f->s, "nope", 13, 0, 1),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_token_accept(f->s, "H1",
	    (uint64_t)INT64_MAX + 1, 0, 1), AC_ERR_INVALID);

	/* Failures count up and lock at max_fail = 3. */
	assert_int_equal(ac_store_token_fail(f->s, "H1", 3, 5000, &fails), 0);
	assert_int_equal(fails, 1);
	assert_int_equal(ac_store_token_fail(f->s, "H1", 3, 5000, &fails), 0);
	assert_int_equal(fails, 2);
	assert_int_equal(ac_store_token_get(f->s, "H1", &got), 0);
	assert_true(got.locked_until == 0);
	assert_int_equal(ac_store_token_fail(f->s, "H1", 3, 5000, NULL), 0);
	assert_int_equal(ac_store_token_get(f->s, "H1", &got), 0);
	assert_int_equal(got.fail_count, 3);
	assert_true(got.locked_until == 5000);
	assert_int_equal(ac_store_token_fail(f->s, "nope", 3, 5000, &fails),
	    AC_ERR_NOT_FOUND);

	/* An accepted code clears the count and the lock. */
	assert_int_equal(ac_store_token_accept(f->s, "H1", 14, 0, 200), 0);
	assert_int_equal(ac_store_token_get(f->s, "H1", &got), 0);
	assert_int_equal(got.fail_count, 0);
	assert_true(got.locked_until == 0);

	/* max_fail 0 never locks. */
	assert_int_equal(ac_store_token_fail(f->s, "H1", 0, 5000, &fails), 0);
	assert_int_equal(ac_store_token_get(f->s, "H1", &got), 0);
	assert_true(got.locked_until == 0);
}

/* ---- sessions, throttle, challenges ---------------------------------- */

static void
fill_session(struct ac_session *ss, uint8_t id, const char *user,
    int64_t created, int64_t last_seen)
{
	memset(ss, 0, sizeof(*ss));
	memset(ss->id_hash, id, sizeof(ss->id_hash));
	snprintf(ss->user, sizeof(ss->user), "%s", user);
	snprintf(ss->display_name, sizeof(ss->display_name), "Name of %s",
	    user);
	snprintf(ss->email, sizeof(ss->email), "%s@example.org", user);
	memset(ss->csrf, 'c', sizeof(ss->csrf) - 1);
	ss->level = 1;
	ss->roles = 6;
	ss->created = created;
	ss->last_seen = last_seen;
}

static void
test_sessions(void **state)
{
	struct fixture *f = *state;
	struct ac_session a, b, got;
	int n = -1;

	fill_session(&a, 0x11, "alice", 1000, 1000);
	fill_session(&b, 0x22, "bob", 100, 900);
	assert_int_equal(ac_store_session_put(f->s, &a), 0);
	assert_int_equal(ac_store_session_put(f->s, &b), 0);
	assert_int_equal(ac_store_session_get(f->s, a.id_hash, &got), 0);
	assert_memory_equal(got.id_hash, a.id_hash, AC_HASH_LEN);
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.display_name, "Name of alice");
	assert_string_equal(got.email, "alice@example.org");
	assert_string_equal(got.csrf, a.csrf);
	assert_int_equal(got.level, 1);
	assert_int_equal(got.roles, 6);
	assert_true(got.created == 1000 && got.last_seen == 1000);

	/* put replaces (a step-up changes the level). */
	a.level = 0;
	assert_int_equal(ac_store_session_put(f->s, &a), 0);
	assert_int_equal(ac_store_session_get(f->s, a.id_hash, &got), 0);
	assert_int_equal(got.level, 0);

	assert_int_equal(ac_store_session_touch(f->s, a.id_hash, 1500), 0);
	assert_int_equal(ac_store_session_get(f->s, a.id_hash, &got), 0);
	assert_true(got.last_seen == 1500);

	/* Sweep: b is idle since 900 (< 1000) and a was created at 1000
	 * (not < 500): only b goes. */
	assert_int_equal(ac_store_session_sweep(f->s, 1000, 500, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ac_store_session_get(f->s, b.id_hash, &got),
	    AC_ERR_NOT_FOUND);
	/* Absolute timeout: created before 1001. */
	assert_int_equal(ac_store_session_sweep(f->s, 0, 1001, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ac_store_session_get(f->s, a.id_hash, &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_session_touch(f->s, a.id_hash, 1),
	    AC_ERR_NOT_FOUND);

	assert_int_equal(ac_store_session_put(f->s, &a), 0);
	assert_int_equal(ac_store_session_delete(f->s, a.id_hash), 0);
	assert_int_equal(ac_store_session_delete(f->s, a.id_hash),
	    AC_ERR_NOT_FOUND);
}

static void
test_throttle(void **state)
{
	struct fixture *f = *state;
	char key[AC_MAX_THROTTLE_KEY + 2];
	int c = -1, i;

	assert_int_equal(ac_store_throttle_get(f->s, "user:alice", 1000, 60,
	    &c), 0);
	assert_int_equal(c, 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(ac_store_throttle_hit(f->s, "user:alice",
		    1000 + i, 60, &c), 0);
		assert_int_equal(c, i);
	}
	assert_int_equal(ac_store_throttle_hit(f->s, "ip:192.0.2.1", 1000, 60,
	    &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(ac_store_throttle_get(f->s, "user:alice", 1059, 60,
	    &c), 0);
	assert_int_equal(c, 3);
	/* The window began at 1001: at 1061 it is over. */
	assert_int_equal(ac_store_throttle_get(f->s, "user:alice", 1061, 60,
	    &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(ac_store_throttle_hit(f->s, "user:alice", 1061, 60,
	    &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(ac_store_throttle_hit(f->s, "user:alice", 1062, 60,
	    &c), 0);
	assert_int_equal(c, 2);

	assert_int_equal(ac_store_throttle_clear(f->s, "user:alice"), 0);
	assert_int_equal(ac_store_throttle_get(f->s, "user:alice", 1062, 60,
	    &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(ac_store_throttle_get(f->s, "ip:192.0.2.1", 1001, 60,
	    &c), 0);
	assert_int_equal(c, 1);

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(ac_store_throttle_hit(f->s, key, 1, 60, &c),
	    AC_ERR_TOO_LONG);
	assert_int_equal(ac_store_throttle_hit(f->s, "k", 1, 0, &c),
	    AC_ERR_INVALID);
}

static void
test_challenges(void **state)
{
	struct fixture *f = *state;
	struct ac_challenge c, got;
	struct ac_token t;
	int n = -1;

	fill_token(&t, "E1", "alice", 1);
	t.type = AC_TOKEN_EMAIL;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);

	memset(&c, 0, sizeof(c));
	memset(c.txid, 'a', 64);
	snprintf(c.serial, sizeof(c.serial), "E1");
	c.counter = 41;
	c.created = 1000;
	c.expires = 1300;
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);
	assert_int_equal(ac_store_challenge_put(f->s, &c), AC_ERR_EXISTS);
	assert_int_equal(ac_store_challenge_get(f->s, c.txid, &got), 0);
	assert_string_equal(got.txid, c.txid);
	assert_string_equal(got.serial, "E1");
	assert_true(got.counter == 41 && got.created == 1000 &&
	    got.expires == 1300 && got.used == 0);

	/* Once, and only before it expires. */
	assert_int_equal(ac_store_challenge_consume(f->s, c.txid, 1200), 0);
	assert_int_equal(ac_store_challenge_consume(f->s, c.txid, 1201),
	    AC_ERR_REPLAY);
	assert_int_equal(ac_store_challenge_get(f->s, c.txid, &got), 0);
	assert_int_equal(got.used, 1);
	memset(c.txid, 'b', 64);
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);
	assert_int_equal(ac_store_challenge_consume(f->s, c.txid, 1300),
	    AC_ERR_REPLAY);
	assert_int_equal(ac_store_challenge_consume(f->s, "unknown", 1),
	    AC_ERR_NOT_FOUND);

	/* A challenge for a token that does not exist is refused. */
	memset(c.txid, 'c', 64);
	snprintf(c.serial, sizeof(c.serial), "GHOST");
	assert_int_equal(ac_store_challenge_put(f->s, &c), AC_ERR_NOT_FOUND);

	/* Sweep removes the expired ones but each token's newest (the next
	 * challenge's counter comes from it); deleting the token removes its
	 * challenges too. */
	memset(c.txid, 'd', 64);
	snprintf(c.serial, sizeof(c.serial), "E1");
	c.expires = 5000;
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);
	assert_int_equal(ac_store_challenge_sweep(f->s, 1300, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ac_store_challenge_get(f->s, c.txid, &got), 0);
	assert_int_equal(ac_store_challenge_sweep(f->s, 5000, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ac_store_challenge_get(f->s, c.txid, &got), 0);
	assert_int_equal(ac_store_token_delete(f->s, "E1"), 0);
	assert_int_equal(ac_store_challenge_get(f->s, c.txid, &got),
	    AC_ERR_NOT_FOUND);
}

/* The last challenge of a token is the one with the highest counter, in
 * any state; other tokens' challenges do not count. */
static void
test_challenge_last(void **state)
{
	struct fixture *f = *state;
	struct ac_challenge c, got;
	struct ac_token t;

	fill_token(&t, "E1", "alice", 1);
	t.type = AC_TOKEN_EMAIL;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	fill_token(&t, "E2", "bob", 2);
	t.type = AC_TOKEN_EMAIL;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_challenge_last(f->s, "E1", &got),
	    AC_ERR_NOT_FOUND);

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "E1");
	memset(c.txid, 'a', 64);
	c.counter = 7;
	c.created = 2000;	/* newer, but a lower counter */
	c.expires = 2300;
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);
	memset(c.txid, 'b', 64);
	c.counter = 8;
	c.created = 1000;
	c.expires = 1300;
	c.used = 1;
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);
	memset(c.txid, 'c', 64);
	snprintf(c.serial, sizeof(c.serial), "E2");
	c.counter = 99;
	assert_int_equal(ac_store_challenge_put(f->s, &c), 0);

	assert_int_equal(ac_store_challenge_last(f->s, "E1", &got), 0);
	assert_true(got.txid[0] == 'b' && got.counter == 8 && got.used == 1 &&
	    got.expires == 1300);
	assert_string_equal(got.serial, "E1");
	assert_int_equal(ac_store_challenge_last(f->s, "E2", &got), 0);
	assert_true(got.counter == 99);
	assert_int_equal(ac_store_challenge_last(f->s, "NONE", &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_challenge_last(f->s, "", &got),
	    AC_ERR_INVALID);
}

/* ---- events ---------------------------------------------------------- */

static void
fill_event(struct ac_event_row *e, int64_t time, const char *serial,
    const char *user)
{
	memset(e, 0, sizeof(*e));
	e->time = time;
	snprintf(e->actor, sizeof(e->actor), "tokenctl:root");
	snprintf(e->action, sizeof(e->action), "check");
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->resource, sizeof(e->resource), "vpn");
	snprintf(e->source, sizeof(e->source), "192.0.2.7");
	snprintf(e->result, sizeof(e->result), "accept");
	snprintf(e->reason, sizeof(e->reason), "code %d", (int)time);
	memset(e->prev, (int)time, sizeof(e->prev));
	memset(e->mac, (int)time + 1, sizeof(e->mac));
}

struct collect {
	int64_t	ids[16];
	int	n;
	int	stop_after;
};

static int
collect_cb(const struct ac_event_row *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		c->ids[c->n] = e->id;
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after ? 77 : 0;
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	struct ac_event_row e, last;
	struct ac_event_filter flt;
	struct collect c;
	int i;

	assert_int_equal(ac_store_event_last(f->s, &last), AC_ERR_NOT_FOUND);
	for (i = 1; i <= 6; i++) {
		fill_event(&e, i, i % 2 ? "S1" : "S2", i <= 3 ? "alice" :
		    "bob");
		assert_int_equal(ac_store_event_insert(f->s, &e), 0);
		assert_true(e.id == i);
	}
	assert_int_equal(ac_store_event_last(f->s, &last), 0);
	fill_event(&e, 6, "S2", "bob");
	assert_true(last.id == 6 && last.time == 6);
	assert_string_equal(last.actor, e.actor);
	assert_string_equal(last.action, e.action);
	assert_string_equal(last.serial, "S2");
	assert_string_equal(last.user, "bob");
	assert_string_equal(last.resource, e.resource);
	assert_string_equal(last.source, e.source);
	assert_string_equal(last.result, e.result);
	assert_string_equal(last.reason, "code 6");
	assert_memory_equal(last.prev, e.prev, AC_HASH_LEN);
	assert_memory_equal(last.mac, e.mac, AC_HASH_LEN);

	/* An explicit id (the chain MAC covers it); a taken one is refused. */
	fill_event(&e, 7, "S1", "carol");
	e.id = 7;
	assert_int_equal(ac_store_event_insert(f->s, &e), 0);
	assert_true(e.id == 7);
	e.id = 7;
	assert_int_equal(ac_store_event_insert(f->s, &e), AC_ERR_EXISTS);

	memset(&c, 0, sizeof(c));
	assert_int_equal(ac_store_event_each(f->s, NULL, collect_cb, &c), 0);
	assert_int_equal(c.n, 7);
	assert_true(c.ids[0] == 1 && c.ids[6] == 7);

	memset(&flt, 0, sizeof(flt));
	flt.serial = "S1";
	memset(&c, 0, sizeof(c));
	assert_int_equal(ac_store_event_each(f->s, &flt, collect_cb, &c), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.ids[0] == 1 && c.ids[1] == 3 && c.ids[2] == 5 &&
	    c.ids[3] == 7);

	flt.user = "alice";
	flt.newest_first = 1;
	memset(&c, 0, sizeof(c));
	assert_int_equal(ac_store_event_each(f->s, &flt, collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.ids[0] == 3 && c.ids[1] == 1);

	memset(&flt, 0, sizeof(flt));
	flt.user = "bob";
	flt.newest_first = 1;
	flt.limit = 2;
	memset(&c, 0, sizeof(c));
	assert_int_equal(ac_store_event_each(f->s, &flt, collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.ids[0] == 6 && c.ids[1] == 5);

	memset(&flt, 0, sizeof(flt));
	flt.after_id = 4;
	memset(&c, 0, sizeof(c));
	assert_int_equal(ac_store_event_each(f->s, &flt, collect_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_true(c.ids[0] == 5);

	/* The callback's non-zero value stops the walk and is returned. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(ac_store_event_each(f->s, NULL, collect_cb, &c), 77);
	assert_int_equal(c.n, 2);
}

/* ---- transactions ---------------------------------------------------- */

static void
test_transactions(void **state)
{
	struct fixture *f = *state;
	struct ac_token t, got;
	ac_store *other = NULL;
	char err[256];

	assert_int_equal(ac_store_commit(f->s), AC_ERR_INVALID);
	assert_int_equal(ac_store_rollback(f->s), AC_ERR_INVALID);
	assert_int_equal(ac_store_open_sqlite(f->path, 0, 0, &other, err,
	    sizeof(err)), 0);

	/* Rolled back: gone. */
	fill_token(&t, "R1", "alice", 1);
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_token_get(f->s, "R1", &got), 0);
	assert_int_equal(ac_store_rollback(f->s), 0);
	assert_int_equal(ac_store_token_get(f->s, "R1", &got),
	    AC_ERR_NOT_FOUND);

	/* Committed: there, and invisible to others until then.  The
	 * other connection cannot write meanwhile (busy timeout 0). */
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_token_get(other, "R1", &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_begin(other), AC_ERR_BUSY);
	assert_int_equal(ac_store_throttle_hit(other, "k", 1, 60, NULL),
	    AC_ERR_BUSY);
	assert_int_equal(ac_store_commit(f->s), 0);
	assert_int_equal(ac_store_token_get(other, "R1", &got), 0);

	/* Nested: only the outermost commit counts. */
	fill_token(&t, "R2", "alice", 2);
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_commit(f->s), 0);
	assert_int_equal(ac_store_token_get(other, "R2", &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_commit(f->s), 0);
	assert_int_equal(ac_store_token_get(other, "R2", &got), 0);

	/* An inner rollback dooms the whole transaction. */
	fill_token(&t, "R3", "alice", 3);
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	assert_int_equal(ac_store_begin(f->s), 0);
	assert_int_equal(ac_store_token_delete(f->s, "R1"), 0);
	assert_int_equal(ac_store_rollback(f->s), 0);
	assert_int_equal(ac_store_commit(f->s), AC_ERR_STORE);
	assert_int_equal(ac_store_token_get(f->s, "R3", &got),
	    AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_token_get(f->s, "R1", &got), 0);

	/* Closing with an open transaction rolls it back. */
	fill_token(&t, "R4", "alice", 4);
	assert_int_equal(ac_store_begin(other), 0);
	assert_int_equal(ac_store_token_insert(other, &t), 0);
	ac_store_close(other);
	assert_int_equal(ac_store_token_get(f->s, "R4", &got),
	    AC_ERR_NOT_FOUND);
	ac_store_close(NULL);
}

/* ---- races between processes ----------------------------------------- */

#define RACE_PROCS	8
#define RACE_ROUNDS	150
#define RACE_TXNS	300

/*
 * How long the children wait for the write lock.  A round takes a few
 * milliseconds, so the default 5 s is far more than enough on a machine
 * of our own; 30 s keeps the test from failing when other jobs load the
 * CPU.  A timeout is not what this test hunts: the spurious errors of a
 * deferred transaction (SQLITE_BUSY_SNAPSHOT) come at once, whatever the
 * timeout (STACK.md).
 */
#define RACE_BUSY_MS	30000

/* Shared by the forked processes (MAP_SHARED anonymous memory). */
struct race {
	pthread_barrier_t barrier;	/* process-shared */
	int	errors;
	int	winners[RACE_ROUNDS];
	char	first_error[256];
};

static void
race_error(struct race *rc, const char *what, int r, ac_store *s)
{
	if (__atomic_fetch_add(&rc->errors, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(rc->first_error, sizeof(rc->first_error),
		    "%s: %s (%s)", what, ac_strerror(r),
		    s != NULL ? ac_store_last_error(s) : "");
}

/* Every process waits until all have reached the same round, so that
 * they hit the same row at the same moment. */
static void
race_barrier(struct race *rc)
{
	pthread_barrier_wait(&rc->barrier);
}

/* Each child opens its own connection after fork().  One that cannot
 * still takes part in every round, so the others are not left waiting. */
static ac_store *
race_open(const char *path, struct race *rc, int rounds)
{
	ac_store *s = NULL;
	char err[256];
	int r;

	r = ac_store_open_sqlite(path, 0, RACE_BUSY_MS, &s, err, sizeof(err));
	if (r == 0)
		return s;
	race_error(rc, err, r, NULL);
	while (rounds-- > 0)
		race_barrier(rc);
	_exit(1);
}

/* One validator process. */
static void
race_accept_child(const char *path, struct race *rc)
{
	ac_store *s = race_open(path, rc, RACE_ROUNDS);
	int k, r;

	for (k = 0; k < RACE_ROUNDS; k++) {
		race_barrier(rc);
		/* Everyone submits the code for counter k. */
		r = ac_store_token_accept(s, "RACE", (uint64_t)k + 1, 0, k);
		if (r == 0)
			__atomic_add_fetch(&rc->winners[k], 1,
			    __ATOMIC_SEQ_CST);
		else if (r != AC_ERR_REPLAY)
			race_error(rc, "accept", r, s);
	}
	ac_store_close(s);
	_exit(0);
}

/* One worker doing read-then-write transactions on the same row. */
static void
race_txn_child(const char *path, struct race *rc)
{
	ac_store *s = race_open(path, rc, RACE_TXNS);
	struct ac_token t;
	int i, r;

	for (i = 0; i < RACE_TXNS; i++) {
		/*
		 * All start each round together.  Without this a process
		 * that loops begin/commit re-takes the lock it just released
		 * before a sleeping waiter wakes, the processes end up
		 * running one after the other, and the test measures a
		 * convoy instead of a race.
		 */
		race_barrier(rc);
		if ((r = ac_store_begin(s)) != 0) {
			race_error(rc, "begin", r, s);
			continue;
		}
		if ((r = ac_store_token_get(s, "RACE", &t)) == 0) {
			t.counter++;
			r = ac_store_token_update(s, &t);
		}
		if (r != 0) {
			race_error(rc, "read/write", r, s);
			ac_store_rollback(s);
		} else if ((r = ac_store_commit(s)) != 0) {
			race_error(rc, "commit", r, s);
		}
	}
	ac_store_close(s);
	_exit(0);
}

/* Forks RACE_PROCS children running child(path, rc); waits for all. */
static void
race_run(struct fixture *f, void (*child)(const char *, struct race *),
    struct race *rc)
{
	pid_t pids[RACE_PROCS];
	int i, status;

	/* Never carry a connection across fork(): close ours first. */
	ac_store_close(f->s);
	f->s = NULL;
	for (i = 0; i < RACE_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child(f->path, rc);
	}
	for (i = 0; i < RACE_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	if (rc->errors != 0)
		fprintf(stderr, "# first error: %s\n", rc->first_error);
	assert_int_equal(rc->errors, 0);
}

static struct race *
race_new(void **state)
{
	struct fixture *f = *state;
	pthread_barrierattr_t attr;
	struct race *rc;
	struct ac_token t;

	fill_token(&t, "RACE", "alice", 1);
	t.counter = 0;
	assert_int_equal(ac_store_token_insert(f->s, &t), 0);
	rc = mmap(NULL, sizeof(*rc), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(rc != MAP_FAILED);
	memset(rc, 0, sizeof(*rc));
	assert_int_equal(pthread_barrierattr_init(&attr), 0);
	assert_int_equal(pthread_barrierattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED), 0);
	assert_int_equal(pthread_barrier_init(&rc->barrier, &attr,
	    RACE_PROCS), 0);
	pthread_barrierattr_destroy(&attr);
	return rc;
}

/* 8 validators submit the same code at once, round after round: exactly
 * one accepts each code, and nobody sees an error. */
static void
test_race_accept(void **state)
{
	struct fixture *f = *state;
	struct race *rc = race_new(state);
	struct ac_token t;
	char err[256];
	int k;

	race_run(f, race_accept_child, rc);
	for (k = 0; k < RACE_ROUNDS; k++)
		assert_int_equal(rc->winners[k], 1);
	pthread_barrier_destroy(&rc->barrier);
	munmap(rc, sizeof(*rc));
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_token_get(f->s, "RACE", &t), 0);
	assert_true(t.counter == RACE_ROUNDS);
}

/* 8 processes x 300 read-then-write transactions: no error (BEGIN
 * IMMEDIATE waits instead of failing) and no lost update. */
static void
test_race_transactions(void **state)
{
	struct fixture *f = *state;
	struct race *rc = race_new(state);
	struct ac_token t;
	char err[256];

	race_run(f, race_txn_child, rc);
	pthread_barrier_destroy(&rc->barrier);
	munmap(rc, sizeof(*rc));
	assert_int_equal(ac_store_open_sqlite(f->path, 0, -1, &f->s, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_store_token_get(f->s, "RACE", &t), 0);
	assert_true(t.counter == RACE_PROCS * RACE_TXNS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_not_ours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_upgrade, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_config, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_crud, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_list_count,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_token_accept_fail,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_throttle, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_challenges, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_challenge_last,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_race_accept, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_race_transactions,
		    setup_open, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
