/*
 * test_mail.c - mailing one-time codes.
 *
 * A real SMTP server (tests/lib/smtpsink.py, started on a free loopback
 * port) receives what libcurl sends and spools each mail exactly as it
 * arrived; the checks read those files.  Headers that need decoding are
 * read back with Python's email package, an independent RFC 5322 / 2047
 * parser.  Nothing here sleeps: the sink writes a mail before it answers
 * 250, so a send that returned 0 has its file on disk.
 *
 * The TLS cases use two more sinks with a throw-away CA made once per run
 * by the openssl CLI (tests/lib/testca.py): one that requires STARTTLS
 * before MAIL and AUTH, one that speaks TLS from the first byte (smtps).
 * The sink notes the TLS version of each mail in its envelope file.
 */
#define _GNU_SOURCE		/* strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <malloc.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "mail.h"

/*
 * A free() that looks into every block freed while `watch` is set, so a
 * test can see that a password was wiped before its memory went back to
 * the allocator (glibc's __libc_free does the work; under valgrind, which
 * replaces free() itself, the check sees nothing).
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

#define FROM	"portal@example.org"
#define ALICE	"alice@example.org"

/* One running sink. */
struct sink {
	pid_t	pid;
	int	port;
	char	spool[64];
	int	count;		/* mails read so far */
};

static char		tmpdir[] = "/tmp/test_mail.XXXXXX";
static char		sink_script[1024];
static struct sink	plain;		/* no AUTH; rejects nobody@ */
static struct sink	authed;		/* AUTH sender:s3cret-pw */
static struct sink	starttls;	/* STARTTLS, then AUTH sender:s3cret-pw */
static struct sink	smtps;		/* implicit TLS, no AUTH */

/* The throw-away certificates (tests/lib/testca.py). */
static struct {
	char	ca[256];	/* signed the sinks' certificate */
	char	cert[256];
	char	key[256];
	char	other_ca[256];	/* same name, another key: signed nothing */
} pki;

/* Finds tests/lib/smtpsink.py from TP_SRC or the working directory. */
static int
find_script(void)
{
	const char	*src = getenv("TP_SRC");

	snprintf(sink_script, sizeof(sink_script), "%s/tests/lib/smtpsink.py",
	    src != NULL ? src : ".");
	return access(sink_script, R_OK);
}

/* Makes the certificates under tmpdir/tls with testca.py; reads the
 * paths from its output. */
static int
make_pki(void)
{
	char		 cmd[2048], line[512], path[256];
	FILE		*p;
	const char	*src = getenv("TP_SRC");

	snprintf(cmd, sizeof(cmd), "python3 '%.900s/tests/lib/testca.py' "
	    "'%s/tls'", src != NULL ? src : ".", tmpdir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (sscanf(line, "ca %255s", path) == 1)
			snprintf(pki.ca, sizeof(pki.ca), "%s", path);
		else if (sscanf(line, "cert %255s", path) == 1)
			snprintf(pki.cert, sizeof(pki.cert), "%s", path);
		else if (sscanf(line, "key %255s", path) == 1)
			snprintf(pki.key, sizeof(pki.key), "%s", path);
		else if (sscanf(line, "other_ca %255s", path) == 1)
			snprintf(pki.other_ca, sizeof(pki.other_ca), "%s",
			    path);
	}
	if (pclose(p) != 0 || pki.ca[0] == '\0' || pki.other_ca[0] == '\0')
		return -1;
	return 0;
}

/* Starts a sink spooling into a new folder under tmpdir with the extra
 * arguments (NULL-terminated); reads the port from its first line of
 * output. */
static int
sink_start(struct sink *s, const char *name, const char *const *extra)
{
	const char	*argv[16] = { "python3", sink_script, "--port", "0",
	    "--spool" };
	char		 line[128];
	int		 fds[2], i, n = 5;
	FILE		*f;

	argv[n++] = s->spool;
	for (i = 0; extra[i] != NULL && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	snprintf(s->spool, sizeof(s->spool), "%s/%s", tmpdir, name);
	if (mkdir(s->spool, 0700) != 0 || pipe(fds) != 0)
		return -1;
	if ((s->pid = fork()) < 0)
		return -1;
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execvp("python3", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "smtpsink listening on 127.0.0.1:%d", &s->port) != 1)
		s->port = 0;
	fclose(f);
	return s->port > 0 ? 0 : -1;
}

