/*
 * test_tokens.c - the token life cycle: add, enroll, activate, expiry and
 * sweep, enable/disable/delete, resync, bypass, PIN, description, test,
 * e-mail codes, and what the store file holds (never a secret or a PIN).
 */
#include "fixture.h"

#include <ctype.h>

#include "codec.h"

static int
setup(void **state)
{
	*state = fx_new("check.max_fail = 3\n");
	return 0;
}

static int
teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static int
add_spec(struct fixture *fx, const struct ac_token_spec *spec,
    const uint8_t *secret, size_t n, char *err)
{
	return ac_token_add(fx->ctx, &fx_who, spec, secret, n, err,
	    AC_ERRBUF);
}

static void
names(void **state)
{
	enum ac_token_type t;

	(void)state;
	assert_string_equal(ac_token_type_name(AC_TOKEN_TOTP), "totp");
	assert_string_equal(ac_token_type_name(AC_TOKEN_HOTP), "hotp");
	assert_string_equal(ac_token_type_name(AC_TOKEN_EMAIL), "email");
	assert_int_equal(ac_token_type_parse("TOTP", &t), 0);
	assert_int_equal(t, AC_TOKEN_TOTP);
	assert_int_equal(ac_token_type_parse("e-mail", &t), 0);
	assert_int_equal(t, AC_TOKEN_EMAIL);
	assert_int_equal(ac_token_type_parse("sms", &t), AC_ERR_INVALID);
	assert_string_equal(ac_token_status_name(AC_STATUS_LOCKED), "locked");
	assert_string_equal(ac_token_status_name(AC_STATUS_EXPIRED),
	    "expired");
	assert_true(ac_serial_valid("TOTP0001"));
	assert_true(ac_serial_valid("a.b_c-9"));
	assert_false(ac_serial_valid(""));
	assert_false(ac_serial_valid("a b"));
	assert_false(ac_serial_valid("a/b"));
	assert_false(ac_serial_valid("x'; DROP TABLE tokens;--"));
	{
		char s[AC_MAX_SERIAL + 2];

		memset(s, 'A', sizeof(s) - 1);
		s[sizeof(s) - 1] = '\0';
		assert_false(ac_serial_valid(s));
		s[AC_MAX_SERIAL] = '\0';
		assert_true(ac_serial_valid(s));
	}
}

static void
add_validation(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.serial = "S1", .type = AC_TOKEN_TOTP, .owner = "alice",
	};
	char err[AC_ERRBUF];
	int n = fx_events(fx);

	spec.digits = 7;
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err),
	    AC_ERR_INVALID);
	assert_non_null(strstr(err, "digits"));
	spec.digits = 8;
	spec.period = 45;
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err),
	    AC_ERR_INVALID);
	assert_non_null(strstr(err, "period"));
	spec.period = 60;
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 5, err),
	    AC_ERR_INVALID);
	assert_non_null(strstr(err, "secret"));
	spec.serial = "bad serial";
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err),
	    AC_ERR_INVALID);
	assert_non_null(strstr(err, "serial"));
	spec.serial = "S1";
	spec.owner = "bad\nuser";
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err),
	    AC_ERR_INVALID);
	spec.owner = "alice";
	/* Refusals wrote nothing. */
	assert_int_equal(fx_events(fx), n);
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err), 0);
	assert_int_equal(fx_events(fx), n + 1);
	assert_string_equal(fx_last_event(fx).action, "add");
	/* A duplicate serial is refused, and the event rolled back with it. */
	assert_int_equal(add_spec(fx, &spec, fx_rfc_secret, 20, err),
	    AC_ERR_EXISTS);
	assert_non_null(strstr(err, "S1"));
	assert_int_equal(fx_events(fx), n + 1);
	{
		struct ac_token t = fx_get(fx, "S1");

		assert_int_equal(t.state, AC_STATE_ACTIVE);
		assert_int_equal(t.digits, 8);
		assert_int_equal(t.period, 60);
		assert_string_equal(t.owner, "alice");
		assert_int_equal(t.created, fx->now);
	}
}

