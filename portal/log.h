/*
 * log.h - the portal's logger: syslog, standard error or a file, chosen by
 * portal.log.  The only process-wide state besides the configuration
 * (STYLE.md 6).  Never pass a password, code, PIN, seed, session id or
 * CSRF token to these functions.
 */
#ifndef PORTAL_LOG_H
#define PORTAL_LOG_H

#include <stdarg.h>

enum portal_log_level {
	PORTAL_LOG_ERR = 3,		/* syslog's LOG_ERR ... LOG_DEBUG */
	PORTAL_LOG_WARNING = 4,
	PORTAL_LOG_INFO = 6,
	PORTAL_LOG_DEBUG = 7,
};

/*
 * Opens the log.  where is "syslog", "stderr" or an absolute file path
 * (appended to, created 0640).  ident names the program in syslog and in
 * each line.  Returns 0, or -1 when the file cannot be opened (the logger
 * then stays on standard error).
 */
int portal_log_open(const char *where, const char *ident);

/* Re-opens a log file (after logrotate moved it; SIGHUP).  A no-op for
 * syslog and stderr.  Returns 0 or -1 as portal_log_open. */
int portal_log_reopen(void);

/* Sets the process tag shown in each line ("parent", "worker 3"). */
void portal_log_role(const char *role);

/* Closes a log file or syslog. */
void portal_log_close(void);

/* Writes one line at level (lines at DEBUG only when portal.log_debug). */
void portal_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void portal_vlog(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Enables DEBUG lines. */
void portal_log_debug(int on);

#endif
