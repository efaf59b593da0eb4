/* error.c - human-readable text for the AC_ERR_* codes. */
#include <stdarg.h>
#include <stdio.h>

#include "ac_error.h"

const char *
ac_strerror(int err)
{
	switch (err) {
	case AC_OK:			return "success";
	case AC_ERR_INTERNAL:		return "internal error";
	case AC_ERR_NOMEM:		return "out of memory";
	case AC_ERR_INVALID:		return "invalid input";
	case AC_ERR_TOO_LONG:		return "input too long";
	case AC_ERR_NOT_FOUND:		return "not found";
	case AC_ERR_EXISTS:		return "already exists";
	case AC_ERR_IO:			return "input/output error";
	case AC_ERR_CRYPTO:		return "cryptographic operation failed";
	case AC_ERR_TAMPERED:		return "data failed its integrity check (tampered or wrong key)";
	case AC_ERR_KEY:		return "master key missing, unreadable or invalid";
	case AC_ERR_STORE:		return "token store error";
	case AC_ERR_BUSY:		return "token store busy";
	case AC_ERR_NOT_OURS:		return "database is not a tokenportal store";
	case AC_ERR_SCHEMA:		return "token store schema version mismatch";
	case AC_ERR_CONFIG:		return "configuration error";
	case AC_ERR_REPLAY:		return "code already used";
	case AC_ERR_STATE:		return "not allowed in the token's current state";
	case AC_ERR_DENIED:		return "access denied";
	case AC_ERR_UNAVAILABLE:	return "service unavailable";
	case AC_ERR_LIMIT:		return "limit reached";
	case AC_ERR_ACCOUNT:		return "directory account unusable";
	}
	return "unknown error";
}

void
ac_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