static void
enroll_activate(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.type = AC_TOKEN_TOTP, .owner = "alice", .algo = AC_ALGO_SHA256,
	};
	char serial[AC_MAX_SERIAL + 1], err[AC_ERRBUF];
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1];
	uint8_t secret[AC_MAX_SECRET], again[AC_MAX_SECRET];
	size_t n = 0, m = 0, i;
	ac_otp *o = NULL;

	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	/* "TOTP" and 8 hex digits; 32 bytes for SHA-256. */
	assert_int_equal(strlen(serial), 12);
	assert_memory_equal(serial, "TOTP", 4);
	for (i = 4; i < 12; i++)
		assert_true(isxdigit((unsigned char)serial[i]));
	assert_int_equal(n, 32);
	assert_int_equal(ac_token_status(&(struct ac_token){ .state =
	    fx_get(fx, serial).state, .expires = fx_get(fx, serial).expires },
	    fx->now), AC_STATUS_PENDING);
	assert_int_equal(fx_get(fx, serial).expires, fx->now + 600);
	/* The activation page may show it again while pending. */
	assert_int_equal(ac_token_pending_secret(fx->ctx, serial, again, &m),
	    0);
	assert_int_equal(m, n);
	assert_memory_equal(again, secret, n);
	/* The first code, SHA-256 and 6 digits. */
	assert_int_equal(ac_otp_new(AC_ALGO_SHA256, secret, n, 6, &o), 0);
	assert_int_equal(ac_otp_hotp(o, ac_totp_step(fx->now, 30), code,
	    sizeof(code)), 0);
	ac_otp_free(o);
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[5] = wrong[5] == '0' ? '1' : '0';
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, wrong,
	    err, sizeof(err)), AC_ERR_DENIED);
	assert_non_null(strstr(err, "wrong code"));
	assert_int_equal(fx_get(fx, serial).fail_count, 1);
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, code,
	    err, sizeof(err)), 0);
	assert_int_equal(fx_get(fx, serial).state, AC_STATE_ACTIVE);
	assert_int_equal(fx_get(fx, serial).activated, fx->now);
	assert_int_equal(fx_get(fx, serial).fail_count, 0);
	/* After activation the secret is never shown again, and a second
	 * activation is refused. */
	assert_int_equal(ac_token_pending_secret(fx->ctx, serial, again, &m),
	    AC_ERR_STATE);
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, code,
	    err, sizeof(err)), AC_ERR_STATE);
	/* The activation code is used: the check refuses it. */
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
}

static void
enroll_expiry_and_sweep(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.type = AC_TOKEN_HOTP, .owner = "bob",
	};
	char serial[AC_MAX_SERIAL + 1], keep[AC_MAX_SERIAL + 1];
	char err[AC_ERRBUF], code[AC_MAX_CODE + 1];
	uint8_t secret[AC_MAX_SECRET];
	size_t n = 0;
	int swept = -1;

	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	assert_memory_equal(serial, "HOTP", 4);
	assert_int_equal(n, 20);
	fx_hotp(secret, n, AC_ALGO_SHA1, 6, 0, code);
	fx->now += 300;
	spec.serial = "KEEP1";
	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, keep,
	    secret, &n, err, sizeof(err)), 0);
	assert_string_equal(keep, "KEEP1");
	/* Ten minutes after the first enrollment it has expired. */
	fx->now += 300;
	assert_int_equal(ac_token_status(&(struct ac_token){ .state =
	    AC_STATE_PENDING, .expires = fx_get(fx, serial).expires },
	    fx->now), AC_STATUS_EXPIRED);
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, code,
	    err, sizeof(err)), AC_ERR_STATE);
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(ac_token_pending_secret(fx->ctx, serial, secret, &n),
	    AC_ERR_STATE);
	assert_int_equal(ac_token_sweep(fx->ctx, &swept), 0);
	assert_int_equal(swept, 1);
	assert_string_equal(fx_last_event(fx).action, "sweep");
	{
		struct ac_token t;

		assert_int_equal(ac_store_token_get(ac_ctx_store(fx->ctx),
		    serial, &t), AC_ERR_NOT_FOUND);
	}
	/* The younger one stays. */
	(void)fx_get(fx, "KEEP1");
	assert_int_equal(ac_token_sweep(fx->ctx, &swept), 0);
	assert_int_equal(swept, 0);
}