static void
sink_stop(struct sink *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* Reads a whole file into a malloc'd string, or NULL. */
static char *
slurp(const char *path)
{
	char	*buf = NULL;
	FILE	*f;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else
			buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

/* The next mail the sink received ("eml" or "env" part); NULL if none. */
static char *
next_mail(struct sink *s, const char *part, char *path, size_t pathlen)
{
	s->count++;
	snprintf(path, pathlen, "%s/%04d.%s", s->spool, s->count, part);
	return slurp(path);
}

/* True if nothing new arrived at the sink. */
static int
no_new_mail(const struct sink *s)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/%04d.eml", s->spool, s->count + 1);
	return access(path, F_OK) != 0;
}

static struct ac_mail *
mailer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A mailer from config text (printf-style); fails the test on error. */
static struct ac_mail *
mailer(const char *fmt, ...)
{
	char		 text[1024], err[AC_ERRBUF] = "";
	ac_config	*cfg = NULL;
	struct ac_mail	*m = NULL;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_int_equal(ac_config_parse(text, tmpdir, &cfg, err,
	    sizeof(err)), 0);
	if (ac_mail_new(cfg, &m, err, sizeof(err)) != 0)
		fail_msg("ac_mail_new: %s", err);
	ac_config_free(cfg);
	return m;
}

/* ac_mail_new's result for config text; err gets its message. */
static int
mailer_error(const char *text, char *err, size_t errlen)
{
	ac_config	*cfg = NULL;
	struct ac_mail	*m = NULL;
	int		 r;

	assert_int_equal(ac_config_parse(text, tmpdir, &cfg, err, errlen), 0);
	r = ac_mail_new(cfg, &m, err, errlen);
	if (r == 0)
		assert_non_null(m);
	else
		assert_null(m);
	ac_mail_free(m);
	ac_config_free(cfg);
	return r;
}

/*
 * Runs python3's email parser on a spooled mail and returns what the
 * expression prints (m is the message, raw its bytes), e.g. "m['subject']".
 */
static void
python_header(const char *eml, const char *expr, char *out, size_t outlen)
{
	char	 cmd[2048];
	FILE	*p;
	size_t	 n;

	snprintf(cmd, sizeof(cmd), "python3 -c 'import sys, email, base64, re, "
	    "email.policy; raw = open(sys.argv[1], \"rb\").read(); "
	    "m = email.message_from_bytes(raw, policy=email.policy.default); "
	    "sys.stdout.buffer.write(str(%s).encode())' %s", expr, eml);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

/* Every line of text ends in CRLF (RFC 5322 section 2.1) and none is
 * longer than 998 characters. */
static void
assert_crlf_lines(const char *text)
{
	const char	*p, *line = text;

	for (p = text; *p != '\0'; p++) {
		if (*p != '\n')
			continue;
		assert_true(p > text && p[-1] == '\r');
		assert_true(p - line <= 999);
		line = p + 1;
	}
	assert_true(p > text && p[-1] == '\n');
}

static void
sends_a_plain_mail_with_all_headers(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	char		 err[AC_ERRBUF] = "", path[128], *eml, *env, *body;
	const char	*date;
	struct tm	 tm;
	time_t		 sent;

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, "Your sign-in code",
	    "Your code is 482913.\nIt is valid for 5 minutes.\n", err,
	    sizeof(err)), 0);
	env = next_mail(&plain, "env", path, sizeof(path));
	assert_non_null(env);
	assert_string_equal(env, "MAIL FROM:<" FROM ">\nRCPT TO:<" ALICE ">\n");
	plain.count--;
	eml = next_mail(&plain, "eml", path, sizeof(path));
	assert_non_null(eml);
	assert_crlf_lines(eml);
	assert_non_null(strstr(eml, "From: <" FROM ">\r\n"));
	assert_non_null(strstr(eml, "\r\nTo: <" ALICE ">\r\n"));
	assert_non_null(strstr(eml, "\r\nSubject: Your sign-in code\r\n"));
	assert_non_null(strstr(eml, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(eml,
	    "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(eml, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
	assert_non_null(strstr(eml, "\r\nMessage-ID: <"));
	assert_non_null(strstr(eml, "@example.org>\r\n"));
	/* Date: parsed as RFC 5322 section 3.3 says, close to now. */
	date = strstr(eml, "\r\nDate: ");
	assert_non_null(date);
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(date + 8, "%a, %d %b %Y %H:%M:%S +0000", &tm));
	sent = timegm(&tm);
	assert_true(sent > time(NULL) - 60 && sent <= time(NULL) + 1);
	body = strstr(eml, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4,
	    "Your code is 482913.\r\nIt is valid for 5 minutes.\r\n");
	free(env);
	free(eml);
	ac_mail_free(m);
}

/* RFC 2047: a non-ASCII subject arrives as encoded-words that a standard
 * parser decodes back, split only between characters; lines stay short. */
static void
utf8_subject_is_encoded(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.from_name = Zugangsportal Müller & "
	    "Söhne\n", plain.port);
	const char	*subject = "Ihr Anmeldecode für das Portal – gültig "
	    "5 Minuten ✓ Ünïcödé ✓ Ünïcödé ✓ Ünïcödé ✓ 日本語のテキスト";
	char		 err[AC_ERRBUF], path[128], got[1024], *eml, *line;

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, subject, "Grüße\n", err,
	    sizeof(err)), 0);
	eml = next_mail(&plain, "eml", path, sizeof(path));
	assert_non_null(eml);
	assert_crlf_lines(eml);
	assert_non_null(strstr(eml, "\r\nSubject: =?UTF-8?B?"));
	/* Header lines (up to the blank line) within RFC 5322's 78. */
	for (line = eml; strncmp(line, "\r\n", 2) != 0;
	    line = strstr(line, "\r\n") + 2)
		assert_true(strstr(line, "\r\n") - line <= 78);
	python_header(path, "m[\"subject\"]", got, sizeof(got));
	assert_string_equal(got, subject);
	python_header(path, "m[\"from\"].addresses[0].display_name", got,
	    sizeof(got));
	assert_string_equal(got, "Zugangsportal Müller & Söhne");
	/* RFC 2047 section 5: each word alone is whole UTF-8 characters
	 * (Python's parser would forgive a split, so decode word by word). */
	python_header(path, "\"\".join(base64.b64decode(w).decode() for w in "
	    "re.findall(rb\"=[?]UTF-8[?]B[?]([^?]*)[?]=\", raw))", got,
	    sizeof(got));
	assert_string_equal(got, "Zugangsportal Müller & Söhne"
	    "Ihr Anmeldecode für das Portal – gültig 5 Minuten ✓ Ünïcödé ✓ "
	    "Ünïcödé ✓ Ünïcödé ✓ 日本語のテキスト");
	python_header(path, "m.get_content().rstrip()", got, sizeof(got));
	assert_string_equal(got, "Grüße");
	free(eml);
	ac_mail_free(m);
}

