/*
 * request.c - the FastCGI accept loop and the ClearSilver CGI glue.
 *
 * The only file that includes fcgiapp.h and ClearSilver's headers.  We use
 * fcgiapp.h, not fcgi_stdio.h, whose macros redefine FILE and silently
 * break ClearSilver's prototypes (STACK.md).  ClearSilver reads the request
 * through cgiwrap's emulation hooks, which are process-global: a worker
 * serves one request at a time.
 *
 * Each request gets a fresh HDF dataset: cgi_destroy() frees the HDF given
 * to cgi_init(), so the configuration lives in its own tree and is copied
 * in (minus anything secret) for every request.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errno.h>
#include <fcgiapp.h>
#include <openssl/crypto.h>
#include <ClearSilver.h>

#include "ac_error.h"
#include "config.h"
#include "log.h"
#include "request.h"
#include "router.h"
#include "session.h"
#include "tokens.h"

struct portal_req {
	struct portal_app		*app;
	FCGX_Request			*fr;
	CGI				*cgi;
	HDF				*hdf;
	const struct portal_route	*route;
	char				 arg[PORTAL_MAX_PATH];
	char				 path[PORTAL_MAX_PATH];
	char				 actor[AC_MAX_ACTOR + 16];
	struct portal_sess		 sess;
	int				 nul_seen;	/* "%00" in the body */
	char				 tail[2];	/* last body bytes read */
	int				 responded;
	int				 header_seq;
};

#define FORM_TYPE "application/x-www-form-urlencoded"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

/* --- cgiwrap emulation (STACK.md: exact return conventions) ----------- */

/* Does "%00" occur in tail[2] followed by buf[n]? */
static int
has_nul_escape(const char tail[2], const char *buf, int n)
{
	char joint[4] = { tail[0], tail[1], n > 0 ? buf[0] : 0,
	    n > 1 ? buf[1] : 0 };
	int i;

	for (i = 0; i + 2 < 4; i++)
		if (joint[i] == '%' && joint[i + 1] == '0' && joint[i + 2] == '0')
			return 1;
	for (i = 0; i + 2 < n; i++)
		if (buf[i] == '%' && buf[i + 1] == '0' && buf[i + 2] == '0')
			return 1;
	return 0;
}

/*
 * Returns the bytes read, 0 at the end of the body.  Also notes an
 * escaped NUL: ClearSilver decodes "alice%00x" to a C string "alice", so
 * the program would act on something other than what was sent.
 */
static int
emu_read(void *data, char *buf, int len)
{
	struct portal_req *r = data;
	int n = FCGX_GetStr(buf, len, r->fr->in);

	if (n <= 0)
		return n < 0 ? -1 : 0;
	r->nul_seen |= has_nul_escape(r->tail, buf, n);
	r->tail[0] = n > 1 ? buf[n - 2] : r->tail[1];
	r->tail[1] = buf[n - 1];
	return n;
}

/* Returns 0 on success: cgiwrap treats any other value as an error. */
static int
emu_writef(void *data, const char *fmt, va_list ap)
{
	struct portal_req *r = data;

	return FCGX_VFPrintF(r->fr->out, fmt, ap) < 0 ? -1 : 0;
}

/* Must return exactly len on success. */
static int
emu_write(void *data, const char *buf, int len)
{
	struct portal_req *r = data;

	return FCGX_PutStr(buf, len, r->fr->out);
}

/* ClearSilver frees the value: hand out a malloc'd copy. */
static char *
emu_getenv(void *data, const char *name)
{
	struct portal_req *r = data;
	const char *v = FCGX_GetParam(name, r->fr->envp);

	return v != NULL ? strdup(v) : NULL;
}

static int
emu_putenv(void *data, const char *k, const char *v)
{
	(void)data; (void)k; (void)v;
	return -1;	/* the request environment is read-only */
}

static int
emu_iterenv(void *data, int x, char **k, char **v)
{
	FCGX_Request *fr = ((struct portal_req *)data)->fr;
	const char *e, *eq;
	int i;

	*k = *v = NULL;
	for (i = 0; i < x; i++)
		if (fr->envp[i] == NULL)
			return 0;
	e = fr->envp[x];
	if (e == NULL || (eq = strchr(e, '=')) == NULL)
		return 0;
	*k = strndup(e, (size_t)(eq - e));
	*v = strdup(eq + 1);
	if (*k == NULL || *v == NULL) {
		free(*k);
		free(*v);
		*k = *v = NULL;
		return -1;
	}
	return 0;
}

