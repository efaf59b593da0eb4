/*
 * otpauth.h - builds otpauth:// URIs per Google's Key URI Format, the one
 * every authenticator app (Google Authenticator, Authy, Microsoft
 * Authenticator, FreeOTP) scans from a QR code.
 */
#ifndef AC_OTPAUTH_H
#define AC_OTPAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "otp.h"

struct ac_otpauth {
	int		 hotp;		/* 1: hotp (needs counter), 0: totp */
	const char	*issuer;	/* e.g. "Example Corp"; may be NULL */
	const char	*account;	/* e.g. "alice@example.com" */
	const uint8_t	*secret;
	size_t		 secret_len;
	enum ac_algo	 algo;
	int		 digits;	/* 6 or 8 */
	int		 period;	/* TOTP step, seconds */
	uint64_t	 counter;	/* HOTP start counter */
};

/*
 * Builds "otpauth://TYPE/LABEL?secret=...&issuer=..." where LABEL is
 * "Issuer:account" percent-encoded, the secret unpadded Base32, and
 * algorithm, digits and period appear only when they differ from the
 * defaults apps assume (SHA1, 6, 30); counter always for HOTP.
 * Returns 0 and a malloc'd string in *out (the caller wipes and frees it:
 * it contains the secret), or AC_ERR_INVALID / AC_ERR_TOO_LONG /
 * AC_ERR_NOMEM.  Issuer and account must not contain ':' in a way that
 * breaks the label: a ':' in the issuer is refused with AC_ERR_INVALID.
 */
int ac_otpauth_uri(const struct ac_otpauth *p, char **out);

#endif
