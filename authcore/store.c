/*
 * store.c - the generic token store layer (store.h).
 *
 * Picks the backend named by store.driver, checks every argument and every
 * string length once, here, so that backends can trust what they get,
 * keeps the transaction nesting, and then calls the backend's operations
 * table (store_impl.h).  No SQL in this file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "config.h"
#include "store.h"
#include "store_impl.h"

#define STORE_DEFAULT_BUSY_MS	5000
#define STORE_MAX_BUSY_MS	600000

/* The backends this build knows; a PostgreSQL backend adds one line. */
static const struct {
	const char	*driver;
	ac_store_open_fn open;
} store_drivers[] = {
	{ "sqlite",	ac_store_sqlite_open },
};

int
ac_store_fail(ac_store *s, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return r;
}

/* True when str is a NUL-terminated string of at most max bytes. */
static int
fits(const char *str, size_t max)
{
	return memchr(str, '\0', max + 1) != NULL;
}

/* A required key argument: non-NULL, non-empty, at most max bytes. */
static int
check_key(ac_store *s, const char *what, const char *key, size_t max)
{
	if (key == NULL || key[0] == '\0')
		return ac_store_fail(s, AC_ERR_INVALID, "empty %s", what);
	if (strnlen(key, max + 1) > max)
		return ac_store_fail(s, AC_ERR_TOO_LONG,
		    "%s longer than %zu bytes", what, max);
	return 0;
}

/* The open function of a driver, or NULL with err naming the key. */
static ac_store_open_fn
store_find_driver(const char *driver, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(store_drivers) / sizeof(store_drivers[0]); i++)
		if (strcmp(store_drivers[i].driver, driver) == 0)
			return store_drivers[i].open;
	ac_set_err(err, errlen, "config key 'store.driver': unknown driver "
	    "'%s' (this build knows: sqlite)", driver);
	return NULL;
}

/* Opens or creates with a driver's open function; on success *out owns a
 * new handle. */
