/*
 * tokens.c - the token life cycle (tokens.h).
 *
 * Every change follows one pattern: begin (the write lock), get the row,
 * change it, write it back, append the event, commit; any error rolls the
 * whole thing back, so a change is never stored without its event nor an
 * event without its change.  Secrets are unsealed only into stack buffers
 * that are wiped before returning.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ac_error.h"
#include "events.h"
#include "otp.h"
#include "seal.h"
#include "tokens.h"

/* ---- names and validation ---------------------------------------------- */

const char *
ac_token_type_name(enum ac_token_type t)
{
	switch (t) {
	case AC_TOKEN_TOTP:	return "totp";
	case AC_TOKEN_HOTP:	return "hotp";
	case AC_TOKEN_EMAIL:	return "email";
	}
	return "unknown";
}

int
ac_token_type_parse(const char *s, enum ac_token_type *out)
{
	if (s == NULL)
		return AC_ERR_INVALID;
	if (strcasecmp(s, "totp") == 0)
		*out = AC_TOKEN_TOTP;
	else if (strcasecmp(s, "hotp") == 0)
		*out = AC_TOKEN_HOTP;
	else if (strcasecmp(s, "email") == 0 || strcasecmp(s, "e-mail") == 0)
		*out = AC_TOKEN_EMAIL;
	else
		return AC_ERR_INVALID;
	return 0;
}

const char *
ac_token_status_name(enum ac_token_status s)
{
	switch (s) {
	case AC_STATUS_PENDING:		return "pending";
	case AC_STATUS_ACTIVE:		return "active";
	case AC_STATUS_DISABLED:	return "disabled";
	case AC_STATUS_LOCKED:		return "locked";
	case AC_STATUS_EXPIRED:		return "expired";
	}
	return "unknown";
}

int
ac_token_locked(const struct ac_token *t, int64_t now)
{
	return t->locked_until != 0 && t->locked_until > now;
}

enum ac_token_status
ac_token_status(const struct ac_token *t, int64_t now)
{
	switch (t->state) {
	case AC_STATE_PENDING:
		return t->expires != 0 && t->expires <= now ?
		    AC_STATUS_EXPIRED : AC_STATUS_PENDING;
	case AC_STATE_DISABLED:
		return AC_STATUS_DISABLED;
	case AC_STATE_ACTIVE:
		break;
	}
	return ac_token_locked(t, now) ? AC_STATUS_LOCKED : AC_STATUS_ACTIVE;
}

