/*
 * h_auth.c - sign-in, step-up and sign-out.
 *
 * Sign-in checks the directory password (directory.h: search with the
 * service account, bind as the user).  A user who owns an active token
 * must then type a code from it (step-up, DESIGN.md 7); a user without one
 * is let in by the bootstrap (enroll.bootstrap = password) to enroll a
 * first token.  Attempts are throttled per user and per client address
 * with counters in the store, shared by every worker.  Unknown user and
 * wrong password get the same answer.
 *
 * A user with an active e-mail token asks for its code with the step-up
 * page's "send=email" button: the check (check.c) mails the code and
 * answers CHALLENGE, and the user types the code like any other.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ac_error.h"
#include "check.h"
#include "config.h"
#include "directory.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "request.h"
#include "session.h"
#include "store.h"

#define PORTAL_RESOURCE		"portal"	/* resource of the step-up check */

static const char MSG_DENIED[] =
    "The user name or password is not right.";
static const char MSG_THROTTLED[] =
    "Too many failed attempts. Please wait a few minutes and try again.";
static const char MSG_DIRECTORY_DOWN[] =
    "The directory service cannot be reached right now, so nobody can sign "
    "in. Please try again in a few minutes.";

/* --- helpers ---------------------------------------------------------- */

static void
signin_event(struct portal_req *r, const char *action, const char *user,
    const char *result, const char *reason)
{
	struct ac_who who = portal_who(r);
	struct ac_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.actor = who.actor;
	ev.action = action;
	ev.user = user;
	ev.resource = PORTAL_RESOURCE;
	ev.source = who.source;
	ev.result = result;
	ev.reason = reason;
	if ((rc = ac_event_log(portal_ac(r), &ev)) != 0)
		portal_log(PORTAL_LOG_ERR, "cannot log %s event: %s", action,
		    ac_strerror(rc));
}

/* Throttle keys: the user name folded to lower case (directories match
 * names without case), and the client address. */
static void
throttle_keys(struct portal_req *r, const char *user, char *ukey,
    size_t ulen, char *akey, size_t alen)
{
	size_t i, n;

	n = (size_t)snprintf(ukey, ulen, "signin-user:%s", user);
	for (i = 0; i < n && i < ulen; i++)
		ukey[i] = (char)tolower((unsigned char)ukey[i]);
	snprintf(akey, alen, "signin-addr:%s", portal_client_addr(r));
}

/* 1 when either counter is at its limit. */
static int
throttled(struct portal_req *r, const char *user)
{
	const struct portal_settings *set = portal_req_app(r)->set;
	ac_ctx *ac = portal_ac(r);
	char ukey[AC_MAX_THROTTLE_KEY + 1], akey[AC_MAX_THROTTLE_KEY + 1];
	int nu = 0, na = 0;
	int64_t now = ac_ctx_now(ac);

	throttle_keys(r, user, ukey, sizeof(ukey), akey, sizeof(akey));
	if (ac_store_throttle_get(ac_ctx_store(ac), ukey, now,
	    set->throttle_window, &nu) != 0 ||
	    ac_store_throttle_get(ac_ctx_store(ac), akey, now,
	    set->throttle_window, &na) != 0)
		return 0;	/* a store hiccup must not lock everyone out */
	return nu >= set->throttle_user || na >= set->throttle_address;
}

static void
throttle_hit(struct portal_req *r, const char *user)
{
	const struct portal_settings *set = portal_req_app(r)->set;
	ac_ctx *ac = portal_ac(r);
	char ukey[AC_MAX_THROTTLE_KEY + 1], akey[AC_MAX_THROTTLE_KEY + 1];
	int64_t now = ac_ctx_now(ac);
	int n;

	throttle_keys(r, user, ukey, sizeof(ukey), akey, sizeof(akey));
	if (ac_store_throttle_hit(ac_ctx_store(ac), ukey, now,
	    set->throttle_window, &n) != 0 ||
	    ac_store_throttle_hit(ac_ctx_store(ac), akey, now,
	    set->throttle_window, &n) != 0)
		portal_log(PORTAL_LOG_ERR, "cannot count a failed sign-in");
}

static void
throttle_clear_user(struct portal_req *r, const char *user)
{
	char ukey[AC_MAX_THROTTLE_KEY + 1], akey[AC_MAX_THROTTLE_KEY + 1];

	throttle_keys(r, user, ukey, sizeof(ukey), akey, sizeof(akey));
	ac_store_throttle_clear(ac_ctx_store(portal_ac(r)), ukey);
}

