/*
 * tokenctl - the administrator's command line for the token store.
 *
 *   tokenctl -c CONF <command> [options] [arguments]
 *
 * Every command that changes something goes through tokens.h, so it writes
 * its event with the actor "tokenctl:<login>" and the source "cli".  Secrets
 * and PINs are read from standard input, never from argv (a process list
 * shows argv to every local user), with read(2) so that no stdio buffer
 * keeps a copy, and are wiped as soon as they have been used.
 *
 * Exit status: 0 done, 1 the operation failed (unknown serial, bad secret,
 * store or key problem, broken event chain), 2 usage error.  Input is
 * checked before the store is opened, so bad input writes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "authcore.h"
#include "codec.h"
#include "config.h"
#include "events.h"
#include "otp.h"
#include "seal.h"
#include "store.h"
#include "tokens.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define HELP_SHOWN	(-1)	/* parse_opts printed --help: exit 0 */

#ifndef TOKENCTL_DEFAULT_CONF
#define TOKENCTL_DEFAULT_CONF	"/etc/tokenportal/tokenportal.hdf"
#endif

#define MAX_POS		3	/* positional arguments of any command */
#define MAX_COLS	11	/* columns of the widest table */
#define CELL		(AC_MAX_REASON + 8)

struct cli {
	const char	*conf;
	ac_ctx		*ctx;
	struct ac_who	 who;
	char		 actor[AC_MAX_ACTOR + 1];
};

struct cmd {
	const char	*name;
	int		(*run)(struct cli *, int, char **);
	const char	*args;
	const char	*help;
};

/* One --long option of a command: a value option sets *value, a flag
 * option sets *flag to 1. */
struct opt {
	const char	 *name;
	const char	**value;
	int		 *flag;
};

static const struct cmd *find_cmd(const char *name);

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "tokenctl: <message>" on stderr: every error is one such line. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	fputs("tokenctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- reading secrets ------------------------------------------------ */

/*
 * Reads one line from standard input into buf (size bytes with the NUL),
 * one byte per read(2) so that no stdio buffer holds a copy of the secret
 * and nothing after the line is consumed.  The newline and a CR before it
 * are dropped.  On a terminal, prompt goes to stderr and echo is off.
 * Returns 0 and *len, or -1 after printing why (too long, NUL, I/O).
 */
static int
read_secret_line(const char *prompt, const char *what, char *buf,
    size_t size, size_t *len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), echo_off = 0, r = -1;
	size_t n = 0;
	char c = 0;

	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	if (tty)
		fprintf(stderr, "%s", prompt);
	for (;;) {
		ssize_t k = read(STDIN_FILENO, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			say("cannot read the %s from standard input: %s", what,
			    strerror(errno));
			goto out;
		}
		if (k == 0 || c == '\n')
			break;
		if (c == '\0') {
			say("the %s on standard input contains a NUL byte",
			    what);
			goto out;
		}
		if (n + 1 >= size) {
			say("the %s on standard input is longer than %zu "
			    "characters", what, size - 1);
			goto out;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*len = n;
	r = 0;
out:
	buf[r == 0 ? n : 0] = '\0';
	if (r != 0)
		ac_wipe(buf, size);
	ac_wipe(&c, sizeof c);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (tty)
		fputc('\n', stderr);
	return r;
}

/* ---- output ------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629 section 4), or 0
 * when the bytes there are not one. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* no overlong forms */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* no surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* nothing past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Writes s as a JSON string (RFC 8259 section 7) on stdout; NULL and ""
 * are written as null when empty_null is set.  Bytes that are not UTF-8
 * become U+FFFD so the output is always valid JSON. */
static void
json_str(const char *s, int empty_null)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL || (empty_null && *s == '\0')) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", stdout);
		else
			fwrite(p, 1, n, stdout);
		p += n == 0 ? 1 : n;
	}
	putchar('"');
}

/* Writes "key": as the start of a JSON member, with a comma before all but
 * the first member of an object. */
static void
json_key(const char *key, int *first)
{
	printf("%s\"%s\": ", *first ? "" : ", ", key);
	*first = 0;
}

/* A Unix time as ISO 8601 in UTC ("2026-03-01T12:00:00Z"); 0 gives "-". */
static void
fmt_time(int64_t t, char *buf, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "-");
}

/* A time member for JSON: null for 0, else the ISO 8601 string. */
static void
json_time(const char *key, int64_t t, int *first)
{
	char buf[32];

	json_key(key, first);
	if (t == 0) {
		fputs("null", stdout);
		return;
	}
	fmt_time(t, buf, sizeof buf);
	json_str(buf, 0);
}

/* Copies s into a table cell, control characters replaced by '?' so that a
 * stored description cannot drive the terminal; "" becomes "-". */
static void
cell(char *dst, const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i + 1 < CELL; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Display width of a cell: UTF-8 continuation bytes take no column. */
static size_t
cell_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Table pass 1: widens w to fit a row. */
static void
row_widen(size_t *w, char c[][CELL], size_t ncols)
{
	size_t i;

	for (i = 0; i < ncols; i++)
		if (cell_width(c[i]) > w[i])
			w[i] = cell_width(c[i]);
}

/* Table pass 2: prints a row, columns two spaces apart, the last one
 * unpadded. */
static void
row_print(const size_t *w, char c[][CELL], size_t ncols)
{
	size_t i;

	for (i = 0; i < ncols; i++) {
		fputs(c[i], stdout);
		if (i + 1 < ncols)
			printf("%*s", (int)(w[i] - cell_width(c[i]) + 2), "");
	}
	putchar('\n');
}

/* ---- arguments ---------------------------------------------------- */

static void
cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: tokenctl -c CONF %s%s%s\n  %s\n", c->name,
	    c->args[0] ? " " : "", c->args, c->help);
}