int
ac_serial_valid(const char *serial)
{
	size_t i;

	if (serial == NULL || serial[0] == '\0')
		return 0;
	for (i = 0; serial[i] != '\0'; i++) {
		char c = serial[i];

		if (i >= AC_MAX_SERIAL)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Owner names: 1..AC_MAX_USER bytes without control characters. */
static int
owner_valid(const char *s)
{
	size_t n = strlen(s);
	size_t i;

	if (n > AC_MAX_USER)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* A deliberately plain address check: one '@' with text on both sides, no
 * spaces or controls.  The mail server is the real judge. */
static int
email_valid(const char *s)
{
	const char *at;
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AC_MAX_EMAIL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

/* Length of the UTF-8 sequence starting at p (0: invalid), RFC 3629
 * section 4: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t
utf8_seq(const unsigned char *p)
{
	size_t n, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* Valid UTF-8 of at most max bytes, without control characters. */
static int
text_valid(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (strlen(s) > max)
		return 0;
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if ((n = utf8_seq(p)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

/* ---- the OTP search ---------------------------------------------------- */

/* A keyed generator for t; the unsealed secret lives only on this stack. */
static int
token_otp(ac_ctx *ctx, const struct ac_token *t, ac_otp **o)
{
	uint8_t secret[AC_MAX_SECRET];
	size_t n = 0;
	int r;

	r = ac_unseal(ac_ctx_keyring(ctx), t->key_id, t->serial, t->sealed,
	    t->sealed_len, secret, sizeof(secret), &n);
	if (r == 0)
		r = ac_otp_new(t->algo, secret, n, t->digits, o);
	ac_wipe(secret, sizeof(secret));
	return r;
}

/* 1 when the generator's code at counter c equals code. */
static int
code_at(ac_otp *o, uint64_t c, const char *code, int *err)
{
	char buf[AC_MAX_CODE + 1];
	int eq;

	if ((*err = ac_otp_hotp(o, c, buf, sizeof(buf))) != 0)
		return 0;
	eq = ac_otp_code_equal(buf, code);
	ac_wipe(buf, sizeof(buf));
	return eq;
}

/*
 * HOTP look-ahead (RFC 4226 section 7.4): counters counter..counter+window.
 * On failure the window behind counter is searched too, only to tell a
 * replayed code from a wrong one.
 */
static int
match_hotp(ac_otp *o, const struct ac_token *t, const char *code, int window,
    uint64_t *next)
{
	uint64_t c;
	int i, e = 0;

	for (i = 0; i <= window; i++) {
		c = t->counter + (uint64_t)i;
		/* The store keeps counters up to INT64_MAX: the code at the
		 * last one can never move the counter past it. */
		if (c >= (uint64_t)INT64_MAX)
			break;
		if (code_at(o, c, code, &e)) {
			*next = c + 1;
			return 0;
		}
		if (e != 0)
			return e;
	}
	for (i = 1; i <= window + 1 && (uint64_t)i <= t->counter; i++) {
		if (code_at(o, t->counter - (uint64_t)i, code, &e))
			return AC_ERR_REPLAY;
		if (e != 0)
			return e;
	}
	return AC_ERR_DENIED;
}

/*
 * TOTP (RFC 6238 section 5.2): steps within +-window of the current step
 * corrected by the token's remembered drift, nearest first.  Steps below
 * t->counter were used already (section 5.2: "the verifier MUST NOT accept
 * the second attempt of the OTP after the successful validation").
 *
 * The drift is bounded by max_drift (the resync window): every accept may
 * move it by up to `window`, and unbounded it would let a token whose clock
 * is wound on, step by step, drag the accepted steps (and with them the
 * replay guard) arbitrarily far from the server's clock.
 */
static int
match_totp(ac_otp *o, const struct ac_token *t, const char *code,
    int64_t now, int window, int64_t max_drift, uint64_t *next,
    int64_t *drift)
{
	int64_t step0, center, s, d = t->drift;
	int k, sign, e = 0, replay = 0;

	if (t->period <= 0)
		return AC_ERR_INTERNAL;
	step0 = (int64_t)ac_totp_step(now, t->period);
	/* A stored drift past the bound (an edited row) counts as the bound,
	 * which also keeps the sums below from overflowing. */
	if (d > max_drift)
		d = max_drift;
	else if (d < -max_drift)
		d = -max_drift;
	center = step0 + d;
	for (k = 0; k <= window; k++) {
		for (sign = 1; sign >= -1; sign -= 2) {
			if (k == 0 && sign < 0)
				continue;
			s = center + sign * k;
			if (s < 0 || s - step0 > max_drift ||
			    step0 - s > max_drift)
				continue;
			if (!code_at(o, (uint64_t)s, code, &e)) {
				if (e != 0)
					return e;
				continue;
			}
			if ((uint64_t)s < t->counter) {
				replay = 1;
				continue;
			}
			*next = (uint64_t)s + 1;
			*drift = s - step0;
			return 0;
		}
	}
	return replay ? AC_ERR_REPLAY : AC_ERR_DENIED;
}

/* How far the remembered TOTP drift may go: as far as a resync may set
 * it, and never so little that the window around the server's own step
 * is cut. */
static int64_t
max_drift(const struct ac_policy *p, int window)
{
	return p->resync_totp_window > window ? p->resync_totp_window :
	    window;
}

/* The search with an explicit window (activation and test use the check's;
 * tests of resync use wider ones through their own loops). */
static int
match_window(ac_ctx *ctx, const struct ac_token *t, const char *code,
    int window, uint64_t *next, int64_t *drift)
{
	ac_otp *o = NULL;
	int r;

	*next = t->counter;
	*drift = t->drift;
	if (!ac_otp_code_valid(code, t->digits))
		return AC_ERR_DENIED;
	if ((r = token_otp(ctx, t, &o)) != 0)
		return r;
	if (t->type == AC_TOKEN_TOTP)
		r = match_totp(o, t, code, ac_ctx_now(ctx), window,
		    max_drift(ac_ctx_policy(ctx), window), next, drift);
	else
		r = match_hotp(o, t, code, window, next);
	ac_otp_free(o);
	return r;
}

int
ac_token_match(ac_ctx *ctx, const struct ac_token *t, const char *code,
    uint64_t *next, int64_t *drift)
{
	const struct ac_policy *p = ac_ctx_policy(ctx);

	return match_window(ctx, t, code, t->type == AC_TOKEN_TOTP ?
	    p->totp_window : p->hotp_window, next, drift);
}

void
ac_token_dummy_work(ac_ctx *ctx, const char *pin, size_t pinlen)
{
	const struct ac_token *t = ac_ctx_dummy_token(ctx);
	uint64_t next = 0;
	int64_t drift = 0;

	if (t == NULL)
		return;
	/* Results ignored: only the cost matters.  "000000" is a valid code,
	 * so the search unseals and runs the whole window. */
	(void)ac_pin_verify(ac_ctx_keyring(ctx), t->pin_salt,
	    pin != NULL ? pin : "", pin != NULL ? pinlen : 0, t->pin_hash);
	(void)ac_token_match(ctx, t, "000000", &next, &drift);
}

int
ac_token_fail(ac_ctx *ctx, const struct ac_token *t, int *locked)
{
	const struct ac_policy *p = ac_ctx_policy(ctx);
	ac_store *s = ac_ctx_store(ctx);
	int64_t now = ac_ctx_now(ctx), until;
	int n = 0, r;

	if (locked != NULL)
		*locked = 0;
	/* A lock that ran out starts a fresh count; otherwise the first
	 * wrong code after the lock would lock the token again at once. */
	if (t->locked_until != 0 && t->locked_until <= now) {
		struct ac_token fresh = *t;

		fresh.fail_count = 0;
		fresh.locked_until = 0;
		r = ac_store_token_update(s, &fresh);
		ac_wipe(&fresh, sizeof(fresh));
		if (r != 0)
			return r;
	}
	until = p->lock_seconds == 0 ? AC_FOREVER : now + p->lock_seconds;
	if ((r = ac_store_token_fail(s, t->serial, p->max_fail, until,
	    &n)) != 0)
		return r;
	if (locked != NULL)
		*locked = n >= p->max_fail;
	return 0;
}

/* ---- the change pattern ------------------------------------------------ */

/*
 * One change to one token.  edit changes *t in memory (the caller writes
 * it back) or, with written = 1, has written through the store itself.
 * When edit fails with keep set, its own writes (a counted failure) are
 * committed with an event whose result is `result`; otherwise a failure
 * rolls everything back and logs nothing.
 */
struct change {
	const char	*action;
	int		(*edit)(ac_ctx *, struct ac_token *, struct change *);
	const void	*arg;
	const char	*result;
	char		 reason[AC_MAX_REASON + 1];
	int		 keep;
	int		 written;
	char		*err;
	size_t		 errlen;
};

static int
change_event(ac_ctx *ctx, const struct ac_who *who, const struct ac_token *t,
    const struct change *c, int ok)
{
	struct ac_event ev = {
		.actor = who != NULL ? who->actor : "system",
		.source = who != NULL ? who->source : "",
		.action = c->action, .serial = t->serial, .user = t->owner,
		.result = ok ? "ok" : c->result, .reason = c->reason,
	};

	return ac_event_log(ctx, &ev);
}

static int
token_change(ac_ctx *ctx, const struct ac_who *who, const char *serial,
    struct change *c)
{
	ac_store *s = ac_ctx_store(ctx);
	struct ac_token t;
	int r, e, began = 0;

	memset(&t, 0, sizeof(t));
	if (!ac_serial_valid(serial)) {
		ac_set_err(c->err, c->errlen, "invalid serial number");
		r = AC_ERR_INVALID;
		goto out;
	}
	if ((r = ac_store_begin(s)) != 0)
		goto out;
	began = 1;
	if ((r = ac_store_token_get(s, serial, &t)) != 0) {
		if (r == AC_ERR_NOT_FOUND)
			ac_set_err(c->err, c->errlen, "no token with serial %s",
			    serial);
		goto out;
	}
	r = c->edit(ctx, &t, c);
	if (r != 0 && !c->keep)
		goto out;
	if (r == 0 && !c->written && (e = ac_store_token_update(s, &t)) != 0) {
		r = e;
		goto out;
	}
	if ((e = change_event(ctx, who, &t, c, r == 0)) != 0 ||
	    (e = ac_store_commit(s)) != 0) {
		r = e;
		goto out;
	}
	began = 0;
out:
	if (began)
		(void)ac_store_rollback(s);
	ac_wipe(&t, sizeof(t));
	return r;
}

/* ---- creating tokens --------------------------------------------------- */

/* Checks a spec and fills the parts of a row it decides. */
static int
spec_to_token(const struct ac_token_spec *spec, struct ac_token *t,
    char *err, size_t errlen)
{
	const char *owner = spec->owner != NULL ? spec->owner : "";
	const char *desc = spec->description != NULL ? spec->description : "";

	memset(t, 0, sizeof(*t));
	if (spec->type != AC_TOKEN_TOTP && spec->type != AC_TOKEN_HOTP &&
	    spec->type != AC_TOKEN_EMAIL) {
		ac_set_err(err, errlen, "unknown token type");
		return AC_ERR_INVALID;
	}
	if (spec->algo != AC_ALGO_SHA1 && spec->algo != AC_ALGO_SHA256 &&
	    spec->algo != AC_ALGO_SHA512) {
		ac_set_err(err, errlen, "unknown algorithm");
		return AC_ERR_INVALID;
	}
	t->digits = spec->digits == 0 ? 6 : spec->digits;
	t->period = spec->period == 0 ? 30 : spec->period;
	if (t->digits != 6 && t->digits != 8) {
		ac_set_err(err, errlen, "digits must be 6 or 8, not %d",
		    spec->digits);
		return AC_ERR_INVALID;
	}
	if (spec->type == AC_TOKEN_TOTP && t->period != 30 && t->period != 60) {
		ac_set_err(err, errlen, "period must be 30 or 60 seconds, not %d",
		    spec->period);
		return AC_ERR_INVALID;
	}
	if (!owner_valid(owner)) {
		ac_set_err(err, errlen, "invalid user name (at most %d bytes, no "
		    "control characters)", AC_MAX_USER);
		return AC_ERR_INVALID;
	}
	if (!text_valid(desc, AC_MAX_DESCRIPTION)) {
		ac_set_err(err, errlen, "invalid description (at most %d bytes of "
		    "UTF-8 text)", AC_MAX_DESCRIPTION);
		return AC_ERR_INVALID;
	}
	if (spec->type == AC_TOKEN_EMAIL && !email_valid(spec->email)) {
		ac_set_err(err, errlen, "an e-mail token needs a valid address");
		return AC_ERR_INVALID;
	}
	t->type = spec->type;
	t->algo = spec->algo;
	t->counter = spec->type == AC_TOKEN_TOTP ? 0 : spec->counter;
	snprintf(t->owner, sizeof(t->owner), "%s", owner);
	snprintf(t->description, sizeof(t->description), "%s", desc);
	if (spec->type == AC_TOKEN_EMAIL)
		snprintf(t->email, sizeof(t->email), "%s", spec->email);
	return 0;
}

/* Seals secret into t (whose serial is set) under the current key. */
static int
token_seal(ac_ctx *ctx, struct ac_token *t, const uint8_t *secret, size_t n)
{
	const ac_keyring *k = ac_ctx_keyring(ctx);

	snprintf(t->key_id, sizeof(t->key_id), "%s", ac_keyring_key_id(k));
	return ac_seal(k, t->serial, secret, n, t->sealed, sizeof(t->sealed),
	    &t->sealed_len);
}

/* Inserts t and its event in one transaction. */
static int
token_insert(ac_ctx *ctx, const struct ac_who *who, const struct ac_token *t,
    const char *action, const char *reason)
{
	ac_store *s = ac_ctx_store(ctx);
	struct ac_event ev = {
		.actor = who != NULL ? who->actor : "system",
		.source = who != NULL ? who->source : "",
		.action = action, .serial = t->serial, .user = t->owner,
		.result = "ok", .reason = reason,
	};
	int r;

	if ((r = ac_store_begin(s)) != 0)
		return r;
	if ((r = ac_store_token_insert(s, t)) != 0 ||
	    (r = ac_event_log(ctx, &ev)) != 0 ||
	    (r = ac_store_commit(s)) != 0) {
		(void)ac_store_rollback(s);
		return r;
	}
	return 0;
}

/* "TOTP" / "HOTP" / "MAIL" and 8 random upper-case hex digits. */
static int
serial_generate(enum ac_token_type type, char out[AC_MAX_SERIAL + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	const char *prefix = type == AC_TOKEN_TOTP ? "TOTP" :
	    type == AC_TOKEN_HOTP ? "HOTP" : "MAIL";
	uint8_t rnd[4];
	size_t i, n;
	int r;

	if ((r = ac_random(rnd, sizeof(rnd))) != 0)
		return r;
	n = (size_t)snprintf(out, AC_MAX_SERIAL + 1, "%s", prefix);
	for (i = 0; i < sizeof(rnd); i++) {
		out[n++] = hex[rnd[i] >> 4];
		out[n++] = hex[rnd[i] & 0x0f];
	}
	out[n] = '\0';
	return 0;
}

int
ac_token_add(ac_ctx *ctx, const struct ac_who *who,
    const struct ac_token_spec *spec, const uint8_t *secret, size_t n,
    char *err, size_t errlen)
{
	struct ac_token t;
	int64_t now = ac_ctx_now(ctx);
	int r;

	if ((r = spec_to_token(spec, &t, err, errlen)) != 0)
		goto out;
	if (secret == NULL || n < AC_MIN_SECRET || n > AC_MAX_SECRET) {
		ac_set_err(err, errlen, "the secret must be %d to %d bytes, not "
		    "%zu", AC_MIN_SECRET, AC_MAX_SECRET, n);
		r = AC_ERR_INVALID;
		goto out;
	}
	if (spec->serial == NULL)
		r = serial_generate(spec->type, t.serial);
	else if (!ac_serial_valid(spec->serial)) {
		ac_set_err(err, errlen, "invalid serial number (1 to %d of "
		    "A-Z a-z 0-9 . _ -)", AC_MAX_SERIAL);
		r = AC_ERR_INVALID;
	} else
		snprintf(t.serial, sizeof(t.serial), "%s", spec->serial);
	if (r != 0 || (r = token_seal(ctx, &t, secret, n)) != 0)
		goto out;
	t.state = AC_STATE_ACTIVE;
	t.created = t.activated = now;
	r = token_insert(ctx, who, &t, "add", ac_token_type_name(t.type));
	if (r == AC_ERR_EXISTS)
		ac_set_err(err, errlen, "a token with serial %s exists already",
		    t.serial);
out:
	ac_wipe(&t, sizeof(t));
	return r;
}

/* Picks the serial and inserts, retrying a generated serial that happens
 * to be taken already. */
static int
enroll_insert(ac_ctx *ctx, const struct ac_who *who,
    const struct ac_token_spec *spec, struct ac_token *t,
    const uint8_t *secret, size_t n)
{
	int tries, r = AC_ERR_EXISTS;

	for (tries = 0; tries < 5 && r == AC_ERR_EXISTS; tries++) {
		if (spec->serial != NULL)
			snprintf(t->serial, sizeof(t->serial), "%s",
			    spec->serial);
		else if ((r = serial_generate(spec->type, t->serial)) != 0)
			return r;
		if ((r = token_seal(ctx, t, secret, n)) != 0)
			return r;
		r = token_insert(ctx, who, t, "enroll",
		    ac_token_type_name(t->type));
		if (spec->serial != NULL)
			break;
	}
	return r;
}

int
ac_token_enroll(ac_ctx *ctx, const struct ac_who *who,
    const struct ac_token_spec *spec, char serial_out[AC_MAX_SERIAL + 1],
    uint8_t secret[AC_MAX_SECRET], size_t *secret_len, char *err,
    size_t errlen)
{
	struct ac_token t;
	int64_t now = ac_ctx_now(ctx);
	size_t n = 0;
	int r;

	serial_out[0] = '\0';
	*secret_len = 0;
	if ((r = spec_to_token(spec, &t, err, errlen)) != 0)
		goto out;
	if (spec->serial != NULL && !ac_serial_valid(spec->serial)) {
		ac_set_err(err, errlen, "invalid serial number");
		r = AC_ERR_INVALID;
		goto out;
	}
	if ((r = ac_otp_generate_secret(t.algo, secret, AC_MAX_SECRET,
	    &n)) != 0)
		goto out;
	t.state = AC_STATE_PENDING;
	t.created = now;
	t.expires = now + ac_ctx_policy(ctx)->pending_seconds;
	if ((r = enroll_insert(ctx, who, spec, &t, secret, n)) != 0) {
		if (r == AC_ERR_EXISTS)
			ac_set_err(err, errlen, "a token with serial %s exists "
			    "already", t.serial);
		goto out;
	}
	snprintf(serial_out, AC_MAX_SERIAL + 1, "%s", t.serial);
	*secret_len = n;
out:
	if (r != 0)
		ac_wipe(secret, AC_MAX_SECRET);
	ac_wipe(&t, sizeof(t));
	return r;
}

int
ac_token_pending_secret(ac_ctx *ctx, const char *serial,
    uint8_t secret[AC_MAX_SECRET], size_t *secret_len)
{
	struct ac_token t;
	int r;

	*secret_len = 0;
	if (!ac_serial_valid(serial))
		return AC_ERR_INVALID;
	if ((r = ac_store_token_get(ac_ctx_store(ctx), serial, &t)) != 0)
		goto out;
	/* DESIGN.md 7: a secret is shown only while the token is pending. */
	if (ac_token_status(&t, ac_ctx_now(ctx)) != AC_STATUS_PENDING) {
		r = AC_ERR_STATE;
		goto out;
	}
	r = ac_unseal(ac_ctx_keyring(ctx), t.key_id, t.serial, t.sealed,
	    t.sealed_len, secret, AC_MAX_SECRET, secret_len);
out:
	ac_wipe(&t, sizeof(t));
	return r;
}

/* ---- state changes ----------------------------------------------------- */

static int
edit_activate(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	int64_t now = ac_ctx_now(ctx), drift = 0;
	uint64_t next = 0;
	int r;

	switch (ac_token_status(t, now)) {
	case AC_STATUS_PENDING:
		break;
	case AC_STATUS_EXPIRED:
		ac_set_err(c->err, c->errlen, "the enrollment of %s expired; "
		    "enroll the token again", t->serial);
		return AC_ERR_STATE;
	default:
		ac_set_err(c->err, c->errlen, "token %s is not waiting for "
		    "activation", t->serial);
		return AC_ERR_STATE;
	}
	if (ac_token_locked(t, now)) {
		ac_set_err(c->err, c->errlen, "too many wrong codes; try again "
		    "later");
		snprintf(c->reason, sizeof(c->reason), "token locked");
		c->keep = 1;
		return AC_ERR_DENIED;
	}
	r = ac_token_match(ctx, t, (const char *)c->arg, &next, &drift);
	if (r == AC_ERR_DENIED || r == AC_ERR_REPLAY) {
		ac_set_err(c->err, c->errlen, "wrong code");
		snprintf(c->reason, sizeof(c->reason), "wrong code");
		c->keep = 1;
		if ((r = ac_token_fail(ctx, t, NULL)) != 0) {
			c->keep = 0;
			return r;
		}
		return AC_ERR_DENIED;
	}
	if (r != 0)
		return r;
	t->state = AC_STATE_ACTIVE;
	t->counter = next;
	t->drift = drift;
	t->activated = t->last_used = now;
	t->expires = 0;
	t->fail_count = 0;
	t->locked_until = 0;
	return 0;
}

int
ac_token_activate(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *code, char *err, size_t errlen)
{
	struct change c = {
		.action = "activate", .edit = edit_activate, .arg = code,
		.result = "reject", .err = err, .errlen = errlen,
	};

	if (code == NULL)
		return AC_ERR_INVALID;
	return token_change(ctx, who, serial, &c);
}

static int
edit_enable(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	(void)ctx;
	if (t->state == AC_STATE_PENDING) {
		ac_set_err(c->err, c->errlen, "token %s is pending activation",
		    t->serial);
		return AC_ERR_STATE;
	}
	t->state = c->arg != NULL ? AC_STATE_ACTIVE : AC_STATE_DISABLED;
	return 0;
}

int
ac_token_enable(ac_ctx *ctx, const struct ac_who *who, const char *serial)
{
	struct change c = { .action = "enable", .edit = edit_enable,
	    .arg = "on" };

	return token_change(ctx, who, serial, &c);
}

int
ac_token_disable(ac_ctx *ctx, const struct ac_who *who, const char *serial)
{
	struct change c = { .action = "disable", .edit = edit_enable,
	    .arg = NULL };

	return token_change(ctx, who, serial, &c);
}

static int
edit_delete(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	c->written = 1;
	return ac_store_token_delete(ac_ctx_store(ctx), t->serial);
}

int
ac_token_delete(ac_ctx *ctx, const struct ac_who *who, const char *serial)
{
	struct change c = { .action = "delete", .edit = edit_delete };

	return token_change(ctx, who, serial, &c);
}

static int
edit_unlock(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	(void)ctx;
	snprintf(c->reason, sizeof(c->reason), "%d failures cleared",
	    t->fail_count);
	t->fail_count = 0;
	t->locked_until = 0;
	return 0;
}

int
ac_token_unlock(ac_ctx *ctx, const struct ac_who *who, const char *serial)
{
	struct change c = { .action = "unlock", .edit = edit_unlock };

	return token_change(ctx, who, serial, &c);
}

/* ---- resync ------------------------------------------------------------ */

struct code_pair {
	const char	*code1;
	const char	*code2;
};

/* HOTP: code1 at c and code2 at c + 1 for c in counter..counter+window. */
static int
resync_hotp(ac_otp *o, const struct ac_token *t, const struct code_pair *p,
    int window, uint64_t *next)
{
	uint64_t c;
	int i, e = 0;

	for (i = 0; i <= window; i++) {
		c = t->counter + (uint64_t)i;
		if (c >= (uint64_t)INT64_MAX - 1)	/* see match_hotp */
			break;
		if (code_at(o, c, p->code1, &e) &&
		    code_at(o, c + 1, p->code2, &e)) {
			*next = c + 2;
			return 0;
		}
		if (e != 0)
			return e;
	}
	return AC_ERR_DENIED;
}

/*
 * TOTP: code2 at step s and code1 at s - 1, for s within +-window of the
 * server's own step (not corrected by the old drift: resync is how a lost
 * drift is found again).  The drift learned is that of code2, the newer.
 */
static int
resync_totp(ac_otp *o, const struct ac_token *t, const struct code_pair *p,
    int64_t now, int window, uint64_t *next, int64_t *drift)
{
	int64_t step0 = (int64_t)ac_totp_step(now, t->period), s;
	int k, sign, e = 0;

	for (k = 0; k <= window; k++) {
		for (sign = 1; sign >= -1; sign -= 2) {
			if (k == 0 && sign < 0)
				continue;
			s = step0 + sign * k;
			if (s < 1 || (uint64_t)(s - 1) < t->counter)
				continue;
			if (code_at(o, (uint64_t)(s - 1), p->code1, &e) &&
			    code_at(o, (uint64_t)s, p->code2, &e)) {
				*next = (uint64_t)s + 1;
				*drift = s - step0;
				return 0;
			}
			if (e != 0)
				return e;
		}
	}
	return AC_ERR_DENIED;
}

static int
resync_search(ac_ctx *ctx, const struct ac_token *t,
    const struct code_pair *p, uint64_t *next, int64_t *drift)
{
	const struct ac_policy *pol = ac_ctx_policy(ctx);
	ac_otp *o = NULL;
	int r;

	*next = t->counter;
	*drift = t->drift;
	if ((r = token_otp(ctx, t, &o)) != 0)
		return r;
	if (t->type == AC_TOKEN_TOTP)
		r = resync_totp(o, t, p, ac_ctx_now(ctx),
		    pol->resync_totp_window, next, drift);
	else
		r = resync_hotp(o, t, p, pol->resync_hotp_window, next);
	ac_otp_free(o);
	return r;
}

static int
edit_resync(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	const struct code_pair *p = c->arg;
	enum ac_token_status st = ac_token_status(t, ac_ctx_now(ctx));
	uint64_t next = 0;
	int64_t drift = 0;
	int r;

	if (st != AC_STATUS_ACTIVE && st != AC_STATUS_LOCKED) {
		ac_set_err(c->err, c->errlen, "token %s is %s; only an active "
		    "token can be resynchronised", t->serial,
		    ac_token_status_name(st));
		return AC_ERR_STATE;
	}
	if (!ac_otp_code_valid(p->code1, t->digits) ||
	    !ac_otp_code_valid(p->code2, t->digits)) {
		ac_set_err(c->err, c->errlen, "both codes must be %d digits",
		    t->digits);
		return AC_ERR_INVALID;
	}
	r = resync_search(ctx, t, p, &next, &drift);
	if (r == AC_ERR_DENIED) {
		ac_set_err(c->err, c->errlen, "the two codes are not consecutive "
		    "codes of token %s", t->serial);
		snprintf(c->reason, sizeof(c->reason), "codes not found");
		c->keep = 1;
		return r;
	}
	if (r != 0)
		return r;
	if (t->type == AC_TOKEN_TOTP)
		snprintf(c->reason, sizeof(c->reason), "drift %lld steps",
		    (long long)drift);
	else
		snprintf(c->reason, sizeof(c->reason), "counter %llu",
		    (unsigned long long)next);
	t->counter = next;
	t->drift = drift;
	t->fail_count = 0;
	t->locked_until = 0;
	return 0;
}

int
ac_token_resync(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *code1, const char *code2, char *err,
    size_t errlen)
{
	struct code_pair p = { code1, code2 };
	struct change c = {
		.action = "resync", .edit = edit_resync, .arg = &p,
		.result = "reject", .err = err, .errlen = errlen,
	};

	if (code1 == NULL || code2 == NULL)
		return AC_ERR_INVALID;
	return token_change(ctx, who, serial, &c);
}

/* ---- bypass, PIN, description ------------------------------------------ */

static int
edit_bypass(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	int64_t until = *(const int64_t *)c->arg;
	struct tm tm;
	time_t tt;

	(void)ctx;
	t->bypass_until = until;
	if (until == 0)
		snprintf(c->reason, sizeof(c->reason), "off");
	else if (until == AC_FOREVER)
		snprintf(c->reason, sizeof(c->reason), "forever");
	else {
		tt = (time_t)until;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(c->reason, sizeof(c->reason),
		    "until %Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(c->reason, sizeof(c->reason), "until %lld",
			    (long long)until);
	}
	return 0;
}

int
ac_token_set_bypass(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, int64_t until, char *err, size_t errlen)
{
	struct change c = {
		.action = "bypass", .edit = edit_bypass, .arg = &until,
		.err = err, .errlen = errlen,
	};

	if (until != 0 && until != AC_FOREVER && until <= ac_ctx_now(ctx)) {
		ac_set_err(err, errlen, "the bypass end time is in the past");
		return AC_ERR_INVALID;
	}
	return token_change(ctx, who, serial, &c);
}

/* PINs: AC_MIN_PIN..AC_MAX_PIN printable ASCII characters, so that what a
 * VPN client or a PAM prompt sends is unambiguous. */
static int
pin_valid(const char *pin)
{
	size_t i, n = strlen(pin);

	if (n < AC_MIN_PIN || n > AC_MAX_PIN)
		return 0;
	for (i = 0; i < n; i++)
		if (pin[i] < 0x20 || pin[i] > 0x7e)
			return 0;
	return 1;
}

static int
edit_pin(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	const char *pin = c->arg;
	int r;

	if (pin == NULL) {
		t->has_pin = 0;
		ac_wipe(t->pin_salt, sizeof(t->pin_salt));
		ac_wipe(t->pin_hash, sizeof(t->pin_hash));
		snprintf(c->reason, sizeof(c->reason), "PIN cleared");
		return 0;
	}
	/* A fresh salt each time: the same PIN never gives the same hash. */
	if ((r = ac_random(t->pin_salt, sizeof(t->pin_salt))) != 0 ||
	    (r = ac_pin_hash(ac_ctx_keyring(ctx), t->pin_salt, pin,
	    strlen(pin), t->pin_hash)) != 0)
		return r;
	t->has_pin = 1;
	snprintf(c->reason, sizeof(c->reason), "PIN set");
	return 0;
}

int
ac_token_set_pin(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *pin, char *err, size_t errlen)
{
	struct change c = {
		.action = "set-pin", .edit = edit_pin, .err = err,
		.errlen = errlen,
	};

	if (pin != NULL && pin[0] != '\0') {
		if (!pin_valid(pin)) {
			ac_set_err(err, errlen, "a PIN is %d to %d printable "
			    "characters", AC_MIN_PIN, AC_MAX_PIN);
			return AC_ERR_INVALID;
		}
		c.arg = pin;
	}
	return token_change(ctx, who, serial, &c);
}

static int
edit_description(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	(void)ctx;
	snprintf(t->description, sizeof(t->description), "%s",
	    (const char *)c->arg);
	return 0;
}

int
ac_token_set_description(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *description, char *err, size_t errlen)
{
	struct change c = {
		.action = "description", .edit = edit_description,
		.arg = description != NULL ? description : "", .err = err,
		.errlen = errlen,
	};

	if (!text_valid(c.arg, AC_MAX_DESCRIPTION)) {
		ac_set_err(err, errlen, "a description is at most %d bytes of "
		    "text without control characters", AC_MAX_DESCRIPTION);
		return AC_ERR_INVALID;
	}
	return token_change(ctx, who, serial, &c);
}

/* ---- test, e-mail code, sweep ------------------------------------------ */

/* Counts a failed test as a check would, keeping the failure. */
static int
test_reject(ac_ctx *ctx, const struct ac_token *t, struct change *c,
    const char *reason)
{
	int r;

	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	c->keep = 1;
	if ((r = ac_token_fail(ctx, t, NULL)) != 0) {
		c->keep = 0;
		return r;
	}
	return AC_ERR_DENIED;
}

static int
edit_test(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	int64_t now = ac_ctx_now(ctx), drift = 0;
	enum ac_token_status st = ac_token_status(t, now);
	uint64_t next = 0;
	int r;

	if (st == AC_STATUS_LOCKED) {
		snprintf(c->reason, sizeof(c->reason), "token locked");
		c->keep = 1;
		return AC_ERR_DENIED;
	}
	/* An e-mail token's code is right only while its mailed challenge
	 * is live (check.c); a test would take codes nobody was sent, and
	 * its counter would outrun the live challenge. */
	if (st != AC_STATUS_ACTIVE || t->type == AC_TOKEN_EMAIL)
		return AC_ERR_STATE;
	r = ac_token_match(ctx, t, (const char *)c->arg, &next, &drift);
	if (r == AC_ERR_DENIED)
		return test_reject(ctx, t, c, "wrong code");
	if (r == AC_ERR_REPLAY)
		goto replay;
	if (r != 0)
		return r;
	/* The same compare-and-set as the check: a racing check with the
	 * same code wins or loses as a whole. */
	r = ac_store_token_accept(ac_ctx_store(ctx), t->serial, next, drift,
	    now);
	if (r == AC_ERR_REPLAY)
		goto replay;
	c->written = 1;
	return r;
replay:
	/* Refused but not counted, as in the check (check.c). */
	snprintf(c->reason, sizeof(c->reason), "code already used");
	c->keep = 1;
	return AC_ERR_DENIED;
}

int
ac_token_test(ac_ctx *ctx, const struct ac_who *who, const char *serial,
    const char *code)
{
	struct change c = {
		.action = "test", .edit = edit_test, .arg = code,
		.result = "reject",
	};

	if (code == NULL)
		return AC_ERR_INVALID;
	return token_change(ctx, who, serial, &c);
}

int
ac_token_email_code(ac_ctx *ctx, const char *serial, char *code,
    size_t codelen)
{
	struct ac_token t;
	enum ac_token_status st;
	ac_otp *o = NULL;
	int r;

	if (codelen < AC_MAX_CODE + 1 || !ac_serial_valid(serial))
		return AC_ERR_INVALID;
	code[0] = '\0';
	if ((r = ac_store_token_get(ac_ctx_store(ctx), serial, &t)) != 0)
		goto out;
	st = ac_token_status(&t, ac_ctx_now(ctx));
	if (t.type != AC_TOKEN_EMAIL ||
	    (st != AC_STATUS_ACTIVE && st != AC_STATUS_PENDING)) {
		r = AC_ERR_STATE;
		goto out;
	}
	if ((r = token_otp(ctx, &t, &o)) != 0)
		goto out;
	r = ac_otp_hotp(o, t.counter, code, codelen);
out:
	ac_otp_free(o);
	ac_wipe(&t, sizeof(t));
	return r;
}

int
ac_token_hotp_at(ac_ctx *ctx, const struct ac_token *t, uint64_t counter,
    char *code, size_t codelen)
{
	ac_otp *o = NULL;
	int r;

	if (codelen < AC_MAX_CODE + 1)
		return AC_ERR_INVALID;
	code[0] = '\0';
	if (t->type == AC_TOKEN_TOTP)
		return AC_ERR_STATE;
	if ((r = token_otp(ctx, t, &o)) != 0)
		return r;
	r = ac_otp_hotp(o, counter, code, codelen);
	ac_otp_free(o);
	return r;
}

static int
edit_sweep(ac_ctx *ctx, struct ac_token *t, struct change *c)
{
	/* Looked at again under the write lock: it may have been activated
	 * since the list was read. */
	if (ac_token_status(t, ac_ctx_now(ctx)) != AC_STATUS_EXPIRED)
		return AC_ERR_STATE;
	snprintf(c->reason, sizeof(c->reason), "pending enrollment expired");
	c->written = 1;
	return ac_store_token_delete(ac_ctx_store(ctx), t->serial);
}

int
ac_token_sweep(ac_ctx *ctx, int *n)
{
	static const struct ac_who sweeper = { "system", "sweep" };
	struct ac_token_filter f = {
		.owner = NULL, .state = AC_STATE_PENDING,
		.expired_before = ac_ctx_now(ctx) + 1,
	};
	struct ac_token *list = NULL;
	size_t i, count = 0;
	int r;

	if (n != NULL)
		*n = 0;
	/* One statement, no event: a challenge is not a token change. */
	if ((r = ac_store_challenge_sweep(ac_ctx_store(ctx), ac_ctx_now(ctx),
	    NULL)) != 0)
		return r;
	if ((r = ac_store_token_list(ac_ctx_store(ctx), &f, &list,
	    &count)) != 0)
		return r;
	for (i = 0; i < count; i++) {
		struct change c = { .action = "sweep", .edit = edit_sweep };

		r = token_change(ctx, &sweeper, list[i].serial, &c);
		if (r == AC_ERR_STATE || r == AC_ERR_NOT_FOUND) {
			r = 0;
			continue;
		}
		if (r != 0)
			break;
		if (n != NULL)
			(*n)++;
	}
	if (list != NULL)
		ac_wipe(list, count * sizeof(*list));
	free(list);
	return r;
}
