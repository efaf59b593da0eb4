/*
 * events.h - the audit trail.  Every change and every check appends one
 * event.  Each row carries the MAC of the row before it and its own MAC,
 * HMAC-SHA-256 under a subkey of the master key over a length-prefixed
 * encoding of (id, time, fields, prev), so deleting, reordering or editing
 * a row breaks the chain and `tokenctl events --verify` finds it.  The MAC
 * is keyed, so someone with only the database cannot re-forge the chain.
 */
#ifndef AC_EVENTS_H
#define AC_EVENTS_H

#include <stdint.h>

#include "authcore.h"
#include "store.h"

struct ac_event {
	const char	*actor;		/* who: "tokenctl:root", "portal:alice" */
	const char	*action;	/* "check", "add", "enable", "delete" ... */
	const char	*serial;	/* may be NULL */
	const char	*user;		/* token owner / checked user */
	const char	*resource;
	const char	*source;	/* caller address or program */
	const char	*result;	/* "ok", "accept", "reject", "error" ... */
	const char	*reason;	/* free text; never a secret */
};

/*
 * Appends an event stamped with ac_ctx_now() in its own (nested)
 * transaction.  Over-long fields are truncated, never refused: an event is
 * never lost to its text.  Returns 0 or a store error.
 */
int ac_event_log(ac_ctx *ctx, const struct ac_event *ev);

/*
 * Walks the whole chain.  Returns 0 with *count rows checked, or
 * AC_ERR_TAMPERED with *bad_id the first row whose link or MAC fails (err
 * says which and why), or a store error.
 *
 * An empty log is AC_ERR_TAMPERED with *bad_id 1: init writes the first
 * event of every store, so no events means all were deleted.
 *
 * The limit of any chain: deleting the NEWEST rows leaves a shorter chain
 * that still verifies.  Only a record kept outside the database shows it:
 * ac_event_verify_head reports the head (id and MAC of the last row) for an
 * admin to keep (tokenctl events --verify prints it), and a head kept
 * earlier can be passed back as an anchor, which must still be in the chain
 * with the same MAC.
 */
int ac_event_verify(ac_ctx *ctx, int64_t *count, int64_t *bad_id, char *err,
    size_t errlen);

/* The last row of a chain: its id and its MAC (0 and zeros: empty log). */
struct ac_event_head {
	int64_t	id;
	uint8_t	mac[AC_HASH_LEN];
};

/*
 * ac_event_verify, plus: *head (may be NULL) receives the head of the
 * verified chain, and with anchor (may be NULL) the row anchor->id must
 * exist with MAC anchor->mac, else AC_ERR_TAMPERED with *bad_id =
 * anchor->id and err saying that events at or before it were deleted or
 * replaced.
 */
int ac_event_verify_head(ac_ctx *ctx, const struct ac_event_head *anchor,
    struct ac_event_head *head, int64_t *count, int64_t *bad_id, char *err,
    size_t errlen);

/*
 * Tells whether the loaded master key is the one this store's events were
 * written under, before anything is appended: a wrong key file would seal
 * new secrets nobody can open and chain new events onto MACs it cannot
 * verify, breaking the log for good.  Reads the oldest and the newest
 * event (two reads by id); the key is ours when either verifies, since an
 * edit of one row is tampering, for ac_event_verify to report.  Returns 0
 * (also for an empty log), AC_ERR_KEY with err saying the key does not
 * match, or a store error.  err may be NULL.
 */
int ac_event_key_check(ac_ctx *ctx, char *err, size_t errlen);

#endif
