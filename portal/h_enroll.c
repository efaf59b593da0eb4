/*
 * h_enroll.c - enrolling a token and activating it (DESIGN.md 6-7).
 *
 * "/enroll/totp" and "/enroll/hotp" offer the choices enroll.* allows and
 * create a pending token with a fresh secret (ac_token_enroll); the
 * activation page "/enroll/activate/SERIAL" shows the secret as a QR code,
 * an otpauth:// link, Base32 and hex, for as long as the token is pending,
 * and activates it with its first code.  After activation the secret can
 * never be shown again: ac_token_pending_secret refuses.
 *
 * "/enroll/email" creates a pending e-mail token for the address the
 * directory holds and mails its code; the same activation page takes the
 * code back and can send it again (enroll.email_sends per token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "config.h"
#include "mail.h"
#include "otp.h"
#include "otpauth.h"
#include "pages.h"
#include "qr.h"
#include "store.h"
#include "tokens.h"

#define HEX_GROUPED	(AC_MAX_SECRET * 2 + AC_MAX_SECRET / 2 + 1)
#define B32_GROUPED	(AC_MAX_SECRET_B32 + AC_MAX_SECRET_B32 / 4 + 1)

int
pages_enroll_opts_get(struct portal_req *r, struct pages_enroll_opts *o)
{
	const struct ac_config *c = portal_config(r);

	/* Checked again per request: cheap, and a bad key shows up as a
	 * page error instead of a silent fallback. */
	return pages_enroll_opts_parse(
	    ac_config_get(c, "enroll.types", NULL),
	    ac_config_get(c, "enroll.algorithms", NULL),
	    ac_config_get(c, "enroll.digits", NULL),
	    ac_config_get(c, "enroll.periods", NULL),
	    ac_config_get(c, "enroll.max_tokens", NULL),
	    ac_config_get(c, "enroll.email_sends", NULL), o, NULL, 0);
}

/* Tokens the user holds in any state, after sweeping expired ones. */
static int
token_count(struct portal_req *r, int *n)
{
	struct ac_token_filter f = { .owner = portal_session(r)->user,
	    .state = -1 };
	int rc;

	if ((rc = ac_token_sweep(portal_ac(r), NULL)) != 0)
		return rc;
	return ac_store_token_count(ac_ctx_store(portal_ac(r)), &f, n);
}

/* --- the TOTP / HOTP form ------------------------------------------------ */

/* Lists the allowed values of one choice as NAME.N.value/.selected. */
static void
set_choices(struct portal_req *r, const char *name, int mask,
    const char *const *values, const char *selected)
{
	char key[64];
	int i, n = 0;

	for (i = 0; values[i] != NULL; i++) {
		if ((mask & (1 << i)) == 0)
			continue;
		snprintf(key, sizeof(key), "Choices.%s.%d.value", name, n);
		portal_set(r, key, values[i]);
		snprintf(key, sizeof(key), "Choices.%s.%d.selected", name, n);
		portal_set_int(r, key, strcasecmp(values[i], selected) == 0);
		n++;
	}
}

static const char *const algo_values[] = { "SHA1", "SHA256", "SHA512", NULL };
static const char *const digit_values[] = { "6", "8", NULL };
static const char *const period_values[] = { "30", "60", NULL };

static int
enroll_form(struct portal_req *r, const char *type,
    const struct pages_enroll_opts *o, int status)
{
	const char *a = portal_param(r, "algorithm"), *d = portal_param(r,
	    "digits"), *p = portal_param(r, "period");
	int n = 0, rc;

	if ((rc = token_count(r, &n)) != 0)
		return rc;
	set_choices(r, "algorithm", o->algos, algo_values, a != NULL ? a :
	    algo_values[o->def_algo]);
	set_choices(r, "digits", o->digits, digit_values, d != NULL ? d :
	    digit_values[o->def_digits]);
	if (strcmp(type, "totp") == 0)
		set_choices(r, "period", o->periods, period_values, p != NULL ?
		    p : period_values[o->def_period]);
	portal_set(r, "Enroll.type", type);
	portal_set_int(r, "Enroll.max_tokens", o->max_tokens);
	portal_set_int(r, "Enroll.full", n >= o->max_tokens);
	portal_setf(r, "Page.title", "Add a %s token", strcmp(type, "totp") ==
	    0 ? "time-based (TOTP)" : "counter-based (HOTP)");
	portal_set(r, "Page.nav", "enroll");
	return portal_render(r, status, "enroll.cs");
}

