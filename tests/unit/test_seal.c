/*
 * test_seal.c - the master key file, sealing, PIN hashes and event MACs.
 *
 * The expected values are computed independently of seal.c: HKDF is
 * re-implemented here from RFC 5869 section 2 with one-shot HMAC() (and
 * checked against the RFC's own appendix A vectors first), sealed blobs are
 * opened with a plain EVP AES-256-GCM decrypt, and PIN hashes and event MACs
 * are recomputed with HMAC().  None of them is copied from our own output.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ac_error.h"
#include "seal.h"

struct fixture {
	char	dir[64];
	char	key[128];
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_seal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->key, sizeof(f->key), "%s/master.key", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- independent references ------------------------------------------ */

/* RFC 5869 section 2.2 and 2.3 with one-shot HMAC-SHA-256. */
static void
ref_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *okm,
    size_t l)
{
	uint8_t zeros[32] = { 0 }, prk[32], t[32], buf[32 + 128 + 1];
	unsigned int prklen = 0, tlen = 0;
	size_t done = 0, prev = 0;
	uint8_t i = 1;

	if (saltlen == 0) {
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	assert_non_null(HMAC(EVP_sha256(), salt, (int)saltlen, ikm, ikmlen,
	    prk, &prklen));
	assert_true(infolen <= 128);
	while (done < l) {
		size_t n = 0, take;

		memcpy(buf, t, prev);
		n += prev;
		memcpy(buf + n, info, infolen);
		n += infolen;
		buf[n++] = i++;
		assert_non_null(HMAC(EVP_sha256(), prk, (int)prklen, buf, n, t,
		    &tlen));
		prev = tlen;
		take = l - done < tlen ? l - done : tlen;
		memcpy(okm + done, t, take);
		done += take;
	}
}

static void
subkey(const uint8_t master[32], const char *info, uint8_t out[32])
{
	ref_hkdf(NULL, 0, master, 32, (const uint8_t *)info, strlen(info), out,
	    32);
}

static void
unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;

	assert_int_equal(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		unsigned int v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Opens nonce || ct || tag with a plain EVP decrypt; returns 1 on success. */
static int
ref_open(const uint8_t key[32], const char *serial, const uint8_t *blob,
    size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t ctlen = n - 28;
	uint8_t tag[16];
	int len, ok;

	memcpy(tag, blob + 12 + ctlen, 16);
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)serial,
	    (int)strlen(serial)) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &len, blob + 12, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + len, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static const uint8_t fixed_key[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
write_file(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* ---- tests ------------------------------------------------------------ */

/* The reference HKDF itself must match RFC 5869 appendix A (cases 1, 3). */
static void
test_reference_hkdf_matches_rfc5869(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
	size_t i;

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	ref_hkdf(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), okm,
	    42);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865", want, 42);
	assert_memory_equal(okm, want, 42);

	ref_hkdf(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, 42);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8", want, 42);
	assert_memory_equal(okm, want, 42);
}

static void
test_create_and_load(void **state)
{
	struct fixture *f = *state;
	ac_keyring *a = NULL, *b = NULL;
	char err[AC_ERRBUF] = "";
	struct stat st;
	mode_t old = umask(0);	/* the mode must not depend on the umask */
	size_t i;

	assert_int_equal(ac_keyring_create(f->key), 0);
	umask(old);
	assert_int_equal(stat(f->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, AC_MASTER_KEY_LEN);

	assert_int_equal(ac_keyring_load(f->key, &a, err, sizeof(err)), 0);
	assert_int_equal(ac_keyring_load(f->key, &b, err, sizeof(err)), 0);
	assert_int_equal(strlen(ac_keyring_key_id(a)), AC_KEY_ID_LEN);
	for (i = 0; i < AC_KEY_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef",
		    ac_keyring_key_id(a)[i]));
	assert_string_equal(ac_keyring_key_id(a), ac_keyring_key_id(b));
	ac_keyring_free(a);
	ac_keyring_free(b);
	ac_keyring_free(NULL);
}

/* The key file holds the raw key: its id and subkeys follow RFC 5869. */
static void
test_loaded_file_is_the_key(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[32], idb[32], sk[32], blob[64], plain[64];
	char want_id[AC_KEY_ID_LEN + 1], err[AC_ERRBUF];
	ac_keyring *k = NULL;
	size_t n, i;
	int fd;

	assert_int_equal(ac_keyring_create(f->key), 0);
	fd = open(f->key, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, raw, sizeof(raw)), 32);
	close(fd);
	assert_int_equal(ac_keyring_load(f->key, &k, err, sizeof(err)), 0);

	subkey(raw, "tokenportal key id v1", idb);
	for (i = 0; i < AC_KEY_ID_LEN / 2; i++)
		snprintf(want_id + 2 * i, 3, "%02x", idb[i]);
	assert_string_equal(ac_keyring_key_id(k), want_id);

	assert_int_equal(ac_seal(k, "S1", (const uint8_t *)"hello", 5, blob,
	    sizeof(blob), &n), 0);
	subkey(raw, "tokenportal seal v1", sk);
	assert_true(ref_open(sk, "S1", blob, n, plain));
	assert_memory_equal(plain, "hello", 5);
	ac_keyring_free(k);
}

static void
test_two_keys_differ(void **state)
{
	struct fixture *f = *state;
	char other[160], err[AC_ERRBUF];
	ac_keyring *a = NULL, *b = NULL;

	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	assert_int_equal(ac_keyring_create(f->key), 0);
	assert_int_equal(ac_keyring_create(other), 0);
	assert_int_equal(ac_keyring_load(f->key, &a, err, sizeof(err)), 0);
	assert_int_equal(ac_keyring_load(other, &b, err, sizeof(err)), 0);
	assert_string_not_equal(ac_keyring_key_id(a), ac_keyring_key_id(b));
	ac_keyring_free(a);
	ac_keyring_free(b);
}

static void
test_create_refuses_existing(void **state)
{
	struct fixture *f = *state;
	uint8_t before[32], after[32];
	int fd;

	assert_int_equal(ac_keyring_create(f->key), 0);
	fd = open(f->key, O_RDONLY);
	assert_int_equal(read(fd, before, 32), 32);
	close(fd);
	assert_int_equal(ac_keyring_create(f->key), AC_ERR_EXISTS);
	fd = open(f->key, O_RDONLY);
	assert_int_equal(read(fd, after, 32), 32);
	close(fd);
	assert_memory_equal(before, after, 32);
}

static void
test_create_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char target[160];
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", f->dir);
	assert_int_equal(symlink(target, f->key), 0);
	assert_int_equal(ac_keyring_create(f->key), AC_ERR_EXISTS);
	assert_int_not_equal(stat(target, &st), 0);
}