/* --- small helpers ------------------------------------------------------ */

/* Logs a ClearSilver error chain and frees it. */
static void
log_neo(const char *what, NEOERR *err)
{
	STRING str;

	string_init(&str);
	nerr_error_string(err, &str);
	portal_log(PORTAL_LOG_ERR, "%s: %s", what, str.buf ? str.buf : "?");
	string_clear(&str);
	nerr_ignore(&err);
}

/* Last resort when even the error page cannot be rendered. */
static void
plain_500(struct portal_req *r)
{
	if (r->responded)
		return;
	FCGX_PutS("Status: 500 Internal Server Error\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n\r\n"
	    "Internal error. Please try again later.\n", r->fr->out);
	r->responded = 1;
}

static const char *
status_line(int status)
{
	switch (status) {
	case 200: return "200 OK";
	case 303: return "303 See Other";
	case 400: return "400 Bad Request";
	case 403: return "403 Forbidden";
	case 404: return "404 Not Found";
	case 405: return "405 Method Not Allowed";
	case 409: return "409 Conflict";
	case 410: return "410 Gone";
	case 413: return "413 Content Too Large";
	case 415: return "415 Unsupported Media Type";
	case 429: return "429 Too Many Requests";
	case 503: return "503 Service Unavailable";
	case 500: return "500 Internal Server Error";
	default:
		/* A status missing here is a programming error: say so in
		 * the log rather than silently answering something else. */
		portal_log(PORTAL_LOG_ERR, "no reason phrase for status %d",
		    status);
		return "500 Internal Server Error";
	}
}

/* Removes nodes whose names suggest a secret (passwords, keys) from the
 * copy of the configuration a template can see. */
static void
prune_secrets(HDF *node)
{
	HDF *c, *next;
	const char *name;

	for (c = hdf_obj_child(node); c != NULL; c = next) {
		next = hdf_obj_next(c);
		name = hdf_obj_name(c);
		if (name != NULL && (strstr(name, "password") != NULL ||
		    strstr(name, "secret") != NULL || strstr(name, "key") != NULL)) {
			NEOERR *err = hdf_remove_tree(node, name);

			if (err != STATUS_OK)
				log_neo("prune", err);
			continue;
		}
		prune_secrets(c);
	}
}

/* --- the dataset -------------------------------------------------------- */

static NEOERR *
copy_config(struct portal_app *app, HDF *hdf)
{
	HDF *src, *c;
	NEOERR *err;

	src = ac_config_hdf(ac_ctx_config(app->ac));
	for (c = src ? hdf_obj_child(src) : NULL; c != NULL; c = hdf_obj_next(c))
		if ((err = hdf_copy(hdf, hdf_obj_name(c), c)) != STATUS_OK)
			return nerr_pass(err);
	prune_secrets(hdf);
	return STATUS_OK;
}