/* The worker opens the directory at start; if that failed (bad network at
 * boot), try again now. */
static struct ac_directory *
directory(struct portal_req *r)
{
	struct portal_app *app = portal_req_app(r);
	char err[AC_ERRBUF];

	if (app->dir == NULL &&
	    ac_directory_new(portal_config(r), &app->dir, err, sizeof(err)) != 0) {
		portal_log(PORTAL_LOG_ERR, "directory: %s", err);
		app->dir = NULL;
	}
	return app->dir;
}

static int
render_login(struct portal_req *r, int status)
{
	portal_set(r, "Page.title", "Sign in");
	portal_set(r, "Page.nav", "login");
	return portal_render(r, status, "login.cs");
}

/* The policy of the portal's own step-up (resources.portal.*). */
static struct ac_resource_policy
step_up_policy(struct portal_req *r)
{
	struct ac_resource_policy pol = { .pin_mode = AC_PIN_NONE };

	if (ac_resource_policy(portal_ac(r), PORTAL_RESOURCE, &pol, NULL,
	    0) != 0)
		pol.pin_mode = AC_PIN_NONE;
	return pol;
}

/* 1 when the signed-in user has an active e-mail token and mail is set
 * up, so that the step-up page can offer to mail a code. */
static int
can_mail_code(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);
	struct ac_token_filter f = { .state = AC_STATE_ACTIVE };
	struct ac_token *list = NULL;
	size_t i, n = 0;
	int found = 0;

	if (s == NULL || portal_mail(r) == NULL)
		return 0;
	f.owner = s->user;
	if (ac_store_token_list(ac_ctx_store(portal_ac(r)), &f, &list,
	    &n) != 0)
		return 0;
	for (i = 0; i < n; i++)
		found |= list[i].type == AC_TOKEN_EMAIL;
	if (list != NULL)
		OPENSSL_cleanse(list, n * sizeof(*list));
	free(list);
	return found;
}

static int
render_code(struct portal_req *r, int status)
{
	/* With token PINs the page asks for the PIN in a field of its own
	 * (empty for a token without one); never refilled. */
	portal_set_int(r, "StepUp.pin", step_up_policy(r).pin_mode ==
	    AC_PIN_TOKEN);
	portal_set_int(r, "StepUp.email", can_mail_code(r));
	portal_set(r, "Page.title", "Enter your code");
	portal_set(r, "Page.nav", "login");
	return portal_render(r, status, "login_code.cs");
}

/* Copies the typed user name without surrounding blanks. */
static int
clean_user(const char *in, char *out, size_t outlen)
{
	size_t n;

	if (in == NULL)
		in = "";
	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return (int)n;
}

/* --- step-up ------------------------------------------------------------ */

/*
 * The passcode of the step-up check: with token PINs (resources.portal.
 * pin_mode = token) the PIN field and the code joined as pin_position
 * says, else the code alone.  A user may also type PIN and code into the
 * code field, as elsewhere.  0, or AC_ERR_TOO_LONG.
 */
static int
step_up_passcode(struct portal_req *r, const char *code, char *out,
    size_t outlen)
{
	struct ac_resource_policy pol = step_up_policy(r);
	const char *pin = portal_param(r, "pin");
	size_t n;

	if (pol.pin_mode != AC_PIN_TOKEN || pin == NULL)
		pin = "";
	if (strlen(pin) > AC_MAX_PIN)
		return AC_ERR_TOO_LONG;
	if (pol.pin_position == AC_PIN_BEFORE)
		n = (size_t)snprintf(out, outlen, "%s%s", pin, code);
	else
		n = (size_t)snprintf(out, outlen, "%s%s", code, pin);
	return n < outlen ? 0 : AC_ERR_TOO_LONG;
}

/*
 * Runs the check on the portal resource for user with code and the PIN
 * field (see step_up_passcode); an over-long passcode is a plain REJECT.
 * Returns 0 with *res filled, or a negative AC_ERR_* from the check.  The
 * passcode is wiped before returning.
 */
static int
step_up_check(struct portal_req *r, const char *user, const char *code,
    struct ac_check_result *res)
{
	char pass[AC_MAX_PASSCODE + 1];
	int rc;

