/*
 * h_tokens.c - "My tokens" ("/") and one token's page ("/tokens/SERIAL"):
 * rename, disable / enable, delete with a confirmation step, test a code,
 * set or clear the PIN, resync an HOTP token, and the token's recent
 * events.  Every change goes through tokens.h, which writes the event with
 * portal_who(); a successful POST redirects (POST/redirect/GET) so that a
 * reload never repeats it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "check.h"
#include "otp.h"
#include "pages.h"
#include "store.h"
#include "tokens.h"

/* The messages a redirect may ask for with ?msg=KEY. */
static const struct {
	const char	*key;
	const char	*kind;
	const char	*text;
} flash_table[] = {
	{ "renamed",	 "ok",	 "Description saved." },
	{ "disabled",	 "ok",	 "Token disabled: it no longer signs you in." },
	{ "enabled",	 "ok",	 "Token enabled." },
	{ "deleted",	 "ok",	 "Token deleted." },
	{ "test_ok",	 "ok",	 "That code is right: the token works." },
	{ "pin_set",	 "ok",	 "PIN saved. Type it before the code from now "
			     "on." },
	{ "pin_cleared", "ok",	 "PIN removed." },
	{ "resynced",	 "ok",	 "Token resynchronised." },
	{ "activated",	 "ok",	 "Token activated. You will need it the next "
			     "time you sign in." },
};

void
pages_flash(struct portal_req *r)
{
	const char *key = portal_param(r, "msg");
	size_t i;

	if (key == NULL)
		return;
	for (i = 0; i < sizeof(flash_table) / sizeof(flash_table[0]); i++) {
		if (strcmp(key, flash_table[i].key) == 0) {
			portal_message(r, flash_table[i].kind,
			    flash_table[i].text);
			return;
		}
	}
}

int
pages_owned_token(struct portal_req *r, const char *serial,
    struct ac_token *t)
{
	const struct ac_session *s = portal_session(r);
	int rc;

	if (s == NULL || serial == NULL || !ac_serial_valid(serial))
		return AC_ERR_NOT_FOUND;
	rc = ac_store_token_get(ac_ctx_store(portal_ac(r)), serial, t);
	if (rc != 0)
		return rc;
	if (strcmp(t->owner, s->user) != 0) {
		OPENSSL_cleanse(t, sizeof(*t));
		return AC_ERR_NOT_FOUND;
	}
	return 0;
}

/* Sets PREFIX.NAME = value. */
static void
set_field(struct portal_req *r, const char *prefix, const char *name,
    const char *value)
{
	char key[96];

	snprintf(key, sizeof(key), "%s.%s", prefix, name);
	portal_set(r, key, value);
}

static void
set_field_int(struct portal_req *r, const char *prefix, const char *name,
    long long v)
{
	char key[96];

	snprintf(key, sizeof(key), "%s.%s", prefix, name);
	portal_set_int(r, key, v);
}

void
pages_set_token(struct portal_req *r, const char *prefix,
    const struct ac_token *t, int64_t now)
{
	char buf[64];

	set_field(r, prefix, "serial", t->serial);
	set_field(r, prefix, "type", ac_token_type_name(t->type));
	set_field(r, prefix, "status",
	    ac_token_status_name(ac_token_status(t, now)));
	set_field(r, prefix, "description", t->description);
	set_field(r, prefix, "created", pages_time(t->created, buf,
	    sizeof(buf)));
	set_field(r, prefix, "last_used", pages_time(t->last_used, buf,
	    sizeof(buf)));
	set_field(r, prefix, "algorithm", ac_algo_name(t->algo));
	set_field_int(r, prefix, "digits", t->digits);
	set_field_int(r, prefix, "period", t->period);
	set_field_int(r, prefix, "fails", t->fail_count);
	set_field_int(r, prefix, "has_pin", t->has_pin);
	if (t->type == AC_TOKEN_EMAIL)
		set_field(r, prefix, "email", t->email);
}

/* --- "/": My tokens ---------------------------------------------------- */