/* The headers every response carries (DESIGN.md 7). */
static NEOERR *
base_headers(HDF *hdf)
{
	NEOERR *err = STATUS_OK;

	do {
		err = hdf_set_value(hdf, "cgiout.charset", "utf-8");
		if (err) break;
		err = hdf_set_value(hdf, "cgiout.other.csp",
		    "Content-Security-Policy: default-src 'self'; "
		    "script-src 'self'; style-src 'self'; img-src 'self' data:; "
		    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
		if (err) break;
		err = hdf_set_value(hdf, "cgiout.other.referrer",
		    "Referrer-Policy: no-referrer");
		if (err) break;
		err = hdf_set_value(hdf, "cgiout.other.nosniff",
		    "X-Content-Type-Options: nosniff");
		if (err) break;
		err = hdf_set_value(hdf, "cgiout.other.frames",
		    "X-Frame-Options: DENY");
		if (err) break;
		/* Pages are personal or carry a CSRF token: never cache. */
		err = hdf_set_value(hdf, "cgiout.other.cache",
		    "Cache-Control: no-store");
	} while (0);
	return nerr_pass(err);
}

static NEOERR *
fill_dataset(struct portal_app *app, HDF *hdf)
{
	NEOERR *err;

	if ((err = copy_config(app, hdf)) != STATUS_OK)
		return nerr_pass(err);
	/* Auto-escaping; no timing footer, no whitespace games; debug
	 * dumps stay off (?debug= would print the dataset). */
	if ((err = hdf_set_value(hdf, "Config.VarEscapeMode", "html")) ||
	    (err = hdf_set_value(hdf, "Config.TimeFooter", "0")) ||
	    (err = hdf_set_value(hdf, "Config.WhiteSpaceStrip", "0")) ||
	    (err = hdf_set_value(hdf, "Config.DebugEnabled", "0")) ||
	    (err = hdf_set_value(hdf, "Config.CompressionEnabled", "0")) ||
	    (err = hdf_set_value(hdf, "Config.issuer", app->set->issuer)) ||
	    (err = hdf_set_value(hdf, "hdf.loadpaths.0", app->set->templates)))
		return nerr_pass(err);
	return nerr_pass(base_headers(hdf));
}

/* Sets a dataset value; a failure (out of memory) is logged. */
static void
set_or_log(struct portal_req *r, const char *name, const char *value)
{
	NEOERR *err = hdf_set_value(r->hdf, name, value);

	if (err != STATUS_OK)
		log_neo(name, err);
}

/* --- accessors (portal.h) ---------------------------------------------- */

const char *
portal_path_arg(struct portal_req *r)
{
	return r->arg[0] != '\0' ? r->arg : NULL;
}

const char *
portal_param(struct portal_req *r, const char *name)
{
	char key[128];

	if ((size_t)snprintf(key, sizeof(key), "Query.%s", name) >= sizeof(key))
		return NULL;
	return hdf_get_value(r->hdf, key, NULL);
}

const char *
portal_client_addr(struct portal_req *r)
{
	const char *a = hdf_get_value(r->hdf, "CGI.RemoteAddress", NULL);

	return a != NULL ? a : "-";
}

const struct ac_session *
portal_session(struct portal_req *r)
{
	return r->sess.present ? &r->sess.s : NULL;
}

struct ac_who
portal_who(struct portal_req *r)
{
	struct ac_who w;

	snprintf(r->actor, sizeof(r->actor), "portal:%s",
	    r->sess.present ? r->sess.s.user : "-");
	w.actor = r->actor;
	w.source = portal_client_addr(r);
	return w;
}

ac_ctx *portal_ac(struct portal_req *r) { return r->app->ac; }
struct ac_directory *portal_directory(struct portal_req *r) { return r->app->dir; }
struct ac_mail *portal_mail(struct portal_req *r) { return r->app->mail; }

const struct ac_config *
portal_config(struct portal_req *r)
{
	return ac_ctx_config(r->app->ac);
}

struct portal_app *portal_req_app(struct portal_req *r) { return r->app; }
struct portal_sess *portal_req_sess(struct portal_req *r) { return &r->sess; }

const char *
portal_req_env(struct portal_req *r, const char *name)
{
	return FCGX_GetParam(name, r->fr->envp);
}

void
portal_req_header(struct portal_req *r, const char *key, const char *line)
{
	char name[96];

	snprintf(name, sizeof(name), "cgiout.other.%s", key);
	set_or_log(r, name, line);
}

/* --- response (portal.h) ----------------------------------------------- */

void
portal_set(struct portal_req *r, const char *name, const char *value)
{
	if (name != NULL && value != NULL)
		set_or_log(r, name, value);
}

void
portal_setf(struct portal_req *r, const char *name, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	portal_set(r, name, buf);
}

void
portal_set_int(struct portal_req *r, const char *name, long long v)
{
	portal_setf(r, name, "%lld", v);
}

void
portal_field_error(struct portal_req *r, const char *field, const char *msg)
{
	portal_set(r, "Errors.any", "1");
	if (field != NULL) {
		char key[128];

		snprintf(key, sizeof(key), "Errors.%s", field);
		portal_set(r, key, msg);
	}
}

void
portal_message(struct portal_req *r, const char *kind, const char *msg)
{
	portal_set(r, "Msg", msg);
	portal_set(r, "Msg.kind", kind != NULL ? kind : "ok");
}

void
portal_no_store(struct portal_req *r)
{
	portal_req_header(r, "cache", "Cache-Control: no-store");
}

void
portal_req_session_dataset(struct portal_req *r)
{
	const struct ac_session *s = portal_session(r);

	portal_set(r, "CSRF", portal_session_csrf(r));
	if (s == NULL)
		return;
	portal_set(r, "Session.user", s->user);
	portal_set(r, "Session.display_name",
	    s->display_name[0] ? s->display_name : s->user);
	portal_set_int(r, "Session.level", s->level);
	portal_set_int(r, "Session.helpdesk", (s->roles & 1) != 0);
	portal_set_int(r, "Session.admin", (s->roles & 2) != 0);
}

static NEOERR *
render_append(void *ctx, char *s)
{
	return nerr_pass(string_append(ctx, s));
}

/*
 * Renders tmpl into out, without the blank lines the macro files and
 * the page's defs leave before <!DOCTYPE html> (text outside a def is
 * output, and the template files end lines there).  What cgi_display
 * does, minus its ?debug= dump and with the trim.
 */
static NEOERR *
render_page(struct portal_req *r, const char *tmpl, STRING *out)
{
	CSPARSE *cs = NULL;
	NEOERR *err;
	int skip = 0;

	if ((err = cgi_cs_init(r->cgi, &cs)) == STATUS_OK &&
	    (err = cs_parse_file(cs, tmpl)) == STATUS_OK)
		err = cs_render(cs, out, render_append);
	cs_destroy(&cs);
	if (err != STATUS_OK)
		return nerr_pass(err);
	while (skip < out->len && (out->buf[skip] == '\n' ||
	    out->buf[skip] == ' ' || out->buf[skip] == '\t' ||
	    out->buf[skip] == '\r'))
		skip++;
	if (skip > 0) {
		memmove(out->buf, out->buf + skip, (size_t)(out->len - skip) + 1);
		out->len -= skip;
	}
	return STATUS_OK;
}

int
portal_render(struct portal_req *r, int status, const char *tmpl)
{
	STRING page;
	NEOERR *err;

	if (r->responded)
		return AC_ERR_INTERNAL;
	portal_req_session_dataset(r);
	set_or_log(r, "cgiout.Status", status_line(status));
	string_init(&page);
	/* The whole page is rendered before a byte is written: on error,
	 * nothing reached the client yet. */
	if ((err = render_page(r, tmpl, &page)) != STATUS_OK) {
		string_clear(&page);
		log_neo(tmpl, err);
		plain_500(r);
		return AC_ERR_INTERNAL;
	}
	err = cgi_output(r->cgi, &page);
	string_clear(&page);
	if (err != STATUS_OK)
		log_neo("output", err);	/* the client went away */
	r->responded = 1;
	return 0;
}

int
portal_redirect(struct portal_req *r, const char *path)
{
	STRING body;
	NEOERR *err;

	if (r->responded)
		return AC_ERR_INTERNAL;
	/* Only local paths: an absolute URL here would be an open redirect. */
	if (path == NULL || path[0] != '/' || path[1] == '/' || path[1] == '\\')
		path = "/";
	set_or_log(r, "cgiout.Status", status_line(303));
	set_or_log(r, "cgiout.Location", path);
	string_init(&body);
	err = string_append(&body, "<!DOCTYPE html><title>See other</title>"
	    "<p>Continue to the <a href=\"/\">portal</a>.</p>\n");
	if (err == STATUS_OK)
		err = cgi_output(r->cgi, &body);
	string_clear(&body);
	if (err != STATUS_OK) {
		log_neo("redirect", err);
		plain_500(r);
		return AC_ERR_INTERNAL;
	}
	r->responded = 1;
	return 0;
}

static const char *
status_title(int status)
{
	switch (status) {
	case 400: return "Bad request";
	case 403: return "Not allowed";
	case 404: return "Page not found";
	case 405: return "Method not allowed";
	case 409: return "Already done";
	case 410: return "No longer available";
	case 413: return "Too much data";
	case 415: return "Unsupported form";
	case 429: return "Too many attempts";
	case 503: return "Temporarily unavailable";
	default:  return "Something went wrong";
	}
}

int
portal_error(struct portal_req *r, int status, const char *msg)
{
	portal_set(r, "Page.title", status_title(status));
	portal_set_int(r, "Error.status", status);
	portal_set(r, "Error.message", msg);
	return portal_render(r, status, "error.cs");
}

/* --- dispatch ------------------------------------------------------------ */

/* The request path without the query string, from REQUEST_URI (raw, so a
 * segment is decoded exactly once, by the router). */
static int
request_path(struct portal_req *r)
{
	const char *u = portal_req_env(r, "REQUEST_URI");
	size_t n;

	if (u == NULL)
		u = portal_req_env(r, "SCRIPT_NAME");
	if (u == NULL || u[0] != '/')
		return -1;
	n = strcspn(u, "?#");
	if (n >= sizeof(r->path))
		return -1;
	memcpy(r->path, u, n);
	r->path[n] = '\0';
	return 0;
}

/*
 * Refuses what ClearSilver must not parse: bodies over AC_MAX_FORM_BODY
 * (cgi_parse reads any size into memory) and encodings other than a plain
 * form (multipart uploads would write temporary files).  Returns 0 or
 * the HTTP status of the refusal, already rendered.
 */
static int
check_body(struct portal_req *r, const char *method)
{
	const char *cl = portal_req_env(r, "CONTENT_LENGTH");
	const char *ct = portal_req_env(r, "CONTENT_TYPE");
	unsigned long long len = 0;
	char *end;
	size_t n;

	if (cl != NULL && *cl != '\0') {
		len = strtoull(cl, &end, 10);
		if (*end != '\0' || cl[0] == '-')
			return portal_error(r, 400, "The request was malformed."),
			    400;
	}
	if (len > AC_MAX_FORM_BODY)
		return portal_error(r, 413, "The form sent more data than this "
		    "portal accepts."), 413;
	if (strcmp(method, "POST") != 0 || len == 0)
		return 0;
	/* The media type without parameters ("; charset=UTF-8"), which this
	 * ClearSilver compares whole (RFC 9110 8.3.1: case-insensitive). */
	n = ct != NULL ? strcspn(ct, "; \t") : 0;
	if (n != strlen(FORM_TYPE) || strncasecmp(ct, FORM_TYPE, n) != 0)
		return portal_error(r, 415, "This kind of form submission is "
		    "not supported."), 415;
	set_or_log(r, "CGI.ContentType", FORM_TYPE);
	return 0;
}

/* Applies the route's access level.  Returns 1 when the request may go
 * on, 0 when a redirect or error page was produced. */
static int
check_access(struct portal_req *r, const struct portal_route *rt)
{
	const struct ac_session *s = portal_session(r);

	if (rt->access == PORTAL_PUBLIC)
		return 1;
	if (s == NULL) {
		portal_redirect(r, r->sess.expired ? "/login?expired=1" : "/login");
		return 0;
	}
	if (rt->access == PORTAL_PASSWORD)
		return 1;
	if (s->level < 1) {
		portal_redirect(r, "/login");
		return 0;
	}
	if ((rt->access == PORTAL_HELPDESK && !(s->roles & 1)) ||
	    (rt->access == PORTAL_ADMIN && !(s->roles & 2))) {
		portal_error(r, 403, "Your account is not allowed to open this "
		    "page.");
		return 0;
	}
	return 1;
}

static void
route_and_call(struct portal_req *r, const char *method)
{
	const struct portal_route *rt;
	portal_handler h;
	const char *allow;
	enum portal_match m;
	int rc;

	m = portal_route_find(r->app->routes, r->app->nroutes, r->path, method,
	    &rt, &h, r->arg, sizeof(r->arg), &allow);
	if (m == PORTAL_MATCH_NOT_FOUND) {
		portal_error(r, 404, "There is no page at this address.");
		return;
	}
	if (m == PORTAL_MATCH_METHOD) {
		char line[64];

		snprintf(line, sizeof(line), "Allow: %s", allow);
		portal_req_header(r, "allow", line);
		portal_error(r, 405, "This page cannot be used that way.");
		return;
	}
	r->route = rt;
	if (!check_access(r, rt))
		return;
	if (strcmp(method, "POST") == 0 &&
	    !portal_csrf_ok(r, portal_param(r, "csrf"))) {
		portal_log(PORTAL_LOG_WARNING, "csrf check failed on %s from %s",
		    r->path, portal_client_addr(r));
		portal_error(r, 403, "This form has expired or did not come "
		    "from this site. Go back, reload the page and try again.");
		return;
	}
	rc = h(r);
	if (rc < 0) {
		portal_log(PORTAL_LOG_ERR, "%s %s: %s", method, r->path,
		    ac_strerror(rc));
		if (!r->responded)
			portal_error(r, 500, "Something went wrong on our side. "
			    "Please try again later.");
	} else if (!r->responded) {
		portal_log(PORTAL_LOG_ERR, "%s %s: handler produced no response",
		    method, r->path);
		portal_error(r, 500, "Something went wrong on our side.");
	}
}

/* Runs one request from cgi_init to the response. */
static void
dispatch(struct portal_req *r)
{
	static const char no_tail[2] = { 0, 0 };
	const char *method, *q;
	NEOERR *err;

	method = hdf_get_value(r->hdf, "CGI.RequestMethod", "GET");
	if (request_path(r) != 0) {
		portal_error(r, 400, "The request was malformed.");
		return;
	}
	if (check_body(r, method) != 0)
		return;
	if ((err = cgi_parse(r->cgi)) != STATUS_OK) {
		log_neo("cgi_parse", err);
		portal_error(r, 400, "The form could not be read.");
		return;
	}
	q = portal_req_env(r, "QUERY_STRING");
	if (r->nul_seen || (q != NULL && has_nul_escape(no_tail, q, (int)strlen(q)))) {
		portal_error(r, 400, "The form contained a character that is "
		    "not allowed.");
		return;
	}
	if (portal_session_load(r) != 0) {
		portal_error(r, 503, "The portal cannot reach its token store "
		    "right now. Please try again in a minute.");
		return;
	}
	route_and_call(r, method);
}

static void
handle(struct portal_app *app, FCGX_Request *fr)
{
	struct portal_req *r;
	HDF *hdf = NULL;
	NEOERR *err;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		FCGX_PutS("Status: 503 Service Unavailable\r\n"
		    "Content-Type: text/plain\r\n\r\nOut of memory\n", fr->out);
		return;
	}
	r->app = app;
	r->fr = fr;
	cgiwrap_init_emu(r, emu_read, emu_writef, emu_write, emu_getenv,
	    emu_putenv, emu_iterenv);
	err = hdf_init(&hdf);
	if (err == STATUS_OK && (err = fill_dataset(app, hdf)) != STATUS_OK)
		hdf_destroy(&hdf);
	if (err == STATUS_OK)
		err = cgi_init(&r->cgi, hdf);	/* takes hdf, even on failure */
	if (err != STATUS_OK) {
		log_neo("cgi_init", err);
		plain_500(r);
		free(r);
		return;
	}
	r->hdf = r->cgi->hdf;
	dispatch(r);
	cgi_destroy(&r->cgi);
	OPENSSL_cleanse(&r->sess, sizeof(r->sess));
	free(r);
}

