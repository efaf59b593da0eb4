/*
 * test_directory.c - the directory module against a real slapd.
 *
 * The server is tests/lib/slapd.py in --control mode: it loads
 * conf/demo/directory.ldif into a throw-away slapd on a free loopback port
 * and takes "stop" / "start" commands on a pipe; closing the pipe stops it,
 * so a crashed test leaves nothing running.  Expected values (names, mails,
 * groups) come from the LDIF, which nothing in authcore produced.
 *
 * The TLS cases use a second slapd started with --tls: StartTLS on its
 * ldap:// port, an ldaps:// port, and a throw-away CA made by the openssl
 * CLI (tests/lib/testca.py), plus a second CA that did not sign the
 * server's certificate.  That server refuses simple binds without TLS, so
 * a sign-in that works there went over TLS.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "ac_error.h"
#include "config.h"
#include "directory.h"

#define SERVICE_DN	"cn=tokenportal,ou=services,dc=example,dc=org"
#define SERVICE_PW	"Portal-Service-2026"
#define PEOPLE		"ou=people,dc=example,dc=org"
#define HELPDESK_DN	"cn=helpdesk,ou=groups,dc=example,dc=org"
#define ADMINS_DN	"cn=admins,ou=groups,dc=example,dc=org"

struct server {
	pid_t	pid;
	FILE	*to;		/* commands */
	FILE	*from;		/* answers */
	char	uri[128];
	char	ldaps_uri[128];	/* --tls only */
	char	ca[512];	/* the CA that signed the server's certificate */
	char	other_ca[512];	/* a CA that did not */
};

static struct server srv;	/* with the memberof overlay */
static struct server plain;	/* without: groups by search */
static struct server fake_ad;	/* tests/lib/fake_ad.py */
static struct server tls;	/* slapd.py --tls */
static char tmpdir[] = "/tmp/tp-dirtest-XXXXXX";

/* --- the slapd helper ------------------------------------------------- */

static const char *
src_dir(void)
{
	const char *s = getenv("TP_SRC");

	return s != NULL && *s != '\0' ? s : ".";
}

/* Reads answer lines until one starting with want; keeps "uri",
 * "ldaps_uri", "ca" and "other_ca". */
static int
server_wait(struct server *s, const char *want)
{
	char line[1024];

	while (fgets(line, sizeof(line), s->from) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "uri ", 4) == 0)
			snprintf(s->uri, sizeof(s->uri), "%.100s", line + 4);
		if (strncmp(line, "ldaps_uri ", 10) == 0)
			snprintf(s->ldaps_uri, sizeof(s->ldaps_uri), "%.100s",
			    line + 10);
		if (strncmp(line, "ca ", 3) == 0)
			snprintf(s->ca, sizeof(s->ca), "%.500s", line + 3);
		if (strncmp(line, "other_ca ", 9) == 0)
			snprintf(s->other_ca, sizeof(s->other_ca), "%.500s",
			    line + 9);
		if (strcmp(line, want) == 0)
			return 0;
		if (strncmp(line, "error", 5) == 0)
			break;
	}
	return -1;
}