/* Plain text that looks like an encoded-word is encoded so that it reads
 * back as typed (RFC 2047 section 6.1). */
static void
ascii_subject_resembling_encoded_word_survives(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	const char	*subject = "code =?UTF-8?B?QUJD?= here";
	char		 err[AC_ERRBUF], path[128], got[256], *eml;

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, subject, "x", err,
	    sizeof(err)), 0);
	eml = next_mail(&plain, "eml", path, sizeof(path));
	assert_non_null(eml);
	python_header(path, "m[\"subject\"]", got, sizeof(got));
	assert_string_equal(got, subject);
	free(eml);
	ac_mail_free(m);
}

/* Lines that start with a dot, and a lone dot, arrive unchanged (libcurl
 * stuffs, the server unstuffs: RFC 5321 section 4.5.2). */
static void
dot_lines_arrive_intact(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	char		 err[AC_ERRBUF], path[128], *eml, *body;

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, "dots",
	    "first\n.\n..two\n.end\r\nlast", err, sizeof(err)), 0);
	eml = next_mail(&plain, "eml", path, sizeof(path));
	assert_non_null(eml);
	body = strstr(eml, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4,
	    "first\r\n.\r\n..two\r\n.end\r\nlast\r\n");
	free(eml);
	ac_mail_free(m);
}

