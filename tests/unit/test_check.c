/*
 * test_check.c - the decision (DESIGN.md 5): windows, replay, drift, PIN
 * before/after, directory and none modes, fail counter and lock, bypass,
 * disabled and pending tokens, one event per check; the e-mail challenge
 * (trigger, mailed code used once, expiry, send limit, no mailer).
 */
#include "fixture.h"

#include <sys/wait.h>

#define PIN	"Zq7#pin!9x"

static const char *const policy_conf =
    "check.max_fail = 3\n"
    "check.lock_minutes = 30\n"
    "resources.vpn.pin_mode = token\n"
    "resources.vpn.pin_position = after\n"
    "resources.ssh.pin_mode = none\n"
    "resources.corp.pin_mode = directory\n"
    "check.email_max_sends = 3\n";

static int
setup(void **state)
{
	*state = fx_new(policy_conf);
	return 0;
}

static int
teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* alice: TOTP "T1" on the RFC secret, no PIN. */
static void
add_totp(struct fixture *fx)
{
	fx_add(fx, "T1", AC_TOKEN_TOTP, "alice", fx_rfc_secret,
	    sizeof(fx_rfc_secret), AC_ALGO_SHA1, 6);
}

static void
set_pin(struct fixture *fx, const char *serial, const char *pin)
{
	char err[AC_ERRBUF];

	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, serial, pin, err,
	    sizeof(err)), 0);
}

/* The code oathtool prints for the RFC secret at time t: a reference
 * no one here wrote. */
static int
oathtool_totp(int64_t t, char code[AC_MAX_CODE + 1])
{
	char cmd[256];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "oathtool --totp -N @%lld "
	    "3132333435363738393031323334353637383930 2>/dev/null",
	    (long long)t);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	ok = fgets(code, AC_MAX_CODE + 1, p) != NULL;
	pclose(p);
	if (!ok)
		return -1;
	code[strcspn(code, "\r\n")] = '\0';
	return 0;
}

