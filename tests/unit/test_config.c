/*
 * test_config.c - the HDF config: values, typed getters with errors that
 * name the key, the structure check ClearSilver does not do, paths relative
 * to the config file's folder, and the size limit.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <malloc.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"

/*
 * A free() that looks into every block freed while `watch` is set, so a
 * test can see that a secret from the config file was wiped before its
 * memory went back to the allocator.  glibc's __libc_free does the work.
 * Under valgrind, which replaces free() itself, the check sees nothing.
 */
extern void __libc_free(void *);
void free(void *);

static const char	*watch;
static int		 watch_seen;

void
free(void *p)
{
	if (p != NULL && watch != NULL &&
	    memmem(p, malloc_usable_size(p), watch, strlen(watch)) != NULL)
		watch_seen = 1;
	__libc_free(p);
}

static const char sample[] =
    "# tokenportal test config\n"
    "store {\n"
    "  driver = sqlite\n"
    "  path = data/tokens.db\n"
    "  busy_timeout = 5000\n"
    "  empty =\n"
    "}\n"
    "keys.master_file = /etc/tokenportal/master.key\n"
    "portal.cookie_secure = no\n"
    "portal.issuer = Example Corp\n"
    "resources {\n"
    "  vpn {\n"
    "    pin_mode = directory\n"
    "  }\n"
    "  ssh {\n"
    "    pin_mode = Token\n"
    "    pin_position = after\n"
    "  }\n"
    "  web.pin_mode = none\n"
    "}\n"
    "mail.footer << EOM\n"
    "line one { with a brace\n"
    "}\n"
    "EOM\n"
    "smtp.from = otp@example.org\n";

