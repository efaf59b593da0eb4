/*
 * test_codec.c - Base32 and hex against RFC 4648 section 10's vectors, plus
 * the tolerance and the error messages a person typing a secret sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "codec.h"

/* RFC 4648 section 10, Base32 column, padded. */
static const struct {
	const char	*raw;
	const char	*b32;
	const char	*b32_nopad;
	const char	*hex;
} rfc4648[] = {
	{ "",       "",                 "",            "" },
	{ "f",      "MY======",         "MY",          "66" },
	{ "fo",     "MZXQ====",         "MZXQ",        "666f" },
	{ "foo",    "MZXW6===",         "MZXW6",       "666f6f" },
	{ "foob",   "MZXW6YQ=",         "MZXW6YQ",     "666f6f62" },
	{ "fooba",  "MZXW6YTB",         "MZXW6YTB",    "666f6f6261" },
	{ "foobar", "MZXW6YTBOI======", "MZXW6YTBOI",  "666f6f626172" },
};
#define NVEC (sizeof(rfc4648) / sizeof(rfc4648[0]))

static void
test_base32_encode_rfc4648(void **state)
{
	char out[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < NVEC; i++) {
		n = strlen(rfc4648[i].raw);
		assert_int_equal(ac_base32_encode((const uint8_t *)rfc4648[i].raw,
		    n, 1, out, sizeof(out)), 0);
		assert_string_equal(out, rfc4648[i].b32);
		assert_int_equal(ac_base32_len(n, 1), strlen(rfc4648[i].b32));
		assert_int_equal(ac_base32_encode((const uint8_t *)rfc4648[i].raw,
		    n, 0, out, sizeof(out)), 0);
		assert_string_equal(out, rfc4648[i].b32_nopad);
		assert_int_equal(ac_base32_len(n, 0),
		    strlen(rfc4648[i].b32_nopad));
	}
}

static void
test_base32_decode_rfc4648(void **state)
{
	uint8_t out[32];
	size_t i, n;
	char err[AC_ERRBUF];

	(void)state;
	/* Index 0 (empty) is an error for the decoder: see test_empty. */
	for (i = 1; i < NVEC; i++) {
		assert_int_equal(ac_base32_decode(rfc4648[i].b32, out,
		    sizeof(out), &n, err, sizeof(err)), 0);
		assert_int_equal(n, strlen(rfc4648[i].raw));
		assert_memory_equal(out, rfc4648[i].raw, n);
		assert_int_equal(ac_base32_decode(rfc4648[i].b32_nopad, out,
		    sizeof(out), &n, err, sizeof(err)), 0);
		assert_int_equal(n, strlen(rfc4648[i].raw));
		assert_memory_equal(out, rfc4648[i].raw, n);
	}
}

/* What people type from a screen: lower case, groups of four, hyphens. */
static void
test_base32_decode_tolerant(void **state)
{
	static const char *forms[] = {
		"mzxw6ytboi",
		"MZXW 6YTB OI",
		"mzxw-6ytb-oi",
		"  MzXw6YtBoI  ",
		"mzxw6ytboi======",
		"MZXW6YTBOI== ====",
	};
	uint8_t out[16];
	size_t i, n;
	char err[AC_ERRBUF];

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		n = 99;
		assert_int_equal(ac_base32_decode(forms[i], out, sizeof(out),
		    &n, err, sizeof(err)), 0);
		assert_int_equal(n, 6);
		assert_memory_equal(out, "foobar", 6);
	}
	/* The Key URI Format's example secret, "Hello!" then 0xdeadbeef. */
	assert_int_equal(ac_base32_decode("JBSWY3DPEHPK3PXP", out, sizeof(out),
	    &n, NULL, 0), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "Hello!\xde\xad\xbe\xef", 10);
}

