/*
 * codec.c - Base32 (RFC 4648 section 6) and hex (section 8) for secrets.
 *
 * Decoding is where a secret typed from a screen or read from an import file
 * is parsed, so it is forgiving about what people type (case, spaces,
 * hyphens, missing padding) and precise about everything else: the error
 * names the first bad character and its 1-based position.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ac_error.h"
#include "codec.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char hex_digits[] = "0123456789abcdef";

/*
 * Names a bad character and its position.  Printable ASCII is quoted as is;
 * anything else (control bytes, UTF-8 pieces) is shown as a byte value so
 * the message stays readable and safe to show on a web page or terminal.
 */
static void
bad_char(char *err, size_t errlen, const char *what, unsigned char c,
    size_t pos)
{
	if (c >= 0x21 && c <= 0x7e)
		ac_set_err(err, errlen, "invalid character '%c' at position %zu"
		    " (%s)", c, pos, what);
	else
		ac_set_err(err, errlen, "invalid byte 0x%02x at position %zu (%s)",
		    c, pos, what);
}

size_t
ac_base32_len(size_t n, int pad)
{
	if (n > SIZE_MAX / 8 - 1)
		return SIZE_MAX;
	if (pad)
		return (n + 4) / 5 * 8;
	/* Every 5 bits of input make one character; the last one is partial. */
	return (n * 8 + 4) / 5;
}

int
ac_base32_encode(const uint8_t *in, size_t n, int pad, char *out,
    size_t outlen)
{
	size_t need, i, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	need = ac_base32_len(n, pad);
	if (out == NULL || need == SIZE_MAX || outlen < need + 1)
		return AC_ERR_TOO_LONG;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 0x1f];
		}
	}
	/* RFC 4648 section 6: the last group is zero-filled on the right. */
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 0x1f];
	while (o < need)
		out[o++] = '=';
	out[o] = '\0';
	acc = 0;
	return 0;
}

/* The 5-bit value of a Base32 character in either case, or -1. */
static int
b32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/*
 * Checks the '=' run that ends a Base32 text.  RFC 4648 section 6 allows
 * only 6, 4, 3 or 1 pad characters, exactly as many as fill the last
 * 8-character group; `chars` is the number of data characters before it.
 */
static int
b32_check_padding(size_t chars, size_t pads, size_t first_pad, char *err,
    size_t errlen)
{
	if (pads == 0)
		return 0;
	if ((chars + pads) % 8 != 0 || pads > 6 || chars % 8 == 0) {
		ac_set_err(err, errlen, "wrong amount of '=' padding starting at "
		    "position %zu", first_pad);
		return AC_ERR_INVALID;
	}
	return 0;
}

/*
 * One pass: spaces and hyphens are skipped, '=' starts the padding, and the
 * first character outside the alphabet stops with its position.  Leftover
 * bits below a full byte are the encoder's zero fill (RFC 4648 section
 * 3.5); they are ignored rather than checked, as authenticator apps do.
 * On any error the partial output is wiped: it may be part of a secret.
 */
int
ac_base32_decode(const char *in, uint8_t *out, size_t outlen, size_t *n,
    char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t pos, o = 0, chars = 0, pads = 0, first_pad = 0;
	uint32_t acc = 0;
	int bits = 0, v, r = AC_ERR_INVALID;

	if (n != NULL)
		*n = 0;
	if (in == NULL || (out == NULL && outlen > 0))
		goto out;
	for (pos = 1; *p != '\0'; p++, pos++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p == '=') {
			if (pads++ == 0)
				first_pad = pos;
			continue;
		}
		if ((v = b32_value(*p)) < 0 || pads > 0) {
			bad_char(err, errlen, pads > 0 ? "data after '=' padding"
			    : "Base32 uses A-Z and 2-7", *p, pos);
			goto out;
		}
		chars++;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen) {
				ac_set_err(err, errlen, "decoded secret longer "
				    "than %zu bytes", outlen);
				r = AC_ERR_TOO_LONG;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (chars == 0) {
		ac_set_err(err, errlen, "the Base32 text is empty");
		goto out;
	}
	/* 1, 3 or 6 characters in the last group cannot carry whole bytes. */
	if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6) {
		ac_set_err(err, errlen, "the Base32 text is cut short (%zu "
		    "characters; a character is missing or extra)", chars);
		goto out;
	}
	if ((r = b32_check_padding(chars, pads, first_pad, err, errlen)) != 0)
		goto out;
	if (n != NULL)
		*n = o;
	r = 0;
out:
	acc = 0;
	if (r != 0 && out != NULL)
		explicit_bzero(out, o);
	return r;
}

int
ac_hex_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (out == NULL || n > (SIZE_MAX - 1) / 2 || outlen < 2 * n + 1)
		return AC_ERR_TOO_LONG;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}

int
ac_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ac_hex_decode(const char *in, uint8_t *out, size_t outlen, size_t *n,
    char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t pos = 1, o = 0, digits = 0;
	int v, hi = 0, r = AC_ERR_INVALID;

	if (n != NULL)
		*n = 0;
	if (in == NULL || (out == NULL && outlen > 0))
		goto out;
	while (*p == ' ')
		p++, pos++;
	/* An optional "0x", as hex is often pasted from program output. */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2, pos += 2;
	for (; *p != '\0'; p++, pos++) {
		if (*p == ' ')
			continue;
		if ((v = ac_hex_value(*p)) < 0) {
			bad_char(err, errlen, "hex uses 0-9 and a-f", *p, pos);
			goto out;
		}
		if (digits++ % 2 == 0) {
			hi = v;
			continue;
		}
		if (o >= outlen) {
			ac_set_err(err, errlen, "decoded secret longer than %zu "
			    "bytes", outlen);
			r = AC_ERR_TOO_LONG;
			goto out;
		}
		out[o++] = (uint8_t)(hi << 4 | v);
	}
	if (digits == 0) {
		ac_set_err(err, errlen, "the hex text is empty");
		goto out;
	}
	if (digits % 2 != 0) {
		ac_set_err(err, errlen, "odd number of hex digits (%zu): a digit "
		    "is missing or extra", digits);
		goto out;
	}
	if (n != NULL)
		*n = o;
	r = 0;
out:
	hi = 0;
	if (r != 0 && out != NULL)
		explicit_bzero(out, o);
	return r;
}
