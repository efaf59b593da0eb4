/*
 * session.c - session cookies, their store rows, and CSRF tokens.
 *
 * The cookie value is 32 bytes from RAND_bytes in hex; the store keeps
 * SHA-256(value), so neither a database dump nor a log line can be turned
 * back into a working cookie.  Cookies are written by hand because
 * ClearSilver's cgi_cookie_set cannot add HttpOnly or SameSite (STACK.md).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ac_error.h"
#include "authcore.h"
#include "log.h"
#include "portal.h"
#include "request.h"
#include "session.h"
#include "store.h"

/* --- cookies ------------------------------------------------------------ */

int
portal_cookie_find(const char *header, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header, *v;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			v = p + nlen + 1;
			vlen = strcspn(v, ";");
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen + 1 > outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return (int)vlen;
		}
		p = strchr(p, ';');
	}
	return -1;
}

int
portal_token_hex_valid(const char *s)
{
	size_t i;

	for (i = 0; i < PORTAL_TOKEN_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[PORTAL_TOKEN_HEX] == '\0';
}

/* 32 random bytes as 64 lower-case hex digits (out: 65 bytes). */
static int
random_hex(char out[PORTAL_TOKEN_HEX + 1])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char b[PORTAL_TOKEN_HEX / 2];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return AC_ERR_CRYPTO;
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[PORTAL_TOKEN_HEX] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

static void
id_hash(const char *id, uint8_t out[AC_HASH_LEN])
{
	SHA256((const unsigned char *)id, strlen(id), out);
}

/* Sets a cookie: HttpOnly, SameSite=Strict, Path=/, Secure unless the
 * configuration says plain HTTP (the loopback demo).  value NULL clears. */
static void
set_cookie(struct portal_req *r, const char *key, const char *name,
    const char *value)
{
	char line[256];
	int secure = portal_req_app(r)->set->cookie_secure;

	snprintf(line, sizeof(line), "Set-Cookie: %s=%s; Path=/;%s HttpOnly;%s "
	    "SameSite=Strict", name, value ? value : "",
	    value ? "" : " Max-Age=0;", secure ? " Secure;" : "");
	portal_req_header(r, key, line);
	OPENSSL_cleanse(line, sizeof(line));
}

/* --- loading ------------------------------------------------------------ */

/* Makes sure a browser without a session has a CSRF cookie. */
static int
ensure_pre_csrf(struct portal_req *r, const char *cookies)
{
	struct portal_sess *ps = portal_req_sess(r);
	char v[PORTAL_TOKEN_HEX + 2];

	if (cookies != NULL &&
	    portal_cookie_find(cookies, PORTAL_CSRF_COOKIE, v, sizeof(v)) > 0 &&
	    portal_token_hex_valid(v)) {
		memcpy(ps->pre_csrf, v, sizeof(ps->pre_csrf));
		return 0;
	}
	if (random_hex(ps->pre_csrf) != 0)
		return AC_ERR_CRYPTO;
	set_cookie(r, "csrf_cookie", PORTAL_CSRF_COOKIE, ps->pre_csrf);
	return 0;
}

/* Is this session past its idle or absolute limit? */
static int
timed_out(struct portal_req *r, const struct ac_session *s, int64_t now)
{
	const struct portal_settings *set = portal_req_app(r)->set;

	return now - s->last_seen > set->session_idle ||
	    now - s->created > set->session_max || now < s->created;
}

int
portal_session_load(struct portal_req *r)
{
	struct portal_sess *ps = portal_req_sess(r);
	ac_ctx *ac = portal_ac(r);
	ac_store *st = ac_ctx_store(ac);
	const char *cookies = portal_req_env(r, "HTTP_COOKIE");
	char id[PORTAL_TOKEN_HEX + 2];
	uint8_t h[AC_HASH_LEN];
	int64_t now = ac_ctx_now(ac);
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	if (cookies != NULL &&
	    portal_cookie_find(cookies, PORTAL_SESSION_COOKIE, id, sizeof(id)) > 0
	    && portal_token_hex_valid(id)) {
		id_hash(id, h);
		rc = ac_store_session_get(st, h, &ps->s);
		if (rc == 0 && timed_out(r, &ps->s, now)) {
			ps->expired = 1;
			rc = ac_store_session_delete(st, h);
			set_cookie(r, "session_cookie", PORTAL_SESSION_COOKIE, NULL);
		} else if (rc == 0) {
			ps->present = 1;
			rc = ac_store_session_touch(st, h, now);
			ps->s.last_seen = now;
		} else if (rc == AC_ERR_NOT_FOUND) {
			/* Deleted by a sweep or a sign-out elsewhere. */
			ps->expired = 1;
			rc = 0;
			set_cookie(r, "session_cookie", PORTAL_SESSION_COOKIE, NULL);
		}
	}
	OPENSSL_cleanse(id, sizeof(id));
	if (rc != 0) {
		portal_log(PORTAL_LOG_ERR, "session lookup: %s", ac_strerror(rc));
		memset(ps, 0, sizeof(*ps));
		return rc;
	}
	if (!ps->present) {
		memset(&ps->s, 0, sizeof(ps->s));
		return ensure_pre_csrf(r, cookies);
	}
	return 0;
}

const char *
portal_session_csrf(struct portal_req *r)
{
	struct portal_sess *ps = portal_req_sess(r);

	return ps->present ? ps->s.csrf : ps->pre_csrf;
}

int
portal_csrf_ok(struct portal_req *r, const char *provided)
{
	const char *want = portal_session_csrf(r);

	if (provided == NULL || want == NULL || !portal_token_hex_valid(want) ||
	    strlen(provided) != PORTAL_TOKEN_HEX)
		return 0;
	return CRYPTO_memcmp(provided, want, PORTAL_TOKEN_HEX) == 0;
}

/* --- begin, raise, end (portal.h) --------------------------------------- */

/*
 * Stores ps->s under a fresh id and sends the cookie; the row of the
 * browser's previous id, if any, is deleted (rotation).  Also sweeps
 * sessions that timed out, so the table does not grow.
 */
static int
store_fresh(struct portal_req *r, struct ac_session *s, int had_old)
{
	const struct portal_settings *set = portal_req_app(r)->set;
	ac_ctx *ac = portal_ac(r);
	ac_store *st = ac_ctx_store(ac);
	uint8_t old[AC_HASH_LEN];
	char id[PORTAL_TOKEN_HEX + 1];
	int64_t now = ac_ctx_now(ac);
	int rc;

	memcpy(old, s->id_hash, sizeof(old));
	if ((rc = random_hex(id)) != 0 || (rc = random_hex(s->csrf)) != 0)
		goto out;
	id_hash(id, s->id_hash);
	s->last_seen = now;
	if ((rc = ac_store_begin(st)) != 0)
		goto out;
	if (had_old && (rc = ac_store_session_delete(st, old)) != 0 &&
	    rc != AC_ERR_NOT_FOUND)
		goto rollback;
	if ((rc = ac_store_session_put(st, s)) != 0)
		goto rollback;
	if ((rc = ac_store_session_sweep(st, now - set->session_idle,
	    now - set->session_max, NULL)) != 0)
		goto rollback;
	if ((rc = ac_store_commit(st)) != 0)
		goto out;
	set_cookie(r, "session_cookie", PORTAL_SESSION_COOKIE, id);
	goto out;
rollback:
	ac_store_rollback(st);
out:
	OPENSSL_cleanse(id, sizeof(id));
	return rc;
}

int
portal_session_begin(struct portal_req *r, const char *user,
    const char *display_name, const char *email, int roles, int level)
{
	struct portal_sess *ps = portal_req_sess(r);
	struct ac_session s;
	int rc, had_old = ps->present;

	memset(&s, 0, sizeof(s));
	if (had_old)
		memcpy(s.id_hash, ps->s.id_hash, sizeof(s.id_hash));
	if (strlen(user) > AC_MAX_USER || strlen(email ? email : "") > AC_MAX_EMAIL)
		return AC_ERR_TOO_LONG;
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.display_name, sizeof(s.display_name), "%s",
	    display_name ? display_name : "");
	snprintf(s.email, sizeof(s.email), "%s", email ? email : "");
	s.roles = roles;
	s.level = level;
	s.created = ac_ctx_now(portal_ac(r));
	rc = store_fresh(r, &s, had_old);
	if (rc == 0) {
		ps->s = s;
		ps->present = 1;
	}
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

int
portal_session_raise(struct portal_req *r)
{
	struct portal_sess *ps = portal_req_sess(r);
	struct ac_session s;
	int rc;

	if (!ps->present)
		return AC_ERR_STATE;
	s = ps->s;
	s.level = 1;
	rc = store_fresh(r, &s, 1);
	if (rc == 0)
		ps->s = s;
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

int
portal_session_end(struct portal_req *r)
{
	struct portal_sess *ps = portal_req_sess(r);
	int rc = 0;

	if (ps->present) {
		rc = ac_store_session_delete(ac_ctx_store(portal_ac(r)),
		    ps->s.id_hash);
		if (rc == AC_ERR_NOT_FOUND)
			rc = 0;
	}
	set_cookie(r, "session_cookie", PORTAL_SESSION_COOKIE, NULL);
	OPENSSL_cleanse(&ps->s, sizeof(ps->s));
	ps->present = 0;
	/* Forms on the next page need a token: start a pre-session one. */
	if (random_hex(ps->pre_csrf) == 0)
		set_cookie(r, "csrf_cookie", PORTAL_CSRF_COOKIE, ps->pre_csrf);
	return rc;
}
