/*
 * server.h - the prefork process model (DESIGN.md 7).
 *
 * The parent binds the listening socket (or takes one inherited from
 * spawn-fcgi or systemd), drops privileges, forks the workers and
 * supervises them: a worker that dies is restarted, with a growing delay
 * when it keeps dying at once; SIGTERM (or SIGINT) stops every worker
 * after its current request; SIGHUP re-opens the log files.  The parent
 * never opens the token store or the directory: a database or LDAP
 * connection must not cross fork() (STACK.md), so each worker opens its
 * own.
 */
#ifndef PORTAL_SERVER_H
#define PORTAL_SERVER_H

#include <stddef.h>
#include <sys/types.h>

/* A worker exiting with this status reports a configuration error that a
 * restart cannot fix: the parent stops everything (sysexits' EX_CONFIG). */
#define PORTAL_EXIT_CONFIG	78

/* The body of a worker: serves until told to stop, returns an exit code. */
typedef int (*portal_worker_fn)(int listen_fd, int index, void *arg);

struct portal_server_opts {
	int	workers;		/* how many to keep running */
	int	stop_timeout;		/* seconds before SIGKILL at stop */
};

/*
 * Binds and listens on "unix:/path" or "HOST:PORT".  A stale unix socket
 * file is replaced; the new one gets mode and, when uid/gid are not -1,
 * that owner, so the web server's group can connect.  Returns 0 and *fd,
 * or -1 with a sentence in err.
 */
int portal_listen_open(const char *listen, int mode, uid_t uid, gid_t gid,
    int *fd, char *err, size_t errlen);

/*
 * Finds a listening socket handed over by systemd (LISTEN_FDS, fd 3) or
 * spawn-fcgi (fd 0).  Returns 0 and *fd, or -1 when there is none.
 */
int portal_listen_inherited(int *fd);

/*
 * Looks up user and group (either may be "" = keep) for chown and
 * privilege drop.  Returns 0, or -1 with err naming the unknown name.
 */
int portal_lookup_ids(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char *err, size_t errlen);

/* As root: switches to gid/uid for good (supplementary groups of the
 * user).  Not root: a no-op.  Returns 0 or -1 with err. */
int portal_drop_privileges(const char *user, uid_t uid, gid_t gid,
    char *err, size_t errlen);

/* Detaches from the terminal (fork, setsid, stdio to /dev/null).
 * Returns 0 in the daemon, -1 on failure; the caller's parent exits. */
int portal_daemonize(void);

/*
 * Runs the supervisor until SIGTERM/SIGINT (returns 0 once every worker
 * is gone) or a worker reports PORTAL_EXIT_CONFIG (returns 1).  fn runs in
 * each forked worker, with signals unblocked and default dispositions.
 */
int portal_supervise(int listen_fd, const struct portal_server_opts *o,
    portal_worker_fn fn, void *arg);

#endif
