/*
 * store_sqlite.c - the SQLite backend of the token store (DESIGN.md 4,
 * STACK.md "SQLite").  The only file that includes sqlite3.h.
 *
 * One file shared by every process on the host.  Every connection sets
 * WAL, synchronous=FULL (an accepted code stays used after a power cut),
 * a busy timeout and foreign keys.  Hot statements are prepared once per
 * connection, lazily, with SQLITE_PREPARE_PERSISTENT.  Transactions start
 * with BEGIN IMMEDIATE: a deferred transaction that reads and then writes
 * fails at once with SQLITE_BUSY_SNAPSHOT when another process committed
 * in between, without waiting for the busy timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ac_error.h"
#include "store.h"
#include "store_impl.h"

/* PRAGMA application_id marks the file as ours: "TKPT". */
#define SQ_APPLICATION_ID	0x544b5054

/* Columns of a token row, in the order bind_token and read_token use. */
#define TOKEN_COLS "serial, type, state, owner, algo, digits, period, " \
	"counter, drift, fail_count, locked_until, bypass_until, key_id, " \
	"sealed, has_pin, pin_salt, pin_hash, description, email, created, " \
	"activated, last_used, expires"
#define SESSION_COLS "id_hash, user, display_name, email, csrf, level, " \
	"roles, created, last_seen"
#define CHALLENGE_COLS "txid, serial, counter, created, expires, used"
#define EVENT_COLS "id, time, actor, action, serial, user, resource, " \
	"source, result, reason, prev, mac"

/*
 * Migration n brings the schema from version n to n + 1; it runs inside
 * the upgrade transaction (SQLite DDL is transactional).  Never edit a
 * released entry: append a new one and raise AC_STORE_SCHEMA_LATEST.
 */