static void
totp_accept_then_replay(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], why[AC_MAX_REASON + 1];

	add_totp(fx);
	if (oathtool_totp(fx->now, code) != 0)
		fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(strlen(code), 6);
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_ACCEPT);
	/* The same code again, even a second later, is a replay. */
	fx->now += 1;
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "already used"));
	/* Refused, but not counted towards the lock. */
	assert_int_equal(fx_get(fx, "T1").fail_count, 0);
	/* The next step's code is fine. */
	fx->now += 30;
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
totp_window(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], why[AC_MAX_REASON + 1];

	add_totp(fx);
	fx_add(fx, "T2", AC_TOKEN_TOTP, "bob", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	/* 2 steps away either side is outside the default window of 1. */
	fx_totp(fx_rfc_secret, 20, fx->now, 2, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	fx_totp(fx_rfc_secret, 20, fx->now, -2, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	/* One step behind (a slow typist) and one ahead are accepted. */
	fx_totp(fx_rfc_secret, 20, fx->now, -1, code);
	assert_int_equal(fx_check(fx, "bob", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	fx_totp(fx_rfc_secret, 20, fx->now, 1, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	/* After accepting step +1, the earlier step 0 is refused although it
	 * is inside the window: steps at or before the last accepted one
	 * never come back. */
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "already used"));
}

static void
totp_drift_remembered(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1];
	struct ac_token t;

	add_totp(fx);
	fx_add(fx, "T2", AC_TOKEN_TOTP, "bob", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	/* A token whose clock runs one step ahead. */
	fx_totp(fx_rfc_secret, 20, fx->now, 1, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	t = fx_get(fx, "T1");
	assert_int_equal(t.drift, 1);
	/* It gains another step: two ahead of the server, one ahead of the
	 * remembered drift, so still inside the window. */
	fx->now += 60;
	fx_totp(fx_rfc_secret, 20, fx->now, 2, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	t = fx_get(fx, "T2");
	assert_int_equal(t.drift, 0);
	t = fx_get(fx, "T1");
	assert_int_equal(t.drift, 2);
	/* Without the drift memory the same offset fails (bob's token). */
	assert_int_equal(fx_check(fx, "bob", NULL, code, NULL),
	    AC_RESULT_REJECT);
}

/*
 * The drift memory cannot walk away: each accept may move it one window
 * further, so a token (or someone holding it with its clock wound on)
 * could otherwise drag the accepted steps arbitrarily far from the
 * server's clock.  It stays within check.resync_totp_window, the widest
 * offset an admin's resync may set.
 */
static void
totp_drift_bounded(void **state)
{
	struct fixture *fx = fx_new("check.resync_totp_window = 3\n");
	char code[AC_MAX_CODE + 1];
	int k;

	(void)state;
	add_totp(fx);
	for (k = 1; k <= 3; k++) {
		fx_totp(fx_rfc_secret, 20, fx->now, k, code);
		assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
		    AC_RESULT_ACCEPT);
		assert_int_equal(fx_get(fx, "T1").drift, k);
	}
	/* One step past the remembered drift, inside the window around
	 * it, but 4 steps from the server's clock: refused. */
	fx_totp(fx_rfc_secret, 20, fx->now, 4, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_get(fx, "T1").drift, 3);
	/* A drift beyond the bound (an edited row) is treated as the bound,
	 * without overflowing the step arithmetic. */
	fx_sql(fx, "UPDATE tokens SET drift = 9223372036854775000;");
	fx_totp(fx_rfc_secret, 20, fx->now, 4, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	fx->now += 30;
	fx_totp(fx_rfc_secret, 20, fx->now, 3, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	fx_free(fx);
}

/* The store keeps counters up to INT64_MAX; the last counter cannot be
 * accepted (nothing is left to move to), and trying must be a plain
 * REJECT, not an error. */
static void
hotp_counter_at_the_top(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1];

	fx_add(fx, "H1", AC_TOKEN_HOTP, "carol", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	fx_sql(fx, "UPDATE tokens SET counter = 9223372036854775806;");
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, INT64_MAX - 1, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	assert_true(fx_get(fx, "H1").counter == (uint64_t)INT64_MAX);
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, INT64_MAX, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, NULL),
	    AC_RESULT_REJECT);
}

static void
hotp_window(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], why[AC_MAX_REASON + 1];

	fx_add(fx, "H1", AC_TOKEN_HOTP, "carol", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	/* Counter 5 is inside the look-ahead window of 10. */
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 5, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_get(fx, "H1").counter, 6);
	/* Counter 3 was skipped over: it is in the past now. */
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 3, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "already used"));
	/* 6 + 10 = 16 is the far edge; 17 is out of reach. */
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 17, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, NULL),
	    AC_RESULT_REJECT);
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 16, code);
	assert_int_equal(fx_check(fx, "carol", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	/* Counter 0 (RFC 4226 Appendix D: 755224) is long gone. */
	assert_int_equal(fx_check(fx, "carol", NULL, "755224", NULL),
	    AC_RESULT_REJECT);
}

static void
hotp_rfc_vector(void **state)
{
	struct fixture *fx = *state;

	/* RFC 4226 Appendix D: counter 0 is 755224, counter 1 is 287082. */
	fx_add(fx, "H1", AC_TOKEN_HOTP, "carol", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(fx_check(fx, "carol", NULL, "287082", NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_check(fx, "carol", NULL, "755224", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "carol", NULL, "287082", NULL),
	    AC_RESULT_REJECT);
}

static void
pin_before_and_after(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], pass[64];

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	/* Default resource: PIN then OTP. */
	fx_totp(fx_rfc_secret, 20, fx->now, -1, code);
	snprintf(pass, sizeof(pass), "%s%s", PIN, code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_ACCEPT);
	/* vpn: OTP then PIN; the other order is refused. */
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	snprintf(pass, sizeof(pass), "%s%s", PIN, code);
	assert_int_equal(fx_check(fx, "alice", "vpn", pass, NULL),
	    AC_RESULT_REJECT);
	snprintf(pass, sizeof(pass), "%s%s", code, PIN);
	assert_int_equal(fx_check(fx, "alice", "vpn", pass, NULL),
	    AC_RESULT_ACCEPT);
}

static void
pin_required_and_wrong(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], pass[64], why[AC_MAX_REASON + 1];

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	/* The OTP alone is not enough once the token has a PIN. */
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "PIN"));
	snprintf(pass, sizeof(pass), "Zq7#pin!9y%s", code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "PIN"));
	/* Wrong PINs count towards the lock like wrong codes. */
	assert_int_equal(fx_get(fx, "T1").fail_count, 2);
	snprintf(pass, sizeof(pass), "%s%s", PIN, code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_get(fx, "T1").fail_count, 0);
}

static void
token_without_pin_refuses_extra(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], pass[64];

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	snprintf(pass, sizeof(pass), "1234%s", code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
pin_mode_none(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], pass[64];

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	snprintf(pass, sizeof(pass), "%s%s", PIN, code);
	/* ssh takes the OTP alone, even from a token with a PIN. */
	assert_int_equal(fx_check(fx, "alice", "ssh", pass, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "alice", "ssh", code, NULL),
	    AC_RESULT_ACCEPT);
}

static int dir_calls;

static int
fake_directory(void *arg, const char *user, const char *password)
{
	(void)arg;
	dir_calls++;
	if (strcmp(user, "alice") == 0 && strcmp(password, "correct horse") == 0)
		return 0;
	return AC_ERR_DENIED;
}

