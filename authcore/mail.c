/*
 * mail.c - one-time codes by e-mail over SMTP (the only file that includes
 * curl).
 *
 * We build the RFC 5322 message ourselves, with every header value checked
 * so that no caller-supplied text can add a header line, and let libcurl
 * speak SMTP (RFC 5321), STARTTLS (RFC 3207) and AUTH (RFC 4954).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "mail.h"

#define MAIL_TIMEOUT_DEFAULT	10
#define MAIL_TIMEOUT_MAX	300
/* RFC 5322 section 2.1.1: a line is at most 998 characters plus CRLF. */
#define MAIL_MAX_LINE		998
/* RFC 2047 section 2: an encoded-word is at most 75 characters.  With the
 * 12 characters of "=?UTF-8?B?" and "?=", 63 remain: 45 bytes in Base64. */
#define MAIL_WORD_BYTES		45
#define MAIL_ENCODED_LINE	76
/* Room for every header but the subject and the sender's name. */
#define MAIL_HEADER_ROOM	(1024 + 2 * AC_MAX_EMAIL)
#define MAIL_MAX_FROM_NAME	128
#define MAIL_MAX_SERVER		256

struct ac_mail {
	char	*url;
	char	 server[MAIL_MAX_SERVER];	/* host:port, for messages */
	char	*from;
	char	*from_name;			/* NULL: none */
	char	*username;			/* NULL: no AUTH */
	char	*password;			/* wiped on free */
	char	*ca_file;			/* NULL: system CAs */
	int	 starttls;
	long	 timeout;
};

/* A bounded output buffer; err is set once anything did not fit. */
struct mbuf {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 err;
};

/* What libcurl's read callback hands out. */
struct upload {
	const char	*data;
	size_t		 len;
	size_t		 off;
};