struct fixture {
	char	 dir[64];
	ac_config *c;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[AC_ERRBUF] = "";

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (ac_config_parse(sample, "/srv/tp", &f->c, err, sizeof(err)) != 0)
		fail_msg("sample does not parse: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ac_config_free(f->c);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
write_text(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* Parses text that must fail; err must contain every given word. */
static void
expect_parse_error(const char *text, const char *w1, const char *w2)
{
	char err[AC_ERRBUF] = "";
	ac_config *c = NULL;

	assert_int_equal(ac_config_parse(text, NULL, &c, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_null(c);
	if (strstr(err, w1) == NULL || (w2 != NULL && strstr(err, w2) == NULL))
		fail_msg("error '%s' lacks '%s' / '%s'", err, w1,
		    w2 != NULL ? w2 : "");
}

static void
test_values(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(ac_config_get(f->c, "store.driver", NULL), "sqlite");
	assert_string_equal(ac_config_get(f->c, "portal.issuer", NULL),
	    "Example Corp");
	assert_string_equal(ac_config_get(f->c, "resources.web.pin_mode",
	    NULL), "none");
	assert_string_equal(ac_config_get(f->c, "smtp.from", NULL),
	    "otp@example.org");
	assert_string_equal(ac_config_get(f->c, "mail.footer", NULL),
	    "line one { with a brace\n}\n");
	assert_string_equal(ac_config_get(f->c, "nope", "dflt"), "dflt");
	assert_null(ac_config_get(f->c, "store.nope", NULL));
	/* An empty value counts as absent. */
	assert_string_equal(ac_config_get(f->c, "store.empty", "dflt"), "dflt");
	assert_string_equal(ac_config_file(f->c), "");
	assert_non_null(ac_config_hdf(f->c));
	ac_config_free(NULL);
}

static int
collect(const char *name, void *arg)
{
	char *buf = arg;

	strncat(buf, name, 63 - strlen(buf));
	strncat(buf, ",", 63 - strlen(buf));
	return strcmp(name, "stop") == 0 ? 42 : 0;
}

static void
test_each_child(void **state)
{
	struct fixture *f = *state;
	char names[64] = "";
	char err[AC_ERRBUF];
	ac_config *c = NULL;

	assert_int_equal(ac_config_each_child(f->c, "resources", collect,
	    names), 0);
	assert_string_equal(names, "vpn,ssh,web,");
	names[0] = '\0';
	assert_int_equal(ac_config_each_child(f->c, "absent", collect, names),
	    0);
	assert_string_equal(names, "");

	assert_int_equal(ac_config_parse("r.a = 1\nr.stop = 1\nr.z = 1\n",
	    NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(ac_config_each_child(c, "r", collect, names), 42);
	assert_string_equal(names, "a,stop,");
	ac_config_free(c);
}

static void
test_ints(void **state)
{
	static const char text[] =
	    "a = 42\nneg = -7\nword = abc\ntrail = 12abc\nspace = 1 2\n"
	    "huge = 99999999999999999999\nbig = 11\nhex = 0x10\n";
	char err[AC_ERRBUF] = "";
	ac_config *c = NULL;
	long long v = 0;

	(void)state;
	assert_int_equal(ac_config_parse(text, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(ac_config_int(c, "a", 0, 0, 100, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ac_config_int(c, "neg", 0, -10, 10, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, -7);
	assert_int_equal(ac_config_int(c, "absent", 30, 1, 60, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 30);

	assert_int_equal(ac_config_int(c, "word", 0, 0, 100, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "word: 'abc' is not a whole number"));
	assert_int_equal(ac_config_int(c, "trail", 0, 0, 100, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "trail:"));
	assert_int_equal(ac_config_int(c, "space", 0, 0, 100, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(ac_config_int(c, "hex", 0, 0, 100, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(ac_config_int(c, "huge", 0, 0, LLONG_MAX, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "huge: "));
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(ac_config_int(c, "big", 0, 1, 10, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "big: '11' is out of range"));
	assert_non_null(strstr(err, "1 to 10"));
	assert_int_equal(v, 30);	/* failures leave *out alone */
	ac_config_free(c);
}

static void
test_bools(void **state)
{
	static const char text[] =
	    "a = yes\nb = No\nc = TRUE\nd = off\ne = 1\nf = 0\ng = maybe\n";
	static const int want[] = { 1, 0, 1, 0, 1, 0 };
	char err[AC_ERRBUF] = "", key[2] = "a";
	ac_config *c = NULL;
	int v = -1, i;

	(void)state;
	assert_int_equal(ac_config_parse(text, NULL, &c, err, sizeof(err)), 0);
	for (i = 0; i < 6; i++) {
		key[0] = (char)('a' + i);
		assert_int_equal(ac_config_bool(c, key, 0, &v, err,
		    sizeof(err)), 0);
		assert_int_equal(v, want[i]);
	}
	assert_int_equal(ac_config_bool(c, "absent", 1, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(ac_config_bool(c, "g", 0, &v, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "g: 'maybe'"));
	assert_non_null(strstr(err, "yes/no"));
	ac_config_free(c);
}

static void
test_choices(void **state)
{
	static const char *const modes[] = { "token", "directory", "none",
	    NULL };
	struct fixture *f = *state;
	char err[AC_ERRBUF] = "";
	ac_config *c = NULL;
	int v = -1;

	assert_int_equal(ac_config_choice(f->c, "resources.vpn.pin_mode",
	    modes, 0, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ac_config_choice(f->c, "resources.ssh.pin_mode",
	    modes, 2, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ac_config_choice(f->c, "resources.nope.pin_mode",
	    modes, 2, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2);

	assert_int_equal(ac_config_parse("r.pin_mode = tokens\n", NULL, &c,
	    err, sizeof(err)), 0);
	assert_int_equal(ac_config_choice(c, "r.pin_mode", modes, 0, &v, err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "r.pin_mode: 'tokens'"));
	assert_non_null(strstr(err, "token directory none"));
	ac_config_free(c);
}

static void
test_require(void **state)
{
	struct fixture *f = *state;
	char path[128], err[AC_ERRBUF] = "";
	ac_config *c = NULL;

	assert_int_equal(ac_config_require(f->c, "store.path", err,
	    sizeof(err)), 0);
	assert_int_equal(ac_config_require(f->c, "store.empty", err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "'store.empty'"));

	snprintf(path, sizeof(path), "%s/tp.hdf", f->dir);
	write_text(path, "store.driver = sqlite\n", 22);
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(ac_config_file(c), path);
	assert_int_equal(ac_config_require(c, "store.path", err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "missing required config key "
	    "'store.path' in "));
	assert_non_null(strstr(err, path));
	ac_config_free(c);
}

static void
test_unbalanced_braces(void **state)
{
	(void)state;
	/* ClearSilver alone accepts this and drops nothing visible. */
	expect_parse_error("a = 1\nstore {\n  path = x\n\nb = 2\n",
	    "config:2:", "never closed");
	/* The '}' closes b; a, opened on line 1, stays open. */
	expect_parse_error("a {\n  b {\n  c = 1\n}\n", "config:1:",
	    "never closed");
	/* A stray '}' would make ClearSilver ignore the rest of the file. */
	expect_parse_error("a = 1\nb {\n}\n}\nstore.path = lost\n",
	    "config:4:", "without a matching");
	expect_parse_error("store { path = x }\n", "config:1:",
	    "after '{'");
	expect_parse_error("a {\n} b = 1\n", "config:2:", "after '}'");
	expect_parse_error("a = 1\nfooter << EOM\ntext\nEOM", "config:2:",
	    "never ended");
	expect_parse_error("a = 1\n\n#include \"other.hdf\"\n", "config:3:",
	    "#include");
}

static void
test_bad_lines(void **state)
{
	char err[AC_ERRBUF] = "";
	ac_config *c = NULL;

	(void)state;
	expect_parse_error("a = 1\nstore-path = x\n", "config:2:", NULL);
	expect_parse_error("a = 1\njust words\n", "config:2:", "expected");
	/* The message names the line but never echoes a secret from it. */
	assert_int_equal(ac_config_parse("directory.bind-password = hunter2\n",
	    NULL, &c, err, sizeof(err)), AC_ERR_CONFIG);
	assert_null(strstr(err, "hunter2"));
	/* What only ClearSilver catches still comes back as a config error. */
	expect_parse_error("a = 1\nb [-] = 2\n", "config: ", "attribute");
	/* ClearSilver's own message quotes the rest of the line; that text
	 * (here a password) must not reach ours. */
	assert_int_equal(ac_config_parse("directory.bind_password [-] = "
	    "hunter2\n", NULL, &c, err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "attribute"));
	assert_null(strstr(err, "hunter2"));
	/* Comments that merely start like an include are comments. */
	assert_int_equal(ac_config_parse("#included below\n  # x {\na = 1\n",
	    NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(ac_config_get(c, "a", NULL), "1");
	ac_config_free(c);
}

static void
test_nul_byte(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "a = 1\nb = 2\0\nc = 3\n";
	char path[128], err[AC_ERRBUF] = "";
	ac_config *c = NULL;

	snprintf(path, sizeof(path), "%s/nul.hdf", f->dir);
	write_text(path, text, sizeof(text) - 1);
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "NUL"));
}

static void
test_relative_paths(void **state)
{
	struct fixture *f = *state;
	char conf[128], path[160], real[PATH_MAX], want[PATH_MAX + 64];
	char cwd[PATH_MAX], err[AC_ERRBUF] = "";
	static const char text[] = "store.path = data/tokens.db\n"
	    "keys.master_file = /etc/tp/master.key\n";
	ac_config *c = NULL;
	char *p = NULL;

	snprintf(conf, sizeof(conf), "%s/conf", f->dir);
	assert_int_equal(mkdir(conf, 0700), 0);
	snprintf(path, sizeof(path), "%s/tp.hdf", conf);
	write_text(path, text, sizeof(text) - 1);
	assert_non_null(realpath(f->dir, real));

	/* Loaded through a relative name, then the process moves away. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(ac_config_load("conf/tp.hdf", &c, err, sizeof(err)),
	    0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(ac_config_path(c, "store.path", NULL, &p), 0);
	snprintf(want, sizeof(want), "%s/conf/data/tokens.db", real);
	assert_string_equal(p, want);
	free(p);
	assert_int_equal(ac_config_path(c, "keys.master_file", NULL, &p), 0);
	assert_string_equal(p, "/etc/tp/master.key");
	free(p);
	/* A relative default resolves the same way; no default: NULL. */
	assert_int_equal(ac_config_path(c, "absent", "x.db", &p), 0);
	snprintf(want, sizeof(want), "%s/conf/x.db", real);
	assert_string_equal(p, want);
	free(p);
	assert_int_equal(ac_config_path(c, "absent", NULL, &p), 0);
	assert_null(p);
	ac_config_free(c);
	assert_int_equal(chdir(cwd), 0);

	/* Parsed text resolves against the folder given. */
	assert_int_equal(ac_config_path(f->c, "store.path", NULL, &p), 0);
	assert_string_equal(p, "/srv/tp/data/tokens.db");
	free(p);
}

static void
test_file_errors_and_size(void **state)
{
	struct fixture *f = *state;
	char path[128], err[AC_ERRBUF] = "";
	ac_config *c = NULL;
	size_t n = AC_MAX_CONFIG_FILE, i;
	char *big = malloc(n + 1);

	snprintf(path, sizeof(path), "%s/missing.hdf", f->dir);
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)),
	    AC_ERR_IO);
	assert_non_null(strstr(err, path));
	assert_int_equal(ac_config_load(f->dir, &c, err, sizeof(err)),
	    AC_ERR_IO);
	assert_non_null(strstr(err, "not a regular file"));

	/* Exactly at the limit: comment lines and one key at the end. */
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (i % 64 == 0) ? '#' : (i % 64 == 63 ? '\n' : 'x');
	memcpy(big + n - 8, "\nk = 1\n", 7);
	big[n - 1] = '\n';
	snprintf(path, sizeof(path), "%s/big.hdf", f->dir);
	write_text(path, big, n);
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(ac_config_get(c, "k", NULL), "1");
	ac_config_free(c);
	c = NULL;
	/* One byte over. */
	big[n] = '\n';
	write_text(path, big, n + 1);
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)),
	    AC_ERR_TOO_LONG);
	assert_null(c);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "larger than"));
	free(big);
}

/* A file refused for its size may still hold a password: what was read of
 * it is wiped before it is freed. */
static void
test_oversized_file_wiped(void **state)
{
	struct fixture *f = *state;
	static const char secret[] = "pw-9f3c2a7e5b1d";
	char path[128], err[AC_ERRBUF] = "";
	size_t n = AC_MAX_CONFIG_FILE + 1;
	ac_config *c = NULL;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, '\n', n);
	memcpy(big, "directory.bind_password = ", 26);
	memcpy(big + 26, secret, sizeof(secret) - 1);
	snprintf(path, sizeof(path), "%s/big.hdf", f->dir);
	write_text(path, big, n);
	OPENSSL_cleanse(big, n);
	free(big);

	watch = secret;
	watch_seen = 0;
	assert_int_equal(ac_config_load(path, &c, err, sizeof(err)),
	    AC_ERR_TOO_LONG);
	watch = NULL;
	assert_null(c);
	assert_false(watch_seen);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_values),
		T(test_each_child),
		T(test_ints),
		T(test_bools),
		T(test_choices),
		T(test_require),
		T(test_unbalanced_braces),
		T(test_bad_lines),
		T(test_nul_byte),
		T(test_relative_paths),
		T(test_file_errors_and_size),
		T(test_oversized_file_wiped),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
