/*
 * check.h - the decision: is this passcode right for this user on this
 * resource? (DESIGN.md 5)
 */
#ifndef AC_CHECK_H
#define AC_CHECK_H

#include "authcore.h"
#include "store.h"

enum ac_pin_mode {
	AC_PIN_TOKEN = 0,	/* the token's own PIN (if it has one) + OTP */
	AC_PIN_DIRECTORY = 1,	/* directory password + OTP (VPN clients) */
	AC_PIN_NONE = 2,	/* OTP alone */
};

enum ac_pin_position {
	AC_PIN_BEFORE = 0,	/* PIN then OTP: "1234" "123456" */
	AC_PIN_AFTER = 1,	/* OTP then PIN */
};

struct ac_resource_policy {
	enum ac_pin_mode	pin_mode;	/* resources.R.pin_mode (token) */
	enum ac_pin_position	pin_position;	/* resources.R.pin_position (before) */
};

/* The policy for a resource: resources.NAME.*, then resources.default.*,
 * then the built-in defaults.  NULL or "" names the default resource. */
int ac_resource_policy(const ac_ctx *ctx, const char *resource,
    struct ac_resource_policy *out, char *err, size_t errlen);

enum ac_result {
	AC_RESULT_ACCEPT = 0,
	AC_RESULT_REJECT = 1,
	AC_RESULT_CHALLENGE = 2,
	AC_RESULT_ERROR = 3,
};

struct ac_check_result {
	enum ac_result	result;
	char		serial[AC_MAX_SERIAL + 1];	/* accepting token */
	char		reason[AC_MAX_REASON + 1];	/* for the event log and
							 * admins, never the caller */
	char		transaction_id[AC_MAX_TXID + 1];	/* CHALLENGE */
	char		message[256];			/* CHALLENGE */
};

/*
 * Decides and records one authentication.  Returns 0 with res->result
 * ACCEPT, REJECT or CHALLENGE, or a negative AC_ERR_* with res->result
 * ERROR (store down, tampered secret...).  Unknown user, wrong PIN, wrong
 * code, replayed code, locked or disabled token all give the same REJECT;
 * only res->reason and the event log tell them apart.  source describes
 * the caller for the event log ("otpcheck", an address).
 *
 * E-mail tokens: a passcode that is only the PIN part (empty for a token
 * without PIN, the token PIN, or the directory password, per pin_mode)
 * mails the token's code through the context's code sender and answers
 * CHALLENGE with res->transaction_id and res->message ("A code was sent to
 * a\u2022\u2022\u2022@example.org.").  No sender, or more than
 * check.email_max_sends mails per token or per user per code lifetime:
 * REJECT, the same answer as an unknown user's.  A mail that fails:
 * ERROR.  The answer is PIN part + the mailed code, as for any token, good
 * once within check.email_code_minutes.  Every outcome writes one event
 * (result "accept", "reject", "challenge" or "error").
 */
int ac_check(ac_ctx *ctx, const char *user, const char *resource,
    const char *passcode, const char *source, struct ac_check_result *res);

#endif