static int
store_open_with(ac_store_open_fn open_fn, const struct ac_store_params *p,
    ac_store **out, char *err, size_t errlen)
{
	ac_store *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ac_set_err(err, errlen, "out of memory opening the store");
		return AC_ERR_NOMEM;
	}
	if ((r = open_fn(p, s, err, errlen)) != 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Reads store.path and store.busy_timeout_ms into p (p->path is malloc'd
 * in *pathp). */
static int
store_params_from_config(const struct ac_config *cfg,
    struct ac_store_params *p, char **pathp, char *err, size_t errlen)
{
	long long busy = 0;
	int r;

	if ((r = ac_config_require(cfg, "store.path", err, errlen)) != 0)
		return r;
	if ((r = ac_config_int(cfg, "store.busy_timeout_ms",
	    STORE_DEFAULT_BUSY_MS, 0, STORE_MAX_BUSY_MS, &busy, err,
	    errlen)) != 0)
		return r;
	if ((r = ac_config_path(cfg, "store.path", NULL, pathp)) != 0) {
		ac_set_err(err, errlen, "config key 'store.path': %s",
		    ac_strerror(r));
		return r;
	}
	p->path = *pathp;
	p->busy_timeout_ms = (int)busy;
	return 0;
}

static int
store_open_config(const struct ac_config *cfg, int create,
    int allow_old_schema, ac_store **out, char *err, size_t errlen)
{
	struct ac_store_params p;
	ac_store_open_fn open_fn;
	char *path = NULL;
	int r;

	if (out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if (cfg == NULL) {
		ac_set_err(err, errlen, "no configuration given for the store");
		return AC_ERR_INVALID;
	}
	open_fn = store_find_driver(ac_config_get(cfg, "store.driver",
	    "sqlite"), err, errlen);
	if (open_fn == NULL)
		return AC_ERR_CONFIG;
	memset(&p, 0, sizeof(p));
	p.create = create;
	p.allow_old_schema = allow_old_schema;
	r = store_params_from_config(cfg, &p, &path, err, errlen);
	if (r == 0)
		r = store_open_with(open_fn, &p, out, err, errlen);
	free(path);
	return r;
}

int
ac_store_open(const struct ac_config *cfg, int allow_old_schema,
    ac_store **out, char *err, size_t errlen)
{
	return store_open_config(cfg, 0, allow_old_schema, out, err, errlen);
}

int
ac_store_create(const struct ac_config *cfg, ac_store **out, char *err,
    size_t errlen)
{
	return store_open_config(cfg, 1, 0, out, err, errlen);
}

static int
store_open_sqlite(const char *path, int create, int allow_old_schema,
    int busy_timeout_ms, ac_store **out, char *err, size_t errlen)
{
	struct ac_store_params p;

	if (out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		ac_set_err(err, errlen, "no store path given");
		return AC_ERR_INVALID;
	}
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.busy_timeout_ms = busy_timeout_ms < 0 ? STORE_DEFAULT_BUSY_MS :
	    busy_timeout_ms;
	p.allow_old_schema = allow_old_schema;
	p.create = create;
	return store_open_with(ac_store_sqlite_open, &p, out, err, errlen);
}

int
ac_store_open_sqlite(const char *path, int allow_old_schema,
    int busy_timeout_ms, ac_store **out, char *err, size_t errlen)
{
	return store_open_sqlite(path, 0, allow_old_schema, busy_timeout_ms,
	    out, err, errlen);
}

int
ac_store_create_sqlite(const char *path, int busy_timeout_ms,
    ac_store **out, char *err, size_t errlen)
{
	return store_open_sqlite(path, 1, 0, busy_timeout_ms, out, err,
	    errlen);
}

void
ac_store_close(ac_store *s)
{
	if (s == NULL)
		return;
	/* An unfinished transaction is abandoned, never half-committed. */
	if (s->depth > 0)
		(void)s->ops->rollback(s);
	s->ops->close(s);
	free(s);
}

const char *
ac_store_last_error(const ac_store *s)
{
	return s == NULL ? "no store" : s->err;
}

int
ac_store_schema_version(ac_store *s, int *version)
{
	if (s == NULL || version == NULL)
		return AC_ERR_INVALID;
	return s->ops->schema_version(s, version);
}

int
ac_store_upgrade(ac_store *s, int *from, int *to)
{
	int f = 0, t = 0, r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if (s->depth > 0)
		return ac_store_fail(s, AC_ERR_INVALID,
		    "upgrade inside a transaction");
	r = s->ops->upgrade(s, &f, &t);
	if (from != NULL)
		*from = f;
	if (to != NULL)
		*to = t;
	return r;
}

/*
 * Transactions nest: only the outermost begin reaches the backend.  An
 * inner rollback cannot undo only its own part (there are no savepoints in
 * the contract), so it dooms the whole transaction, which the outermost
 * commit then rolls back and reports.
 */
int
ac_store_begin(ac_store *s)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if (s->depth == 0) {
		if ((r = s->ops->begin(s)) != 0)
			return r;
		s->doomed = 0;
	}
	s->depth++;
	return 0;
}

int
ac_store_commit(ac_store *s)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if (s->depth == 0)
		return ac_store_fail(s, AC_ERR_INVALID,
		    "commit without a transaction");
	if (--s->depth > 0)
		return 0;
	if (s->doomed) {
		s->doomed = 0;
		(void)s->ops->rollback(s);
		return ac_store_fail(s, AC_ERR_STORE, "transaction rolled "
		    "back: an inner part of it failed");
	}
	if ((r = s->ops->commit(s)) != 0)
		(void)s->ops->rollback(s);	/* never leave it open */
	return r;
}

int
ac_store_rollback(ac_store *s)
{
	if (s == NULL)
		return AC_ERR_INVALID;
	if (s->depth == 0)
		return ac_store_fail(s, AC_ERR_INVALID,
		    "rollback without a transaction");
	if (--s->depth > 0) {
		s->doomed = 1;
		return 0;
	}
	s->doomed = 0;
	return s->ops->rollback(s);
}

/* Every string of a token row fits its array and the blobs their sizes. */
static int
check_token(ac_store *s, const struct ac_token *t)
{
	int r;

	if ((r = check_key(s, "serial", t->serial, AC_MAX_SERIAL)) != 0)
		return r;
	if (!fits(t->owner, AC_MAX_USER) ||
	    !fits(t->key_id, AC_KEY_ID_LEN) ||
	    !fits(t->description, AC_MAX_DESCRIPTION) ||
	    !fits(t->email, AC_MAX_EMAIL) || t->sealed_len > AC_MAX_SEALED)
		return ac_store_fail(s, AC_ERR_TOO_LONG, "token %s: a field "
		    "is longer than its limit", t->serial);
	if (t->counter > (uint64_t)INT64_MAX)
		return ac_store_fail(s, AC_ERR_INVALID, "token %s: counter "
		    "out of range", t->serial);
	return 0;
}

int
ac_store_token_get(ac_store *s, const char *serial, struct ac_token *out)
{
	int r;

	if (s == NULL || out == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "serial", serial, AC_MAX_SERIAL)) != 0)
		return r;
	return s->ops->token_get(s, serial, out);
}

int
ac_store_token_insert(ac_store *s, const struct ac_token *t)
{
	int r;

	if (s == NULL || t == NULL)
		return AC_ERR_INVALID;
	if ((r = check_token(s, t)) != 0)
		return r;
	return s->ops->token_insert(s, t);
}

