/*
 * directory.c - LDAP sign-in: search with a service account, bind as the
 * user (DESIGN.md 7).  The only file that includes ldap.h.
 *
 * Two connections to the same server are kept per process: `ld`, bound as
 * the service account, for searches; `ld_user` for the users' binds, so a
 * user's bind never changes the identity the searches run with (RFC 4511
 * 4.2.1: a bind resets the connection's authentication).  Either is dropped
 * on a server error and both are re-opened on the next call.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldap.h>
#include <openssl/crypto.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "config.h"
#include "directory.h"

#define DIR_MAX_URIS		16
#define DIR_MAX_FILTER_SUBST	4
#define DIR_NROLES		2

/* Microsoft's LDAP_MATCHING_RULE_IN_CHAIN: walks nested group membership. */
#define AD_IN_CHAIN		"1.2.840.113556.1.4.1941"

static const char DENIED_MSG[] = "wrong user name or password";

struct ac_directory {
	char	*uris[DIR_MAX_URIS];
	size_t	 nuris;
	int	 starttls;
	char	*ca_file;
	char	*bind_dn;		/* NULL: anonymous searches */
	char	*bind_pw;		/* wiped on free */
	char	*base_dn;
	char	*user_filter;
	char	*attr_uid;
	char	*attr_display;
	char	*attr_mail;
	int	 timeout;		/* seconds */
	int	 nested;
	char	*role_group[DIR_NROLES];	/* normalized DNs, or NULL */
	char	*dummy_dn;		/* bound for unknown users (timing) */
	LDAP	*ld;			/* service connection */
	LDAP	*ld_user;		/* user binds */
	size_t	 cur;			/* index of the URI ld talks to */
};

static const unsigned role_bit[DIR_NROLES] = { AC_ROLE_HELPDESK, AC_ROLE_ADMIN };
static const char *const role_key[DIR_NROLES] = {
	"roles.helpdesk.group", "roles.admin.group"
};

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

/* --- configuration ------------------------------------------------------ */

/* Splits the space-separated directory.uri list, keeping its order. */
static int
parse_uris(struct ac_directory *d, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n;

		while (isspace((unsigned char)*p))
			p++;
		n = strcspn(p, " \t\r\n");
		if (n == 0)
			break;
		if (d->nuris == DIR_MAX_URIS) {
			ac_set_err(err, errlen, "directory.uri: more than %d URIs",
			    DIR_MAX_URIS);
			return AC_ERR_CONFIG;
		}
		if (strncasecmp(p, "ldap://", 7) != 0 &&
		    strncasecmp(p, "ldaps://", 8) != 0) {
			ac_set_err(err, errlen, "directory.uri: '%.*s' is not an "
			    "ldap:// or ldaps:// URI", (int)n, p);
			return AC_ERR_CONFIG;
		}
		if ((d->uris[d->nuris] = strndup(p, n)) == NULL)
			return AC_ERR_NOMEM;
		d->nuris++;
		p += n;
	}
	if (d->nuris == 0) {
		ac_set_err(err, errlen, "directory.uri: no URI given");
		return AC_ERR_CONFIG;
	}
	return 0;
}

/*
 * The user filter must be a parenthesised filter in which every '%' is a
 * "%s" placeholder, so a stray '%' can never become a format directive and
 * the login can only enter the filter escaped (RFC 4515 section 3).
 */
static int
check_filter(const char *f, char *err, size_t errlen)
{
	size_t n = strlen(f), subst = 0;
	const char *p;

	for (p = f; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] != 's') {
			ac_set_err(err, errlen, "directory.user_filter: only %%s "
			    "may follow a '%%'");
			return AC_ERR_CONFIG;
		}
		subst++;
	}
	if (n < 2 || f[0] != '(' || f[n - 1] != ')' || subst == 0 ||
	    subst > DIR_MAX_FILTER_SUBST) {
		ac_set_err(err, errlen, "directory.user_filter: expected a filter "
		    "in parentheses with one %%s for the login, got '%s'", f);
		return AC_ERR_CONFIG;
	}
	return 0;
}

