/*
 * test_events.c - the MAC-chained audit trail: a clean chain verifies; a
 * row deleted, edited, reordered or forged with the database alone (the
 * sqlite3 shell, as an intruder would) is found, with the first bad id.
 */
#include "fixture.h"

static int
setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

static int
teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* Appends n events; the store then holds n + 1 (init wrote the first). */
static void
log_some(struct fixture *fx, int n)
{
	char reason[32];
	int i;

	for (i = 0; i < n; i++) {
		struct ac_event ev = {
			.actor = "test", .action = "note", .serial = "S1",
			.user = "alice", .resource = "vpn", .source = "unit",
			.result = "ok", .reason = reason,
		};

		snprintf(reason, sizeof(reason), "event number %d", i);
		fx->now += 1;
		assert_int_equal(ac_event_log(fx->ctx, &ev), 0);
	}
}

static int
verify(struct fixture *fx, int64_t *count, int64_t *bad, char *err)
{
	return ac_event_verify(fx->ctx, count, bad, err, AC_ERRBUF);
}

static void
clean_chain_verifies(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t count = -1, bad = -1;
	struct ac_event_row e;

	assert_int_equal(verify(fx, &count, &bad, err), 0);
	assert_int_equal(count, 1);		/* init's own event */
	log_some(fx, 5);
	assert_int_equal(verify(fx, &count, &bad, err), 0);
	assert_int_equal(count, 6);
	e = fx_last_event(fx);
	assert_int_equal(e.time, fx->now);
	assert_string_equal(e.reason, "event number 4");
	assert_string_equal(e.resource, "vpn");
}

static void
deleted_row_found(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t count = 0, bad = 0;

	log_some(fx, 5);
	fx_sql(fx, "DELETE FROM events WHERE id = 3;");
	assert_int_equal(verify(fx, &count, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 4);
	assert_int_equal(count, 2);
	assert_non_null(strstr(err, "deleted"));
}

static void
deleted_first_row_found(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t bad = 0;

	log_some(fx, 3);
	fx_sql(fx, "DELETE FROM events WHERE id = 1;");
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 2);
}

static void
edited_field_found(void **state)
{
	struct fixture *fx = *state;
	static const char *const edits[] = {
		"UPDATE events SET reason = 'nothing to see' WHERE id = 4;",
		"UPDATE events SET result = 'reject' WHERE id = 4;",
		"UPDATE events SET user = 'bob' WHERE id = 4;",
		"UPDATE events SET time = time - 3600 WHERE id = 4;",
		"UPDATE events SET serial = '' WHERE id = 4;",
		/* Bytes moved between two fields: the lengths are in the MAC. */
		"UPDATE events SET action = 'notea', user = 'lice' WHERE id = 4;",
	};
	size_t i;

	log_some(fx, 5);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char err[AC_ERRBUF] = "", sql[512];
		int64_t bad = 0;

		/* Each edit on its own: keep a copy of row 4 and put it back. */
		fx_sql(fx, "CREATE TABLE keep AS SELECT * FROM events "
		    "WHERE id = 4;");
		fx_sql(fx, edits[i]);
		assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
		assert_int_equal(bad, 4);
		assert_non_null(strstr(err, "edited"));
		snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id = 4; "
		    "INSERT INTO events SELECT * FROM keep; DROP TABLE keep;");
		fx_sql(fx, sql);
		assert_int_equal(verify(fx, NULL, &bad, err), 0);
	}
}

static void
reordered_rows_found(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t bad = 0;

	log_some(fx, 5);
	/* Swap rows 3 and 4 by their ids. */
	fx_sql(fx, "UPDATE events SET id = -3 WHERE id = 3;"
	    "UPDATE events SET id = 3 WHERE id = 4;"
	    "UPDATE events SET id = 4 WHERE id = -3;");
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 3);
}

static void
forged_chain_found(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t bad = 0;

	log_some(fx, 3);
	/* An intruder appends a row that links correctly to the last one
	 * but cannot compute its MAC without the key file. */
	fx_sql(fx, "INSERT INTO events (time, actor, action, serial, user, "
	    "resource, source, result, reason, prev, mac) SELECT time + 1, "
	    "actor, action, serial, user, resource, source, 'ok', 'forged', "
	    "mac, randomblob(32) FROM events ORDER BY id DESC LIMIT 1;");
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 5);
	/* And an event logged afterwards does not repair it. */
	log_some(fx, 1);
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 5);
}

static void
long_fields_truncated_not_lost(void **state)
{
	struct fixture *fx = *state;
	char reason[AC_MAX_REASON * 2], user[AC_MAX_USER * 2];
	char err[AC_ERRBUF] = "";
	struct ac_event ev = {
		.actor = "test", .action = "note", .reason = reason,
		.user = user,
	};
	struct ac_event_row e;

	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	/* Multi-byte characters across the cut: no half character kept. */
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memcpy(user + AC_MAX_USER - 1, "\xc3\xa9", 2);
	assert_int_equal(ac_event_log(fx->ctx, &ev), 0);
	e = fx_last_event(fx);
	assert_int_equal(strlen(e.reason), AC_MAX_REASON);
	assert_int_equal(strlen(e.user), AC_MAX_USER - 1);
	/* NULL fields are stored empty. */
	assert_string_equal(e.serial, "");
	assert_int_equal(verify(fx, NULL, NULL, err), 0);
}