static void
pin_mode_directory(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], pass[64];

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	snprintf(pass, sizeof(pass), "correct horse%s", code);
	/* No directory to ask: an error, never an accept. */
	assert_int_equal(fx_check(fx, "alice", "corp", pass, NULL),
	    AC_RESULT_ERROR);
	ac_ctx_set_password_verifier(fx->ctx, fake_directory, NULL);
	dir_calls = 0;
	snprintf(pass, sizeof(pass), "wrong horse%s", code);
	assert_int_equal(fx_check(fx, "alice", "corp", pass, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(dir_calls, 1);
	snprintf(pass, sizeof(pass), "correct horse%s", code);
	assert_int_equal(fx_check(fx, "alice", "corp", pass, NULL),
	    AC_RESULT_ACCEPT);
	/* The OTP alone (an empty password) never reaches the directory. */
	dir_calls = 0;
	fx_totp(fx_rfc_secret, 20, fx->now, 1, code);
	assert_int_equal(fx_check(fx, "alice", "corp", code, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(dir_calls, 0);
}

/* `directory` mode: an unknown user, or one without a usable token, costs
 * a directory round trip like a known one (the answer is thrown away), and
 * a directory that is down is an error for everybody alike. */
static void
pin_mode_directory_unknown_user(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;

	add_totp(fx);
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "T1"), 0);
	ac_ctx_set_password_verifier(fx->ctx, fake_directory, NULL);
	dir_calls = 0;
	assert_int_equal(fx_check(fx, "nobody", "corp", "wrong horse123456",
	    NULL), AC_RESULT_REJECT);
	assert_int_equal(dir_calls, 1);
	/* alice's only token is disabled: the same. */
	assert_int_equal(fx_check(fx, "alice", "corp", "correct horse123456",
	    NULL), AC_RESULT_REJECT);
	assert_int_equal(dir_calls, 2);
	ac_ctx_set_password_verifier(fx->ctx, NULL, NULL);
	assert_int_not_equal(ac_check(fx->ctx, "nobody", "corp",
	    "wrong horse123456", "unit", &res), 0);
	assert_int_equal(res.result, AC_RESULT_ERROR);
}

/* A code that is certainly wrong: the right one with its first digit
 * changed. */
static void
wrong_code(const char *code, char wrong[AC_MAX_CODE + 1])
{
	snprintf(wrong, AC_MAX_CODE + 1, "%s", code);
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
}

static void
lock_at_max_fail_and_expiry(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1];
	char why[AC_MAX_REASON + 1];
	struct ac_token t;
	int i;

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	wrong_code(code, wrong);
	for (i = 0; i < 3; i++)
		assert_int_equal(fx_check(fx, "alice", NULL, wrong, NULL),
		    AC_RESULT_REJECT);
	t = fx_get(fx, "T1");
	assert_int_equal(t.fail_count, 3);
	assert_int_equal(t.locked_until, fx->now + 30 * 60);
	assert_int_equal(ac_token_status(&t, fx->now), AC_STATUS_LOCKED);
	/* Locked: even the right code is refused, and nothing is counted. */
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "locked"));
	assert_int_equal(fx_get(fx, "T1").fail_count, 3);
	/* Still locked a second before the end. */
	fx->now += 30 * 60 - 1;
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	/* Then the lock runs out; one wrong code does not lock it again at
	 * once (a fresh count)... */
	fx->now += 1;
	wrong_code(code, wrong);
	assert_int_equal(fx_check(fx, "alice", NULL, wrong, NULL),
	    AC_RESULT_REJECT);
	t = fx_get(fx, "T1");
	assert_int_equal(t.fail_count, 1);
	assert_int_equal(ac_token_status(&t, fx->now), AC_STATUS_ACTIVE);
	/* ...and a right code is accepted and clears the count. */
	fx->now += 30;
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_get(fx, "T1").fail_count, 0);
}

static void
unlock_lifts_the_lock(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1];
	int i;

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	wrong_code(code, wrong);
	for (i = 0; i < 3; i++)
		(void)fx_check(fx, "alice", NULL, wrong, NULL);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_token_unlock(fx->ctx, &fx_who, "T1"), 0);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
set_bypass(struct fixture *fx, const char *serial, int64_t until)
{
	char err[AC_ERRBUF];

	assert_int_equal(ac_token_set_bypass(fx->ctx, &fx_who, serial, until,
	    err, sizeof(err)), 0);
}

static void
bypass_until_and_expiry(void **state)
{
	struct fixture *fx = *state;
	char why[AC_MAX_REASON + 1];

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	/* Without bypass the PIN alone is nothing. */
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_REJECT);
	set_bypass(fx, "T1", fx->now + 3600);
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, why),
	    AC_RESULT_ACCEPT);
	assert_non_null(strstr(why, "bypass"));
	/* The PIN must still be right. */
	assert_int_equal(fx_check(fx, "alice", NULL, "Zq7#pin!9y", NULL),
	    AC_RESULT_REJECT);
	/* Not another user's token. */
	assert_int_equal(fx_check(fx, "mallory", NULL, PIN, NULL),
	    AC_RESULT_REJECT);
	fx->now += 3599;
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_ACCEPT);
	/* At the end time the bypass is over. */
	fx->now += 1;
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_REJECT);
}

static void
bypass_forever_and_off(void **state)
{
	struct fixture *fx = *state;

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	set_bypass(fx, "T1", AC_FOREVER);
	fx->now += 10LL * 365 * 86400;
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_ACCEPT);
	set_bypass(fx, "T1", 0);
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_REJECT);
}

static void
bypass_does_not_beat_disable(void **state)
{
	struct fixture *fx = *state;

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	set_bypass(fx, "T1", AC_FOREVER);
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "T1"), 0);
	assert_int_equal(fx_check(fx, "alice", NULL, PIN, NULL),
	    AC_RESULT_REJECT);
}