static void
header_injection_is_refused(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	char		 err[AC_ERRBUF];

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, "Hi\r\nBcc: evil@example.net",
	    "123456", err, sizeof(err)), AC_ERR_INVALID);
	assert_non_null(strstr(err, "line break"));
	assert_int_equal(ac_mail_send(m, ALICE, "Hi\nBcc: evil@example.net",
	    "123456", err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, ALICE, "tab\there", "123456", err,
	    sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, ALICE "\r\nBcc: evil@example.net",
	    "Hi", "123456", err, sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, ALICE ">\r\nRCPT TO:<evil@example.net",
	    "Hi", "123456", err, sizeof(err)), AC_ERR_INVALID);
	assert_null(strstr(err, "123456"));
	assert_true(no_new_mail(&plain));
	ac_mail_free(m);
}

static void
addresses_are_validated(void **state)
{
	static const char *const bad[] = {
		"", "alice", "@example.org", "alice@", "a@b@example.org",
		"alice@exa mple.org", "<alice@example.org>",
		"Alice <alice@example.org>", "alice@example..org",
		".alice@example.org", "alice.@example.org",
		"al..ice@example.org", "alice@-example.org",
		"alice@example-.org", "alice@example.org.",
		"alice@.example.org", "alice@example.org,bob@example.org",
		"al\"ice@example.org", "al(ice)@example.org",
		"al\xc3\xaf" "ce@example.org", "alice@ex_ample.org",
		"alice@[127.0.0.1]", "alice@example.org\n", NULL };
	static const char *const good[] = {
		"alice@example.org", "first.last+tag@sub.example.co.uk",
		"o'brien@example.org", "x@localhost", "A-Z_09!#$%&*/=?^`{|}~@e.x",
		NULL };
	char		 addr[AC_MAX_EMAIL + 2], label63[64];
	size_t		 i;

	(void)state;
	memset(label63, 'b', 63);
	label63[63] = '\0';
	assert_int_equal(ac_mail_address_ok(NULL), 0);
	for (i = 0; bad[i] != NULL; i++)
		if (ac_mail_address_ok(bad[i]))
			fail_msg("accepted bad address '%s'", bad[i]);
	for (i = 0; good[i] != NULL; i++)
		if (!ac_mail_address_ok(good[i]))
			fail_msg("refused good address '%s'", good[i]);
	/* Local part: 64 bytes at most (RFC 5321 section 4.5.3.1.1). */
	memset(addr, 'a', 64);
	snprintf(addr + 64, sizeof(addr) - 64, "@example.org");
	assert_int_equal(ac_mail_address_ok(addr), 1);
	memset(addr, 'a', 65);
	snprintf(addr + 65, sizeof(addr) - 65, "@example.org");
	assert_int_equal(ac_mail_address_ok(addr), 0);
	/* Whole address: AC_MAX_EMAIL (labels of 63, RFC 1035's maximum). */
	snprintf(addr, sizeof(addr), "a@%.63s", label63);
	while (strlen(addr) + 64 <= AC_MAX_EMAIL)
		snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr),
		    ".%.63s", label63);
	snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), ".%.*s",
	    (int)(AC_MAX_EMAIL - strlen(addr) - 1), label63);
	assert_int_equal(strlen(addr), AC_MAX_EMAIL);
	assert_int_equal(ac_mail_address_ok(addr), 1);
	snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "c");
	assert_int_equal(ac_mail_address_ok(addr), 0);
	/* A label of 64 is too long even in a short address. */
	snprintf(addr, sizeof(addr), "a@%.63sb.org", label63);
	assert_int_equal(ac_mail_address_ok(addr), 0);
}