/* Finds --name (with the value after '=' or in the next argument). */
static int
take_opt(const struct cmd *c, const struct opt *opts, int argc, char **argv,
    int *i)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	const struct opt *o;

	for (o = opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == len && strncmp(o->name, a, len) == 0)
			break;
	if (o == NULL || o->name == NULL) {
		say("%s: unknown option '%.*s' (see 'tokenctl %s --help')",
		    c->name, (int)len + 2, argv[*i], c->name);
		return EXIT_USAGE;
	}
	if (o->value == NULL) {
		if (eq != NULL) {
			say("%s: option --%s takes no value", c->name, o->name);
			return EXIT_USAGE;
		}
		*o->flag = 1;
		return 0;
	}
	if (*o->value != NULL) {
		say("%s: option --%s given twice", c->name, o->name);
		return EXIT_USAGE;
	}
	if (eq == NULL && *i + 1 >= argc) {
		say("%s: option --%s needs a value", c->name, o->name);
		return EXIT_USAGE;
	}
	*o->value = eq ? eq + 1 : argv[++*i];
	return 0;
}

/*
 * Parses a command's arguments (argv[0] is the command name): the options
 * in opts, -c/--config anywhere, -h/--help, and between min and max
 * positional arguments into pos.  Returns 0, HELP_SHOWN, or EXIT_USAGE
 * after printing the problem.
 */
static int
parse_opts(struct cli *cli, const struct cmd *c, int argc, char **argv,
    const struct opt *opts, char **pos, int min, int max, int *npos)
{
	int i, r, only_pos = 0;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
		} else if (!only_pos && (strcmp(a, "-h") == 0 ||
		    strcmp(a, "--help") == 0)) {
			cmd_usage(stdout, c);
			return HELP_SHOWN;
		} else if (!only_pos && strcmp(a, "-c") == 0) {
			if (i + 1 >= argc) {
				say("option -c needs a config file");
				return EXIT_USAGE;
			}
			cli->conf = argv[++i];
		} else if (!only_pos && strncmp(a, "--config=", 9) == 0) {
			cli->conf = a + 9;
		} else if (!only_pos && strncmp(a, "--", 2) == 0) {
			if ((r = take_opt(c, opts, argc, argv, &i)) != 0)
				return r;
		} else if (!only_pos && a[0] == '-' && a[1] != '\0') {
			say("%s: unknown option '%s' (see 'tokenctl %s --help')",
			    c->name, a, c->name);
			return EXIT_USAGE;
		} else if (*npos >= max) {
			say("%s: unexpected argument '%s'", c->name, a);
			return EXIT_USAGE;
		} else {
			pos[(*npos)++] = argv[i];
		}
	}
	if (*npos < min) {
		say("%s: missing argument (usage: tokenctl %s %s)", c->name,
		    c->name, c->args);
		return EXIT_USAGE;
	}
	return 0;
}

/* 1 when s names a valid serial; prints why not otherwise. */
static int
check_serial(const char *s)
{
	if (ac_serial_valid(s))
		return 1;
	say("invalid serial: use 1 to %d characters of A-Z a-z 0-9 . _ -",
	    AC_MAX_SERIAL);
	return 0;
}

/* 1 when s is a usable user name (1..AC_MAX_USER bytes, no control
 * characters); prints why not otherwise. */
static int
check_user(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > AC_MAX_USER) {
		say("invalid user name: use 1 to %d bytes", AC_MAX_USER);
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			say("invalid user name: control character at "
			    "position %zu", i + 1);
			return 0;
		}
	return 1;
}

