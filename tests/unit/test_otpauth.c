/*
 * test_otpauth.c - otpauth:// URIs compared with exact strings written by
 * hand from the Key URI Format (its own examples where it has them) and
 * RFC 3986's percent-encoding.  Base32 secrets were checked with Python's
 * base64 module, not with our encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "otpauth.h"

/* "Hello!" then 0xdeadbeef: JBSWY3DPEHPK3PXP, the Key URI Format's example. */
static const uint8_t hello[] = "Hello!\xde\xad\xbe\xef";
/* HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ, the format's second example. */
static const uint8_t acme[] = { 0x3d, 0xc6, 0xca, 0xa4, 0x82, 0x4a, 0x6d,
    0x28, 0x87, 0x67, 0xb2, 0x33, 0x1e, 0x20, 0xb4, 0x31, 0x66, 0xcb, 0x85,
    0xd9 };
/* RFC 6238 appendix B's 64-byte seed. */
static const char seed64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

/* A TOTP token with the defaults apps assume (SHA1, 6 digits, 30 s). */
static struct ac_otpauth
totp_default(void)
{
	struct ac_otpauth p;

	memset(&p, 0, sizeof(p));
	p.issuer = "Example";
	p.account = "alice@google.com";
	p.secret = hello;
	p.secret_len = 10;
	p.algo = AC_ALGO_SHA1;
	p.digits = 6;
	p.period = 30;
	return p;
}

/* Builds the URI and compares it with want; frees it. */
static void
expect_uri(const struct ac_otpauth *p, const char *want)
{
	char *uri = NULL;

	assert_int_equal(ac_otpauth_uri(p, &uri), 0);
	assert_non_null(uri);
	assert_string_equal(uri, want);
	free(uri);
}

static void
test_defaults(void **state)
{
	struct ac_otpauth p = totp_default();

	(void)state;
	/* Exactly the Key URI Format's example. */
	expect_uri(&p, "otpauth://totp/Example:alice@google.com"
	    "?secret=JBSWY3DPEHPK3PXP&issuer=Example");
	/* Without an issuer there is no prefix and no issuer=. */
	p.issuer = NULL;
	expect_uri(&p, "otpauth://totp/alice@google.com"
	    "?secret=JBSWY3DPEHPK3PXP");
	p.issuer = "";
	expect_uri(&p, "otpauth://totp/alice@google.com"
	    "?secret=JBSWY3DPEHPK3PXP");
}

static void
test_non_defaults(void **state)
{
	struct ac_otpauth p = totp_default();

	(void)state;
	p.issuer = "ACME Co";
	p.account = "john.doe@email.com";
	p.secret = acme;
	p.secret_len = sizeof(acme);
	p.algo = AC_ALGO_SHA256;
	p.digits = 8;
	p.period = 60;
	expect_uri(&p, "otpauth://totp/ACME%20Co:john.doe@email.com"
	    "?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co"
	    "&algorithm=SHA256&digits=8&period=60");
	/* Each parameter appears alone when only it differs. */
	p.algo = AC_ALGO_SHA1;
	p.digits = 6;
	expect_uri(&p, "otpauth://totp/ACME%20Co:john.doe@email.com"
	    "?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co"
	    "&period=60");
	p.period = 30;
	p.digits = 8;
	expect_uri(&p, "otpauth://totp/ACME%20Co:john.doe@email.com"
	    "?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co"
	    "&digits=8");
	/* A 64-byte SHA-512 secret: 103 Base32 characters, unpadded. */
	p.digits = 6;
	p.algo = AC_ALGO_SHA512;
	p.secret = (const uint8_t *)seed64;
	p.secret_len = 64;
	expect_uri(&p, "otpauth://totp/ACME%20Co:john.doe@email.com"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV"
	    "GY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"
	    "&issuer=ACME%20Co&algorithm=SHA512");
}

static void
test_hotp(void **state)
{
	struct ac_otpauth p = totp_default();

	(void)state;
	p.hotp = 1;
	p.period = 0;	/* meaningless for HOTP, so not checked */
	expect_uri(&p, "otpauth://hotp/Example:alice@google.com"
	    "?secret=JBSWY3DPEHPK3PXP&issuer=Example&counter=0");
	p.counter = 18446744073709551615ULL;
	p.digits = 8;
	p.period = 60;
	expect_uri(&p, "otpauth://hotp/Example:alice@google.com"
	    "?secret=JBSWY3DPEHPK3PXP&issuer=Example&digits=8"
	    "&counter=18446744073709551615");
}

static void
test_percent_encoding(void **state)
{
	struct ac_otpauth p = totp_default();
	char *uri = (char *)1;

	(void)state;
	/* UTF-8 bytes, '&' and spaces in the issuer (label and parameter);
	 * RFC 3986 delimiters and '%' '+' in the account. */
	p.issuer = "M\xc3\xbcller & S\xc3\xb6hne";
	p.account = "a b:c/d?e#f%g+h";
	expect_uri(&p, "otpauth://totp/M%C3%BCller%20%26%20S%C3%B6hne:"
	    "a%20b%3Ac%2Fd%3Fe%23f%25g%2Bh?secret=JBSWY3DPEHPK3PXP"
	    "&issuer=M%C3%BCller%20%26%20S%C3%B6hne");
	/* Unreserved characters stay as they are. */
	p.issuer = "Az09-._~";
	p.account = "j.o_e~1-2";
	expect_uri(&p, "otpauth://totp/Az09-._~:j.o_e~1-2"
	    "?secret=JBSWY3DPEHPK3PXP&issuer=Az09-._~");
	/* A ':' in the issuer would move the label's separator. */
	p.issuer = "Example:Corp";
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	assert_null(uri);
}

static void
test_too_long(void **state)
{
	struct ac_otpauth p = totp_default();
	char account[AC_MAX_URI + 1], *uri = NULL;

	(void)state;
	/* "otpauth://totp/" (15) + account + "?secret=" (8) + 16 characters
	 * of secret: a 984-character account makes 1023 characters, the most
	 * an AC_MAX_URI buffer holds with its NUL; 985 is one too many. */
	p.issuer = NULL;
	p.account = account;
	memset(account, 'a', 984);
	account[984] = '\0';
	assert_int_equal(ac_otpauth_uri(&p, &uri), 0);
	assert_int_equal(strlen(uri), AC_MAX_URI - 1);
	free(uri);
	uri = NULL;
	account[984] = 'a';
	account[985] = '\0';
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_TOO_LONG);
	assert_null(uri);
	/* Percent-encoding triples the size: 400 spaces do not fit. */
	memset(account, ' ', 400);
	account[400] = '\0';
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_TOO_LONG);
	assert_null(uri);
}

static void
test_invalid(void **state)
{
	struct ac_otpauth p;
	char *uri = NULL;

	(void)state;
	assert_int_equal(ac_otpauth_uri(NULL, &uri), AC_ERR_INVALID);
	p = totp_default();
	assert_int_equal(ac_otpauth_uri(&p, NULL), AC_ERR_INVALID);
	p.account = NULL;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p.account = "";
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p = totp_default();
	p.digits = 7;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p = totp_default();
	p.secret_len = 0;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p.secret = (const uint8_t *)seed64;
	p.secret_len = 65;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p = totp_default();
	p.period = 0;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	p = totp_default();
	p.algo = (enum ac_algo)7;
	assert_int_equal(ac_otpauth_uri(&p, &uri), AC_ERR_INVALID);
	assert_null(uri);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_non_defaults),
		cmocka_unit_test(test_hotp),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