int
h_tokens_home_get(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);
	ac_ctx *ac = portal_ac(r);
	struct ac_token_filter f = { .owner = s->user, .state = -1 };
	struct pages_enroll_opts o;
	struct ac_token *list = NULL;
	size_t i, n = 0;
	char prefix[32];
	int rc;

	/* Expired enrollments go first, so they are neither listed nor
	 * counted against enroll.max_tokens. */
	if ((rc = ac_token_sweep(ac, NULL)) != 0)
		goto out;
	if ((rc = pages_enroll_opts_get(r, &o)) != 0)
		goto out;
	if ((rc = ac_store_token_list(ac_ctx_store(ac), &f, &list, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "Tokens.%zu", i);
		pages_set_token(r, prefix, &list[i], ac_ctx_now(ac));
	}
	portal_set_int(r, "TokenCount", (long long)n);
	portal_set_int(r, "Enroll.max_tokens", o.max_tokens);
	portal_set_int(r, "Enroll.full", (int)n >= o.max_tokens);
	portal_set_int(r, "Enroll.totp", (o.types & PAGES_TYPE_TOTP) != 0);
	portal_set_int(r, "Enroll.hotp", (o.types & PAGES_TYPE_HOTP) != 0);
	portal_set_int(r, "Enroll.email", (o.types & PAGES_TYPE_EMAIL) != 0 &&
	    portal_mail(r) != NULL);
	portal_set(r, "Page.title", "My tokens");
	portal_set(r, "Page.nav", "tokens");
	pages_flash(r);
	rc = portal_render(r, 200, "home.cs");
out:
	if (list != NULL)
		OPENSSL_cleanse(list, n * sizeof(*list));
	free(list);
	return rc;
}

/* --- "/tokens/SERIAL" ------------------------------------------------------ */

struct event_walk {
	struct portal_req	*r;
	int			 n;
};

static int
set_event(const struct ac_event_row *e, void *arg)
{
	struct event_walk *w = arg;
	char prefix[32], buf[64];

	snprintf(prefix, sizeof(prefix), "Events.%d", w->n++);
	set_field(w->r, prefix, "time", pages_time(e->time, buf, sizeof(buf)));
	set_field(w->r, prefix, "action", e->action);
	set_field(w->r, prefix, "result", e->result);
	set_field(w->r, prefix, "actor", e->actor);
	set_field(w->r, prefix, "source", e->source);
	return 0;
}

/*
 * 1 when token PINs are in use: the policy of the portal's own sign-in
 * ("portal") or the default policy other resources inherit asks for the
 * token PIN (check.h).  A deployment that signs in to the portal without a
 * PIN may still want PINs for its VPN.
 */
static int
pin_allowed(struct portal_req *r)
{
	static const char *const names[] = { "portal", "default" };
	struct ac_resource_policy pol;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ac_resource_policy(portal_ac(r), names[i], &pol, NULL,
		    0) == 0 && pol.pin_mode == AC_PIN_TOKEN)
			return 1;
	}
	return 0;
}

/* Fills the dataset of the token page and renders it with status. */
static int
token_page(struct portal_req *r, const struct ac_token *t, int status)
{
	ac_ctx *ac = portal_ac(r);
	struct ac_event_filter f = {
		.serial = t->serial, .user = t->owner,
		.limit = PAGES_EVENTS_SHOWN, .newest_first = 1,
	};
	struct event_walk w = { r, 0 };
	int rc;

	pages_set_token(r, "Token", t, ac_ctx_now(ac));
	portal_set_int(r, "Token.pin_allowed", pin_allowed(r));
	if ((rc = ac_store_event_each(ac_ctx_store(ac), &f, set_event,
	    &w)) != 0)
		return rc;
	portal_set_int(r, "EventCount", w.n);
	portal_setf(r, "Page.title", "Token %s", t->serial);
	portal_set(r, "Page.nav", "tokens");
	return portal_render(r, status, "token.cs");
}