static void
event_commits_with_its_change(void **state)
{
	struct fixture *fx = *state;
	ac_store *s = ac_ctx_store(fx->ctx);
	struct ac_event ev = { .actor = "test", .action = "note" };
	int n = fx_events(fx);

	/* Logged inside an outer transaction that is rolled back: gone. */
	assert_int_equal(ac_store_begin(s), 0);
	assert_int_equal(ac_event_log(fx->ctx, &ev), 0);
	assert_int_equal(ac_store_rollback(s), 0);
	assert_int_equal(fx_events(fx), n);
	/* Committed: there. */
	assert_int_equal(ac_store_begin(s), 0);
	assert_int_equal(ac_event_log(fx->ctx, &ev), 0);
	assert_int_equal(ac_store_commit(s), 0);
	assert_int_equal(fx_events(fx), n + 1);
	assert_int_equal(ac_event_verify(fx->ctx, NULL, NULL, NULL, 0), 0);
}

/* Replaces the fixture's master key file with 32 other bytes. */
static void
swap_key(struct fixture *fx)
{
	FILE *f;
	uint8_t key[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(unlink(fx->key), 0);
	f = fopen(fx->key, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(key, 1, sizeof(key), f), sizeof(key));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(fx->key, 0600), 0);
}

/* Another key file (a restored backup, a wrong path): the context refuses
 * to open, naming the key file, before anything is sealed or chained under
 * the wrong key, and the database file is left byte for byte as it was. */
static void
wrong_key_refused_at_open(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	ac_ctx *ctx = NULL;
	uint8_t *before, *after;
	size_t nb, na;

	log_some(fx, 2);
	fx_close(fx);
	swap_key(fx);
	before = fx_slurp(fx->db, &nb);
	assert_non_null(before);
	assert_int_equal(ac_ctx_open(fx->conf, &ctx, err, sizeof(err)),
	    AC_ERR_KEY);
	assert_null(ctx);
	assert_non_null(strstr(err, fx->key));
	assert_non_null(strstr(err, "does not match this store"));
	after = fx_slurp(fx->db, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	free(before);
	free(after);
}

/* An edited newest or oldest row alone is tampering, not a wrong key: the
 * context opens (fx_sql reopens it and fails the test otherwise) and the
 * chain check names the row.  Only both ends edited looks like a wrong
 * key, which is then refused the same way. */
static void
one_edited_end_is_not_a_wrong_key(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF] = "";
	int64_t bad = 0;

	log_some(fx, 3);
	fx_sql(fx, "UPDATE events SET reason = 'x' WHERE id = 4;");
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 4);
	log_some(fx, 1);	/* a newest row that verifies again */
	fx_sql(fx, "UPDATE events SET reason = 'y' WHERE id = 1;");
	assert_int_equal(verify(fx, NULL, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 1);
}

/* Deleting the newest rows leaves a chain that verifies on its own; a
 * head recorded before, passed back as an anchor, shows the cut, also
 * when new events have since been appended over the deleted ids. */
static void
truncated_tail_found_with_anchor(void **state)
{
	struct fixture *fx = *state;
	struct ac_event_head head, now;
	char err[AC_ERRBUF] = "";
	int64_t count = 0, bad = 0;

	log_some(fx, 5);
	assert_int_equal(ac_event_verify_head(fx->ctx, NULL, &head, &count,
	    &bad, err, sizeof(err)), 0);
	assert_int_equal(head.id, 6);
	assert_int_equal(count, 6);
	assert_memory_equal(head.mac, fx_last_event(fx).mac, AC_HASH_LEN);
	/* Untouched, and after more events: the anchor is still there. */
	log_some(fx, 2);
	assert_int_equal(ac_event_verify_head(fx->ctx, &head, &now, &count,
	    &bad, err, sizeof(err)), 0);
	assert_int_equal(now.id, 8);

	fx_sql(fx, "DELETE FROM events WHERE id >= 5;");
	assert_int_equal(verify(fx, &count, &bad, err), 0);	/* the limit */
	assert_int_equal(ac_event_verify_head(fx->ctx, &head, &now, &count,
	    &bad, err, sizeof(err)), AC_ERR_TAMPERED);
	assert_int_equal(bad, 6);
	assert_int_equal(now.id, 4);
	assert_non_null(strstr(err, "newest events were deleted"));

	/* New events fill the ids again: row 6 exists, but not the one. */
	log_some(fx, 3);
	assert_int_equal(ac_event_verify_head(fx->ctx, &head, NULL, NULL,
	    &bad, err, sizeof(err)), AC_ERR_TAMPERED);
	assert_int_equal(bad, 6);
	assert_non_null(strstr(err, "replaced"));

	/* Everything deleted: init's first event is gone too, so even
	 * without the anchor an empty log is not intact. */
	fx_sql(fx, "DELETE FROM events;");
	assert_int_equal(verify(fx, &count, &bad, err), AC_ERR_TAMPERED);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(ac_event_verify_head(fx->ctx, &head, &now, NULL,
	    &bad, err, sizeof(err)), AC_ERR_TAMPERED);
	assert_int_equal(now.id, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(clean_chain_verifies),
		T(deleted_row_found),
		T(deleted_first_row_found),
		T(edited_field_found),
		T(reordered_rows_found),
		T(forged_chain_found),
		T(long_fields_truncated_not_lost),
		T(event_commits_with_its_change),
		T(wrong_key_refused_at_open),
		T(one_edited_end_is_not_a_wrong_key),
		T(truncated_tail_found_with_anchor),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
