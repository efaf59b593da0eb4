/*
 * otpcheck - asks the auth core whether a passcode is right, for scripts,
 * FreeRADIUS's rlm_exec and anything else that can run a program.
 *
 *   echo PASSCODE | otpcheck -c CONF [--resource R] USER
 *
 * The passcode comes from standard input (one line), never from argv,
 * which every local user can read in the process list.
 *
 * Exit status: 0 accept, 1 reject, 2 error (one line on stderr), 5
 * challenge (the transaction id and the message on stdout, one per line:
 * an e-mail token's code was mailed; send PIN part and code next).
 * With smtp.url in the config, e-mail tokens' codes are mailed (mail.h);
 * without, their trigger is a reject.
 * Never 3 or 4: rlm_exec maps exit N to module code N-1, and 3 would be
 * "ok" there (DESIGN.md 6), so a stray 3 would let the user in.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "authcore.h"
#include "check.h"
#include "config.h"
#include "mail.h"
#include "seal.h"

#define OC_ACCEPT	0
#define OC_REJECT	1
#define OC_ERROR	2
#define OC_CHALLENGE	5

#ifndef OTPCHECK_DEFAULT_CONF
#define OTPCHECK_DEFAULT_CONF	"/etc/tokenportal/tokenportal.hdf"
#endif

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "otpcheck: <message>" on stderr: every error is one such line. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	fputs("otpcheck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: otpcheck [-c CONF] [--resource R] USER  < passcode\n"
	    "  -c CONF          configuration file (default %s)\n"
	    "  --resource R     resource whose PIN policy applies "
	    "(resources.R.*)\n"
	    "Reads one line (PIN and code as the resource wants them) from "
	    "standard input.\n"
	    "Exit status: 0 accept, 1 reject, 2 error, 5 challenge "
	    "(transaction id and\nmessage on standard output).\n",
	    OTPCHECK_DEFAULT_CONF);
}

/*
 * Reads the passcode line with read(2), one byte at a time, so no stdio
 * buffer keeps a copy and nothing after the line is consumed.  The newline
 * and a CR before it are dropped.  Returns 0, or -1 after printing why
 * (longer than AC_MAX_PASSCODE, a NUL byte, a read error).
 */
