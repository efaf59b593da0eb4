/*
 * pages.c - formatting and enroll.* option parsing for the token pages.
 * No request, no store: plain functions, unit tested in test_pages.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ac_error.h"
#include "otp.h"
#include "pages.h"

#define WORD_MAX	32

static int
is_sep(char c)
{
	return c == ' ' || c == ',' || c == '\t';
}

/*
 * Copies the next word of *p into word (wordlen bytes) and advances *p.
 * Returns the word's length, 0 at the end of the list, or -1 when the word
 * is longer than the buffer (it is skipped).
 */
static int
next_word(const char **p, char *word, size_t wordlen)
{
	const char *s = *p;
	size_t n = 0;

	while (*s != '\0' && is_sep(*s))
		s++;
	while (s[n] != '\0' && !is_sep(s[n]))
		n++;
	*p = s + n;
	if (n >= wordlen)
		return -1;
	memcpy(word, s, n);
	word[n] = '\0';
	return (int)n;
}

int
pages_word_in(const char *list, const char *word)
{
	char w[WORD_MAX];
	int n;

	if (list == NULL || word == NULL)
		return 0;
	while ((n = next_word(&list, w, sizeof(w))) != 0) {
		if (n > 0 && strcasecmp(w, word) == 0)
			return 1;
	}
	return 0;
}

/* One list key: each word must be one of names[i] (bit i).  *first gets
 * the index of the first word (NULL: not wanted). */
static int
parse_mask(const char *key, const char *list, const char *def,
    const char *const *names, int *mask, int *first, char *err,
    size_t errlen)
{
	char w[WORD_MAX];
	int i, n, m = 0;

	if (list == NULL || list[0] == '\0')
		list = def;
	while ((n = next_word(&list, w, sizeof(w))) != 0) {
		for (i = 0; n > 0 && names[i] != NULL; i++) {
			if (strcasecmp(w, names[i]) == 0)
				break;
		}
		if (n < 0 || names[i] == NULL) {
			ac_set_err(err, errlen, "config key '%s': unknown choice "
			    "'%s'", key, n < 0 ? "(too long)" : w);
			return AC_ERR_CONFIG;
		}
		if (m == 0 && first != NULL)
			*first = i;
		m |= 1 << i;
	}
	if (m == 0) {
		ac_set_err(err, errlen, "config key '%s': no choice left", key);
		return AC_ERR_CONFIG;
	}
	*mask = m;
	return 0;
}

/* A small integer key in [min, max]. */
static int
parse_int(const char *key, const char *s, int def, int min, int max,
    int *out, char *err, size_t errlen)
{
	char *end = NULL;
	long v;

	if (s == NULL || s[0] == '\0') {
		*out = def;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < min || v > max) {
		ac_set_err(err, errlen, "config key '%s': '%s' is not a number "
		    "from %d to %d", key, s, min, max);
		return AC_ERR_CONFIG;
	}
	*out = (int)v;
	return 0;
}

int
pages_enroll_opts_parse(const char *types, const char *algos,
    const char *digits, const char *periods, const char *max_tokens,
    const char *email_sends, struct pages_enroll_opts *out, char *err,
    size_t errlen)
{
	/* The order of these names is the order of the PAGES_* bits (and of
	 * enum ac_algo). */
	static const char *const type_names[] = { "totp", "hotp", "email",
	    NULL };
	static const char *const algo_names[] = { "sha1", "sha256", "sha512",
	    NULL };
	static const char *const digit_names[] = { "6", "8", NULL };
	static const char *const period_names[] = { "30", "60", NULL };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = parse_mask("enroll.types", types, "totp hotp email",
	    type_names, &out->types, NULL, err, errlen)) != 0 ||
	    (r = parse_mask("enroll.algorithms", algos, "sha1 sha256 sha512",
	    algo_names, &out->algos, &out->def_algo, err, errlen)) != 0 ||
	    (r = parse_mask("enroll.digits", digits, "6 8", digit_names,
	    &out->digits, &out->def_digits, err, errlen)) != 0 ||
	    (r = parse_mask("enroll.periods", periods, "30 60", period_names,
	    &out->periods, &out->def_period, err, errlen)) != 0 ||
	    (r = parse_int("enroll.max_tokens", max_tokens,
	    PAGES_MAX_TOKENS_DEFAULT, 1, 100, &out->max_tokens, err,
	    errlen)) != 0 ||
	    (r = parse_int("enroll.email_sends", email_sends,
	    PAGES_EMAIL_SENDS_DEFAULT, 1, 20, &out->email_sends, err,
	    errlen)) != 0)
		return r;
	/* Index 0 of each list is SHA1, 6 digits, 30 s: the only settings
	 * every authenticator app honours (issue 3), preferred when allowed. */
	if (out->algos & 1)
		out->def_algo = 0;
	if (out->digits & 1)
		out->def_digits = 0;
	if (out->periods & 1)
		out->def_period = 0;
	return 0;
}

const char *
pages_time(int64_t t, char *buf, size_t buflen)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (buflen == 0)
		return buf;
	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, buflen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, buflen, "%s", t == 0 ? "never" : "?");
	return buf;
}

int
pages_group4(const char *in, char *out, size_t outlen)
{
	size_t i, o = 0, n = strlen(in);

	for (i = 0; i < n; i++) {
		if (i > 0 && i % 4 == 0) {
			if (o + 1 >= outlen)
				goto toolong;
			out[o++] = ' ';
		}
		if (o + 1 >= outlen)
			goto toolong;
		out[o++] = in[i];
	}
	if (outlen == 0)
		return AC_ERR_TOO_LONG;
	out[o] = '\0';
	return 0;
toolong:
	out[0] = '\0';
	return AC_ERR_TOO_LONG;
}