/* Parses a decimal number in [min, max]; 1 ok, 0 not (nothing printed). */
static int
parse_num(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

/* ---- the store ---------------------------------------------------- */

/* Opens the context; prints the reason (naming the file or key at fault)
 * and returns EXIT_FAIL when it cannot. */
static int
cli_open(struct cli *cli)
{
	char err[AC_ERRBUF] = "";
	int r;

	r = ac_ctx_open(cli->conf, &cli->ctx, err, sizeof err);
	if (r < 0) {
		cli->ctx = NULL;
		if (err[0] != '\0')
			say("%s", err);
		else
			say("%s: %s", cli->conf, ac_strerror(r));
		return EXIT_FAIL;
	}
	return 0;
}

/* Reports a failed token operation in one line and returns EXIT_FAIL. */
static int
op_fail(const char *serial, int r, const char *err)
{
	if (r == AC_ERR_NOT_FOUND)
		say("no token with serial '%s'", serial);
	else if (err != NULL && err[0] != '\0')
		say("token '%s': %s", serial, err);
	else if (r == AC_ERR_EXISTS)
		say("a token with serial '%s' exists already", serial);
	else
		say("token '%s': %s", serial, ac_strerror(r));
	return EXIT_FAIL;
}

/* Reads a token for display; prints and returns EXIT_FAIL if it cannot. */
static int
get_token(struct cli *cli, const char *serial, struct ac_token *t)
{
	int r = ac_store_token_get(ac_ctx_store(cli->ctx), serial, t);

	return r < 0 ? op_fail(serial, r, NULL) : 0;
}

/* ---- init, upgrade ------------------------------------------------ */

static int
cmd_init(struct cli *cli, int argc, char **argv)
{
	char err[AC_ERRBUF] = "", *pos[MAX_POS];
	int r, npos;

	if ((r = parse_opts(cli, find_cmd("init"), argc, argv, NULL, pos, 0, 0,
	    &npos)) != 0)
		return r;
	r = ac_ctx_init(cli->conf, err, sizeof err);
	if (r < 0) {
		if (err[0] != '\0')
			say("init: %s", err);
		else
			say("init: %s", ac_strerror(r));
		return EXIT_FAIL;
	}
	printf("created the master key and the token store for %s\n",
	    cli->conf);
	return EXIT_OK;
}

/* Records an upgrade in the event log once the store is at the current
 * schema (the log needs the context, which refuses an old schema). */
static int
log_upgrade(struct cli *cli, int from, int to)
{
	char reason[64];
	struct ac_event ev = { 0 };
	int r;

	if ((r = cli_open(cli)) != 0)
		return r;
	snprintf(reason, sizeof reason, "schema %d to %d", from, to);
	ev.actor = cli->actor;
	ev.action = "upgrade";
	ev.source = cli->who.source;
	ev.result = "ok";
	ev.reason = reason;
	if ((r = ac_event_log(cli->ctx, &ev)) < 0) {
		say("upgrade: the store was upgraded but its event could not "
		    "be written: %s", ac_strerror(r));
		return EXIT_FAIL;
	}
	return 0;
}

static int
cmd_upgrade(struct cli *cli, int argc, char **argv)
{
	char err[AC_ERRBUF] = "", *pos[MAX_POS];
	ac_config *cfg = NULL;
	ac_store *s = NULL;
	int r, npos, from = 0, to = 0, rc = EXIT_FAIL;

	if ((r = parse_opts(cli, find_cmd("upgrade"), argc, argv, NULL, pos, 0,
	    0, &npos)) != 0)
		return r;
	if ((r = ac_config_load(cli->conf, &cfg, err, sizeof err)) < 0 ||
	    (r = ac_store_open(cfg, 1, &s, err, sizeof err)) < 0) {
		say("upgrade: %s", err[0] ? err : ac_strerror(r));
		goto out;
	}
	if ((r = ac_store_upgrade(s, &from, &to)) < 0) {
		say("upgrade: %s (the store was left unchanged)",
		    ac_strerror(r));
		goto out;
	}
	ac_store_close(s);
	s = NULL;
	if (from != to && log_upgrade(cli, from, to) != 0)
		goto out;
	if (from == to)
		printf("the store is at schema %d: nothing to do\n", to);
	else
		printf("upgraded the store from schema %d to %d\n", from, to);
	rc = EXIT_OK;
out:
	ac_store_close(s);
	ac_config_free(cfg);
	return rc;
}

/* ---- add ---------------------------------------------------------- */

struct add_args {
	const char	*type, *user, *serial, *algorithm, *digits, *period,
			*counter, *description, *email;
	int		 hex;
};

/* Checks add's options and fills spec; prints the first problem. */
static int
add_spec(const struct add_args *a, struct ac_token_spec *spec)
{
	unsigned long long v = 0;

	if (a->type == NULL || a->user == NULL || a->serial == NULL) {
		say("add: --type, --user and --serial are required");
		return EXIT_USAGE;
	}
	if (ac_token_type_parse(a->type, &spec->type) < 0) {
		say("add: --type must be totp, hotp or email, not '%s'",
		    a->type);
		return EXIT_USAGE;
	}
	/* E-mail tokens are HOTP tokens whose codes the check mails to
	 * --email on demand (check.c). */
	if ((spec->type == AC_TOKEN_EMAIL) != (a->email != NULL)) {
		say("add: --email ADDRESS goes with --type email, and only "
		    "with it");
		return EXIT_USAGE;
	}
	spec->email = a->email;
	if (!check_serial(a->serial) || !check_user(a->user))
		return EXIT_USAGE;
	spec->serial = a->serial;
	spec->owner = a->user;
	if (a->algorithm != NULL && ac_algo_parse(a->algorithm,
	    &spec->algo) < 0) {
		say("add: --algorithm must be sha1, sha256 or sha512");
		return EXIT_USAGE;
	}
	if (a->digits != NULL && (!parse_num(a->digits, 6, 8, &v) ||
	    v == 7)) {
		say("add: --digits must be 6 or 8");
		return EXIT_USAGE;
	}
	spec->digits = a->digits ? (int)v : 6;
	if (a->period != NULL && (spec->type != AC_TOKEN_TOTP ||
	    !parse_num(a->period, 30, 60, &v) || (v != 30 && v != 60))) {
		say("add: --period is for TOTP tokens and must be 30 or 60");
		return EXIT_USAGE;
	}
	spec->period = a->period ? (int)v : 30;
	if (a->counter != NULL && (spec->type == AC_TOKEN_TOTP ||
	    !parse_num(a->counter, 0, INT64_MAX, &v))) {
		say("add: --counter is for HOTP and e-mail tokens and must be "
		    "a whole number");
		return EXIT_USAGE;
	}
	spec->counter = a->counter ? (uint64_t)v : 0;
	if (a->description != NULL &&
	    strlen(a->description) > AC_MAX_DESCRIPTION) {
		say("add: --description is longer than %d bytes",
		    AC_MAX_DESCRIPTION);
		return EXIT_USAGE;
	}
	spec->description = a->description;
	return 0;
}

/* Reads the secret from stdin and decodes it into sec; the text is wiped
 * before returning.  Prints the problem (with the bad character's position,
 * from the decoder) and returns EXIT_FAIL on bad input. */
static int
read_secret(int hex, uint8_t sec[AC_MAX_SECRET], size_t *n)
{
	char line[2 * AC_MAX_SECRET_B32], err[AC_ERRBUF] = "";
	size_t len = 0;
	int r, rc = EXIT_FAIL;

	if (read_secret_line(hex ? "Secret (hex): " : "Secret (Base32): ",
	    "secret", line, sizeof line, &len) != 0)
		goto out;
	if (len == 0) {
		say("add: no secret on standard input (Base32, or hex with "
		    "--hex)");
		goto out;
	}
	r = hex ? ac_hex_decode(line, sec, AC_MAX_SECRET, n, err, sizeof err)
	    : ac_base32_decode(line, sec, AC_MAX_SECRET, n, err, sizeof err);
	if (r == AC_ERR_TOO_LONG) {
		say("add: the secret is longer than %d bytes", AC_MAX_SECRET);
		goto out;
	}
	if (r < 0 || *n == 0) {
		say("add: bad %s secret: %s", hex ? "hex" : "Base32",
		    err[0] ? err : "it is empty");
		goto out;
	}
	rc = 0;
out:
	ac_wipe(line, sizeof line);
	if (rc != 0)
		ac_wipe(sec, AC_MAX_SECRET);
	return rc;
}

static int
cmd_add(struct cli *cli, int argc, char **argv)
{
	struct add_args a = { 0 };
	const struct opt opts[] = {
		{ "type", &a.type, NULL }, { "user", &a.user, NULL },
		{ "serial", &a.serial, NULL },
		{ "algorithm", &a.algorithm, NULL },
		{ "digits", &a.digits, NULL }, { "period", &a.period, NULL },
		{ "counter", &a.counter, NULL }, { "hex", NULL, &a.hex },
		{ "description", &a.description, NULL },
		{ "email", &a.email, NULL }, { NULL, NULL, NULL },
	};
	struct ac_token_spec spec = { 0 };
	uint8_t sec[AC_MAX_SECRET];
	char err[AC_ERRBUF] = "", *pos[MAX_POS];
	size_t n = 0;
	int r, npos, rc;

	if ((r = parse_opts(cli, find_cmd("add"), argc, argv, opts, pos, 0, 0,
	    &npos)) != 0)
		return r;
	if ((rc = add_spec(&a, &spec)) != 0)
		return rc;
	if ((rc = read_secret(a.hex, sec, &n)) != 0)
		return rc;
	if ((rc = cli_open(cli)) == 0) {
		r = ac_token_add(cli->ctx, &cli->who, &spec, sec, n, err,
		    sizeof err);
		rc = r < 0 ? op_fail(spec.serial, r, err) : EXIT_OK;
	}
	ac_wipe(sec, sizeof sec);
	if (rc == EXIT_OK)
		printf("added %s token %s for %s\n",
		    ac_token_type_name(spec.type), spec.serial, spec.owner);
	if (rc == EXIT_OK && n < 16)
		say("warning: the secret is only %zu bytes; RFC 4226 section 4 "
		    "asks for at least 16 (20 recommended)", n);
	return rc;
}

/* ---- list, show ----------------------------------------------------- */

static const char *
state_name(enum ac_token_state s)
{
	switch (s) {
	case AC_STATE_PENDING:	return "pending";
	case AC_STATE_ACTIVE:	return "active";
	case AC_STATE_DISABLED:	return "disabled";
	}
	return "unknown";
}

/* "forever", "-", or the end time of a bypass. */
static void
fmt_bypass(const struct ac_token *t, int64_t now, char *buf, size_t n)
{
	if (t->bypass_until == AC_FOREVER)
		snprintf(buf, n, "forever");
	else if (t->bypass_until == 0 || t->bypass_until <= now)
		snprintf(buf, n, "-");
	else
		fmt_time(t->bypass_until, buf, n);
}

/* One token as a JSON object (no secret, no PIN hash, no sealed bytes). */
static void
token_json(const struct ac_token *t, int64_t now)
{
	int f = 1;

	putchar('{');
	json_key("serial", &f);		json_str(t->serial, 0);
	json_key("type", &f);		json_str(ac_token_type_name(t->type), 0);
	json_key("user", &f);		json_str(t->owner, 1);
	json_key("status", &f);
	json_str(ac_token_status_name(ac_token_status(t, now)), 0);
	json_key("state", &f);		json_str(state_name(t->state), 0);
	json_key("algorithm", &f);	json_str(ac_algo_name(t->algo), 0);
	json_key("digits", &f);		printf("%d", t->digits);
	json_key("period", &f);
	if (t->type == AC_TOKEN_TOTP)
		printf("%d", t->period);
	else
		fputs("null", stdout);
	json_key("counter", &f);	printf("%" PRIu64, t->counter);
	json_key("drift", &f);		printf("%" PRId64, t->drift);
	json_key("fail_count", &f);	printf("%d", t->fail_count);
	json_time("locked_until", t->locked_until > now ? t->locked_until : 0,
	    &f);
	if (t->bypass_until == AC_FOREVER) {
		json_key("bypass_until", &f);
		json_str("forever", 0);
	} else {
		json_time("bypass_until",
		    t->bypass_until > now ? t->bypass_until : 0, &f);
	}
	json_key("has_pin", &f);	fputs(t->has_pin ? "true" : "false", stdout);
	json_key("key_id", &f);		json_str(t->key_id, 1);
	json_key("description", &f);	json_str(t->description, 0);
	json_key("email", &f);		json_str(t->email, 1);
	json_time("created", t->created, &f);
	json_time("activated", t->activated, &f);
	json_time("last_used", t->last_used, &f);
	json_time("expires", t->expires, &f);
	putchar('}');
}

static const char *const list_head[] = { "SERIAL", "TYPE", "USER",
	"STATUS", "ALGORITHM", "DIGITS", "PERIOD", "PIN", "BYPASS",
	"LAST USED", "DESCRIPTION" };
#define LIST_COLS	(sizeof list_head / sizeof list_head[0])

static void
token_cells(const struct ac_token *t, int64_t now, char c[][CELL])
{
	char buf[32];

	cell(c[0], t->serial);
	cell(c[1], ac_token_type_name(t->type));
	cell(c[2], t->owner);
	cell(c[3], ac_token_status_name(ac_token_status(t, now)));
	cell(c[4], ac_algo_name(t->algo));
	snprintf(buf, sizeof buf, "%d", t->digits);
	cell(c[5], buf);
	snprintf(buf, sizeof buf, "%ds", t->period);
	cell(c[6], t->type == AC_TOKEN_TOTP ? buf : "-");
	cell(c[7], t->has_pin ? "yes" : "no");
	fmt_bypass(t, now, buf, sizeof buf);
	cell(c[8], buf);
	fmt_time(t->last_used, buf, sizeof buf);
	cell(c[9], buf);
	cell(c[10], t->description);
}

/* Prints tokens as an aligned table: one pass for widths, one to print. */
static void
token_table(const struct ac_token *t, size_t n, int64_t now)
{
	static char c[MAX_COLS][CELL];
	size_t w[MAX_COLS] = { 0 }, i, k;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < LIST_COLS; k++)
			cell(c[k], list_head[k]);
		if (pass == 0)
			row_widen(w, c, LIST_COLS);
		else
			row_print(w, c, LIST_COLS);
		for (i = 0; i < n; i++) {
			token_cells(&t[i], now, c);
			if (pass == 0)
				row_widen(w, c, LIST_COLS);
			else
				row_print(w, c, LIST_COLS);
		}
	}
}