int
h_token_get(struct portal_req *r)
{
	struct ac_token t;
	int rc;

	rc = pages_owned_token(r, portal_path_arg(r), &t);
	if (rc == AC_ERR_NOT_FOUND)
		return portal_error(r, 404, "There is no such token.");
	if (rc != 0)
		return rc;
	pages_flash(r);
	rc = token_page(r, &t, 200);
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}

/* Redirects to the token page with a fixed message. */
static int
back_to_token(struct portal_req *r, const char *serial, const char *msg)
{
	char path[AC_MAX_SERIAL + 64];

	snprintf(path, sizeof(path), "/tokens/%s?msg=%s", serial, msg);
	return portal_redirect(r, path);
}

/* A code field: exactly `digits` digits, else a field error.  1 ok. */
static int
code_ok(struct portal_req *r, const char *field, const char *code,
    int digits)
{
	char msg[64];

	if (code != NULL && ac_otp_code_valid(code, digits))
		return 1;
	snprintf(msg, sizeof(msg), "Enter the %d-digit code shown by the "
	    "token.", digits);
	portal_field_error(r, field, msg);
	return 0;
}

static int
do_rename(struct portal_req *r, struct ac_token *t, struct ac_who *who)
{
	const char *d = portal_param(r, "description");
	char err[AC_ERRBUF] = "";
	int rc;

	rc = ac_token_set_description(portal_ac(r), who, t->serial,
	    d != NULL ? d : "", err, sizeof(err));
	if (rc == AC_ERR_INVALID || rc == AC_ERR_TOO_LONG) {
		portal_field_error(r, "description", err[0] != '\0' ? err :
		    "That description cannot be used.");
		return token_page(r, t, 400);
	}
	if (rc != 0)
		return rc;
	return back_to_token(r, t->serial, "renamed");
}

static int
do_enable(struct portal_req *r, struct ac_token *t, struct ac_who *who,
    int on)
{
	int rc;

	rc = on ? ac_token_enable(portal_ac(r), who, t->serial) :
	    ac_token_disable(portal_ac(r), who, t->serial);
	if (rc == AC_ERR_STATE) {
		portal_message(r, "warn", "A token waiting for activation "
		    "cannot be enabled or disabled.");
		return token_page(r, t, 400);
	}
	if (rc != 0)
		return rc;
	return back_to_token(r, t->serial, on ? "enabled" : "disabled");
}

/* Deleting asks first: without confirm=yes the page shows the question. */
static int
do_delete(struct portal_req *r, struct ac_token *t, struct ac_who *who)
{
	const char *confirm = portal_param(r, "confirm");
	int rc;

	if (confirm == NULL || strcmp(confirm, "yes") != 0) {
		portal_set_int(r, "Confirm.delete", 1);
		return token_page(r, t, 200);
	}
	rc = ac_token_delete(portal_ac(r), who, t->serial);
	if (rc != 0 && rc != AC_ERR_NOT_FOUND)
		return rc;
	return portal_redirect(r, "/?msg=deleted");
}

static int
do_test(struct portal_req *r, struct ac_token *t, struct ac_who *who)
{
	const char *code = portal_param(r, "code");
	int rc;

	if (t->type == AC_TOKEN_EMAIL) {
		portal_message(r, "warn", "An e-mail token is tested by "
		    "signing in with it: sign out, sign in and choose “Send a "
		    "code to my e-mail”.");
		return token_page(r, t, 400);
	}
	if (!code_ok(r, "code", code, t->digits))
		return token_page(r, t, 400);
	rc = ac_token_test(portal_ac(r), who, t->serial, code);
	if (rc == AC_ERR_DENIED) {
		portal_field_error(r, "code", "That code is not right, or it "
		    "was used already. Wait for the next one and try again.");
		return token_page(r, t, 400);
	}
	if (rc == AC_ERR_STATE) {
		portal_field_error(r, "code", "Only an active token can be "
		    "tested.");
		return token_page(r, t, 400);
	}
	if (rc != 0)
		return rc;
	return back_to_token(r, t->serial, "test_ok");
}