static void
bad_recipients_and_oversized_mails_are_refused(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	char		 err[AC_ERRBUF], *big;

	(void)state;
	assert_int_equal(ac_mail_send(m, "Alice <" ALICE ">", "Hi", "1", err,
	    sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, "", "Hi", "1", err, sizeof(err)),
	    AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, NULL, "Hi", "1", err, sizeof(err)),
	    AC_ERR_INVALID);
	big = malloc(AC_MAX_MAIL_BODY + 2);
	assert_non_null(big);
	memset(big, 'x', AC_MAX_MAIL_SUBJECT + 1);
	big[AC_MAX_MAIL_SUBJECT + 1] = '\0';
	assert_int_equal(ac_mail_send(m, ALICE, big, "1", err, sizeof(err)),
	    AC_ERR_TOO_LONG);
	memset(big, 'x', AC_MAX_MAIL_BODY + 1);
	big[AC_MAX_MAIL_BODY + 1] = '\0';
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", big, err, sizeof(err)),
	    AC_ERR_TOO_LONG);
	/* RFC 5322 section 2.1.1: 998 characters per line at most. */
	big[999] = '\0';
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", big, err, sizeof(err)),
	    AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, ALICE, "Hi \xff", "1", err,
	    sizeof(err)), AC_ERR_INVALID);
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", "\xc3(", err,
	    sizeof(err)), AC_ERR_INVALID);
	assert_true(no_new_mail(&plain));
	free(big);
	ac_mail_free(m);
}

/* The server says 550 to RCPT: a clear error, no mail. */
static void
refused_recipient_is_reported(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\n", plain.port);
	char		 err[AC_ERRBUF] = "";

	(void)state;
	assert_int_equal(ac_mail_send(m, "nobody@example.org", "Hi", "654321",
	    err, sizeof(err)), AC_ERR_UNAVAILABLE);
	assert_non_null(strstr(err, "did not take the mail"));
	assert_null(strstr(err, "654321"));
	assert_true(no_new_mail(&plain));
	ac_mail_free(m);
}

/* A port nobody listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void
server_down_is_a_clear_error(void **state)
{
	int		 port = closed_port();
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.timeout_seconds = 3\n", port);
	char		 err[AC_ERRBUF] = "", want[64];

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", "Your code is 777111",
	    err, sizeof(err)), AC_ERR_UNAVAILABLE);
	snprintf(want, sizeof(want), "cannot reach mail server 127.0.0.1:%d",
	    port);
	assert_non_null(strstr(err, want));
	assert_null(strstr(err, "777111"));
	ac_mail_free(m);
}

/* smtp.starttls = 1 against a server without STARTTLS: nothing is sent
 * in the clear. */
static void
starttls_required_but_not_offered_fails(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.starttls = 1\n", plain.port);
	char		 err[AC_ERRBUF] = "";

	(void)state;
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", "1", err, sizeof(err)),
	    AC_ERR_UNAVAILABLE);
	assert_non_null(strstr(err, "STARTTLS"));
	assert_true(no_new_mail(&plain));
	ac_mail_free(m);
}

/* --- TLS -------------------------------------------------------------- */

/* The envelope file of the mail next_mail() just read from s. */
static char *
last_envelope(const struct sink *s)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/%04d.env", s->spool, s->count);
	return slurp(path);
}

/* True if the sink saw an AUTH command before STARTTLS. */
static int
cleartext_auth_seen(const struct sink *s)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/cleartext-auth", s->spool);
	return access(path, F_OK) == 0;
}

/* The message an operator reads must point at TLS. */
static void
assert_says_tls(const char *err)
{
	if (strstr(err, "TLS") == NULL && strstr(err, "certificate") == NULL)
		fail_msg("'%s' does not mention TLS or the certificate", err);
}

/* Sends one mail with a code through m and checks it arrived at s, over
 * TLS, with the code intact. */