static int
cmd_list(struct cli *cli, int argc, char **argv)
{
	const char *user = NULL;
	int json = 0, r, npos, rc;
	const struct opt opts[] = { { "user", &user, NULL },
		{ "json", NULL, &json }, { NULL, NULL, NULL } };
	struct ac_token_filter f = { NULL, -1, 0 };
	struct ac_token *t = NULL;
	char *pos[MAX_POS];
	size_t n = 0, i;

	if ((r = parse_opts(cli, find_cmd("list"), argc, argv, opts, pos, 0, 0,
	    &npos)) != 0)
		return r;
	if (user != NULL && !check_user(user))
		return EXIT_USAGE;
	if ((rc = cli_open(cli)) != 0)
		return rc;
	f.owner = user;
	if ((r = ac_store_token_list(ac_ctx_store(cli->ctx), &f, &t, &n)) < 0) {
		say("list: %s", ac_strerror(r));
		return EXIT_FAIL;
	}
	if (json) {
		putchar('[');
		for (i = 0; i < n; i++) {
			fputs(i ? ",\n " : "", stdout);
			token_json(&t[i], ac_ctx_now(cli->ctx));
		}
		puts("]");
	} else if (n == 0) {
		puts(user ? "no tokens for this user" : "no tokens");
	} else {
		token_table(t, n, ac_ctx_now(cli->ctx));
	}
	if (t != NULL)
		ac_wipe(t, n * sizeof *t);
	free(t);
	return EXIT_OK;
}