static void
disabled_token_never_accepts(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], why[AC_MAX_REASON + 1];

	add_totp(fx);
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "T1"), 0);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "alice", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "not active"));
	assert_int_equal(ac_token_enable(fx->ctx, &fx_who, "T1"), 0);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
pending_token_never_accepts(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.type = AC_TOKEN_TOTP, .owner = "dave", .algo = AC_ALGO_SHA1,
	};
	char serial[AC_MAX_SERIAL + 1], err[AC_ERRBUF];
	char code[AC_MAX_CODE + 1];
	uint8_t secret[AC_MAX_SECRET];
	size_t n = 0;

	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	fx_totp(secret, n, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_REJECT);
	/* The same code still activates it: the check did not use it. */
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, code,
	    err, sizeof(err)), 0);
	fx->now += 30;
	fx_totp(secret, n, fx->now, 0, code);
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
unknown_user_same_as_wrong_code(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result a, b;
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1];

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	wrong_code(code, wrong);
	assert_int_equal(ac_check(fx->ctx, "alice", NULL, wrong, "unit", &a),
	    0);
	assert_int_equal(ac_check(fx->ctx, "nobody", NULL, code, "unit", &b),
	    0);
	assert_int_equal(a.result, AC_RESULT_REJECT);
	assert_int_equal(b.result, AC_RESULT_REJECT);
	/* Nothing but the admin-only reason differs. */
	assert_string_equal(a.serial, "");
	assert_string_equal(b.serial, "");
	assert_string_equal(a.transaction_id, b.transaction_id);
	assert_string_equal(a.message, b.message);
	assert_non_null(strstr(b.reason, "unknown user"));
	assert_non_null(strstr(a.reason, "wrong code"));
}

/*
 * A check that unseals no real token (unknown user, no usable token, PIN
 * wrong, passcode too short) unseals the context's dummy token and runs
 * the HMACs instead, so that it costs about what a wrong code costs; one
 * that unseals a real token does not.  Answers and events are unchanged.
 */