static void
enable_disable_delete(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = { .type = AC_TOKEN_TOTP, .owner = "c" };
	char serial[AC_MAX_SERIAL + 1], err[AC_ERRBUF];
	uint8_t secret[AC_MAX_SECRET];
	size_t n;
	struct ac_token t;

	fx_add(fx, "D1", AC_TOKEN_TOTP, "carol", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "D1"), 0);
	assert_int_equal(fx_get(fx, "D1").state, AC_STATE_DISABLED);
	assert_string_equal(fx_last_event(fx).action, "disable");
	assert_string_equal(fx_last_event(fx).actor, "test:admin");
	assert_string_equal(fx_last_event(fx).user, "carol");
	assert_int_equal(ac_token_enable(fx->ctx, &fx_who, "D1"), 0);
	assert_int_equal(fx_get(fx, "D1").state, AC_STATE_ACTIVE);
	assert_int_equal(ac_token_enable(fx->ctx, &fx_who, "NOPE"),
	    AC_ERR_NOT_FOUND);
	/* A pending token is activated with a code, not enabled. */
	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	assert_int_equal(ac_token_enable(fx->ctx, &fx_who, serial),
	    AC_ERR_STATE);
	assert_int_equal(ac_token_delete(fx->ctx, &fx_who, "D1"), 0);
	assert_int_equal(ac_store_token_get(ac_ctx_store(fx->ctx), "D1", &t),
	    AC_ERR_NOT_FOUND);
	assert_string_equal(fx_last_event(fx).action, "delete");
	assert_int_equal(ac_token_delete(fx->ctx, &fx_who, "D1"),
	    AC_ERR_NOT_FOUND);
}

static void
resync_hotp(void **state)
{
	struct fixture *fx = *state;
	char c1[AC_MAX_CODE + 1], c2[AC_MAX_CODE + 1], err[AC_ERRBUF];

	fx_add(fx, "H1", AC_TOKEN_HOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	/* Pressed 500 times away from the server: far out of the window. */
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 500, c1);
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 501, c2);
	assert_int_equal(fx_check(fx, "alice", NULL, c1, NULL),
	    AC_RESULT_REJECT);
	/* Not consecutive: refused. */
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "H1", c2, c1, err,
	    sizeof(err)), AC_ERR_DENIED);
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "H1", c1, "12345",
	    err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "H1", c1, c2, err,
	    sizeof(err)), 0);
	assert_int_equal(fx_get(fx, "H1").counter, 502);
	assert_int_equal(fx_get(fx, "H1").fail_count, 0);
	fx_hotp(fx_rfc_secret, 20, AC_ALGO_SHA1, 6, 502, c1);
	assert_int_equal(fx_check(fx, "alice", NULL, c1, NULL),
	    AC_RESULT_ACCEPT);
	/* The pair cannot be replayed as a resync either. */
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "H1", c1, c2, err,
	    sizeof(err)), AC_ERR_DENIED);
}

static void
resync_totp(void **state)
{
	struct fixture *fx = *state;
	char c1[AC_MAX_CODE + 1], c2[AC_MAX_CODE + 1], err[AC_ERRBUF];

	fx_add(fx, "T1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	/* A token 40 steps (20 minutes) ahead of the server. */
	fx_totp(fx_rfc_secret, 20, fx->now, 39, c1);
	fx_totp(fx_rfc_secret, 20, fx->now, 40, c2);
	assert_int_equal(fx_check(fx, "alice", NULL, c2, NULL),
	    AC_RESULT_REJECT);
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "T1", c1, c2, err,
	    sizeof(err)), 0);
	assert_int_equal(fx_get(fx, "T1").drift, 40);
	/* Two minutes on, the token shows step +44: accepted thanks to the
	 * learned drift. */
	fx->now += 120;
	fx_totp(fx_rfc_secret, 20, fx->now, 40, c1);
	assert_int_equal(fx_check(fx, "alice", NULL, c1, NULL),
	    AC_RESULT_ACCEPT);
	/* Beyond the resync window (60 steps): refused. */
	fx_totp(fx_rfc_secret, 20, fx->now, 99, c1);
	fx_totp(fx_rfc_secret, 20, fx->now, 100, c2);
	assert_int_equal(ac_token_resync(fx->ctx, &fx_who, "T1", c1, c2, err,
	    sizeof(err)), AC_ERR_DENIED);
	assert_string_equal(fx_last_event(fx).result, "reject");
}

