/*
 * authcore.c - the auth core context: configuration, master key, token
 * store, check policy, clock and password verifier in one handle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ac_error.h"
#include "authcore.h"
#include "config.h"
#include "events.h"
#include "seal.h"
#include "store.h"

struct ac_ctx {
	ac_config		*cfg;
	ac_keyring		*keys;
	ac_store		*store;
	struct ac_policy	 policy;
	int64_t			(*now)(void *);
	void			*now_arg;
	ac_password_verifier	 verify;
	void			*verify_arg;
	ac_code_sender		 send;
	void			*send_arg;
	struct ac_token		*dummy;		/* ac_ctx_dummy_token */
	unsigned long		 dummy_uses;
};

/* One policy key: name, default, bounds, and where the value goes.  The
 * multiplier turns minutes into the seconds the policy keeps. */
struct policy_key {
	const char	*key;
	long long	 def, min, max;
	int		 mult;
	size_t		 off;
};

static const struct policy_key policy_keys[] = {
	{ "check.max_fail", 10, 1, 1000, 1,
	    offsetof(struct ac_policy, max_fail) },
	/* 0 minutes: a lock lasts until a helpdesk or admin unlock. */
	{ "check.lock_minutes", 30, 0, 525600, 60,
	    offsetof(struct ac_policy, lock_seconds) },
	{ "check.hotp_window", 10, 0, 1000, 1,
	    offsetof(struct ac_policy, hotp_window) },
	{ "check.totp_window", 1, 0, 10, 1,
	    offsetof(struct ac_policy, totp_window) },
	{ "check.resync_hotp_window", 1000, 1, 100000, 1,
	    offsetof(struct ac_policy, resync_hotp_window) },
	{ "check.resync_totp_window", 60, 1, 10000, 1,
	    offsetof(struct ac_policy, resync_totp_window) },
	{ "enroll.pending_minutes", 10, 1, 10080, 60,
	    offsetof(struct ac_policy, pending_seconds) },
	{ "check.email_code_minutes", 5, 1, 60, 60,
	    offsetof(struct ac_policy, email_code_seconds) },
	{ "check.email_max_sends", 5, 1, 100, 1,
	    offsetof(struct ac_policy, email_max_sends) },
};

/*
 * Reads and validates every policy key.  Returns 0, or AC_ERR_CONFIG with
 * err naming the key and the allowed range (ac_config_int's message).
 */
static int
policy_read(const ac_config *cfg, struct ac_policy *p, char *err,
    size_t errlen)
{
	size_t i;
	long long v;
	int r;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < sizeof(policy_keys) / sizeof(policy_keys[0]); i++) {
		const struct policy_key *k = &policy_keys[i];

		r = ac_config_int(cfg, k->key, k->def, k->min, k->max, &v,
		    err, errlen);
		if (r != 0)
			return AC_ERR_CONFIG;
		*(int *)(void *)((char *)p + k->off) = (int)(v * k->mult);
	}
	return 0;
}

/* The master key file named by keys.master_file, resolved against the
 * config folder; malloc'd in *path. */
static int
key_path(const ac_config *cfg, char **path, char *err, size_t errlen)
{
	int r;

	*path = NULL;
	if ((r = ac_config_require(cfg, "keys.master_file", err, errlen)) != 0)
		return AC_ERR_CONFIG;
	if ((r = ac_config_path(cfg, "keys.master_file", NULL, path)) != 0)
		return r;
	return *path == NULL ? AC_ERR_CONFIG : 0;
}

/* The dummy token (authcore.h): random secret, PIN salt and PIN hash; the
 * serial has a space, which no stored serial may have. */
static int
dummy_make(ac_ctx *ctx)
{
	uint8_t secret[20];
	struct ac_token *t;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return AC_ERR_NOMEM;
	snprintf(t->serial, sizeof(t->serial), "no token");
	t->type = AC_TOKEN_TOTP;
	t->state = AC_STATE_ACTIVE;
	t->algo = AC_ALGO_SHA1;
	t->digits = 6;
	t->period = 30;
	t->has_pin = 1;
	snprintf(t->key_id, sizeof(t->key_id), "%s",
	    ac_keyring_key_id(ctx->keys));
	if ((r = ac_random(secret, sizeof(secret))) != 0 ||
	    (r = ac_random(t->pin_salt, sizeof(t->pin_salt))) != 0 ||
	    (r = ac_random(t->pin_hash, sizeof(t->pin_hash))) != 0 ||
	    (r = ac_seal(ctx->keys, t->serial, secret, sizeof(secret),
	    t->sealed, sizeof(t->sealed), &t->sealed_len)) != 0) {
		ac_wipe(t, sizeof(*t));
		free(t);
	} else
		ctx->dummy = t;
	ac_wipe(secret, sizeof(secret));
	return r;
}

