/*
 * store.h - the token store: one interface, several backends (DESIGN.md 4).
 *
 * An ac_store is an opaque handle over an operations table; callers never
 * see SQL.  SQLite is the default backend (one file shared by every process
 * on the host, WAL mode, busy timeout); a PostgreSQL backend can be added by
 * writing another table of operations (store_impl.h) without touching
 * callers.
 *
 * Never carry an ac_store across fork(): open it in the process that uses it.
 *
 * Unless stated otherwise functions return 0 on success, AC_ERR_NOT_FOUND
 * when the row does not exist, AC_ERR_BUSY when the store stayed locked past
 * its busy timeout, or AC_ERR_STORE on any other backend failure.  Strings
 * copied into fixed arrays are checked against the sizes of ac_limits.h
 * (AC_ERR_TOO_LONG).
 */
#ifndef AC_STORE_H
#define AC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ac_limits.h"
#include "otp.h"

struct ac_config;
typedef struct ac_store ac_store;

#define AC_FOREVER	INT64_MAX	/* bypass_until value: permanent */

enum ac_token_type {
	AC_TOKEN_TOTP = 0,
	AC_TOKEN_HOTP = 1,
	AC_TOKEN_EMAIL = 2,	/* HOTP whose codes are sent by mail */
};

enum ac_token_state {
	AC_STATE_PENDING = 0,	/* enrolled, waiting for its first code */
	AC_STATE_ACTIVE = 1,
	AC_STATE_DISABLED = 2,
};

/*
 * A token row.  `counter` has one meaning for every type: the first
 * counter (HOTP) or time step (TOTP) that has NOT been used yet.  Accepting
 * counter/step c sets it to c + 1 with a compare-and-set, so a code can be
 * accepted once and the past never again.
 */
struct ac_token {
	char			serial[AC_MAX_SERIAL + 1];
	enum ac_token_type	type;
	enum ac_token_state	state;
	char			owner[AC_MAX_USER + 1];	/* "" = unassigned */
	enum ac_algo		algo;
	int			digits;		/* 6 or 8 */
	int			period;		/* TOTP step in seconds */
	uint64_t		counter;	/* first unused counter / step */
	int64_t			drift;		/* TOTP: token clock offset, steps */
	int			fail_count;
	int64_t			locked_until;	/* 0: not locked */
	int64_t			bypass_until;	/* 0: none; AC_FOREVER */
	char			key_id[AC_KEY_ID_LEN + 1];
	uint8_t			sealed[AC_MAX_SEALED];	/* sealed secret */
	size_t			sealed_len;
	int			has_pin;
	uint8_t			pin_salt[AC_PIN_SALT_LEN];
	uint8_t			pin_hash[AC_HASH_LEN];
	char			description[AC_MAX_DESCRIPTION + 1];
	char			email[AC_MAX_EMAIL + 1];	/* e-mail tokens */
	int64_t			created;
	int64_t			activated;	/* 0: never */
	int64_t			last_used;	/* 0: never */
	int64_t			expires;	/* pending tokens: sweep after */
};

/* Filter for ac_store_token_list; zero/NULL fields match everything. */
struct ac_token_filter {
	const char	*owner;		/* exact owner */
	int		 state;		/* -1 any, else an ac_token_state */
	int64_t		 expired_before;/* >0: only rows with 0<expires<this */
};

/* A portal session.  Only the SHA-256 of the random id is stored. */
struct ac_session {
	uint8_t		id_hash[AC_HASH_LEN];
	char		user[AC_MAX_USER + 1];
	char		display_name[AC_MAX_USER + 1];
	char		email[AC_MAX_EMAIL + 1];
	char		csrf[65];		/* hex of 32 random bytes */
	int		level;			/* 0 password only, 1 stepped up */
	int		roles;			/* bit mask, portal-defined */
	int64_t		created;
	int64_t		last_seen;
};

/* A pending challenge (e-mail code, later push). */
struct ac_challenge {
	char		txid[65];		/* random transaction id, hex */
	char		serial[AC_MAX_SERIAL + 1];
	uint64_t	counter;		/* HOTP counter of the sent code */
	int64_t		created;
	int64_t		expires;
	int		used;
};