static void
mb_add(struct mbuf *b, const char *s, size_t n)
{
	if (b->err || n >= b->cap - b->len) {
		b->err = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void mb_printf(struct mbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->err = 1;
		return;
	}
	b->len += (size_t)n;
}

/* --- checks on what goes into the message ------------------------------ */

/* RFC 5322 section 3.2.3 atext, the characters of a dot-atom. */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5321 section 4.5.3.1.1: a local part is at most 64 octets. */
static int
local_part_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* RFC 1035 section 2.3.1 labels (letters, digits, inner hyphens). */
static int
domain_ok(const char *s)
{
	size_t	label = 0;
	char	prev = '.';

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; prev = *s++) {
		if (*s == '.') {
			if (prev == '.' || prev == '-')
				return 0;
			label = 0;
			continue;
		}
		if (*s == '-' && prev == '.')
			return 0;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return prev != '.' && prev != '-';
}

int
ac_mail_address_ok(const char *addr)
{
	const char	*at;
	size_t		 len;

	if (addr == NULL)
		return 0;
	len = strnlen(addr, AC_MAX_EMAIL + 1);
	if (len == 0 || len > AC_MAX_EMAIL)
		return 0;
	if ((at = strchr(addr, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	return local_part_ok(addr, (size_t)(at - addr)) && domain_ok(at + 1);
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 section 4:
 * no overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) ||
		    (s[0] == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) ||
		    (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static int
utf8_ok(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * A header value we write: UTF-8, and no control character at all.  CR and
 * LF would end the header and start one of the caller's choosing.
 */
static int
header_text_ok(const char *s, char *err, size_t errlen, const char *what)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			ac_set_err(err, errlen, "%s contains a line break "
			    "(refused: it could inject mail headers)", what);
			return AC_ERR_INVALID;
		}
		if (*p < 0x20 || *p == 0x7f) {
			ac_set_err(err, errlen, "%s contains a control character",
			    what);
			return AC_ERR_INVALID;
		}
	}
	if (!utf8_ok(s)) {
		ac_set_err(err, errlen, "%s is not valid UTF-8", what);
		return AC_ERR_INVALID;
	}
	return 0;
}

/* --- the message (RFC 5322) ----------------------------------------- */

static int
needs_encoding(const char *s)
{
	const unsigned char	*p;

	/* "=?" in plain text would be read as the start of an encoded-word
	 * (RFC 2047 section 6.1), so such text is encoded as well. */
	if (strstr(s, "=?") != NULL)
		return 1;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}

/*
 * Writes s as RFC 2047 "B" encoded-words holding whole UTF-8 characters
 * (section 5), folded onto continuation lines (CRLF SP).  Section 2 limits
 * a line holding encoded-words to 76 characters; the first word shares its
 * line with the header name (used characters).
 */
static void
put_encoded_words(struct mbuf *b, const char *s, size_t used)
{
	unsigned char	 b64[4 * ((MAIL_WORD_BYTES + 2) / 3) + 1];
	size_t		 len = strlen(s), off = 0, n, room;

	while (off < len) {
		/* 12 characters of "=?UTF-8?B?" and "?="; 4 Base64
		 * characters carry 3 bytes. */
		room = (MAIL_ENCODED_LINE - used - 12) / 4 * 3;
		if (room > MAIL_WORD_BYTES)
			room = MAIL_WORD_BYTES;
		n = len - off;
		if (n > room) {
			n = room;
			/* Back off to the start of a character. */
			while (n > 0 &&
			    ((unsigned char)s[off + n] & 0xc0) == 0x80)
				n--;
		}
		EVP_EncodeBlock(b64, (const unsigned char *)s + off, (int)n);
		mb_printf(b, "%s=?UTF-8?B?%s?=", off == 0 ? "" : "\r\n ",
		    (const char *)b64);
		used = 1;
		off += n;
	}
}

/* RFC 5322 section 3.3 date in UTC. */
static void
put_date(struct mbuf *b, time_t now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	if (gmtime_r(&now, &tm) == NULL) {
		b->err = 1;
		return;
	}
	mb_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* RFC 5322 section 3.6.4: a unique id; 128 random bits left of the '@'
 * and the sender's domain right of it. */
static int
put_message_id(struct mbuf *b, const char *from)
{
	unsigned char	rnd[16];
	char		hex[2 * sizeof(rnd) + 1];
	size_t		i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return AC_ERR_CRYPTO;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	mb_printf(b, "Message-ID: <%s.tokenportal@%s>\r\n", hex,
	    strchr(from, '@') + 1);
	return 0;
}

/* From: with the optional display name, quoted or encoded. */
static void
put_from(struct mbuf *b, const struct ac_mail *m)
{
	if (m->from_name == NULL) {
		mb_printf(b, "From: <%s>\r\n", m->from);
		return;
	}
	mb_add(b, "From: ", 6);
	/* A quoted-string (RFC 5322 section 3.2.4) cannot hold '"' or '\\'
	 * unescaped; such names, like non-ASCII ones, are encoded. */
	if (needs_encoding(m->from_name) || strpbrk(m->from_name, "\"\\"))
		put_encoded_words(b, m->from_name, 6);
	else
		mb_printf(b, "\"%s\"", m->from_name);
	/* Folding before the address keeps the line short whatever the
	 * name's length (RFC 5322 section 3.2.2: CFWS may fold). */
	mb_printf(b, "\r\n <%s>\r\n", m->from);
}

/*
 * Appends body with every line ending made CRLF (RFC 5322 section 2.3),
 * ending with one.  Returns AC_ERR_INVALID for a line over 998 bytes.
 */
static int
put_body(struct mbuf *b, const char *body)
{
	const char	*p = body, *eol;
	size_t		 n;

	while (*p != '\0') {
		eol = p + strcspn(p, "\r\n");
		n = (size_t)(eol - p);
		if (n > MAIL_MAX_LINE)
			return AC_ERR_INVALID;
		mb_add(b, p, n);
		mb_add(b, "\r\n", 2);
		if (eol[0] == '\r' && eol[1] == '\n')
			p = eol + 2;
		else if (*eol != '\0')
			p = eol + 1;
		else
			p = eol;
	}
	return 0;
}

/* The whole message into b (sized by the caller). */
static int
build_message(struct mbuf *b, const struct ac_mail *m, const char *to,
    const char *subject, const char *body)
{
	int	r;

	put_from(b, m);
	mb_printf(b, "To: <%s>\r\n", to);
	mb_add(b, "Subject: ", 9);
	if (needs_encoding(subject))
		put_encoded_words(b, subject, 9);
	else
		mb_add(b, subject, strlen(subject));
	mb_add(b, "\r\n", 2);
	put_date(b, time(NULL));
	if ((r = put_message_id(b, m->from)) != 0)
		return r;
	mb_printf(b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n");
	if ((r = put_body(b, body)) != 0)
		return r;
	return b->err ? AC_ERR_TOO_LONG : 0;
}

/* --- sending --------------------------------------------------------- */

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload	*u = arg;
	size_t		 n = size * nmemb;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(dst, u->data + u->off, n);
	u->off += n;
	return n;
}

/* Our code and a one-line reason for a failed transfer. */
static int
curl_failure(CURLcode cc, const char *ebuf, const struct ac_mail *m,
    char *err, size_t errlen)
{
	const char	*why = ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_LOGIN_DENIED:
		ac_set_err(err, errlen, "mail server %s refused the login: %s",
		    m->server, why);
		return AC_ERR_DENIED;
	case CURLE_USE_SSL_FAILED:
		ac_set_err(err, errlen, "mail server %s does not offer STARTTLS "
		    "(smtp.starttls = 1): %s", m->server, why);
		return AC_ERR_UNAVAILABLE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		/* Nothing was sent: the handshake comes before AUTH and MAIL
		 * (RFC 3207 section 4, RFC 8314 section 3.3). */
		ac_set_err(err, errlen, "TLS with mail server %s failed: %s (is "
		    "its certificate signed by a CA in %s, and for that "
		    "host?)", m->server, why, m->ca_file != NULL ?
		    m->ca_file : "the system's store (no smtp.ca_file)");
		return AC_ERR_UNAVAILABLE;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		ac_set_err(err, errlen, "cannot reach mail server %s: %s",
		    m->server, why);
		return AC_ERR_UNAVAILABLE;
	default:
		ac_set_err(err, errlen, "mail server %s did not take the mail: %s",
		    m->server, why);
		return AC_ERR_UNAVAILABLE;
	}
}

/* Sets the connection options of m on c; 0 or AC_ERR_INTERNAL. */
static int
setup_curl(CURL *c, const struct ac_mail *m, char *ebuf)
{
	CURLcode	cc = CURLE_OK;

#define SET(opt, val) \
	do { if (cc == CURLE_OK) cc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, m->url);
	/* Only SMTP: a config typo must not make us fetch a URL. */
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, ebuf);
	SET(CURLOPT_CONNECTTIMEOUT, m->timeout);
	SET(CURLOPT_TIMEOUT, m->timeout);
	/* ALL: no mail unless STARTTLS succeeds; never a fallback to plain
	 * text.  smtps:// URLs do TLS first whatever this says. */
	if (m->starttls)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	/* libcurl's defaults, stated: the certificate must chain to a
	 * trusted CA and name the URL's host (RFC 6125). */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (m->ca_file != NULL) {
		/* The configured CAs only: Debian's libcurl would also search
		 * the system's CA folder. */
		SET(CURLOPT_CAINFO, m->ca_file);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (m->username != NULL) {
		SET(CURLOPT_USERNAME, m->username);
		SET(CURLOPT_PASSWORD, m->password != NULL ? m->password : "");
	}
#undef SET
	return cc == CURLE_OK ? 0 : AC_ERR_INTERNAL;
}

/* One SMTP transaction carrying msg to rcpt. */
static int
transfer(const struct ac_mail *m, const char *to, const struct mbuf *msg,
    char *err, size_t errlen)
{
	CURL			*c = NULL;
	struct curl_slist	*rcpt = NULL;
	struct upload		 up = { msg->buf, msg->len, 0 };
	char			 path[AC_MAX_EMAIL + 3], ebuf[CURL_ERROR_SIZE];
	CURLcode		 cc;
	int			 r = AC_ERR_INTERNAL;

	ebuf[0] = '\0';
	if ((c = curl_easy_init()) == NULL)
		goto out;
	if (setup_curl(c, m, ebuf) != 0)
		goto out;
	snprintf(path, sizeof(path), "<%s>", to);
	if ((rcpt = curl_slist_append(NULL, path)) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "<%s>", m->from);
	if (curl_easy_setopt(c, CURLOPT_MAIL_FROM, path) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READDATA, &up) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK)
		goto out;
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		r = curl_failure(cc, ebuf, m, err, errlen);
		goto out;
	}
	r = 0;
out:
	if (r == AC_ERR_INTERNAL)
		ac_set_err(err, errlen, "cannot set up libcurl for mail");
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return r;
}

/* Checks the caller's parts of a mail; 0 or an AC_ERR_* with err set. */
static int
check_parts(const char *to, const char *subject, const char *body,
    char *err, size_t errlen)
{
	int	r;

	if (to == NULL || subject == NULL || body == NULL) {
		ac_set_err(err, errlen, "mail needs a recipient, subject and body");
		return AC_ERR_INVALID;
	}
	if (strpbrk(to, "\r\n") != NULL || !ac_mail_address_ok(to)) {
		ac_set_err(err, errlen, "not a valid mail address");
		return AC_ERR_INVALID;
	}
	if (strnlen(subject, AC_MAX_MAIL_SUBJECT + 1) > AC_MAX_MAIL_SUBJECT) {
		ac_set_err(err, errlen, "mail subject longer than %d bytes",
		    AC_MAX_MAIL_SUBJECT);
		return AC_ERR_TOO_LONG;
	}
	if ((r = header_text_ok(subject, err, errlen, "mail subject")) != 0)
		return r;
	if (strnlen(body, AC_MAX_MAIL_BODY + 1) > AC_MAX_MAIL_BODY) {
		ac_set_err(err, errlen, "mail body longer than %d bytes",
		    AC_MAX_MAIL_BODY);
		return AC_ERR_TOO_LONG;
	}
	if (!utf8_ok(body)) {
		ac_set_err(err, errlen, "mail body is not valid UTF-8");
		return AC_ERR_INVALID;
	}
	return 0;
}

int
ac_mail_send(struct ac_mail *m, const char *to, const char *subject,
    const char *body, char *err, size_t errlen)
{
	struct mbuf	msg = { NULL, 0, 0, 0 };
	int		r;

	if (m == NULL) {
		ac_set_err(err, errlen, "mail not configured");
		return AC_ERR_INVALID;
	}
	if ((r = check_parts(to, subject, body, err, errlen)) != 0)
		return r;
	/* Bodies grow by at most one CR per line; an encoded subject by 4/3
	 * plus 15 characters per 45 bytes; the name likewise. */
	msg.cap = MAIL_HEADER_ROOM + 3 * AC_MAX_MAIL_SUBJECT +
	    3 * MAIL_MAX_FROM_NAME + 2 * strlen(body) + 3;
	if ((msg.buf = malloc(msg.cap)) == NULL) {
		ac_set_err(err, errlen, "out of memory");
		return AC_ERR_NOMEM;
	}
	msg.buf[0] = '\0';
	if ((r = build_message(&msg, m, to, subject, body)) != 0) {
		if (r == AC_ERR_INVALID)
			ac_set_err(err, errlen, "a mail body line is longer than "
			    "%d bytes", MAIL_MAX_LINE);
		else
			ac_set_err(err, errlen, "cannot build the mail: %s",
			    ac_strerror(r));
		goto out;
	}
	r = transfer(m, to, &msg, err, errlen);
out:
	/* The body holds a one-time code. */
	OPENSSL_cleanse(msg.buf, msg.cap);
	free(msg.buf);
	return r;
}

int
ac_mail_code_sender(void *arg, const char *to, const char *subject,
    const char *body, char *err, size_t errlen)
{
	return ac_mail_send(arg, to, subject, body, err, errlen);
}

/* --- setup ----------------------------------------------------------- */

int
ac_mail_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 :
	    AC_ERR_INTERNAL;
}

