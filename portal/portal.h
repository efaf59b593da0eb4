/*
 * portal.h - what a request handler of the self-service portal sees.
 *
 * The framework (server.c, request.c, router.c, render.c, session.c) owns
 * the FastCGI loop, ClearSilver's CGI state, sessions, CSRF and security
 * headers; a handler reads parameters, calls the auth core, fills the
 * template dataset and ends with exactly one of portal_render,
 * portal_redirect or portal_error.  Handlers never include ClearSilver,
 * libfcgi or ldap headers.
 *
 * Template dataset conventions (every page):
 *   Page.title        set by the handler
 *   Page.nav          "tokens", "enroll", ... (highlights the menu)
 *   CSRF              the session's CSRF token (forms: <?cs call:csrf() ?>)
 *   Session.user, Session.display_name, Session.level, Session.helpdesk
 *   Msg               an info banner ("Token disabled."), Msg.kind ok|warn
 *   Errors.FIELD      message shown next to input FIELD; Errors.any = 1
 *   Query.FIELD       submitted values (ClearSilver's own), to refill forms;
 *                     never echo a password, PIN or code
 *   Config.issuer     portal.issuer, for page text
 * Page templates start with <?cs include!"macros.cs" ?>, define
 * <?cs def:content() ?>...<?cs /def ?> and end with <?cs include!"layout.cs" ?>;
 * layout.cs calls content().  (ClearSilver resolves a macro call when it
 * parses the def that contains it, so the macros must come before the page's
 * defs, not from the layout.)  Shared macros (templates/macros.cs):
 *   csrf()                     hidden csrf input
 *   field_error(name)          the Errors.name message, if any, with
 *                              id="NAME-error" for aria-describedby
 */
#ifndef PORTAL_H
#define PORTAL_H

#include <stddef.h>
#include <stdint.h>

#include "authcore.h"
#include "store.h"
#include "tokens.h"

struct ac_directory;
struct ac_mail;
struct portal_req;

/* A handler returns 0 once it has produced the response; a negative
 * AC_ERR_* makes the framework render a generic 500 page. */
typedef int (*portal_handler)(struct portal_req *r);

enum portal_access {
	PORTAL_PUBLIC = 0,	/* anyone */
	PORTAL_PASSWORD,	/* signed in with the password, step-up pending */
	PORTAL_USER,		/* fully signed in */
	PORTAL_HELPDESK,	/* fully signed in and in the helpdesk group */
	PORTAL_ADMIN,
};

/*
 * A route.  pattern is an exact path, or ends in "/ *" (without the space)
 * to take one more path segment as the argument (portal_path_arg).
 * A NULL get or post answers that method with 405.
 */
struct portal_route {
	const char		*pattern;
	enum portal_access	 access;
	portal_handler		 get;
	portal_handler		 post;
};

/* --- request --------------------------------------------------------- */

/* The path segment matched by a trailing "*" (URL-decoded), or NULL. */
const char *portal_path_arg(struct portal_req *r);

/* A query-string or form value, NULL when absent.  Owned by the request. */
const char *portal_param(struct portal_req *r, const char *name);

/* The client address nginx saw (REMOTE_ADDR). */
const char *portal_client_addr(struct portal_req *r);

/* The signed-in session, or NULL. */
const struct ac_session *portal_session(struct portal_req *r);

/* actor "portal:USER" (or "portal:-") and source = client address. */
struct ac_who portal_who(struct portal_req *r);

/* Process-wide services (opened per worker, after fork). */
ac_ctx			*portal_ac(struct portal_req *r);
struct ac_directory	*portal_directory(struct portal_req *r);
/* NULL when mail is not configured (no smtp.url). */
struct ac_mail		*portal_mail(struct portal_req *r);
const struct ac_config	*portal_config(struct portal_req *r);

/* --- response -------------------------------------------------------- */

/* Sets a dataset value for the template (value copied; NULL ignored). */
void portal_set(struct portal_req *r, const char *name, const char *value);
void portal_setf(struct portal_req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void portal_set_int(struct portal_req *r, const char *name, long long v);

/* Records a message for input `field`: Errors.field = msg, Errors.any = 1. */
void portal_field_error(struct portal_req *r, const char *field,
    const char *msg);

/* Info banner for this page. kind: "ok" or "warn". */
void portal_message(struct portal_req *r, const char *kind, const char *msg);

/* Adds Cache-Control: no-store (pages showing a secret; the framework
 * already sends it for every signed-in page). */
void portal_no_store(struct portal_req *r);

/* Renders templates/NAME with HTTP status (200, 400, 403...). */
int portal_render(struct portal_req *r, int status, const char *tmpl);

/* 303 See Other to a local path (must start with '/'). */
int portal_redirect(struct portal_req *r, const char *path);

/* Renders error.cs with status and a plain message for the user. */
int portal_error(struct portal_req *r, int status, const char *msg);

/* --- sessions (session.c) -------------------------------------------- */

/*
 * Starts a new session for a user who just proved their password: a new
 * random id (rotation: any previous session of this browser is deleted),
 * level 0 or 1, cookie set on the response.
 */
int portal_session_begin(struct portal_req *r, const char *user,
    const char *display_name, const char *email, int roles, int level);

/* Completes step-up: level 1 and a fresh session id. */
int portal_session_raise(struct portal_req *r);

/* Deletes the session and clears the cookie. */
int portal_session_end(struct portal_req *r);

#endif