int
ac_ctx_open_config(struct ac_config *cfg, ac_ctx **out, char *err,
    size_t errlen)
{
	ac_ctx *ctx = NULL;
	char *kpath = NULL;
	int r = AC_ERR_NOMEM;

	*out = NULL;
	if (cfg == NULL)
		return AC_ERR_INVALID;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		ac_set_err(err, errlen, "out of memory");
		goto out;
	}
	ctx->cfg = cfg;
	cfg = NULL;	/* transferred */
	if ((r = policy_read(ctx->cfg, &ctx->policy, err, errlen)) != 0)
		goto out;
	if ((r = key_path(ctx->cfg, &kpath, err, errlen)) != 0)
		goto out;
	if ((r = ac_keyring_load(kpath, &ctx->keys, err, errlen)) != 0)
		goto out;
	if ((r = dummy_make(ctx)) != 0) {
		ac_set_err(err, errlen, "cannot seal the dummy token: %s",
		    ac_strerror(r));
		goto out;
	}
	if ((r = ac_store_open(ctx->cfg, 0, &ctx->store, err, errlen)) != 0)
		goto out;
	/* Refuse a key file that is not this store's before anything is
	 * sealed or chained under it (events.h). */
	if ((r = ac_event_key_check(ctx, NULL, 0)) != 0) {
		if (r == AC_ERR_KEY)
			ac_set_err(err, errlen, "master key file %s does not "
			    "match this store: its events do not verify under "
			    "it (a different key file?)", kpath);
		else
			ac_set_err(err, errlen, "cannot read the event log: "
			    "%s", ac_strerror(r));
		goto out;
	}
	*out = ctx;
	ctx = NULL;	/* transferred */
	r = 0;
out:
	free(kpath);
	ac_ctx_free(ctx);
	ac_config_free(cfg);
	return r;
}

int
ac_ctx_open(const char *config_path, ac_ctx **out, char *err, size_t errlen)
{
	ac_config *cfg = NULL;
	int r;

	*out = NULL;
	if (config_path == NULL)
		return AC_ERR_INVALID;
	if ((r = ac_config_load(config_path, &cfg, err, errlen)) != 0)
		return r;
	return ac_ctx_open_config(cfg, out, err, errlen);
}

void
ac_ctx_free(ac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ac_store_close(ctx->store);
	ac_keyring_free(ctx->keys);
	ac_config_free(ctx->cfg);
	if (ctx->dummy != NULL)
		ac_wipe(ctx->dummy, sizeof(*ctx->dummy));
	free(ctx->dummy);
	ac_wipe(ctx, sizeof(*ctx));
	free(ctx);
}

/*
 * The SQLite store is one file plus its WAL and shared-memory companions;
 * init removes them when it created the store and then failed, so a retry
 * starts clean.  Other drivers have no file to remove.
 */
static void
store_remove(const ac_config *cfg)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char *path = NULL, buf[4096];
	size_t i;

	if (strcmp(ac_config_get(cfg, "store.driver", "sqlite"), "sqlite") != 0)
		return;
	if (ac_config_path(cfg, "store.path", NULL, &path) != 0 || path == NULL)
		return;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s%s", path,
		    suffix[i]) < sizeof(buf))
			(void)unlink(buf);
	}
	free(path);
}

/* 1 when the configured SQLite file exists already (init must then leave
 * it alone whatever happens). */
static int
store_exists(const ac_config *cfg)
{
	char *path = NULL;
	struct stat st;
	int exists = 0;

	if (strcmp(ac_config_get(cfg, "store.driver", "sqlite"), "sqlite") != 0)
		return 1;
	if (ac_config_path(cfg, "store.path", NULL, &path) != 0 || path == NULL)
		return 1;
	exists = stat(path, &st) == 0;
	free(path);
	return exists;
}

/* Writes the first event of a new store, through a short-lived context. */
static int
init_first_event(ac_ctx *ctx)
{
	struct ac_event ev = {
		.actor = "tokenctl", .action = "init", .source = "init",
		.result = "ok", .reason = "token store and master key created",
	};

	return ac_event_log(ctx, &ev);
}

