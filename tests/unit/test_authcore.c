/*
 * test_authcore.c - the context: init (creates key then store, refuses an
 * existing key, leaves nothing behind on failure, writes a first event),
 * open, policy keys with their defaults and clear errors, the injectable
 * clock and the password verifier hook.
 */
#include "fixture.h"

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
init_creates_key_store_and_event(void **state)
{
	struct fixture *fx = fx_new(NULL);
	struct stat st;
	struct ac_event_row e;
	int64_t count = 0;

	(void)state;
	assert_int_equal(stat(fx->key, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 077, 0);
	assert_true(exists(fx->db));
	e = fx_last_event(fx);
	assert_string_equal(e.action, "init");
	assert_int_equal(ac_event_verify(fx->ctx, &count, NULL, NULL, 0), 0);
	assert_int_equal(count, 1);
	fx_free(fx);
}

static void
init_refuses_existing_key(void **state)
{
	struct fixture *fx = fx_new(NULL);
	char err[AC_ERRBUF] = "";
	uint8_t *before, *after;
	size_t nb, na;

	(void)state;
	fx_add(fx, "T1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	fx_close(fx);
	before = fx_slurp(fx->key, &nb);
	assert_int_equal(ac_ctx_init(fx->conf, err, sizeof(err)),
	    AC_ERR_EXISTS);
	assert_non_null(strstr(err, "master.key"));
	/* The key and the store are untouched. */
	after = fx_slurp(fx->key, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
	fx_open(fx);
	(void)fx_get(fx, "T1");
	fx_free(fx);
}

static void
init_leaves_nothing_on_failure(void **state)
{
	struct fixture *fx = fx_new(NULL);
	char err[AC_ERRBUF] = "";

	(void)state;
	fx_close(fx);
	/* The key is gone but the store is there: init makes a key, then
	 * fails on the store, and must take its new key away again. */
	assert_int_equal(unlink(fx->key), 0);
	assert_int_not_equal(ac_ctx_init(fx->conf, err, sizeof(err)), 0);
	assert_true(err[0] != '\0');
	assert_false(exists(fx->key));
	assert_true(exists(fx->db));
	fx_free(fx);
}

static void
open_without_key_fails(void **state)
{
	struct fixture *fx = fx_new(NULL);
	char err[AC_ERRBUF] = "";
	ac_ctx *ctx = NULL;

	(void)state;
	fx_close(fx);
	/* A store without its key cannot be opened. */
	assert_int_equal(unlink(fx->key), 0);
	assert_int_not_equal(ac_ctx_open(fx->conf, &ctx, err, sizeof(err)),
	    0);
	assert_null(ctx);
	assert_true(err[0] != '\0');
	fx_free(fx);
}

static void
policy_defaults(void **state)
{
	struct fixture *fx = fx_new(NULL);
	const struct ac_policy *p = ac_ctx_policy(fx->ctx);

	(void)state;
	assert_int_equal(p->max_fail, 10);
	assert_int_equal(p->lock_seconds, 30 * 60);
	assert_int_equal(p->hotp_window, 10);
	assert_int_equal(p->totp_window, 1);
	assert_int_equal(p->resync_hotp_window, 1000);
	assert_int_equal(p->resync_totp_window, 60);
	assert_int_equal(p->pending_seconds, 10 * 60);
	assert_non_null(ac_ctx_config(fx->ctx));
	assert_non_null(ac_ctx_keyring(fx->ctx));
	assert_non_null(ac_ctx_store(fx->ctx));
	fx_free(fx);
}

static void
policy_values(void **state)
{
	struct fixture *fx = fx_new("check.max_fail = 5\n"
	    "check.lock_minutes = 0\ncheck.hotp_window = 20\n"
	    "check.totp_window = 2\ncheck.resync_hotp_window = 500\n"
	    "check.resync_totp_window = 10\nenroll.pending_minutes = 15\n");
	const struct ac_policy *p = ac_ctx_policy(fx->ctx);

	(void)state;
	assert_int_equal(p->max_fail, 5);
	assert_int_equal(p->lock_seconds, 0);
	assert_int_equal(p->hotp_window, 20);
	assert_int_equal(p->totp_window, 2);
	assert_int_equal(p->resync_hotp_window, 500);
	assert_int_equal(p->resync_totp_window, 10);
	assert_int_equal(p->pending_seconds, 15 * 60);
	fx_free(fx);
}

static void
policy_errors_name_the_key(void **state)
{
	static const char *const bad[][2] = {
		{ "check.max_fail = 0\n", "check.max_fail" },
		{ "check.max_fail = ten\n", "check.max_fail" },
		{ "check.lock_minutes = -5\n", "check.lock_minutes" },
		{ "check.hotp_window = 1000000\n", "check.hotp_window" },
		{ "check.totp_window = 99\n", "check.totp_window" },
		{ "check.resync_hotp_window = 0\n", "check.resync_hotp_window" },
		{ "check.resync_totp_window = x\n", "check.resync_totp_window" },
		{ "enroll.pending_minutes = 0\n", "enroll.pending_minutes" },
	};
	struct fixture *fx = fx_new(NULL);
	size_t i;

	(void)state;
	fx_close(fx);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[AC_ERRBUF] = "";
		ac_ctx *ctx = NULL;

		fx_write_config(fx, bad[i][0]);
		assert_int_equal(ac_ctx_open(fx->conf, &ctx, err, sizeof(err)),
		    AC_ERR_CONFIG);
		assert_null(ctx);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("'%s' does not name %s", err, bad[i][1]);
	}
	fx_write_config(fx, NULL);
	fx_open(fx);
	fx_free(fx);
}

static void
missing_key_setting(void **state)
{
	struct fixture *fx = fx_new(NULL);
	char err[AC_ERRBUF] = "";
	ac_ctx *ctx = NULL;
	FILE *f;

	(void)state;
	fx_close(fx);
	f = fopen(fx->conf, "w");
	assert_non_null(f);
	fputs("store.driver = sqlite\nstore.path = tokens.db\n", f);
	fclose(f);
	assert_int_equal(ac_ctx_open(fx->conf, &ctx, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "keys.master_file"));
	/* init refuses too, and creates nothing. */
	assert_int_equal(ac_ctx_init(fx->conf, err, sizeof(err)),
	    AC_ERR_CONFIG);
	fx_free(fx);
}

static void
init_refuses_bad_policy_before_creating(void **state)
{
	char dir[] = "/tmp/tp-unit-XXXXXX", conf[PATH_MAX], path[PATH_MAX];
	char err[AC_ERRBUF] = "";
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/c.hdf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("store.path = t.db\nkeys.master_file = k.key\n"
	    "check.max_fail = -1\n", f);
	fclose(f);
	assert_int_equal(ac_ctx_init(conf, err, sizeof(err)), AC_ERR_CONFIG);
	snprintf(path, sizeof(path), "%s/k.key", dir);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	assert_false(exists(path));
	unlink(conf);
	rmdir(dir);
}

static int64_t
fixed(void *arg)
{
	return *(const int64_t *)arg;
}

static void
clock_injectable(void **state)
{
	struct fixture *fx = fx_new(NULL);
	int64_t t = 4102444800LL;	/* 2100-01-01: past 2038 */
	int64_t sys;

	(void)state;
	ac_ctx_set_clock(fx->ctx, fixed, &t);
	assert_int_equal(ac_ctx_now(fx->ctx), 4102444800LL);
	ac_ctx_set_clock(fx->ctx, NULL, NULL);
	sys = ac_ctx_now(fx->ctx);
	assert_true(sys > 1700000000LL && sys < 4102444800LL);
	fx_free(fx);
}

static int calls;

static int
verifier(void *arg, const char *user, const char *password)
{
	calls++;
	assert_string_equal((const char *)arg, "dir");
	return strcmp(user, "alice") == 0 && strcmp(password, "pw") == 0 ?
	    0 : AC_ERR_DENIED;
}

static void
password_verifier(void **state)
{
	struct fixture *fx = fx_new(NULL);

	(void)state;
	assert_int_not_equal(ac_ctx_verify_password(fx->ctx, "alice", "pw"),
	    0);
	ac_ctx_set_password_verifier(fx->ctx, verifier, "dir");
	calls = 0;
	assert_int_equal(ac_ctx_verify_password(fx->ctx, "alice", "pw"), 0);
	assert_int_equal(ac_ctx_verify_password(fx->ctx, "alice", "px"),
	    AC_ERR_DENIED);
	assert_int_equal(calls, 2);
	/* An empty password never reaches the directory. */
	assert_int_equal(ac_ctx_verify_password(fx->ctx, "alice", ""),
	    AC_ERR_DENIED);
	assert_int_equal(calls, 2);
	fx_free(fx);
}

static void
free_null(void **state)
{
	(void)state;
	ac_ctx_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_creates_key_store_and_event),
		cmocka_unit_test(init_refuses_existing_key),
		cmocka_unit_test(init_leaves_nothing_on_failure),
		cmocka_unit_test(open_without_key_fails),
		cmocka_unit_test(policy_defaults),
		cmocka_unit_test(policy_values),
		cmocka_unit_test(policy_errors_name_the_key),
		cmocka_unit_test(missing_key_setting),
		cmocka_unit_test(init_refuses_bad_policy_before_creating),
		cmocka_unit_test(clock_injectable),
		cmocka_unit_test(password_verifier),
		cmocka_unit_test(free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