static void
dummy_work_when_no_token_is_unsealed(void **state)
{
	struct fixture *fx = *state;
	const struct ac_token *d;
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1], pass[64];
	unsigned long u;
	int n;

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	wrong_code(code, wrong);
	u = ac_ctx_dummy_uses(fx->ctx);
	n = fx_events(fx);
	assert_int_equal(fx_check(fx, "nobody", NULL, code, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_ctx_dummy_uses(fx->ctx), u + 1);
	assert_int_equal(fx_check(fx, "alice", NULL, "nope" "123456", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_ctx_dummy_uses(fx->ctx), u + 2);
	assert_int_equal(fx_check(fx, "alice", NULL, "12", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_ctx_dummy_uses(fx->ctx), u + 3);
	assert_int_equal(fx_events(fx), n + 3);
	/* PIN right, code wrong: a real unseal, no dummy. */
	assert_int_equal(ac_token_unlock(fx->ctx, &fx_who, "T1"), 0);
	snprintf(pass, sizeof(pass), "%s%s", PIN, wrong);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_ctx_dummy_uses(fx->ctx), u + 3);
	/* The dummy is nobody's and can never be stored. */
	assert_non_null(d = ac_ctx_dummy_token(fx->ctx));
	assert_false(ac_serial_valid(d->serial));
	assert_int_equal(d->owner[0], '\0');
}

static void
one_event_per_check(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1];
	struct ac_event_row e;
	int n;

	add_totp(fx);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	n = fx_events(fx);
	assert_int_equal(fx_check(fx, "alice", "vpn", code, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_events(fx), n + 1);
	e = fx_last_event(fx);
	assert_string_equal(e.action, "check");
	assert_string_equal(e.result, "accept");
	assert_string_equal(e.user, "alice");
	assert_string_equal(e.serial, "T1");
	assert_string_equal(e.resource, "vpn");
	assert_string_equal(e.source, "unit");
	/* The code itself is never written down. */
	assert_null(strstr(e.reason, code));

	assert_int_equal(fx_check(fx, "alice", "vpn", code, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_events(fx), n + 2);
	assert_string_equal(fx_last_event(fx).result, "reject");

	assert_int_equal(fx_check(fx, "nobody", NULL, "123456", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_events(fx), n + 3);
	e = fx_last_event(fx);
	assert_string_equal(e.user, "nobody");
	assert_string_equal(e.result, "reject");

	assert_int_equal(fx_check(fx, "", NULL, "123456", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_events(fx), n + 4);
	/* An error is recorded too. */
	assert_int_equal(fx_check(fx, "alice", "corp", "pw123456", NULL),
	    AC_RESULT_ERROR);
	assert_int_equal(fx_events(fx), n + 5);
	assert_string_equal(fx_last_event(fx).result, "error");
}

static void
second_token_accepts(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t other[20] = "another secret seed!";
	char code[AC_MAX_CODE + 1], pass[64];

	add_totp(fx);
	set_pin(fx, "T1", PIN);
	fx_add(fx, "H2", AC_TOKEN_HOTP, "alice", other, sizeof(other),
	    AC_ALGO_SHA256, 8);
	set_pin(fx, "H2", "2468");
	fx_hotp(other, sizeof(other), AC_ALGO_SHA256, 8, 0, code);
	snprintf(pass, sizeof(pass), "2468%s", code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_ACCEPT);
	/* A wrong code with H2's PIN: H2 is charged a failure, T1 (whose
	 * PIN did not match) is not. */
	fx_hotp(other, sizeof(other), AC_ALGO_SHA256, 8, 1, code);
	code[7] = code[7] == '0' ? '1' : '0';
	snprintf(pass, sizeof(pass), "2468%s", code);
	assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_get(fx, "H2").fail_count, 1);
	assert_int_equal(fx_get(fx, "T1").fail_count, 0);
}

static void
bad_input_rejected(void **state)
{
	struct fixture *fx = *state;
	char big[AC_MAX_PASSCODE + 10];
	struct ac_check_result res;

	add_totp(fx);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fx_check(fx, "alice", NULL, big, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "alice", NULL, "", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "alice", NULL, NULL, NULL),
	    AC_RESULT_REJECT);
	/* A resource name that cannot be a config node is an error. */
	assert_int_equal(ac_check(fx->ctx, "alice", "a.b", "123456", "unit",
	    &res), AC_ERR_INVALID);
	assert_int_equal(res.result, AC_RESULT_ERROR);
}

static void
resource_policy_fallback(void **state)
{
	struct ac_resource_policy p;
	struct fixture *fx;
	char err[AC_ERRBUF] = "";

	(void)state;
	fx = fx_new("resources.default.pin_position = after\n"
	    "resources.vpn.pin_mode = none\n"
	    "resources.bad.pin_mode = sometimes\n");
	assert_int_equal(ac_resource_policy(fx->ctx, "vpn", &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.pin_mode, AC_PIN_NONE);
	assert_int_equal(p.pin_position, AC_PIN_AFTER);
	assert_int_equal(ac_resource_policy(fx->ctx, "ssh", &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.pin_mode, AC_PIN_TOKEN);
	assert_int_equal(p.pin_position, AC_PIN_AFTER);
	assert_int_equal(ac_resource_policy(fx->ctx, NULL, &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.pin_position, AC_PIN_AFTER);
	assert_int_equal(ac_resource_policy(fx->ctx, "bad", &p, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "resources.bad.pin_mode"));
	fx_free(fx);

	/* Built-in defaults: token PIN before the OTP. */
	fx = fx_new(NULL);
	assert_int_equal(ac_resource_policy(fx->ctx, "anything", &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.pin_mode, AC_PIN_TOKEN);
	assert_int_equal(p.pin_position, AC_PIN_BEFORE);
	fx_free(fx);
}

/* One racer: its own context (never one carried across fork), waits for
 * the start signal, checks once; exit 0 accept, 1 reject, 2 error. */
static void
racer(struct fixture *fx, int start_fd, const char *user, const char *code)
{
	struct ac_check_result res;
	char err[AC_ERRBUF], c;
	ac_ctx *ctx = NULL;
	int r;

	if (ac_ctx_open(fx->conf, &ctx, err, sizeof(err)) != 0)
		_exit(2);
	ac_ctx_set_clock(ctx, fx_clock, fx);
	if (read(start_fd, &c, 1) < 0)
		_exit(2);
	r = ac_check(ctx, user, NULL, code, "race", &res);
	ac_ctx_free(ctx);
	_exit(r != 0 ? 2 : res.result == AC_RESULT_ACCEPT ? 0 :
	    res.result == AC_RESULT_REJECT ? 1 : 2);
}

/* 8 processes submit the same right code at once: exactly one wins. */
static void
race_round(struct fixture *fx, const char *user, const char *code)
{
	int fds[2], i, status, accepts = 0, errors = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < 8; i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[1]);
			racer(fx, fds[0], user, code);
		}
	}
	close(fds[0]);
	close(fds[1]);		/* EOF releases every racer at once */
	for (i = 0; i < 8; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		accepts += WEXITSTATUS(status) == 0;
		errors += WEXITSTATUS(status) == 2;
	}
	assert_int_equal(errors, 0);
	assert_int_equal(accepts, 1);
}

static void
race_one_accept_per_code(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1];
	int round;

	add_totp(fx);
	fx_add(fx, "H1", AC_TOKEN_HOTP, "carol", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	fx_close(fx);
	for (round = 0; round < 10; round++) {
		fx->now += 30;
		fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
		race_round(fx, "alice", code);
		fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6,
		    (uint64_t)round, code);
		race_round(fx, "carol", code);
	}
	fx_open(fx);
	/* Every check left its event, and the chain held under the race. */
	assert_int_equal(ac_event_verify(fx->ctx, NULL, NULL, NULL, 0), 0);
}

/* ---- e-mail challenge ------------------------------------------------ */

/* What the capturing sender saw: the last mail, and how many. */
struct mailbox {
	int	n;
	int	fail;		/* 1: answer like a server that is down */
	char	to[AC_MAX_EMAIL + 1];
	char	subject[AC_MAX_MAIL_SUBJECT + 1];
	char	body[1024];
};

static int
capture(void *arg, const char *to, const char *subject, const char *body,
    char *err, size_t errlen)
{
	struct mailbox *mb = arg;

	if (mb->fail) {
		snprintf(err, errlen, "connection refused");
		return AC_ERR_UNAVAILABLE;
	}
	mb->n++;
	snprintf(mb->to, sizeof(mb->to), "%s", to);
	snprintf(mb->subject, sizeof(mb->subject), "%s", subject);
	snprintf(mb->body, sizeof(mb->body), "%s", body);
	return 0;
}

/* dave: e-mail token "E1" on the RFC 4226 secret (counter 0), no PIN;
 * mails go to mb. */
static void
add_email(struct fixture *fx, struct mailbox *mb)
{
	struct ac_token_spec spec = {
		.serial = "E1", .type = AC_TOKEN_EMAIL, .owner = "dave",
		.email = "dave@example.org",
	};
	char err[AC_ERRBUF] = "";

	assert_int_equal(ac_token_add(fx->ctx, &fx_who, &spec, fx_rfc_secret,
	    sizeof(fx_rfc_secret), err, sizeof(err)), 0);
	memset(mb, 0, sizeof(*mb));
	ac_ctx_set_code_sender(fx->ctx, capture, mb);
}

/* The first run of 6 digits in the last mail's body. */
static void
mailed_code(const struct mailbox *mb, char code[AC_MAX_CODE + 1])
{
	const char *p = mb->body;

	while (*p != '\0' && strspn(p, "0123456789") != 6)
		p += strspn(p, "0123456789") > 0 ? strspn(p, "0123456789") : 1;
	assert_int_equal(strspn(p, "0123456789"), 6);
	memcpy(code, p, 6);
	code[6] = '\0';
}

static enum ac_result
check_full(struct fixture *fx, const char *user, const char *resource,
    const char *passcode, struct ac_check_result *res)
{
	int r = ac_check(fx->ctx, user, resource, passcode, "unit", res);

	if (r != 0)
		assert_int_equal(res->result, AC_RESULT_ERROR);
	return res->result;
}

static void
email_trigger_code_once(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct ac_challenge c;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1], why[AC_MAX_REASON + 1];
	int n;

	add_email(fx, &mb);
	n = fx_events(fx);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	assert_int_equal(fx_events(fx), n + 1);
	assert_string_equal(fx_last_event(fx).result, "challenge");
	assert_string_equal(fx_last_event(fx).serial, "E1");
	assert_int_equal(strlen(res.transaction_id), 64);
	assert_int_equal(strspn(res.transaction_id, "0123456789abcdef"), 64);
	assert_string_equal(res.message,
	    "A code was sent to d\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2@example.org.");
	assert_int_equal(mb.n, 1);
	assert_string_equal(mb.to, "dave@example.org");
	/* RFC 4226 Appendix D: the code at counter 0 is 755224. */
	mailed_code(&mb, code);
	assert_string_equal(code, "755224");
	/* The code is in the mail only: not in the answer, not in the log. */
	assert_null(strstr(res.message, code));
	assert_null(strstr(fx_last_event(fx).reason, code));
	assert_int_equal(ac_store_challenge_get(ac_ctx_store(fx->ctx),
	    res.transaction_id, &c), 0);
	assert_true(c.counter == 0 && c.expires == fx->now + 300 && !c.used);

	fx->now += 60;
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_events(fx), n + 2);
	assert_string_equal(fx_last_event(fx).result, "accept");
	assert_int_equal(fx_get(fx, "E1").counter, 1);
	/* Single use: the same code again is a replay, not counted. */
	assert_int_equal(fx_check(fx, "dave", NULL, code, why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "already used"));
	assert_int_equal(fx_get(fx, "E1").fail_count, 0);
	assert_int_equal(fx_events(fx), n + 3);

	/* The next trigger mails the next code (RFC 4226: 287082). */
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	mailed_code(&mb, code);
	assert_string_equal(code, "287082");
	assert_int_equal(fx_check(fx, "dave", NULL, "755224", NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
}

/* Without a live challenge the right HOTP code of an e-mail token is
 * still refused, and counted: nobody was sent it. */
static void
email_code_needs_challenge(void **state)
{
	struct fixture *fx = *state;
	struct mailbox mb;
	char why[AC_MAX_REASON + 1];

	add_email(fx, &mb);
	assert_int_equal(fx_check(fx, "dave", NULL, "755224", why),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(why, "no code mailed"));
	assert_int_equal(fx_get(fx, "E1").fail_count, 1);
	assert_int_equal(fx_get(fx, "E1").counter, 0);
	assert_int_equal(mb.n, 0);
}

static void
email_code_expires(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1], first[AC_MAX_TXID + 1];

	add_email(fx, &mb);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	snprintf(first, sizeof(first), "%s", res.transaction_id);
	mailed_code(&mb, code);
	/* check.email_code_minutes defaults to 5: at +300 s it is gone. */
	fx->now += 300;
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_REJECT);
	/* A new mail brings a new code; the expired one stays dead. */
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	assert_string_not_equal(res.transaction_id, first);
	mailed_code(&mb, first);
	assert_string_equal(first, "287082");
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_REJECT);
	fx->now += 299;
	assert_int_equal(fx_check(fx, "dave", NULL, "287082", NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_get(fx, "E1").counter, 2);
}