static const char *const sq_migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE schema_version ("
	"  version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  serial TEXT PRIMARY KEY NOT NULL,"
	"  type INTEGER NOT NULL, state INTEGER NOT NULL,"
	"  owner TEXT NOT NULL DEFAULT '', algo INTEGER NOT NULL,"
	"  digits INTEGER NOT NULL, period INTEGER NOT NULL,"
	"  counter INTEGER NOT NULL DEFAULT 0,"
	"  drift INTEGER NOT NULL DEFAULT 0,"
	"  fail_count INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  bypass_until INTEGER NOT NULL DEFAULT 0,"
	"  key_id TEXT NOT NULL DEFAULT '', sealed BLOB,"
	"  has_pin INTEGER NOT NULL DEFAULT 0, pin_salt BLOB, pin_hash BLOB,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  email TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL DEFAULT 0,"
	"  activated INTEGER NOT NULL DEFAULT 0,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  expires INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_owner ON tokens(owner, created);"
	"CREATE TABLE sessions ("
	"  id_hash BLOB PRIMARY KEY NOT NULL, user TEXT NOT NULL,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  email TEXT NOT NULL DEFAULT '', csrf TEXT NOT NULL,"
	"  level INTEGER NOT NULL DEFAULT 0, roles INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
	"CREATE TABLE throttle ("
	"  key TEXT PRIMARY KEY NOT NULL, window_start INTEGER NOT NULL,"
	"  count INTEGER NOT NULL);"
	"CREATE TABLE challenges ("
	"  txid TEXT PRIMARY KEY NOT NULL,"
	"  serial TEXT NOT NULL REFERENCES tokens(serial) ON DELETE CASCADE,"
	"  counter INTEGER NOT NULL, created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX challenges_serial ON challenges(serial);"
	/* AUTOINCREMENT: an id is never reused, even after the last row is
	 * deleted, so a deleted tail cannot be replaced unnoticed. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL, action TEXT NOT NULL, serial TEXT NOT NULL,"
	"  user TEXT NOT NULL, resource TEXT NOT NULL, source TEXT NOT NULL,"
	"  result TEXT NOT NULL, reason TEXT NOT NULL,"
	"  prev BLOB NOT NULL, mac BLOB NOT NULL);"
	"CREATE INDEX events_serial ON events(serial);"
	"CREATE INDEX events_user ON events(user);",
};

_Static_assert(sizeof(sq_migrations) / sizeof(sq_migrations[0]) ==
    AC_STORE_SCHEMA_LATEST, "one migration per schema version");

/* Statements prepared once per connection, on first use. */
enum sq_stmt {
	SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK,
	SQ_TOKEN_GET, SQ_TOKEN_INSERT, SQ_TOKEN_UPDATE, SQ_TOKEN_DELETE,
	SQ_TOKEN_EXISTS, SQ_TOKEN_ACCEPT, SQ_TOKEN_FAIL,
	SQ_SESSION_PUT, SQ_SESSION_GET, SQ_SESSION_TOUCH, SQ_SESSION_DELETE,
	SQ_SESSION_SWEEP,
	SQ_THROTTLE_HIT, SQ_THROTTLE_GET, SQ_THROTTLE_CLEAR,
	SQ_CHALLENGE_PUT, SQ_CHALLENGE_GET, SQ_CHALLENGE_CONSUME,
	SQ_CHALLENGE_SWEEP, SQ_CHALLENGE_LAST,
	SQ_EVENT_LAST, SQ_EVENT_INSERT,
	SQ_NSTMT
};

static const char *const sq_sql[SQ_NSTMT] = {
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE serial=?1",
	[SQ_TOKEN_INSERT] = "INSERT INTO tokens(" TOKEN_COLS ") VALUES(?1,"
	    "?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
	    "?19,?20,?21,?22,?23)",
	[SQ_TOKEN_UPDATE] = "UPDATE tokens SET type=?2, state=?3, owner=?4,"
	    " algo=?5, digits=?6, period=?7, counter=?8, drift=?9,"
	    " fail_count=?10, locked_until=?11, bypass_until=?12, key_id=?13,"
	    " sealed=?14, has_pin=?15, pin_salt=?16, pin_hash=?17,"
	    " description=?18, email=?19, created=?20, activated=?21,"
	    " last_used=?22, expires=?23 WHERE serial=?1",
	[SQ_TOKEN_DELETE] = "DELETE FROM tokens WHERE serial=?1",
	[SQ_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE serial=?1",
	/* The replay guard (DESIGN.md 4): one compare-and-set statement. */
	[SQ_TOKEN_ACCEPT] = "UPDATE tokens SET counter=?2, drift=?3,"
	    " last_used=?4, fail_count=0, locked_until=0"
	    " WHERE serial=?1 AND counter<?2",
	[SQ_TOKEN_FAIL] = "UPDATE tokens SET fail_count=fail_count+1,"
	    " locked_until=CASE WHEN ?2>0 AND fail_count+1>=?2 THEN ?3"
	    " ELSE locked_until END WHERE serial=?1 RETURNING fail_count",
	[SQ_SESSION_PUT] = "INSERT OR REPLACE INTO sessions(" SESSION_COLS
	    ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[SQ_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions"
	    " WHERE id_hash=?1",
	[SQ_SESSION_TOUCH] = "UPDATE sessions SET last_seen=?2"
	    " WHERE id_hash=?1",
	[SQ_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash=?1",
	[SQ_SESSION_SWEEP] = "DELETE FROM sessions WHERE last_seen<?1"
	    " OR created<?2",
	/* A fixed window: a hit in a window that has ended starts a new
	 * one at 1.  Every expression reads the row as it was. */
	[SQ_THROTTLE_HIT] = "INSERT INTO throttle(key, window_start, count)"
	    " VALUES(?1, ?2, 1) ON CONFLICT(key) DO UPDATE SET"
	    " count=CASE WHEN ?2-window_start>=?3 THEN 1 ELSE count+1 END,"
	    " window_start=CASE WHEN ?2-window_start>=?3 THEN ?2"
	    " ELSE window_start END RETURNING count",
	[SQ_THROTTLE_GET] = "SELECT window_start, count FROM throttle"
	    " WHERE key=?1",
	[SQ_THROTTLE_CLEAR] = "DELETE FROM throttle WHERE key=?1",
	[SQ_CHALLENGE_PUT] = "INSERT INTO challenges(" CHALLENGE_COLS
	    ") VALUES(?1,?2,?3,?4,?5,?6)",
	[SQ_CHALLENGE_GET] = "SELECT " CHALLENGE_COLS " FROM challenges"
	    " WHERE txid=?1",
	[SQ_CHALLENGE_CONSUME] = "UPDATE challenges SET used=1"
	    " WHERE txid=?1 AND used=0 AND expires>?2",
	/* Each token's newest challenge stays: the next one's counter is
	 * derived from it (check.c), and without it an expired, unused code
	 * would be mailed, and valid, again. */
	[SQ_CHALLENGE_SWEEP] = "DELETE FROM challenges WHERE expires<=?1"
	    " AND txid<>(SELECT n.txid FROM challenges n"
	    " WHERE n.serial=challenges.serial"
	    " ORDER BY n.counter DESC, n.created DESC, n.txid DESC LIMIT 1)",
	[SQ_CHALLENGE_LAST] = "SELECT " CHALLENGE_COLS " FROM challenges"
	    " WHERE serial=?1 ORDER BY counter DESC, created DESC, txid DESC"
	    " LIMIT 1",
	[SQ_EVENT_LAST] = "SELECT " EVENT_COLS " FROM events"
	    " ORDER BY id DESC LIMIT 1",
	[SQ_EVENT_INSERT] = "INSERT INTO events(" EVENT_COLS ")"
	    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
};

struct sq {
	sqlite3		*db;
	sqlite3_stmt	*st[SQ_NSTMT];
	int		 busy_ms;	/* give up waiting for a lock after */
	struct timespec	 busy_start;	/* when the current wait began */
	uint32_t	 rng;		/* jitter for the busy handler */
};

static const struct ac_store_ops sq_ops;

static sqlite3 *
sq_db(ac_store *s)
{
	return ((struct sq *)s->be)->db;
}

/* Maps an SQLite result code to ours and records a sentence. */
static int
sq_error(ac_store *s, int rc, const char *what)
{
	int ext = sqlite3_extended_errcode(sq_db(s));
	int r;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		r = AC_ERR_BUSY;
		break;
	case SQLITE_CONSTRAINT:
		if (ext == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    ext == SQLITE_CONSTRAINT_UNIQUE)
			r = AC_ERR_EXISTS;
		else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			r = AC_ERR_NOT_FOUND;
		else
			r = AC_ERR_INVALID;
		break;
	case SQLITE_NOMEM:
		r = AC_ERR_NOMEM;
		break;
	case SQLITE_NOTADB:
		r = AC_ERR_NOT_OURS;
		break;
	default:
		r = AC_ERR_STORE;
		break;
	}
	return ac_store_fail(s, r, "%s: %s (SQLite code %d)", what,
	    sqlite3_errmsg(sq_db(s)), ext);
}

/* The cached statement id, prepared on first use. */
static int
sq_stmt(ac_store *s, enum sq_stmt id, sqlite3_stmt **out)
{
	struct sq *q = s->be;
	int rc;

	if (q->st[id] == NULL) {
		rc = sqlite3_prepare_v3(q->db, sq_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &q->st[id], NULL);
		if (rc != SQLITE_OK) {
			q->st[id] = NULL;
			return sq_error(s, rc, "preparing a statement");
		}
	}
	*out = q->st[id];
	return 0;
}

/* Makes a cached statement ready for the next use; bindings that point
 * into the caller's memory are dropped. */
static void
sq_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no row to the end, then resets it. */
static int
sq_exec_stmt(ac_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sq_error(s, rc, what);
	sq_done(st);
	return r;
}

/* Runs SQL text that returns nothing (pragmas, migrations). */
static int
sq_exec(ac_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(sq_db(s), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_error(s, rc, what);
}

/* Runs a one-value integer query such as a pragma. */
static int
sq_query_int(ac_store *s, const char *sql, int64_t *out, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(sq_db(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_error(s, rc, what);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = ac_store_fail(s, AC_ERR_STORE, "%s: no result", what);
	} else {
		r = sq_error(s, rc, what);
	}
	sqlite3_finalize(st);
	return r;
}

/* Binds text, or a blob of n bytes, without copying (sq_done drops it). */
static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int
bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n)
{
	if (n == 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_blob(st, i, v, (int)n, SQLITE_STATIC);
}

/* Copies a text column into dst[size]; AC_ERR_TOO_LONG if it won't fit. */
static int
col_text(ac_store *s, sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (v == NULL)
		n = 0;
	if (n >= size)
		return ac_store_fail(s, AC_ERR_TOO_LONG, "column %s is longer "
		    "than %zu bytes", sqlite3_column_name(st, i), size - 1);
	if (n > 0)
		memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* Copies a blob column into dst[size]; *len gets its length (NULL: must
 * be exactly size bytes, or empty). */
static int
col_blob(ac_store *s, sqlite3_stmt *st, int i, uint8_t *dst, size_t size,
    size_t *len)
{
	const void *v = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	memset(dst, 0, size);
	if (v == NULL)
		n = 0;
	if (n > size || (len == NULL && n != 0 && n != size))
		return ac_store_fail(s, AC_ERR_TOO_LONG, "column %s holds %zu "
		    "bytes, expected %zu", sqlite3_column_name(st, i), n, size);
	if (n > 0)
		memcpy(dst, v, n);
	if (len != NULL)
		*len = n;
	return 0;
}

/* ---- opening, schema, transactions ---------------------------------- */

static void
sq_close(ac_store *s)
{
	struct sq *q = s->be;
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < SQ_NSTMT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close_v2(q->db);
	free(q);
	s->be = NULL;
}

static int
sq_schema_version(ac_store *s, int *version)
{
	int64_t n = 0, v = 0;
	int r;

	r = sq_query_int(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "type='table' AND name='schema_version'", &n,
	    "reading the schema version");
	if (r == 0 && n > 0)
		r = sq_query_int(s, "SELECT coalesce(max(version), 0) FROM "
		    "schema_version", &v, "reading the schema version");
	if (r == 0)
		*version = (int)v;
	return r;
}

/* Applies migrations from *from up to the latest; inside a transaction. */
static int
sq_migrate(ac_store *s, int from)
{
	char sql[96];
	int v, r;

	for (v = from; v < AC_STORE_SCHEMA_LATEST; v++) {
		if ((r = sq_exec(s, sq_migrations[v], "migrating the "
		    "schema")) != 0)
			return r;
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version "
		    "VALUES(%d, strftime('%%s', 'now'))", v + 1);
		if ((r = sq_exec(s, sql, "recording the schema version")) != 0)
			return r;
	}
	return 0;
}

static int
sq_upgrade(ac_store *s, int *from, int *to)
{
	int v = 0, r;

	if ((r = sq_exec(s, "BEGIN IMMEDIATE", "starting the upgrade")) != 0)
		return r;
	if ((r = sq_schema_version(s, &v)) != 0)
		goto out;
	*from = *to = v;
	if (v > AC_STORE_SCHEMA_LATEST) {
		r = ac_store_fail(s, AC_ERR_SCHEMA, "store schema version %d "
		    "is newer than this program's %d: upgrade tokenportal", v,
		    AC_STORE_SCHEMA_LATEST);
		goto out;
	}
	if ((r = sq_migrate(s, v)) != 0)
		goto out;
	r = sq_exec(s, "COMMIT", "committing the upgrade");
	if (r == 0)
		*to = AC_STORE_SCHEMA_LATEST;
out:
	if (r != 0 && !sqlite3_get_autocommit(sq_db(s)))
		(void)sqlite3_exec(sq_db(s), "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Runs one of the prepared transaction statements. */
static int
sq_txn(ac_store *s, enum sq_stmt which, const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, which, &st)) != 0)
		return r;
	return sq_exec_stmt(s, st, what);
}

static int
sq_begin(ac_store *s)
{
	return sq_txn(s, SQ_BEGIN, "starting a transaction");
}

static int
sq_commit(ac_store *s)
{
	return sq_txn(s, SQ_COMMIT, "committing");
}

static int
sq_rollback(ac_store *s)
{
	/* SQLite may already have rolled back after an I/O error. */
	if (sqlite3_get_autocommit(sq_db(s)))
		return 0;
	return sq_txn(s, SQ_ROLLBACK, "rolling back");
}

/*
 * Per-connection settings (STACK.md): the busy timeout first so that the
 * rest waits for a lock instead of failing, then WAL (stored in the file;
 * a no-op when already set), FULL sync and foreign keys.
 */
static int
sq_configure(ac_store *s, const char *path)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, r;

	rc = sqlite3_prepare_v2(sq_db(s), "PRAGMA journal_mode=WAL", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return sq_error(s, rc, "setting WAL mode");
	rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW)
		r = sq_error(s, rc, "setting WAL mode");
	else if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
		r = ac_store_fail(s, AC_ERR_STORE, "%s: cannot use WAL mode "
		    "(got %s)", path, mode != NULL ? (const char *)mode : "?");
	else
		r = 0;
	sqlite3_finalize(st);
	if (r == 0)
		r = sq_exec(s, "PRAGMA synchronous=FULL; "
		    "PRAGMA foreign_keys=ON", "setting pragmas");
	return r;
}

/* Refuses a file that is not a tokenportal store, before writing to it. */
static int
sq_check_ours(ac_store *s, const char *path)
{
	int64_t id = 0;
	int r;

	r = sq_query_int(s, "PRAGMA application_id", &id,
	    "reading the application id");
	if (r == AC_ERR_NOT_OURS)
		return ac_store_fail(s, AC_ERR_NOT_OURS, "%s is not a "
		    "tokenportal store (not an SQLite database: %s)", path,
		    sqlite3_errmsg(sq_db(s)));
	if (r != 0)
		return r;
	if (id != SQ_APPLICATION_ID)
		return ac_store_fail(s, AC_ERR_NOT_OURS, "%s is not a "
		    "tokenportal store (SQLite application_id %lld, expected "
		    "%d)", path, (long long)id, SQ_APPLICATION_ID);
	return 0;
}

/* Compares the file's schema with ours (store.h ac_store_open). */
static int
sq_check_schema(ac_store *s, const char *path, int allow_old)
{
	int v = 0, r;

	if ((r = sq_schema_version(s, &v)) != 0)
		return r;
	if (v > AC_STORE_SCHEMA_LATEST)
		return ac_store_fail(s, AC_ERR_SCHEMA, "%s has schema version "
		    "%d, newer than this program's %d: install a newer "
		    "tokenportal", path, v, AC_STORE_SCHEMA_LATEST);
	if (v < AC_STORE_SCHEMA_LATEST && !allow_old)
		return ac_store_fail(s, AC_ERR_SCHEMA, "%s has schema version "
		    "%d, older than this program's %d: run `tokenctl upgrade`",
		    path, v, AC_STORE_SCHEMA_LATEST);
	return 0;
}

/*
 * Makes the file for a new store: created here with mode 0600 (it holds
 * sealed secrets and session hashes), or an existing empty file.  *made
 * says whether we created it, so a failed create can remove it.
 */
static int
sq_make_file(const char *path, int *made, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	*made = 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd >= 0) {
		*made = 1;
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create store %s: %s", path,
		    strerror(errno));
		return AC_ERR_IO;
	}
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > 0) {
		snprintf(err, errlen, "store %s already exists: refusing to "
		    "overwrite it", path);
		return AC_ERR_EXISTS;
	}
	if (chmod(path, 0600) != 0) {
		snprintf(err, errlen, "cannot chmod %s: %s", path,
		    strerror(errno));
		return AC_ERR_IO;
	}
	return 0;
}