static void
assert_delivered_over_tls(struct ac_mail *m, struct sink *s,
    const char *auth_user)
{
	char	 err[AC_ERRBUF] = "", path[128], *eml, *env;

	if (ac_mail_send(m, ALICE, "Your sign-in code",
	    "Your code is 482913.\n", err, sizeof(err)) != 0)
		fail_msg("send: %s", err);
	eml = next_mail(s, "eml", path, sizeof(path));
	assert_non_null(eml);
	assert_non_null(strstr(eml, "Your code is 482913."));
	env = last_envelope(s);
	assert_non_null(env);
	assert_non_null(strstr(env, "RCPT TO:<" ALICE ">"));
	assert_non_null(strstr(env, "\nTLS TLSv1."));
	if (auth_user != NULL)
		assert_non_null(strstr(env, auth_user));
	free(eml);
	free(env);
}

/* STARTTLS with the CA that signed the server's certificate: delivered,
 * and the login went over TLS (the sink refuses AUTH before STARTTLS and
 * does not even offer it). */
static void
starttls_with_the_right_ca_delivers(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.starttls = 1\nsmtp.ca_file = %s\n"
	    "smtp.username = sender\nsmtp.password = s3cret-pw\n",
	    starttls.port, pki.ca);

	(void)state;
	assert_delivered_over_tls(m, &starttls, "AUTH sender");
	assert_false(cleartext_auth_seen(&starttls));
	ac_mail_free(m);
}

/* smtps:// (TLS from the first byte), by IP and by the name localhost
 * (both are in the certificate's subjectAltName). */
static void
smtps_with_the_right_ca_delivers(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtps://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.ca_file = %s\n", smtps.port, pki.ca);

	(void)state;
	assert_delivered_over_tls(m, &smtps, NULL);
	ac_mail_free(m);
	m = mailer("smtp.url = smtps://localhost:%d\nsmtp.from = " FROM
	    "\nsmtp.ca_file = %s\nsmtp.starttls = 1\n", smtps.port, pki.ca);
	assert_delivered_over_tls(m, &smtps, NULL);
	ac_mail_free(m);
}

/*
 * A certificate from a CA we were not told to trust (smtp.ca_file names
 * another CA, or none: the system's CAs do not know the test CA): a clear
 * error, nothing delivered, no password sent, and no retry in the clear.
 */
static void
wrong_ca_is_refused_and_nothing_delivered(void **state)
{
	struct sink	*sinks[] = { &starttls, &smtps };
	const char	*cas[] = { pki.other_ca, NULL };
	struct ac_mail	*m;
	char		 err[AC_ERRBUF];
	size_t		 i, j;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			m = mailer("smtp.url = %s://127.0.0.1:%d\n"
			    "smtp.from = " FROM "\nsmtp.starttls = 1\n"
			    "smtp.username = sender\n"
			    "smtp.password = s3cret-pw\n%s%s%s",
			    i == 0 ? "smtp" : "smtps", sinks[i]->port,
			    cas[j] != NULL ? "smtp.ca_file = " : "",
			    cas[j] != NULL ? cas[j] : "",
			    cas[j] != NULL ? "\n" : "");
			err[0] = '\0';
			assert_int_equal(ac_mail_send(m, ALICE, "Hi",
			    "Your code is 551177", err, sizeof(err)),
			    AC_ERR_UNAVAILABLE);
			if (getenv("TEST_VERBOSE") != NULL)
				fprintf(stderr, "# %s\n", err);
			assert_says_tls(err);
			assert_null(strstr(err, "551177"));
			assert_null(strstr(err, "s3cret-pw"));
			assert_true(no_new_mail(sinks[i]));
			ac_mail_free(m);
		}
	}
	assert_false(cleartext_auth_seen(&starttls));
}

/* With smtp.starttls = 0 nothing is encrypted, so a server that wants
 * STARTTLS first refuses the mail, and the password is not sent: AUTH is
 * offered only after STARTTLS. */