static int
enroll_get(struct portal_req *r, const char *type, int bit)
{
	struct pages_enroll_opts o;
	int rc;

	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		return rc;
	if ((o.types & bit) == 0)
		return portal_error(r, 404, "This kind of token is not offered "
		    "here.");
	return enroll_form(r, type, &o, 200);
}

int
h_enroll_totp_get(struct portal_req *r)
{
	return enroll_get(r, "totp", PAGES_TYPE_TOTP);
}

int
h_enroll_hotp_get(struct portal_req *r)
{
	return enroll_get(r, "hotp", PAGES_TYPE_HOTP);
}

/* Index of value in values (case-insensitive) when mask allows it, else
 * -1.  NULL value: the default index when allowed. */
static int
pick(const char *value, int mask, const char *const *values, int def)
{
	int i;

	if (value == NULL)
		return (mask & (1 << def)) ? def : -1;
	for (i = 0; values[i] != NULL; i++) {
		if (strcasecmp(values[i], value) == 0 && (mask & (1 << i)))
			return i;
	}
	return -1;
}

/* Validates the form into spec; field errors for bad choices.  1 ok. */
static int
read_choices(struct portal_req *r, const struct pages_enroll_opts *o,
    int totp, struct ac_token_spec *spec)
{
	int a, d, p = 0, ok = 1;

	a = pick(portal_param(r, "algorithm"), o->algos, algo_values,
	    o->def_algo);
	d = pick(portal_param(r, "digits"), o->digits, digit_values,
	    o->def_digits);
	if (totp)
		p = pick(portal_param(r, "period"), o->periods, period_values,
		    o->def_period);
	if (a < 0) {
		portal_field_error(r, "algorithm", "Choose one of the listed "
		    "algorithms.");
		ok = 0;
	}
	if (d < 0) {
		portal_field_error(r, "digits", "Choose one of the listed "
		    "lengths.");
		ok = 0;
	}
	if (p < 0) {
		portal_field_error(r, "period", "Choose one of the listed "
		    "periods.");
		ok = 0;
	}
	spec->algo = (enum ac_algo)(a < 0 ? 0 : a);
	spec->digits = d == 1 ? 8 : 6;
	spec->period = p == 1 ? 60 : 30;
	return ok;
}

/*
 * Creates the pending token.  Returns 0 with serial filled; 1 when the
 * answer (a form with errors) was already produced into *done; or an
 * error.
 */
static int
create_pending(struct portal_req *r, const struct pages_enroll_opts *o,
    struct ac_token_spec *spec, char serial[AC_MAX_SERIAL + 1])
{
	struct ac_who who = portal_who(r);
	uint8_t secret[AC_MAX_SECRET];
	char err[AC_ERRBUF] = "";
	size_t n = 0;
	int count = 0, rc;

	if ((rc = token_count(r, &count)) != 0)
		return rc;
	if (count >= o->max_tokens) {
		portal_setf(r, "Enroll.limit_message", "You already have %d "
		    "tokens, the most allowed here. Delete one you no longer "
		    "use first.", count);
		return 1;
	}
	spec->owner = portal_session(r)->user;
	spec->description = portal_param(r, "description");
	rc = ac_token_enroll(portal_ac(r), &who, spec, serial, secret, &n,
	    err, sizeof(err));
	/* The activation page unseals the secret again: nothing keeps it. */
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc == AC_ERR_INVALID || rc == AC_ERR_TOO_LONG) {
		portal_field_error(r, "description", err[0] != '\0' ? err :
		    "That description cannot be used.");
		return 1;
	}
	return rc;
}