/* One "name: value" line of `show`, the value cleaned like a table cell. */
static void
show_line(const char *name, const char *value)
{
	static char c[CELL];

	cell(c, value);
	printf("%-14s%s\n", name, c);
}

static void
show_human(const struct ac_token *t, int64_t now)
{
	char buf[64];

	show_line("serial:", t->serial);
	show_line("type:", ac_token_type_name(t->type));
	show_line("user:", t->owner);
	show_line("status:", ac_token_status_name(ac_token_status(t, now)));
	show_line("algorithm:", ac_algo_name(t->algo));
	snprintf(buf, sizeof buf, "%d", t->digits);
	show_line("digits:", buf);
	if (t->type == AC_TOKEN_TOTP) {
		snprintf(buf, sizeof buf, "%d s", t->period);
		show_line("period:", buf);
		snprintf(buf, sizeof buf, "%" PRId64 " steps", t->drift);
		show_line("drift:", buf);
	} else {
		snprintf(buf, sizeof buf, "%" PRIu64, t->counter);
		show_line("counter:", buf);
	}
	snprintf(buf, sizeof buf, "%d", t->fail_count);
	show_line("failures:", buf);
	fmt_time(t->locked_until > now ? t->locked_until : 0, buf, sizeof buf);
	show_line("locked until:", buf);
	fmt_bypass(t, now, buf, sizeof buf);
	show_line("bypass until:", buf);
	show_line("pin:", t->has_pin ? "yes" : "no");
	show_line("description:", t->description);
	if (t->type == AC_TOKEN_EMAIL)
		show_line("email:", t->email);
	show_line("key id:", t->key_id);
	fmt_time(t->created, buf, sizeof buf);
	show_line("created:", buf);
	fmt_time(t->activated, buf, sizeof buf);
	show_line("activated:", buf);
	fmt_time(t->last_used, buf, sizeof buf);
	show_line("last used:", buf);
	if (t->state == AC_STATE_PENDING) {
		fmt_time(t->expires, buf, sizeof buf);
		show_line("expires:", buf);
	}
}

static int
cmd_show(struct cli *cli, int argc, char **argv)
{
	int json = 0, r, npos, rc;
	const struct opt opts[] = { { "json", NULL, &json },
		{ NULL, NULL, NULL } };
	struct ac_token t;
	char *pos[MAX_POS];

	if ((r = parse_opts(cli, find_cmd("show"), argc, argv, opts, pos, 1, 1,
	    &npos)) != 0)
		return r;
	if (!check_serial(pos[0]))
		return EXIT_USAGE;
	if ((rc = cli_open(cli)) != 0 || (rc = get_token(cli, pos[0], &t)) != 0)
		return rc;
	if (json) {
		token_json(&t, ac_ctx_now(cli->ctx));
		putchar('\n');
	} else {
		show_human(&t, ac_ctx_now(cli->ctx));
	}
	ac_wipe(&t, sizeof t);
	return EXIT_OK;
}

/* ---- enable, disable, delete, unlock ------------------------------ */

typedef int (*simple_op)(ac_ctx *, const struct ac_who *, const char *);

/* The commands that take one serial and nothing else. */
static int
run_simple(struct cli *cli, int argc, char **argv, simple_op fn,
    const char *done)
{
	char *pos[MAX_POS];
	int r, npos, rc;

	if ((r = parse_opts(cli, find_cmd(argv[0]), argc, argv, NULL, pos, 1, 1,
	    &npos)) != 0)
		return r;
	if (!check_serial(pos[0]))
		return EXIT_USAGE;
	if ((rc = cli_open(cli)) != 0)
		return rc;
	if ((r = fn(cli->ctx, &cli->who, pos[0])) < 0)
		return op_fail(pos[0], r, NULL);
	printf("%s %s\n", done, pos[0]);
	return EXIT_OK;
}

static int
cmd_enable(struct cli *cli, int argc, char **argv)
{
	return run_simple(cli, argc, argv, ac_token_enable, "enabled");
}

static int
cmd_disable(struct cli *cli, int argc, char **argv)
{
	return run_simple(cli, argc, argv, ac_token_disable, "disabled");
}

static int
cmd_delete(struct cli *cli, int argc, char **argv)
{
	return run_simple(cli, argc, argv, ac_token_delete, "deleted");
}

static int
cmd_unlock(struct cli *cli, int argc, char **argv)
{
	return run_simple(cli, argc, argv, ac_token_unlock, "unlocked");
}

/* ---- resync ------------------------------------------------------- */

/* 1 when s is 6 to AC_MAX_CODE digits; prints why not otherwise. */
static int
check_code(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (i < n || n < 6 || n > AC_MAX_CODE) {
		say("resync: a code is 6 or 8 digits");
		return 0;
	}
	return 1;
}

