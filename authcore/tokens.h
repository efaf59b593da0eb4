/*
 * tokens.h - token life cycle: add, enroll, activate, enable/disable,
 * delete, unlock, resync, bypass, PIN, description, test, sweep.  Shared by
 * tokenctl, the portal and (later) the helpdesk.  Every function that
 * changes something writes an event with `who`, inside the same
 * transaction as the change.  Ownership checks (is this the signed-in
 * user's token?) are the caller's.
 *
 * Functions return 0 or a negative AC_ERR_*; where err is taken, a one-line
 * reason fit for the person who typed the input is written there (never a
 * secret, code or PIN).
 */
#ifndef AC_TOKENS_H
#define AC_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "authcore.h"
#include "store.h"

/* Who acts, for the event log. */
struct ac_who {
	const char	*actor;		/* "tokenctl:root", "portal:alice" */
	const char	*source;	/* "cli", client address */
};

/* What a new token looks like; unset fields take defaults (SHA1/6/30). */
struct ac_token_spec {
	const char		*serial;	/* NULL: generate one */
	enum ac_token_type	 type;
	const char		*owner;		/* NULL/"": unassigned */
	enum ac_algo		 algo;
	int			 digits;	/* 0: 6 */
	int			 period;	/* 0: 30 */
	uint64_t		 counter;	/* HOTP start counter */
	const char		*description;
	const char		*email;		/* e-mail tokens */
};

/* What a token looks like to a person: combines state, lock, expiry. */
enum ac_token_status {
	AC_STATUS_PENDING,
	AC_STATUS_ACTIVE,
	AC_STATUS_DISABLED,
	AC_STATUS_LOCKED,
	AC_STATUS_EXPIRED,		/* pending past its expiry */
};

const char *ac_token_type_name(enum ac_token_type t);	/* "totp" ... */
int ac_token_type_parse(const char *s, enum ac_token_type *out);
const char *ac_token_status_name(enum ac_token_status s); /* "active" ... */
enum ac_token_status ac_token_status(const struct ac_token *t, int64_t now);

/* Validates a serial: 1..AC_MAX_SERIAL of [A-Za-z0-9._-]. 1 ok, 0 not. */
int ac_serial_valid(const char *serial);

/* Adds an active token from a known secret (tokenctl add, imports). */
int ac_token_add(ac_ctx *ctx, const struct ac_who *who,
    const struct ac_token_spec *spec, const uint8_t *secret, size_t n,
    char *err, size_t errlen);

/*
 * Enrolls a pending token with a fresh random secret (portal).  The serial
 * is spec->serial or generated ("TOTP" + 8 random hex digits...); it is
 * written to serial_out.  The secret (ac_algo_secret_len bytes) is written
 * to secret (AC_MAX_SECRET bytes) for showing once; the caller wipes it.
 * The token expires after policy.pending_seconds unless activated.
 */
int ac_token_enroll(ac_ctx *ctx, const struct ac_who *who,
    const struct ac_token_spec *spec, char serial_out[AC_MAX_SERIAL + 1],
    uint8_t secret[AC_MAX_SECRET], size_t *secret_len, char *err,
    size_t errlen);

/*
 * Unseals a pending token's secret for the activation page.  Refuses an
 * active or disabled token (AC_ERR_STATE): after activation a secret is
 * never shown again.  Expired: AC_ERR_STATE.
 */
int ac_token_pending_secret(ac_ctx *ctx, const char *serial,
    uint8_t secret[AC_MAX_SECRET], size_t *secret_len);

/*
 * Activates a pending token with its first code (the window of a normal
 * check).  0: active; AC_ERR_DENIED: wrong code (counts as a failure);
 * AC_ERR_STATE: not pending or expired.
 */
int ac_token_activate(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *code, char *err, size_t errlen);

int ac_token_enable(ac_ctx *ctx, const struct ac_who *who, const char *serial);
int ac_token_disable(ac_ctx *ctx, const struct ac_who *who, const char *serial);
int ac_token_delete(ac_ctx *ctx, const struct ac_who *who, const char *serial);
/* Clears the fail counter and lock. */
int ac_token_unlock(ac_ctx *ctx, const struct ac_who *who, const char *serial);

/*
 * Resynchronises with two consecutive codes searched in the wide resync
 * window (policy).  HOTP: code2 at counter c+1 where code1 is at c; TOTP:
 * consecutive steps; the drift is learned.  Clears the lock.  0 or
 * AC_ERR_DENIED (not found as a consecutive pair).
 */