/* Starts tests/lib/SCRIPT [A1 [A2]] and waits for its "ready" line. */
static int
server_spawn(struct server *s, const char *script, const char *a1,
    const char *a2)
{
	int to[2], from[2];
	char helper[1024];

	snprintf(helper, sizeof(helper), "%s/tests/lib/%s", src_dir(), script);
	/* Close-on-exec: a second helper must not hold the first one's
	 * command pipe open, or the first never sees end of input. */
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		return -1;
	if ((s->pid = fork()) < 0)
		return -1;
	if (s->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execlp("python3", "python3", helper, a1, a2, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	s->to = fdopen(to[1], "w");
	s->from = fdopen(from[0], "r");
	if (s->to == NULL || s->from == NULL)
		return -1;
	return server_wait(s, "ready");
}

static int
server_cmd(struct server *s, const char *cmd, const char *want)
{
	fprintf(s->to, "%s\n", cmd);
	fflush(s->to);
	return server_wait(s, want);
}

static void
server_quit(struct server *s)
{
	int st;

	if (s->to != NULL)
		fclose(s->to);	/* end of input: the helper stops slapd */
	if (s->from != NULL)
		fclose(s->from);
	if (s->pid > 0)
		waitpid(s->pid, &st, 0);
	memset(s, 0, sizeof(*s));
}

/* A loopback port with nothing listening on it (connection refused). */
static int
dead_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A socket that accepts connections (the kernel's backlog does) but never
 * answers: a hung server.  Returns the listening fd, port in *port. */
static int
silent_server(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

/* --- config ------------------------------------------------------------- */

/* A directory handle for uri; extra lines (HDF) appended to the config. */
static struct ac_directory *
open_dir(const char *uri, const char *extra)
{
	struct ac_directory *d = NULL;
	struct ac_config *cfg = NULL;
	char text[4096], err[AC_ERRBUF] = "";
	int r;

	snprintf(text, sizeof(text),
	    "directory.uri = %s\n"
	    "directory.base_dn = " PEOPLE "\n"
	    "directory.bind_dn = " SERVICE_DN "\n"
	    "directory.timeout_seconds = 2\n"
	    "roles.helpdesk.group = " HELPDESK_DN "\n"
	    "roles.admin.group = " ADMINS_DN "\n"
	    "%s", uri, extra);
	if (strstr(extra, "bind_password") == NULL) {
		size_t n = strlen(text);

		snprintf(text + n, sizeof(text) - n,
		    "directory.bind_password = " SERVICE_PW "\n");
	}
	r = ac_config_parse(text, tmpdir, &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("config: %s", err);
	r = ac_directory_new(cfg, &d, err, sizeof(err));
	ac_config_free(cfg);
	if (r != 0)
		fail_msg("ac_directory_new: %s (%d)", err, r);
	return d;
}

static int
auth(struct ac_directory *d, const char *login, const char *pw,
    struct ac_dir_user *u, char *err)
{
	int r;

	err[0] = '\0';
	r = ac_directory_authenticate(d, login, pw, u, err, AC_ERRBUF);
	if (getenv("TEST_VERBOSE") != NULL)
		fprintf(stderr, "# auth %s: %d %s\n", login, r, err);
	return r;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- tests -------------------------------------------------------------- */

static void
right_password_signs_in_with_entry_data(void **state)
{
	struct ac_directory *d = open_dir(srv.uri, "");
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_string_equal(u.login, "alice");
	assert_string_equal(u.dn, "uid=alice," PEOPLE);
	assert_string_equal(u.display_name, "Alice Archer");
	assert_string_equal(u.email, "alice@example.org");
	assert_int_equal(u.roles, 0);	/* member of "staff" only */
	/* The directory's spelling of the login wins over the typed one. */
	assert_int_equal(auth(d, "ALICE", "Alice-Demo-2026", &u, err), 0);
	assert_string_equal(u.login, "alice");
	/* No displayName: cn instead. */
	assert_int_equal(auth(d, "erin", "Erin-Demo-2026", &u, err), 0);
	assert_string_equal(u.display_name, "Erin Evans");
	assert_string_equal(u.email, "erin@example.org");
	ac_directory_free(d);
}

static void
wrong_password_and_unknown_user_look_alike(void **state)
{
	struct ac_directory *d = open_dir(srv.uri, "");
	struct ac_dir_user u;
	char err[AC_ERRBUF], err2[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "alice", "Bob-Demo-2026", &u, err),
	    AC_ERR_DENIED);
	assert_string_equal(u.dn, "");		/* nothing leaks out */
	assert_int_equal(auth(d, "nosuchuser", "Bob-Demo-2026", &u, err2),
	    AC_ERR_DENIED);
	assert_string_equal(err, err2);
	assert_true(err[0] != '\0');
	/* A password that is right for someone else is still wrong. */
	assert_int_equal(auth(d, "bob", "Alice-Demo-2026", &u, err2),
	    AC_ERR_DENIED);
	assert_string_equal(err, err2);
	ac_directory_free(d);
}

static void
empty_password_is_refused_before_any_bind(void **state)
{
	char uri[64], err[AC_ERRBUF];
	struct ac_directory *d;
	struct ac_dir_user u;

	(void)state;
	/* Against a port where nothing listens: an attempted bind would
	 * report UNAVAILABLE, a refusal up front reports DENIED. */
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d/", dead_port());
	d = open_dir(uri, "");
	assert_int_equal(auth(d, "alice", "", &u, err), AC_ERR_DENIED);
	assert_int_equal(auth(d, "alice", NULL, &u, err), AC_ERR_DENIED);
	assert_int_equal(auth(d, "", "Alice-Demo-2026", &u, err),
	    AC_ERR_DENIED);
	ac_directory_free(d);
	/* And on a live server an empty password is no anonymous success. */
	d = open_dir(srv.uri, "");
	assert_int_equal(auth(d, "alice", "", &u, err), AC_ERR_DENIED);
	ac_directory_free(d);
}

static void
filter_metacharacters_match_nobody(void **state)
{
	static const char *const evil[] = {
		"*", "*)(uid=*", "alice)(|(uid=*", "alice)(uid=*))(|(uid=*",
		"al*", "*)(objectClass=*", "alice\\2a", "zoe*", "zoe*(x)*",
		NULL
	};
	struct ac_directory *d = open_dir(srv.uri, "");
	struct ac_dir_user u;
	char err[AC_ERRBUF];
	int i;

	(void)state;
	for (i = 0; evil[i] != NULL; i++) {
		assert_int_equal(auth(d, evil[i], "Alice-Demo-2026", &u, err),
		    AC_ERR_DENIED);
		assert_int_equal(auth(d, evil[i], "Zoe-Demo-2026", &u, err),
		    AC_ERR_DENIED);
		assert_int_equal(ac_directory_lookup(d, evil[i], &u, err,
		    sizeof(err)), AC_ERR_NOT_FOUND);
	}
	/* The user whose real name is made of metacharacters signs in. */
	assert_int_equal(auth(d, "zoe*(x)\\y", "Zoe-Demo-2026", &u, err), 0);
	assert_string_equal(u.login, "zoe*(x)\\y");
	assert_string_equal(u.display_name, "Zoe <Tricky> O'Name");
	ac_directory_free(d);
}

static void
roles_come_from_the_configured_groups(void **state)
{
	struct ac_directory *d = open_dir(srv.uri, "");
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "carol", "Carol-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	assert_string_equal(u.display_name, "Carol Carter (Helpdesk)");
	assert_int_equal(auth(d, "dave", "Dave-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_ADMIN);
	assert_int_equal(auth(d, "bob", "Bob-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, 0);
	/* Lookup needs no password and sees the same roles. */
	assert_int_equal(ac_directory_lookup(d, "carol", &u, err,
	    sizeof(err)), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	assert_string_equal(u.email, "carol@example.org");
	assert_int_equal(ac_directory_lookup(d, "nosuchuser", &u, err,
	    sizeof(err)), AC_ERR_NOT_FOUND);
	ac_directory_free(d);
	/* Group DNs compare as DNs, not as strings. */
	d = open_dir(srv.uri, "roles.admin.group = CN=Admins, OU=Groups, "
	    "DC=example, DC=org\n");
	assert_int_equal(auth(d, "dave", "Dave-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_ADMIN);
	ac_directory_free(d);
}

static void
roles_by_group_search_without_memberof(void **state)
{
	struct ac_directory *d;
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	memset(&plain, 0, sizeof(plain));
	assert_int_equal(server_spawn(&plain, "slapd.py", "--control",
	    "--no-memberof"), 0);
	d = open_dir(plain.uri, "");
	assert_int_equal(auth(d, "carol", "Carol-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	assert_int_equal(auth(d, "dave", "Dave-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_ADMIN);
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, 0);
	ac_directory_free(d);
	server_quit(&plain);
	server_quit(&fake_ad);
}

static void
failover_skips_a_dead_server(void **state)
{
	char uris[512], err[AC_ERRBUF];
	struct ac_directory *d;
	struct ac_dir_user u;

	(void)state;
	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%d/ %s", dead_port(),
	    srv.uri);
	d = open_dir(uris, "");
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_int_equal(auth(d, "alice", "wrong", &u, err), AC_ERR_DENIED);
	ac_directory_free(d);
	/* Only dead servers: unavailable, not denied. */
	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%d/ "
	    "ldap://127.0.0.1:%d/", dead_port(), dead_port());
	d = open_dir(uris, "");
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	ac_directory_free(d);
}

static void
server_down_is_unavailable_then_recovers(void **state)
{
	struct ac_directory *d = open_dir(srv.uri, "");
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_int_equal(server_cmd(&srv, "stop", "stopped"), 0);
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_true(strstr(err, "127.0.0.1") != NULL);	/* for the log */
	assert_int_equal(ac_directory_lookup(d, "alice", &u, err,
	    sizeof(err)), AC_ERR_UNAVAILABLE);
	assert_int_equal(server_cmd(&srv, "start", "ready"), 0);
	/* Same handle, no restart of ours: works again. */
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_string_equal(u.email, "alice@example.org");
	/* A restart behind the kept connection's back: the stale
	 * connection is replaced within the same call. */
	assert_int_equal(server_cmd(&srv, "stop", "stopped"), 0);
	assert_int_equal(server_cmd(&srv, "start", "ready"), 0);
	assert_int_equal(auth(d, "carol", "Carol-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	ac_directory_free(d);
}

static void
hung_server_times_out(void **state)
{
	char uri[64], err[AC_ERRBUF];
	struct ac_directory *d;
	struct ac_dir_user u;
	double t0;
	int fd, port = 0;

	(void)state;
	fd = silent_server(&port);
	assert_true(fd >= 0);
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d/", port);
	d = open_dir(uri, "directory.timeout_seconds = 1\n");
	t0 = now();
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_true(now() - t0 < 3.0);
	ac_directory_free(d);
	close(fd);
}

static void
service_password_from_a_file(void **state)
{
	char path[512], err[AC_ERRBUF];
	struct ac_directory *d;
	struct ac_dir_user u;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/service.pw", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(SERVICE_PW "\n", f);
	fclose(f);
	/* Relative to the config's folder. */
	d = open_dir(srv.uri, "directory.bind_password_file = service.pw\n");
	assert_int_equal(auth(d, "bob", "Bob-Demo-2026", &u, err), 0);
	ac_directory_free(d);

	/* A wrong service password is a configuration error, not a user's
	 * wrong password. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not-the-password\n", f);
	fclose(f);
	d = open_dir(srv.uri, "directory.bind_password_file = service.pw\n");
	assert_int_equal(auth(d, "bob", "Bob-Demo-2026", &u, err),
	    AC_ERR_CONFIG);
	assert_true(strstr(err, SERVICE_DN) != NULL);
	assert_null(strstr(err, "not-the-password"));
	ac_directory_free(d);
	unlink(path);
}

static void
bad_config_is_refused_with_the_key(void **state)
{
	static const struct {
		const char *text, *key;
	} bad[] = {
		{ "directory.base_dn = dc=x\n", "directory.uri" },
		{ "directory.uri = ldap://h/\n", "directory.base_dn" },
		{ "directory.uri = http://h/\ndirectory.base_dn = dc=x\n",
		    "directory.uri" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "directory.user_filter = (uid=%d)\n", "user_filter" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "directory.user_filter = uid=%s\n", "user_filter" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "directory.bind_dn = cn=s\n", "bind_password" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "directory.bind_dn = cn=s\n"
		  "directory.bind_password_file = missing.pw\n",
		  "missing.pw" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "roles.admin.group = not a dn\n", "roles.admin.group" },
		{ "directory.uri = ldap://h/\ndirectory.base_dn = dc=x\n"
		  "directory.timeout_seconds = 0\n", "timeout_seconds" },
	};
	struct ac_directory *d;
	struct ac_config *cfg;
	char err[AC_ERRBUF];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ac_config_parse(bad[i].text, tmpdir, &cfg, err,
		    sizeof(err)), 0);
		err[0] = '\0';
		d = (struct ac_directory *)1;
		assert_true(ac_directory_new(cfg, &d, err, sizeof(err)) < 0);
		assert_null(d);
		if (strstr(err, bad[i].key) == NULL)
			fail_msg("case %zu: '%s' does not name %s", i, err,
			    bad[i].key);
		ac_config_free(cfg);
	}
	ac_directory_free(NULL);
}

static void
ad_bind_reasons_are_mapped(void **state)
{
	static const struct {
		const char	*login, *password;
		int		 want;
		const char	*says;
	} cases[] = {
		{ "ok", "Right-1", 0, "" },
		{ "ok", "Wrong-1", AC_ERR_DENIED, NULL },	/* 52e */
		{ "nobody", "Right-1", AC_ERR_DENIED, NULL },
		/* Locked out (775) comes with any password: it must read
		 * exactly like a wrong password. */
		{ "locked", "Right-1", AC_ERR_DENIED, NULL },
		{ "locked", "Wrong-1", AC_ERR_DENIED, NULL },
		/* These come only with the right password: say it plainly. */
		{ "disabled", "Right-1", AC_ERR_ACCOUNT, "disabled" },
		{ "disabled", "Wrong-1", AC_ERR_DENIED, NULL },
		{ "expired", "Right-1", AC_ERR_ACCOUNT, "expired" },
		{ "mustchange", "Right-1", AC_ERR_ACCOUNT, "must be changed" },
	};
	struct ac_directory *d;
	struct ac_dir_user u;
	char err[AC_ERRBUF], denied[AC_ERRBUF] = "";
	size_t i;

	(void)state;
	assert_int_equal(server_spawn(&fake_ad, "fake_ad.py", NULL, NULL), 0);
	d = open_dir(fake_ad.uri,
	    "directory.base_dn = CN=Users,DC=ad,DC=test\n"
	    "directory.bind_dn = CN=svc,CN=Users,DC=ad,DC=test\n"
	    "directory.bind_password = Svc-1\n"
	    "directory.user_filter = (&(objectCategory=person)"
	    "(objectClass=user)(sAMAccountName=%s))\n"
	    "directory.attr_uid = sAMAccountName\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = auth(d, cases[i].login, cases[i].password, &u, err);

		if (r != cases[i].want)
			fail_msg("%s/%s: got %d (%s), want %d", cases[i].login,
			    cases[i].password, r, err, cases[i].want);
		if (r == AC_ERR_DENIED && denied[0] == '\0')
			snprintf(denied, sizeof(denied), "%s", err);
		if (r == AC_ERR_DENIED)
			assert_string_equal(err, denied);
		if (cases[i].says != NULL && cases[i].says[0] != '\0')
			assert_non_null(strstr(err, cases[i].says));
	}
	assert_int_equal(auth(d, "ok", "Right-1", &u, err), 0);
	assert_string_equal(u.login, "ok");
	assert_string_equal(u.dn, "CN=ok,CN=Users,DC=ad,DC=test");
	assert_string_equal(u.display_name, "ok");	/* no name attributes */
	assert_int_equal(u.roles, 0);	/* no memberOf, no nested lookup */
	ac_directory_free(d);

	/* Nested groups through AD's in-chain rule: "ok" is in Helpdesk
	 * only via Tier1. */
	d = open_dir(fake_ad.uri,
	    "directory.base_dn = CN=Users,DC=ad,DC=test\n"
	    "directory.bind_dn = CN=svc,CN=Users,DC=ad,DC=test\n"
	    "directory.bind_password = Svc-1\n"
	    "directory.user_filter = (sAMAccountName=%s)\n"
	    "directory.nested_groups = 1\n"
	    "roles.helpdesk.group = CN=Helpdesk,CN=Users,DC=ad,DC=test\n"
	    "roles.admin.group = CN=Domain Admins,CN=Users,DC=ad,DC=test\n");
	assert_int_equal(auth(d, "ok", "Right-1", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	ac_directory_free(d);
	server_quit(&fake_ad);
}

/* --- TLS ---------------------------------------------------------------- */

/* A handle with directory.starttls and, unless NULL, directory.ca_file. */
static struct ac_directory *
open_tls(const char *uri, int starttls, const char *ca)
{
	char extra[1024];

	snprintf(extra, sizeof(extra), "directory.starttls = %d\n%s%s%s",
	    starttls, ca != NULL ? "directory.ca_file = " : "",
	    ca != NULL ? ca : "", ca != NULL ? "\n" : "");
	return open_dir(uri, extra);
}

/* The message an operator reads in the log must point at TLS. */
static void
assert_says_tls(const char *err)
{
	if (strstr(err, "TLS") == NULL && strstr(err, "certificate") == NULL)
		fail_msg("'%s' does not mention TLS or the certificate", err);
}

static void
starttls_with_the_right_ca_signs_in(void **state)
{
	struct ac_directory *d = open_tls(tls.uri, 1, tls.ca);
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_string_equal(u.email, "alice@example.org");
	assert_int_equal(auth(d, "carol", "Carol-Demo-2026", &u, err), 0);
	assert_int_equal(u.roles, AC_ROLE_HELPDESK);
	assert_int_equal(auth(d, "alice", "Bob-Demo-2026", &u, err),
	    AC_ERR_DENIED);
	assert_int_equal(ac_directory_lookup(d, "dave", &u, err,
	    sizeof(err)), 0);
	assert_int_equal(u.roles, AC_ROLE_ADMIN);
	ac_directory_free(d);
	/* The same server refuses a password sent in the clear, so the
	 * sign-ins above went over TLS (and a server that demands TLS is
	 * the operator's problem, not an outage). */
	d = open_tls(tls.uri, 0, tls.ca);
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "onfidentiality"));
	ac_directory_free(d);
}

static void
ldaps_with_the_right_ca_signs_in(void **state)
{
	struct ac_directory *d;
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	d = open_tls(tls.ldaps_uri, 0, tls.ca);
	assert_int_equal(auth(d, "bob", "Bob-Demo-2026", &u, err), 0);
	assert_string_equal(u.dn, "uid=bob," PEOPLE);
	ac_directory_free(d);
	/* starttls = 1 is moot on ldaps://: TLS is already on. */
	d = open_tls(tls.ldaps_uri, 1, tls.ca);
	assert_int_equal(auth(d, "bob", "Bob-Demo-2026", &u, err), 0);
	ac_directory_free(d);
}

/*
 * A certificate from a CA we were not told to trust: the call fails with
 * a message about TLS and nothing is retried in the clear.  Also without
 * directory.ca_file (the system's CAs do not know our test CA).
 */
static void
wrong_ca_is_refused(void **state)
{
	const char *uris[] = { tls.uri, tls.ldaps_uri };
	const char *cas[] = { tls.other_ca, NULL };
	struct ac_directory *d;
	struct ac_dir_user u;
	char err[AC_ERRBUF];
	size_t i, j;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			d = open_tls(uris[i], i == 0, cas[j]);
			assert_int_equal(auth(d, "alice", "Alice-Demo-2026",
			    &u, err), AC_ERR_UNAVAILABLE);
			assert_says_tls(err);
			assert_string_equal(u.dn, "");
			assert_int_equal(ac_directory_lookup(d, "alice", &u,
			    err, sizeof(err)), AC_ERR_UNAVAILABLE);
			assert_says_tls(err);
			ac_directory_free(d);
		}
	}
}

/* The TLS settings belong to each handle: a handle that trusts the wrong
 * CA next to one that trusts the right one, in either order. */
static void
tls_settings_are_per_handle(void **state)
{
	struct ac_directory *bad = open_tls(tls.uri, 1, tls.other_ca);
	struct ac_directory *good;
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(bad, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	good = open_tls(tls.uri, 1, tls.ca);
	assert_int_equal(auth(good, "alice", "Alice-Demo-2026", &u, err), 0);
	assert_int_equal(auth(bad, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_int_equal(auth(good, "carol", "Carol-Demo-2026", &u, err), 0);
	ac_directory_free(bad);
	bad = open_tls(tls.ldaps_uri, 0, tls.other_ca);
	assert_int_equal(auth(bad, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_int_equal(auth(good, "dave", "Dave-Demo-2026", &u, err), 0);
	ac_directory_free(bad);
	ac_directory_free(good);
}

/* StartTLS demanded of a server that has no TLS: refused, never a bind
 * in the clear (srv accepts clear binds, so a fallback would succeed).
 * Likewise ldaps:// to a port that speaks plain LDAP. */
static void
starttls_without_server_tls_is_refused(void **state)
{
	struct ac_directory *d = open_tls(srv.uri, 1, tls.ca);
	struct ac_dir_user u;
	char uri[128], err[AC_ERRBUF];
	int port = 0;

	(void)state;
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_non_null(strstr(err, "StartTLS"));
	assert_int_equal(ac_directory_lookup(d, "alice", &u, err,
	    sizeof(err)), AC_ERR_UNAVAILABLE);
	ac_directory_free(d);
	assert_int_equal(sscanf(srv.uri, "ldap://127.0.0.1:%d", &port), 1);
	snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d/", port);
	d = open_tls(uri, 0, tls.ca);
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_UNAVAILABLE);
	assert_says_tls(err);
	ac_directory_free(d);
}

/* An unreadable CA file is the operator's mistake, named as such. */
static void
missing_ca_file_is_a_config_error(void **state)
{
	struct ac_directory *d = open_tls(tls.uri, 1, "no-such-ca.pem");
	struct ac_dir_user u;
	char err[AC_ERRBUF];

	(void)state;
	assert_int_equal(auth(d, "alice", "Alice-Demo-2026", &u, err),
	    AC_ERR_CONFIG);
	assert_non_null(strstr(err, "directory.ca_file"));
	ac_directory_free(d);
}

/* --- fixtures ----------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	/* A broken pipe to the helper must fail a test, not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (server_spawn(&srv, "slapd.py", "--control", NULL) != 0)
		return -1;
	return server_spawn(&tls, "slapd.py", "--control", "--tls");
}

static int
teardown(void **state)
{
	(void)state;
	server_quit(&srv);
	server_quit(&plain);
	server_quit(&fake_ad);
	server_quit(&tls);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(right_password_signs_in_with_entry_data),
		cmocka_unit_test(wrong_password_and_unknown_user_look_alike),
		cmocka_unit_test(empty_password_is_refused_before_any_bind),
		cmocka_unit_test(filter_metacharacters_match_nobody),
		cmocka_unit_test(roles_come_from_the_configured_groups),
		cmocka_unit_test(roles_by_group_search_without_memberof),
		cmocka_unit_test(failover_skips_a_dead_server),
		cmocka_unit_test(server_down_is_unavailable_then_recovers),
		cmocka_unit_test(hung_server_times_out),
		cmocka_unit_test(service_password_from_a_file),
		cmocka_unit_test(bad_config_is_refused_with_the_key),
		cmocka_unit_test(ad_bind_reasons_are_mapped),
		cmocka_unit_test(starttls_with_the_right_ca_signs_in),
		cmocka_unit_test(ldaps_with_the_right_ca_signs_in),
		cmocka_unit_test(wrong_ca_is_refused),
		cmocka_unit_test(tls_settings_are_per_handle),
		cmocka_unit_test(starttls_without_server_tls_is_refused),
		cmocka_unit_test(missing_ca_file_is_a_config_error),
	};

	return cmocka_run_group_tests_name("directory", tests, setup,
	    teardown);
}
