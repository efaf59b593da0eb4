/*
 * directory.h - the organisation's directory (OpenLDAP or Active Directory):
 * who a user is, whether a password is theirs, which roles they hold.
 *
 * One handle per process, opened after fork (an LDAP connection must not be
 * shared across fork, STACK.md).  The handle keeps its connections and
 * reuses them; after a server error it drops them and re-opens on the next
 * call, trying the configured URIs in order (failover).  Not thread-safe.
 *
 * Config keys (documented in conf/tokenportal.hdf.example):
 *   directory.uri               space-separated ldap:// or ldaps:// URIs
 *                               (ldaps://: TLS from the first byte, port
 *                               636 by default)
 *   directory.starttls          0/1: StartTLS (RFC 4511 4.14) on every
 *                               ldap:// URI before any bind (default 0;
 *                               moot on ldaps:// URIs).  If it fails, that
 *                               server is not used: never a bind in clear.
 *   directory.ca_file           PEM file of the CA certificate(s) the
 *                               server's certificate must chain to; relative
 *                               to the config's folder; default: the
 *                               system's store.  Applies to ldaps:// and
 *                               StartTLS.  The certificate must also name
 *                               the URI's host (subjectAltName DNS or IP;
 *                               OpenLDAP checks "localhost" against the
 *                               machine's own name).  Always enforced: no
 *                               key turns certificate checking off.
 *   directory.bind_dn           service account used for searches
 *   directory.bind_password     its password, or
 *   directory.bind_password_file  a file holding it (one line)
 *   directory.base_dn           where users are searched (subtree)
 *   directory.user_filter       default "(uid=%s)"; %s = the escaped login
 *   directory.attr_uid          attribute holding the login (default uid;
 *                               AD: sAMAccountName)
 *   directory.attr_display      default displayName (falls back to cn)
 *   directory.attr_mail         default mail
 *   directory.timeout_seconds   network and operation timeout (default 5)
 *   directory.nested_groups     0/1: membership through nested groups with
 *                               AD's in-chain rule (default 0)
 *   roles.helpdesk.group, roles.admin.group   group DNs (optional)
 */
#ifndef AC_DIRECTORY_H
#define AC_DIRECTORY_H

#include <stddef.h>

#include "ac_limits.h"

struct ac_config;
struct ac_directory;

#define AC_ROLE_HELPDESK	1
#define AC_ROLE_ADMIN		2

/* A directory user as the portal needs it.  Strings are NUL-terminated
 * and empty when the entry lacks the attribute. */
struct ac_dir_user {
	char		login[AC_MAX_USER];	/* canonical login (attr_uid) */
	char		dn[AC_MAX_DN];
	char		display_name[AC_MAX_DISPLAY_NAME];
	char		email[AC_MAX_EMAIL + 1];
	unsigned	roles;			/* AC_ROLE_* bits */
};

/*
 * Reads the directory.* and roles.* keys of cfg and returns a handle in
 * *out.  Does not connect yet (the first call does), so a process can
 * start while the directory is down.  Returns 0, AC_ERR_CONFIG (err names
 * the key), AC_ERR_IO (unreadable password file) or AC_ERR_NOMEM.  The
 * handle copies what it needs: cfg may be freed afterwards.
 */
int ac_directory_new(const struct ac_config *cfg, struct ac_directory **out,
    char *err, size_t errlen);

/* Closes the connections and wipes the service password; NULL is a no-op. */
void ac_directory_free(struct ac_directory *d);

/*
 * Checks login and password: finds exactly one entry with the service
 * account, then binds as that entry's DN on a separate connection.
 * Returns 0 and fills *out, or
 *   AC_ERR_DENIED       unknown login, wrong password, empty password (no
 *                       bind is attempted), several entries, AD account
 *                       locked (775): all with the same message in err,
 *                       in similar time, so a caller cannot tell them apart;
 *   AC_ERR_ACCOUNT      right password but the account is disabled (533),
 *                       expired (532) or must change its password (773):
 *                       err says which, in words a user can act on;
 *   AC_ERR_UNAVAILABLE  no configured server answered in time, or none
 *                       completed TLS (certificate not trusted or not for
 *                       that host, StartTLS refused): err names the URI and
 *                       says "TLS"; the next call tries again;
 *   AC_ERR_CONFIG       the service account was refused, the server
 *                       demands a stronger authentication (TLS), or
 *                       directory.ca_file cannot be read;
 *   AC_ERR_TOO_LONG     login or password over the limits of ac_limits.h.
 * The password is never copied beyond the LDAP library's own buffers.
 */
int ac_directory_authenticate(struct ac_directory *d, const char *login,
    const char *password, struct ac_dir_user *out, char *err, size_t errlen);

/*
 * Looks a user up without a password (helpdesk, e-mail bootstrap).
 * Returns 0 and fills *out, AC_ERR_NOT_FOUND (no entry, or several), or
 * AC_ERR_UNAVAILABLE / AC_ERR_CONFIG / AC_ERR_TOO_LONG as above.
 */
int ac_directory_lookup(struct ac_directory *d, const char *login,
    struct ac_dir_user *out, char *err, size_t errlen);

#endif
