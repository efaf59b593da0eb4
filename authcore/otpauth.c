/*
 * otpauth.c - otpauth:// URIs per Google's Key URI Format
 * (github.com/google/google-authenticator/wiki/Key-Uri-Format).
 *
 *   otpauth://TYPE/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER
 *       [&algorithm=SHA256][&digits=8][&period=60][&counter=N]
 *
 * The URI carries the secret: it is built in a stack buffer that is wiped
 * before returning, and handed out in a malloc'd copy the caller wipes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "codec.h"
#include "otpauth.h"

/* A bounded string; `full` records that something did not fit. */
struct uribuf {
	char	buf[AC_MAX_URI];
	size_t	len;
	int	full;
};

/* Appends formatted text, or marks the buffer full. */
static void __attribute__((format(printf, 2, 3)))
ub_printf(struct uribuf *u, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (u->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(u->buf + u->len, sizeof(u->buf) - u->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(u->buf) - u->len)
		u->full = 1;
	else
		u->len += (size_t)n;
}

/*
 * RFC 3986 section 2.3: unreserved characters are never encoded.  '@' is
 * kept too: it is legal in a path segment and a query (section 3.3, 3.4),
 * and the Key URI Format's own examples show "alice@google.com" unencoded.
 */
static int
is_kept(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '@';
}

/*
 * Appends s percent-encoded (RFC 3986 section 2.1, upper-case hex).  Every
 * byte not kept above is encoded: spaces as %20 (Key URI Format: a '+'
 * would be shown literally by some apps), ':' so that only the issuer
 * separator is literal, and each byte of UTF-8.
 */
static void
ub_pct(struct uribuf *u, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0' && !u->full; p++) {
		if (is_kept(*p))
			ub_printf(u, "%c", *p);
		else
			ub_printf(u, "%%%02X", *p);
	}
}

/* Checks what the URI cannot represent or no app would accept. */
static int
params_valid(const struct ac_otpauth *p)
{
	if (p == NULL || p->account == NULL || p->account[0] == '\0' ||
	    p->secret == NULL || p->secret_len == 0 ||
	    p->secret_len > AC_MAX_SECRET ||
	    (p->digits != 6 && p->digits != 8) ||
	    ac_algo_secret_len(p->algo) == 0)
		return 0;
	if (!p->hotp && p->period <= 0)
		return 0;
	/* The label's first ':' separates issuer and account, so an issuer
	 * holding one would be split in the wrong place by apps. */
	if (p->issuer != NULL && strchr(p->issuer, ':') != NULL)
		return 0;
	return 1;
}

/* Appends the parameters after the secret, defaults left out. */
static void
ub_params(struct uribuf *u, const struct ac_otpauth *p, int has_issuer)
{
	if (has_issuer) {
		ub_printf(u, "&issuer=");
		ub_pct(u, p->issuer);
	}
	if (p->algo != AC_ALGO_SHA1)
		ub_printf(u, "&algorithm=%s", ac_algo_name(p->algo));
	if (p->digits != 6)
		ub_printf(u, "&digits=%d", p->digits);
	if (p->hotp)
		ub_printf(u, "&counter=%" PRIu64, p->counter);
	else if (p->period != 30)
		ub_printf(u, "&period=%d", p->period);
}

int
ac_otpauth_uri(const struct ac_otpauth *p, char **out)
{
	char b32[AC_MAX_SECRET_B32];
	struct uribuf u;
	int has_issuer, r = AC_ERR_INVALID;

	u.len = 0;
	u.full = 0;
	u.buf[0] = '\0';
	if (out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	if (!params_valid(p))
		goto out;
	has_issuer = p->issuer != NULL && p->issuer[0] != '\0';
	/* Apps decode the secret without padding (Key URI Format). */
	if ((r = ac_base32_encode(p->secret, p->secret_len, 0, b32,
	    sizeof(b32))) != 0)
		goto out;
	ub_printf(&u, "otpauth://%s/", p->hotp ? "hotp" : "totp");
	if (has_issuer) {
		/* Both the label prefix and issuer= (Key URI Format: older
		 * apps read only the prefix, newer ones prefer the parameter). */
		ub_pct(&u, p->issuer);
		ub_printf(&u, ":");
	}
	ub_pct(&u, p->account);
	ub_printf(&u, "?secret=%s", b32);
	ub_params(&u, p, has_issuer);
	r = AC_ERR_TOO_LONG;
	if (u.full)
		goto out;
	r = AC_ERR_NOMEM;
	if ((*out = strdup(u.buf)) == NULL)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(u.buf, sizeof(u.buf));
	return r;
}