static void
test_create_in_missing_dir_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/nope/master.key", f->dir);
	assert_int_equal(ac_keyring_create(path), AC_ERR_IO);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void
expect_load_error(const char *path, int code, const char *words)
{
	char err[AC_ERRBUF] = "";
	ac_keyring *k = NULL;

	assert_int_equal(ac_keyring_load(path, &k, err, sizeof(err)), code);
	assert_null(k);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, words));
}

/* A key file that belongs to someone else could have been replaced by
 * them: refused, as OpenSSH refuses such key files.  Needs root to chown. */
/*
 * Root uses the key the service account owns (tokenctl by an administrator,
 * later the PAM module): only the mode matters, not the owner.
 */
static void
test_load_accepts_service_account_key_as_root(void **state)
{
	struct fixture *f = *state;
	ac_keyring *k = NULL;

	if (geteuid() != 0)
		skip();
	assert_int_equal(ac_keyring_create(f->key), 0);
	assert_int_equal(chown(f->key, 4242, 4242), 0);
	assert_int_equal(ac_keyring_load(f->key, &k, NULL, 0), 0);
	ac_keyring_free(k);
	assert_int_equal(chmod(f->key, 0640), 0);
	expect_load_error(f->key, AC_ERR_KEY, "0640");
}

static void
test_load_refuses_group_or_world_access(void **state)
{
	struct fixture *f = *state;
	ac_keyring *k = NULL;

	assert_int_equal(ac_keyring_create(f->key), 0);
	assert_int_equal(chmod(f->key, 0644), 0);
	expect_load_error(f->key, AC_ERR_KEY, "0644");
	assert_int_equal(chmod(f->key, 0640), 0);
	expect_load_error(f->key, AC_ERR_KEY, "0640");
	assert_int_equal(chmod(f->key, 0602), 0);
	expect_load_error(f->key, AC_ERR_KEY, "group or others");
	/* Owner-only read is fine. */
	assert_int_equal(chmod(f->key, 0400), 0);
	assert_int_equal(ac_keyring_load(f->key, &k, NULL, 0), 0);
	ac_keyring_free(k);
}

