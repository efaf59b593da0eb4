/*
 * config.c - the HDF configuration file (DESIGN.md 6).
 *
 * ClearSilver's HDF parser is lax: an unclosed `{` is accepted, a stray `}`
 * at top level silently ends the file, text after `name {` on the same line
 * is dropped, and an unterminated `<<` value swallows the rest of the file.
 * A config that loses keys that way fails later, far from its cause, or
 * worse runs with defaults.  So we read the file once ourselves (bounded by
 * AC_MAX_CONFIG_FILE), check its structure line by line with messages that
 * name the line, and only then hand the same bytes to hdf_read_string.
 *
 * Includes: `#include` lines are refused.  The config is one file
 * (DESIGN.md 6), so what `tokenctl` checked is what every process runs
 * with, and no line can pull in a file from elsewhere through ClearSilver's
 * search path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ClearSilver.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "seal.h"

/* Deeper nesting than this is certainly a mistake in a config file. */
#define MAX_DEPTH	32

struct ac_config {
	HDF	*hdf;
	char	*file;		/* "" for parsed text */
	char	*dir;		/* absolute; "" when paths stay as written */
};

/* State of the structure check, one line at a time. */
struct scan {
	const char	*file;
	const char	*p;		/* start of the next line */
	const char	*end;
	int		 lineno;
	int		 depth;
	int		 open_line[MAX_DEPTH];
	char		*err;
	size_t		 errlen;
};

/* The file name for messages: parsed text has none. */
static const char *
shown_name(const char *file)
{
	return file != NULL && *file != '\0' ? file : "config";
}

static int
scan_fail(struct scan *sc, int line, const char *what)
{
	ac_set_err(sc->err, sc->errlen, "%s:%d: %s", shown_name(sc->file), line,
	    what);
	return AC_ERR_CONFIG;
}

/* Cuts the next line out of the text: [*ls, *le) without the newline. */
static int
next_line(struct scan *sc, const char **ls, const char **le)
{
	const char *nl;

	if (sc->p >= sc->end)
		return 0;
	nl = memchr(sc->p, '\n', (size_t)(sc->end - sc->p));
	*ls = sc->p;
	*le = nl != NULL ? nl : sc->end;
	sc->p = nl != NULL ? nl + 1 : sc->end;
	sc->lineno++;
	return 1;
}

static const char *
skip_ws(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s;
}

static int
is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '.';
}

/*
 * Skips the body of `name << TERM`.  ClearSilver ends it at the first line
 * that starts with TERM followed by white space (the newline counts), and
 * otherwise reads to the end of the file.
 */
static int
skip_heredoc(struct scan *sc, const char *term, const char *tend)
{
	size_t tl = (size_t)(tend - term);
	int start = sc->lineno;
	const char *ls, *le;

	while (next_line(sc, &ls, &le)) {
		if ((size_t)(le - ls) >= tl && memcmp(ls, term, tl) == 0 &&
		    (ls + tl < le ? isspace((unsigned char)ls[tl]) :
		    le < sc->end))
			return 0;
	}
	return scan_fail(sc, start, "multi-line value (<<) is never ended "
	    "by its terminator line");
}

/* Skips an attribute list `[a, b=c, d="x"]`; returns its end or NULL. */
static const char *
skip_attrs(const char *s, const char *e)
{
	int quoted = 0;

	for (s++; s < e; s++) {
		if (quoted && *s == '\\' && s + 1 < e)
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == ']')
			return s + 1;
	}
	return NULL;
}

/* Checks one `name ...` line; s points at its first non-blank. */
static int
scan_assignment(struct scan *sc, const char *s, const char *e)
{
	const char *name = s;

	while (s < e && is_name_char(*s))
		s++;
	if (s == name)
		return scan_fail(sc, sc->lineno, "a line must start with a "
		    "name ([A-Za-z0-9_.]), '}' or '#'");
	s = skip_ws(s, e);
	if (s < e && *s == '[' && (s = skip_attrs(s, e)) == NULL)
		return scan_fail(sc, sc->lineno, "unclosed '[' attribute list");
	s = skip_ws(s, e);
	if (s < e && (*s == '=' || *s == ':'))
		return 0;
	if (s + 1 < e && s[0] == '<' && s[1] == '<') {
		const char *t = skip_ws(s + 2, e), *te = e;

		while (te > t && isspace((unsigned char)te[-1]))
			te--;
		if (t == te)
			return scan_fail(sc, sc->lineno, "'<<' needs a "
			    "terminator word");
		return skip_heredoc(sc, t, te);
	}
	if (s < e && *s == '{') {
		if (skip_ws(s + 1, e) != e)
			return scan_fail(sc, sc->lineno, "text after '{' would "
			    "be ignored; put it on the next line");
		if (sc->depth == MAX_DEPTH)
			return scan_fail(sc, sc->lineno, "'{' nested too deeply");
		sc->open_line[sc->depth++] = sc->lineno;
		return 0;
	}
	return scan_fail(sc, sc->lineno, "expected '=', ':', ':=', '{' or "
	    "'<<' after the name");
}