int ac_token_resync(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *code1, const char *code2, char *err,
    size_t errlen);

/* until: 0 switches bypass off, AC_FOREVER is permanent, else a Unix time
 * in the future (AC_ERR_INVALID otherwise). */
int ac_token_set_bypass(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, int64_t until, char *err, size_t errlen);

/* Sets (pin non-empty: AC_MIN_PIN..AC_MAX_PIN printable characters) or
 * clears (NULL or "") the token PIN. */
int ac_token_set_pin(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *pin, char *err, size_t errlen);

/* Up to AC_MAX_DESCRIPTION bytes of valid UTF-8 without control chars. */
int ac_token_set_description(ac_ctx *ctx, const struct ac_who *who,
    const char *serial, const char *description, char *err, size_t errlen);

/*
 * Tests one code against one active token exactly as a check would
 * (window, replay guard, fail counter, lock), without PIN.  0: the code is
 * right (and now used); AC_ERR_DENIED: wrong, replayed, or token locked;
 * AC_ERR_STATE: token not active, or an e-mail token, whose codes are good
 * only as the answer to a code mailed by the check (check.c); nothing is
 * counted or logged then.
 */
int ac_token_test(ac_ctx *ctx, const struct ac_who *who, const char *serial,
    const char *code);

/*
 * The code an e-mail token expects next (HOTP at its counter), for mailing
 * to its owner.  Only for e-mail tokens (AC_ERR_STATE otherwise); code must
 * hold AC_MAX_CODE + 1 bytes and is wiped by the caller after sending.
 */
int ac_token_email_code(ac_ctx *ctx, const char *serial, char *code,
    size_t codelen);

/*
 * The code of an HOTP or e-mail token t at counter (RFC 4226 section 5.3),
 * for the e-mail challenge (check.c), which mails it and later compares
 * the answer with it.  code holds AC_MAX_CODE + 1 bytes; the caller wipes
 * it.  AC_ERR_STATE for a TOTP token; unsealing errors as ac_token_match.
 */
int ac_token_hotp_at(ac_ctx *ctx, const struct ac_token *t, uint64_t counter,
    char *code, size_t codelen);

/*
 * A check's work on the context's dummy token (ac_ctx_dummy_token): a PIN
 * hash of pin (pinlen bytes), an unseal and a TOTP window search, with
 * every answer thrown away.  check.c runs it when it unsealed no real
 * token, so that an unknown user or a wrong PIN costs about what a wrong
 * code costs (one REJECT must not tell them apart by time).
 */
void ac_token_dummy_work(ac_ctx *ctx, const char *pin, size_t pinlen);

/* Deletes pending tokens past their expiry, one event each (*n swept),
 * and expired e-mail challenges (ac_store_challenge_sweep: each token's
 * newest stays). */
int ac_token_sweep(ac_ctx *ctx, int *n);

/*
 * The OTP search shared by the check, activation and test: looks for code
 * in t's window (policy.hotp_window counters from t->counter for HOTP and
 * e-mail; policy.totp_window steps each side of the current step corrected
 * by t->drift for TOTP, never more than policy.resync_totp_window (or the
 * window, if wider) steps from the server's own step, so the drift cannot
 * walk away), never at a counter or step below t->counter.
 * Returns 0 with *next (the value t->counter takes when the code is
 * accepted) and *drift (TOTP: the token's clock offset in steps, learned
 * from this code), AC_ERR_REPLAY when the code matches only a counter or
 * step already used, AC_ERR_DENIED when it matches nothing, or the error of
 * unsealing the secret (AC_ERR_TAMPERED, AC_ERR_KEY).  Reads nothing from
 * the store; the caller accepts with ac_store_token_accept.
 */
int ac_token_match(ac_ctx *ctx, const struct ac_token *t, const char *code,
    uint64_t *next, int64_t *drift);

/* 1 when t is locked at now (a lock that has run out does not count). */
int ac_token_locked(const struct ac_token *t, int64_t now);

/*
 * Counts one failed attempt on t inside the caller's transaction: a lock
 * that has run out is forgotten first (a fresh count), and the token locks
 * for policy.lock_seconds (0: until unlocked) when the count reaches
 * policy.max_fail.  *locked (may be NULL) is set to 1 when the token is now
 * locked.  Returns 0 or a store error.
 */
int ac_token_fail(ac_ctx *ctx, const struct ac_token *t, int *locked);

#endif
