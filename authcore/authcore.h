/*
 * authcore.h - the auth core context: configuration, master key, token
 * store, policy and clock in one handle, opened once per process (after
 * fork, never before: it holds a database connection).
 */
#ifndef AC_AUTHCORE_H
#define AC_AUTHCORE_H

#include <stddef.h>
#include <stdint.h>

#include "ac_error.h"
#include "ac_limits.h"

struct ac_config;
struct ac_keyring;
struct ac_token;
typedef struct ac_store ac_store;
typedef struct ac_ctx ac_ctx;

/* Check policy from the config's check.* and enroll.* keys (defaults in
 * parentheses; every key is documented in conf/tokenportal.hdf.example). */
struct ac_policy {
	int	max_fail;		/* check.max_fail (10) */
	int	lock_seconds;		/* check.lock_minutes (30) * 60 */
	int	hotp_window;		/* check.hotp_window (10) */
	int	totp_window;		/* check.totp_window (1) steps each side */
	int	resync_hotp_window;	/* check.resync_hotp_window (1000) */
	int	resync_totp_window;	/* check.resync_totp_window (60) steps;
					   also bounds the remembered drift */
	int	pending_seconds;	/* enroll.pending_minutes (10) * 60 */
	int	email_code_seconds;	/* check.email_code_minutes (5) * 60:
					   how long a mailed code is valid */
	int	email_max_sends;	/* check.email_max_sends (5) codes
					   mailed per token, and per user,
					   per code lifetime */
};

/* Optional hook for the `directory` PIN mode: returns 0 when password is
 * the user's directory password, AC_ERR_DENIED when not, or another error. */
typedef int (*ac_password_verifier)(void *arg, const char *user,
    const char *password);

/* Optional hook that mails an e-mail token's code (the check never talks
 * SMTP itself): sends a text/plain mail to `to` and returns 0 once the
 * server took it, or a negative AC_ERR_* with one line in err (never the
 * body).  ac_mail_code_sender (mail.h) is one. */
typedef int (*ac_code_sender)(void *arg, const char *to,
    const char *subject, const char *body, char *err, size_t errlen);

/*
 * Opens a context from a config file: reads the config, loads the master
 * key (keys.master_file), opens the store (store.*) and reads the policy.
 * Returns 0 and *out, or an AC_ERR_* code with a one-line reason in err
 * naming the file or key at fault.  err may be NULL.
 */
int ac_ctx_open(const char *config_path, ac_ctx **out, char *err,
    size_t errlen);

/* Like ac_ctx_open with a parsed config; cfg is transferred to the context
 * (freed with it, even on failure). */
int ac_ctx_open_config(struct ac_config *cfg, ac_ctx **out, char *err,
    size_t errlen);

/* Closes the store, wipes the key, frees the config; NULL is a no-op. */
void ac_ctx_free(ac_ctx *ctx);

/*
 * `tokenctl init`: creates the master key file (refusing an existing one:
 * AC_ERR_EXISTS) and a new store (refusing an existing one), then writes
 * the first event.  On failure nothing it created is left behind.
 */
int ac_ctx_init(const char *config_path, char *err, size_t errlen);

/* Borrowed pointers, valid while the context lives. */
const struct ac_config	*ac_ctx_config(const ac_ctx *ctx);
ac_store		*ac_ctx_store(ac_ctx *ctx);
const struct ac_keyring	*ac_ctx_keyring(const ac_ctx *ctx);
const struct ac_policy	*ac_ctx_policy(const ac_ctx *ctx);

/* The clock is injectable so tests can fix time (STYLE.md 6).  now(arg)
 * returns Unix seconds; NULL restores the system clock. */
void	ac_ctx_set_clock(ac_ctx *ctx, int64_t (*now)(void *), void *arg);
int64_t	ac_ctx_now(const ac_ctx *ctx);

void	ac_ctx_set_password_verifier(ac_ctx *ctx, ac_password_verifier fn,
	    void *arg);
int	ac_ctx_verify_password(ac_ctx *ctx, const char *user,
	    const char *password);

/* Without a sender (the default), e-mail tokens cannot be challenged: the
 * check answers their trigger with REJECT ("mail not configured").
 * ac_ctx_send_code returns AC_ERR_CONFIG when no sender is set, else the
 * sender's answer. */
void	ac_ctx_set_code_sender(ac_ctx *ctx, ac_code_sender fn, void *arg);
int	ac_ctx_can_send_codes(const ac_ctx *ctx);
int	ac_ctx_send_code(ac_ctx *ctx, const char *to, const char *subject,
	    const char *body, char *err, size_t errlen);

/*
 * A TOTP token of nobody's: a random secret and PIN sealed under the master
 * key when the context opens (ac_ctx_open*), never stored (its serial is
 * not a valid one).  A check that unseals no real token (unknown user, no
 * usable token, wrong PIN) does the same work on it (ac_token_dummy_work),
 * so that its answer takes about as long as a wrong code's.  Each call
 * counts one use, which ac_ctx_dummy_uses reports (for tests).  NULL on a
 * context that has none.
 */
const struct ac_token	*ac_ctx_dummy_token(ac_ctx *ctx);
unsigned long		 ac_ctx_dummy_uses(const ac_ctx *ctx);

#endif