/* Reads the service password from a file; a trailing newline is dropped. */
static int
read_password_file(const char *path, char **out, char *err, size_t errlen)
{
	char buf[AC_MAX_PASSWORD + 2];
	size_t n;
	FILE *f;
	int r = AC_ERR_IO;

	if ((f = fopen(path, "r")) == NULL) {
		ac_set_err(err, errlen, "directory.bind_password_file: cannot read "
		    "%s: %s", path, strerror(errno));
		return AC_ERR_IO;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		ac_set_err(err, errlen, "directory.bind_password_file: cannot read "
		    "%s", path);
		goto out;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	r = AC_ERR_CONFIG;
	if (n == 0 || n > AC_MAX_PASSWORD || strlen(buf) != n) {
		ac_set_err(err, errlen, "directory.bind_password_file: %s must hold "
		    "one password of 1 to %d bytes", path, AC_MAX_PASSWORD);
		goto out;
	}
	r = AC_ERR_NOMEM;
	if ((*out = strdup(buf)) == NULL)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	return r;
}

/* The service account: a DN with a password (inline or from a file), or
 * neither for anonymous searches. */
static int
config_bind(struct ac_directory *d, const struct ac_config *cfg, char *err,
    size_t errlen)
{
	const char *pw = ac_config_get(cfg, "directory.bind_password", NULL);
	char *file = NULL;
	int r;

	if ((r = ac_config_path(cfg, "directory.bind_password_file", NULL,
	    &file)) < 0)
		return r;
	d->bind_dn = dup_or_null(ac_config_get(cfg, "directory.bind_dn",
	    NULL));
	r = 0;
	if (file != NULL)
		r = read_password_file(file, &d->bind_pw, err, errlen);
	else if (pw != NULL && (d->bind_pw = strdup(pw)) == NULL)
		r = AC_ERR_NOMEM;
	free(file);
	if (r < 0)
		return r;
	if (d->bind_dn != NULL && d->bind_pw == NULL) {
		ac_set_err(err, errlen, "directory.bind_dn is set but neither "
		    "directory.bind_password nor directory.bind_password_file");
		return AC_ERR_CONFIG;
	}
	return 0;
}

/* A DN in one canonical form, so "CN=Admins, ou=Groups" equals
 * "cn=admins,ou=groups" once case is folded by the comparison. */
static char *
normalize_dn(const char *dn)
{
	char *out = NULL, *copy;

	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &out,
	    LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || out == NULL)
		return NULL;
	copy = strdup(out);
	ldap_memfree(out);
	return copy;
}

static int
config_roles(struct ac_directory *d, const struct ac_config *cfg, char *err,
    size_t errlen)
{
	int i;

	for (i = 0; i < DIR_NROLES; i++) {
		const char *g = ac_config_get(cfg, role_key[i], NULL);

		if (g == NULL)
			continue;
		if ((d->role_group[i] = normalize_dn(g)) == NULL) {
			ac_set_err(err, errlen, "%s: '%s' is not a valid DN",
			    role_key[i], g);
			return AC_ERR_CONFIG;
		}
	}
	return 0;
}

static int
config_strings(struct ac_directory *d, const struct ac_config *cfg)
{
	const char *base = ac_config_get(cfg, "directory.base_dn", NULL);
	size_t n = strlen(base) + 64;

	d->base_dn = strdup(base);
	d->user_filter = strdup(ac_config_get(cfg, "directory.user_filter",
	    "(uid=%s)"));
	d->attr_uid = strdup(ac_config_get(cfg, "directory.attr_uid", "uid"));
	d->attr_display = strdup(ac_config_get(cfg, "directory.attr_display",
	    "displayName"));
	d->attr_mail = strdup(ac_config_get(cfg, "directory.attr_mail",
	    "mail"));
	if ((d->dummy_dn = malloc(n)) != NULL)
		snprintf(d->dummy_dn, n, "cn=tokenportal-no-such-user,%s",
		    base);
	if (d->base_dn == NULL || d->user_filter == NULL ||
	    d->attr_uid == NULL || d->attr_display == NULL ||
	    d->attr_mail == NULL || d->dummy_dn == NULL)
		return AC_ERR_NOMEM;
	return 0;
}

static int
config_numbers(struct ac_directory *d, const struct ac_config *cfg,
    char *err, size_t errlen)
{
	long long t;
	int r;

	if ((r = ac_config_int(cfg, "directory.timeout_seconds", 5, 1, 300,
	    &t, err, errlen)) < 0)
		return r;
	d->timeout = (int)t;
	if ((r = ac_config_bool(cfg, "directory.starttls", 0, &d->starttls,
	    err, errlen)) < 0)
		return r;
	return ac_config_bool(cfg, "directory.nested_groups", 0, &d->nested,
	    err, errlen);
}

