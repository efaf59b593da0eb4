/*
 * settings.c - portal.* keys, validated with messages naming the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "settings.h"

/* Copies a string key into dst, refusing values that do not fit. */
static int
get_str(const struct ac_config *cfg, const char *key, const char *def,
    char *dst, size_t dstlen, char *err, size_t errlen)
{
	const char *v = ac_config_get(cfg, key, def);

	if (v == NULL)
		v = "";
	if (strlen(v) >= dstlen) {
		snprintf(err, errlen, "config key '%s' is too long (at most %zu "
		    "characters)", key, dstlen - 1);
		return AC_ERR_CONFIG;
	}
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

static int
get_int(const struct ac_config *cfg, const char *key, long long def,
    long long min, long long max, int *out, char *err, size_t errlen)
{
	long long v;
	int r;

	r = ac_config_int(cfg, key, def, min, max, &v, err, errlen);
	if (r == 0)
		*out = (int)v;
	return r;
}

static int
get_path(const struct ac_config *cfg, const char *key, const char *def,
    char *dst, size_t dstlen, char *err, size_t errlen)
{
	char *p = NULL;
	int r;

	r = ac_config_path(cfg, key, def, &p);
	if (r != 0) {
		snprintf(err, errlen, "config key '%s': out of memory", key);
		return r;
	}
	if (p == NULL) {
		dst[0] = '\0';
		return 0;
	}
	r = 0;
	if (strlen(p) >= dstlen) {
		snprintf(err, errlen, "config key '%s' is too long (at most %zu "
		    "characters)", key, dstlen - 1);
		r = AC_ERR_CONFIG;
	} else
		snprintf(dst, dstlen, "%s", p);
	free(p);
	return r;
}

/* A file mode in octal ("0660"): HDF has no octal numbers. */
static int
get_mode(const struct ac_config *cfg, const char *key, int def, int *out,
    char *err, size_t errlen)
{
	const char *v = ac_config_get(cfg, key, NULL);
	char *end;
	long m;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	m = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || m < 0600 || m > 0777) {
		snprintf(err, errlen, "config key '%s': '%s' is not an octal "
		    "mode from 0600 to 0777 (0660: owner and group)", key, v);
		return AC_ERR_CONFIG;
	}
	*out = (int)m;
	return 0;
}

static int
check_name(const char *key, const char *v, char *err, size_t errlen)
{
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.')) {
			snprintf(err, errlen, "config key '%s': '%s' is not a "
			    "user or group name", key, v);
			return AC_ERR_CONFIG;
		}
	return 0;
}

int
portal_listen_check(const char *listen, char *err, size_t errlen)
{
	const char *colon, *host_end;
	char *end;
	long port;

	if (strncmp(listen, "unix:", 5) == 0) {
		if (listen[5] != '/') {
			snprintf(err, errlen, "listen address '%s': a unix "
			    "socket needs an absolute path (unix:/run/x.sock)",
			    listen);
			return AC_ERR_CONFIG;
		}
		if (strlen(listen + 5) >= 108) {	/* sun_path */
			snprintf(err, errlen, "listen address '%s': socket "
			    "path too long (at most 107 bytes)", listen);
			return AC_ERR_CONFIG;
		}
		return 0;
	}
	colon = strrchr(listen, ':');
	host_end = colon;
	if (listen[0] == '[') {
		host_end = strchr(listen, ']');
		if (host_end == NULL || host_end[1] != ':')
			colon = NULL;
	}
	if (colon == NULL || host_end == listen) {
		snprintf(err, errlen, "listen address '%s': expected "
		    "unix:/path or HOST:PORT (127.0.0.1:9000)", listen);
		return AC_ERR_CONFIG;
	}
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
		snprintf(err, errlen, "listen address '%s': the port must be a "
		    "number from 1 to 65535", listen);
		return AC_ERR_CONFIG;
	}
	return 0;
}

static int
load_process(const struct ac_config *cfg, const char *default_templates,
    struct portal_settings *s, char *err, size_t errlen)
{
	int r;