static void
test_load_refuses_wrong_size(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[33] = { 0 };

	write_file(f->key, buf, 31, 0600);
	expect_load_error(f->key, AC_ERR_KEY, "31 bytes");
	write_file(f->key, buf, 33, 0600);
	expect_load_error(f->key, AC_ERR_KEY, "33 bytes");
	write_file(f->key, buf, 0, 0600);
	expect_load_error(f->key, AC_ERR_KEY, "0 bytes");
}

static void
test_load_refuses_missing_and_directory(void **state)
{
	struct fixture *f = *state;

	expect_load_error(f->key, AC_ERR_KEY, "tokenctl init");
	expect_load_error(f->dir, AC_ERR_KEY, "not a regular file");
}

static void
round_trip(size_t n)
{
	uint8_t secret[64], blob[AC_MAX_SEALED], blob2[AC_MAX_SEALED];
	uint8_t plain[AC_MAX_SECRET], sk[32];
	ac_keyring *k = NULL;
	size_t bn, bn2, pn;

	assert_int_equal(ac_random(secret, n), 0);
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_seal(k, "TOTP0001", secret, n, blob, sizeof(blob),
	    &bn), 0);
	assert_int_equal(bn, n + AC_SEAL_OVERHEAD);
	assert_true(bn <= AC_MAX_SEALED);
	/* The plain secret does not appear in the blob. */
	assert_null(memmem(blob, bn, secret, n));
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "TOTP0001", blob,
	    bn, plain, sizeof(plain), &pn), 0);
	assert_int_equal(pn, n);
	assert_memory_equal(plain, secret, n);
	/* The independent decrypt agrees. */
	subkey(fixed_key, "tokenportal seal v1", sk);
	memset(plain, 0, sizeof(plain));
	assert_true(ref_open(sk, "TOTP0001", blob, bn, plain));
	assert_memory_equal(plain, secret, n);
	/* A fresh nonce per seal: the same secret never seals the same. */
	assert_int_equal(ac_seal(k, "TOTP0001", secret, n, blob2,
	    sizeof(blob2), &bn2), 0);
	assert_memory_not_equal(blob, blob2, AC_SEAL_NONCE_LEN);
	assert_memory_not_equal(blob + AC_SEAL_NONCE_LEN,
	    blob2 + AC_SEAL_NONCE_LEN, bn - AC_SEAL_NONCE_LEN);
	ac_keyring_free(k);
}

static void
test_round_trip_20_32_64(void **state)
{
	(void)state;
	round_trip(20);
	round_trip(32);
	round_trip(64);
}

/* Every single byte of nonce, ciphertext and tag is covered. */
static void
test_tamper_each_byte(void **state)
{
	uint8_t secret[20], blob[AC_MAX_SEALED], plain[AC_MAX_SECRET];
	ac_keyring *k = NULL;
	size_t bn, pn, i;

	(void)state;
	memset(secret, 0x5a, sizeof(secret));
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_seal(k, "HOTP7", secret, sizeof(secret), blob,
	    sizeof(blob), &bn), 0);
	for (i = 0; i < bn; i++) {
		blob[i] ^= 0x01;
		memset(plain, 0, sizeof(plain));
		assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "HOTP7",
		    blob, bn, plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
		assert_int_equal(pn, 0);
		/* Nothing of the secret is handed out on failure. */
		assert_null(memmem(plain, sizeof(plain), secret, 4));
		blob[i] ^= 0x01;
	}
	/* Truncated blobs. */
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "HOTP7", blob,
	    bn - 1, plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "HOTP7", blob,
	    AC_SEAL_OVERHEAD - 1, plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	/* And the untouched blob still opens. */
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "HOTP7", blob, bn,
	    plain, sizeof(plain), &pn), 0);
	ac_keyring_free(k);
}