/* Removes a store file this process created, with its WAL companions. */
static void
sq_unlink_all(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char name[4096];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", path,
		    suffix[i]) < sizeof(name))
			(void)unlink(name);
	}
}

/* Checks that an existing store file is there before SQLite sees it
 * (SQLite would create a missing file, or fail with a vaguer message). */
static int
sq_check_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "store %s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (create it with `tokenctl init`)" : "");
		return errno == ENOENT ? AC_ERR_NOT_FOUND : AC_ERR_IO;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a tokenportal store (not a "
		    "regular file)", path);
		return AC_ERR_NOT_OURS;
	}
	return 0;
}

/*
 * Waits for a lock held by another process.  SQLite's own handler sleeps
 * longer and longer (up to 100 ms a try), so under steady load a waiter
 * that has backed off keeps losing the lock to fresh ones and can time out
 * while the store is perfectly healthy.  Polling every 0.25 to 2 ms, at a
 * random moment, gives every waiter a fair chance at each release.
 */
static int
sq_busy_handler(void *arg, int count)
{
	struct sq *q = arg;
	struct timespec now, nap;
	long elapsed_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		q->busy_start = now;
	elapsed_ms = (now.tv_sec - q->busy_start.tv_sec) * 1000L +
	    (now.tv_nsec - q->busy_start.tv_nsec) / 1000000L;
	if (elapsed_ms >= q->busy_ms)
		return 0;	/* give up: SQLITE_BUSY */
	/* xorshift32: jitter only, nothing secret depends on it. */
	q->rng ^= q->rng << 13;
	q->rng ^= q->rng >> 17;
	q->rng ^= q->rng << 5;
	nap.tv_sec = 0;
	nap.tv_nsec = 250000L + (long)(q->rng % 1750000u);
	nanosleep(&nap, NULL);
	return 1;
}

