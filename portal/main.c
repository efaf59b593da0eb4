/*
 * main.c - tokenportal: the self-service portal's FastCGI server.
 *
 *   tokenportal -c CONF [--listen unix:PATH|HOST:PORT] [--workers N]
 *               [--foreground]
 *
 * Reads and validates the configuration, binds (or takes the socket
 * systemd or spawn-fcgi hands over), drops to portal.user/portal.group
 * when started as root, and supervises the prefork workers (server.c).
 * Each worker opens the auth core (token store), the directory and the
 * mailer for itself after fork, then serves requests (request.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_error.h"
#include "authcore.h"
#include "config.h"
#include "directory.h"
#include "log.h"
#include "mail.h"
#include "request.h"
#include "router.h"
#include "server.h"
#include "settings.h"

#ifndef PORTAL_DATADIR
#define PORTAL_DATADIR "/usr/local/share/tokenportal"
#endif

struct options {
	const char	*config;
	const char	*listen;
	int		 workers;	/* 0: from the config */
	int		 foreground;
};

struct worker_arg {
	const char			*config;
	const struct portal_settings	*set;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: tokenportal -c CONF [--listen unix:PATH|HOST:PORT] "
	    "[--workers N] [--foreground]\n");
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "listen",	required_argument, NULL, 'l' },
		{ "workers",	required_argument, NULL, 'w' },
		{ "foreground",	no_argument,	   NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "c:l:w:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'w':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 256) {
				fprintf(stderr, "tokenportal: --workers must be "
				    "a number from 1 to 256\n");
				return -1;
			}
			o->workers = (int)n;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || o->config == NULL) {
		if (o->config == NULL)
			fprintf(stderr, "tokenportal: -c CONF is required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* --- the worker ----------------------------------------------------------- */

static void
on_stop(int sig)
{
	(void)sig;
	portal_serve_stop();
}

static void
on_hup(int sig)
{
	(void)sig;
	portal_serve_reopen_logs();
}

static void
worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;	/* no SA_RESTART: interrupt accept() */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Errors a restart cannot cure. */
static int
is_config_error(int rc)
{
	return rc == AC_ERR_CONFIG || rc == AC_ERR_NOT_FOUND ||
	    rc == AC_ERR_NOT_OURS || rc == AC_ERR_SCHEMA || rc == AC_ERR_KEY ||
	    rc == AC_ERR_IO;
}

static int
open_services(const struct worker_arg *wa, struct portal_app *app)
{
	const struct ac_config *cfg;
	char err[AC_ERRBUF] = "";
	int rc;

	if ((rc = ac_ctx_open(wa->config, &app->ac, err, sizeof(err))) != 0) {
		portal_log(PORTAL_LOG_ERR, "cannot open the auth core: %s",
		    err[0] ? err : ac_strerror(rc));
		return is_config_error(rc) ? PORTAL_EXIT_CONFIG : 1;
	}
	cfg = ac_ctx_config(app->ac);
	/* The directory connects on first use; a failure here is about its
	 * configuration, or transient, in which case sign-in retries. */
	if ((rc = ac_directory_new(cfg, &app->dir, err, sizeof(err))) != 0) {
		portal_log(PORTAL_LOG_ERR, "directory: %s",
		    err[0] ? err : ac_strerror(rc));
		app->dir = NULL;
		if (rc == AC_ERR_CONFIG)
			return PORTAL_EXIT_CONFIG;
	}
	if (ac_config_get(cfg, "smtp.url", NULL) != NULL &&
	    (rc = ac_mail_new(cfg, &app->mail, err, sizeof(err))) != 0) {
		portal_log(PORTAL_LOG_ERR, "mail: %s",
		    err[0] ? err : ac_strerror(rc));
		app->mail = NULL;
		return rc == AC_ERR_CONFIG ? PORTAL_EXIT_CONFIG : 1;
	}
	/* The step-up of a user with an e-mail token mails its code through
	 * the check (check.c); without a mailer that trigger is refused. */
	if (app->mail != NULL)
		ac_ctx_set_code_sender(app->ac, ac_mail_code_sender, app->mail);
	return 0;
}

static int
worker_main(int fd, int index, void *arg)
{
	const struct worker_arg *wa = arg;
	struct portal_app app;
	int rc;

	(void)index;
	worker_signals();
	memset(&app, 0, sizeof(app));
	app.set = wa->set;
	app.routes = portal_routes;
	app.nroutes = portal_routes_count;
	rc = open_services(wa, &app);
	if (rc == 0)
		rc = portal_serve(&app, fd) == 0 ? 0 : 1;
	ac_mail_free(app.mail);
	ac_directory_free(app.dir);
	ac_ctx_free(app.ac);
	return rc;
}

/* --- the parent ----------------------------------------------------------- */

/*
 * The step-up asks for a code on a page of its own, after the password:
 * resources.portal.pin_mode = directory (password + code in one passcode)
 * could never be met there.  none and token work (token: a PIN field).
 */
static int
check_step_up_policy(const ac_config *cfg, char *err, size_t errlen)
{
	const char *mode = ac_config_get(cfg, "resources.portal.pin_mode",
	    NULL);
	const char *key = "resources.portal.pin_mode";

	if (mode == NULL) {
		mode = ac_config_get(cfg, "resources.default.pin_mode", NULL);
		key = "resources.default.pin_mode";
	}
	if (mode != NULL && strcmp(mode, "directory") == 0) {
		snprintf(err, errlen, "config key '%s': the portal's step-up "
		    "cannot use pin_mode = directory (the password is checked "
		    "before the code); set resources.portal.pin_mode to none "
		    "or token", key);
		return AC_ERR_CONFIG;
	}
	return 0;
}

/* Everything that can be checked before binding: settings, required keys,
 * the template folder.  Prints one clear message on failure. */
static int
load_settings(const struct options *o, struct portal_settings *set)
{
	static const char *const required[] = { "store.path",
	    "keys.master_file", "directory.uri", "directory.base_dn", NULL };
	ac_config *cfg = NULL;
	char err[PORTAL_PATH_MAX + AC_ERRBUF], path[PORTAL_PATH_MAX + 16];
	struct stat st;
	int rc, i;

	if ((rc = ac_config_load(o->config, &cfg, err, sizeof(err))) != 0)
		goto fail;
	for (i = 0; required[i] != NULL; i++)
		if ((rc = ac_config_require(cfg, required[i], err,
		    sizeof(err))) != 0)
			goto fail;
	if ((rc = portal_settings_load(cfg, PORTAL_DATADIR "/templates", set,
	    err, sizeof(err))) != 0)
		goto fail;
	if ((rc = check_step_up_policy(cfg, err, sizeof(err))) != 0)
		goto fail;
	/* A mail setting the workers would refuse (smtp.from with a display
	 * name, say) is reported here, on stderr, before anything starts. */
	if (ac_config_get(cfg, "smtp.url", NULL) != NULL) {
		struct ac_mail *m = NULL;

		rc = ac_mail_new(cfg, &m, err, sizeof(err));
		ac_mail_free(m);
		if (rc != 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/layout.cs", set->templates);
	if (stat(path, &st) != 0) {
		snprintf(err, sizeof(err), "config key 'portal.templates': no "
		    "layout.cs in %s", set->templates);
		rc = AC_ERR_CONFIG;
		goto fail;
	}
	ac_config_free(cfg);
	return 0;
fail:
	fprintf(stderr, "tokenportal: %s\n", err);
	ac_config_free(cfg);
	return -1;
}

static int
write_pid_file(const char *path)
{
	FILE *f;

	if (path[0] == '\0')
		return 0;
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

/* Binds or inherits; chown/chmod the socket for the web server. */
static int
open_listener(const struct options *o, const struct portal_settings *set,
    uid_t uid, gid_t gid, int *fd, int *created)
{
	char err[AC_ERRBUF];

	*created = 0;
	if (o->listen == NULL && portal_listen_inherited(fd) == 0)
		return 0;
	if (o->listen != NULL &&
	    portal_listen_check(o->listen, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokenportal: --listen: %s\n", err);
		return -1;
	}
	if (portal_listen_open(o->listen ? o->listen : set->listen,
	    set->socket_mode, geteuid() == 0 ? uid : (uid_t)-1,
	    geteuid() == 0 ? gid : (gid_t)-1, fd, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokenportal: %s\n", err);
		return -1;
	}
	*created = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct portal_settings set;
	struct portal_server_opts so;
	struct worker_arg wa;
	struct options o;
	char err[AC_ERRBUF];
	const char *listen;
	uid_t uid;
	gid_t gid;
	char *config_abs;
	int fd, created, rc;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	/* Workers open the config again, after the daemon left the cwd. */
	if ((config_abs = realpath(o.config, NULL)) == NULL) {
		fprintf(stderr, "tokenportal: cannot read %s: %s\n", o.config,
		    strerror(errno));
		return 1;
	}
	o.config = config_abs;
	if (load_settings(&o, &set) != 0)
		return 1;
	if (o.workers > 0)
		set.workers = o.workers;
	if (portal_lookup_ids(set.user, set.group, &uid, &gid, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "tokenportal: %s\n", err);
		return 1;
	}
	if (open_listener(&o, &set, uid, gid, &fd, &created) != 0)
		return 1;
	if (portal_log_open(set.log, "tokenportal") != 0) {
		fprintf(stderr, "tokenportal: config key 'portal.log': cannot "
		    "open %s: %s\n", set.log, strerror(errno));
		return 1;
	}
	if (portal_drop_privileges(set.user, uid, gid, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokenportal: %s\n", err);
		return 1;
	}
	portal_log_debug(set.log_debug);
	if (!o.foreground && portal_daemonize() != 0) {
		portal_log(PORTAL_LOG_ERR, "cannot detach: %s", strerror(errno));
		return 1;
	}
	if (write_pid_file(set.pid_file) != 0)
		portal_log(PORTAL_LOG_WARNING, "cannot write %s: %s",
		    set.pid_file, strerror(errno));
	listen = o.listen ? o.listen : created ? set.listen : "inherited socket";
	portal_log(PORTAL_LOG_INFO, "listening on %s", listen);
	wa.config = o.config;
	wa.set = &set;
	so.workers = set.workers;
	so.stop_timeout = set.stop_timeout;
	rc = portal_supervise(fd, &so, worker_main, &wa);
	if (created && strncmp(listen, "unix:", 5) == 0)
		unlink(listen + 5);
	if (set.pid_file[0] != '\0')
		unlink(set.pid_file);
	portal_log_close();
	free(config_abs);
	return rc;
}