static int
do_pin(struct portal_req *r, struct ac_token *t, struct ac_who *who,
    int clear)
{
	const char *pin = portal_param(r, "pin"), *pin2 = portal_param(r,
	    "pin2");
	char err[AC_ERRBUF] = "";
	int rc;

	if (!pin_allowed(r))
		return portal_error(r, 403, "Token PINs are not used here.");
	if (!clear && (pin == NULL || pin[0] == '\0')) {
		portal_field_error(r, "pin", "Enter the new PIN.");
		return token_page(r, t, 400);
	}
	if (!clear && (pin2 == NULL || strlen(pin) != strlen(pin2) ||
	    CRYPTO_memcmp(pin, pin2, strlen(pin)) != 0)) {
		portal_field_error(r, "pin2", "The two PINs differ.");
		return token_page(r, t, 400);
	}
	rc = ac_token_set_pin(portal_ac(r), who, t->serial, clear ? NULL :
	    pin, err, sizeof(err));
	if (rc == AC_ERR_INVALID || rc == AC_ERR_TOO_LONG) {
		portal_field_error(r, "pin", err[0] != '\0' ? err :
		    "That PIN cannot be used.");
		return token_page(r, t, 400);
	}
	if (rc != 0)
		return rc;
	return back_to_token(r, t->serial, clear ? "pin_cleared" : "pin_set");
}

static int
do_resync(struct portal_req *r, struct ac_token *t, struct ac_who *who)
{
	const char *c1 = portal_param(r, "code"), *c2 = portal_param(r,
	    "code2");
	char err[AC_ERRBUF] = "";
	int ok, rc;

	if (t->type != AC_TOKEN_HOTP)
		return portal_error(r, 400, "Only HOTP tokens are "
		    "resynchronised here.");
	ok = code_ok(r, "code", c1, t->digits);
	ok = code_ok(r, "code2", c2, t->digits) && ok;
	if (!ok)
		return token_page(r, t, 400);
	rc = ac_token_resync(portal_ac(r), who, t->serial, c1, c2, err,
	    sizeof(err));
	if (rc == AC_ERR_DENIED || rc == AC_ERR_STATE) {
		portal_field_error(r, "code2", "These are not two consecutive "
		    "codes of this token. Press the button twice and enter "
		    "both codes.");
		return token_page(r, t, 400);
	}
	if (rc != 0)
		return rc;
	return back_to_token(r, t->serial, "resynced");
}

int
h_token_post(struct portal_req *r)
{
	const char *action = portal_param(r, "action");
	struct ac_who who = portal_who(r);
	struct ac_token t;
	int rc;

	rc = pages_owned_token(r, portal_path_arg(r), &t);
	if (rc == AC_ERR_NOT_FOUND)
		return portal_error(r, 404, "There is no such token.");
	if (rc != 0)
		return rc;
	/* Which form was sent: its errors show next to its own fields. */
	portal_set(r, "Failed", action);
	if (action == NULL)
		rc = portal_error(r, 400, "No action was chosen.");
	else if (strcmp(action, "rename") == 0)
		rc = do_rename(r, &t, &who);
	else if (strcmp(action, "disable") == 0)
		rc = do_enable(r, &t, &who, 0);
	else if (strcmp(action, "enable") == 0)
		rc = do_enable(r, &t, &who, 1);
	else if (strcmp(action, "delete") == 0)
		rc = do_delete(r, &t, &who);
	else if (strcmp(action, "test") == 0)
		rc = do_test(r, &t, &who);
	else if (strcmp(action, "pin") == 0)
		rc = do_pin(r, &t, &who, 0);
	else if (strcmp(action, "pin_clear") == 0)
		rc = do_pin(r, &t, &who, 1);
	else if (strcmp(action, "resync") == 0)
		rc = do_resync(r, &t, &who);
	else
		rc = portal_error(r, 400, "Unknown action.");
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}
