/*
 * request.h - the framework side of a request (not for handlers: they see
 * portal.h only).  request.c is the one file that includes libfcgi's
 * fcgiapp.h and ClearSilver; it runs a worker's FastCGI accept loop and
 * plugs each request into ClearSilver's CGI kit (cgiwrap emulation).
 */
#ifndef PORTAL_REQUEST_H
#define PORTAL_REQUEST_H

#include <stddef.h>

#include "portal.h"
#include "session.h"
#include "settings.h"

/* What a worker opened after fork, shared by the requests it serves. */
struct portal_app {
	ac_ctx				*ac;
	struct ac_directory		*dir;	/* NULL until it could be opened */
	struct ac_mail			*mail;	/* NULL: no smtp.url */
	const struct portal_settings	*set;
	const struct portal_route	*routes;
	size_t				 nroutes;
};

/*
 * Serves requests on listen_fd until portal_serve_stop() is called (from
 * a signal handler) or accepting fails.  Returns 0 after a stop, -1 after
 * an accept error.  One request at a time: ClearSilver's CGI glue is
 * process-global (STACK.md).
 */
int portal_serve(struct portal_app *app, int listen_fd);

/* Async-signal-safe: finish the current request, then return. */
void portal_serve_stop(void);

/* Async-signal-safe: re-open the log file before the next request. */
void portal_serve_reopen_logs(void);

/* --- for session.c and h_*.c internals -------------------------------- */

struct portal_app	*portal_req_app(struct portal_req *r);
struct portal_sess	*portal_req_sess(struct portal_req *r);

/* A FastCGI parameter of the request (HTTP_COOKIE...), NULL if absent. */
const char *portal_req_env(struct portal_req *r, const char *name);

/* Adds a response header line ("Set-Cookie: ...") under a unique key. */
void portal_req_header(struct portal_req *r, const char *key,
    const char *line);

/* The session's values into the template dataset (Session.*, CSRF). */
void portal_req_session_dataset(struct portal_req *r);

#endif