int
ac_store_token_update(ac_store *s, const struct ac_token *t)
{
	int r;

	if (s == NULL || t == NULL)
		return AC_ERR_INVALID;
	if ((r = check_token(s, t)) != 0)
		return r;
	return s->ops->token_update(s, t);
}

int
ac_store_token_delete(ac_store *s, const char *serial)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "serial", serial, AC_MAX_SERIAL)) != 0)
		return r;
	return s->ops->token_delete(s, serial);
}

static int
check_token_filter(ac_store *s, const struct ac_token_filter *f)
{
	if (f == NULL)
		return 0;
	if (f->owner != NULL && strnlen(f->owner, AC_MAX_USER + 1) >
	    AC_MAX_USER)
		return ac_store_fail(s, AC_ERR_TOO_LONG, "owner longer than "
		    "%d bytes", AC_MAX_USER);
	return 0;
}

int
ac_store_token_list(ac_store *s, const struct ac_token_filter *f,
    struct ac_token **out, size_t *n)
{
	int r;

	if (s == NULL || out == NULL || n == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	*n = 0;
	if ((r = check_token_filter(s, f)) != 0)
		return r;
	return s->ops->token_list(s, f, out, n);
}

int
ac_store_token_count(ac_store *s, const struct ac_token_filter *f, int *n)
{
	int r;

	if (s == NULL || n == NULL)
		return AC_ERR_INVALID;
	*n = 0;
	if ((r = check_token_filter(s, f)) != 0)
		return r;
	return s->ops->token_count(s, f, n);
}

int
ac_store_token_accept(ac_store *s, const char *serial, uint64_t new_counter,
    int64_t drift, int64_t now)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "serial", serial, AC_MAX_SERIAL)) != 0)
		return r;
	/* The store keeps signed 64-bit integers (SQLite, PostgreSQL). */
	if (new_counter > (uint64_t)INT64_MAX)
		return ac_store_fail(s, AC_ERR_INVALID, "counter out of "
		    "range");
	return s->ops->token_accept(s, serial, new_counter, drift, now);
}

int
ac_store_token_fail(ac_store *s, const char *serial, int max_fail,
    int64_t lock_until, int *fail_count)
{
	int count = 0, r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "serial", serial, AC_MAX_SERIAL)) != 0)
		return r;
	r = s->ops->token_fail(s, serial, max_fail, lock_until, &count);
	if (r == 0 && fail_count != NULL)
		*fail_count = count;
	return r;
}

int
ac_store_session_put(ac_store *s, const struct ac_session *ss)
{
	if (s == NULL || ss == NULL)
		return AC_ERR_INVALID;
	if (!fits(ss->user, AC_MAX_USER) ||
	    !fits(ss->display_name, AC_MAX_USER) ||
	    !fits(ss->email, AC_MAX_EMAIL) ||
	    !fits(ss->csrf, sizeof(ss->csrf) - 1))
		return ac_store_fail(s, AC_ERR_TOO_LONG, "session: a field "
		    "is longer than its limit");
	return s->ops->session_put(s, ss);
}

int
ac_store_session_get(ac_store *s, const uint8_t id_hash[AC_HASH_LEN],
    struct ac_session *out)
{
	if (s == NULL || id_hash == NULL || out == NULL)
		return AC_ERR_INVALID;
	return s->ops->session_get(s, id_hash, out);
}

int
ac_store_session_touch(ac_store *s, const uint8_t id_hash[AC_HASH_LEN],
    int64_t now)
{
	if (s == NULL || id_hash == NULL)
		return AC_ERR_INVALID;
	return s->ops->session_touch(s, id_hash, now);
}

int
ac_store_session_delete(ac_store *s, const uint8_t id_hash[AC_HASH_LEN])
{
	if (s == NULL || id_hash == NULL)
		return AC_ERR_INVALID;
	return s->ops->session_delete(s, id_hash);
}

int
ac_store_session_sweep(ac_store *s, int64_t idle_before,
    int64_t created_before, int *n)
{
	int count = 0, r;

	if (s == NULL)
		return AC_ERR_INVALID;
	r = s->ops->session_sweep(s, idle_before, created_before, &count);
	if (r == 0 && n != NULL)
		*n = count;
	return r;
}

int
ac_store_throttle_hit(ac_store *s, const char *key, int64_t now,
    int64_t window, int *count)
{
	int c = 0, r;

	if (s == NULL || window <= 0)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "throttle key", key, AC_MAX_THROTTLE_KEY)) != 0)
		return r;
	r = s->ops->throttle_hit(s, key, now, window, &c);
	if (r == 0 && count != NULL)
		*count = c;
	return r;
}