static void
auth_only_after_starttls(void **state)
{
	struct ac_mail	*m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.ca_file = %s\n"
	    "smtp.username = sender\nsmtp.password = s3cret-pw\n",
	    starttls.port, pki.ca);
	char		 err[AC_ERRBUF] = "";

	(void)state;
	assert_true(ac_mail_send(m, ALICE, "Hi", "Your code is 551177", err,
	    sizeof(err)) < 0);
	assert_true(no_new_mail(&starttls));
	assert_false(cleartext_auth_seen(&starttls));
	assert_null(strstr(err, "s3cret-pw"));
	ac_mail_free(m);
	/* The same settings with STARTTLS on: delivered, logged in. */
	m = mailer("smtp.url = smtp://127.0.0.1:%d\n"
	    "smtp.from = " FROM "\nsmtp.ca_file = %s\nsmtp.starttls = 1\n"
	    "smtp.username = sender\nsmtp.password = s3cret-pw\n",
	    starttls.port, pki.ca);
	assert_delivered_over_tls(m, &starttls, "AUTH sender");
	assert_false(cleartext_auth_seen(&starttls));
	ac_mail_free(m);
}

/* AUTH with the password from a file next to the config; a wrong
 * password is AC_ERR_DENIED. */
static void
auth_with_password_file(void **state)
{
	struct ac_mail	*m;
	char		 err[AC_ERRBUF] = "", path[128], *env;
	FILE		*f;

	(void)state;
	snprintf(path, sizeof(path), "%s/smtp.pw", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("s3cret-pw\n", f);
	fclose(f);
	m = mailer("smtp.url = smtp://127.0.0.1:%d\nsmtp.from = " FROM "\n"
	    "smtp.username = sender\nsmtp.password_file = smtp.pw\n",
	    authed.port);
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", "1", err, sizeof(err)),
	    0);
	env = next_mail(&authed, "env", path, sizeof(path));
	assert_non_null(env);
	assert_non_null(strstr(env, "AUTH sender\n"));
	free(env);
	ac_mail_free(m);

	m = mailer("smtp.url = smtp://127.0.0.1:%d\nsmtp.from = " FROM "\n"
	    "smtp.username = sender\nsmtp.password = wrong\n", authed.port);
	assert_int_equal(ac_mail_send(m, ALICE, "Hi", "1", err, sizeof(err)),
	    AC_ERR_DENIED);
	assert_null(strstr(err, "wrong"));
	assert_true(no_new_mail(&authed));
	ac_mail_free(m);
}

/* Reading smtp.password_file leaves no copy of the password in freed
 * memory (stdio's buffer included). */
static void
password_file_leaves_no_copy(void **state)
{
	static const char	 pw[] = "pw-4e7a91c03d";
	char			 err[AC_ERRBUF] = "", path[128];
	FILE			*f;

	(void)state;
	snprintf(path, sizeof(path), "%s/leak.pw", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", pw);
	fclose(f);
	watch = pw;
	watch_seen = 0;
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1\n"
	    "smtp.from = " FROM "\nsmtp.username = u\n"
	    "smtp.password_file = leak.pw\n", err, sizeof(err)), 0);
	watch = NULL;
	assert_false(watch_seen);
}