void
portal_serve_stop(void)
{
	stop_requested = 1;
	FCGX_ShutdownPending();
}

void
portal_serve_reopen_logs(void)
{
	reopen_requested = 1;
}

/* SIGTERM and SIGHUP wait while a request is served: an interrupted
 * read or write would cut the response short. */
static void
block_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(how, &set, NULL);
}

int
portal_serve(struct portal_app *app, int listen_fd)
{
	FCGX_Request fr;
	int rc = 0, n;

	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		portal_log(PORTAL_LOG_ERR, "cannot initialise FastCGI");
		return -1;
	}
	for (;;) {
		block_signals(SIG_UNBLOCK);
		if (reopen_requested) {
			reopen_requested = 0;
			portal_log_reopen();
		}
		if (stop_requested)
			break;
		n = FCGX_Accept_r(&fr);
		block_signals(SIG_BLOCK);
		/* SIGHUP restarts accept(): re-open before serving, so the
		 * first request after a log rotation lands in the new file. */
		if (reopen_requested) {
			reopen_requested = 0;
			portal_log_reopen();
		}
		if (n < 0) {
			if (stop_requested)
				break;
			if (n == -EINTR)
				continue;
			portal_log(PORTAL_LOG_ERR, "accept failed: %s",
			    strerror(-n));
			rc = -1;
			break;
		}
		handle(app, &fr);
		FCGX_Finish_r(&fr);
	}
	block_signals(SIG_UNBLOCK);
	FCGX_Free(&fr, 0);
	return rc;
}
