/*
 * mail.h - sending a one-time code by e-mail (SMTP through libcurl).
 *
 * The e-mail token mails its code to the address the directory holds.  The
 * settings come from the config's smtp.* keys (documented in
 * conf/tokenportal.hdf.example):
 *   smtp.url              smtp://host[:port] or smtps://host[:port]
 *                         (required to enable mail; no credentials in it).
 *                         smtps:// is TLS from the first byte (RFC 8314,
 *                         port 465 by default).
 *   smtp.from             sender address (required when smtp.url is set)
 *   smtp.from_name        display name of the sender (optional)
 *   smtp.starttls         1: STARTTLS (RFC 3207) on smtp:// before AUTH
 *                         and MAIL; no mail is sent unless it succeeds
 *                         (no fallback to plain text).  0 (default): plain
 *                         text on smtp://, for a relay on the same host.
 *                         Moot on smtps://.
 *   smtp.username         AUTH user (optional), with smtp.password or
 *   smtp.password_file    a file holding it (relative to the config folder)
 *                         AUTH only over smtps://, with smtp.starttls = 1
 *                         or to a loopback server (AC_ERR_CONFIG otherwise)
 *   smtp.ca_file          PEM file of the CA certificate(s) the server's
 *                         certificate must chain to (then the only ones
 *                         trusted); relative to the config folder; default
 *                         the system's store.  Must be readable at start.
 *                         The certificate must also name smtp.url's host
 *                         (subjectAltName DNS or IP).  Checking is always
 *                         on: no key turns it off.
 *   smtp.timeout_seconds  connect and whole-transaction timeout (10)
 *
 * Each ac_mail_send opens its own connection: workers send rarely, and a
 * cached connection would only time out at the server in between.  The body
 * of a mail carries a code: it is never logged, never copied into an error
 * message, and wiped after sending.
 */
#ifndef AC_MAIL_H
#define AC_MAIL_H

#include <stddef.h>

struct ac_config;
struct ac_mail;

/* Initialises libcurl for the process.  Call once from main(), before any
 * thread or worker starts.  Returns 0 or AC_ERR_INTERNAL. */
int ac_mail_global_init(void);

/* Releases what ac_mail_global_init took.  Call once at exit. */
void ac_mail_global_cleanup(void);

/*
 * Reads the smtp.* keys of cfg and returns a mailer in *out (caller frees
 * with ac_mail_free).  Returns 0; AC_ERR_NOT_FOUND with err "mail not
 * configured" when smtp.url is absent (the portal then hides e-mail
 * tokens); AC_ERR_CONFIG with err naming the key at fault (also an
 * unreadable smtp.ca_file); AC_ERR_IO when
 * smtp.password_file cannot be read; AC_ERR_NOMEM.  err may be NULL.
 */
int ac_mail_new(const struct ac_config *cfg, struct ac_mail **out,
    char *err, size_t errlen);

/* Frees the mailer and wipes the SMTP password; NULL is a no-op. */
void ac_mail_free(struct ac_mail *m);

/*
 * Sends one text/plain UTF-8 mail to `to` (RFC 5322 message: From, To,
 * Subject, Date, Message-ID, MIME headers; CRLF line ends).  The body's
 * lines may end in LF or CRLF; a lone "." line is safe (libcurl
 * dot-stuffs, RFC 5321 section 4.5.2).
 *
 * Returns 0 once the server accepted the message, or:
 *   AC_ERR_INVALID   to is not a plain address (ac_mail_address_ok), the
 *                    subject holds a control character (CR/LF: header
 *                    injection), subject or body is not UTF-8, or a body
 *                    line is over 998 bytes
 *   AC_ERR_TOO_LONG  subject over AC_MAX_MAIL_SUBJECT or body over
 *                    AC_MAX_MAIL_BODY bytes
 *   AC_ERR_UNAVAILABLE  the server cannot be reached, timed out, refused
 *                    TLS or the message, or its certificate was not
 *                    trusted (err says which and mentions TLS; nothing
 *                    was sent then)
 *   AC_ERR_DENIED    the server refused the login
 * err (may be NULL) gets one line for the log; it never holds the body.
 */
int ac_mail_send(struct ac_mail *m, const char *to, const char *subject,
    const char *body, char *err, size_t errlen);

/* ac_mail_send with the mailer passed as arg: an ac_code_sender
 * (authcore.h) for ac_ctx_set_code_sender(ctx, ac_mail_code_sender, m). */
int ac_mail_code_sender(void *arg, const char *to, const char *subject,
    const char *body, char *err, size_t errlen);

/*
 * 1 if addr is a plain mail address we are willing to put in an SMTP
 * envelope and a To: header, else 0: at most AC_MAX_EMAIL bytes, exactly
 * one '@', a local part of 1..64 RFC 5322 atext characters and single
 * inner dots, a domain of dot-separated labels of letters, digits and
 * inner hyphens (1..63 each).  No comments, quoted local parts, address
 * literals or non-ASCII addresses.
 */
int ac_mail_address_ok(const char *addr);

#endif
