/*
 * check.c - the decision (DESIGN.md 5): is this passcode right for this
 * user on this resource?
 *
 * One check is one store transaction: read the user's tokens, try each,
 * accept with the replay guard's compare-and-set or count the failures,
 * append exactly one event, commit.  The only slow step, asking the
 * directory for a password (`directory` PIN mode), happens before the
 * transaction so that no write lock is held across a network round trip.
 *
 * The caller learns only ACCEPT, REJECT, CHALLENGE or ERROR: unknown user,
 * wrong PIN, wrong code, replay, locked and disabled tokens all REJECT,
 * and only res->reason and the event log say which.
 *
 * E-mail tokens (DESIGN.md 5.3) are HOTP tokens whose codes are mailed on
 * demand: a passcode that is only the PIN part (the token PIN, the
 * directory password, or nothing, as the resource's PIN mode says) is a
 * trigger.  The transaction records a challenge (transaction id, the
 * counter of the code, an expiry) and commits; the code is mailed after
 * the commit, like the directory round trip never under the write lock;
 * then the one event is written.  The token accepts a code only while its
 * last challenge is live (unused, unexpired) and only the code at that
 * challenge's counter: one code per mail, used once, then gone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "check.h"
#include "codec.h"
#include "config.h"
#include "events.h"
#include "seal.h"
#include "tokens.h"

/* ---- resource policy --------------------------------------------------- */

/* Same order as enum ac_pin_mode and enum ac_pin_position. */
static const char *const pin_modes[] = { "token", "directory", "none", NULL };
static const char *const pin_positions[] = { "before", "after", NULL };

/* Resource names are HDF node names: letters, digits, '_' and '-'. */
static int
resource_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= AC_MAX_RESOURCE)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return i > 0;
}

/* resources.NAME.FIELD as a choice, falling back to def. */
static int
resource_choice(const ac_config *cfg, const char *name, const char *field,
    const char *const *choices, int def, int *out, char *err, size_t errlen)
{
	char key[AC_MAX_RESOURCE + 64];

	snprintf(key, sizeof(key), "resources.%s.%s", name, field);
	if (ac_config_choice(cfg, key, choices, def, out, err, errlen) != 0)
		return AC_ERR_CONFIG;
	return 0;
}

int
ac_resource_policy(const ac_ctx *ctx, const char *resource,
    struct ac_resource_policy *out, char *err, size_t errlen)
{
	const ac_config *cfg = ac_ctx_config(ctx);
	int mode = AC_PIN_TOKEN, pos = AC_PIN_BEFORE;

	if (resource == NULL || resource[0] == '\0')
		resource = "default";
	if (!resource_valid(resource)) {
		ac_set_err(err, errlen, "invalid resource name (1 to %d of A-Z "
		    "a-z 0-9 _ -)", AC_MAX_RESOURCE);
		return AC_ERR_INVALID;
	}
	/* Built-in defaults, then resources.default.*, then the resource. */
	if (resource_choice(cfg, "default", "pin_mode", pin_modes, mode,
	    &mode, err, errlen) != 0 ||
	    resource_choice(cfg, "default", "pin_position", pin_positions,
	    pos, &pos, err, errlen) != 0 ||
	    resource_choice(cfg, resource, "pin_mode", pin_modes, mode,
	    &mode, err, errlen) != 0 ||
	    resource_choice(cfg, resource, "pin_position", pin_positions,
	    pos, &pos, err, errlen) != 0)
		return AC_ERR_CONFIG;
	out->pin_mode = (enum ac_pin_mode)mode;
	out->pin_position = (enum ac_pin_position)pos;
	return 0;
}

/* ---- one check --------------------------------------------------------- */

/* What one token made of the passcode, from least to most telling: the
 * event names the token with the most telling outcome. */
enum outcome {
	O_SKIP = 0,		/* not a candidate (a second e-mail trigger) */
	O_INACTIVE,		/* pending, expired or disabled */
	O_WRONG_PIN,		/* PIN / password part wrong, or too short */
	O_LOCKED,
	O_NO_CHALLENGE,		/* e-mail: PIN right, no live code mailed */
	O_WRONG_CODE,		/* PIN right, OTP wrong */
	O_REPLAY,		/* PIN right, OTP used already */
	O_SEND_REFUSED,		/* e-mail trigger: no mailer, or send limit */
	O_CHALLENGE,		/* e-mail trigger: a code to mail */
	O_ACCEPT,
};