/* One event row: the hash chain lives in prev and mac (events.h). */
struct ac_event_row {
	int64_t		id;			/* assigned on insert */
	int64_t		time;
	char		actor[AC_MAX_ACTOR + 1];
	char		action[33];
	char		serial[AC_MAX_SERIAL + 1];
	char		user[AC_MAX_USER + 1];
	char		resource[AC_MAX_RESOURCE + 1];
	char		source[AC_MAX_SOURCE + 1];
	char		result[17];
	char		reason[AC_MAX_REASON + 1];
	uint8_t		prev[AC_HASH_LEN];	/* mac of the previous row */
	uint8_t		mac[AC_HASH_LEN];
};

struct ac_event_filter {
	const char	*serial;
	const char	*user;
	int64_t		 after_id;	/* only ids greater than this */
	int		 limit;		/* 0: no limit */
	int		 newest_first;
};

/*
 * Opens the store named by the config (store.driver, store.path).  Does not
 * create anything: a missing file is AC_ERR_NOT_FOUND, a file that is not a
 * tokenportal store AC_ERR_NOT_OURS, a schema other than this program's
 * AC_ERR_SCHEMA (err says which version and what to run) unless
 * allow_old_schema is set (for `tokenctl upgrade`).  err may be NULL.
 */
int ac_store_open(const struct ac_config *cfg, int allow_old_schema,
    ac_store **out, char *err, size_t errlen);

/* Creates a new, empty store at the configured place and opens it.
 * Refuses an existing non-empty database (AC_ERR_EXISTS). */
int ac_store_create(const struct ac_config *cfg, ac_store **out, char *err,
    size_t errlen);

/*
 * The same without a config, for the SQLite backend directly (tests, and
 * tools that already know the file).  busy_timeout_ms < 0 means the
 * default (5000).
 */
int ac_store_open_sqlite(const char *path, int allow_old_schema,
    int busy_timeout_ms, ac_store **out, char *err, size_t errlen);
int ac_store_create_sqlite(const char *path, int busy_timeout_ms,
    ac_store **out, char *err, size_t errlen);

/* Closes; NULL is a no-op.  An open transaction is rolled back. */
void ac_store_close(ac_store *s);

/* A sentence about the last failure on this handle ("" when none); owned
 * by the store, valid until the next call. */
const char *ac_store_last_error(const ac_store *s);

/* Schema version of the open store and of this program. */
int ac_store_schema_version(ac_store *s, int *version);
int ac_store_schema_latest(void);

/* Runs pending migrations in one transaction.  from and to report what was
 * done (equal when nothing was needed). */
int ac_store_upgrade(ac_store *s, int *from, int *to);

/*
 * Transactions.  begin takes the write lock at once (SQLite: BEGIN
 * IMMEDIATE), because every transaction here that reads also writes.  They
 * nest: only the outermost begin/commit reach the backend, and a rollback
 * at any depth rolls the whole transaction back at the outermost end.
 */
int ac_store_begin(ac_store *s);
int ac_store_commit(ac_store *s);
int ac_store_rollback(ac_store *s);

/* Tokens. */
int ac_store_token_get(ac_store *s, const char *serial, struct ac_token *out);
int ac_store_token_insert(ac_store *s, const struct ac_token *t); /* AC_ERR_EXISTS */
int ac_store_token_update(ac_store *s, const struct ac_token *t); /* every column by serial */
int ac_store_token_delete(ac_store *s, const char *serial);
/* Rows matching f, ordered by owner then created; *out is malloc'd (free()
 * it), *n its length (0 with *out NULL when none). */
int ac_store_token_list(ac_store *s, const struct ac_token_filter *f,
    struct ac_token **out, size_t *n);
/* Counts rows matching f. */
int ac_store_token_count(ac_store *s, const struct ac_token_filter *f,
    int *n);

