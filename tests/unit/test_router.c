/*
 * test_router.c - route lookup: exact paths, one-segment arguments with
 * percent-decoding, 404 versus 405, HEAD served as GET, hostile paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "router.h"

static int h_a(struct portal_req *r) { (void)r; return 1; }
static int h_b(struct portal_req *r) { (void)r; return 2; }
static int h_c(struct portal_req *r) { (void)r; return 3; }

static const struct portal_route table[] = {
	{ "/",			PORTAL_USER,	h_a,	NULL },
	{ "/login",		PORTAL_PUBLIC,	h_a,	h_b },
	{ "/logout",		PORTAL_PUBLIC,	NULL,	h_b },
	{ "/tokens/*",		PORTAL_USER,	h_c,	h_b },
	{ "/helpdesk/user/*",	PORTAL_HELPDESK, h_a,	NULL },
};
#define N (sizeof(table) / sizeof(table[0]))

static enum portal_match
find(const char *path, const char *method, portal_handler *h, char *arg,
    size_t arglen, const char **allow)
{
	const struct portal_route *rt;

	return portal_route_find(table, N, path, method, &rt, h, arg, arglen,
	    allow);
}

static void
exact_paths_and_methods(void **state)
{
	portal_handler h;
	char arg[64];
	const char *allow;

	(void)state;
	assert_int_equal(find("/login", "GET", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_OK);
	assert_ptr_equal(h, h_a);
	assert_int_equal(find("/login", "POST", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_OK);
	assert_ptr_equal(h, h_b);
	assert_int_equal(find("/login", "HEAD", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_OK);
	assert_ptr_equal(h, h_a);
	assert_int_equal(find("/", "GET", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_OK);
	assert_string_equal(arg, "");
}

static void
wrong_method_is_405_with_allow(void **state)
{
	portal_handler h;
	char arg[64];
	const char *allow;

	(void)state;
	assert_int_equal(find("/logout", "GET", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_METHOD);
	assert_null(h);
	assert_string_equal(allow, "POST");
	assert_int_equal(find("/", "POST", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_METHOD);
	assert_string_equal(allow, "GET, HEAD");
	assert_int_equal(find("/login", "DELETE", &h, arg, sizeof(arg), &allow),
	    PORTAL_MATCH_METHOD);
	assert_string_equal(allow, "GET, HEAD, POST");
}

static void
unknown_paths_are_404(void **state)
{
	static const char *const paths[] = { "/nope", "/login/", "/LOGIN",
	    "/tokens", "/tokens/", "/tokens/a/b", "login", "", "//login",
	    "/login?x=1", "/helpdesk/user/", NULL };
	portal_handler h;
	char arg[64];
	int i;

	(void)state;
	for (i = 0; paths[i] != NULL; i++)
		assert_int_equal(find(paths[i], "GET", &h, arg, sizeof(arg),
		    NULL), PORTAL_MATCH_NOT_FOUND);
	assert_int_equal(portal_route_find(table, N, NULL, "GET",
	    &(const struct portal_route *){ NULL }, &h, arg, sizeof(arg), NULL),
	    PORTAL_MATCH_NOT_FOUND);
}

static void
segment_argument_is_decoded(void **state)
{
	portal_handler h;
	char arg[64];

	(void)state;
	assert_int_equal(find("/tokens/TOTP0001", "GET", &h, arg, sizeof(arg),
	    NULL), PORTAL_MATCH_OK);
	assert_ptr_equal(h, h_c);
	assert_string_equal(arg, "TOTP0001");
	assert_int_equal(find("/helpdesk/user/zoe%2A%28x%29%5Cy", "GET", &h, arg,
	    sizeof(arg), NULL), PORTAL_MATCH_OK);
	assert_string_equal(arg, "zoe*(x)\\y");
	assert_int_equal(find("/tokens/a%20b", "POST", &h, arg, sizeof(arg),
	    NULL), PORTAL_MATCH_OK);
	assert_ptr_equal(h, h_b);
	assert_string_equal(arg, "a b");
}

static void
hostile_segments_do_not_match(void **state)
{
	static const char *const paths[] = { "/tokens/a%2Fb", "/tokens/%00",
	    "/tokens/a%0d%0aSet-Cookie", "/tokens/%zz", "/tokens/%4",
	    "/tokens/%", "/tokens/%7f", NULL };
	portal_handler h;
	char arg[64];
	int i;

	(void)state;
	for (i = 0; paths[i] != NULL; i++) {
		assert_int_equal(find(paths[i], "GET", &h, arg, sizeof(arg),
		    NULL), PORTAL_MATCH_NOT_FOUND);
		assert_string_equal(arg, "");
	}
}

static void
argument_that_does_not_fit_does_not_match(void **state)
{
	portal_handler h;
	char arg[8];

	(void)state;
	assert_int_equal(find("/tokens/1234567", "GET", &h, arg, sizeof(arg),
	    NULL), PORTAL_MATCH_OK);
	assert_int_equal(find("/tokens/12345678", "GET", &h, arg, sizeof(arg),
	    NULL), PORTAL_MATCH_NOT_FOUND);
}

static void
over_long_paths_are_404(void **state)
{
	char path[PORTAL_MAX_PATH + 8], arg[PORTAL_MAX_PATH];
	portal_handler h;

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	memcpy(path, "/tokens/", 8);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(find(path, "GET", &h, arg, sizeof(arg), NULL),
	    PORTAL_MATCH_NOT_FOUND);
}

static void
decode_segment_reports_length_and_errors(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(portal_url_decode_segment("a%41b", 5, out,
	    sizeof(out)), 3);
	assert_string_equal(out, "aAb");
	assert_int_equal(portal_url_decode_segment("", 0, out, sizeof(out)), 0);
	assert_int_equal(portal_url_decode_segment("%2f", 3, out, sizeof(out)),
	    -1);
	assert_int_equal(portal_url_decode_segment("%0", 2, out, sizeof(out)),
	    -1);
	assert_int_equal(portal_url_decode_segment("abcd", 4, out, 4), -1);
	assert_int_equal(portal_url_decode_segment("abc", 3, out, 4), 3);
}

static void
portal_table_routes_the_stable_paths(void **state)
{
	const struct portal_route *rt;
	portal_handler h;
	char arg[64];

	(void)state;
	assert_int_equal(portal_route_find(portal_routes, portal_routes_count,
	    "/login", "POST", &rt, &h, arg, sizeof(arg), NULL), PORTAL_MATCH_OK);
	assert_int_equal(rt->access, PORTAL_PUBLIC);
	assert_int_equal(portal_route_find(portal_routes, portal_routes_count,
	    "/logout", "GET", &rt, &h, arg, sizeof(arg), NULL),
	    PORTAL_MATCH_METHOD);
	assert_int_equal(portal_route_find(portal_routes, portal_routes_count,
	    "/", "GET", &rt, &h, arg, sizeof(arg), NULL), PORTAL_MATCH_OK);
	assert_true(rt->access >= PORTAL_USER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_paths_and_methods),
		cmocka_unit_test(wrong_method_is_405_with_allow),
		cmocka_unit_test(unknown_paths_are_404),
		cmocka_unit_test(segment_argument_is_decoded),
		cmocka_unit_test(hostile_segments_do_not_match),
		cmocka_unit_test(argument_that_does_not_fit_does_not_match),
		cmocka_unit_test(over_long_paths_are_404),
		cmocka_unit_test(decode_segment_reports_length_and_errors),
		cmocka_unit_test(portal_table_routes_the_stable_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