static void
test_wrong_serial_fails(void **state)
{
	uint8_t secret[32] = { 1, 2, 3 }, blob[AC_MAX_SEALED], plain[64];
	ac_keyring *k = NULL;
	size_t bn, pn;

	(void)state;
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_seal(k, "ABC12", secret, sizeof(secret), blob,
	    sizeof(blob), &bn), 0);
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "ABC1", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "ABC123", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	assert_non_null(strstr(ac_strerror(AC_ERR_TAMPERED), "tampered"));
	ac_keyring_free(k);
}

static void
test_wrong_key(void **state)
{
	uint8_t other_key[32], secret[20] = { 9 }, blob[AC_MAX_SEALED];
	uint8_t plain[64];
	ac_keyring *k = NULL, *o = NULL;
	size_t bn, pn;

	(void)state;
	memcpy(other_key, fixed_key, 32);
	other_key[31] ^= 0x80;
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_keyring_from_bytes(other_key, &o), 0);
	assert_string_not_equal(ac_keyring_key_id(k), ac_keyring_key_id(o));
	assert_int_equal(ac_seal(k, "S", secret, sizeof(secret), blob,
	    sizeof(blob), &bn), 0);
	/* A row sealed under another key id is refused outright. */
	assert_int_equal(ac_unseal(o, ac_keyring_key_id(k), "S", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_KEY);
	assert_int_equal(ac_unseal(k, "0000000000000000", "S", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_KEY);
	/* A row whose key id was edited to match still fails the tag. */
	assert_int_equal(ac_unseal(o, ac_keyring_key_id(o), "S", blob, bn,
	    plain, sizeof(plain), &pn), AC_ERR_TAMPERED);
	ac_keyring_free(k);
	ac_keyring_free(o);
}

static void
test_buffers_too_small(void **state)
{
	uint8_t secret[20] = { 0 }, blob[AC_MAX_SEALED], plain[64];
	ac_keyring *k = NULL;
	size_t bn, pn;

	(void)state;
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_seal(k, "S", secret, sizeof(secret), blob,
	    sizeof(secret) + AC_SEAL_OVERHEAD - 1, &bn), AC_ERR_TOO_LONG);
	assert_int_equal(ac_seal(k, "S", secret, sizeof(secret), blob,
	    sizeof(blob), &bn), 0);
	assert_int_equal(ac_unseal(k, ac_keyring_key_id(k), "S", blob, bn,
	    plain, sizeof(secret) - 1, &pn), AC_ERR_TOO_LONG);
	ac_keyring_free(k);
}

static void
test_pin_hash(void **state)
{
	uint8_t salt1[AC_PIN_SALT_LEN], salt2[AC_PIN_SALT_LEN];
	uint8_t h1[AC_HASH_LEN], h2[AC_HASH_LEN], want[AC_HASH_LEN];
	uint8_t pk[32], msg[AC_PIN_SALT_LEN + 4];
	unsigned int wl = 0;
	ac_keyring *k = NULL;

	(void)state;
	memset(salt1, 0x11, sizeof(salt1));
	memset(salt2, 0x22, sizeof(salt2));
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_pin_hash(k, salt1, "1234", 4, h1), 0);

	/* HMAC-SHA-256(pin subkey, salt || pin), recomputed here. */
	subkey(fixed_key, "tokenportal pin v1", pk);
	memcpy(msg, salt1, AC_PIN_SALT_LEN);
	memcpy(msg + AC_PIN_SALT_LEN, "1234", 4);
	HMAC(EVP_sha256(), pk, 32, msg, sizeof(msg), want, &wl);
	assert_memory_equal(h1, want, AC_HASH_LEN);

	assert_true(ac_pin_verify(k, salt1, "1234", 4, h1));
	assert_false(ac_pin_verify(k, salt1, "1235", 4, h1));
	assert_false(ac_pin_verify(k, salt1, "123", 3, h1));
	assert_false(ac_pin_verify(k, salt1, "12345", 5, h1));
	assert_false(ac_pin_verify(k, salt1, "", 0, h1));
	assert_false(ac_pin_verify(k, salt2, "1234", 4, h1));

	assert_int_equal(ac_pin_hash(k, salt2, "1234", 4, h2), 0);
	assert_memory_not_equal(h1, h2, AC_HASH_LEN);
	ac_keyring_free(k);
}