static int
enroll_post(struct portal_req *r, const char *type, int bit,
    enum ac_token_type t)
{
	struct ac_token_spec spec = { .type = t };
	struct pages_enroll_opts o;
	char serial[AC_MAX_SERIAL + 1], path[AC_MAX_SERIAL + 32];
	int rc;

	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		return rc;
	if ((o.types & bit) == 0)
		return portal_error(r, 404, "This kind of token is not offered "
		    "here.");
	if (!read_choices(r, &o, t == AC_TOKEN_TOTP, &spec))
		return enroll_form(r, type, &o, 400);
	rc = create_pending(r, &o, &spec, serial);
	if (rc == 1)
		return enroll_form(r, type, &o, 403);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/enroll/activate/%s", serial);
	return portal_redirect(r, path);
}

int
h_enroll_totp_post(struct portal_req *r)
{
	return enroll_post(r, "totp", PAGES_TYPE_TOTP, AC_TOKEN_TOTP);
}

int
h_enroll_hotp_post(struct portal_req *r)
{
	return enroll_post(r, "hotp", PAGES_TYPE_HOTP, AC_TOKEN_HOTP);
}

/* --- e-mail tokens ------------------------------------------------------- */

/* The address e-mail tokens go to, or NULL when there is none usable. */
static const char *
session_email(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);

	if (s == NULL || !ac_mail_address_ok(s->email))
		return NULL;
	return s->email;
}

/*
 * Mails the token's current code, at most o->email_sends times per token
 * (counted in the store, so every worker sees the same count).  Returns 0
 * when sent, AC_ERR_LIMIT when the limit is reached, AC_ERR_UNAVAILABLE
 * when the mail server failed, or another error.
 */
static int
send_code(struct portal_req *r, const struct ac_token *t,
    const struct pages_enroll_opts *o)
{
	ac_ctx *ac = portal_ac(r);
	char key[AC_MAX_SERIAL + 16], code[AC_MAX_CODE + 1] = "";
	char body[512], subject[128], err[AC_ERRBUF];
	int count = 0, rc;

	snprintf(key, sizeof(key), "mail:%s", t->serial);
	if ((rc = ac_store_throttle_hit(ac_ctx_store(ac), key, ac_ctx_now(ac),
	    ac_ctx_policy(ac)->pending_seconds, &count)) != 0)
		return rc;
	if (count > o->email_sends)
		return AC_ERR_LIMIT;
	if ((rc = ac_token_email_code(ac, t->serial, code, sizeof(code))) != 0)
		goto out;
	snprintf(subject, sizeof(subject), "Your %s code",
	    ac_config_get(portal_config(r), "portal.issuer", "tokenportal"));
	snprintf(body, sizeof(body), "Hello,\n\nyour code to activate the "
	    "e-mail token %s is:\n\n    %s\n\nType it on the activation page. "
	    "If you did not ask for it, tell your helpdesk.\n", t->serial,
	    code);
	rc = ac_mail_send(portal_mail(r), t->email, subject, body, err,
	    sizeof(err));
	if (rc != 0 && rc != AC_ERR_NOMEM)
		rc = AC_ERR_UNAVAILABLE;
out:
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(body, sizeof(body));
	return rc;
}