static int
read_passcode(char *buf, size_t size)
{
	size_t n = 0;
	char c = 0;
	int r = -1;

	for (;;) {
		ssize_t k = read(STDIN_FILENO, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			say("cannot read the passcode: %s", strerror(errno));
			goto out;
		}
		if (k == 0 || c == '\n')
			break;
		if (c == '\0') {
			say("the passcode contains a NUL byte");
			goto out;
		}
		if (n + 1 >= size) {
			say("the passcode is longer than %d characters",
			    AC_MAX_PASSCODE);
			goto out;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	r = 0;
out:
	buf[r == 0 ? n : 0] = '\0';
	ac_wipe(&c, sizeof c);
	return r;
}

struct args {
	const char	*conf;
	const char	*resource;
	const char	*user;
};

static int
is_opt(const char *s, const char *short_name, const char *long_name)
{
	return strcmp(s, short_name) == 0 || strcmp(s, long_name) == 0;
}

/* Parses the command line; returns -1 to exit 0 (help), 0, or OC_ERROR
 * after printing the problem. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	int i, only_pos = 0;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (!only_pos && strcmp(s, "--") == 0) {
			only_pos = 1;
		} else if (!only_pos && (strcmp(s, "-h") == 0 ||
		    strcmp(s, "--help") == 0)) {
			usage(stdout);
			return -1;
		} else if (!only_pos && (is_opt(s, "-c", "--config") ||
		    is_opt(s, "-r", "--resource"))) {
			if (i + 1 >= argc) {
				say("option %s needs a value", s);
				return OC_ERROR;
			}
			if (is_opt(s, "-c", "--config"))
				a->conf = argv[++i];
			else
				a->resource = argv[++i];
		} else if (!only_pos && strncmp(s, "--config=", 9) == 0) {
			a->conf = s + 9;
		} else if (!only_pos && strncmp(s, "--resource=", 11) == 0) {
			a->resource = s + 11;
		} else if (!only_pos && s[0] == '-' && s[1] != '\0') {
			say("unknown option '%s' (see 'otpcheck --help')", s);
			return OC_ERROR;
		} else if (a->user != NULL) {
			say("unexpected argument '%s': give one USER", s);
			return OC_ERROR;
		} else {
			a->user = s;
		}
	}
	if (a->user == NULL || a->user[0] == '\0' ||
	    strlen(a->user) > AC_MAX_USER) {
		say("give one USER of 1 to %d bytes (see 'otpcheck --help')",
		    AC_MAX_USER);
		return OC_ERROR;
	}
	if (a->resource != NULL && strlen(a->resource) > AC_MAX_RESOURCE) {
		say("--resource is longer than %d bytes", AC_MAX_RESOURCE);
		return OC_ERROR;
	}
	return 0;
}

/* Maps the check's answer to the exit status, printing what goes with it. */
static int
report(int r, const struct ac_check_result *res)
{
	if (r < 0 || res->result == AC_RESULT_ERROR) {
		const char *what = ac_strerror(r < 0 ? r : AC_ERR_INTERNAL);

		/* The reason often is that same sentence: say it once. */
		if (res->reason[0] != '\0' && strcmp(res->reason, what) != 0)
			say("%s: %s", what, res->reason);
		else
			say("%s", what);
		return OC_ERROR;
	}
	switch (res->result) {
	case AC_RESULT_ACCEPT:
		return OC_ACCEPT;
	case AC_RESULT_REJECT:
		return OC_REJECT;
	case AC_RESULT_CHALLENGE:
		printf("%s\n%s\n", res->transaction_id, res->message);
		return fflush(stdout) == 0 ? OC_CHALLENGE : OC_ERROR;
	default:
		say("unexpected answer from the check");
		return OC_ERROR;
	}
}

/* A mailer for e-mail tokens' codes when smtp.url is set (*m stays NULL
 * otherwise).  Returns 0, or OC_ERROR after printing the bad key. */
static int
open_mailer(ac_ctx *ctx, struct ac_mail **m)
{
	const struct ac_config *cfg = ac_ctx_config(ctx);
	char err[AC_ERRBUF] = "";
	int r;

	*m = NULL;
	if (ac_config_get(cfg, "smtp.url", NULL) == NULL)
		return 0;
	if (ac_mail_global_init() != 0) {
		say("cannot initialise libcurl");
		return OC_ERROR;
	}
	if ((r = ac_mail_new(cfg, m, err, sizeof err)) != 0) {
		say("%s", err[0] ? err : ac_strerror(r));
		return OC_ERROR;
	}
	ac_ctx_set_code_sender(ctx, ac_mail_code_sender, *m);
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a = { OTPCHECK_DEFAULT_CONF, NULL, NULL };
	struct ac_check_result res;
	char pass[AC_MAX_PASSCODE + 2], err[AC_ERRBUF] = "";
	struct ac_mail *mail = NULL;
	ac_ctx *ctx = NULL;
	int r, rc = OC_ERROR, curl = 0;

	/* A caller that stops reading must not turn a result into a crash. */
	signal(SIGPIPE, SIG_IGN);
	memset(&res, 0, sizeof res);
	if ((r = parse_args(argc, argv, &a)) != 0)
		return r < 0 ? 0 : OC_ERROR;	/* -1: --help shown */
	if (read_passcode(pass, sizeof pass) != 0)
		goto out;
	if ((r = ac_ctx_open(a.conf, &ctx, err, sizeof err)) < 0) {
		say("%s", err[0] ? err : ac_strerror(r));
		goto out;
	}
	curl = ac_config_get(ac_ctx_config(ctx), "smtp.url", NULL) != NULL;
	if (open_mailer(ctx, &mail) != 0)
		goto out;
	r = ac_check(ctx, a.user, a.resource, pass, "otpcheck", &res);
	ac_wipe(pass, sizeof pass);
	rc = report(r, &res);
out:
	ac_wipe(pass, sizeof pass);
	ac_wipe(&res, sizeof res);
	ac_ctx_free(ctx);
	ac_mail_free(mail);
	if (curl)
		ac_mail_global_cleanup();
	/* Whatever happened above, only 0, 1, 2 and 5 leave this program. */
	return rc == OC_ACCEPT || rc == OC_REJECT || rc == OC_CHALLENGE ?
	    rc : OC_ERROR;
}