static void
missing_or_bad_settings(void **state)
{
	char	err[AC_ERRBUF];

	(void)state;
	assert_int_equal(mailer_error("store.path = x\n", err, sizeof(err)),
	    AC_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "not configured"));
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1:25\n", err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "smtp.from"));
	assert_int_equal(mailer_error("smtp.url = http://127.0.0.1/\n"
	    "smtp.from = " FROM "\n", err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "smtp.url"));
	assert_int_equal(mailer_error("smtp.url = smtp://u:pw@127.0.0.1\n"
	    "smtp.from = " FROM "\n", err, sizeof(err)), AC_ERR_CONFIG);
	assert_null(strstr(err, "pw@"));
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1\n"
	    "smtp.from = not-an-address\n", err, sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1\n"
	    "smtp.from = " FROM "\nsmtp.username = u\n", err, sizeof(err)),
	    AC_ERR_CONFIG);
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1\n"
	    "smtp.from = " FROM "\nsmtp.username = u\n"
	    "smtp.password_file = no-such-file\n", err, sizeof(err)),
	    AC_ERR_IO);
	/* AUTH over plain smtp:// to another host: the password would
	 * cross the network in the clear. */
	assert_int_equal(mailer_error("smtp.url = smtp://mail.example.org:587"
	    "\nsmtp.from = " FROM "\nsmtp.username = u\nsmtp.password = p\n",
	    err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "smtp.starttls"));
	assert_int_equal(mailer_error("smtp.url = smtp://127.0.0.1.example.org"
	    "\nsmtp.from = " FROM "\nsmtp.username = u\nsmtp.password = p\n",
	    err, sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(mailer_error("smtp.url = smtp://mail.example.org:587"
	    "\nsmtp.from = " FROM "\nsmtp.username = u\nsmtp.password = p\n"
	    "smtp.starttls = 1\n", err, sizeof(err)), 0);
	assert_int_equal(mailer_error("smtp.url = smtps://mail.example.org"
	    "\nsmtp.from = " FROM "\nsmtp.username = u\nsmtp.password = p\n",
	    err, sizeof(err)), 0);
	assert_int_equal(mailer_error("smtp.url = smtp://[::1]:2525"
	    "\nsmtp.from = " FROM "\nsmtp.username = u\nsmtp.password = p\n",
	    err, sizeof(err)), 0);
	assert_int_equal(mailer_error("smtp.url = smtps://mail.example.org:465"
	    "\nsmtp.from = " FROM "\nsmtp.starttls = 1\n"
	    "smtp.timeout_seconds = 5\n", err, sizeof(err)), 0);
	/* A CA file that cannot be read is found at start, not at the
	 * first mail. */
	assert_int_equal(mailer_error("smtp.url = smtps://127.0.0.1\n"
	    "smtp.from = " FROM "\nsmtp.ca_file = no-such-ca.pem\n", err,
	    sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "smtp.ca_file"));
	ac_mail_free(NULL);
}

static int
setup(void **state)
{
	const char *plain_args[] = { "--reject", "nobody@example.org", NULL };
	const char *auth_args[] = { "--auth", "sender:s3cret-pw", NULL };
	const char *starttls_args[] = { "--auth", "sender:s3cret-pw",
	    "--tls-cert", pki.cert, "--tls-key", pki.key, NULL };
	const char *smtps_args[] = { "--tls-cert", pki.cert, "--tls-key",
	    pki.key, "--implicit-tls", NULL };

	(void)state;
	if (find_script() != 0 || mkdtemp(tmpdir) == NULL ||
	    ac_mail_global_init() != 0 || make_pki() != 0)
		return -1;
	if (sink_start(&plain, "plain", plain_args) != 0 ||
	    sink_start(&starttls, "starttls", starttls_args) != 0 ||
	    sink_start(&smtps, "smtps", smtps_args) != 0)
		return -1;
	return sink_start(&authed, "authed", auth_args);
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	sink_stop(&plain);
	sink_stop(&authed);
	sink_stop(&starttls);
	sink_stop(&smtps);
	ac_mail_global_cleanup();
	/* tmpdir is ours: made by mkdtemp above. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sends_a_plain_mail_with_all_headers),
		cmocka_unit_test(utf8_subject_is_encoded),
		cmocka_unit_test(ascii_subject_resembling_encoded_word_survives),
		cmocka_unit_test(dot_lines_arrive_intact),
		cmocka_unit_test(header_injection_is_refused),
		cmocka_unit_test(addresses_are_validated),
		cmocka_unit_test(bad_recipients_and_oversized_mails_are_refused),
		cmocka_unit_test(refused_recipient_is_reported),
		cmocka_unit_test(server_down_is_a_clear_error),
		cmocka_unit_test(starttls_required_but_not_offered_fails),
		cmocka_unit_test(starttls_with_the_right_ca_delivers),
		cmocka_unit_test(smtps_with_the_right_ca_delivers),
		cmocka_unit_test(wrong_ca_is_refused_and_nothing_delivered),
		cmocka_unit_test(auth_only_after_starttls),
		cmocka_unit_test(auth_with_password_file),
		cmocka_unit_test(password_file_leaves_no_copy),
		cmocka_unit_test(missing_or_bad_settings),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