static int
email_form(struct portal_req *r, const struct pages_enroll_opts *o,
    int status)
{
	const char *d = portal_param(r, "digits");
	int n = 0, rc;

	if ((rc = token_count(r, &n)) != 0)
		return rc;
	portal_set_int(r, "Enroll.unavailable", portal_mail(r) == NULL);
	portal_set_int(r, "Enroll.no_address", session_email(r) == NULL);
	portal_set(r, "Enroll.email", portal_session(r)->email);
	portal_set(r, "Enroll.type", "email");
	set_choices(r, "digits", o->digits, digit_values, d != NULL ? d :
	    digit_values[o->def_digits]);
	portal_set_int(r, "Enroll.max_tokens", o->max_tokens);
	portal_set_int(r, "Enroll.full", n >= o->max_tokens);
	portal_set(r, "Page.title", "Add an e-mail token");
	portal_set(r, "Page.nav", "enroll");
	return portal_render(r, status, "enroll_email.cs");
}

int
h_enroll_email_get(struct portal_req *r)
{
	struct pages_enroll_opts o;
	int rc;

	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		return rc;
	if ((o.types & PAGES_TYPE_EMAIL) == 0)
		return portal_error(r, 404, "E-mail tokens are not offered "
		    "here.");
	return email_form(r, &o, portal_mail(r) == NULL ? 503 : 200);
}

int
h_enroll_email_post(struct portal_req *r)
{
	struct ac_token_spec spec = { .type = AC_TOKEN_EMAIL };
	struct pages_enroll_opts o;
	struct ac_token t;
	char serial[AC_MAX_SERIAL + 1], path[AC_MAX_SERIAL + 48];
	int d, rc;

	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		return rc;
	if ((o.types & PAGES_TYPE_EMAIL) == 0)
		return portal_error(r, 404, "E-mail tokens are not offered "
		    "here.");
	if (portal_mail(r) == NULL || session_email(r) == NULL)
		return email_form(r, &o, 503);
	if ((d = pick(portal_param(r, "digits"), o.digits, digit_values,
	    o.def_digits)) < 0) {
		portal_field_error(r, "digits", "Choose one of the listed "
		    "lengths.");
		return email_form(r, &o, 400);
	}
	spec.digits = d == 1 ? 8 : 6;
	spec.email = session_email(r);
	rc = create_pending(r, &o, &spec, serial);
	if (rc == 1)
		return email_form(r, &o, 403);
	if (rc != 0)
		return rc;
	if ((rc = pages_owned_token(r, serial, &t)) != 0)
		return rc;
	rc = send_code(r, &t, &o);
	OPENSSL_cleanse(&t, sizeof(t));
	snprintf(path, sizeof(path), "/enroll/activate/%s?msg=%s", serial,
	    rc == 0 ? "sent" : "not_sent");
	if (rc != 0 && rc != AC_ERR_UNAVAILABLE && rc != AC_ERR_LIMIT)
		return rc;
	return portal_redirect(r, path);
}

/* --- the activation page --------------------------------------------------- */

/* Sets the secret in every form the page shows: QR, link, Base32, hex. */
static int
set_secret(struct portal_req *r, const struct ac_token *t,
    const uint8_t *secret, size_t n)
{
	const struct ac_session *s = portal_session(r);
	struct ac_otpauth p = {
		.hotp = t->type == AC_TOKEN_HOTP,
		.issuer = ac_config_get(portal_config(r), "portal.issuer",
		    "tokenportal"),
		.account = s->email[0] != '\0' ? s->email : s->user,
		.secret = secret, .secret_len = n, .algo = t->algo,
		.digits = t->digits, .period = t->period,
		.counter = t->counter,
	};
	char b32[AC_MAX_SECRET_B32], hex[AC_MAX_SECRET * 2 + 1];
	char b32g[B32_GROUPED], hexg[HEX_GROUPED];
	char *uri = NULL, *svg = NULL;
	int rc;

	if ((rc = ac_otpauth_uri(&p, &uri)) != 0 ||
	    (rc = portal_qr_svg(uri, &svg)) != 0 ||
	    (rc = ac_base32_encode(secret, n, 0, b32, sizeof(b32))) != 0 ||
	    (rc = ac_hex_encode(secret, n, hex, sizeof(hex))) != 0 ||
	    (rc = pages_group4(b32, b32g, sizeof(b32g))) != 0 ||
	    (rc = pages_group4(hex, hexg, sizeof(hexg))) != 0)
		goto out;
	portal_set(r, "Enroll.uri", uri);
	portal_set(r, "Enroll.qr_svg", svg);
	portal_set(r, "Enroll.secret_base32", b32g);
	portal_set(r, "Enroll.secret_hex", hexg);
out:
	if (uri != NULL)
		OPENSSL_cleanse(uri, strlen(uri));
	if (svg != NULL)
		OPENSSL_cleanse(svg, strlen(svg));
	free(uri);
	free(svg);
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(b32g, sizeof(b32g));
	OPENSSL_cleanse(hexg, sizeof(hexg));
	return rc;
}

