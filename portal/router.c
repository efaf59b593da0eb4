/*
 * router.c - exact paths and "prefix/ *" patterns, 404 vs 405.
 */
#include <string.h>

#include "codec.h"
#include "router.h"

int
portal_url_decode_segment(const char *in, size_t inlen, char *out,
    size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < inlen; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= inlen)
				return -1;
			hi = ac_hex_value((unsigned char)in[i + 1]);
			lo = ac_hex_value((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '/')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/*
 * Does path match pattern?  1 yes (arg filled for "/ *" patterns), 0 no.
 */
static int
path_matches(const char *pattern, const char *path, char *arg, size_t arglen)
{
	size_t plen = strlen(pattern);
	const char *seg;

	if (plen >= 2 && strcmp(pattern + plen - 2, "/*") == 0) {
		if (strncmp(path, pattern, plen - 1) != 0)
			return 0;
		seg = path + plen - 1;
		if (*seg == '\0' || strchr(seg, '/') != NULL)
			return 0;
		return portal_url_decode_segment(seg, strlen(seg), arg,
		    arglen) > 0;
	}
	return strcmp(pattern, path) == 0;
}

static const char *
allow_text(const struct portal_route *rt)
{
	if (rt->get != NULL && rt->post != NULL)
		return "GET, HEAD, POST";
	if (rt->get != NULL)
		return "GET, HEAD";
	if (rt->post != NULL)
		return "POST";
	return "";
}

enum portal_match
portal_route_find(const struct portal_route *table, size_t n,
    const char *path, const char *method, const struct portal_route **route,
    portal_handler *handler, char *arg, size_t arglen, const char **allow)
{
	portal_handler h;
	size_t i;

	*route = NULL;
	*handler = NULL;
	if (allow != NULL)
		*allow = "";
	if (arglen > 0)
		arg[0] = '\0';
	if (path == NULL || path[0] != '/' || strlen(path) >= PORTAL_MAX_PATH)
		return PORTAL_MATCH_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if (!path_matches(table[i].pattern, path, arg, arglen))
			continue;
		*route = &table[i];
		if (allow != NULL)
			*allow = allow_text(&table[i]);
		h = NULL;
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			h = table[i].get;
		else if (strcmp(method, "POST") == 0)
			h = table[i].post;
		if (h == NULL)
			return PORTAL_MATCH_METHOD;
		*handler = h;
		return PORTAL_MATCH_OK;
	}
	if (arglen > 0)
		arg[0] = '\0';
	return PORTAL_MATCH_NOT_FOUND;
}