/*
 * Reads the directory.* and roles.* keys into a new handle; see
 * directory.h.  No network traffic happens here.
 */
int
ac_directory_new(const struct ac_config *cfg, struct ac_directory **out,
    char *err, size_t errlen)
{
	struct ac_directory *d;
	int r = AC_ERR_NOMEM;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return AC_ERR_NOMEM;
	if ((r = ac_config_require(cfg, "directory.uri", err, errlen)) < 0 ||
	    (r = ac_config_require(cfg, "directory.base_dn", err, errlen)) < 0)
		goto out;
	if ((r = parse_uris(d, ac_config_get(cfg, "directory.uri", ""), err,
	    errlen)) < 0)
		goto out;
	if ((r = config_strings(d, cfg)) < 0 ||
	    (r = check_filter(d->user_filter, err, errlen)) < 0 ||
	    (r = config_numbers(d, cfg, err, errlen)) < 0 ||
	    (r = config_bind(d, cfg, err, errlen)) < 0 ||
	    (r = config_roles(d, cfg, err, errlen)) < 0)
		goto out;
	if ((r = ac_config_path(cfg, "directory.ca_file", NULL,
	    &d->ca_file)) < 0)
		goto out;
	*out = d;
	d = NULL;	/* transferred */
	r = 0;
out:
	if (r == AC_ERR_NOMEM)
		ac_set_err(err, errlen, "out of memory reading directory config");
	ac_directory_free(d);
	return r;
}

static void
dir_drop(struct ac_directory *d)
{
	if (d->ld != NULL)
		ldap_unbind_ext_s(d->ld, NULL, NULL);
	if (d->ld_user != NULL)
		ldap_unbind_ext_s(d->ld_user, NULL, NULL);
	d->ld = NULL;
	d->ld_user = NULL;
}

/* Closes the connections, wipes the service password and frees d. */
void
ac_directory_free(struct ac_directory *d)
{
	size_t i;

	if (d == NULL)
		return;
	dir_drop(d);
	for (i = 0; i < d->nuris; i++)
		free(d->uris[i]);
	if (d->bind_pw != NULL) {
		OPENSSL_cleanse(d->bind_pw, strlen(d->bind_pw));
		free(d->bind_pw);
	}
	for (i = 0; i < DIR_NROLES; i++)
		free(d->role_group[i]);
	free(d->ca_file);
	free(d->bind_dn);
	free(d->base_dn);
	free(d->user_filter);
	free(d->attr_uid);
	free(d->attr_display);
	free(d->attr_mail);
	free(d->dummy_dn);
	free(d);
}

/* --- connections -------------------------------------------------------- */

/* Result codes that mean "this server cannot be used now": the caller
 * drops the connection and answers AC_ERR_UNAVAILABLE. */
static int
rc_unavailable(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
	    rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
	    rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
	    rc == LDAP_LOCAL_ERROR || rc == LDAP_ENCODING_ERROR ||
	    rc == LDAP_DECODING_ERROR || rc == LDAP_NO_MEMORY ||
	    rc == LDAP_OTHER;
}

/* The server's diagnostic text for the last operation, or "". */
static const char *
diagnostic(LDAP *ld, char *buf, size_t len)
{
	char *msg = NULL;

	buf[0] = '\0';
	if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) ==
	    LDAP_OPT_SUCCESS && msg != NULL) {
		snprintf(buf, len, "%s", msg);
		ldap_memfree(msg);
	}
	return buf;
}

/* Sets protocol version 3, no referral chasing (AD answers a subtree
 * search from the root with referrals we must not follow with the
 * service password) and timeouts. */
static int
set_options(struct ac_directory *d, LDAP *ld)
{
	struct timeval tv = { d->timeout, 0 };
	int v3 = LDAP_VERSION3;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) ||
	    ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &d->timeout))
		return -1;
	return 0;
}

