/*
 * server.c - listening sockets, privilege drop and the worker supervisor.
 *
 * The supervisor blocks the signals it handles and takes them with
 * sigtimedwait(), so there is no handler racing the main loop: one loop
 * reaps workers, restarts them when their delay is over, forwards SIGHUP
 * and carries out a stop.
 */
#define _GNU_SOURCE	/* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define MAX_WORKERS		256
#define BACKLOG			128
#define RESTART_MAX_DELAY	30.0	/* seconds */
#define QUICK_DEATH		2.0	/* a worker dying sooner is crashing */

/* --- sockets ------------------------------------------------------------ */

static int
listen_unix(const char *path, int mode, uid_t uid, gid_t gid, int *fd,
    char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Replace a socket left by a previous run, never another file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, (mode_t)mode) != 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) ||
	    listen(s, BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	*fd = s;
	return 0;
}

static int
listen_tcp(const char *spec, int *fd, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	int s = -1, one = 1, rc;

	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (s < 0)
			continue;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(s, BACKLOG) == 0)
			break;
		close(s);
		s = -1;
	}
	if (s < 0)
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host,
		    colon + 1, strerror(errno));
	freeaddrinfo(res);
	if (s < 0)
		return -1;
	*fd = s;
	return 0;
}

int
portal_listen_open(const char *listen, int mode, uid_t uid, gid_t gid,
    int *fd, char *err, size_t errlen)
{
	if (strncmp(listen, "unix:", 5) == 0)
		return listen_unix(listen + 5, mode, uid, gid, fd, err, errlen);
	if (strrchr(listen, ':') == NULL) {
		snprintf(err, errlen, "bad listen address %s", listen);
		return -1;
	}
	return listen_tcp(listen, fd, err, errlen);
}

static int
is_listening_socket(int fd)
{
	struct stat st;
	int v = 0;
	socklen_t len = sizeof(v);

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0)
		return 0;
	return v != 0;
}

int
portal_listen_inherited(int *fd)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char *end;
	long p;

	/* systemd socket activation: sockets from fd 3 (sd_listen_fds(3)). */
	if (pid != NULL && n != NULL) {
		p = strtol(pid, &end, 10);
		if (*end == '\0' && p == (long)getpid() && strcmp(n, "0") != 0 &&
		    is_listening_socket(3)) {
			fcntl(3, F_SETFD, FD_CLOEXEC);
			unsetenv("LISTEN_PID");
			unsetenv("LISTEN_FDS");
			unsetenv("LISTEN_FDNAMES");
			*fd = 3;
			return 0;
		}
	}
	/* spawn-fcgi and the FastCGI convention: the socket is stdin. */
	if (is_listening_socket(0)) {
		*fd = 0;
		return 0;
	}
	return -1;
}

/* --- identity ----------------------------------------------------------- */