/* Renders the activation page of a pending token. */
static int
activate_page(struct portal_req *r, const struct ac_token *t, int status)
{
	uint8_t secret[AC_MAX_SECRET];
	char buf[64];
	size_t n = 0;
	int rc;

	pages_set_token(r, "Token", t, ac_ctx_now(portal_ac(r)));
	portal_set(r, "Token.expires", pages_time(t->expires, buf,
	    sizeof(buf)));
	portal_set(r, "Page.nav", "enroll");
	portal_set(r, "Page.title", "Activate your token");
	/* DESIGN.md 7: a page showing a secret is never cached. */
	portal_no_store(r);
	if (t->type == AC_TOKEN_EMAIL)
		return portal_render(r, status, "activate_email.cs");
	rc = ac_token_pending_secret(portal_ac(r), t->serial, secret, &n);
	if (rc == 0)
		rc = set_secret(r, t, secret, n);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc != 0)
		return rc;
	/* Many apps ignore algorithm, digits and period in the QR code and
	 * silently compute SHA1/6/30 codes that never match. */
	portal_set_int(r, "Enroll.nondefault", t->algo != AC_ALGO_SHA1 ||
	    t->digits != 6 || (t->type == AC_TOKEN_TOTP && t->period != 30));
	return portal_render(r, status, "activate.cs");
}

static int
expired_page(struct portal_req *r)
{
	return portal_error(r, 410, "This enrollment expired before it was "
	    "activated and has been removed. Please enroll again: the new "
	    "token gets a new key, so delete the old entry from your app.");
}

static int
already_active(struct portal_req *r)
{
	return portal_error(r, 409, "This token is no longer waiting for "
	    "activation: it was activated already, perhaps from another "
	    "window. Its key is not shown again.");
}

/*
 * Loads the token of an activation request.  Returns 0 for a pending
 * token; 1 when the answer was produced already (404, 410 expired, or
 * the token is past activation: a redirect for a GET, 409 for a POST); or
 * an error.
 */
static int
activation_token(struct portal_req *r, struct ac_token *t, int post, int *rc)
{
	char path[AC_MAX_SERIAL + 16];

	*rc = pages_owned_token(r, portal_path_arg(r), t);
	if (*rc == AC_ERR_NOT_FOUND) {
		*rc = portal_error(r, 404, "There is no such enrollment. An "
		    "enrollment that expired has been removed: please enroll "
		    "again.");
		return 1;
	}
	if (*rc != 0)
		return 1;
	switch (ac_token_status(t, ac_ctx_now(portal_ac(r)))) {
	case AC_STATUS_PENDING:
		return 0;
	case AC_STATUS_EXPIRED:
		/* 410: the enrollment existed and is gone for good (RFC 9110
		 * 15.5.11); the sweep removes it, later visits get 404. */
		if ((*rc = ac_token_sweep(portal_ac(r), NULL)) == 0)
			*rc = expired_page(r);
		return 1;
	default:
		/* Active already: the secret is gone for good.  A page view
		 * goes to the token's page; a form sent again (double click,
		 * another tab) is told plainly. */
		if (post) {
			*rc = already_active(r);
			return 1;
		}
		snprintf(path, sizeof(path), "/tokens/%s", t->serial);
		*rc = portal_redirect(r, path);
		return 1;
	}
}