/*
 * The TLS settings of this handle: the server's certificate must chain to
 * directory.ca_file (or the system's CAs) and name the URI's host (RFC
 * 4513 section 3.1.3), else the handshake fails.  libldap copies its
 * process-wide TLS defaults into each handle; NEWCTX builds this handle's
 * own context from the options just set, so no other handle's (or
 * ldap.conf's) settings apply to it.  NEWCTX is also where an unreadable
 * CA file shows up.
 */
static int
set_tls_options(struct ac_directory *d, LDAP *ld, const char *uri,
    char *err, size_t errlen)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, tls12 =
	    LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, server = 0;

	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) ||
	    (d->ca_file != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, d->ca_file)) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server)) {
		if (d->ca_file != NULL)
			ac_set_err(err, errlen, "%s: cannot set up TLS with "
			    "directory.ca_file %s: unreadable, or no PEM "
			    "certificate in it", uri, d->ca_file);
		else
			ac_set_err(err, errlen, "%s: cannot set up TLS with the "
			    "system's CA certificates (set directory.ca_file)",
			    uri);
		return AC_ERR_CONFIG;
	}
	return 0;
}

/*
 * Says why opening the connection (TCP, and for ldaps:// the TLS
 * handshake) or StartTLS failed.  libldap leaves a diagnostic only when
 * the TLS layer failed, which tells a refused port from a refused
 * certificate.
 */
static void
connect_failure(struct ac_directory *d, LDAP *ld, const char *uri,
    const char *step, int rc, char *err, size_t errlen)
{
	char diag[256];

	diagnostic(ld, diag, sizeof(diag));
	if (rc == LDAP_SERVER_DOWN && diag[0] == '\0')
		ac_set_err(err, errlen, "%s: %s", uri, ldap_err2string(rc));
	else if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
		ac_set_err(err, errlen, "%s: %sTLS handshake failed [%s]: is "
		    "the server's certificate signed by a CA in %s, and does "
		    "it name this host?", uri, step, diag,
		    d->ca_file != NULL ? d->ca_file : "the system's store "
		    "(no directory.ca_file)");
	else
		ac_set_err(err, errlen, "%s: %sthe server refused TLS: %s %s",
		    uri, step, ldap_err2string(rc), diag);
}

/*
 * Opens a handle to uri with our options, connects and, when configured,
 * runs StartTLS (RFC 4511 section 4.14, RFC 4513 section 3).  No bind
 * yet.  A failed TLS negotiation is never retried without TLS.  On
 * failure err says why and the return is AC_ERR_UNAVAILABLE (this server
 * cannot be used: the next URI is tried) or AC_ERR_CONFIG (bad URI, CA
 * file).
 */
static int
open_handle(struct ac_directory *d, const char *uri, LDAP **out, char *err,
    size_t errlen)
{
	LDAP *ld = NULL;
	int rc, r = AC_ERR_CONFIG;

	*out = NULL;
	if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS) {
		ac_set_err(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		goto out;
	}
	if (set_options(d, ld) < 0) {
		ac_set_err(err, errlen, "%s: cannot set LDAP options", uri);
		goto out;
	}
	/* Plain ldap:// without StartTLS needs no TLS context (loading the
	 * system's CAs for nothing costs time on each connection). */
	if ((d->starttls || strncasecmp(uri, "ldaps://", 8) == 0) &&
	    (r = set_tls_options(d, ld, uri, err, errlen)) < 0)
		goto out;
	r = AC_ERR_UNAVAILABLE;
	if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		connect_failure(d, ld, uri, "", rc, err, errlen);
		goto out;
	}
	if (d->starttls && strncasecmp(uri, "ldap://", 7) == 0 &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		connect_failure(d, ld, uri, "StartTLS: ", rc, err, errlen);
		goto out;
	}
	*out = ld;
	ld = NULL;	/* transferred */
	r = 0;
out:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* Binds the service account on ld: 0, AC_ERR_UNAVAILABLE (try another
 * server) or AC_ERR_CONFIG (the server refused our credentials). */
