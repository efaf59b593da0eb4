/*
 * log.c - one line per event to syslog, standard error or a file.
 *
 * A file is opened with O_APPEND so that several workers writing whole
 * lines with one write(2) each never interleave inside a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum sink { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static enum sink	 log_sink = SINK_STDERR;
static int		 log_fd = -1;		/* SINK_FILE */
static char		 log_path[4096];
static char		 log_ident[32] = "tokenportal";
static char		 log_role[32] = "";
static int		 log_debug_on;

static int
open_file(void)
{
	int fd;

	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

int
portal_log_open(const char *where, const char *ident)
{
	if (ident != NULL)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (where == NULL || strcmp(where, "stderr") == 0) {
		log_sink = SINK_STDERR;
		return 0;
	}
	if (strcmp(where, "syslog") == 0) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
		log_sink = SINK_SYSLOG;
		return 0;
	}
	if ((size_t)snprintf(log_path, sizeof(log_path), "%s", where) >=
	    sizeof(log_path))
		return -1;
	if (open_file() != 0)
		return -1;
	log_sink = SINK_FILE;
	return 0;
}

int
portal_log_reopen(void)
{
	if (log_sink != SINK_FILE)
		return 0;
	return open_file();
}

void
portal_log_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role ? role : "");
}

void
portal_log_close(void)
{
	if (log_sink == SINK_SYSLOG)
		closelog();
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_sink = SINK_STDERR;
}

void
portal_log_debug(int on)
{
	log_debug_on = on;
}

static const char *
level_name(int level)
{
	switch (level) {
	case PORTAL_LOG_ERR:		return "error";
	case PORTAL_LOG_WARNING:	return "warning";
	case PORTAL_LOG_INFO:		return "info";
	default:			return "debug";
	}
}

/* Replaces control characters (a user-supplied name could carry a
 * newline and forge a log line) with '?'. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
portal_vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024], line[1200], stamp[32];
	struct tm tm;
	time_t now;
	int n, saved = errno;

	if (level >= PORTAL_LOG_DEBUG && !log_debug_on)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	sanitize(msg);
	if (log_sink == SINK_SYSLOG) {
		syslog(level, "%s%s%s", log_role, log_role[0] ? ": " : "", msg);
		errno = saved;
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%d] %s%s%s: %s\n", stamp,
	    log_ident, (int)getpid(), log_role, log_role[0] ? " " : "",
	    level_name(level), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (write(log_sink == SINK_FILE ? log_fd : 2, line, (size_t)n) < 0) {
		/* Nowhere left to report a failing log. */
	}
	errno = saved;
}

void
portal_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	portal_vlog(level, fmt, ap);
	va_end(ap);
}