int
portal_lookup_ids(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (user != NULL && user[0] != '\0') {
		if ((pw = getpwnam(user)) == NULL) {
			snprintf(err, errlen, "config key 'portal.user': no user "
			    "named '%s'", user);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (group != NULL && group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "config key 'portal.group': no group "
			    "named '%s'", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
portal_drop_privileges(const char *user, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	if (geteuid() != 0)
		return 0;
	if (gid != (gid_t)-1 && setgroups(0, NULL) != 0) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && uid != (uid_t)-1 && user != NULL && user[0] &&
	    initgroups(user, gid) != 0) {
		snprintf(err, errlen, "initgroups: %s", strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && setresgid(gid, gid, gid) != 0) {
		snprintf(err, errlen, "setgid: %s", strerror(errno));
		return -1;
	}
	if (uid != (uid_t)-1 && setresuid(uid, uid, uid) != 0) {
		snprintf(err, errlen, "setuid: %s", strerror(errno));
		return -1;
	}
	/* Make sure there is no way back. */
	if (uid != (uid_t)-1 && uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after dropping it");
		return -1;
	}
	return 0;
}

int
portal_daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		return -1;
	/* fd 0 stays when it is an inherited listening socket. */
	if (!is_listening_socket(0))
		dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

/* --- supervisor --------------------------------------------------------- */

struct slot {
	pid_t	pid;		/* 0: not running */
	double	started;	/* monotonic seconds */
	double	restart_at;	/* when pid == 0: next start */
	double	delay;		/* current restart delay */
};

struct supervisor {
	int				 fd;
	const struct portal_server_opts	*o;
	portal_worker_fn		 fn;
	void				*arg;
	struct slot			 slots[MAX_WORKERS];
	sigset_t			 handled;
	int				 stopping;
	int				 fatal;
	double				 deadline;	/* SIGKILL after this */
	double				 last_term;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: default signal handling, nothing blocked, then the
 * worker body.  Never returns. */
static void
run_child(struct supervisor *sv, int index)
{
	sigset_t none;
	char role[32];

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(role, sizeof(role), "worker %d", index);
	portal_log_role(role);
	_exit(sv->fn(sv->fd, index, sv->arg));
}

static void
spawn(struct supervisor *sv, int i)
{
	struct slot *sl = &sv->slots[i];
	pid_t pid = fork();

	if (pid < 0) {
		portal_log(PORTAL_LOG_ERR, "fork: %s", strerror(errno));
		sl->restart_at = mono_now() + 1.0;
		return;
	}
	if (pid == 0)
		run_child(sv, i);
	sl->pid = pid;
	sl->started = mono_now();
}

/* A worker ended: log how, and plan its restart. */
static void
worker_ended(struct supervisor *sv, struct slot *sl, int status)
{
	double now = mono_now(), lived = now - sl->started;

	if (WIFEXITED(status) && WEXITSTATUS(status) == PORTAL_EXIT_CONFIG) {
		portal_log(PORTAL_LOG_ERR, "worker %ld cannot start: "
		    "configuration error (see above); stopping",
		    (long)sl->pid);
		sv->fatal = 1;
	} else if (!sv->stopping) {
		if (WIFSIGNALED(status))
			portal_log(PORTAL_LOG_WARNING, "worker %ld killed by "
			    "signal %d; restarting", (long)sl->pid,
			    WTERMSIG(status));
		else
			portal_log(PORTAL_LOG_WARNING, "worker %ld exited with "
			    "status %d; restarting", (long)sl->pid,
			    WEXITSTATUS(status));
	}
	/* Back off when a worker keeps dying right after it starts. */
	if (lived < QUICK_DEATH)
		sl->delay = sl->delay < 0.5 ? 0.5 : sl->delay * 2;
	else
		sl->delay = 0;
	if (sl->delay > RESTART_MAX_DELAY)
		sl->delay = RESTART_MAX_DELAY;
	sl->restart_at = now + sl->delay;
	sl->pid = 0;
}

static void
reap(struct supervisor *sv)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < sv->o->workers; i++)
			if (sv->slots[i].pid == pid) {
				worker_ended(sv, &sv->slots[i], status);
				break;
			}
}

static int
running(const struct supervisor *sv)
{
	int i, n = 0;

	for (i = 0; i < sv->o->workers; i++)
		n += sv->slots[i].pid != 0;
	return n;
}

static void
signal_all(struct supervisor *sv, int sig)
{
	int i;

	for (i = 0; i < sv->o->workers; i++)
		if (sv->slots[i].pid != 0)
			kill(sv->slots[i].pid, sig);
}

/* Begins a stop, or pushes one along: SIGTERM again every second (a
 * worker can miss one just before it blocks in accept), SIGKILL once the
 * stop timeout is over. */
static void
stop_step(struct supervisor *sv)
{
	double now = mono_now();

	if (!sv->stopping) {
		sv->stopping = 1;
		sv->deadline = now + sv->o->stop_timeout;
		sv->last_term = 0;
	}
	if (now >= sv->deadline) {
		signal_all(sv, SIGKILL);
	} else if (now - sv->last_term >= 1.0) {
		signal_all(sv, SIGTERM);
		sv->last_term = now;
	}
}

/* Starts slots whose restart time has come; returns seconds until the
 * next planned start (or 1). */
static double
start_due(struct supervisor *sv)
{
	double now = mono_now(), next = 1.0;
	int i;

	for (i = 0; i < sv->o->workers; i++) {
		struct slot *sl = &sv->slots[i];

		if (sl->pid != 0)
			continue;
		if (sl->restart_at <= now)
			spawn(sv, i);
		else if (sl->restart_at - now < next)
			next = sl->restart_at - now;
	}
	return next;
}

static void
wait_signal(struct supervisor *sv, double timeout)
{
	struct timespec ts;
	siginfo_t si;
	int sig;

	if (timeout < 0.01)
		timeout = 0.01;
	ts.tv_sec = (time_t)timeout;
	ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
	sig = sigtimedwait(&sv->handled, &si, &ts);
	if (sig == SIGTERM || sig == SIGINT) {
		if (!sv->stopping)
			portal_log(PORTAL_LOG_INFO, "stopping on signal %d", sig);
		stop_step(sv);
	} else if (sig == SIGHUP) {
		portal_log_reopen();
		portal_log(PORTAL_LOG_INFO, "log re-opened");
		signal_all(sv, SIGHUP);
	}
}

int
portal_supervise(int listen_fd, const struct portal_server_opts *o,
    portal_worker_fn fn, void *arg)
{
	struct supervisor *sv;
	sigset_t old;
	double timeout;
	int rc;

	if (o->workers < 1 || o->workers > MAX_WORKERS)
		return 1;
	if ((sv = calloc(1, sizeof(*sv))) == NULL)
		return 1;
	sv->fd = listen_fd;
	sv->o = o;
	sv->fn = fn;
	sv->arg = arg;
	sigemptyset(&sv->handled);
	sigaddset(&sv->handled, SIGCHLD);
	sigaddset(&sv->handled, SIGTERM);
	sigaddset(&sv->handled, SIGINT);
	sigaddset(&sv->handled, SIGHUP);
	sigprocmask(SIG_BLOCK, &sv->handled, &old);
	signal(SIGPIPE, SIG_IGN);
	portal_log_role("parent");
	portal_log(PORTAL_LOG_INFO, "starting %d workers", o->workers);
	for (;;) {
		reap(sv);
		if (sv->fatal && !sv->stopping)
			stop_step(sv);
		if (sv->stopping) {
			if (running(sv) == 0)
				break;
			stop_step(sv);
			timeout = 0.2;
		} else
			timeout = start_due(sv);
		wait_signal(sv, timeout);
	}
	rc = sv->fatal ? 1 : 0;
	portal_log(PORTAL_LOG_INFO, "stopped");
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(sv);
	return rc;
}