static int
bind_service(struct ac_directory *d, LDAP *ld, const char *uri, char *err,
    size_t errlen)
{
	struct berval cred;
	char diag[256];
	int rc;

	cred.bv_val = d->bind_pw != NULL ? d->bind_pw : (char *)"";
	cred.bv_len = d->bind_pw != NULL ? strlen(d->bind_pw) : 0;
	rc = ldap_sasl_bind_s(ld, d->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return 0;
	ac_set_err(err, errlen, "%s: service account bind as '%s': %s %s", uri,
	    d->bind_dn != NULL ? d->bind_dn : "(anonymous)",
	    ldap_err2string(rc), diagnostic(ld, diag, sizeof(diag)));
	/* Wrong service credentials or a server that wants TLS first
	 * (AD's LDAP signing: rc 8) is the operator's problem, not an
	 * outage: say so rather than trying every replica. */
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_STRONG_AUTH_REQUIRED ||
	    rc == LDAP_CONFIDENTIALITY_REQUIRED ||
	    rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_INVALID_DN_SYNTAX)
		return AC_ERR_CONFIG;
	return AC_ERR_UNAVAILABLE;
}

/*
 * Makes sure the service connection is up: keeps the current one, or
 * tries each URI in order until one accepts the service bind.  *fresh
 * tells the caller whether the connection was opened by this call (a
 * reused one may have gone stale and deserves one retry).
 */
static int
dir_connect(struct ac_directory *d, int *fresh, char *err, size_t errlen)
{
	size_t i;
	int r = AC_ERR_UNAVAILABLE;

	*fresh = 0;
	if (d->ld != NULL)
		return 0;
	dir_drop(d);
	for (i = 0; i < d->nuris; i++) {
		LDAP *ld = NULL;

		r = open_handle(d, d->uris[i], &ld, err, errlen);
		if (r == 0)
			r = bind_service(d, ld, d->uris[i], err, errlen);
		if (r == 0) {
			d->ld = ld;
			d->cur = i;
			*fresh = 1;
			return 0;
		}
		if (ld != NULL)
			ldap_unbind_ext_s(ld, NULL, NULL);
		if (r != AC_ERR_UNAVAILABLE)
			return r;
	}
	return r;
}

/* --- search ------------------------------------------------------------- */

/* The user filter with every %s replaced by the escaped login (RFC 4515
 * section 3: '*', '(', ')', '\' and NUL become \XX). */
static int
build_filter(const struct ac_directory *d, const char *login, char **out)
{
	struct berval in, esc = { 0, NULL };
	const char *p;
	char *f = NULL, *w;
	size_t n;
	int r = AC_ERR_NOMEM;

	*out = NULL;
	in.bv_val = (char *)(uintptr_t)login;
	in.bv_len = strlen(login);
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0 || esc.bv_val == NULL)
		goto out;
	n = strlen(d->user_filter) + DIR_MAX_FILTER_SUBST * esc.bv_len + 1;
	if ((f = malloc(n)) == NULL)
		goto out;
	for (p = d->user_filter, w = f; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			memcpy(w, esc.bv_val, esc.bv_len);
			w += esc.bv_len;
			p++;
		} else
			*w++ = *p;
	}
	*w = '\0';
	*out = f;
	r = 0;
out:
	ber_memfree(esc.bv_val);
	return r;
}

/*
 * Searches the base DN for the login's entry.  Returns 0 and the result
 * in *res with exactly one entry, AC_ERR_NOT_FOUND (none or several: the
 * size limit of 2 tells several apart without reading them all), or the
 * mapped server error.
 */
static int
search_user(struct ac_directory *d, const char *login, LDAPMessage **res,
    char *err, size_t errlen)
{
	char *attrs[] = { d->attr_uid, d->attr_display, (char *)"cn",
	    d->attr_mail, (char *)"memberOf", NULL };
	struct timeval tv = { d->timeout, 0 };
	char *filter = NULL, diag[256];
	int rc, r;

	*res = NULL;
	if ((r = build_filter(d, login, &filter)) < 0)
		return r;
	rc = ldap_search_ext_s(d->ld, d->base_dn, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, 2, res);
	free(filter);
	if (rc == LDAP_SUCCESS && ldap_count_entries(d->ld, *res) == 1)
		return 0;
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(*res);
		*res = NULL;
		return AC_ERR_NOT_FOUND;
	}
	ac_set_err(err, errlen, "%s: search under '%s': %s %s", d->uris[d->cur],
	    d->base_dn, ldap_err2string(rc), diagnostic(d->ld, diag,
	    sizeof(diag)));
	ldap_msgfree(*res);
	*res = NULL;
	return rc_unavailable(rc) ? AC_ERR_UNAVAILABLE : AC_ERR_CONFIG;
}

