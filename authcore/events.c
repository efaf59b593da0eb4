/*
 * events.c - the append-only, MAC-chained audit trail.
 *
 * Each row stores prev (the MAC of the row before it, zeros for the first)
 * and mac = HMAC-SHA-256(event subkey, encoding of id, time, every field
 * and prev).  The encoding prefixes every field with its length so that moving
 * bytes from one field to the next changes the MAC.  Walking the rows in id
 * order, a deleted row breaks the next row's link, a reordered row breaks
 * the links around it and an edited field breaks its own MAC; without the
 * key file nobody can compute a matching chain for forged rows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "events.h"
#include "seal.h"

/* A domain label so that an event MAC can never equal another MAC made
 * with the same subkey for something else. */
#define EVENT_MAC_LABEL	"tokenportal-event-v1"

/* Room for the label, id, time, eight length-prefixed fields and prev. */
#define EVENT_ENC_MAX	(sizeof(EVENT_MAC_LABEL) + 16 + \
			 9 * 4 + sizeof(struct ac_event_row) + AC_HASH_LEN)

struct enc {
	uint8_t	buf[EVENT_ENC_MAX];
	size_t	len;
};

static void
enc_bytes(struct enc *e, const void *p, size_t n)
{
	if (n > sizeof(e->buf) - e->len)	/* cannot happen: sized above */
		n = sizeof(e->buf) - e->len;
	memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static void
enc_u64(struct enc *e, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	enc_bytes(e, b, sizeof(b));
}

static void
enc_str(struct enc *e, const char *s)
{
	size_t n = strlen(s);
	uint8_t b[4] = {
		(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
		(uint8_t)n
	};

	enc_bytes(e, b, sizeof(b));
	enc_bytes(e, s, n);
}

/* The MAC of a row as stored (everything but the mac itself). */
static int
event_row_mac(const ac_keyring *k, const struct ac_event_row *row,
    uint8_t out[AC_HASH_LEN])
{
	struct enc e;

	e.len = 0;
	enc_bytes(&e, EVENT_MAC_LABEL, sizeof(EVENT_MAC_LABEL));
	enc_u64(&e, (uint64_t)row->id);
	enc_u64(&e, (uint64_t)row->time);
	enc_str(&e, row->actor);
	enc_str(&e, row->action);
	enc_str(&e, row->serial);
	enc_str(&e, row->user);
	enc_str(&e, row->resource);
	enc_str(&e, row->source);
	enc_str(&e, row->result);
	enc_str(&e, row->reason);
	enc_bytes(&e, row->prev, AC_HASH_LEN);
	return ac_event_mac(k, e.buf, e.len, out);
}

/*
 * Copies src into a fixed field, truncating at a UTF-8 character boundary
 * rather than refusing: an event is never lost to its text.
 */
static void
copy_field(char *dst, size_t size, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strlen(src);
	if (n >= size) {
		n = size - 1;
		/* Back off continuation bytes (10xxxxxx) of a cut character. */
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
row_fill(struct ac_event_row *row, const struct ac_event *ev, int64_t now)
{
	memset(row, 0, sizeof(*row));
	row->time = now;
	copy_field(row->actor, sizeof(row->actor), ev->actor);
	copy_field(row->action, sizeof(row->action), ev->action);
	copy_field(row->serial, sizeof(row->serial), ev->serial);
	copy_field(row->user, sizeof(row->user), ev->user);
	copy_field(row->resource, sizeof(row->resource), ev->resource);
	copy_field(row->source, sizeof(row->source), ev->source);
	copy_field(row->result, sizeof(row->result), ev->result);
	copy_field(row->reason, sizeof(row->reason), ev->reason);
}

int
ac_event_log(ac_ctx *ctx, const struct ac_event *ev)
{
	ac_store *s = ac_ctx_store(ctx);
	struct ac_event_row last, row;
	int r, began = 0;

	row_fill(&row, ev, ac_ctx_now(ctx));
	/* Reading the last MAC and appending must be one transaction, or
	 * two writers could both chain onto the same row. */
	if ((r = ac_store_begin(s)) != 0)
		goto out;
	began = 1;
	r = ac_store_event_last(s, &last);
	if (r == 0) {
		memcpy(row.prev, last.mac, AC_HASH_LEN);
		row.id = last.id + 1;
	} else if (r == AC_ERR_NOT_FOUND)
		row.id = 1;
	else
		goto out;
	/* The id is chosen here, not by the store, because the MAC covers
	 * it: a row moved to another id fails its own MAC. */
	if ((r = event_row_mac(ac_ctx_keyring(ctx), &row, row.mac)) != 0)
		goto out;
	if ((r = ac_store_event_insert(s, &row)) != 0)
		goto out;
	r = ac_store_commit(s);
	began = 0;
out:
	if (began)
		(void)ac_store_rollback(s);
	return r;
}

struct verify_state {
	const ac_keyring	*keys;
	uint8_t			 prev[AC_HASH_LEN];
	int64_t			 prev_id;
	int64_t			 count;
	int64_t			 bad_id;
	char			*err;
	size_t			 errlen;
	int			 crypto_failed;
	const struct ac_event_head *anchor;	/* NULL: none */
	int			 anchor_seen;
};

static void verify_err(struct verify_state *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
verify_err(struct verify_state *v, const char *fmt, ...)
{
	va_list ap;

	if (v->err == NULL || v->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
}

/* Checks one row's link to the previous row, then its own MAC. */
static int
verify_row(const struct ac_event_row *e, void *arg)
{
	struct verify_state *v = arg;
	uint8_t mac[AC_HASH_LEN];

	if (CRYPTO_memcmp(e->prev, v->prev, AC_HASH_LEN) != 0) {
		v->bad_id = e->id;
		if (v->prev_id == 0)
			verify_err(v, "event %lld does not start the chain: "
			    "earlier events were deleted", (long long)e->id);
		else
			verify_err(v, "event %lld does not follow event %lld: "
			    "an event between them was deleted or the rows "
			    "were reordered", (long long)e->id,
			    (long long)v->prev_id);
		return AC_ERR_TAMPERED;
	}
	if (event_row_mac(v->keys, e, mac) != 0) {
		v->crypto_failed = 1;
		return AC_ERR_CRYPTO;
	}
	if (CRYPTO_memcmp(mac, e->mac, AC_HASH_LEN) != 0) {
		v->bad_id = e->id;
		verify_err(v, "event %lld was edited: its MAC does not match "
		    "its contents", (long long)e->id);
		return AC_ERR_TAMPERED;
	}
	if (v->anchor != NULL && e->id == v->anchor->id) {
		if (CRYPTO_memcmp(e->mac, v->anchor->mac, AC_HASH_LEN) != 0) {
			v->bad_id = e->id;
			verify_err(v, "event %lld is not the one recorded as "
			    "the head earlier: the events from there on were "
			    "replaced", (long long)e->id);
			return AC_ERR_TAMPERED;
		}
		v->anchor_seen = 1;
	}
	memcpy(v->prev, e->mac, AC_HASH_LEN);
	v->prev_id = e->id;
	v->count++;
	return 0;
}

int
ac_event_verify(ac_ctx *ctx, int64_t *count, int64_t *bad_id, char *err,
    size_t errlen)
{
	return ac_event_verify_head(ctx, NULL, NULL, count, bad_id, err,
	    errlen);
}

int
ac_event_verify_head(ac_ctx *ctx, const struct ac_event_head *anchor,
    struct ac_event_head *head, int64_t *count, int64_t *bad_id, char *err,
    size_t errlen)
{
	struct ac_event_filter f;
	struct verify_state v;
	int r;

	memset(&f, 0, sizeof(f));
	memset(&v, 0, sizeof(v));
	v.keys = ac_ctx_keyring(ctx);
	v.err = err;
	v.errlen = errlen;
	v.anchor = anchor;
	r = ac_store_event_each(ac_ctx_store(ctx), &f, verify_row, &v);
	/* The anchor's row is gone: the newest rows were cut back past it. */
	if (r == 0 && anchor != NULL && !v.anchor_seen) {
		v.bad_id = anchor->id;
		verify_err(&v, "event %lld, recorded as the head earlier, is "
		    "missing: the newest events were deleted (the chain now "
		    "ends at event %lld)", (long long)anchor->id,
		    (long long)v.prev_id);
		r = AC_ERR_TAMPERED;
	}
	/* init writes the first event of every store, so a log with no
	 * event at all was emptied; the chain alone would call it intact. */
	if (r == 0 && v.count == 0) {
		v.bad_id = 1;
		verify_err(&v, "the event log is empty: init writes the first "
		    "event of every store, so all events were deleted");
		r = AC_ERR_TAMPERED;
	}
	if (head != NULL) {
		head->id = v.prev_id;
		memcpy(head->mac, v.prev, AC_HASH_LEN);
	}
	if (count != NULL)
		*count = v.count;
	if (bad_id != NULL)
		*bad_id = v.bad_id;
	if (r != 0 && r != AC_ERR_TAMPERED && !v.crypto_failed)
		verify_err(&v, "cannot read the event log: %s", ac_strerror(r));
	return r;
}

/* What one end of the chain showed: whether a row was there and whether
 * its own MAC verifies under the loaded key. */
struct end_state {
	const ac_keyring	*keys;
	int			 found;
	int			 verifies;
};

static int
end_row(const struct ac_event_row *e, void *arg)
{
	struct end_state *st = arg;
	uint8_t mac[AC_HASH_LEN];
	int r;

	st->found = 1;
	if ((r = event_row_mac(st->keys, e, mac)) != 0)
		return r;
	st->verifies = CRYPTO_memcmp(mac, e->mac, AC_HASH_LEN) == 0;
	return 0;
}

/* Reads the oldest (newest = 0) or newest row into *st. */
static int
chain_end(ac_ctx *ctx, int newest, struct end_state *st)
{
	struct ac_event_filter f;

	memset(&f, 0, sizeof(f));
	f.limit = 1;
	f.newest_first = newest;
	memset(st, 0, sizeof(*st));
	st->keys = ac_ctx_keyring(ctx);
	return ac_store_event_each(ac_ctx_store(ctx), &f, end_row, st);
}

int
ac_event_key_check(ac_ctx *ctx, char *err, size_t errlen)
{
	struct end_state oldest, newest;
	int r;

	if ((r = chain_end(ctx, 1, &newest)) != 0)
		return r;
	if (!newest.found || newest.verifies)
		return 0;
	if ((r = chain_end(ctx, 0, &oldest)) != 0)
		return r;
	if (oldest.verifies)
		return 0;
	ac_set_err(err, errlen, "the master key does not match this store: "
	    "neither its oldest nor its newest event verifies under it (a "
	    "different key file?)");
	return AC_ERR_KEY;
}