struct check {
	ac_ctx				*ctx;
	const char			*user;
	const char			*passcode;
	size_t				 len;
	struct ac_resource_policy	 pol;
	int64_t				 now;
	/* Directory mode: the verdict on the password part for each OTP
	 * length (0 = the whole passcode, for bypass): -1 not asked. */
	signed char			 dir_ok[AC_MAX_CODE + 1];
	struct ac_token			*tokens;
	enum outcome			*outcomes;
	size_t				 n;
	size_t				 best;	/* index of the telling token */
	char				 reason[AC_MAX_REASON + 1];
	int				 keep_reason;	/* final already */
	int				 unsealed;	/* a real token was */
	/* E-mail trigger: the token asked for a code (the first one only),
	 * its challenge, whether that is new, and the code to mail. */
	int				 has_trigger;
	size_t				 trigger;
	struct ac_challenge		 ch;
	int				 ch_new;
	char				 mail_code[AC_MAX_CODE + 1];
};

/* The PIN part and the OTP part of the passcode for a token with `digits`
 * digits; the caller has checked len >= digits. */
static void
split(const struct check *ck, int digits, const char **pin, size_t *pinlen,
    const char **otp)
{
	size_t d = (size_t)digits;

	*pinlen = ck->len - d;
	if (ck->pol.pin_position == AC_PIN_BEFORE) {
		*pin = ck->passcode;
		*otp = ck->passcode + ck->len - d;
	} else {
		*otp = ck->passcode;
		*pin = ck->passcode + d;
	}
}

/* 1 when the PIN part is right for t under the resource's PIN mode. */
static int
pin_right(const struct check *ck, const struct ac_token *t, const char *pin,
    size_t pinlen, size_t otplen)
{
	switch (ck->pol.pin_mode) {
	case AC_PIN_NONE:
		return pinlen == 0;
	case AC_PIN_DIRECTORY:
		return ck->dir_ok[otplen] == 1;
	case AC_PIN_TOKEN:
		break;
	}
	/* A token with a PIN requires it; one without takes the OTP alone. */
	if (!t->has_pin)
		return pinlen == 0;
	return ac_pin_verify(ac_ctx_keyring(ck->ctx), t->pin_salt, pin, pinlen,
	    t->pin_hash);
}

static int
bypass_active(const struct ac_token *t, int64_t now)
{
	return t->bypass_until == AC_FOREVER || t->bypass_until > now;
}

/* Bypass (DESIGN.md 5.5): the whole passcode is the PIN part, no OTP.
 * Records the use like an accepted code, minus the counter. */
static int
bypass_accept(struct check *ck, struct ac_token *t, enum outcome *o)
{
	int r;

	t->last_used = ck->now;
	t->fail_count = 0;
	t->locked_until = 0;
	if ((r = ac_store_token_update(ac_ctx_store(ck->ctx), t)) != 0)
		return r;
	*o = O_ACCEPT;
	snprintf(ck->reason, sizeof(ck->reason), "accepted by bypass of %s",
	    t->serial);
	return 0;
}

/* The OTP part: search the window, then claim the code with the replay
 * guard's compare-and-set (DESIGN.md 4). */
static int
try_otp(struct check *ck, const struct ac_token *t, const char *otp,
    enum outcome *o)
{
	char code[AC_MAX_CODE + 1];
	uint64_t next = 0;
	int64_t drift = 0;
	int r;

	memcpy(code, otp, (size_t)t->digits);
	code[t->digits] = '\0';
	/* The search unseals the token only for a well-formed code. */
	if (ac_otp_code_valid(code, t->digits))
		ck->unsealed = 1;
	r = ac_token_match(ck->ctx, t, code, &next, &drift);
	ac_wipe(code, sizeof(code));
	if (r == 0) {
		r = ac_store_token_accept(ac_ctx_store(ck->ctx), t->serial,
		    next, drift, ck->now);
		if (r == 0)
			*o = O_ACCEPT;
	}
	if (r == AC_ERR_DENIED)
		*o = O_WRONG_CODE;
	else if (r == AC_ERR_REPLAY)
		*o = O_REPLAY;
	else if (r != 0)
		return r;
	return 0;
}

