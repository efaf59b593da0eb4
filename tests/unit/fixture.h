/*
 * fixture.h - a throw-away auth core for unit tests: a temporary folder
 * with a config file, a master key and a SQLite store made by the real
 * `init` path, and a fixed clock the test moves by hand (no sleeping).
 *
 * Included by the test files that need it; everything is static inline so
 * that a test using only part of it compiles without warnings.
 */
#ifndef TP_TEST_FIXTURE_H
#define TP_TEST_FIXTURE_H

/* nftw() and FTW_DEPTH; this header comes before any system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "authcore.h"
#include "check.h"
#include "events.h"
#include "otp.h"
#include "seal.h"
#include "store.h"
#include "tokens.h"

/* A Unix time in 2023, not on a step boundary (a step starts at
 * 1699999980), so that +-15 s stays inside the same 30 s step. */
#define FX_T0	1699999995LL

/* RFC 4226 Appendix D's secret, "12345678901234567890". */
static const uint8_t fx_rfc_secret[20] = {
	'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
	'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
};

struct fixture {
	char	 dir[PATH_MAX];
	char	 conf[PATH_MAX];
	char	 db[PATH_MAX];
	char	 key[PATH_MAX];
	ac_ctx	*ctx;
	int64_t	 now;
};

static inline int64_t
fx_clock(void *arg)
{
	return ((const struct fixture *)arg)->now;
}

static inline void
fx_path(char *out, const struct fixture *fx, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", fx->dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

/* Writes the config file: the store and key in the folder, plus extra
 * HDF lines (may be NULL). */
static inline void
fx_write_config(struct fixture *fx, const char *extra)
{
	FILE *f = fopen(fx->conf, "w");

	assert_non_null(f);
	fprintf(f, "store.driver = sqlite\nstore.path = tokens.db\n"
	    "keys.master_file = master.key\n%s\n", extra != NULL ? extra : "");
	assert_int_equal(fclose(f), 0);
}

/* (Re)opens the context on the fixture's files with the fixed clock. */
static inline void
fx_open(struct fixture *fx)
{
	char err[AC_ERRBUF] = "";
	int r;

	r = ac_ctx_open(fx->conf, &fx->ctx, err, sizeof(err));
	if (r != 0)
		fail_msg("ac_ctx_open: %s (%s)", ac_strerror(r), err);
	ac_ctx_set_clock(fx->ctx, fx_clock, fx);
}

static inline void
fx_close(struct fixture *fx)
{
	ac_ctx_free(fx->ctx);
	fx->ctx = NULL;
}

/* A folder, a config with `extra` lines, `init`, and an open context. */
static inline struct fixture *
fx_new(const char *extra)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char err[AC_ERRBUF] = "";
	int r;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/tp-unit-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	fx_path(fx->conf, fx, "tokenportal.hdf");
	fx_path(fx->db, fx, "tokens.db");
	fx_path(fx->key, fx, "master.key");
	fx_write_config(fx, extra);
	r = ac_ctx_init(fx->conf, err, sizeof(err));
	if (r != 0)
		fail_msg("ac_ctx_init: %s (%s)", ac_strerror(r), err);
	fx->now = FX_T0;
	fx_open(fx);
	return fx;
}

static inline int
fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
fx_free(struct fixture *fx)
{
	if (fx == NULL)
		return;
	fx_close(fx);
	(void)nftw(fx->dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
}

static const struct ac_who fx_who = { "test:admin", "unit" };

/* Adds an active token with a known secret and returns nothing; fails the
 * test on error. */
static inline void
fx_add(struct fixture *fx, const char *serial, enum ac_token_type type,
    const char *owner, const uint8_t *secret, size_t n, enum ac_algo algo,
    int digits)
{
	struct ac_token_spec spec = {
		.serial = serial, .type = type, .owner = owner, .algo = algo,
		.digits = digits,
	};
	char err[AC_ERRBUF] = "";
	int r;

	r = ac_token_add(fx->ctx, &fx_who, &spec, secret, n, err, sizeof(err));
	if (r != 0)
		fail_msg("ac_token_add %s: %s (%s)", serial, ac_strerror(r),
		    err);
}

/* The HOTP value of secret at counter, computed by the otp module (which
 * is tested against the RFC vectors and oathtool on its own). */
static inline void
fx_hotp(const uint8_t *secret, size_t n, enum ac_algo algo, int digits,
    uint64_t counter, char code[AC_MAX_CODE + 1])
{
	ac_otp *o = NULL;

	assert_int_equal(ac_otp_new(algo, secret, n, digits, &o), 0);
	assert_int_equal(ac_otp_hotp(o, counter, code, AC_MAX_CODE + 1), 0);
	ac_otp_free(o);
}

/* The TOTP value (30 s steps) at Unix time t shifted by `steps` steps. */
static inline void
fx_totp(const uint8_t *secret, size_t n, int64_t t, int steps,
    char code[AC_MAX_CODE + 1])
{
	fx_hotp(secret, n, AC_ALGO_SHA1, 6,
	    (uint64_t)((int64_t)ac_totp_step(t, 30) + steps), code);
}

static inline struct ac_token
fx_get(struct fixture *fx, const char *serial)
{
	struct ac_token t;

	assert_int_equal(ac_store_token_get(ac_ctx_store(fx->ctx), serial,
	    &t), 0);
	return t;
}

/* Runs a check and returns its result; the reason goes to why (may be
 * NULL, else AC_MAX_REASON + 1 bytes). */
static inline enum ac_result
fx_check(struct fixture *fx, const char *user, const char *resource,
    const char *passcode, char *why)
{
	struct ac_check_result res;
	int r;

	r = ac_check(fx->ctx, user, resource, passcode, "unit", &res);
	if (why != NULL)
		snprintf(why, AC_MAX_REASON + 1, "%s", res.reason);
	if (r != 0)
		assert_int_equal(res.result, AC_RESULT_ERROR);
	return res.result;
}

static inline int
fx_count_row(const struct ac_event_row *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/* Number of rows in the event log. */
static inline int
fx_events(struct fixture *fx)
{
	struct ac_event_filter f;
	int n = 0;

	memset(&f, 0, sizeof(f));
	assert_int_equal(ac_store_event_each(ac_ctx_store(fx->ctx), &f,
	    fx_count_row, &n), 0);
	return n;
}

static inline int
fx_last_row(const struct ac_event_row *e, void *arg)
{
	*(struct ac_event_row *)arg = *e;
	return 1;
}

/* The newest event row. */
static inline struct ac_event_row
fx_last_event(struct fixture *fx)
{
	struct ac_event_filter f;
	struct ac_event_row row;

	memset(&f, 0, sizeof(f));
	memset(&row, 0, sizeof(row));
	f.newest_first = 1;
	f.limit = 1;
	assert_int_equal(ac_store_event_each(ac_ctx_store(fx->ctx), &f,
	    fx_last_row, &row), 1);
	return row;
}

/* Runs SQL on the store file with the sqlite3 command-line shell, as an
 * attacker with only the database would; the context is closed around it. */
static inline void
fx_sql(struct fixture *fx, const char *sql)
{
	char cmd[PATH_MAX + 64];
	FILE *p;

	fx_close(fx);
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' >/dev/null", fx->db);
	p = popen(cmd, "w");
	assert_non_null(p);
	fputs(sql, p);
	fputs("\n", p);
	assert_int_equal(pclose(p), 0);
	fx_open(fx);
}

/* Reads a whole file into a malloc'd buffer (NULL and 0 when absent). */
static inline uint8_t *
fx_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, got;

	*n = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	*n = len;
	return buf;
}

#endif
