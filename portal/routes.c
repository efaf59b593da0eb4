/*
 * routes.c - the portal's routing table (DESIGN.md 6: stable paths).
 * Order matters only between a "prefix/ *" pattern and an exact path
 * under the same prefix: the first match wins.
 */
#include <stddef.h>

#include "handlers.h"
#include "pages.h"
#include "router.h"

const struct portal_route portal_routes[] = {
	{ "/",		PORTAL_USER,	 h_tokens_home_get, NULL },
	{ "/tokens/*",	PORTAL_USER,	 h_token_get,	h_token_post },
	{ "/enroll/totp", PORTAL_USER,	 h_enroll_totp_get, h_enroll_totp_post },
	{ "/enroll/hotp", PORTAL_USER,	 h_enroll_hotp_get, h_enroll_hotp_post },
	{ "/enroll/email", PORTAL_USER,	 h_enroll_email_get, h_enroll_email_post },
	{ "/enroll/activate/*", PORTAL_USER, h_activate_get, h_activate_post },
	{ "/login",	PORTAL_PUBLIC,	 h_login_get,	h_login_post },
	/* Public so that a stale page's sign-out still ends cleanly. */
	{ "/logout",	PORTAL_PUBLIC,	 NULL,		h_logout_post },
};

const size_t portal_routes_count =
    sizeof(portal_routes) / sizeof(portal_routes[0]);