int
ac_ctx_init(const char *config_path, char *err, size_t errlen)
{
	ac_ctx *ctx = NULL;
	ac_config *cfg = NULL;
	char *kpath = NULL;
	int r, made_key = 0, made_store = 0;

	if (config_path == NULL)
		return AC_ERR_INVALID;
	if ((r = ac_config_load(config_path, &cfg, err, errlen)) != 0)
		return r;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	ctx->cfg = cfg;
	cfg = NULL;	/* transferred */
	/* Validate the whole configuration before creating anything. */
	if ((r = policy_read(ctx->cfg, &ctx->policy, err, errlen)) != 0 ||
	    (r = key_path(ctx->cfg, &kpath, err, errlen)) != 0 ||
	    (r = ac_config_require(ctx->cfg, "store.path", err, errlen)) != 0)
		goto out;
	if ((r = ac_keyring_create(kpath)) != 0) {
		ac_set_err(err, errlen, r == AC_ERR_EXISTS ?
		    "master key file %s exists already; refusing to overwrite "
		    "it" : "cannot create master key file %s", kpath);
		goto out;
	}
	made_key = 1;
	if ((r = ac_keyring_load(kpath, &ctx->keys, err, errlen)) != 0)
		goto out;
	made_store = !store_exists(ctx->cfg);
	if ((r = ac_store_create(ctx->cfg, &ctx->store, err, errlen)) != 0) {
		if (r == AC_ERR_EXISTS)
			made_store = 0;
		goto out;
	}
	if ((r = init_first_event(ctx)) != 0) {
		ac_set_err(err, errlen, "cannot write the first event: %s",
		    ac_strerror(r));
		goto out;
	}
	made_key = made_store = 0;	/* keep them */
	r = 0;
out:
	if (ctx != NULL) {
		ac_store_close(ctx->store);
		ctx->store = NULL;
		if (made_store)
			store_remove(ctx->cfg);
	}
	if (made_key)
		(void)unlink(kpath);
	free(kpath);
	ac_ctx_free(ctx);
	return r;
}

const struct ac_config *
ac_ctx_config(const ac_ctx *ctx)
{
	return ctx->cfg;
}

ac_store *
ac_ctx_store(ac_ctx *ctx)
{
	return ctx->store;
}

const struct ac_keyring *
ac_ctx_keyring(const ac_ctx *ctx)
{
	return ctx->keys;
}

const struct ac_policy *
ac_ctx_policy(const ac_ctx *ctx)
{
	return &ctx->policy;
}

void
ac_ctx_set_clock(ac_ctx *ctx, int64_t (*now)(void *), void *arg)
{
	ctx->now = now;
	ctx->now_arg = arg;
}

int64_t
ac_ctx_now(const ac_ctx *ctx)
{
	if (ctx->now != NULL)
		return ctx->now(ctx->now_arg);
	return (int64_t)time(NULL);
}

void
ac_ctx_set_password_verifier(ac_ctx *ctx, ac_password_verifier fn, void *arg)
{
	ctx->verify = fn;
	ctx->verify_arg = arg;
}

int
ac_ctx_verify_password(ac_ctx *ctx, const char *user, const char *password)
{
	/* The `directory` PIN mode needs someone who can ask the directory;
	 * without one nothing can be verified, which is a set-up error. */
	if (ctx->verify == NULL)
		return AC_ERR_CONFIG;
	/* An empty password is an anonymous bind that succeeds on some
	 * servers (RFC 4513 section 5.1.2): never pass it on. */
	if (user == NULL || password == NULL || *password == '\0')
		return AC_ERR_DENIED;
	return ctx->verify(ctx->verify_arg, user, password);
}

void
ac_ctx_set_code_sender(ac_ctx *ctx, ac_code_sender fn, void *arg)
{
	ctx->send = fn;
	ctx->send_arg = arg;
}

int
ac_ctx_can_send_codes(const ac_ctx *ctx)
{
	return ctx->send != NULL;
}

int
ac_ctx_send_code(ac_ctx *ctx, const char *to, const char *subject,
    const char *body, char *err, size_t errlen)
{
	if (ctx->send == NULL) {
		ac_set_err(err, errlen, "mail not configured");
		return AC_ERR_CONFIG;
	}
	return ctx->send(ctx->send_arg, to, subject, body, err, errlen);
}

const struct ac_token *
ac_ctx_dummy_token(ac_ctx *ctx)
{
	if (ctx->dummy != NULL)
		ctx->dummy_uses++;
	return ctx->dummy;
}

unsigned long
ac_ctx_dummy_uses(const ac_ctx *ctx)
{
	return ctx->dummy_uses;
}