/* Sweeping expired challenges must not bring an expired, unused code
 * back: the next mail's counter is derived from the token's newest
 * challenge, so the sweep keeps it.  ac_token_sweep sweeps the rest. */
static void
email_sweep_keeps_codes_dead(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct ac_challenge c;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1], first[AC_MAX_TXID + 1];
	char second[AC_MAX_TXID + 1];
	int n = -1;

	add_email(fx, &mb);
	/* RFC 4226 Appendix D codes: 755224 (0), 287082 (1), 359152 (2),
	 * 969429 (3). */
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	snprintf(first, sizeof(first), "%s", res.transaction_id);
	assert_int_equal(fx_check(fx, "dave", NULL, "755224", NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	snprintf(second, sizeof(second), "%s", res.transaction_id);
	mailed_code(&mb, code);
	assert_string_equal(code, "287082");
	/* 287082 expires unused; the store's own sweep runs. */
	fx->now += 300;
	assert_int_equal(ac_store_challenge_sweep(ac_ctx_store(fx->ctx),
	    fx->now, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ac_store_challenge_get(ac_ctx_store(fx->ctx), first,
	    &c), AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_challenge_get(ac_ctx_store(fx->ctx), second,
	    &c), 0);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	mailed_code(&mb, code);
	assert_string_equal(code, "359152");
	assert_int_equal(fx_check(fx, "dave", NULL, "287082", NULL),
	    AC_RESULT_REJECT);
	/* The pending-token sweep clears expired challenges too, keeping
	 * each token's newest. */
	snprintf(first, sizeof(first), "%s", second);
	snprintf(second, sizeof(second), "%s", res.transaction_id);
	fx->now += 300;
	assert_int_equal(ac_token_sweep(fx->ctx, NULL), 0);
	assert_int_equal(ac_store_challenge_get(ac_ctx_store(fx->ctx), first,
	    &c), AC_ERR_NOT_FOUND);
	assert_int_equal(ac_store_challenge_get(ac_ctx_store(fx->ctx), second,
	    &c), 0);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	mailed_code(&mb, code);
	assert_string_equal(code, "969429");	/* counter 3 */
	assert_int_equal(fx_check(fx, "dave", NULL, code, NULL),
	    AC_RESULT_ACCEPT);
	assert_int_equal(fx_get(fx, "E1").counter, 4);
}

/* Asking again while a code is live mails the same code (same challenge,
 * same expiry); check.email_max_sends (3 here) mails per code lifetime. */
static void
email_resend_and_limit(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1], txid[AC_MAX_TXID + 1];
	int i;

	add_email(fx, &mb);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	snprintf(txid, sizeof(txid), "%s", res.transaction_id);
	for (i = 0; i < 2; i++) {
		fx->now += 10;
		assert_int_equal(check_full(fx, "dave", NULL, "", &res),
		    AC_RESULT_CHALLENGE);
		assert_string_equal(res.transaction_id, txid);
		mailed_code(&mb, code);
		assert_string_equal(code, "755224");
	}
	assert_int_equal(mb.n, 3);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(res.reason, "too many"));
	assert_int_equal(mb.n, 3);
	assert_string_equal(fx_last_event(fx).result, "reject");
	/* Asking is not guessing: nothing counted. */
	assert_int_equal(fx_get(fx, "E1").fail_count, 0);
	/* The code mailed still works. */
	assert_int_equal(fx_check(fx, "dave", NULL, "755224", NULL),
	    AC_RESULT_ACCEPT);
	/* A new code lifetime, new mails. */
	fx->now += 300;
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	assert_int_equal(mb.n, 4);
}

