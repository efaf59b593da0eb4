/*
 * ac_error.h - the one error enum of tokenportal.
 *
 * Library code never exits or prints: every function that can fail returns
 * 0 (or a non-negative count) on success and one of these negative codes on
 * failure.  Only a main() decides to die.
 */
#ifndef AC_ERROR_H
#define AC_ERROR_H

#include <stddef.h>

enum ac_err {
	AC_OK			=   0,
	AC_ERR_INTERNAL		=  -1,	/* a bug or an impossible state */
	AC_ERR_NOMEM		=  -2,
	AC_ERR_INVALID		=  -3,	/* malformed input; detail in errbuf */
	AC_ERR_TOO_LONG		=  -4,	/* input over a limit of ac_limits.h */
	AC_ERR_NOT_FOUND	=  -5,
	AC_ERR_EXISTS		=  -6,
	AC_ERR_IO		=  -7,	/* a file could not be read or written */
	AC_ERR_CRYPTO		=  -8,	/* OpenSSL failed */
	AC_ERR_TAMPERED		=  -9,	/* sealed data or event chain fails to verify */
	AC_ERR_KEY		= -10,	/* master key missing, unreadable or wrong */
	AC_ERR_STORE		= -11,	/* the token store failed */
	AC_ERR_BUSY		= -12,	/* the store stayed locked past its timeout */
	AC_ERR_NOT_OURS		= -13,	/* the database is not a tokenportal store */
	AC_ERR_SCHEMA		= -14,	/* schema too old (run upgrade) or too new */
	AC_ERR_CONFIG		= -15,	/* a config key is missing or invalid */
	AC_ERR_REPLAY		= -16,	/* a code was already used (lost a race) */
	AC_ERR_STATE		= -17,	/* operation not allowed in the token's state */
	AC_ERR_DENIED		= -18,	/* credentials refused */
	AC_ERR_UNAVAILABLE	= -19,	/* a server (directory, SMTP) is unreachable */
	AC_ERR_LIMIT		= -20,	/* a policy limit (max tokens, throttle) hit */
	AC_ERR_ACCOUNT		= -21,	/* directory account disabled/expired/must change password */
};

/* A static, human-readable sentence for an AC_ERR_* code (never NULL). */
const char *ac_strerror(int err);

/* Writes a formatted one-line reason into err (truncated to errlen) when
 * the caller gave a buffer; err == NULL or errlen == 0 is a no-op.  Every
 * library function taking (err, errlen) reports through this. */
void ac_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