/* Opens the connection and applies every per-connection setting. */
static int
sq_connect(const struct ac_store_params *p, ac_store *s)
{
	struct sq *q;
	int rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ac_store_fail(s, AC_ERR_NOMEM, "out of memory");
	s->be = q;
	s->ops = &sq_ops;
	/* One connection per process and per thread (never across fork):
	 * SQLite's own mutexes are not needed. */
	rc = sqlite3_open_v2(p->path, &q->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK)
		return ac_store_fail(s, AC_ERR_IO, "cannot open store %s: %s",
		    p->path, q->db != NULL ? sqlite3_errmsg(q->db) :
		    sqlite3_errstr(rc));
	q->busy_ms = p->busy_timeout_ms;
	q->rng = (uint32_t)getpid() * 2654435761u | 1u;
	rc = sqlite3_busy_handler(q->db, sq_busy_handler, q);
	if (rc != SQLITE_OK)
		return sq_error(s, rc, "setting the busy handler");
	return 0;
}

/* Gives a new store its identity and schema. */
static int
sq_initialise(ac_store *s, const char *path)
{
	char sql[64];
	int from, to, r;

	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d",
	    SQ_APPLICATION_ID);
	if ((r = sq_exec(s, sql, "setting the application id")) != 0)
		return r;
	if ((r = sq_configure(s, path)) != 0)
		return r;
	return sq_upgrade(s, &from, &to);
}

int
ac_store_sqlite_open(const struct ac_store_params *p, ac_store *s,
    char *err, size_t errlen)
{
	int made = 0, r;

	if (p->create)
		r = sq_make_file(p->path, &made, err, errlen);
	else
		r = sq_check_file(p->path, err, errlen);
	if (r != 0)
		return r;
	if ((r = sq_connect(p, s)) != 0)
		goto out;
	if (p->create)
		r = sq_initialise(s, p->path);
	else if ((r = sq_check_ours(s, p->path)) == 0 &&
	    (r = sq_configure(s, p->path)) == 0)
		r = sq_check_schema(s, p->path, p->allow_old_schema);
out:
	if (r != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", s->err);
		sq_close(s);
		if (made)
			sq_unlink_all(p->path);
	}
	return r;
}

/* ---- tokens ------------------------------------------------------------ */

/* Binds every column of t in TOKEN_COLS order (?1 .. ?23). */
static int
bind_token(sqlite3_stmt *st, const struct ac_token *t)
{
	int rc = 0;

	rc |= bind_text(st, 1, t->serial);
	rc |= sqlite3_bind_int(st, 2, (int)t->type);
	rc |= sqlite3_bind_int(st, 3, (int)t->state);
	rc |= bind_text(st, 4, t->owner);
	rc |= sqlite3_bind_int(st, 5, (int)t->algo);
	rc |= sqlite3_bind_int(st, 6, t->digits);
	rc |= sqlite3_bind_int(st, 7, t->period);
	rc |= sqlite3_bind_int64(st, 8, (sqlite3_int64)t->counter);
	rc |= sqlite3_bind_int64(st, 9, t->drift);
	rc |= sqlite3_bind_int(st, 10, t->fail_count);
	rc |= sqlite3_bind_int64(st, 11, t->locked_until);
	rc |= sqlite3_bind_int64(st, 12, t->bypass_until);
	rc |= bind_text(st, 13, t->key_id);
	rc |= bind_blob(st, 14, t->sealed, t->sealed_len);
	rc |= sqlite3_bind_int(st, 15, t->has_pin != 0);
	rc |= bind_blob(st, 16, t->pin_salt, t->has_pin ?
	    sizeof(t->pin_salt) : 0);
	rc |= bind_blob(st, 17, t->pin_hash, t->has_pin ?
	    sizeof(t->pin_hash) : 0);
	rc |= bind_text(st, 18, t->description);
	rc |= bind_text(st, 19, t->email);
	rc |= sqlite3_bind_int64(st, 20, t->created);
	rc |= sqlite3_bind_int64(st, 21, t->activated);
	rc |= sqlite3_bind_int64(st, 22, t->last_used);
	rc |= sqlite3_bind_int64(st, 23, t->expires);
	return rc;
}

