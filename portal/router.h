/*
 * router.h - finds the route for a request path and method in a table of
 * struct portal_route (portal.h).  Pure string work, no I/O, so it is unit
 * tested on its own.
 */
#ifndef PORTAL_ROUTER_H
#define PORTAL_ROUTER_H

#include <stddef.h>

#include "portal.h"

#define PORTAL_MAX_PATH		1024	/* request path bytes we route */

enum portal_match {
	PORTAL_MATCH_OK = 0,
	PORTAL_MATCH_NOT_FOUND = 1,	/* 404 */
	PORTAL_MATCH_METHOD = 2,	/* 405: the path exists, not the method */
};

/*
 * Looks path up in table[0..n).  method is "GET", "HEAD" (served as GET)
 * or "POST"; anything else is PORTAL_MATCH_METHOD for a known path.  On
 * PORTAL_MATCH_OK *route points into the table and *handler is the one to
 * call; for a pattern ending in "/ *" the URL-decoded last segment is
 * written to arg (arglen bytes; a segment that does not fit, decodes to
 * nothing, or contains '/', NUL or a control character does not match).
 * *allow (may be NULL) receives "GET, HEAD, POST"-style text for 405.
 */
enum portal_match portal_route_find(const struct portal_route *table,
    size_t n, const char *path, const char *method,
    const struct portal_route **route, portal_handler *handler, char *arg,
    size_t arglen, const char **allow);

/* Decodes %XX escapes of a path segment into out (outlen bytes).  Returns
 * the length, or -1 on a bad escape, an overflow, or a decoded NUL, '/' or
 * control character. */
int portal_url_decode_segment(const char *in, size_t inlen, char *out,
    size_t outlen);

/* The routing table of the portal (routes.c). */
extern const struct portal_route portal_routes[];
extern const size_t portal_routes_count;

#endif