int
ac_store_throttle_get(ac_store *s, const char *key, int64_t now,
    int64_t window, int *count)
{
	int r;

	if (s == NULL || count == NULL || window <= 0)
		return AC_ERR_INVALID;
	*count = 0;
	if ((r = check_key(s, "throttle key", key, AC_MAX_THROTTLE_KEY)) != 0)
		return r;
	return s->ops->throttle_get(s, key, now, window, count);
}

int
ac_store_throttle_clear(ac_store *s, const char *key)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "throttle key", key, AC_MAX_THROTTLE_KEY)) != 0)
		return r;
	return s->ops->throttle_clear(s, key);
}

int
ac_store_challenge_put(ac_store *s, const struct ac_challenge *c)
{
	int r;

	if (s == NULL || c == NULL)
		return AC_ERR_INVALID;
	if (!fits(c->txid, AC_MAX_TXID) || !fits(c->serial, AC_MAX_SERIAL))
		return ac_store_fail(s, AC_ERR_TOO_LONG, "challenge: a field "
		    "is longer than its limit");
	if ((r = check_key(s, "transaction id", c->txid, AC_MAX_TXID)) != 0 ||
	    (r = check_key(s, "serial", c->serial, AC_MAX_SERIAL)) != 0)
		return r;
	if (c->counter > (uint64_t)INT64_MAX)
		return ac_store_fail(s, AC_ERR_INVALID, "challenge counter "
		    "out of range");
	return s->ops->challenge_put(s, c);
}

int
ac_store_challenge_get(ac_store *s, const char *txid,
    struct ac_challenge *out)
{
	int r;

	if (s == NULL || out == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "transaction id", txid, AC_MAX_TXID)) != 0)
		return r;
	return s->ops->challenge_get(s, txid, out);
}

int
ac_store_challenge_consume(ac_store *s, const char *txid, int64_t now)
{
	int r;

	if (s == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "transaction id", txid, AC_MAX_TXID)) != 0)
		return r;
	return s->ops->challenge_consume(s, txid, now);
}

int
ac_store_challenge_last(ac_store *s, const char *serial,
    struct ac_challenge *out)
{
	int r;

	if (s == NULL || out == NULL)
		return AC_ERR_INVALID;
	if ((r = check_key(s, "serial", serial, AC_MAX_SERIAL)) != 0)
		return r;
	return s->ops->challenge_last(s, serial, out);
}

int
ac_store_challenge_sweep(ac_store *s, int64_t now, int *n)
{
	int count = 0, r;

	if (s == NULL)
		return AC_ERR_INVALID;
	r = s->ops->challenge_sweep(s, now, &count);
	if (r == 0 && n != NULL)
		*n = count;
	return r;
}

int
ac_store_event_last(ac_store *s, struct ac_event_row *out)
{
	if (s == NULL || out == NULL)
		return AC_ERR_INVALID;
	return s->ops->event_last(s, out);
}

int
ac_store_event_insert(ac_store *s, struct ac_event_row *e)
{
	if (s == NULL || e == NULL || e->id < 0)
		return AC_ERR_INVALID;
	if (!fits(e->actor, AC_MAX_ACTOR) ||
	    !fits(e->action, sizeof(e->action) - 1) ||
	    !fits(e->serial, AC_MAX_SERIAL) || !fits(e->user, AC_MAX_USER) ||
	    !fits(e->resource, AC_MAX_RESOURCE) ||
	    !fits(e->source, AC_MAX_SOURCE) ||
	    !fits(e->result, sizeof(e->result) - 1) ||
	    !fits(e->reason, AC_MAX_REASON))
		return ac_store_fail(s, AC_ERR_TOO_LONG, "event: a field is "
		    "longer than its limit");
	return s->ops->event_insert(s, e);
}

int
ac_store_event_each(ac_store *s, const struct ac_event_filter *f,
    int (*fn)(const struct ac_event_row *e, void *arg), void *arg)
{
	if (s == NULL || fn == NULL)
		return AC_ERR_INVALID;
	if (f != NULL && ((f->serial != NULL &&
	    strnlen(f->serial, AC_MAX_SERIAL + 1) > AC_MAX_SERIAL) ||
	    (f->user != NULL && strnlen(f->user, AC_MAX_USER + 1) >
	    AC_MAX_USER)))
		return ac_store_fail(s, AC_ERR_TOO_LONG, "event filter: a "
		    "field is longer than its limit");
	if (f != NULL && f->limit < 0)
		return ac_store_fail(s, AC_ERR_INVALID, "negative limit");
	return s->ops->event_each(s, f, fn, arg);
}

int
ac_store_schema_latest(void)
{
	return AC_STORE_SCHEMA_LATEST;
}