/* Reads a row selected with TOKEN_COLS. */
static int
read_token(ac_store *s, sqlite3_stmt *st, struct ac_token *t)
{
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = col_text(s, st, 0, t->serial, sizeof(t->serial))) != 0 ||
	    (r = col_text(s, st, 3, t->owner, sizeof(t->owner))) != 0 ||
	    (r = col_text(s, st, 12, t->key_id, sizeof(t->key_id))) != 0 ||
	    (r = col_blob(s, st, 13, t->sealed, sizeof(t->sealed),
	    &t->sealed_len)) != 0 ||
	    (r = col_blob(s, st, 15, t->pin_salt, sizeof(t->pin_salt),
	    NULL)) != 0 ||
	    (r = col_blob(s, st, 16, t->pin_hash, sizeof(t->pin_hash),
	    NULL)) != 0 ||
	    (r = col_text(s, st, 17, t->description,
	    sizeof(t->description))) != 0 ||
	    (r = col_text(s, st, 18, t->email, sizeof(t->email))) != 0)
		return r;
	t->type = (enum ac_token_type)sqlite3_column_int(st, 1);
	t->state = (enum ac_token_state)sqlite3_column_int(st, 2);
	t->algo = (enum ac_algo)sqlite3_column_int(st, 4);
	t->digits = sqlite3_column_int(st, 5);
	t->period = sqlite3_column_int(st, 6);
	t->counter = (uint64_t)sqlite3_column_int64(st, 7);
	t->drift = sqlite3_column_int64(st, 8);
	t->fail_count = sqlite3_column_int(st, 9);
	t->locked_until = sqlite3_column_int64(st, 10);
	t->bypass_until = sqlite3_column_int64(st, 11);
	t->has_pin = sqlite3_column_int(st, 14);
	t->created = sqlite3_column_int64(st, 19);
	t->activated = sqlite3_column_int64(st, 20);
	t->last_used = sqlite3_column_int64(st, 21);
	t->expires = sqlite3_column_int64(st, 22);
	return 0;
}

/* Runs a cached single-row SELECT keyed by one text value; read(row)
 * fills out.  AC_ERR_NOT_FOUND when there is no row. */
static int
sq_get_by_text(ac_store *s, enum sq_stmt id, const char *key,
    int (*read)(ac_store *, sqlite3_stmt *, void *), void *out,
    const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_stmt(s, id, &st)) != 0)
		return r;
	if (bind_text(st, 1, key) != SQLITE_OK)
		r = sq_error(s, SQLITE_ERROR, what);
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = read(s, st, out);
	else if (rc == SQLITE_DONE)
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "%s: %s not found",
		    what, key);
	else
		r = sq_error(s, rc, what);
	sq_done(st);
	return r;
}

static int
read_token_cb(ac_store *s, sqlite3_stmt *st, void *out)
{
	return read_token(s, st, out);
}

static int
sq_token_get(ac_store *s, const char *serial, struct ac_token *out)
{
	return sq_get_by_text(s, SQ_TOKEN_GET, serial, read_token_cb, out,
	    "reading token");
}

/* Insert and update: the same 23 bindings, different statements. */
static int
sq_token_write(ac_store *s, enum sq_stmt id, const struct ac_token *t,
    const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, id, &st)) != 0)
		return r;
	if (bind_token(st, t) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, what);
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, what)) != 0)
		return r;
	if (id == SQ_TOKEN_UPDATE && sqlite3_changes(sq_db(s)) == 0)
		return ac_store_fail(s, AC_ERR_NOT_FOUND, "%s: %s not found",
		    what, t->serial);
	return 0;
}

static int
sq_token_insert(ac_store *s, const struct ac_token *t)
{
	int r = sq_token_write(s, SQ_TOKEN_INSERT, t, "adding token");

	if (r == AC_ERR_EXISTS)
		ac_store_fail(s, r, "token %s already exists", t->serial);
	return r;
}

static int
sq_token_update(ac_store *s, const struct ac_token *t)
{
	return sq_token_write(s, SQ_TOKEN_UPDATE, t, "updating token");
}

/* Runs a cached statement keyed by one text value; *changes (may be
 * NULL) gets the number of rows it changed. */
static int
sq_run_by_text(ac_store *s, enum sq_stmt id, const char *key,
    int *changes, const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, id, &st)) != 0)
		return r;
	if (bind_text(st, 1, key) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, what);
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, what)) == 0 && changes != NULL)
		*changes = sqlite3_changes(sq_db(s));
	return r;
}

static int
sq_token_delete(ac_store *s, const char *serial)
{
	int n = 0, r;

	r = sq_run_by_text(s, SQ_TOKEN_DELETE, serial, &n, "deleting token");
	if (r == 0 && n == 0)
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "token %s not found",
		    serial);
	return r;
}

/* Whether a token exists: tells a replay from an unknown serial. */
static int
sq_token_exists(ac_store *s, const char *serial)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_stmt(s, SQ_TOKEN_EXISTS, &st)) != 0)
		return r;
	if (bind_text(st, 1, serial) != SQLITE_OK)
		r = sq_error(s, SQLITE_ERROR, "finding token");
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = 0;
	else if (rc == SQLITE_DONE)
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "token %s not found",
		    serial);
	else
		r = sq_error(s, rc, "finding token");
	sq_done(st);
	return r;
}

/*
 * The replay guard (DESIGN.md 4): one UPDATE ... WHERE counter < new.
 * SQLite runs it under the write lock, so of several processes accepting
 * the same code exactly one sees a changed row; the others see none and
 * report a replay.  It needs no explicit transaction.
 */