/* The send limit holds per user too: a second e-mail token (chosen by its
 * own PIN) does not double the mails one user can be sent. */
static void
email_limit_per_user(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.serial = "E2", .type = AC_TOKEN_EMAIL, .owner = "dave",
		.email = "dave@example.net",
	};
	struct ac_check_result res;
	struct mailbox mb;
	char err[AC_ERRBUF] = "";
	int i;

	add_email(fx, &mb);
	assert_int_equal(ac_token_add(fx->ctx, &fx_who, &spec, fx_rfc_secret,
	    sizeof(fx_rfc_secret), err, sizeof(err)), 0);
	set_pin(fx, "E1", PIN);
	set_pin(fx, "E2", "Other#pin2");
	for (i = 0; i < 3; i++)
		assert_int_equal(check_full(fx, "dave", NULL, PIN, &res),
		    AC_RESULT_CHALLENGE);
	assert_int_equal(check_full(fx, "dave", NULL, "Other#pin2", &res),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(res.reason, "too many"));
	assert_int_equal(mb.n, 3);
	assert_string_equal(mb.to, "dave@example.org");
	/* A new window, new mails. */
	fx->now += 300;
	assert_int_equal(check_full(fx, "dave", NULL, "Other#pin2", &res),
	    AC_RESULT_CHALLENGE);
	assert_string_equal(mb.to, "dave@example.net");
}

/* A token PIN is the trigger; the answer is PIN and code as for any
 * token (resource vpn: code then PIN). */