static int
cmd_resync(struct cli *cli, int argc, char **argv)
{
	char err[AC_ERRBUF] = "", *pos[MAX_POS];
	struct ac_token t;
	int r, npos, rc, digits;

	if ((r = parse_opts(cli, find_cmd("resync"), argc, argv, NULL, pos, 3,
	    3, &npos)) != 0)
		return r;
	if (!check_serial(pos[0]) || !check_code(pos[1]) || !check_code(pos[2]))
		return EXIT_USAGE;
	if ((rc = cli_open(cli)) != 0 || (rc = get_token(cli, pos[0], &t)) != 0)
		return rc;
	digits = t.digits;
	ac_wipe(&t, sizeof t);
	if ((int)strlen(pos[1]) != digits || (int)strlen(pos[2]) != digits) {
		say("resync: token '%s' shows %d-digit codes", pos[0], digits);
		return EXIT_FAIL;
	}
	r = ac_token_resync(cli->ctx, &cli->who, pos[0], pos[1], pos[2], err,
	    sizeof err);
	if (r == AC_ERR_DENIED && err[0] == '\0') {
		say("resync: token '%s': the two codes were not found as "
		    "consecutive codes in the resync window", pos[0]);
		return EXIT_FAIL;
	}
	if (r < 0)
		return op_fail(pos[0], r, err);
	printf("resynchronised %s\n", pos[0]);
	return EXIT_OK;
}

/* ---- bypass ------------------------------------------------------- */

/* Reads exactly `width` digits at *p as a number and advances *p. */
static int
digits_at(const char **p, int width, int *out)
{
	int v = 0, i;

	for (i = 0; i < width; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 0;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += width;
	*out = v;
	return 1;
}

/* The zone of an ISO 8601 time: "" (local time), "Z", "+HH:MM", "-HHMM".
 * *local is set for no zone; *off gets the offset east of UTC in seconds. */
static int
parse_zone(const char *p, int *local, long *off)
{
	int h, m, sign;

	*local = *p == '\0';
	*off = 0;
	if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
		return 1;
	if (*p != '+' && *p != '-')
		return 0;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits_at(&p, 2, &h))
		return 0;
	if (*p == ':')
		p++;
	if (!digits_at(&p, 2, &m) || *p != '\0' || h > 23 || m > 59)
		return 0;
	*off = sign * (h * 3600L + m * 60L);
	return 1;
}

/*
 * Parses an ISO 8601 date or date-time: YYYY-MM-DD, optionally followed by
 * T (or a space) HH:MM[:SS] and a zone.  Without a zone the time is local,
 * as ISO 8601 section 4.2.2 reads it.  Returns 1 and *out, or 0.
 */
static int
parse_iso8601(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p = s;
	int local, y, mo, d, h = 0, mi = 0, sec = 0;
	long off;
	time_t t;

	if (!digits_at(&p, 4, &y) || *p++ != '-' || !digits_at(&p, 2, &mo) ||
	    *p++ != '-' || !digits_at(&p, 2, &d))
		return 0;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!digits_at(&p, 2, &h) || *p++ != ':' ||
		    !digits_at(&p, 2, &mi))
			return 0;
		if (*p == ':' && (p++, !digits_at(&p, 2, &sec)))
			return 0;
	}
	if (!parse_zone(p, &local, &off) || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = local ? mktime(&tm) : timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)	/* 31 Feb normalised away */
		return 0;
	*out = (int64_t)t - (local ? 0 : off);
	return 1;
}

static int
cmd_bypass(struct cli *cli, int argc, char **argv)
{
	const char *until = NULL;
	int forever = 0, off = 0, r, npos, rc;
	const struct opt opts[] = { { "until", &until, NULL },
		{ "forever", NULL, &forever }, { "off", NULL, &off },
		{ NULL, NULL, NULL } };
	char err[AC_ERRBUF] = "", when[32], *pos[MAX_POS];
	int64_t t = 0;

	if ((r = parse_opts(cli, find_cmd("bypass"), argc, argv, opts, pos, 1,
	    1, &npos)) != 0)
		return r;
	if ((until != NULL) + forever + off != 1) {
		say("bypass: give exactly one of --until TIME, --forever, --off");
		return EXIT_USAGE;
	}
	if (!check_serial(pos[0]))
		return EXIT_USAGE;
	if (until != NULL && !parse_iso8601(until, &t)) {
		say("bypass: --until wants an ISO 8601 time such as "
		    "2030-12-31T18:00:00Z or 2030-12-31");
		return EXIT_USAGE;
	}
	if (forever)
		t = AC_FOREVER;
	if ((rc = cli_open(cli)) != 0)
		return rc;
	if (until != NULL && t <= ac_ctx_now(cli->ctx)) {
		say("bypass: --until %s is not in the future", until);
		return EXIT_FAIL;
	}
	r = ac_token_set_bypass(cli->ctx, &cli->who, pos[0], t, err,
	    sizeof err);
	if (r < 0)
		return op_fail(pos[0], r, err);
	fmt_time(t, when, sizeof when);
	if (off)
		printf("bypass off for %s\n", pos[0]);
	else if (forever)
		printf("bypass on for %s until switched off\n", pos[0]);
	else
		printf("bypass on for %s until %s\n", pos[0], when);
	return EXIT_OK;
}

/* ---- set-pin ------------------------------------------------------ */

/* Reads the PIN (twice on a terminal, to catch a typo nobody can see). */
static int
read_pin(char *pin, size_t size)
{
	char again[AC_MAX_PIN + 2];
	size_t n = 0, n2 = 0;
	int rc = EXIT_FAIL;

	if (read_secret_line("New PIN: ", "PIN", pin, size, &n) != 0)
		goto out;
	if (n < AC_MIN_PIN) {
		say("set-pin: a PIN has at least %d characters (use --clear "
		    "to remove the PIN)", AC_MIN_PIN);
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_secret_line("Repeat PIN: ", "PIN", again,
		    sizeof again, &n2) != 0)
			goto out;
		if (n != n2 || memcmp(pin, again, n) != 0) {
			say("set-pin: the two PINs differ");
			goto out;
		}
	}
	rc = 0;
out:
	ac_wipe(again, sizeof again);
	if (rc != 0)
		ac_wipe(pin, size);
	return rc;
}