static int
sq_token_accept(ac_store *s, const char *serial, uint64_t new_counter,
    int64_t drift, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, SQ_TOKEN_ACCEPT, &st)) != 0)
		return r;
	if (bind_text(st, 1, serial) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)new_counter) !=
	    SQLITE_OK || sqlite3_bind_int64(st, 3, drift) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "accepting a code");
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, "accepting a code")) != 0)
		return r;
	if (sqlite3_changes(sq_db(s)) == 1)
		return 0;
	if ((r = sq_token_exists(s, serial)) != 0)
		return r;
	return ac_store_fail(s, AC_ERR_REPLAY, "token %s: counter already "
	    "at or past %llu", serial, (unsigned long long)new_counter);
}

/* One statement increments and locks, so concurrent failures all count. */
static int
sq_token_fail(ac_store *s, const char *serial, int max_fail,
    int64_t lock_until, int *fail_count)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_stmt(s, SQ_TOKEN_FAIL, &st)) != 0)
		return r;
	if (bind_text(st, 1, serial) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, max_fail) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, lock_until) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "counting a failure");
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*fail_count = sqlite3_column_int(st, 0);
		/* RETURNING: the update is complete; step to the end. */
		rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : sq_error(s, rc,
		    "counting a failure");
	} else if (rc == SQLITE_DONE) {
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "token %s not found",
		    serial);
	} else {
		r = sq_error(s, rc, "counting a failure");
	}
	sq_done(st);
	return r;
}

/* Prepares "SELECT what FROM tokens WHERE <f> [ORDER BY ...]" with f's
 * values bound by name. */
static int
sq_token_query(ac_store *s, const char *what, const struct ac_token_filter *f,
    const char *order, sqlite3_stmt **out)
{
	char sql[512];
	sqlite3_stmt *st = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM tokens WHERE 1%s%s%s%s",
	    what, f != NULL && f->owner != NULL ? " AND owner=:owner" : "",
	    f != NULL && f->state >= 0 ? " AND state=:state" : "",
	    f != NULL && f->expired_before > 0 ?
	    " AND expires>0 AND expires<:exp" : "", order);
	rc = sqlite3_prepare_v2(sq_db(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_error(s, rc, "listing tokens");
	if (f != NULL) {
		rc = SQLITE_OK;
		if (f->owner != NULL)
			rc |= bind_text(st, sqlite3_bind_parameter_index(st,
			    ":owner"), f->owner);
		if (f->state >= 0)
			rc |= sqlite3_bind_int(st,
			    sqlite3_bind_parameter_index(st, ":state"),
			    f->state);
		if (f->expired_before > 0)
			rc |= sqlite3_bind_int64(st,
			    sqlite3_bind_parameter_index(st, ":exp"),
			    f->expired_before);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return sq_error(s, SQLITE_ERROR, "listing tokens");
		}
	}
	*out = st;
	return 0;
}

/* Appends the current row to a growing array. */
static int
push_token(ac_store *s, sqlite3_stmt *st, struct ac_token **v, size_t *n,
    size_t *cap)
{
	struct ac_token *nv;
	size_t ncap;

	if (*n == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		if ((nv = reallocarray(*v, ncap, sizeof(**v))) == NULL)
			return ac_store_fail(s, AC_ERR_NOMEM, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	return read_token(s, st, &(*v)[(*n)++]);
}

static int
sq_token_list(ac_store *s, const struct ac_token_filter *f,
    struct ac_token **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct ac_token *v = NULL;
	size_t count = 0, cap = 0;
	int rc, r;

	r = sq_token_query(s, TOKEN_COLS, f, " ORDER BY owner, created, serial",
	    &st);
	if (r != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = push_token(s, st, &v, &count, &cap)) != 0)
			goto out;
	if (rc != SQLITE_DONE) {
		r = sq_error(s, rc, "listing tokens");
		goto out;
	}
	*out = count > 0 ? v : NULL;
	*n = count;
	if (count > 0)
		v = NULL;	/* transferred */
	r = 0;
out:
	free(v);
	sqlite3_finalize(st);
	return r;
}

static int
sq_token_count(ac_store *s, const struct ac_token_filter *f, int *n)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_token_query(s, "count(*)", f, "", &st)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	else
		r = sq_error(s, rc, "counting tokens");
	sqlite3_finalize(st);
	return r;
}

/* ---- sessions -------------------------------------------------------- */

static int
sq_session_put(ac_store *s, const struct ac_session *ss)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, r;

	if ((r = sq_stmt(s, SQ_SESSION_PUT, &st)) != 0)
		return r;
	rc |= bind_blob(st, 1, ss->id_hash, sizeof(ss->id_hash));
	rc |= bind_text(st, 2, ss->user);
	rc |= bind_text(st, 3, ss->display_name);
	rc |= bind_text(st, 4, ss->email);
	rc |= bind_text(st, 5, ss->csrf);
	rc |= sqlite3_bind_int(st, 6, ss->level);
	rc |= sqlite3_bind_int(st, 7, ss->roles);
	rc |= sqlite3_bind_int64(st, 8, ss->created);
	rc |= sqlite3_bind_int64(st, 9, ss->last_seen);
	if (rc != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "saving a session");
		sq_done(st);
		return r;
	}
	return sq_exec_stmt(s, st, "saving a session");
}

static int
read_session(ac_store *s, sqlite3_stmt *st, struct ac_session *ss)
{
	int r;

	memset(ss, 0, sizeof(*ss));
	if ((r = col_blob(s, st, 0, ss->id_hash, sizeof(ss->id_hash),
	    NULL)) != 0 ||
	    (r = col_text(s, st, 1, ss->user, sizeof(ss->user))) != 0 ||
	    (r = col_text(s, st, 2, ss->display_name,
	    sizeof(ss->display_name))) != 0 ||
	    (r = col_text(s, st, 3, ss->email, sizeof(ss->email))) != 0 ||
	    (r = col_text(s, st, 4, ss->csrf, sizeof(ss->csrf))) != 0)
		return r;
	ss->level = sqlite3_column_int(st, 5);
	ss->roles = sqlite3_column_int(st, 6);
	ss->created = sqlite3_column_int64(st, 7);
	ss->last_seen = sqlite3_column_int64(st, 8);
	return 0;
}

/* Binds the session id hash as ?1 and an optional integer as ?2, runs a
 * statement that returns no row; *changes gets the rows it changed. */