/* Checks one line; returns 0 or AC_ERR_CONFIG. */
static int
scan_line(struct scan *sc, const char *ls, const char *le)
{
	const char *s = skip_ws(ls, le);

	if (s == le)
		return 0;
	if (le - s >= 8 && memcmp(s, "#include", 8) == 0 &&
	    (s + 8 == le || isspace((unsigned char)s[8])))
		return scan_fail(sc, sc->lineno, "#include is not allowed: "
		    "the configuration is one file");
	if (*s == '#')
		return 0;
	if (*s == '}') {
		if (skip_ws(s + 1, le) != le)
			return scan_fail(sc, sc->lineno, "text after '}'");
		if (sc->depth == 0)
			return scan_fail(sc, sc->lineno, "'}' without a "
			    "matching '{'");
		sc->depth--;
		return 0;
	}
	return scan_assignment(sc, s, le);
}

/*
 * Checks the structure of the whole text before ClearSilver sees it:
 * balanced braces, ended multi-line values, no includes, no NUL bytes.
 */
static int
check_structure(const char *text, size_t len, const char *file, char *err,
    size_t errlen)
{
	struct scan sc;
	const char *ls, *le, *nul;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.file = file;
	sc.p = text;
	sc.end = text + len;
	sc.err = err;
	sc.errlen = errlen;
	/* hdf_read_string stops at a NUL: whatever follows would be lost. */
	if ((nul = memchr(text, '\0', len)) != NULL) {
		while (next_line(&sc, &ls, &le) && le < nul)
			;
		return scan_fail(&sc, sc.lineno, "NUL byte in the file");
	}
	while (next_line(&sc, &ls, &le))
		if ((r = scan_line(&sc, ls, le)) != 0)
			return r;
	if (sc.depth > 0)
		return scan_fail(&sc, sc.open_line[sc.depth - 1], "'{' is "
		    "never closed (missing '}')");
	return 0;
}

/*
 * Turns a ClearSilver error into err and frees it.  ClearSilver's parse
 * errors quote the rest of the offending line ("Misformed attribute
 * specification: -] = VALUE"), and the value may be a password.  So only
 * the line number and one of the fixed phrases below are passed on; any
 * other message becomes a generic one.
 */
static int
neo_fail(NEOERR **nerr, const char *file, int code, char *err, size_t errlen)
{
	static const char *const phrases[] = {
		"Misformed attribute specification",
		"Trailing garbage on line following }",
		"No multi-assignment terminator given",
		"Unable to parse line",
		"Unable to allocate memory",
	};
	const NEOERR *e = *nerr;
	const char *desc = "", *what = "ClearSilver cannot read it";
	const char *close;
	char where[32] = "";
	size_t i;
	int line;

	/* The innermost error carries the description; the others only
	 * say where it was passed on. */
	while (e != STATUS_OK && e != INTERNAL_ERR && e->error == NERR_PASS)
		e = e->next;
	if (e != STATUS_OK && e != INTERNAL_ERR)
		desc = e->desc;
	/* "[<string>:LINE] phrase...": keep the line number. */
	if (desc[0] == '[' && (close = strchr(desc, ']')) != NULL) {
		const char *colon = close;

		while (colon > desc && *colon != ':')
			colon--;
		if (*colon == ':' && sscanf(colon + 1, "%d]", &line) == 1)
			snprintf(where, sizeof(where), ":%d", line);
		desc = close + 1;
	}
	while (*desc == ' ')
		desc++;
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strncmp(desc, phrases[i], strlen(phrases[i])) == 0)
			what = phrases[i];
	ac_set_err(err, errlen, "%s%s: %s (ClearSilver)", shown_name(file), where,
	    what);
	nerr_ignore(nerr);
	return code;
}