static void
email_pin_trigger(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1], pass[64];

	add_email(fx, &mb);
	set_pin(fx, "E1", PIN);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_int_equal(check_full(fx, "dave", NULL, "wrong-pin", &res),
	    AC_RESULT_REJECT);
	assert_int_equal(mb.n, 0);
	/* Guessing PINs counts like guessing codes (max_fail 3 here). */
	assert_int_equal(fx_get(fx, "E1").fail_count, 2);
	assert_int_equal(ac_token_unlock(fx->ctx, &fx_who, "E1"), 0);
	assert_int_equal(check_full(fx, "dave", "vpn", PIN, &res),
	    AC_RESULT_CHALLENGE);
	assert_int_equal(mb.n, 1);
	mailed_code(&mb, code);
	/* The code without the PIN is not enough. */
	assert_int_equal(fx_check(fx, "dave", "vpn", code, NULL),
	    AC_RESULT_REJECT);
	snprintf(pass, sizeof(pass), "%s%s", code, PIN);
	assert_int_equal(fx_check(fx, "dave", "vpn", pass, NULL),
	    AC_RESULT_ACCEPT);
}

/* pin_mode none: the empty passcode triggers even for a token with a
 * PIN. */
static void
email_pin_mode_none(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;
	char code[AC_MAX_CODE + 1];

	add_email(fx, &mb);
	set_pin(fx, "E1", PIN);
	assert_int_equal(check_full(fx, "dave", "ssh", "", &res),
	    AC_RESULT_CHALLENGE);
	mailed_code(&mb, code);
	assert_int_equal(fx_check(fx, "dave", "ssh", code, NULL),
	    AC_RESULT_ACCEPT);
}

static void
email_without_sender(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct ac_challenge c;
	struct mailbox mb;
	int n;

	add_email(fx, &mb);
	ac_ctx_set_code_sender(fx->ctx, NULL, NULL);
	n = fx_events(fx);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_non_null(strstr(res.reason, "mail not configured"));
	assert_int_equal(res.transaction_id[0], '\0');
	assert_int_equal(fx_events(fx), n + 1);
	assert_string_equal(fx_last_event(fx).result, "reject");
	assert_int_equal(ac_store_challenge_last(ac_ctx_store(fx->ctx), "E1",
	    &c), AC_ERR_NOT_FOUND);
}

/* A mail server that is down: ERROR, one "error" event, and the code that
 * never left is unusable. */
static void
email_send_fails(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;
	int n;

	add_email(fx, &mb);
	mb.fail = 1;
	n = fx_events(fx);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_ERROR);
	assert_non_null(strstr(res.reason, "connection refused"));
	assert_int_equal(fx_events(fx), n + 1);
	assert_string_equal(fx_last_event(fx).result, "error");
	assert_int_equal(fx_check(fx, "dave", NULL, "755224", NULL),
	    AC_RESULT_REJECT);
	/* Once the server is back, the next code is a new one. */
	mb.fail = 0;
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_CHALLENGE);
	assert_int_equal(mb.n, 1);
	assert_null(strstr(mb.body, "755224"));
}

/* Nobody else gets anything but a plain REJECT for an empty passcode. */
static void
email_empty_passcode_others(void **state)
{
	struct fixture *fx = *state;
	struct ac_check_result res;
	struct mailbox mb;

	add_email(fx, &mb);
	add_totp(fx);
	assert_int_equal(check_full(fx, "nobody", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_int_equal(check_full(fx, "alice", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_int_equal(res.transaction_id[0], '\0');
	assert_int_equal(mb.n, 0);
	/* A disabled e-mail token does not mail either. */
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "E1"), 0);
	assert_int_equal(check_full(fx, "dave", NULL, "", &res),
	    AC_RESULT_REJECT);
	assert_int_equal(mb.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(totp_accept_then_replay),
		T(totp_window),
		T(totp_drift_remembered),
		T(totp_drift_bounded),
		T(hotp_counter_at_the_top),
		T(hotp_window),
		T(hotp_rfc_vector),
		T(pin_before_and_after),
		T(pin_required_and_wrong),
		T(token_without_pin_refuses_extra),
		T(pin_mode_none),
		T(pin_mode_directory),
		T(pin_mode_directory_unknown_user),
		T(lock_at_max_fail_and_expiry),
		T(unlock_lifts_the_lock),
		T(bypass_until_and_expiry),
		T(bypass_forever_and_off),
		T(bypass_does_not_beat_disable),
		T(disabled_token_never_accepts),
		T(pending_token_never_accepts),
		T(unknown_user_same_as_wrong_code),
		T(dummy_work_when_no_token_is_unsealed),
		T(one_event_per_check),
		T(second_token_accepts),
		T(bad_input_rejected),
		T(race_one_accept_per_code),
		T(email_trigger_code_once),
		T(email_code_needs_challenge),
		T(email_code_expires),
		T(email_sweep_keeps_codes_dead),
		T(email_resend_and_limit),
		T(email_limit_per_user),
		T(email_pin_trigger),
		T(email_pin_mode_none),
		T(email_without_sender),
		T(email_send_fails),
		T(email_empty_passcode_others),
#undef T
		cmocka_unit_test(resource_policy_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
