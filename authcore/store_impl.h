/*
 * store_impl.h - what a token store backend provides (DESIGN.md 4).
 *
 * For backends and store.c only; callers use store.h.  A backend is one
 * open function plus one table of operations.  The generic layer (store.c)
 * checks arguments and lengths, keeps the transaction depth and the last
 * error message, and then calls the table; a backend may therefore assume
 * non-NULL pointers, NUL-terminated strings within their limits and a
 * valid handle.  Adding a backend (PostgreSQL) means writing one more
 * ops table and adding one line to the driver list in store.c.
 */
#ifndef AC_STORE_IMPL_H
#define AC_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ac_limits.h"
#include "store.h"

/*
 * The schema version this program writes.  Every backend keeps a list of
 * migrations that brings its schema from 0 (empty) to this number; a new
 * column means one more migration in each backend and one more here.
 */
#define AC_STORE_SCHEMA_LATEST	1

/* What an open function needs; filled by store.c from the config. */
struct ac_store_params {
	const char	*path;		/* SQLite file; a conninfo later */
	int		 busy_timeout_ms;
	int		 allow_old_schema;
	int		 create;	/* create a new, empty store */
};

struct ac_store_ops {
	const char *name;		/* "sqlite" */

	/* Releases the backend state (s->be); never fails. */
	void	(*close)(ac_store *s);

	int	(*schema_version)(ac_store *s, int *version);
	int	(*upgrade)(ac_store *s, int *from, int *to);

	/* The outermost transaction only: store.c handles nesting. */
	int	(*begin)(ac_store *s);
	int	(*commit)(ac_store *s);
	int	(*rollback)(ac_store *s);

	int	(*token_get)(ac_store *s, const char *serial,
		    struct ac_token *out);
	int	(*token_insert)(ac_store *s, const struct ac_token *t);
	int	(*token_update)(ac_store *s, const struct ac_token *t);
	int	(*token_delete)(ac_store *s, const char *serial);
	int	(*token_list)(ac_store *s, const struct ac_token_filter *f,
		    struct ac_token **out, size_t *n);
	int	(*token_count)(ac_store *s, const struct ac_token_filter *f,
		    int *n);
	int	(*token_accept)(ac_store *s, const char *serial,
		    uint64_t new_counter, int64_t drift, int64_t now);
	int	(*token_fail)(ac_store *s, const char *serial, int max_fail,
		    int64_t lock_until, int *fail_count);

	int	(*session_put)(ac_store *s, const struct ac_session *ss);
	int	(*session_get)(ac_store *s, const uint8_t *id_hash,
		    struct ac_session *out);
	int	(*session_touch)(ac_store *s, const uint8_t *id_hash,
		    int64_t now);
	int	(*session_delete)(ac_store *s, const uint8_t *id_hash);
	int	(*session_sweep)(ac_store *s, int64_t idle_before,
		    int64_t created_before, int *n);

	int	(*throttle_hit)(ac_store *s, const char *key, int64_t now,
		    int64_t window, int *count);
	int	(*throttle_get)(ac_store *s, const char *key, int64_t now,
		    int64_t window, int *count);
	int	(*throttle_clear)(ac_store *s, const char *key);

	int	(*challenge_put)(ac_store *s, const struct ac_challenge *c);
	int	(*challenge_get)(ac_store *s, const char *txid,
		    struct ac_challenge *out);
	int	(*challenge_consume)(ac_store *s, const char *txid,
		    int64_t now);
	int	(*challenge_sweep)(ac_store *s, int64_t now, int *n);
	int	(*challenge_last)(ac_store *s, const char *serial,
		    struct ac_challenge *out);

	int	(*event_last)(ac_store *s, struct ac_event_row *out);
	int	(*event_insert)(ac_store *s, struct ac_event_row *e);
	int	(*event_each)(ac_store *s, const struct ac_event_filter *f,
		    int (*fn)(const struct ac_event_row *e, void *arg),
		    void *arg);
};

/* The handle.  Only store.c and backends see inside it. */
struct ac_store {
	const struct ac_store_ops *ops;
	void		*be;		/* backend state, owned by ops->close */
	int		 depth;		/* nesting of ac_store_begin */
	int		 doomed;	/* a nested rollback happened */
	char		 err[AC_ERRBUF];/* last error, for ac_store_last_error */
};

/*
 * A backend's open function: opens (or with p->create, creates) the store
 * and sets s->ops and s->be.  On failure it returns an AC_ERR_* code with
 * a sentence in err and leaves s->be NULL (everything it allocated freed).
 */
typedef int (*ac_store_open_fn)(const struct ac_store_params *p,
    ac_store *s, char *err, size_t errlen);

/* Records a printf-style message as the store's last error; returns r so a
 * backend can write `return ac_store_fail(s, r, "...", ...)`. */
int ac_store_fail(ac_store *s, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The SQLite backend (store_sqlite.c). */
int ac_store_sqlite_open(const struct ac_store_params *p, ac_store *s,
    char *err, size_t errlen);

#endif