	if ((r = get_str(cfg, "portal.listen",
	    "unix:/run/tokenportal/tokenportal.sock", s->listen,
	    sizeof(s->listen), err, errlen)) != 0)
		return r;
	if ((r = portal_listen_check(s->listen, err, errlen)) != 0) {
		char tmp[AC_ERRBUF];

		snprintf(tmp, sizeof(tmp), "config key 'portal.listen': %s", err);
		snprintf(err, errlen, "%s", tmp);
		return r;
	}
	if ((r = get_int(cfg, "portal.workers", 4, 1, 256, &s->workers, err,
	    errlen)) != 0 ||
	    (r = get_str(cfg, "portal.user", "", s->user, sizeof(s->user), err,
	    errlen)) != 0 ||
	    (r = check_name("portal.user", s->user, err, errlen)) != 0 ||
	    (r = get_str(cfg, "portal.group", "", s->group, sizeof(s->group),
	    err, errlen)) != 0 ||
	    (r = check_name("portal.group", s->group, err, errlen)) != 0 ||
	    (r = get_mode(cfg, "portal.socket_mode", 0660, &s->socket_mode,
	    err, errlen)) != 0 ||
	    (r = get_path(cfg, "portal.templates", default_templates,
	    s->templates, sizeof(s->templates), err, errlen)) != 0 ||
	    (r = get_str(cfg, "portal.log", "syslog", s->log, sizeof(s->log),
	    err, errlen)) != 0 ||
	    (r = ac_config_bool(cfg, "portal.log_debug", 0, &s->log_debug, err,
	    errlen)) != 0 ||
	    (r = get_path(cfg, "portal.pid_file", NULL, s->pid_file,
	    sizeof(s->pid_file), err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.stop_timeout_seconds", 10, 1, 600,
	    &s->stop_timeout, err, errlen)) != 0)
		return r;
	if (strcmp(s->log, "syslog") != 0 && strcmp(s->log, "stderr") != 0 &&
	    s->log[0] != '/') {
		snprintf(err, errlen, "config key 'portal.log': '%s' is not "
		    "syslog, stderr or an absolute file path", s->log);
		return AC_ERR_CONFIG;
	}
	if (s->templates[0] == '\0') {
		snprintf(err, errlen, "missing required config key "
		    "'portal.templates' (the template folder)");
		return AC_ERR_CONFIG;
	}
	return 0;
}

static int
load_session(const struct ac_config *cfg, struct portal_settings *s,
    char *err, size_t errlen)
{
	static const char *const bootstraps[] = { "password", NULL };
	int r, minutes, hours, idx;

	if ((r = get_str(cfg, "portal.issuer", "tokenportal", s->issuer,
	    sizeof(s->issuer), err, errlen)) != 0 ||
	    (r = ac_config_bool(cfg, "portal.cookie_secure", 1,
	    &s->cookie_secure, err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.session_idle_minutes", 15, 1, 24 * 60,
	    &minutes, err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.session_idle_seconds", minutes * 60LL, 1,
	    24 * 3600, &s->session_idle, err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.session_max_hours", 8, 1, 24 * 7, &hours,
	    err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.throttle.user_max", 5, 1, 10000,
	    &s->throttle_user, err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.throttle.address_max", 20, 1, 100000,
	    &s->throttle_address, err, errlen)) != 0 ||
	    (r = get_int(cfg, "portal.throttle.window_seconds", 300, 1, 86400,
	    &s->throttle_window, err, errlen)) != 0 ||
	    (r = ac_config_choice(cfg, "enroll.bootstrap", bootstraps, 0, &idx,
	    err, errlen)) != 0)
		return r;
	s->session_max = hours * 3600;
	s->bootstrap = (enum portal_bootstrap)idx;
	if (s->session_idle > s->session_max) {
		snprintf(err, errlen, "config key 'portal.session_idle_minutes' "
		    "(%d min) is longer than 'portal.session_max_hours' (%d h)",
		    s->session_idle / 60, hours);
		return AC_ERR_CONFIG;
	}
	return 0;
}

int
portal_settings_load(const struct ac_config *cfg,
    const char *default_templates, struct portal_settings *s, char *err,
    size_t errlen)
{
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = load_process(cfg, default_templates, s, err, errlen)) != 0)
		return r;
	return load_session(cfg, s, err, errlen);
}
