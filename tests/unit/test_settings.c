/*
 * test_settings.c - portal.* settings: defaults, overrides, and refusals
 * whose messages name the key at fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "settings.h"

/* Loads text; returns the result and leaves the message in err. */
static int
load(const char *text, struct portal_settings *s, char *err, size_t errlen)
{
	ac_config *cfg = NULL;
	int rc;

	err[0] = '\0';
	rc = ac_config_parse(text, "/etc/tokenportal", &cfg, err, errlen);
	assert_int_equal(rc, 0);
	rc = portal_settings_load(cfg, "/usr/share/tokenportal/templates", s, err,
	    errlen);
	ac_config_free(cfg);
	return rc;
}

static void
defaults(void **state)
{
	struct portal_settings s;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(load("store.path = x\n", &s, err, sizeof(err)), 0);
	assert_string_equal(s.listen, "unix:/run/tokenportal/tokenportal.sock");
	assert_int_equal(s.workers, 4);
	assert_int_equal(s.socket_mode, 0660);
	assert_string_equal(s.templates, "/usr/share/tokenportal/templates");
	assert_string_equal(s.issuer, "tokenportal");
	assert_string_equal(s.log, "syslog");
	assert_int_equal(s.cookie_secure, 1);
	assert_int_equal(s.session_idle, 15 * 60);
	assert_int_equal(s.session_max, 8 * 3600);
	assert_int_equal(s.throttle_user, 5);
	assert_int_equal(s.throttle_address, 20);
	assert_int_equal(s.throttle_window, 300);
	assert_int_equal(s.bootstrap, PORTAL_BOOTSTRAP_PASSWORD);
	assert_string_equal(s.user, "");
}

static void
overrides_and_relative_paths(void **state)
{
	struct portal_settings s;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(load(
	    "portal {\n"
	    "  listen = 127.0.0.1:9000\n"
	    "  workers = 8\n"
	    "  socket_mode = 0600\n"
	    "  templates = tmpl\n"
	    "  issuer = Example Corp\n"
	    "  log = /var/log/tokenportal.log\n"
	    "  cookie_secure = no\n"
	    "  session_idle_minutes = 30\n"
	    "  session_max_hours = 12\n"
	    "  user = www-data\n"
	    "  group = www-data\n"
	    "}\n", &s, err, sizeof(err)), 0);
	assert_string_equal(s.listen, "127.0.0.1:9000");
	assert_int_equal(s.workers, 8);
	assert_int_equal(s.socket_mode, 0600);
	assert_string_equal(s.templates, "/etc/tokenportal/tmpl");
	assert_string_equal(s.issuer, "Example Corp");
	assert_int_equal(s.cookie_secure, 0);
	assert_int_equal(s.session_idle, 30 * 60);
	assert_int_equal(s.session_max, 12 * 3600);
	assert_string_equal(s.user, "www-data");
}

static void
idle_seconds_override_minutes(void **state)
{
	struct portal_settings s;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(load("portal.session_idle_minutes = 20\n"
	    "portal.session_idle_seconds = 2\n", &s, err, sizeof(err)), 0);
	assert_int_equal(s.session_idle, 2);
}

static void
refusals_name_the_key(void **state)
{
	static const struct { const char *text, *key; } bad[] = {
		{ "portal.workers = 0\n", "portal.workers" },
		{ "portal.workers = many\n", "portal.workers" },
		{ "portal.workers = 100000\n", "portal.workers" },
		{ "portal.listen = nowhere\n", "portal.listen" },
		{ "portal.listen = unix:relative.sock\n", "portal.listen" },
		{ "portal.listen = 127.0.0.1:0\n", "portal.listen" },
		{ "portal.listen = 127.0.0.1:70000\n", "portal.listen" },
		{ "portal.listen = :80\n", "portal.listen" },
		{ "portal.socket_mode = 0666x\n", "portal.socket_mode" },
		{ "portal.socket_mode = 0400\n", "portal.socket_mode" },
		{ "portal.cookie_secure = maybe\n", "portal.cookie_secure" },
		{ "portal.session_idle_minutes = 0\n", "portal.session_idle_minutes" },
		{ "portal.session_max_hours = -1\n", "portal.session_max_hours" },
		{ "portal.session_idle_minutes = 600\nportal.session_max_hours = 1\n",
		  "portal.session_idle_minutes" },
		{ "portal.log = relative.log\n", "portal.log" },
		{ "portal.user = root;rm\n", "portal.user" },
		{ "portal.throttle.user_max = 0\n", "portal.throttle.user_max" },
		{ "enroll.bootstrap = telepathy\n", "enroll.bootstrap" },
	};
	struct portal_settings s;
	char err[AC_ERRBUF];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i].text, &s, err, sizeof(err)),
		    AC_ERR_CONFIG);
		if (strstr(err, bad[i].key) == NULL)
			fail_msg("'%s': message '%s' does not name %s",
			    bad[i].text, err, bad[i].key);
	}
}

static void
listen_check_accepts_the_documented_forms(void **state)
{
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(portal_listen_check("unix:/run/x.sock", err,
	    sizeof(err)), 0);
	assert_int_equal(portal_listen_check("localhost:9000", err,
	    sizeof(err)), 0);
	assert_int_equal(portal_listen_check("[::1]:9000", err, sizeof(err)), 0);
	assert_int_equal(portal_listen_check("[::1]9000", err, sizeof(err)),
	    AC_ERR_CONFIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(overrides_and_relative_paths),
		cmocka_unit_test(idle_seconds_override_minutes),
		cmocka_unit_test(refusals_name_the_key),
		cmocka_unit_test(listen_check_accepts_the_documented_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