static void
test_pin_hash_depends_on_key(void **state)
{
	uint8_t other_key[32], salt[AC_PIN_SALT_LEN] = { 0 };
	uint8_t h1[AC_HASH_LEN], h2[AC_HASH_LEN];
	ac_keyring *k = NULL, *o = NULL;

	(void)state;
	memcpy(other_key, fixed_key, 32);
	other_key[0] ^= 1;
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_keyring_from_bytes(other_key, &o), 0);
	assert_int_equal(ac_pin_hash(k, salt, "0000", 4, h1), 0);
	assert_int_equal(ac_pin_hash(o, salt, "0000", 4, h2), 0);
	assert_memory_not_equal(h1, h2, AC_HASH_LEN);
	assert_false(ac_pin_verify(o, salt, "0000", 4, h1));
	ac_keyring_free(k);
	ac_keyring_free(o);
}

static void
test_event_mac(void **state)
{
	static const char data[] = "prev-hash|2024-01-01T00:00:00Z|check|S1";
	uint8_t ek[32], want[32], got[32], pin_as_event[32];
	uint8_t sk[32], pk[32];
	unsigned int wl = 0;
	ac_keyring *k = NULL;

	(void)state;
	assert_int_equal(ac_keyring_from_bytes(fixed_key, &k), 0);
	assert_int_equal(ac_event_mac(k, (const uint8_t *)data,
	    sizeof(data) - 1, got), 0);
	subkey(fixed_key, "tokenportal event v1", ek);
	HMAC(EVP_sha256(), ek, 32, (const uint8_t *)data, sizeof(data) - 1,
	    want, &wl);
	assert_memory_equal(got, want, 32);

	/* The three subkeys differ from each other and from the master. */
	subkey(fixed_key, "tokenportal seal v1", sk);
	subkey(fixed_key, "tokenportal pin v1", pk);
	assert_memory_not_equal(sk, pk, 32);
	assert_memory_not_equal(sk, ek, 32);
	assert_memory_not_equal(pk, ek, 32);
	assert_memory_not_equal(sk, fixed_key, 32);
	/* So the event MAC is not the HMAC under the PIN subkey. */
	HMAC(EVP_sha256(), pk, 32, (const uint8_t *)data, sizeof(data) - 1,
	    pin_as_event, &wl);
	assert_memory_not_equal(got, pin_as_event, 32);
	ac_keyring_free(k);
}

static void
test_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_int_equal(ac_random(a, sizeof(a)), 0);
	assert_int_equal(ac_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(ac_random(a, 0), 0);
	ac_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_hkdf_matches_rfc5869),
		cmocka_unit_test_setup_teardown(test_create_and_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loaded_file_is_the_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_keys_differ, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_symlink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_create_in_missing_dir_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_load_refuses_group_or_world_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_accepts_service_account_key_as_root,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_wrong_size,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_load_refuses_missing_and_directory, setup, teardown),
		cmocka_unit_test(test_round_trip_20_32_64),
		cmocka_unit_test(test_tamper_each_byte),
		cmocka_unit_test(test_wrong_serial_fails),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_buffers_too_small),
		cmocka_unit_test(test_pin_hash),
		cmocka_unit_test(test_pin_hash_depends_on_key),
		cmocka_unit_test(test_event_mac),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