static int
sq_session_run(ac_store *s, enum sq_stmt id, const uint8_t *id_hash,
    int64_t v, int *changes, const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, id, &st)) != 0)
		return r;
	if (bind_blob(st, 1, id_hash, AC_HASH_LEN) != SQLITE_OK ||
	    (sqlite3_bind_parameter_count(st) > 1 &&
	    sqlite3_bind_int64(st, 2, v) != SQLITE_OK)) {
		r = sq_error(s, SQLITE_ERROR, what);
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, what)) != 0)
		return r;
	*changes = sqlite3_changes(sq_db(s));
	if (*changes == 0 && id != SQ_SESSION_SWEEP)
		return ac_store_fail(s, AC_ERR_NOT_FOUND, "%s: no such "
		    "session", what);
	return 0;
}

static int
sq_session_get(ac_store *s, const uint8_t *id_hash, struct ac_session *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_stmt(s, SQ_SESSION_GET, &st)) != 0)
		return r;
	if (bind_blob(st, 1, id_hash, AC_HASH_LEN) != SQLITE_OK)
		r = sq_error(s, SQLITE_ERROR, "reading a session");
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = read_session(s, st, out);
	else if (rc == SQLITE_DONE)
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "no such session");
	else
		r = sq_error(s, rc, "reading a session");
	sq_done(st);
	return r;
}

static int
sq_session_touch(ac_store *s, const uint8_t *id_hash, int64_t now)
{
	int n;

	return sq_session_run(s, SQ_SESSION_TOUCH, id_hash, now, &n,
	    "touching a session");
}

static int
sq_session_delete(ac_store *s, const uint8_t *id_hash)
{
	int n;

	return sq_session_run(s, SQ_SESSION_DELETE, id_hash, 0, &n,
	    "deleting a session");
}

static int
sq_session_sweep(ac_store *s, int64_t idle_before, int64_t created_before,
    int *n)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, SQ_SESSION_SWEEP, &st)) != 0)
		return r;
	if (sqlite3_bind_int64(st, 1, idle_before) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, created_before) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "sweeping sessions");
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, "sweeping sessions")) == 0)
		*n = sqlite3_changes(sq_db(s));
	return r;
}

/* ---- throttle -------------------------------------------------------- */

/* hit (adds one, RETURNING count) and get (reads window_start, count). */
static int
sq_throttle(ac_store *s, enum sq_stmt id, const char *key, int64_t now,
    int64_t window, int *count)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if ((r = sq_stmt(s, id, &st)) != 0)
		return r;
	*count = 0;
	rc = bind_text(st, 1, key);
	if (id == SQ_THROTTLE_HIT)
		rc |= sqlite3_bind_int64(st, 2, now) |
		    sqlite3_bind_int64(st, 3, window);
	if (rc != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "throttle");
		goto out;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (id == SQ_THROTTLE_HIT)
			*count = sqlite3_column_int(st, 0);
		else if (now - sqlite3_column_int64(st, 0) < window)
			*count = sqlite3_column_int(st, 1);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = sq_error(s, rc, "throttle");
out:
	sq_done(st);
	return r;
}

static int
sq_throttle_hit(ac_store *s, const char *key, int64_t now, int64_t window,
    int *count)
{
	return sq_throttle(s, SQ_THROTTLE_HIT, key, now, window, count);
}

static int
sq_throttle_get(ac_store *s, const char *key, int64_t now, int64_t window,
    int *count)
{
	return sq_throttle(s, SQ_THROTTLE_GET, key, now, window, count);
}

static int
sq_throttle_clear(ac_store *s, const char *key)
{
	return sq_run_by_text(s, SQ_THROTTLE_CLEAR, key, NULL,
	    "clearing a throttle");
}

/* ---- challenges ------------------------------------------------------ */

static int
sq_challenge_put(ac_store *s, const struct ac_challenge *c)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, r;

	if ((r = sq_stmt(s, SQ_CHALLENGE_PUT, &st)) != 0)
		return r;
	rc |= bind_text(st, 1, c->txid);
	rc |= bind_text(st, 2, c->serial);
	rc |= sqlite3_bind_int64(st, 3, (sqlite3_int64)c->counter);
	rc |= sqlite3_bind_int64(st, 4, c->created);
	rc |= sqlite3_bind_int64(st, 5, c->expires);
	rc |= sqlite3_bind_int(st, 6, c->used != 0);
	if (rc != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "saving a challenge");
		sq_done(st);
		return r;
	}
	r = sq_exec_stmt(s, st, "saving a challenge");
	if (r == AC_ERR_NOT_FOUND)
		ac_store_fail(s, r, "challenge for unknown token %s",
		    c->serial);
	return r;
}

static int
read_challenge(ac_store *s, sqlite3_stmt *st, void *out)
{
	struct ac_challenge *c = out;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = col_text(s, st, 0, c->txid, sizeof(c->txid))) != 0 ||
	    (r = col_text(s, st, 1, c->serial, sizeof(c->serial))) != 0)
		return r;
	c->counter = (uint64_t)sqlite3_column_int64(st, 2);
	c->created = sqlite3_column_int64(st, 3);
	c->expires = sqlite3_column_int64(st, 4);
	c->used = sqlite3_column_int(st, 5);
	return 0;
}

static int
sq_challenge_get(ac_store *s, const char *txid, struct ac_challenge *out)
{
	return sq_get_by_text(s, SQ_CHALLENGE_GET, txid, read_challenge, out,
	    "reading challenge");
}

static int
sq_challenge_last(ac_store *s, const char *serial, struct ac_challenge *out)
{
	return sq_get_by_text(s, SQ_CHALLENGE_LAST, serial, read_challenge,
	    out, "reading the last challenge of token");
}

/* Single use: a compare-and-set on used, like the token counter. */
static int
sq_challenge_consume(ac_store *s, const char *txid, int64_t now)
{
	struct ac_challenge c;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, SQ_CHALLENGE_CONSUME, &st)) != 0)
		return r;
	if (bind_text(st, 1, txid) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "using a challenge");
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, "using a challenge")) != 0)
		return r;
	if (sqlite3_changes(sq_db(s)) == 1)
		return 0;
	if ((r = sq_challenge_get(s, txid, &c)) != 0)
		return r;
	return ac_store_fail(s, AC_ERR_REPLAY, "challenge %s %s", txid,
	    c.used ? "was already used" : "has expired");
}