	memset(res, 0, sizeof(*res));
	rc = step_up_passcode(r, code, pass, sizeof(pass));
	if (rc == 0)
		rc = ac_check(portal_ac(r), user, PORTAL_RESOURCE, pass,
		    portal_client_addr(r), res);
	else
		res->result = AC_RESULT_REJECT;	/* too long: wrong */
	OPENSSL_cleanse(pass, sizeof(pass));
	return rc == AC_ERR_TOO_LONG ? 0 : rc;
}

/* Checks code for the signed-in (level 0) user; raises the session on
 * success.  The code and the PIN are never logged or echoed. */
static int
step_up(struct portal_req *r, const char *code)
{
	const struct ac_session *s = portal_session(r);
	struct ac_check_result res;
	char user[AC_MAX_USER + 1];
	int rc;

	snprintf(user, sizeof(user), "%s", s->user);
	if (code == NULL || code[0] == '\0') {
		portal_field_error(r, "code", "Enter the code your token shows.");
		return render_code(r, 400);
	}
	if (throttled(r, user))
		return portal_error(r, 429, MSG_THROTTLED);
	rc = step_up_check(r, user, code, &res);
	if (rc < 0) {
		portal_log(PORTAL_LOG_ERR, "step-up check for %s: %s", user,
		    ac_strerror(rc));
		return portal_error(r, 503, "Codes cannot be checked right now. "
		    "Please try again in a few minutes.");
	}
	if (res.result == AC_RESULT_ACCEPT) {
		throttle_clear_user(r, user);
		if ((rc = portal_session_raise(r)) != 0)
			return rc;
		return portal_redirect(r, "/");
	}
	if (res.result == AC_RESULT_CHALLENGE) {
		portal_message(r, "ok", res.message[0] ? res.message :
		    "A code is on its way. Enter it below.");
		return render_code(r, 200);
	}
	throttle_hit(r, user);
	portal_field_error(r, "code", step_up_policy(r).pin_mode ==
	    AC_PIN_TOKEN ? "The PIN or the code is not right. Wait for the "
	    "next code and try again." : "That code is not right. Wait for "
	    "the next code and try again.");
	return render_code(r, 200);
}

/*
 * "Send a code to my e-mail": the check with the trigger passcode (the PIN
 * field with token PINs, else nothing) mails the e-mail token's code.  The
 * message names the masked address; the code itself is only in the mail.
 */
static int
send_email_code(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);
	struct ac_check_result res;
	char user[AC_MAX_USER + 1];
	int rc;

	snprintf(user, sizeof(user), "%s", s->user);
	if (throttled(r, user))
		return portal_error(r, 429, MSG_THROTTLED);
	rc = step_up_check(r, user, "", &res);
	if (rc < 0 || res.result == AC_RESULT_ERROR) {
		portal_log(PORTAL_LOG_ERR, "mailing a code to %s: %s", user,
		    res.reason[0] ? res.reason : ac_strerror(rc));
		portal_message(r, "warn", "The code could not be mailed right "
		    "now. Please try again in a few minutes.");
		return render_code(r, 503);
	}
	if (res.result == AC_RESULT_CHALLENGE) {
		portal_message(r, "ok", res.message);
		return render_code(r, 200);
	}
	/* A wrong PIN, a locked token, too many mails: one answer. */
	throttle_hit(r, user);
	portal_field_error(r, "code", step_up_policy(r).pin_mode ==
	    AC_PIN_TOKEN ? "No code was sent. If your e-mail token has a PIN, "
	    "enter it first; otherwise try again in a few minutes." :
	    "No code was sent. Please try again in a few minutes.");
	return render_code(r, 200);
}

/* --- password sign-in --------------------------------------------------- */

/* What a wrong password, unknown user or refused account answers. */
static int
denied(struct portal_req *r, const char *user, int rc, const char *err)
{
	throttle_hit(r, user);
	signin_event(r, "signin", user, "reject", rc == AC_ERR_ACCOUNT ?
	    err : "wrong password or unknown user");
	portal_field_error(r, "password", rc == AC_ERR_ACCOUNT ? err :
	    MSG_DENIED);
	return render_login(r, 200);
}