/* Asserts that decoding fails with rc and that err contains want. */
static void
expect_b32_error(const char *in, int rc, const char *want)
{
	uint8_t out[64];
	size_t n = 99;
	char err[AC_ERRBUF] = "";

	assert_int_equal(ac_base32_decode(in, out, sizeof(out), &n, err,
	    sizeof(err)), rc);
	assert_int_equal(n, 0);
	if (strstr(err, want) == NULL)
		fail_msg("decoding \"%s\": error \"%s\" lacks \"%s\"", in, err,
		    want);
}

static void
test_base32_decode_errors(void **state)
{
	(void)state;
	/* 0, 1, 8 and 9 are not Base32: the usual confusion with O, I, B. */
	expect_b32_error("MZXW0YTB", AC_ERR_INVALID,
	    "invalid character '0' at position 5");
	expect_b32_error("MZ1W6YTB", AC_ERR_INVALID, "'1' at position 3");
	expect_b32_error("mzxw 6ytb 8i", AC_ERR_INVALID, "'8' at position 11");
	expect_b32_error("9ZXW6YTB", AC_ERR_INVALID, "'9' at position 1");
	expect_b32_error("MZXW6YT.", AC_ERR_INVALID, "'.' at position 8");
	expect_b32_error("MZXW_6YTB", AC_ERR_INVALID, "'_' at position 5");
	expect_b32_error("MZXW\t6YTB", AC_ERR_INVALID,
	    "byte 0x09 at position 5");
	/* A UTF-8 letter is named by its first byte and position. */
	expect_b32_error("MZ\xc3\x9cW6YTB", AC_ERR_INVALID,
	    "byte 0xc3 at position 3");
	/* Data after padding, and padding that does not fit the group. */
	expect_b32_error("MY======MZXW6YTB", AC_ERR_INVALID,
	    "'M' at position 9");
	expect_b32_error("MY=A", AC_ERR_INVALID, "'A' at position 4");
	expect_b32_error("MY===", AC_ERR_INVALID, "padding starting at "
	    "position 3");
	expect_b32_error("MZXW6YTB=", AC_ERR_INVALID, "position 9");
	expect_b32_error("MZXW6YQ==", AC_ERR_INVALID, "position 8");
	/* 1, 3 or 6 characters in the last group cannot be whole bytes. */
	expect_b32_error("M", AC_ERR_INVALID, "cut short");
	expect_b32_error("MZXW6YTBM", AC_ERR_INVALID, "cut short");
	expect_b32_error("MZX", AC_ERR_INVALID, "cut short");
	expect_b32_error("MZXW6Y", AC_ERR_INVALID, "cut short");
	expect_b32_error("", AC_ERR_INVALID, "empty");
	expect_b32_error(" - -", AC_ERR_INVALID, "empty");
	expect_b32_error("======", AC_ERR_INVALID, "empty");
}