/* 1 when c is the challenge t can still be answered with: unused,
 * unexpired, and its code not behind the token's counter. */
static int
challenge_live(const struct ac_challenge *c, const struct ac_token *t,
    int64_t now)
{
	return !c->used && now < c->expires && c->counter >= t->counter;
}

/* The answer was right: claim the counter with the replay guard's
 * compare-and-set, then use the challenge up. */
static int
claim(struct check *ck, const struct ac_token *t,
    const struct ac_challenge *c, enum outcome *o)
{
	ac_store *s = ac_ctx_store(ck->ctx);
	int r;

	r = ac_store_token_accept(s, t->serial, c->counter + 1, t->drift,
	    ck->now);
	if (r == AC_ERR_REPLAY) {
		*o = O_REPLAY;
		return 0;
	}
	if (r == 0)
		r = ac_store_challenge_consume(s, c->txid, ck->now);
	if (r == 0)
		*o = O_ACCEPT;
	return r;
}

/* The OTP part for an e-mail token: right only as the code of its last
 * challenge while that is live.  A used or outrun code is a replay (not
 * counted, as for other tokens); an expired one is no code at all. */
static int
try_email_code(struct check *ck, const struct ac_token *t, const char *otp,
    enum outcome *o)
{
	struct ac_challenge c;
	char want[AC_MAX_CODE + 1], got[AC_MAX_CODE + 1];
	int r, eq, live;