static int
sq_challenge_sweep(ac_store *s, int64_t now, int *n)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_stmt(s, SQ_CHALLENGE_SWEEP, &st)) != 0)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "sweeping challenges");
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, "sweeping challenges")) == 0)
		*n = sqlite3_changes(sq_db(s));
	return r;
}

/* ---- events ---------------------------------------------------------- */

static int
read_event(ac_store *s, sqlite3_stmt *st, struct ac_event_row *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	if ((r = col_text(s, st, 2, e->actor, sizeof(e->actor))) != 0 ||
	    (r = col_text(s, st, 3, e->action, sizeof(e->action))) != 0 ||
	    (r = col_text(s, st, 4, e->serial, sizeof(e->serial))) != 0 ||
	    (r = col_text(s, st, 5, e->user, sizeof(e->user))) != 0 ||
	    (r = col_text(s, st, 6, e->resource, sizeof(e->resource))) != 0 ||
	    (r = col_text(s, st, 7, e->source, sizeof(e->source))) != 0 ||
	    (r = col_text(s, st, 8, e->result, sizeof(e->result))) != 0 ||
	    (r = col_text(s, st, 9, e->reason, sizeof(e->reason))) != 0)
		return r;
	/* A prev or mac of the wrong length reads as zeros and then fails
	 * the chain check, which is where tampering is reported. */
	if (col_blob(s, st, 10, e->prev, sizeof(e->prev), NULL) != 0)
		memset(e->prev, 0, sizeof(e->prev));
	if (col_blob(s, st, 11, e->mac, sizeof(e->mac), NULL) != 0)
		memset(e->mac, 0, sizeof(e->mac));
	return 0;
}

static int
sq_event_last(ac_store *s, struct ac_event_row *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_stmt(s, SQ_EVENT_LAST, &st)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = read_event(s, st, out);
	else if (rc == SQLITE_DONE)
		r = ac_store_fail(s, AC_ERR_NOT_FOUND, "no events yet");
	else
		r = sq_error(s, rc, "reading the last event");
	sq_done(st);
	return r;
}

static int
sq_event_insert(ac_store *s, struct ac_event_row *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, r;

	if ((r = sq_stmt(s, SQ_EVENT_INSERT, &st)) != 0)
		return r;
	rc |= e->id > 0 ? sqlite3_bind_int64(st, 1, e->id) :
	    sqlite3_bind_null(st, 1);
	rc |= sqlite3_bind_int64(st, 2, e->time);
	rc |= bind_text(st, 3, e->actor);
	rc |= bind_text(st, 4, e->action);
	rc |= bind_text(st, 5, e->serial);
	rc |= bind_text(st, 6, e->user);
	rc |= bind_text(st, 7, e->resource);
	rc |= bind_text(st, 8, e->source);
	rc |= bind_text(st, 9, e->result);
	rc |= bind_text(st, 10, e->reason);
	rc |= sqlite3_bind_blob(st, 11, e->prev, sizeof(e->prev),
	    SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 12, e->mac, sizeof(e->mac), SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		r = sq_error(s, SQLITE_ERROR, "writing an event");
		sq_done(st);
		return r;
	}
	if ((r = sq_exec_stmt(s, st, "writing an event")) != 0)
		return r;
	e->id = sqlite3_last_insert_rowid(sq_db(s));
	return 0;
}

/* Prepares the event query for f; values bound by name. */
static int
sq_event_query(ac_store *s, const struct ac_event_filter *f,
    sqlite3_stmt **out)
{
	char sql[512];
	sqlite3_stmt *st = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " EVENT_COLS " FROM events WHERE "
	    "id>:after%s%s ORDER BY id %s%s",
	    f->serial != NULL ? " AND serial=:serial" : "",
	    f->user != NULL ? " AND user=:user" : "",
	    f->newest_first ? "DESC" : "ASC",
	    f->limit > 0 ? " LIMIT :limit" : "");
	rc = sqlite3_prepare_v2(sq_db(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_error(s, rc, "reading events");
	rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st,
	    ":after"), f->after_id);
	if (f->serial != NULL)
		rc |= bind_text(st, sqlite3_bind_parameter_index(st,
		    ":serial"), f->serial);
	if (f->user != NULL)
		rc |= bind_text(st, sqlite3_bind_parameter_index(st, ":user"),
		    f->user);
	if (f->limit > 0)
		rc |= sqlite3_bind_int(st, sqlite3_bind_parameter_index(st,
		    ":limit"), f->limit);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return sq_error(s, SQLITE_ERROR, "reading events");
	}
	*out = st;
	return 0;
}

static int
sq_event_each(ac_store *s, const struct ac_event_filter *f,
    int (*fn)(const struct ac_event_row *e, void *arg), void *arg)
{
	static const struct ac_event_filter all = { NULL, NULL, 0, 0, 0 };
	struct ac_event_row e;
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = sq_event_query(s, f != NULL ? f : &all, &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = read_event(s, st, &e)) != 0 ||
		    (r = fn(&e, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = sq_error(s, rc, "reading events");
out:
	sqlite3_finalize(st);
	return r;
}

static const struct ac_store_ops sq_ops = {
	.name = "sqlite",
	.close = sq_close,
	.schema_version = sq_schema_version,
	.upgrade = sq_upgrade,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.token_get = sq_token_get,
	.token_insert = sq_token_insert,
	.token_update = sq_token_update,
	.token_delete = sq_token_delete,
	.token_list = sq_token_list,
	.token_count = sq_token_count,
	.token_accept = sq_token_accept,
	.token_fail = sq_token_fail,
	.session_put = sq_session_put,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_sweep = sq_session_sweep,
	.throttle_hit = sq_throttle_hit,
	.throttle_get = sq_throttle_get,
	.throttle_clear = sq_throttle_clear,
	.challenge_put = sq_challenge_put,
	.challenge_get = sq_challenge_get,
	.challenge_consume = sq_challenge_consume,
	.challenge_sweep = sq_challenge_sweep,
	.challenge_last = sq_challenge_last,
	.event_last = sq_event_last,
	.event_insert = sq_event_insert,
	.event_each = sq_event_each,
};