/* Builds the config from checked text; file and dir are copied. */
static int
config_build(const char *text, size_t len, const char *file, const char *dir,
    ac_config **out, char *err, size_t errlen)
{
	ac_config *c = NULL;
	NEOERR *nerr;
	int r;

	if ((r = check_structure(text, len, file, err, errlen)) != 0)
		goto out;
	r = AC_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->file = strdup(file)) == NULL || (c->dir = strdup(dir)) == NULL)
		goto out;
	if ((nerr = hdf_init(&c->hdf)) != STATUS_OK) {
		r = neo_fail(&nerr, file, AC_ERR_NOMEM, err, errlen);
		goto out;
	}
	if ((nerr = hdf_read_string(c->hdf, text)) != STATUS_OK) {
		r = neo_fail(&nerr, file, AC_ERR_CONFIG, err, errlen);
		goto out;
	}
	*out = c;
	c = NULL;	/* transferred */
	r = 0;
out:
	ac_config_free(c);
	return r;
}

int
ac_config_parse(const char *text, const char *dir, ac_config **out, char *err,
    size_t errlen)
{
	if (out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if (text == NULL)
		return AC_ERR_INVALID;
	return config_build(text, strlen(text), "", dir != NULL ? dir : "",
	    out, err, errlen);
}

/*
 * Reads the whole file into a NUL-terminated malloc'd buffer, refusing
 * anything that is not a regular file or is over AC_MAX_CONFIG_FILE.
 */
static int
read_config_file(const char *path, char **text, size_t *len, char *err,
    size_t errlen)
{
	char *buf = NULL;
	size_t got = 0, cap = AC_MAX_CONFIG_FILE + 1;
	struct stat st;
	int fd = -1, r = AC_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(fd, &st) != 0) {
		ac_set_err(err, errlen, "cannot read config file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ac_set_err(err, errlen, "config file %s is not a regular file",
		    path);
		goto out;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	/* Read one byte past the limit to tell "at the limit" from "over". */
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ac_set_err(err, errlen, "cannot read config file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > AC_MAX_CONFIG_FILE) {
		ac_set_err(err, errlen, "config file %s is larger than %d bytes",
		    path, AC_MAX_CONFIG_FILE);
		r = AC_ERR_TOO_LONG;
		goto out;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	buf = NULL;	/* transferred */
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	/* Even a refused file may hold a bind password. */
	if (buf != NULL)
		ac_wipe(buf, got);
	free(buf);
	return r;
}

/* The absolute folder of path, malloc'd; NULL when out of memory. */
static char *
folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *folder, *cwd, *abs = NULL;
	size_t n;

	if (slash == path)
		return strdup("/");
	folder = slash != NULL ? strndup(path, (size_t)(slash - path)) :
	    strdup(".");
	if (folder == NULL || folder[0] == '/')
		return folder;
	/* Relative to the current folder now, not to wherever the process
	 * has moved by the time it opens the path. */
	if ((cwd = getcwd(NULL, 0)) != NULL && strcmp(folder, ".") == 0) {
		abs = cwd;
		cwd = NULL;	/* transferred */
	} else if (cwd != NULL) {
		n = strlen(cwd) + strlen(folder) + 2;
		if ((abs = malloc(n)) != NULL)
			snprintf(abs, n, "%s/%s", cwd, folder);
	}
	free(cwd);
	free(folder);
	return abs;
}

int
ac_config_load(const char *path, ac_config **out, char *err, size_t errlen)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	int r;

	if (out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if (path == NULL || *path == '\0')
		return AC_ERR_INVALID;
	if ((r = read_config_file(path, &text, &len, err, errlen)) != 0)
		goto out;
	if ((dir = folder_of(path)) == NULL) {
		ac_set_err(err, errlen, "cannot resolve the folder of %s", path);
		r = AC_ERR_IO;
		goto out;
	}
	r = config_build(text, len, path, dir, out, err, errlen);
out:
	/* The text may hold a bind password. */
	if (text != NULL)
		ac_wipe(text, len);
	free(text);
	free(dir);
	return r;
}

void
ac_config_free(ac_config *c)
{
	if (c == NULL)
		return;
	hdf_destroy(&c->hdf);
	free(c->file);
	free(c->dir);
	free(c);
}

const char *
ac_config_get(const ac_config *c, const char *key, const char *def)
{
	const char *v;

	if (c == NULL || key == NULL)
		return def;
	v = hdf_get_value(c->hdf, key, NULL);
	return v != NULL && *v != '\0' ? v : def;
}

/* "FILE: KEY: problem" for the typed getters. */
static int
key_fail(const ac_config *c, const char *key, char *err, size_t errlen,
    const char *problem, const char *value, const char *hint)
{
	ac_set_err(err, errlen, "%s: %s: '%s' %s%s", shown_name(c->file), key,
	    value, problem, hint);
	return AC_ERR_CONFIG;
}

int
ac_config_int(const ac_config *c, const char *key, long long def,
    long long min, long long max, long long *out, char *err, size_t errlen)
{
	const char *v = ac_config_get(c, key, NULL);
	char *end = NULL, range[96];
	long long n;

	if (c == NULL || key == NULL || out == NULL)
		return AC_ERR_INVALID;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	snprintf(range, sizeof(range), " (allowed: %lld to %lld)", min, max);
	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || !(isdigit((unsigned char)v[0]) ||
	    ((v[0] == '-' || v[0] == '+') && isdigit((unsigned char)v[1]))))
		return key_fail(c, key, err, errlen, "is not a whole number", v,
		    range);
	if (errno == ERANGE || n < min || n > max)
		return key_fail(c, key, err, errlen, "is out of range", v,
		    range);
	*out = n;
	return 0;
}