	*o = O_NO_CHALLENGE;
	r = ac_store_challenge_last(ac_ctx_store(ck->ctx), t->serial, &c);
	if (r == AC_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	memcpy(got, otp, (size_t)t->digits);
	got[t->digits] = '\0';
	ck->unsealed = 1;
	if ((r = ac_token_hotp_at(ck->ctx, t, c.counter, want,
	    sizeof(want))) != 0)
		goto out;
	eq = ac_otp_code_valid(got, t->digits) && ac_otp_code_equal(want, got);
	live = challenge_live(&c, t, ck->now);
	if (!eq)
		*o = live ? O_WRONG_CODE : O_NO_CHALLENGE;
	else if (!live)
		*o = c.used || c.counter < t->counter ? O_REPLAY :
		    O_NO_CHALLENGE;
	else
		r = claim(ck, t, &c, o);
out:
	ac_wipe(want, sizeof(want));
	ac_wipe(got, sizeof(got));
	return r;
}

/* An active, unlocked e-mail token: a trigger (the whole passcode is the
 * PIN part) asks for a code; PIN part + code answers a challenge. */
static int
try_email(struct check *ck, struct ac_token *t, size_t i, enum outcome *o)
{
	const char *pin, *otp;
	size_t pinlen;

	if (pin_right(ck, t, ck->passcode, ck->len, 0)) {
		/* One mail per check: the user's first e-mail token. */
		*o = ck->has_trigger ? O_SKIP : O_CHALLENGE;
		if (!ck->has_trigger) {
			ck->has_trigger = 1;
			ck->trigger = i;
		}
		return 0;
	}
	*o = O_WRONG_PIN;
	if (ck->len < (size_t)t->digits)
		return 0;
	split(ck, t->digits, &pin, &pinlen, &otp);
	if (!pin_right(ck, t, pin, pinlen, (size_t)t->digits))
		return 0;
	return try_email_code(ck, t, otp, o);
}

/* Decides what one token (index i) makes of the passcode; accepts when
 * right. */
static int
try_token(struct check *ck, struct ac_token *t, size_t i, enum outcome *o)
{
	enum ac_token_status st;
	const char *pin, *otp;
	size_t pinlen;

	*o = O_SKIP;
	st = ac_token_status(t, ck->now);
	if (st == AC_STATUS_LOCKED) {
		*o = O_LOCKED;
		return 0;
	}
	if (st != AC_STATUS_ACTIVE) {
		*o = O_INACTIVE;
		return 0;
	}
	if (bypass_active(t, ck->now) &&
	    pin_right(ck, t, ck->passcode, ck->len, 0))
		return bypass_accept(ck, t, o);
	if (t->type == AC_TOKEN_EMAIL)
		return try_email(ck, t, i, o);
	*o = O_WRONG_PIN;
	if (ck->len < (size_t)t->digits)
		return 0;
	split(ck, t->digits, &pin, &pinlen, &otp);
	if (!pin_right(ck, t, pin, pinlen, (size_t)t->digits))
		return 0;
	return try_otp(ck, t, otp, o);
}

/*
 * No token accepted: count a failure on every token whose PIN was right
 * but whose OTP was wrong, or, when no PIN was right, on every token that
 * was tried, so that guessing PINs locks tokens as surely as guessing
 * codes.  A replayed code is refused but not counted: it was right once,
 * and counting it would let two validators racing on one legitimate login
 * (a VPN asking two servers) lock the user out.
 */
static int
count_failures(struct check *ck)
{
	size_t i;
	int pin_right_somewhere = 0, r;

	for (i = 0; i < ck->n; i++)
		if (ck->outcomes[i] == O_WRONG_CODE ||
		    ck->outcomes[i] == O_NO_CHALLENGE ||
		    ck->outcomes[i] == O_REPLAY)
			pin_right_somewhere = 1;
	for (i = 0; i < ck->n; i++) {
		enum outcome o = ck->outcomes[i];

		if (o == O_WRONG_CODE || o == O_NO_CHALLENGE ||
		    (!pin_right_somewhere && o == O_WRONG_PIN)) {
			if ((r = ac_token_fail(ck->ctx, &ck->tokens[i],
			    NULL)) != 0)
				return r;
		}
	}
	return 0;
}

/* The admin-facing reason for the outcome of token i. */
static void
describe(struct check *ck)
{
	static const char *const text[] = {
		[O_SKIP] = "no token that can check a passcode",
		[O_INACTIVE] = "token not active",
		[O_WRONG_PIN] = "wrong PIN or password",
		[O_LOCKED] = "token locked",
		[O_NO_CHALLENGE] = "no code mailed, or the mailed code expired",
		[O_WRONG_CODE] = "wrong code",
		[O_REPLAY] = "code already used",
		[O_SEND_REFUSED] = "no code mailed",
		[O_CHALLENGE] = "code to mail",
		[O_ACCEPT] = "accepted",
	};

	if (ck->n == 0) {
		snprintf(ck->reason, sizeof(ck->reason),
		    "unknown user or no token");
		return;
	}
	if (ck->reason[0] != '\0')
		return;		/* bypass or the e-mail trigger said so already */
	snprintf(ck->reason, sizeof(ck->reason), "%s (%s)",
	    text[ck->outcomes[ck->best]], ck->tokens[ck->best].serial);
}

/* The trigger cannot be served: REJECT with why, nothing counted. */
static int
refuse(struct check *ck, const char *why)
{
	ck->outcomes[ck->trigger] = O_SEND_REFUSED;
	snprintf(ck->reason, sizeof(ck->reason), "%s (%s)", why,
	    ck->tokens[ck->trigger].serial);
	return 0;
}

/* A fresh challenge for t after last (NULL: none yet).  Its counter is the
 * token's next unused one, but past every code mailed before: a code that
 * expired unused must not become valid again with a later mail. */
static int
new_challenge(struct check *ck, const struct ac_token *t,
    const struct ac_challenge *last)
{
	uint8_t rnd[32];
	uint64_t counter = t->counter;
	int r;

	if (last != NULL && last->counter >= counter)
		counter = last->counter + 1;
	/* Accepting moves the counter to counter + 1, at most INT64_MAX. */
	if (counter >= (uint64_t)INT64_MAX)
		return refuse(ck, "token counter exhausted");
	memset(&ck->ch, 0, sizeof(ck->ch));
	if ((r = ac_random(rnd, sizeof(rnd))) != 0 ||
	    (r = ac_hex_encode(rnd, sizeof(rnd), ck->ch.txid,
	    sizeof(ck->ch.txid))) != 0)
		return r;
	snprintf(ck->ch.serial, sizeof(ck->ch.serial), "%s", t->serial);
	ck->ch.counter = counter;
	ck->ch.created = ck->now;
	ck->ch.expires = ck->now + ac_ctx_policy(ck->ctx)->email_code_seconds;
	ck->ch_new = 1;
	return ac_store_challenge_put(ac_ctx_store(ck->ctx), &ck->ch);
}

/*
 * The trigger for token ck->trigger: within the send limit, the live
 * challenge again (the same code mailed again, its expiry unchanged) or a
 * new one, and its code in ck->mail_code for sending after the commit.
 */
static int
start_challenge(struct check *ck)
{
	const struct ac_policy *pol = ac_ctx_policy(ck->ctx);
	const struct ac_token *t = &ck->tokens[ck->trigger];
	ac_store *s = ac_ctx_store(ck->ctx);
	struct ac_challenge last;
	char key[AC_MAX_USER + AC_MAX_SERIAL + 32];
	int r, count = 0, user_count = 0;

	if (!ac_ctx_can_send_codes(ck->ctx))
		return refuse(ck, "mail not configured");
	/* Per token and per user: a second e-mail token must not double
	 * the mail anyone can have sent to one person. */
	snprintf(key, sizeof(key), "email-send-user:%s", ck->user);
	if ((r = ac_store_throttle_hit(s, key, ck->now,
	    pol->email_code_seconds, &user_count)) != 0)
		return r;
	snprintf(key, sizeof(key), "email-send:%s", t->serial);
	if ((r = ac_store_throttle_hit(s, key, ck->now,
	    pol->email_code_seconds, &count)) != 0)
		return r;
	if (count > pol->email_max_sends || user_count > pol->email_max_sends)
		return refuse(ck, "too many codes mailed");
	r = ac_store_challenge_last(s, t->serial, &last);
	if (r == 0 && challenge_live(&last, t, ck->now)) {
		ck->ch = last;
		ck->ch_new = 0;
	} else if (r == 0 || r == AC_ERR_NOT_FOUND) {
		r = new_challenge(ck, t, r == 0 ? &last : NULL);
		if (r != 0 || ck->outcomes[ck->trigger] != O_CHALLENGE)
			return r;
	} else
		return r;
	return ac_token_hotp_at(ck->ctx, t, ck->ch.counter, ck->mail_code,
	    sizeof(ck->mail_code));
}

/*
 * Tries every token of the user in order; stops at the first accept.
 * Every token of the user is valid for every resource until the store
 * keeps token-to-resource assignments (DESIGN.md 4, token_resources).
 */
static int
decide(struct check *ck)
{
	size_t i;
	int r;

	for (i = 0; i < ck->n; i++) {
		if ((r = try_token(ck, &ck->tokens[i], i,
		    &ck->outcomes[i])) != 0)
			return r;
		if (ck->outcomes[i] > ck->outcomes[ck->best])
			ck->best = i;
		if (ck->outcomes[i] == O_ACCEPT)
			break;
	}
	/* Unknown user, no usable token, wrong PIN: do a token's work on
	 * the dummy so that the REJECT takes as long as a wrong code's. */
	if (!ck->unsealed)
		ac_token_dummy_work(ck->ctx, ck->passcode, ck->len);
	if (ck->n > 0 && ck->outcomes[ck->best] == O_ACCEPT)
		return 0;
	/* A request for a code is not a guess: nothing is counted. */
	if (ck->has_trigger)
		return start_challenge(ck);
	return count_failures(ck);
}

/* (Re)reads the user's tokens; outcomes start as O_SKIP. */
static int
load_tokens(struct check *ck)
{
	struct ac_token_filter f = { .owner = ck->user, .state = -1 };
	int r;

	if (ck->tokens != NULL)
		ac_wipe(ck->tokens, ck->n * sizeof(*ck->tokens));
	free(ck->tokens);
	free(ck->outcomes);
	ck->tokens = NULL;
	ck->outcomes = NULL;
	ck->n = 0;
	ck->best = 0;
	ck->has_trigger = 0;
	ck->unsealed = 0;
	r = ac_store_token_list(ac_ctx_store(ck->ctx), &f, &ck->tokens, &ck->n);
	if (r != 0)
		return r;
	if ((ck->outcomes = calloc(ck->n + 1, sizeof(*ck->outcomes))) == NULL)
		return AC_ERR_NOMEM;
	return 0;
}

/* Asks the directory about the password part that goes with an OTP of
 * otplen digits (0: the whole passcode) and remembers the verdict. */
static int
ask_one(struct check *ck, size_t otplen)
{
	char pw[AC_MAX_PASSCODE + 1];
	const char *pin, *otp;
	size_t pinlen;
	int r;

	if (ck->dir_ok[otplen] != -1 || ck->len < otplen)
		return 0;
	split(ck, (int)otplen, &pin, &pinlen, &otp);
	memcpy(pw, pin, pinlen);
	pw[pinlen] = '\0';
	r = ac_ctx_verify_password(ck->ctx, ck->user, pw);
	ac_wipe(pw, sizeof(pw));
	if (r != 0 && r != AC_ERR_DENIED)
		return r;
	ck->dir_ok[otplen] = r == 0;
	return 0;
}

/*
 * `directory` PIN mode: the password part depends on the OTP length of
 * each token, so each length among the user's usable tokens is asked once,
 * before the transaction (a directory round trip must not hold the store's
 * write lock).
 */
static int
ask_directory(struct check *ck)
{
	size_t i;
	int r;

	if (ck->pol.pin_mode != AC_PIN_DIRECTORY)
		return 0;
	if ((r = load_tokens(ck)) != 0)
		return r;
	for (i = 0; i < ck->n; i++) {
		const struct ac_token *t = &ck->tokens[i];

		if (t->digits < 1 || t->digits > AC_MAX_CODE ||
		    ac_token_status(t, ck->now) != AC_STATUS_ACTIVE)
			continue;
		if ((r = ask_one(ck, (size_t)t->digits)) != 0)
			return r;
		/* The password alone: bypass, or an e-mail token's trigger. */
		if ((bypass_active(t, ck->now) || t->type == AC_TOKEN_EMAIL) &&
		    (r = ask_one(ck, 0)) != 0)
			return r;
	}
	/* Nobody's token asked: ask as for a 6-digit code anyway and throw
	 * the answer away, so that an unknown user costs a directory round
	 * trip (and fails alike when the directory is down). */
	for (i = 0; i <= AC_MAX_CODE; i++)
		if (ck->dir_ok[i] != -1)
			return 0;
	return ask_one(ck, 6);
}

static int
check_event(struct check *ck, const char *resource, const char *source,
    const char *result)
{
	struct ac_event ev = {
		.actor = ck->user, .action = "check",
		.serial = ck->n > 0 ? ck->tokens[ck->best].serial : NULL,
		.user = ck->user, .resource = resource, .source = source,
		.result = result, .reason = ck->reason,
	};

	return ac_event_log(ck->ctx, &ev);
}

/* "a\u2022\u2022\u2022@example.org": enough for the user to recognise
 * the address, too little to harvest it from the answer. */
static void
mask_address(const char *addr, char *out, size_t outlen)
{
	const char *at = strchr(addr, '@');

	if (at == NULL || at == addr)
		snprintf(out, outlen, "your mail address");
	else
		snprintf(out, outlen, "%c\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2%s",
		    addr[0], at);
}

/*
 * Mails the trigger's code (after the commit: no write lock is held across
 * the SMTP round trip) and records the one event.  A mail that fails is an
 * ERROR; a new challenge whose code never left is used up at once.
 */
static int
send_challenge(struct check *ck, const char *resource, const char *source,
    struct ac_check_result *res)
{
	const struct ac_token *t = &ck->tokens[ck->best];
	char subject[128], body[512], err[AC_ERRBUF] = "";
	char shown[128];	/* a longer address is cut for display */
	int r, minutes = ac_ctx_policy(ck->ctx)->email_code_seconds / 60;

