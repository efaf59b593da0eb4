/*
 * pages.h - the token pages of the self-service portal (DESIGN.md 6-7):
 * "My tokens", one token's page, TOTP/HOTP/e-mail enrollment and
 * activation.  The handlers (h_tokens.c, h_enroll.c) follow the contract
 * of portal.h; the plain helpers below do the formatting and the parsing
 * of the enroll.* config keys, with no request in sight, so they are unit
 * tested on their own (tests/unit/test_pages.c).
 */
#ifndef PORTAL_PAGES_H
#define PORTAL_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "portal.h"

struct pages_enroll_opts;

/* --- handlers (wired in routes.c) ------------------------------------ */

/* h_tokens.c: "/" lists the user's tokens; "/tokens/SERIAL" shows one and
 * takes its actions (POST field `action`). */
int h_tokens_home_get(struct portal_req *r);
int h_token_get(struct portal_req *r);
int h_token_post(struct portal_req *r);

/* h_enroll.c: the enrollment forms and the activation page
 * "/enroll/activate/SERIAL" (soft tokens and e-mail tokens). */
int h_enroll_totp_get(struct portal_req *r);
int h_enroll_totp_post(struct portal_req *r);
int h_enroll_hotp_get(struct portal_req *r);
int h_enroll_hotp_post(struct portal_req *r);
int h_enroll_email_get(struct portal_req *r);
int h_enroll_email_post(struct portal_req *r);
int h_activate_get(struct portal_req *r);
int h_activate_post(struct portal_req *r);

/*
 * Shared by the handlers (h_tokens.c).  Loads the token `serial` into *t
 * when it belongs to the signed-in user.  Returns 0, AC_ERR_NOT_FOUND for
 * an invalid serial, an absent token and someone else's token alike (a
 * page must not reveal that another user's serial exists), or a store
 * error.
 */
int pages_owned_token(struct portal_req *r, const char *serial,
    struct ac_token *t);

/* Sets PREFIX.serial, .type, .status, .description, .created, .last_used,
 * .algorithm, .digits, .period, .fails and .has_pin for a template. */
void pages_set_token(struct portal_req *r, const char *prefix,
    const struct ac_token *t, int64_t now);

/* The enroll.* options of the running config (h_enroll.c).  0 or
 * AC_ERR_CONFIG. */
int pages_enroll_opts_get(struct portal_req *r, struct pages_enroll_opts *o);

/* Sets Msg from the `msg` query parameter after a redirect: only the
 * fixed messages of a table, never text from the URL. */
void pages_flash(struct portal_req *r);

/* --- enrollment options (enroll.* config keys) ------------------------ */

/* Bits of the allowed-choice masks. */
#define PAGES_TYPE_TOTP		(1 << 0)
#define PAGES_TYPE_HOTP		(1 << 1)
#define PAGES_TYPE_EMAIL	(1 << 2)
#define PAGES_ALGO_BIT(a)	(1 << (int)(a))		/* enum ac_algo */
#define PAGES_DIGITS_6		(1 << 0)
#define PAGES_DIGITS_8		(1 << 1)
#define PAGES_PERIOD_30		(1 << 0)
#define PAGES_PERIOD_60		(1 << 1)

#define PAGES_MAX_TOKENS_DEFAULT	5
#define PAGES_EMAIL_SENDS_DEFAULT	3
#define PAGES_EVENTS_SHOWN		20

/* What users may choose when they enroll a token. */
struct pages_enroll_opts {
	int	types;		/* enroll.types ("totp hotp email") */
	int	algos;		/* enroll.algorithms ("sha1 sha256 sha512") */
	int	digits;		/* enroll.digits ("6 8") */
	int	periods;	/* enroll.periods ("30 60") */
	int	max_tokens;	/* enroll.max_tokens (5), every state counted */
	int	email_sends;	/* enroll.email_sends (3): mails per pending
				 * e-mail token, the first included */
	/* The preselected choice, as a bit index of the mask above: the
	 * app-compatible SHA1 / 6 / 30 whenever the list allows it (apps
	 * ignore anything else), else the first value the list names. */
	int	def_algo;
	int	def_digits;
	int	def_period;
};

/*
 * Parses the enroll.* values (NULL: the default in parentheses above).
 * Lists are words separated by spaces or commas, case-insensitive.
 * Returns 0, or AC_ERR_CONFIG with err naming the key and the bad word
 * (an unknown word, an empty list, a number out of range).
 */
int pages_enroll_opts_parse(const char *types, const char *algos,
    const char *digits, const char *periods, const char *max_tokens,
    const char *email_sends, struct pages_enroll_opts *out, char *err,
    size_t errlen);

/* --- formatting ------------------------------------------------------- */

/*
 * Writes t (Unix seconds) as "2026-01-31 14:05 UTC" into buf, or "never"
 * when t is 0.  Returns buf.
 */
const char *pages_time(int64_t t, char *buf, size_t buflen);

/*
 * Copies in into out with a space after every fourth character (not at
 * the end): "JBSW Y3DP EHPK 3PXP", easier to type from a screen.
 * Returns 0 or AC_ERR_TOO_LONG when out (outlen bytes) is too small.
 */
int pages_group4(const char *in, char *out, size_t outlen);

/* 1 when word (case-insensitive) is one of the space/comma separated
 * words of list, else 0. */
int pages_word_in(const char *list, const char *word);

#endif