int
ac_config_bool(const ac_config *c, const char *key, int def, int *out,
    char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "yes", "true", "on", NULL };
	static const char *const no[] = { "0", "no", "false", "off", NULL };
	const char *v = ac_config_get(c, key, NULL);
	int i;

	if (c == NULL || key == NULL || out == NULL)
		return AC_ERR_INVALID;
	if (v == NULL) {
		*out = def ? 1 : 0;
		return 0;
	}
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return key_fail(c, key, err, errlen, "is not a yes/no value", v,
	    " (allowed: 1/0, yes/no, true/false, on/off)");
}

int
ac_config_choice(const ac_config *c, const char *key,
    const char *const *choices, int def_index, int *out, char *err,
    size_t errlen)
{
	const char *v = ac_config_get(c, key, NULL);
	char allowed[256];
	size_t used;
	int i;

	if (c == NULL || key == NULL || choices == NULL || out == NULL)
		return AC_ERR_INVALID;
	if (v == NULL) {
		*out = def_index;
		return 0;
	}
	for (i = 0; choices[i] != NULL; i++) {
		if (strcasecmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	used = (size_t)snprintf(allowed, sizeof(allowed), " (allowed:");
	for (i = 0; choices[i] != NULL && used < sizeof(allowed); i++)
		used += (size_t)snprintf(allowed + used, sizeof(allowed) - used,
		    " %s", choices[i]);
	if (used < sizeof(allowed))
		snprintf(allowed + used, sizeof(allowed) - used, ")");
	return key_fail(c, key, err, errlen, "is not an allowed value", v,
	    allowed);
}

int
ac_config_require(const ac_config *c, const char *key, char *err,
    size_t errlen)
{
	if (c == NULL || key == NULL)
		return AC_ERR_INVALID;
	if (ac_config_get(c, key, NULL) != NULL)
		return 0;
	ac_set_err(err, errlen, "missing required config key '%s' in %s", key,
	    shown_name(c->file));
	return AC_ERR_CONFIG;
}

int
ac_config_path(const ac_config *c, const char *key, const char *def,
    char **out)
{
	const char *v;
	size_t n;

	if (c == NULL || key == NULL || out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if ((v = ac_config_get(c, key, def)) == NULL)
		return 0;
	if (v[0] == '/' || c->dir[0] == '\0') {
		*out = strdup(v);
		return *out != NULL ? 0 : AC_ERR_NOMEM;
	}
	n = strlen(c->dir) + strlen(v) + 2;
	if ((*out = malloc(n)) == NULL)
		return AC_ERR_NOMEM;
	/* A folder of "/" already ends in the separator. */
	snprintf(*out, n, "%s%s%s", c->dir,
	    c->dir[strlen(c->dir) - 1] == '/' ? "" : "/", v);
	return 0;
}

int
ac_config_each_child(const ac_config *c, const char *prefix,
    int (*fn)(const char *name, void *arg), void *arg)
{
	HDF *node, *child;
	int r;

	if (c == NULL || fn == NULL)
		return AC_ERR_INVALID;
	node = prefix != NULL && *prefix != '\0' ?
	    hdf_get_obj(c->hdf, prefix) : c->hdf;
	if (node == NULL)
		return 0;
	for (child = hdf_obj_child(node); child != NULL;
	    child = hdf_obj_next(child)) {
		if ((r = fn(hdf_obj_name(child), arg)) != 0)
			return r;
	}
	return 0;
}

const char *
ac_config_file(const ac_config *c)
{
	return c != NULL ? c->file : "";
}

struct _hdf *
ac_config_hdf(const ac_config *c)
{
	return c != NULL ? c->hdf : NULL;
}