/* Copies the first value of attr into buf; returns 1 if copied whole. */
static int
first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *buf,
    size_t len)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	int ok = 0;

	buf[0] = '\0';
	if (v != NULL && v[0] != NULL && v[0]->bv_len < len &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(buf, v[0]->bv_val, v[0]->bv_len);
		buf[v[0]->bv_len] = '\0';
		ok = 1;
	}
	if (v != NULL)
		ldap_value_free_len(v);
	return ok;
}

/* Fills out from the entry: DN, canonical login, display name, mail. */
static int
fill_user(struct ac_directory *d, LDAPMessage *e, const char *login,
    struct ac_dir_user *out, char *err, size_t errlen)
{
	char *dn = ldap_get_dn(d->ld, e);
	int r = AC_ERR_TOO_LONG;

	memset(out, 0, sizeof(*out));
	if (dn == NULL || strlen(dn) >= sizeof(out->dn)) {
		ac_set_err(err, errlen, "directory entry DN missing or too long");
		goto out;
	}
	memcpy(out->dn, dn, strlen(dn) + 1);
	/* The directory's spelling of the login ("Alice" typed, "alice"
	 * stored) so tokens have one owner name. */
	if (!first_value(d->ld, e, d->attr_uid, out->login,
	    sizeof(out->login)))
		snprintf(out->login, sizeof(out->login), "%s", login);
	if (!first_value(d->ld, e, d->attr_display, out->display_name,
	    sizeof(out->display_name)) &&
	    !first_value(d->ld, e, "cn", out->display_name,
	    sizeof(out->display_name)))
		snprintf(out->display_name, sizeof(out->display_name), "%s",
		    out->login);
	first_value(d->ld, e, d->attr_mail, out->email, sizeof(out->email));
	r = 0;
out:
	ldap_memfree(dn);
	return r;
}

/* --- roles -------------------------------------------------------------- */

/*
 * Runs a base-scope search of dn with filter and reports whether the entry
 * matched (1), did not or does not exist (0), or a server error.
 */
static int
base_matches(struct ac_directory *d, const char *dn, const char *filter,
    char *err, size_t errlen)
{
	char *attrs[] = { (char *)LDAP_NO_ATTRS, NULL };
	struct timeval tv = { d->timeout, 0 };
	LDAPMessage *res = NULL;
	int rc, n;

	rc = ldap_search_ext_s(d->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0,
	    NULL, NULL, &tv, 1, &res);
	n = rc == LDAP_SUCCESS ? ldap_count_entries(d->ld, res) : 0;
	ldap_msgfree(res);
	if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT ||
	    rc == LDAP_INSUFFICIENT_ACCESS)
		return n > 0;
	ac_set_err(err, errlen, "%s: group lookup: %s", d->uris[d->cur],
	    ldap_err2string(rc));
	return rc_unavailable(rc) ? AC_ERR_UNAVAILABLE : AC_ERR_CONFIG;
}

/* Escapes value for a filter and formats "(PRE ESCAPED ...)" into *out. */
static int
filter_with(const char *fmt_pre, const char *value, const char *fmt_mid,
    char **out)
{
	struct berval in, esc = { 0, NULL };
	size_t n;
	int r = AC_ERR_NOMEM;

	*out = NULL;
	in.bv_val = (char *)(uintptr_t)value;
	in.bv_len = strlen(value);
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0 || esc.bv_val == NULL)
		return AC_ERR_NOMEM;
	n = strlen(fmt_pre) + 2 * esc.bv_len + strlen(fmt_mid) + 8;
	if ((*out = malloc(n)) != NULL) {
		if (fmt_mid[0] != '\0')
			snprintf(*out, n, "%s%s%s%s))", fmt_pre, esc.bv_val,
			    fmt_mid, esc.bv_val);
		else
			snprintf(*out, n, "%s%s)", fmt_pre, esc.bv_val);
		r = 0;
	}
	ber_memfree(esc.bv_val);
	return r;
}

/*
 * Is the user in group gdn?  Nested: AD's in-chain rule on the user's own
 * entry.  Otherwise a search of the group for a member value naming the
 * user, for servers that do not maintain memberOf.
 */
