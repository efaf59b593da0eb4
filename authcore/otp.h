/*
 * otp.h - HOTP (RFC 4226) and TOTP (RFC 6238) arithmetic.
 *
 * An ac_otp holds a pre-keyed HMAC (OpenSSL 3 EVP_MAC) so that a check that
 * tries a window of counters keys the MAC once and only duplicates it per
 * counter; one-shot HMAC() is about three times slower.
 */
#ifndef AC_OTP_H
#define AC_OTP_H

#include <stddef.h>
#include <stdint.h>

enum ac_algo {
	AC_ALGO_SHA1 = 0,
	AC_ALGO_SHA256 = 1,
	AC_ALGO_SHA512 = 2,
};

typedef struct ac_otp ac_otp;

/* "SHA1", "SHA256", "SHA512" (the spelling of otpauth URIs). */
const char *ac_algo_name(enum ac_algo a);

/* Parses "sha1"/"SHA1"/"sha-256"... Returns 0 or AC_ERR_INVALID. */
int ac_algo_parse(const char *s, enum ac_algo *out);

/* Secret size generated for an algorithm: 20, 32 or 64 bytes (RFC 4226
 * section 4 R6 asks for at least the hash's output length). */
size_t ac_algo_secret_len(enum ac_algo a);

/* Fills buf with ac_algo_secret_len(a) random bytes from RAND_bytes.
 * buflen must be at least that.  Returns 0, AC_ERR_TOO_LONG or
 * AC_ERR_CRYPTO. */
int ac_otp_generate_secret(enum ac_algo a, uint8_t *buf, size_t buflen,
    size_t *n);

/*
 * Creates a keyed OTP generator.  digits must be 6 or 8, keylen 1..64.
 * The key is copied into the MAC context; the caller may wipe its copy.
 * Returns 0 and *out, or AC_ERR_INVALID / AC_ERR_CRYPTO / AC_ERR_NOMEM.
 * Free with ac_otp_free().
 */
int ac_otp_new(enum ac_algo a, const uint8_t *key, size_t keylen, int digits,
    ac_otp **out);

/* Frees and wipes; NULL is a no-op. */
void ac_otp_free(ac_otp *o);

/* Number of digits this generator produces. */
int ac_otp_digits(const ac_otp *o);

/*
 * The HOTP value for a counter, as a NUL-terminated decimal string of
 * exactly ac_otp_digits() characters (leading zeros kept) in code, which
 * must hold at least ac_otp_digits() + 1 bytes.  Returns 0, AC_ERR_INVALID
 * (NULL argument or codelen too small) or AC_ERR_CRYPTO.
 */
int ac_otp_hotp(ac_otp *o, uint64_t counter, char *code, size_t codelen);

/* The TOTP time step for a Unix time (RFC 6238 section 4.2, T0 = 0);
 * times before 1970 give step 0.  period must be > 0. */
uint64_t ac_totp_step(int64_t unix_time, int period);

/* Compares two codes in constant time; 1 when equal, 0 otherwise. */
int ac_otp_code_equal(const char *a, const char *b);

/* 1 when s is exactly `digits` ASCII digits, 0 otherwise. */
int ac_otp_code_valid(const char *s, int digits);

#endif