int
h_activate_get(struct portal_req *r)
{
	const char *msg = portal_param(r, "msg");
	struct ac_token t;
	int rc;

	if (activation_token(r, &t, 0, &rc) == 0) {
		if (msg != NULL && strcmp(msg, "sent") == 0)
			portal_message(r, "ok", "We have sent a code to your "
			    "mail address.");
		else if (msg != NULL && strcmp(msg, "not_sent") == 0)
			portal_message(r, "warn", "The mail with your code "
			    "could not be sent. Try “Send again” in a moment.");
		rc = activate_page(r, &t, 200);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}

static int
resend(struct portal_req *r, const struct ac_token *t)
{
	struct pages_enroll_opts o;
	char path[AC_MAX_SERIAL + 48];
	int rc;

	if (t->type != AC_TOKEN_EMAIL)
		return portal_error(r, 400, "Only e-mail tokens send codes.");
	if (portal_mail(r) == NULL)
		return portal_error(r, 503, "E-mail is not available.");
	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		return rc;
	rc = send_code(r, t, &o);
	if (rc == AC_ERR_LIMIT) {
		portal_field_error(r, "code", "No more codes can be sent for "
		    "this enrollment. Use the last code you received, or "
		    "enroll again later.");
		return activate_page(r, t, 429);
	}
	if (rc != 0 && rc != AC_ERR_UNAVAILABLE)
		return rc;
	snprintf(path, sizeof(path), "/enroll/activate/%s?msg=%s", t->serial,
	    rc == 0 ? "sent" : "not_sent");
	return portal_redirect(r, path);
}

/* ac_token_activate said the token is no longer pending: it expired while
 * the user typed (410), or another tab or a double click activated it
 * first (409). */
static int
activate_conflict(struct portal_req *r, const char *serial)
{
	struct ac_token now;
	int rc, st;

	rc = pages_owned_token(r, serial, &now);
	if (rc == AC_ERR_NOT_FOUND)
		return expired_page(r);
	if (rc != 0)
		return rc;
	st = ac_token_status(&now, ac_ctx_now(portal_ac(r)));
	OPENSSL_cleanse(&now, sizeof(now));
	if (st == AC_STATUS_EXPIRED)
		return expired_page(r);
	return already_active(r);
}

static int
activate(struct portal_req *r, const struct ac_token *t)
{
	const char *code = portal_param(r, "code");
	struct ac_who who = portal_who(r);
	char err[AC_ERRBUF] = "", path[AC_MAX_SERIAL + 32], msg[64];
	int rc;

	if (code == NULL || !ac_otp_code_valid(code, t->digits)) {
		snprintf(msg, sizeof(msg), "Enter the %d-digit code.",
		    t->digits);
		portal_field_error(r, "code", msg);
		return activate_page(r, t, 400);
	}
	rc = ac_token_activate(portal_ac(r), &who, t->serial, code, err,
	    sizeof(err));
	if (rc == AC_ERR_DENIED) {
		portal_field_error(r, "code", strcmp(err, "wrong code") == 0 ||
		    err[0] == '\0' ? "That code is not right. Check the "
		    "clock of your phone, wait for the next code and try "
		    "again." : err);
		return activate_page(r, t, 400);
	}
	if (rc == AC_ERR_STATE)
		return activate_conflict(r, t->serial);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/tokens/%s?msg=activated", t->serial);
	return portal_redirect(r, path);
}

int
h_activate_post(struct portal_req *r)
{
	const char *action = portal_param(r, "action");
	struct ac_token t;
	int rc;

	if (activation_token(r, &t, 1, &rc) == 0) {
		if (action != NULL && strcmp(action, "resend") == 0)
			rc = resend(r, &t);
		else
			rc = activate(r, &t);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}