static int
in_group_by_search(struct ac_directory *d, const char *udn, const char *gdn,
    char *err, size_t errlen)
{
	char *filter = NULL;
	int r;

	if (d->nested)
		r = filter_with("(memberOf:" AD_IN_CHAIN ":=", gdn, "", &filter);
	else
		r = filter_with("(|(member=", udn, ")(uniqueMember=", &filter);
	if (r < 0)
		return r;
	r = d->nested ? base_matches(d, udn, filter, err, errlen) :
	    base_matches(d, gdn, filter, err, errlen);
	free(filter);
	return r;
}

/* Sets the role bits: memberOf values of the entry when the server keeps
 * them (direct membership), else a search per configured group. */
static int
fill_roles(struct ac_directory *d, LDAPMessage *e, struct ac_dir_user *u,
    char *err, size_t errlen)
{
	struct berval **v = NULL;
	int i, j, r = 0;

	u->roles = 0;
	if (!d->nested)
		v = ldap_get_values_len(d->ld, e, "memberOf");
	for (i = 0; i < DIR_NROLES && r >= 0; i++) {
		if (d->role_group[i] == NULL)
			continue;
		if (v == NULL) {
			r = in_group_by_search(d, u->dn, d->role_group[i], err,
			    errlen);
			if (r > 0)
				u->roles |= role_bit[i];
			continue;
		}
		for (j = 0; v[j] != NULL; j++) {
			char *val = strndup(v[j]->bv_val, v[j]->bv_len);
			char *norm = val != NULL ? normalize_dn(val) : NULL;

			if (norm != NULL &&
			    strcasecmp(norm, d->role_group[i]) == 0)
				u->roles |= role_bit[i];
			free(norm);
			free(val);
		}
	}
	if (v != NULL)
		ldap_value_free_len(v);
	return r < 0 ? r : 0;
}

/* --- binds -------------------------------------------------------------- */

/*
 * Maps Active Directory's reason for a refused bind (the "data XXX" part
 * of the diagnostic text) to our answer.  533, 532 and 773 come only with
 * the right password, so naming them leaks nothing; 775 (locked out)
 * comes with any password and reads exactly like a wrong password, or it
 * would tell an attacker which logins exist.
 */
static int
map_bind_refusal(const char *diag, char *err, size_t errlen)
{
	const char *p = strstr(diag, "data ");
	char code[8] = "";

	if (p != NULL)
		sscanf(p + 5, "%7[0-9a-fA-F]", code);
	if (strcasecmp(code, "533") == 0) {
		ac_set_err(err, errlen, "your directory account is disabled");
		return AC_ERR_ACCOUNT;
	}
	if (strcasecmp(code, "532") == 0) {
		ac_set_err(err, errlen, "your directory password has expired");
		return AC_ERR_ACCOUNT;
	}
	if (strcasecmp(code, "773") == 0) {
		ac_set_err(err, errlen, "your directory password must be changed "
		    "before you can sign in");
		return AC_ERR_ACCOUNT;
	}
	ac_set_err(err, errlen, "%s", DENIED_MSG);
	return AC_ERR_DENIED;
}

/* Binds dn with password on the user connection (opened on the server
 * the service connection uses).  0 on success. */