static void
test_base32_limits(void **state)
{
	uint8_t out[AC_MAX_SECRET], big[AC_MAX_SECRET + 1];
	char text[256], err[AC_ERRBUF];
	size_t n;

	(void)state;
	/* Exactly outlen bytes fit; one more is AC_ERR_TOO_LONG. */
	memset(big, 0xa5, sizeof(big));
	assert_int_equal(ac_base32_encode(big, AC_MAX_SECRET, 0, text,
	    sizeof(text)), 0);
	assert_int_equal(ac_base32_decode(text, out, sizeof(out), &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, AC_MAX_SECRET);
	assert_memory_equal(out, big, n);
	assert_int_equal(ac_base32_encode(big, sizeof(big), 0, text,
	    sizeof(text)), 0);
	assert_int_equal(ac_base32_decode(text, out, sizeof(out), &n, err,
	    sizeof(err)), AC_ERR_TOO_LONG);
	assert_non_null(strstr(err, "longer than 64 bytes"));
	/* The encoder refuses a buffer without room for the NUL. */
	assert_int_equal(ac_base32_encode((const uint8_t *)"foobar", 6, 1,
	    text, 16), AC_ERR_TOO_LONG);
	assert_int_equal(ac_base32_encode((const uint8_t *)"foobar", 6, 1,
	    text, 17), 0);
	assert_int_equal(ac_base32_encode((const uint8_t *)"foobar", 6, 0,
	    text, 10), AC_ERR_TOO_LONG);
	/* A NULL err buffer is allowed. */
	assert_int_equal(ac_base32_decode("0", out, sizeof(out), &n, NULL, 0),
	    AC_ERR_INVALID);
}

/* Every length 0..70 and every byte value survive encode then decode. */
static void
test_base32_roundtrip(void **state)
{
	uint8_t in[70], out[70];
	char text[128];
	size_t len, i, n;
	int pad;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (pad = 0; pad <= 1; pad++) {
		for (len = 1; len <= sizeof(in); len++) {
			assert_int_equal(ac_base32_encode(in, len, pad, text,
			    sizeof(text)), 0);
			assert_int_equal(strlen(text), ac_base32_len(len, pad));
			assert_int_equal(ac_base32_decode(text, out,
			    sizeof(out), &n, NULL, 0), 0);
			assert_int_equal(n, len);
			assert_memory_equal(in, out, len);
		}
	}
}

static void
test_hex(void **state)
{
	uint8_t out[16];
	char text[32], err[AC_ERRBUF];
	size_t i, n;

	(void)state;
	/* RFC 4648 section 10, Base16 column (we write lower case). */
	for (i = 0; i < NVEC; i++) {
		assert_int_equal(ac_hex_encode((const uint8_t *)rfc4648[i].raw,
		    strlen(rfc4648[i].raw), text, sizeof(text)), 0);
		assert_string_equal(text, rfc4648[i].hex);
	}
	assert_int_equal(ac_hex_decode("666F6F626172", out, sizeof(out), &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(ac_hex_decode(" 0x66 6f6F 62 61 72 ", out,
	    sizeof(out), &n, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(ac_hex_decode("00ff", out, sizeof(out), &n, NULL, 0),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(ac_hex_encode((const uint8_t *)"\x00\xff", 2, text,
	    4), AC_ERR_TOO_LONG);
	assert_int_equal(ac_hex_encode((const uint8_t *)"\x00\xff", 2, text,
	    5), 0);
	assert_string_equal(text, "00ff");
}

/* Asserts that hex decoding fails with rc and that err contains want. */
static void
expect_hex_error(const char *in, size_t outlen, int rc, const char *want)
{
	uint8_t out[16];
	size_t n = 99;
	char err[AC_ERRBUF] = "";

	assert_int_equal(ac_hex_decode(in, out, outlen, &n, err, sizeof(err)),
	    rc);
	assert_int_equal(n, 0);
	if (strstr(err, want) == NULL)
		fail_msg("decoding \"%s\": error \"%s\" lacks \"%s\"", in, err,
		    want);
}

static void
test_hex_errors(void **state)
{
	(void)state;
	expect_hex_error("66 6g", 16, AC_ERR_INVALID,
	    "invalid character 'g' at position 5");
	expect_hex_error("66-6f", 16, AC_ERR_INVALID, "'-' at position 3");
	expect_hex_error("0x6x", 16, AC_ERR_INVALID, "'x' at position 4");
	expect_hex_error("666", 16, AC_ERR_INVALID, "odd number");
	expect_hex_error("", 16, AC_ERR_INVALID, "empty");
	expect_hex_error("0x", 16, AC_ERR_INVALID, "empty");
	expect_hex_error("66 6f 6f", 2, AC_ERR_TOO_LONG, "longer than 2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base32_encode_rfc4648),
		cmocka_unit_test(test_base32_decode_rfc4648),
		cmocka_unit_test(test_base32_decode_tolerant),
		cmocka_unit_test(test_base32_decode_errors),
		cmocka_unit_test(test_base32_limits),
		cmocka_unit_test(test_base32_roundtrip),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