/* The password was right: start the session at the right level. */
static int
signed_in(struct portal_req *r, const struct ac_dir_user *du,
    const char *code)
{
	struct ac_token_filter f = { .owner = du->login, .state = AC_STATE_ACTIVE };
	int rc, n = 0, level;

	if ((rc = ac_store_token_count(ac_ctx_store(portal_ac(r)), &f, &n)) != 0)
		return rc;
	throttle_clear_user(r, du->login);
	/* With an active token the password alone is not enough; without
	 * one, enroll.bootstrap = password lets the user enroll a first. */
	level = n > 0 ? 0 : 1;
	rc = portal_session_begin(r, du->login, du->display_name, du->email,
	    (int)du->roles, level);
	if (rc != 0)
		return rc;
	signin_event(r, "signin", du->login, "ok", level ? "password" :
	    "password, code required");
	if (level == 0 && code != NULL && code[0] != '\0')
		return step_up(r, code);
	return portal_redirect(r, level ? "/" : "/login");
}

static int
password_sign_in(struct portal_req *r)
{
	const char *password = portal_param(r, "password");
	struct ac_directory *dir;
	struct ac_dir_user du;
	char user[AC_MAX_USER + 1], err[AC_ERRBUF] = "";
	int rc, ulen;

	ulen = clean_user(portal_param(r, "username"), user, sizeof(user));
	if (ulen == 0)
		portal_field_error(r, "username", "Enter your user name.");
	/* Refused before any bind: some directories take an empty password
	 * as an anonymous bind that succeeds (RFC 4513 5.1.2). */
	if (password == NULL || password[0] == '\0')
		portal_field_error(r, "password", "Enter your password.");
	if (ulen == 0 || password == NULL || password[0] == '\0')
		return render_login(r, 400);
	if (ulen < 0 || strlen(password) > AC_MAX_PASSWORD)
		return denied(r, ulen < 0 ? "(too long)" : user, AC_ERR_DENIED, "");
	if (throttled(r, user)) {
		signin_event(r, "signin", user, "reject", "throttled");
		return portal_error(r, 429, MSG_THROTTLED);
	}
	if ((dir = directory(r)) == NULL)
		return portal_error(r, 503, MSG_DIRECTORY_DOWN);
	memset(&du, 0, sizeof(du));
	rc = ac_directory_authenticate(dir, user, password, &du, err,
	    sizeof(err));
	if (rc == 0)
		return signed_in(r, &du, portal_param(r, "code"));
	if (rc == AC_ERR_DENIED || rc == AC_ERR_TOO_LONG || rc == AC_ERR_ACCOUNT)
		return denied(r, user, rc, err);
	portal_log(PORTAL_LOG_ERR, "sign-in of %s: directory: %s", user,
	    err[0] ? err : ac_strerror(rc));
	signin_event(r, "signin", user, "error", rc == AC_ERR_UNAVAILABLE ?
	    "directory unavailable" : "directory error");
	return portal_error(r, 503, MSG_DIRECTORY_DOWN);
}

/* --- handlers ----------------------------------------------------------- */

int
h_login_get(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);

	if (s != NULL && s->level >= 1)
		return portal_redirect(r, "/");
	if (s != NULL)
		return render_code(r, 200);
	if (portal_param(r, "expired") != NULL)
		portal_message(r, "warn", "Your session has ended. Please sign "
		    "in again.");
	else if (portal_param(r, "bye") != NULL)
		portal_message(r, "ok", "You are signed out.");
	return render_login(r, 200);
}

int
h_login_post(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);
	const char *username = portal_param(r, "username");
	const char *send = portal_param(r, "send");

	if (s != NULL && s->level == 0 && (username == NULL || !username[0])) {
		if (send != NULL && strcmp(send, "email") == 0)
			return send_email_code(r);
		return step_up(r, portal_param(r, "code"));
	}
	return password_sign_in(r);
}

int
h_logout_post(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);
	char user[AC_MAX_USER + 1] = "";
	int rc;

	/* Logged first, while the event's actor is still the user. */
	if (s != NULL) {
		snprintf(user, sizeof(user), "%s", s->user);
		signin_event(r, "signout", user, "ok", "");
	}
	if ((rc = portal_session_end(r)) != 0)
		return rc;
	return portal_redirect(r, "/login?bye=1");
}

int
h_welcome_get(struct portal_req *r)
{
	portal_set(r, "Page.title", "My tokens");
	portal_set(r, "Page.nav", "tokens");
	return portal_render(r, 200, "welcome.cs");
}
