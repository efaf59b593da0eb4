/*
 * codec.h - Base32 (RFC 4648 section 6) and hex encoding of secrets.
 *
 * The decoders are the one place where a typed or imported secret is parsed.
 * They never print; on bad input they return AC_ERR_INVALID and write a
 * sentence naming the first bad character and its 1-based position into err.
 */
#ifndef AC_CODEC_H
#define AC_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to Base32-encode n bytes (without NUL), padded or not. */
size_t ac_base32_len(size_t n, int pad);

/*
 * Encodes n bytes as upper-case Base32 into out (outlen bytes, NUL included).
 * pad: 1 adds '=' padding, 0 omits it (otpauth URIs want it unpadded).
 * Returns 0, or AC_ERR_TOO_LONG if out is too small.
 */
int ac_base32_encode(const uint8_t *in, size_t n, int pad, char *out,
    size_t outlen);

/*
 * Decodes Base32 text.  Tolerates lower case, spaces, hyphens and missing
 * padding (what people type from a screen); padding, when present, must be
 * correct and only at the end.  Writes at most outlen bytes to out and their
 * number to *n.  Returns 0, AC_ERR_INVALID (err says which character at
 * which position, or that the text is empty or cut short), or
 * AC_ERR_TOO_LONG (decoded data exceeds outlen).  err may be NULL.
 */
int ac_base32_decode(const char *in, uint8_t *out, size_t outlen, size_t *n,
    char *err, size_t errlen);

/* Encodes n bytes as lower-case hex into out (2n+1 bytes). Returns 0 or
 * AC_ERR_TOO_LONG. */
int ac_hex_encode(const uint8_t *in, size_t n, char *out, size_t outlen);

/*
 * Decodes hex (either case; spaces ignored; an optional leading "0x").
 * Returns 0, AC_ERR_INVALID (odd length, bad character with its position),
 * or AC_ERR_TOO_LONG.  err may be NULL.
 */
int ac_hex_decode(const char *in, uint8_t *out, size_t outlen, size_t *n,
    char *err, size_t errlen);

/* The value of one hex digit in either case, or -1 (also used by the
 * portal's %XX URL decoding). */
int ac_hex_value(unsigned char c);

#endif