/*
 * The replay guard: sets counter = new_counter, drift, last_used = now,
 * fail_count = 0 and locked_until = 0, but only WHERE counter < new_counter
 * (a single compare-and-set statement).  Returns 0 when this call moved the
 * counter, AC_ERR_REPLAY when it did not (the code was used, possibly by a
 * concurrent validator a moment ago), AC_ERR_NOT_FOUND when there is no
 * such token.  new_counter must be at most INT64_MAX (AC_ERR_INVALID).
 */
int ac_store_token_accept(ac_store *s, const char *serial,
    uint64_t new_counter, int64_t drift, int64_t now);

/*
 * Counts a failure atomically: fail_count + 1, and when that reaches
 * max_fail, locked_until = lock_until (max_fail <= 0: never locks).
 * *fail_count (may be NULL) receives the new count.
 */
int ac_store_token_fail(ac_store *s, const char *serial, int max_fail,
    int64_t lock_until, int *fail_count);

/* Sessions. */
int ac_store_session_put(ac_store *s, const struct ac_session *ss); /* insert or replace */
int ac_store_session_get(ac_store *s, const uint8_t id_hash[AC_HASH_LEN],
    struct ac_session *out);
int ac_store_session_touch(ac_store *s, const uint8_t id_hash[AC_HASH_LEN],
    int64_t now);
int ac_store_session_delete(ac_store *s, const uint8_t id_hash[AC_HASH_LEN]);
/* Deletes sessions idle since before idle_before or created before
 * created_before; *n (may be NULL) gets the count. */
int ac_store_session_sweep(ac_store *s, int64_t idle_before,
    int64_t created_before, int *n);

/*
 * Throttling counters shared by every worker (sign-in attempts per user and
 * per address).  hit adds one attempt at `now` inside a fixed window of
 * `window` seconds (a window older than that restarts at 1) and reports the
 * count in the current window; get reads it without adding; clear forgets
 * the key.
 */
int ac_store_throttle_hit(ac_store *s, const char *key, int64_t now,
    int64_t window, int *count);
int ac_store_throttle_get(ac_store *s, const char *key, int64_t now,
    int64_t window, int *count);
int ac_store_throttle_clear(ac_store *s, const char *key);

/* Challenges. consume marks used=1 only if unused and unexpired at now,
 * i.e. now < expires (compare-and-set: AC_ERR_REPLAY otherwise,
 * AC_ERR_NOT_FOUND for an unknown txid).  put refuses a txid already there
 * (AC_ERR_EXISTS); sweep deletes challenges with expires <= now except
 * each token's newest (highest counter), which challenge_last must still
 * find: the next challenge's counter is derived from it (check.c). */
int ac_store_challenge_put(ac_store *s, const struct ac_challenge *c);
int ac_store_challenge_get(ac_store *s, const char *txid,
    struct ac_challenge *out);
int ac_store_challenge_consume(ac_store *s, const char *txid, int64_t now);
int ac_store_challenge_sweep(ac_store *s, int64_t now, int *n);
/* The challenge of serial with the highest counter (the last code sent),
 * used or not, expired or not; AC_ERR_NOT_FOUND when it has none. */
int ac_store_challenge_last(ac_store *s, const char *serial,
    struct ac_challenge *out);

/* Events: raw rows.  The chain (events.h) is computed by the caller inside
 * a transaction begun with ac_store_begin. */
int ac_store_event_last(ac_store *s, struct ac_event_row *out);
/* e->id 0: the store assigns the next id and sets e->id.  e->id > 0: that
 * id is used as given (the chain MAC covers the id, so the caller computes
 * it as the last id + 1 inside its transaction); AC_ERR_EXISTS if taken.
 * Ids are never reused, even after the last row is deleted. */
int ac_store_event_insert(ac_store *s, struct ac_event_row *e);
/* Calls fn for each row matching f (ids ascending unless newest_first);
 * stops early and returns fn's value if it is non-zero. */
int ac_store_event_each(ac_store *s, const struct ac_event_filter *f,
    int (*fn)(const struct ac_event_row *e, void *arg), void *arg);

#endif