static void
bypass_values(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF];

	fx_add(fx, "B1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(ac_token_set_bypass(fx->ctx, &fx_who, "B1",
	    fx->now - 1, err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_token_set_bypass(fx->ctx, &fx_who, "B1",
	    fx->now + 60, err, sizeof(err)), 0);
	assert_int_equal(fx_get(fx, "B1").bypass_until, fx->now + 60);
	assert_non_null(strstr(fx_last_event(fx).reason, "until 2023-11-"));
	assert_int_equal(ac_token_set_bypass(fx->ctx, &fx_who, "B1",
	    AC_FOREVER, err, sizeof(err)), 0);
	assert_true(fx_get(fx, "B1").bypass_until == AC_FOREVER);
	assert_int_equal(ac_token_set_bypass(fx->ctx, &fx_who, "B1", 0, err,
	    sizeof(err)), 0);
	assert_int_equal(fx_get(fx, "B1").bypass_until, 0);
}

static void
pin_rules(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF], pin[AC_MAX_PIN + 2];
	struct ac_token t;

	fx_add(fx, "P1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", "123", err,
	    sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", "12\t34",
	    err, sizeof(err)), AC_ERR_INVALID);
	memset(pin, '7', sizeof(pin) - 1);
	pin[sizeof(pin) - 1] = '\0';
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", pin, err,
	    sizeof(err)), AC_ERR_INVALID);
	pin[AC_MAX_PIN] = '\0';
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", pin, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", "1234", err,
	    sizeof(err)), 0);
	t = fx_get(fx, "P1");
	assert_true(t.has_pin);
	assert_true(ac_pin_verify(ac_ctx_keyring(fx->ctx), t.pin_salt,
	    "1234", 4, t.pin_hash));
	assert_false(ac_pin_verify(ac_ctx_keyring(fx->ctx), t.pin_salt,
	    "1235", 4, t.pin_hash));
	assert_string_equal(fx_last_event(fx).action, "set-pin");
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "P1", "", err,
	    sizeof(err)), 0);
	assert_false(fx_get(fx, "P1").has_pin);
}

static void
description_rules(void **state)
{
	struct fixture *fx = *state;
	char err[AC_ERRBUF], d[AC_MAX_DESCRIPTION + 2];

	fx_add(fx, "X1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(ac_token_set_description(fx->ctx, &fx_who, "X1",
	    "Téléphone <b>pro</b>", err, sizeof(err)), 0);
	assert_string_equal(fx_get(fx, "X1").description,
	    "Téléphone <b>pro</b>");
	assert_int_equal(ac_token_set_description(fx->ctx, &fx_who, "X1",
	    "bad\x01", err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_token_set_description(fx->ctx, &fx_who, "X1",
	    "bad \xc3\x28", err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_token_set_description(fx->ctx, &fx_who, "X1",
	    "overlong \xc0\xaf", err, sizeof(err)), AC_ERR_INVALID);
	memset(d, 'd', sizeof(d) - 1);
	d[sizeof(d) - 1] = '\0';
	assert_int_equal(ac_token_set_description(fx->ctx, &fx_who, "X1", d,
	    err, sizeof(err)), AC_ERR_INVALID);
	assert_string_equal(fx_get(fx, "X1").description,
	    "Téléphone <b>pro</b>");
}

static void
test_code(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1], wrong[AC_MAX_CODE + 1];
	int i;

	fx_add(fx, "T1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	assert_int_equal(ac_token_test(fx->ctx, &fx_who, "T1", code), 0);
	assert_string_equal(fx_last_event(fx).action, "test");
	/* Used now: a test is a real use, like a check. */
	assert_int_equal(ac_token_test(fx->ctx, &fx_who, "T1", code),
	    AC_ERR_DENIED);
	assert_int_equal(fx_check(fx, "alice", NULL, code, NULL),
	    AC_RESULT_REJECT);
	fx->now += 30;
	fx_totp(fx_rfc_secret, 20, fx->now, 0, code);
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	/* Replays are refused but not counted towards the lock. */
	assert_int_equal(fx_get(fx, "T1").fail_count, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ac_token_test(fx->ctx, &fx_who, "T1", wrong),
		    AC_ERR_DENIED);
	assert_int_equal(fx_get(fx, "T1").fail_count, 3);
	/* max_fail is 3 here: locked, so even the right code fails. */
	assert_int_equal(ac_token_test(fx->ctx, &fx_who, "T1", code),
	    AC_ERR_DENIED);
	assert_int_equal(ac_token_disable(fx->ctx, &fx_who, "T1"), 0);
	assert_int_equal(ac_token_test(fx->ctx, &fx_who, "T1", code),
	    AC_ERR_STATE);
}

static void
email_code(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.type = AC_TOKEN_EMAIL, .owner = "alice", .digits = 8,
		.email = "alice@example.org",
	};
	char serial[AC_MAX_SERIAL + 1], err[AC_ERRBUF];
	char code[AC_MAX_CODE + 1], expect[AC_MAX_CODE + 1];
	uint8_t secret[AC_MAX_SECRET];
	size_t n;

	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	assert_string_equal(fx_get(fx, serial).email, "alice@example.org");
	assert_int_equal(ac_token_email_code(fx->ctx, serial, code,
	    sizeof(code)), 0);
	fx_hotp(secret, n, AC_ALGO_SHA1, 8, 0, expect);
	assert_string_equal(code, expect);
	/* Activation with the mailed code. */
	assert_int_equal(ac_token_activate(fx->ctx, &fx_who, serial, code,
	    err, sizeof(err)), 0);
	assert_int_equal(ac_token_email_code(fx->ctx, serial, code,
	    sizeof(code)), 0);
	fx_hotp(secret, n, AC_ALGO_SHA1, 8, 1, expect);
	assert_string_equal(code, expect);
	/* Not for other types; e-mail tokens need an address. */
	fx_add(fx, "T1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	assert_int_equal(ac_token_email_code(fx->ctx, "T1", code,
	    sizeof(code)), AC_ERR_STATE);
	spec.email = "not an address";
	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), AC_ERR_INVALID);
}