static int
cmd_set_pin(struct cli *cli, int argc, char **argv)
{
	int clear = 0, r, npos, rc;
	const struct opt opts[] = { { "clear", NULL, &clear },
		{ NULL, NULL, NULL } };
	char pin[AC_MAX_PIN + 2] = "", err[AC_ERRBUF] = "", *pos[MAX_POS];

	if ((r = parse_opts(cli, find_cmd("set-pin"), argc, argv, opts, pos, 1,
	    1, &npos)) != 0)
		return r;
	if (!check_serial(pos[0]))
		return EXIT_USAGE;
	if (!clear && (rc = read_pin(pin, sizeof pin)) != 0)
		return rc;
	if ((rc = cli_open(cli)) == 0) {
		r = ac_token_set_pin(cli->ctx, &cli->who, pos[0],
		    clear ? NULL : pin, err, sizeof err);
		rc = r < 0 ? op_fail(pos[0], r, err) : EXIT_OK;
	}
	ac_wipe(pin, sizeof pin);
	if (rc == EXIT_OK)
		printf("%s the PIN of %s\n", clear ? "cleared" : "set", pos[0]);
	return rc;
}

/* ---- events ------------------------------------------------------- */

static const char *const ev_head[] = { "ID", "TIME", "ACTOR", "ACTION",
	"SERIAL", "USER", "RESOURCE", "SOURCE", "RESULT", "REASON" };
#define EV_COLS		(sizeof ev_head / sizeof ev_head[0])

struct ev_walk {
	size_t	w[MAX_COLS];
	int	pass;		/* 0 widths, 1 print, 2 JSON */
	int64_t	n;
};

static void
event_json(const struct ac_event_row *e)
{
	int f = 1;

	putchar('{');
	json_key("id", &f);		printf("%" PRId64, e->id);
	json_time("time", e->time, &f);
	json_key("actor", &f);		json_str(e->actor, 1);
	json_key("action", &f);		json_str(e->action, 1);
	json_key("serial", &f);		json_str(e->serial, 1);
	json_key("user", &f);		json_str(e->user, 1);
	json_key("resource", &f);	json_str(e->resource, 1);
	json_key("source", &f);		json_str(e->source, 1);
	json_key("result", &f);		json_str(e->result, 1);
	json_key("reason", &f);		json_str(e->reason, 1);
	putchar('}');
}

/* ac_store_event_each callback: one event in the current pass. */
static int
event_row(const struct ac_event_row *e, void *arg)
{
	static char c[MAX_COLS][CELL];
	struct ev_walk *w = arg;
	char buf[32];

	if (w->pass == 2) {
		fputs(w->n++ ? ",\n " : "", stdout);
		event_json(e);
		return 0;
	}
	snprintf(buf, sizeof buf, "%" PRId64, e->id);
	cell(c[0], buf);
	fmt_time(e->time, buf, sizeof buf);
	cell(c[1], buf);
	cell(c[2], e->actor);
	cell(c[3], e->action);
	cell(c[4], e->serial);
	cell(c[5], e->user);
	cell(c[6], e->resource);
	cell(c[7], e->source);
	cell(c[8], e->result);
	cell(c[9], e->reason);
	if (w->pass == 0)
		row_widen(w->w, c, EV_COLS);
	else
		row_print(w->w, c, EV_COLS);
	w->n++;
	return 0;
}

/* Prints the events matching f: JSON, or a table in two passes (widths,
 * then rows) so that a long log is never held in memory. */
