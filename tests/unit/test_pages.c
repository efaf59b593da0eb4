/*
 * test_pages.c - the plain helpers of the token pages: enroll.* option
 * parsing, time formatting, grouping of secrets for display.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ac_error.h"
#include "otp.h"
#include "pages.h"

static void
opts_defaults(void **state)
{
	struct pages_enroll_opts o;

	(void)state;
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, NULL, NULL, NULL,
	    NULL, &o, NULL, 0), 0);
	assert_int_equal(o.types, PAGES_TYPE_TOTP | PAGES_TYPE_HOTP |
	    PAGES_TYPE_EMAIL);
	assert_int_equal(o.algos, PAGES_ALGO_BIT(AC_ALGO_SHA1) |
	    PAGES_ALGO_BIT(AC_ALGO_SHA256) | PAGES_ALGO_BIT(AC_ALGO_SHA512));
	assert_int_equal(o.digits, PAGES_DIGITS_6 | PAGES_DIGITS_8);
	assert_int_equal(o.periods, PAGES_PERIOD_30 | PAGES_PERIOD_60);
	assert_int_equal(o.max_tokens, PAGES_MAX_TOKENS_DEFAULT);
	assert_int_equal(o.email_sends, PAGES_EMAIL_SENDS_DEFAULT);
	/* Preselected: SHA1, 6 digits, 30 s (bit 0 of each mask). */
	assert_int_equal(o.def_algo, 0);
	assert_int_equal(o.def_digits, 0);
	assert_int_equal(o.def_period, 0);
}

/* The app-compatible value is preselected wherever it is allowed, even
 * when listed last; otherwise the first value listed. */
static void
opts_preselected(void **state)
{
	struct pages_enroll_opts o;

	(void)state;
	assert_int_equal(pages_enroll_opts_parse(NULL, "sha512 sha1",
	    "8 6", "60 30", NULL, NULL, &o, NULL, 0), 0);
	assert_int_equal(o.def_algo, AC_ALGO_SHA1);
	assert_int_equal(o.def_digits, 0);		/* 6 */
	assert_int_equal(o.def_period, 0);		/* 30 */
	assert_int_equal(pages_enroll_opts_parse(NULL, "sha512 sha256",
	    "8", "60", NULL, NULL, &o, NULL, 0), 0);
	assert_int_equal(o.def_algo, AC_ALGO_SHA512);
	assert_int_equal(o.def_digits, 1);		/* 8 */
	assert_int_equal(o.def_period, 1);		/* 60 */
	assert_int_equal(pages_enroll_opts_parse(NULL, "sha256, sha512",
	    NULL, NULL, NULL, NULL, &o, NULL, 0), 0);
	assert_int_equal(o.def_algo, AC_ALGO_SHA256);
}

static void
opts_lists(void **state)
{
	struct pages_enroll_opts o;

	(void)state;
	assert_int_equal(pages_enroll_opts_parse("TOTP, email", "sha256",
	    "8", " 60 ", "2", "1", &o, NULL, 0), 0);
	assert_int_equal(o.types, PAGES_TYPE_TOTP | PAGES_TYPE_EMAIL);
	assert_int_equal(o.algos, PAGES_ALGO_BIT(AC_ALGO_SHA256));
	assert_int_equal(o.digits, PAGES_DIGITS_8);
	assert_int_equal(o.periods, PAGES_PERIOD_60);
	assert_int_equal(o.max_tokens, 2);
	assert_int_equal(o.email_sends, 1);
}

static void
opts_refused(void **state)
{
	struct pages_enroll_opts o;
	char err[256];

	(void)state;
	assert_int_equal(pages_enroll_opts_parse("totp sms", NULL, NULL, NULL,
	    NULL, NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "enroll.types"));
	assert_non_null(strstr(err, "sms"));
	assert_int_equal(pages_enroll_opts_parse(NULL, "md5", NULL, NULL,
	    NULL, NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "enroll.algorithms"));
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, "7", NULL, NULL,
	    NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, NULL, "45", NULL,
	    NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, NULL, NULL, "0",
	    NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "enroll.max_tokens"));
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, NULL, NULL, "5x",
	    NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_int_equal(pages_enroll_opts_parse(NULL, NULL, NULL, NULL, NULL,
	    "-1", &o, err, sizeof(err)), AC_ERR_CONFIG);
	/* A list of separators only is empty: no choice left. */
	assert_int_equal(pages_enroll_opts_parse(" , ", NULL, NULL, NULL,
	    NULL, NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
	assert_non_null(strstr(err, "no choice"));
	assert_int_equal(pages_enroll_opts_parse(NULL,
	    "sha1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, NULL,
	    NULL, &o, err, sizeof(err)), AC_ERR_CONFIG);
}

static void
word_in(void **state)
{
	(void)state;
	assert_true(pages_word_in("totp hotp", "HOTP"));
	assert_true(pages_word_in("a,b , c", "c"));
	assert_false(pages_word_in("totp hotp", "tot"));
	assert_false(pages_word_in("", "totp"));
	assert_false(pages_word_in(NULL, "totp"));
}

static void
time_format(void **state)
{
	char buf[64];

	(void)state;
	/* 2009-02-13 23:31:30 UTC is the well-known 1234567890. */
	assert_string_equal(pages_time(1234567890, buf, sizeof(buf)),
	    "2009-02-13 23:31 UTC");
	assert_string_equal(pages_time(0, buf, sizeof(buf)), "never");
	/* Too small a buffer never overflows. */
	assert_string_equal(pages_time(1234567890, buf, 4), "?");
}

static void
group4(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(pages_group4("JBSWY3DPEHPK3PXP", out, sizeof(out)), 0);
	assert_string_equal(out, "JBSW Y3DP EHPK 3PXP");
	assert_int_equal(pages_group4("ABCDEF", out, sizeof(out)), 0);
	assert_string_equal(out, "ABCD EF");
	assert_int_equal(pages_group4("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* "ABCD EFGH" needs 10 bytes. */
	assert_int_equal(pages_group4("ABCDEFGH", out, 10), 0);
	assert_int_equal(pages_group4("ABCDEFGH", out, 9), AC_ERR_TOO_LONG);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_defaults),
		cmocka_unit_test(opts_lists),
		cmocka_unit_test(opts_refused),
		cmocka_unit_test(opts_preselected),
		cmocka_unit_test(word_in),
		cmocka_unit_test(time_format),
		cmocka_unit_test(group4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