void
ac_mail_global_cleanup(void)
{
	curl_global_cleanup();
}

void
ac_mail_free(struct ac_mail *m)
{
	if (m == NULL)
		return;
	if (m->password != NULL) {
		OPENSSL_cleanse(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->url);
	free(m->from);
	free(m->from_name);
	free(m->username);
	free(m->ca_file);
	free(m);
}

/*
 * Checks smtp.url: smtp:// or smtps://, a host, no credentials (they
 * belong in smtp.username / smtp.password, which are never logged), and
 * remembers "host:port" for messages.
 */
static int
read_url(struct ac_mail *m, const char *url, char *err, size_t errlen)
{
	const char	*host;
	size_t		 n;

	if (strncmp(url, "smtp://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		host = url + 8;
	else {
		ac_set_err(err, errlen, "config key 'smtp.url' must start with "
		    "smtp:// or smtps://");
		return AC_ERR_CONFIG;
	}
	n = strcspn(host, "/?#");
	if (n == 0 || n >= sizeof(m->server) || strlen(url) > AC_MAX_URI) {
		ac_set_err(err, errlen, "config key 'smtp.url' needs a host "
		    "(smtp://HOST:PORT)");
		return AC_ERR_CONFIG;
	}
	if (memchr(host, '@', n) != NULL || strpbrk(url, " \t\r\n") != NULL) {
		ac_set_err(err, errlen, "config key 'smtp.url' must not hold "
		    "credentials or spaces (use smtp.username, smtp.password)");
		return AC_ERR_CONFIG;
	}
	memcpy(m->server, host, n);
	m->server[n] = '\0';
	if ((m->url = strdup(url)) == NULL)
		return AC_ERR_NOMEM;
	return 0;
}

/* smtp.from and smtp.from_name. */
static int
read_sender(struct ac_mail *m, const struct ac_config *cfg, char *err,
    size_t errlen)
{
	const char	*from = ac_config_get(cfg, "smtp.from", NULL);
	const char	*name = ac_config_get(cfg, "smtp.from_name", NULL);

	if (from == NULL) {
		ac_set_err(err, errlen, "missing required config key 'smtp.from' "
		    "(needed with smtp.url)");
		return AC_ERR_CONFIG;
	}
	if (!ac_mail_address_ok(from)) {
		ac_set_err(err, errlen, "config key 'smtp.from' is not a plain "
		    "mail address (user@example.org)");
		return AC_ERR_CONFIG;
	}
	if ((m->from = strdup(from)) == NULL)
		return AC_ERR_NOMEM;
	if (name == NULL)
		return 0;
	if (strlen(name) > MAIL_MAX_FROM_NAME ||
	    header_text_ok(name, NULL, 0, "") != 0) {
		ac_set_err(err, errlen, "config key 'smtp.from_name' must be one "
		    "line of UTF-8 text, at most %d bytes", MAIL_MAX_FROM_NAME);
		return AC_ERR_CONFIG;
	}
	if ((m->from_name = strdup(name)) == NULL)
		return AC_ERR_NOMEM;
	return 0;
}

/* The first line of path, without its line end, as the password. */
static int
read_password_file(struct ac_mail *m, const char *path, char *err,
    size_t errlen)
{
	char	 buf[AC_MAX_PASSWORD + 3];
	FILE	*f;
	size_t	 n;
	int	 r = AC_ERR_IO;

	if ((f = fopen(path, "re")) == NULL) {
		ac_set_err(err, errlen, "cannot read smtp.password_file %s", path);
		return AC_ERR_IO;
	}
	/* Unbuffered: stdio's own buffer would keep a copy of the password
	 * that fclose frees without wiping. */
	setvbuf(f, NULL, _IONBF, 0);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		ac_set_err(err, errlen, "cannot read smtp.password_file %s", path);
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > AC_MAX_PASSWORD || buf[0] == '\0') {
		ac_set_err(err, errlen, "smtp.password_file %s must hold one "
		    "password of 1..%d bytes", path, AC_MAX_PASSWORD);
		r = AC_ERR_CONFIG;
		goto out;
	}
	r = (m->password = strdup(buf)) == NULL ? AC_ERR_NOMEM : 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	return r;
}

/* smtp.username with smtp.password or smtp.password_file. */
static int
read_auth(struct ac_mail *m, const struct ac_config *cfg, char *err,
    size_t errlen)
{
	const char	*user = ac_config_get(cfg, "smtp.username", NULL);
	const char	*pass = ac_config_get(cfg, "smtp.password", NULL);
	char		*file = NULL;
	int		 r;

	if (user == NULL)
		return 0;
	if ((m->username = strdup(user)) == NULL)
		return AC_ERR_NOMEM;
	if (pass != NULL)
		return (m->password = strdup(pass)) == NULL ? AC_ERR_NOMEM : 0;
	if ((r = ac_config_path(cfg, "smtp.password_file", NULL, &file)) != 0)
		return r;
	if (file == NULL) {
		ac_set_err(err, errlen, "config key 'smtp.username' needs "
		    "smtp.password or smtp.password_file");
		return AC_ERR_CONFIG;
	}
	r = read_password_file(m, file, err, errlen);
	free(file);
	return r;
}

/* smtp.starttls, smtp.timeout_seconds, smtp.ca_file. */
static int
read_options(struct ac_mail *m, const struct ac_config *cfg, char *err,
    size_t errlen)
{
	long long	timeout;
	int		r;

	if ((r = ac_config_bool(cfg, "smtp.starttls", 0, &m->starttls, err,
	    errlen)) != 0)
		return r;
	if ((r = ac_config_int(cfg, "smtp.timeout_seconds",
	    MAIL_TIMEOUT_DEFAULT, 1, MAIL_TIMEOUT_MAX, &timeout, err,
	    errlen)) != 0)
		return r;
	m->timeout = (long)timeout;
	if ((r = ac_config_path(cfg, "smtp.ca_file", NULL, &m->ca_file)) != 0)
		return r;
	/* Found at start rather than at the first mail a user waits for. */
	if (m->ca_file != NULL && access(m->ca_file, R_OK) != 0) {
		ac_set_err(err, errlen, "config key 'smtp.ca_file': cannot read %s",
		    m->ca_file);
		return AC_ERR_CONFIG;
	}
	return 0;
}

/* 1 when "host[:port]" names this machine: 127.0.0.0/8, [::1], localhost. */
static int
server_is_loopback(const char *server)
{
	size_t n = strcspn(server, ":");

	if (strncmp(server, "[::1]", 5) == 0)
		return server[5] == '\0' || server[5] == ':';
	if (n == 9 && strncmp(server, "localhost", 9) == 0)
		return 1;
	return strncmp(server, "127.", 4) == 0 &&
	    strspn(server + 4, "0123456789.") == n - 4;
}

/*
 * AUTH PLAIN and LOGIN send the password merely Base64-encoded (RFC 4954
 * section 4): over plain smtp:// without STARTTLS anyone on the path reads
 * it.  Refuse that set-up, except to a server on this machine (a local
 * relay, the test sink), where the password never crosses a network.
 */
static int
check_auth_transport(const struct ac_mail *m, char *err, size_t errlen)
{
	if (m->username == NULL || m->starttls ||
	    strncmp(m->url, "smtps://", 8) == 0 ||
	    server_is_loopback(m->server))
		return 0;
	ac_set_err(err, errlen, "config key 'smtp.username' would send the SMTP "
	    "password in the clear to %s: set smtp.starttls = 1 or use an "
	    "smtps:// smtp.url", m->server);
	return AC_ERR_CONFIG;
}

int
ac_mail_new(const struct ac_config *cfg, struct ac_mail **out, char *err,
    size_t errlen)
{
	struct ac_mail	*m = NULL;
	const char	*url;
	int		 r = AC_ERR_INTERNAL;

	if (out == NULL || cfg == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if ((url = ac_config_get(cfg, "smtp.url", NULL)) == NULL) {
		ac_set_err(err, errlen, "mail not configured (no smtp.url)");
		return AC_ERR_NOT_FOUND;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	if ((r = read_url(m, url, err, errlen)) != 0 ||
	    (r = read_sender(m, cfg, err, errlen)) != 0 ||
	    (r = read_auth(m, cfg, err, errlen)) != 0 ||
	    (r = read_options(m, cfg, err, errlen)) != 0 ||
	    (r = check_auth_transport(m, err, errlen)) != 0)
		goto out;
	*out = m;
	m = NULL;			/* transferred */
	r = 0;
out:
	if (r == AC_ERR_NOMEM)
		ac_set_err(err, errlen, "out of memory");
	ac_mail_free(m);
	return r;
}