static int
events_print(struct cli *cli, const struct ac_event_filter *f, int json)
{
	static char head[MAX_COLS][CELL];
	struct ev_walk w = { { 0 }, 0, 0 };
	ac_store *s = ac_ctx_store(cli->ctx);
	size_t k;
	int r;

	if (json) {
		w.pass = 2;
		putchar('[');
		r = ac_store_event_each(s, f, event_row, &w);
		puts("]");
	} else {
		for (k = 0; k < EV_COLS; k++)
			cell(head[k], ev_head[k]);
		row_widen(w.w, head, EV_COLS);
		r = ac_store_event_each(s, f, event_row, &w);
		if (r == 0 && w.n == 0) {
			puts("no events");
		} else if (r == 0) {
			row_print(w.w, head, EV_COLS);
			w.pass = 1;
			r = ac_store_event_each(s, f, event_row, &w);
		}
	}
	if (r < 0) {
		say("events: %s", ac_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Parses an anchor "ID:MAC" (a head printed by an earlier --verify): a
 * decimal event id and the 64 hex digits of its MAC.  1 ok, 0 not.
 */
static int
parse_anchor(const char *s, struct ac_event_head *a)
{
	char id[24];
	const char *colon = strchr(s, ':');
	unsigned long long v;
	size_t n = 0;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(id))
		return 0;
	memcpy(id, s, (size_t)(colon - s));
	id[colon - s] = '\0';
	if (!parse_num(id, 1, INT64_MAX, &v) || strlen(colon + 1) !=
	    2 * AC_HASH_LEN || ac_hex_decode(colon + 1, a->mac,
	    sizeof(a->mac), &n, NULL, 0) != 0 || n != AC_HASH_LEN)
		return 0;
	a->id = (int64_t)v;
	return 1;
}

/*
 * Walks the whole hash chain (events.h) and says where it breaks.  The
 * head it prints is what an admin keeps elsewhere and passes back with
 * --anchor: a chain cut at its newest end verifies on its own.
 */
static int
events_verify(struct cli *cli, const struct ac_event_head *anchor, int json)
{
	char err[AC_ERRBUF] = "", mac[2 * AC_HASH_LEN + 1] = "";
	struct ac_event_head head;
	int64_t count = 0, bad = 0;
	int r;

	r = ac_event_verify_head(cli->ctx, anchor, &head, &count, &bad, err,
	    sizeof err);
	if (r < 0 && r != AC_ERR_TAMPERED) {
		say("events: cannot verify the chain: %s",
		    err[0] ? err : ac_strerror(r));
		return EXIT_FAIL;
	}
	(void)ac_hex_encode(head.mac, sizeof(head.mac), mac, sizeof(mac));
	if (json) {
		printf("{\"verified\": %s, \"count\": %" PRId64,
		    r == 0 ? "true" : "false", count);
		if (r == 0)
			printf(", \"head\": \"%" PRId64 ":%s\"", head.id, mac);
		if (r < 0) {
			printf(", \"bad_id\": %" PRId64 ", \"error\": ", bad);
			json_str(err[0] ? err : ac_strerror(r), 0);
		}
		puts("}");
	} else if (r == 0) {
		printf("event chain intact: %" PRId64 " events verified\n"
		    "head: %" PRId64 ":%s\n(keep the head elsewhere; "
		    "--verify --anchor HEAD later shows whether the newest "
		    "events were deleted)\n", count, head.id, mac);
	}
	if (r < 0) {
		say("event chain broken at event %" PRId64 ": %s", bad,
		    err[0] ? err : ac_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
cmd_events(struct cli *cli, int argc, char **argv)
{
	const char *serial = NULL, *user = NULL, *anchor_s = NULL;
	int json = 0, verify = 0, r, npos, rc;
	const struct opt opts[] = { { "serial", &serial, NULL },
		{ "user", &user, NULL }, { "json", NULL, &json },
		{ "verify", NULL, &verify }, { "anchor", &anchor_s, NULL },
		{ NULL, NULL, NULL } };
	struct ac_event_filter f = { 0 };
	struct ac_event_head anchor;
	char *pos[MAX_POS];

	if ((r = parse_opts(cli, find_cmd("events"), argc, argv, opts, pos, 0,
	    0, &npos)) != 0)
		return r;
	if (verify && (serial != NULL || user != NULL)) {
		say("events: --verify checks the whole chain and takes no "
		    "--serial or --user");
		return EXIT_USAGE;
	}
	if (anchor_s != NULL && (!verify || !parse_anchor(anchor_s, &anchor))) {
		say("events: --anchor takes a head ID:MAC as --verify printed "
		    "it, and goes with --verify");
		return EXIT_USAGE;
	}
	if ((serial != NULL && !check_serial(serial)) ||
	    (user != NULL && !check_user(user)))
		return EXIT_USAGE;
	if ((rc = cli_open(cli)) != 0)
		return rc;
	if (verify)
		return events_verify(cli, anchor_s != NULL ? &anchor : NULL,
		    json);
	f.serial = serial;
	f.user = user;
	return events_print(cli, &f, json);
}

/* ---- main --------------------------------------------------------- */

static int cmd_help(struct cli *, int, char **);

static const struct cmd commands[] = {
	{ "init", cmd_init, "",
	  "create the master key and an empty token store" },
	{ "upgrade", cmd_upgrade, "",
	  "migrate the token store to this version's schema" },
	{ "add", cmd_add, "--type totp|hotp|email --user U --serial S "
	  "[--email ADDRESS] [--algorithm sha1|sha256|sha512] [--digits 6|8] "
	  "[--period 30|60] [--counter N] [--hex] [--description D]  < secret",
	  "add an active token from a known secret read from standard input "
	  "(Base32, or hex with --hex)" },
	{ "list", cmd_list, "[--user U] [--json]", "list tokens" },
	{ "show", cmd_show, "SERIAL [--json]",
	  "show one token (never its secret)" },
	{ "enable", cmd_enable, "SERIAL", "let a disabled token accept again" },
	{ "disable", cmd_disable, "SERIAL", "stop a token from accepting" },
	{ "delete", cmd_delete, "SERIAL", "delete a token for good" },
	{ "unlock", cmd_unlock, "SERIAL",
	  "clear a token's failure count and lock" },
	{ "resync", cmd_resync, "SERIAL CODE1 CODE2",
	  "resynchronise a token with two consecutive codes" },
	{ "bypass", cmd_bypass, "SERIAL --until ISO8601|--forever|--off",
	  "accept without a code until a time, for good, or no longer" },
	{ "set-pin", cmd_set_pin, "SERIAL [--clear]  < PIN",
	  "set the token PIN from standard input, or remove it" },
	{ "events", cmd_events,
	  "[--serial S] [--user U] [--json] [--verify [--anchor ID:MAC]]",
	  "show the event log, or verify its hash chain (and that an earlier "
	  "head is still in it)" },
	{ "help", cmd_help, "", "show this help" },
	{ NULL, NULL, NULL, NULL },
};

static const struct cmd *
find_cmd(const char *name)
{
	const struct cmd *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
usage(FILE *f)
{
	const struct cmd *c;

	fprintf(f, "usage: tokenctl [-c CONF] COMMAND [options]\n"
	    "  -c CONF   the configuration file (default %s)\n\n"
	    "commands:\n", TOKENCTL_DEFAULT_CONF);
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "\n'tokenctl COMMAND --help' shows a command's options.\n"
	    "Exit status: 0 done, 1 failed, 2 usage error.\n");
}

static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

/* The actor for events: the login of the real uid, else $USER, else the
 * number. */
static void
set_actor(struct cli *cli)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *name = pw != NULL ? pw->pw_name : getenv("USER");

	if (name != NULL && *name != '\0')
		snprintf(cli->actor, sizeof cli->actor, "tokenctl:%s", name);
	else
		snprintf(cli->actor, sizeof cli->actor, "tokenctl:uid%lu",
		    (unsigned long)getuid());
	cli->who.actor = cli->actor;
	cli->who.source = "cli";
}

int
main(int argc, char **argv)
{
	struct cli cli = { TOKENCTL_DEFAULT_CONF, NULL, { NULL, NULL }, "" };
	const struct cmd *c;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cli.conf = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cli.conf = argv[i] + 9;
		} else if (strcmp(argv[i], "-c") == 0) {
			say("option -c needs a config file");
			return EXIT_USAGE;
		} else {
			say("unknown option '%s' (see 'tokenctl --help')",
			    argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((c = find_cmd(argv[i])) == NULL) {
		say("unknown command '%s' (see 'tokenctl --help')", argv[i]);
		return EXIT_USAGE;
	}
	set_actor(&cli);
	rc = c->run(&cli, argc - i, argv + i);
	if (rc == HELP_SHOWN)
		rc = EXIT_OK;
	ac_ctx_free(cli.ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		say("cannot write the output: %s", strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