static int
bind_user(struct ac_directory *d, const char *dn, const char *password,
    char *err, size_t errlen)
{
	struct berval cred;
	char diag[256];
	int rc, r;

	if (d->ld_user == NULL && (r = open_handle(d, d->uris[d->cur],
	    &d->ld_user, err, errlen)) < 0)
		return r;
	cred.bv_val = (char *)(uintptr_t)password;
	cred.bv_len = strlen(password);
	rc = ldap_sasl_bind_s(d->ld_user, dn, LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return 0;
	diagnostic(d->ld_user, diag, sizeof(diag));
	if (rc == LDAP_INVALID_CREDENTIALS)
		return map_bind_refusal(diag, err, errlen);
	if (rc_unavailable(rc)) {
		ac_set_err(err, errlen, "%s: bind: %s", d->uris[d->cur],
		    ldap_err2string(rc));
		return AC_ERR_UNAVAILABLE;
	}
	/* Anything else (unwilling to perform, constraint violation...)
	 * is a refusal of this user, answered like a wrong password. */
	ac_set_err(err, errlen, "%s", DENIED_MSG);
	return AC_ERR_DENIED;
}

/* One attempt at authenticate on the current connection. */
static int
authenticate_once(struct ac_directory *d, const char *login,
    const char *password, struct ac_dir_user *out, char *err, size_t errlen)
{
	LDAPMessage *res = NULL;
	int r;

	r = search_user(d, login, &res, err, errlen);
	if (r == AC_ERR_NOT_FOUND) {
		/* Spend a bind round trip as a real attempt would, so an
		 * unknown login costs about the same time as a known one. */
		r = bind_user(d, d->dummy_dn, password, err, errlen);
		if (r != AC_ERR_UNAVAILABLE) {
			ac_set_err(err, errlen, "%s", DENIED_MSG);
			r = AC_ERR_DENIED;
		}
		goto out;
	}
	if (r < 0)
		goto out;
	if ((r = fill_user(d, ldap_first_entry(d->ld, res), login, out, err,
	    errlen)) < 0)
		goto out;
	if ((r = bind_user(d, out->dn, password, err, errlen)) < 0)
		goto out;
	r = fill_roles(d, ldap_first_entry(d->ld, res), out, err, errlen);
out:
	ldap_msgfree(res);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int
lookup_once(struct ac_directory *d, const char *login,
    struct ac_dir_user *out, char *err, size_t errlen)
{
	LDAPMessage *res = NULL;
	int r;

	r = search_user(d, login, &res, err, errlen);
	if (r == AC_ERR_NOT_FOUND)
		ac_set_err(err, errlen, "no directory user '%s'", login);
	if (r < 0)
		goto out;
	if ((r = fill_user(d, ldap_first_entry(d->ld, res), login, out, err,
	    errlen)) < 0)
		goto out;
	r = fill_roles(d, ldap_first_entry(d->ld, res), out, err, errlen);
out:
	ldap_msgfree(res);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int
check_login(const char *login, char *err, size_t errlen)
{
	if (login == NULL || *login == '\0') {
		ac_set_err(err, errlen, "%s", DENIED_MSG);
		return AC_ERR_DENIED;
	}
	if (strlen(login) >= AC_MAX_USER) {
		ac_set_err(err, errlen, "user name longer than %d bytes",
		    AC_MAX_USER - 1);
		return AC_ERR_TOO_LONG;
	}
	return 0;
}

/*
 * Runs op on a live connection.  A connection kept from an earlier call
 * may have been closed by the server meanwhile (restart, idle timeout):
 * such a failure earns one retry on a fresh connection, so the first
 * sign-in after the directory comes back works.
 */
static int
with_connection(struct ac_directory *d, const char *login,
    const char *password, struct ac_dir_user *out, char *err, size_t errlen)
{
	int attempt, fresh, r = AC_ERR_UNAVAILABLE;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = dir_connect(d, &fresh, err, errlen)) < 0)
			break;
		r = password != NULL ?
		    authenticate_once(d, login, password, out, err, errlen) :
		    lookup_once(d, login, out, err, errlen);
		if (r != AC_ERR_UNAVAILABLE)
			break;
		dir_drop(d);
		if (fresh)
			break;
	}
	if (r == AC_ERR_UNAVAILABLE)
		dir_drop(d);
	return r;
}

/* Checks login and password against the directory; see directory.h. */
int
ac_directory_authenticate(struct ac_directory *d, const char *login,
    const char *password, struct ac_dir_user *out, char *err, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_login(login, err, errlen)) < 0)
		return r;
	/* An empty password is an unauthenticated bind that succeeds on
	 * many servers (RFC 4513 section 5.1.2): never send one. */
	if (password == NULL || *password == '\0') {
		ac_set_err(err, errlen, "%s", DENIED_MSG);
		return AC_ERR_DENIED;
	}
	if (strlen(password) > AC_MAX_PASSWORD) {
		ac_set_err(err, errlen, "password longer than %d bytes",
		    AC_MAX_PASSWORD);
		return AC_ERR_TOO_LONG;
	}
	return with_connection(d, login, password, out, err, errlen);
}

/* Looks a user up without a password; see directory.h. */
int
ac_directory_lookup(struct ac_directory *d, const char *login,
    struct ac_dir_user *out, char *err, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_login(login, err, errlen)) < 0)
		return r == AC_ERR_DENIED ? AC_ERR_NOT_FOUND : r;
	return with_connection(d, login, NULL, out, err, errlen);
}
