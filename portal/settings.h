/*
 * settings.h - the portal's own configuration (portal.* and the enroll.*
 * keys the sign-in needs), read and validated once at start.  Every bad
 * value is refused with a message naming the key, before anything is
 * bound or forked.  A plain value struct: read-only after load.
 */
#ifndef PORTAL_SETTINGS_H
#define PORTAL_SETTINGS_H

#include <stddef.h>

struct ac_config;

#define PORTAL_PATH_MAX		1024
#define PORTAL_NAME_MAX		64

enum portal_bootstrap {
	PORTAL_BOOTSTRAP_PASSWORD = 0,	/* first token after the password */
};

struct portal_settings {
	char	listen[PORTAL_PATH_MAX];	/* portal.listen: unix:PATH|HOST:PORT */
	int	workers;			/* portal.workers (4) */
	char	user[PORTAL_NAME_MAX];		/* portal.user ("" = stay) */
	char	group[PORTAL_NAME_MAX];		/* portal.group */
	int	socket_mode;			/* portal.socket_mode (0660) */
	char	templates[PORTAL_PATH_MAX];	/* portal.templates */
	char	issuer[PORTAL_NAME_MAX];	/* portal.issuer ("tokenportal") */
	char	log[PORTAL_PATH_MAX];		/* portal.log (syslog) */
	int	log_debug;			/* portal.log_debug (0) */
	char	pid_file[PORTAL_PATH_MAX];	/* portal.pid_file ("" none) */
	int	cookie_secure;			/* portal.cookie_secure (1) */
	int	session_idle;			/* seconds: portal.session_idle_minutes
						 * (15) or portal.session_idle_seconds */
	int	session_max;			/* seconds: portal.session_max_hours (8) */
	int	throttle_user;			/* portal.throttle.user_max (5) */
	int	throttle_address;		/* portal.throttle.address_max (20) */
	int	throttle_window;		/* portal.throttle.window_seconds (300) */
	int	stop_timeout;			/* portal.stop_timeout_seconds (10) */
	enum portal_bootstrap bootstrap;	/* enroll.bootstrap (password) */
};

/*
 * Fills *s from cfg, defaults for absent keys.  Returns 0, or
 * AC_ERR_CONFIG with err naming the key, the bad value's problem and the
 * expected form.  Relative paths resolve against the config's folder;
 * default_templates is used when portal.templates is absent.
 */
int portal_settings_load(const struct ac_config *cfg,
    const char *default_templates, struct portal_settings *s, char *err,
    size_t errlen);

/*
 * Checks a listen address: "unix:/absolute/path" or "HOST:PORT" (port
 * 1..65535, host non-empty; "[v6]:port" allowed).  Returns 0 or
 * AC_ERR_CONFIG with a sentence in err.
 */
int portal_listen_check(const char *listen, char *err, size_t errlen);

#endif
