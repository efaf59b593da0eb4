/*
 * ac_limits.h - every size limit on untrusted input, in one place
 * (STYLE.md 4).  Parsers check against these and return AC_ERR_TOO_LONG.
 */
#ifndef AC_LIMITS_H
#define AC_LIMITS_H

#define AC_MAX_SERIAL		64	/* token serial number, bytes */
#define AC_MAX_USER		256	/* login / owner name, bytes */
#define AC_MAX_RESOURCE		64	/* resource name */
#define AC_MAX_DESCRIPTION	128	/* token description shown to users */
#define AC_MAX_SECRET		64	/* raw OTP seed, bytes (SHA-512 size) */
#define AC_MAX_SECRET_B32	256	/* secret as typed in Base32, with spaces */
#define AC_MAX_PIN		64	/* token PIN, bytes */
#define AC_MIN_PIN		4
#define AC_MAX_PASSWORD		256	/* directory password */
#define AC_MAX_PASSCODE		(AC_MAX_PASSWORD + 16)	/* PIN/password + OTP */
#define AC_MAX_CODE		8	/* OTP digits */
#define AC_MAX_SOURCE		64	/* caller description in events */
#define AC_MAX_REASON		256	/* free text reason in events */
#define AC_MAX_ACTOR		AC_MAX_USER
#define AC_MAX_SEALED		(AC_MAX_SECRET + 12 + 16)	/* nonce + ct + tag */
#define AC_KEY_ID_LEN		16	/* hex characters of a master key id */
#define AC_PIN_SALT_LEN		16
#define AC_HASH_LEN		32	/* SHA-256 */
#define AC_MAX_FORM_BODY	(64 * 1024)	/* POST body the portal accepts */
#define AC_MAX_URI		1024	/* otpauth:// URI */
#define AC_MAX_EMAIL		254	/* mail address (RFC 5321 path limit) */
#define AC_MAX_MAIL_SUBJECT	256
#define AC_MAX_MAIL_BODY	(16 * 1024)
#define AC_MAX_CONFIG_FILE	(1024 * 1024)	/* HDF config file, bytes */
#define AC_MAX_TXID		64	/* challenge transaction id */
#define AC_MAX_THROTTLE_KEY	(AC_MAX_USER + 64)	/* sign-in throttle key */
#define AC_MAX_DN		1024	/* directory entry DN */
#define AC_MAX_DISPLAY_NAME	256	/* display name shown in the portal */
#define AC_ERRBUF		256	/* size of error detail buffers */

#endif