	mask_address(t->email, shown, sizeof(shown));
	snprintf(subject, sizeof(subject), "Your %s sign-in code",
	    ac_config_get(ac_ctx_config(ck->ctx), "portal.issuer",
	    "tokenportal"));
	snprintf(body, sizeof(body), "Hello,\n\nyour sign-in code is:\n\n"
	    "    %s\n\nIt is valid for %d minute%s and works once. If you did "
	    "not try to sign in, tell your helpdesk.\n", ck->mail_code,
	    minutes, minutes == 1 ? "" : "s");
	r = ac_ctx_send_code(ck->ctx, t->email, subject, body, err,
	    sizeof(err));
	ac_wipe(body, sizeof(body));
	ac_wipe(ck->mail_code, sizeof(ck->mail_code));
	if (r != 0) {
		snprintf(ck->reason, sizeof(ck->reason), "mail not sent (%s): "
		    "%s", t->serial, err[0] != '\0' ? err : ac_strerror(r));
		ck->keep_reason = 1;
		if (ck->ch_new)
			(void)ac_store_challenge_consume(ac_ctx_store(ck->ctx),
			    ck->ch.txid, ck->now);
		return r;
	}
	snprintf(ck->reason, sizeof(ck->reason), "code mailed to %s (%s)",
	    shown, t->serial);
	if ((r = check_event(ck, resource, source, "challenge")) != 0)
		return r;
	res->result = AC_RESULT_CHALLENGE;
	snprintf(res->serial, sizeof(res->serial), "%s", t->serial);
	snprintf(res->transaction_id, sizeof(res->transaction_id), "%s",
	    ck->ch.txid);
	snprintf(res->message, sizeof(res->message), "A code was sent to %s.",
	    shown);
	return 0;
}

/* Read, decide, record and commit as one transaction; a trigger's mail
 * goes out after it. */
static int
check_transaction(struct check *ck, const char *resource, const char *source,
    struct ac_check_result *res)
{
	ac_store *s = ac_ctx_store(ck->ctx);
	int r, accepted, challenge;

