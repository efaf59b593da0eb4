/*
 * session.h - server-side sessions and CSRF tokens (DESIGN.md 7).
 *
 * The browser holds a 256-bit random session id in a cookie (HttpOnly,
 * Secure unless portal.cookie_secure = 0, SameSite=Strict, Path=/); the
 * store holds only its SHA-256, so a stolen database opens no session.
 * Ids are rotated at sign-in and at step-up (session fixation), sessions
 * end after portal.session_idle_* without a request or
 * portal.session_max_hours after sign-in, and are deleted at sign-out.
 *
 * Every POST must carry a `csrf` field equal to the session's CSRF token;
 * before sign-in the token is a random value in its own cookie (double
 * submit), so the sign-in form itself is protected too.
 *
 * The public half (begin/raise/end) is declared in portal.h.
 */
#ifndef PORTAL_SESSION_H
#define PORTAL_SESSION_H

#include <stddef.h>

#include "store.h"

struct portal_req;

#define PORTAL_SESSION_COOKIE		"tp_session"
#define PORTAL_CSRF_COOKIE		"tp_csrf"
#define PORTAL_TOKEN_HEX		64	/* 32 random bytes in hex */

/* Per-request session state, kept inside the request. */
struct portal_sess {
	int			present;	/* s is a valid, live session */
	int			expired;	/* the cookie named one that timed out */
	struct ac_session	s;
	char			pre_csrf[PORTAL_TOKEN_HEX + 1];	/* no session */
};

/*
 * Reads the session cookie, looks its hash up in the store, ends it when
 * idle or too old, touches it otherwise, and makes sure a browser without
 * a session has a CSRF cookie.  Returns 0 (with or without a session) or
 * a store error (the caller answers 503/500).
 */
int portal_session_load(struct portal_req *r);

/* The CSRF token forms must carry on this request ("" never matches). */
const char *portal_session_csrf(struct portal_req *r);

/* 1 when provided equals the expected CSRF token (constant time). */
int portal_csrf_ok(struct portal_req *r, const char *provided);

/*
 * Finds name's value in a Cookie header ("a=1; b=2").  Copies it into out
 * (outlen bytes) and returns its length, or -1 when absent or too long.
 */
int portal_cookie_find(const char *header, const char *name, char *out,
    size_t outlen);

/* 1 when s is exactly PORTAL_TOKEN_HEX lower-case hex digits. */
int portal_token_hex_valid(const char *s);

#endif