/* An e-mail token's codes are good only as the answer to a mailed
 * challenge (check.c): "test a code" must not take one within the HOTP
 * window that nobody was sent, nor move the counter past a live one. */
static void
test_refuses_email_token(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = {
		.serial = "E1", .type = AC_TOKEN_EMAIL, .owner = "alice",
		.email = "alice@example.org",
	};
	/* RFC 4226 Appendix D: the codes at counters 0..2, all inside the
	 * look-ahead window. */
	static const char *const codes[] = { "755224", "287082", "359152" };
	char err[AC_ERRBUF] = "";
	int n, i;

	assert_int_equal(ac_token_add(fx->ctx, &fx_who, &spec, fx_rfc_secret,
	    sizeof(fx_rfc_secret), err, sizeof(err)), 0);
	n = fx_events(fx);
	for (i = 0; i < 3; i++)
		assert_int_equal(ac_token_test(fx->ctx, &fx_who, "E1",
		    codes[i]), AC_ERR_STATE);
	assert_int_equal(fx_get(fx, "E1").counter, 0);
	assert_int_equal(fx_get(fx, "E1").fail_count, 0);
	assert_int_equal(fx_events(fx), n);
}

/* 1 when needle (n bytes) occurs in hay. */
static int
contains(const uint8_t *hay, size_t hn, const void *needle, size_t n)
{
	size_t i;

	for (i = 0; n <= hn && i + n <= hn; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Fails if any form of secret (raw, Base32 in both cases, hex in both
 * cases) or the PIN is in buf. */
static void
assert_clean(const uint8_t *buf, size_t len, const uint8_t *secret,
    size_t n, const char *pin)
{
	char b32[AC_MAX_SECRET_B32], hex[2 * AC_MAX_SECRET + 1];

	assert_false(contains(buf, len, secret, n));
	assert_int_equal(ac_base32_encode(secret, n, 0, b32, sizeof(b32)), 0);
	assert_false(contains(buf, len, b32, strlen(b32)));
	lower(b32);
	assert_false(contains(buf, len, b32, strlen(b32)));
	assert_int_equal(ac_hex_encode(secret, n, hex, sizeof(hex)), 0);
	assert_false(contains(buf, len, hex, strlen(hex)));
	upper(hex);
	assert_false(contains(buf, len, hex, strlen(hex)));
	assert_false(contains(buf, len, pin, strlen(pin)));
}

static void
store_holds_no_secret(void **state)
{
	struct fixture *fx = *state;
	struct ac_token_spec spec = { .type = AC_TOKEN_TOTP, .owner = "bob" };
	static const uint8_t known[32] = "0123456789abcdefghijKLMNOPQRSTUV";
	const char *pin = "Pin-7f3Kq!x";
	char serial[AC_MAX_SERIAL + 1], err[AC_ERRBUF], path[PATH_MAX + 8];
	char code[AC_MAX_CODE + 1];
	uint8_t secret[AC_MAX_SECRET];
	uint8_t *db, *wal;
	size_t n = 0, dbn, waln;

	fx_add(fx, "K1", AC_TOKEN_TOTP, "alice", known, sizeof(known),
	    AC_ALGO_SHA256, 6);
	assert_int_equal(ac_token_set_pin(fx->ctx, &fx_who, "K1", pin, err,
	    sizeof(err)), 0);
	assert_int_equal(ac_token_enroll(fx->ctx, &fx_who, &spec, serial,
	    secret, &n, err, sizeof(err)), 0);
	/* A check with the PIN in it: the passcode must not be logged. */
	fx_hotp(known, sizeof(known), AC_ALGO_SHA256, 6,
	    ac_totp_step(fx->now, 30), code);
	{
		char pass[64];

		snprintf(pass, sizeof(pass), "%s%s", pin, code);
		assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
		    AC_RESULT_ACCEPT);
		snprintf(pass, sizeof(pass), "%sX%s", pin, code);
		assert_int_equal(fx_check(fx, "alice", NULL, pass, NULL),
		    AC_RESULT_REJECT);
	}
	/* Read the files while the store is open (WAL not yet folded
	 * in), then again after closing. */
	snprintf(path, sizeof(path), "%s-wal", fx->db);
	db = fx_slurp(fx->db, &dbn);
	wal = fx_slurp(path, &waln);
	assert_non_null(db);
	assert_true(dbn > 0);
	assert_clean(db, dbn, known, sizeof(known), pin);
	assert_clean(db, dbn, secret, n, pin);
	assert_clean(wal, waln, known, sizeof(known), pin);
	assert_clean(wal, waln, secret, n, pin);
	free(db);
	free(wal);
	fx_close(fx);
	db = fx_slurp(fx->db, &dbn);
	assert_clean(db, dbn, known, sizeof(known), pin);
	assert_clean(db, dbn, secret, n, pin);
	free(db);
	fx_open(fx);
	/* Sanity: the search itself works (the serial is in the file). */
	db = fx_slurp(fx->db, &dbn);
	wal = fx_slurp(path, &waln);
	assert_true(contains(db, dbn, "K1", 2) || contains(wal, waln, "K1", 2));
	free(db);
	free(wal);
}

static void
sealed_row_moved_fails(void **state)
{
	struct fixture *fx = *state;
	char code[AC_MAX_CODE + 1];
	struct ac_check_result res;

	fx_add(fx, "A1", AC_TOKEN_TOTP, "alice", fx_rfc_secret, 20,
	    AC_ALGO_SHA1, 6);
	fx_add(fx, "M1", AC_TOKEN_TOTP, "mallory", (const uint8_t *)
	    "mallorys own secret!", 20, AC_ALGO_SHA1, 6);
	/* Someone with only the database copies mallory's sealed secret
	 * onto alice's row: the serial is the associated data, so it fails
	 * to open and the check errs instead of accepting. */
	fx_sql(fx, "UPDATE tokens SET sealed = (SELECT sealed FROM tokens "
	    "WHERE serial = 'M1') WHERE serial = 'A1';");
	fx_hotp((const uint8_t *)"mallorys own secret!", 20, AC_ALGO_SHA1, 6,
	    ac_totp_step(fx->now, 30), code);
	assert_int_equal(ac_check(fx->ctx, "alice", NULL, code, "unit", &res),
	    AC_ERR_TAMPERED);
	assert_int_equal(res.result, AC_RESULT_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(add_validation),
		T(enroll_activate),
		T(enroll_expiry_and_sweep),
		T(enable_disable_delete),
		T(resync_hotp),
		T(resync_totp),
		T(bypass_values),
		T(pin_rules),
		T(description_rules),
		T(test_code),
		T(email_code),
		T(test_refuses_email_token),
		T(store_holds_no_secret),
		T(sealed_row_moved_fails),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