	if ((r = ac_store_begin(s)) != 0)
		return r;
	if ((r = load_tokens(ck)) != 0 || (r = decide(ck)) != 0)
		goto fail;
	describe(ck);
	accepted = ck->n > 0 && ck->outcomes[ck->best] == O_ACCEPT;
	challenge = ck->n > 0 && ck->outcomes[ck->best] == O_CHALLENGE;
	if (!challenge && (r = check_event(ck, resource, source,
	    accepted ? "accept" : "reject")) != 0)
		goto fail;
	if ((r = ac_store_commit(s)) != 0)
		goto fail;
	if (challenge)
		return send_challenge(ck, resource, source, res);
	res->result = accepted ? AC_RESULT_ACCEPT : AC_RESULT_REJECT;
	if (accepted)
		snprintf(res->serial, sizeof(res->serial), "%s",
		    ck->tokens[ck->best].serial);
	return 0;
fail:
	(void)ac_store_rollback(s);
	return r;
}

/* Input that cannot belong to anybody is rejected without a store read,
 * but still logged. */
static const char *
input_problem(const struct check *ck)
{
	if (ck->user[0] == '\0')
		return "empty user name";
	if (strlen(ck->user) > AC_MAX_USER)
		return "user name too long";
	if (ck->len > AC_MAX_PASSCODE)
		return "passcode too long";
	return NULL;
}

int
ac_check(ac_ctx *ctx, const char *user, const char *resource,
    const char *passcode, const char *source, struct ac_check_result *res)
{
	struct check ck;
	const char *bad;
	int r;

	if (res == NULL)
		return AC_ERR_INVALID;
	memset(res, 0, sizeof(*res));
	res->result = AC_RESULT_ERROR;
	if (ctx == NULL)
		return AC_ERR_INVALID;
	memset(&ck, 0, sizeof(ck));
	memset(ck.dir_ok, -1, sizeof(ck.dir_ok));
	ck.ctx = ctx;
	ck.user = user != NULL ? user : "";
	ck.passcode = passcode != NULL ? passcode : "";
	ck.len = strlen(ck.passcode);
	ck.now = ac_ctx_now(ctx);
	if ((r = ac_resource_policy(ctx, resource, &ck.pol, ck.reason,
	    sizeof(ck.reason))) != 0)
		goto out;
	if ((bad = input_problem(&ck)) != NULL) {
		snprintf(ck.reason, sizeof(ck.reason), "%s", bad);
		if ((r = check_event(&ck, resource, source, "reject")) == 0)
			res->result = AC_RESULT_REJECT;
		goto out;
	}
	if ((r = ask_directory(&ck)) != 0)
		snprintf(ck.reason, sizeof(ck.reason), "directory: %s",
		    r == AC_ERR_CONFIG ? "no directory to verify the password "
		    "with" : ac_strerror(r));
	else if ((r = check_transaction(&ck, resource, source, res)) != 0 &&
	    !ck.keep_reason)
		snprintf(ck.reason, sizeof(ck.reason), "%s", ac_strerror(r));
out:
	if (r != 0) {
		res->result = AC_RESULT_ERROR;
		(void)check_event(&ck, resource, source, "error");
	}
	snprintf(res->reason, sizeof(res->reason), "%s", ck.reason);
	if (ck.tokens != NULL)
		ac_wipe(ck.tokens, ck.n * sizeof(*ck.tokens));
	free(ck.tokens);
	free(ck.outcomes);
	ac_wipe(ck.mail_code, sizeof(ck.mail_code));
	return r;
}
