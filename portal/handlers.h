/*
 * handlers.h - every request handler of the portal, one group per h_*.c
 * file, wired to paths in routes.c.  Each follows the contract of
 * portal.h: it ends with exactly one portal_render, portal_redirect or
 * portal_error, or returns a negative AC_ERR_* for a generic 500 page.
 */
#ifndef PORTAL_HANDLERS_H
#define PORTAL_HANDLERS_H

#include "portal.h"

/* h_auth.c: sign-in with the directory password, step-up with a code,
 * sign-out, and a welcome page until the token pages take "/". */
int h_login_get(struct portal_req *r);
int h_login_post(struct portal_req *r);
int h_logout_post(struct portal_req *r);
int h_welcome_get(struct portal_req *r);

#endif
