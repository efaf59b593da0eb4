/*
 * seal.h - the master key, secret sealing and PIN hashing (DESIGN.md 4).
 *
 * Secrets are sealed with AES-256-GCM under a subkey derived from the master
 * key, with the token serial as associated data, so a sealed secret moved to
 * another row fails to open.  Each sealed blob is stored with the id of the
 * key that sealed it so that keys can rotate.  PINs are kept as
 * HMAC-SHA-256(pin_key, salt || pin) where pin_key is another subkey: cheap
 * on the hot path and useless to someone who has the database but not the
 * key file.  Events are chained with HMAC-SHA-256 under a third subkey.
 */
#ifndef AC_SEAL_H
#define AC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "ac_limits.h"

#define AC_MASTER_KEY_LEN	32
#define AC_SEAL_NONCE_LEN	12
#define AC_SEAL_TAG_LEN		16
#define AC_SEAL_OVERHEAD	(AC_SEAL_NONCE_LEN + AC_SEAL_TAG_LEN)

/*
 * Key derivation (RFC 5869): each subkey is 32 bytes of HKDF-SHA-256 with
 * the master key as input keying material, no salt (HashLen zero bytes) and
 * one of these info strings.  The key id is the first AC_KEY_ID_LEN / 2
 * bytes of the AC_HKDF_INFO_KEY_ID output in lower-case hex.  Changing any
 * of these makes every sealed secret and PIN hash unreadable.
 */
#define AC_HKDF_INFO_SEAL	"tokenportal seal v1"
#define AC_HKDF_INFO_PIN	"tokenportal pin v1"
#define AC_HKDF_INFO_EVENT	"tokenportal event v1"
#define AC_HKDF_INFO_KEY_ID	"tokenportal key id v1"

typedef struct ac_keyring ac_keyring;

/*
 * Creates a new master key file: 32 bytes from RAND_bytes, mode 0600,
 * created with O_EXCL so an existing key is never overwritten (returns
 * AC_ERR_EXISTS).  Returns 0, AC_ERR_EXISTS, AC_ERR_IO or AC_ERR_CRYPTO.
 */
int ac_keyring_create(const char *path);

/*
 * Loads a master key file.  Refuses a file that is not exactly 32 bytes,
 * that the effective uid does not own, or that group or others can read or
 * write (AC_ERR_KEY, detail in err).
 * Returns 0 and *out (free with ac_keyring_free) or AC_ERR_KEY / AC_ERR_IO /
 * AC_ERR_NOMEM.  err may be NULL.
 */
int ac_keyring_load(const char *path, ac_keyring **out, char *err,
    size_t errlen);

/* Builds a keyring from raw key bytes (tests, future rotation). */
int ac_keyring_from_bytes(const uint8_t key[AC_MASTER_KEY_LEN],
    ac_keyring **out);

/* Wipes and frees; NULL is a no-op. */
void ac_keyring_free(ac_keyring *k);

/* The current key's id: AC_KEY_ID_LEN hex characters, NUL-terminated,
 * derived from the key (not secret).  Owned by the keyring. */
const char *ac_keyring_key_id(const ac_keyring *k);

/*
 * Seals n bytes for the token `serial`.  Writes nonce || ciphertext || tag
 * (n + AC_SEAL_OVERHEAD bytes) to out and the length to *outn.
 * Returns 0, AC_ERR_INVALID (a NULL argument), AC_ERR_TOO_LONG (out too
 * small) or AC_ERR_CRYPTO; on AC_ERR_CRYPTO all of out is wiped.
 */
int ac_seal(const ac_keyring *k, const char *serial, const uint8_t *in,
    size_t n, uint8_t *out, size_t outlen, size_t *outn);

/*
 * Opens a blob sealed by ac_seal for the same serial under key `key_id`.
 * Returns 0 with the plaintext in out (caller wipes it), AC_ERR_INVALID (a
 * NULL argument), AC_ERR_KEY (no key with that id), AC_ERR_TAMPERED (blob,
 * serial or key do not match; out is wiped), AC_ERR_TOO_LONG or
 * AC_ERR_CRYPTO.
 */
int ac_unseal(const ac_keyring *k, const char *key_id, const char *serial,
    const uint8_t *in, size_t n, uint8_t *out, size_t outlen, size_t *outn);

/* Keyed PIN hash: out = HMAC-SHA-256(pin_subkey, salt || pin).  Returns 0
 * or AC_ERR_CRYPTO. */
int ac_pin_hash(const ac_keyring *k, const uint8_t salt[AC_PIN_SALT_LEN],
    const char *pin, size_t pinlen, uint8_t out[AC_HASH_LEN]);

/* 1 when pin matches hash (constant-time compare), 0 otherwise. */
int ac_pin_verify(const ac_keyring *k, const uint8_t salt[AC_PIN_SALT_LEN],
    const char *pin, size_t pinlen, const uint8_t hash[AC_HASH_LEN]);

/* HMAC-SHA-256 under the event-chain subkey.  Returns 0 or AC_ERR_CRYPTO. */
int ac_event_mac(const ac_keyring *k, const uint8_t *data, size_t n,
    uint8_t out[AC_HASH_LEN]);

/* Fills buf with n random bytes (RAND_bytes). Returns 0 or AC_ERR_CRYPTO. */
int ac_random(uint8_t *buf, size_t n);

/* Wipes n bytes so the compiler cannot drop it (OPENSSL_cleanse). */
void ac_wipe(void *p, size_t n);

#endif
