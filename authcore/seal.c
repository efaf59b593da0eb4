/*
 * seal.c - the master key file, HKDF subkeys, AES-256-GCM sealing, keyed PIN
 * hashes and event MACs (DESIGN.md 4).
 *
 * The master key itself is never used directly: three subkeys are derived
 * from it with HKDF-SHA-256 (RFC 5869), one per purpose, so that a weakness
 * in one use (say, PIN hashes exposed to an offline attacker who also knows
 * some plaintext) says nothing about the others.  The derivation is written
 * out in seal.h so that tests can recompute it independently.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ac_error.h"
#include "seal.h"

struct ac_keyring {
	uint8_t		 seal_key[AC_MASTER_KEY_LEN];
	uint8_t		 pin_key[AC_MASTER_KEY_LEN];
	uint8_t		 event_key[AC_MASTER_KEY_LEN];
	char		 key_id[AC_KEY_ID_LEN + 1];
	EVP_MAC		*hmac;		/* fetched once, used per call */
};

void
ac_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

int
ac_random(uint8_t *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (buf == NULL || n > INT32_MAX)
		return AC_ERR_INVALID;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : AC_ERR_CRYPTO;
}

/* Writes all n bytes, retrying short writes and EINTR. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ac_keyring_create(const char *path)
{
	uint8_t key[AC_MASTER_KEY_LEN];
	int fd = -1, created = 0, r = AC_ERR_INTERNAL;

	if (path == NULL || *path == '\0')
		return AC_ERR_INVALID;
	/* The key exists before the file does, so a failing RNG leaves
	 * nothing on disk. */
	if (RAND_bytes(key, sizeof(key)) != 1) {
		r = AC_ERR_CRYPTO;
		goto out;
	}
	/* O_EXCL: an existing key (and every secret sealed under it) is
	 * never overwritten; O_NOFOLLOW: nor is a planted symlink followed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		r = errno == EEXIST ? AC_ERR_EXISTS : AC_ERR_IO;
		goto out;
	}
	created = 1;
	/* The umask can only remove bits; make the mode exact anyway. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, key, sizeof(key)) != 0 ||
	    fsync(fd) != 0) {
		r = AC_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = AC_ERR_IO;
		goto out;
	}
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	/* Never leave a partial key behind: the next init would refuse it
	 * and a later load would reject it with a confusing message. */
	if (r != 0 && created)
		unlink(path);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/*
 * One HKDF-SHA-256 output of AC_MASTER_KEY_LEN bytes (RFC 5869 section 2):
 * no salt (section 3.1: the master key is already uniformly random) and
 * `info` naming the purpose (section 3.2).
 */
static int
hkdf(uint8_t master[AC_MASTER_KEY_LEN], const char *info,
    uint8_t out[AC_MASTER_KEY_LEN])
{
	char infobuf[64], digest[] = "SHA256";
	size_t infolen = strlen(info);
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	int r = AC_ERR_CRYPTO;

	if (infolen > sizeof(infobuf))
		return AC_ERR_INTERNAL;
	memcpy(infobuf, info, infolen);
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    master, AC_MASTER_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    infobuf, infolen);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, AC_MASTER_KEY_LEN, params) != 1)
		goto out;
	r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
static void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/*
 * Derives the subkeys and the key id from master (which the caller wipes).
 * The id is an HKDF output of its own, so publishing it in every row says
 * nothing about the subkeys.
 */
static int
keyring_derive(ac_keyring *k, uint8_t master[AC_MASTER_KEY_LEN])
{
	uint8_t idbytes[AC_MASTER_KEY_LEN];
	int r;

	if ((r = hkdf(master, AC_HKDF_INFO_SEAL, k->seal_key)) != 0 ||
	    (r = hkdf(master, AC_HKDF_INFO_PIN, k->pin_key)) != 0 ||
	    (r = hkdf(master, AC_HKDF_INFO_EVENT, k->event_key)) != 0 ||
	    (r = hkdf(master, AC_HKDF_INFO_KEY_ID, idbytes)) != 0)
		goto out;
	hex_encode(idbytes, AC_KEY_ID_LEN / 2, k->key_id);
	if ((k->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		r = AC_ERR_CRYPTO;
out:
	OPENSSL_cleanse(idbytes, sizeof(idbytes));
	return r;
}

int
ac_keyring_from_bytes(const uint8_t key[AC_MASTER_KEY_LEN], ac_keyring **out)
{
	uint8_t master[AC_MASTER_KEY_LEN];
	ac_keyring *k = NULL;
	int r = AC_ERR_INTERNAL;

	if (key == NULL || out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	memcpy(master, key, sizeof(master));
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	if ((r = keyring_derive(k, master)) != 0)
		goto out;
	*out = k;
	k = NULL;	/* transferred */
	r = 0;
out:
	OPENSSL_cleanse(master, sizeof(master));
	ac_keyring_free(k);
	return r;
}

/*
 * Checks the opened key file: a regular file of exactly the key size,
 * that only its owner can read or write.
 */
static int
check_key_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		ac_set_err(err, errlen, "cannot stat master key file %s: %s",
		    path, strerror(errno));
		return AC_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		ac_set_err(err, errlen, "master key file %s is not a regular file",
		    path);
		return AC_ERR_KEY;
	}
	/*
	 * No owner check: for anyone but root, a 0600 file that is not theirs
	 * cannot be opened at all, and root must be able to use the key the
	 * portal's service account owns (tokenctl run by an administrator, the
	 * PAM module inside sshd).  The mode check below is what matters.
	 */
	if ((st.st_mode & 077) != 0) {
		ac_set_err(err, errlen, "master key file %s has mode %04o: group "
		    "or others can access it; it must be 0600 (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
		return AC_ERR_KEY;
	}
	if (st.st_size != AC_MASTER_KEY_LEN) {
		ac_set_err(err, errlen, "master key file %s is %lld bytes, not %d: "
		    "not a tokenportal master key", path, (long long)st.st_size,
		    AC_MASTER_KEY_LEN);
		return AC_ERR_KEY;
	}
	return 0;
}

/* Reads exactly AC_MASTER_KEY_LEN bytes and makes sure nothing follows. */
static int
read_key(int fd, const char *path, uint8_t key[AC_MASTER_KEY_LEN], char *err,
    size_t errlen)
{
	uint8_t buf[AC_MASTER_KEY_LEN + 1];
	size_t got = 0;
	int r = AC_ERR_IO;

	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ac_set_err(err, errlen, "cannot read master key file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != AC_MASTER_KEY_LEN) {
		ac_set_err(err, errlen, "master key file %s changed size while "
		    "being read", path);
		r = AC_ERR_KEY;
		goto out;
	}
	memcpy(key, buf, AC_MASTER_KEY_LEN);
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

int
ac_keyring_load(const char *path, ac_keyring **out, char *err, size_t errlen)
{
	uint8_t key[AC_MASTER_KEY_LEN];
	int fd = -1, r = AC_ERR_INTERNAL;

	if (path == NULL || out == NULL)
		return AC_ERR_INVALID;
	*out = NULL;
	/* A symlink is allowed (secret mounts use them); the checks below
	 * apply to the file it points to. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		ac_set_err(err, errlen, "cannot open master key file %s: %s%s",
		    path, strerror(errno),
		    errno == ENOENT ? " (create it with tokenctl init)" : "");
		r = AC_ERR_KEY;
		goto out;
	}
	if ((r = check_key_file(fd, path, err, errlen)) != 0 ||
	    (r = read_key(fd, path, key, err, errlen)) != 0)
		goto out;
	if ((r = ac_keyring_from_bytes(key, out)) != 0)
		ac_set_err(err, errlen, "cannot derive keys from %s: %s", path,
		    ac_strerror(r));
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

void
ac_keyring_free(ac_keyring *k)
{
	if (k == NULL)
		return;
	EVP_MAC_free(k->hmac);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

const char *
ac_keyring_key_id(const ac_keyring *k)
{
	return k != NULL ? k->key_id : "";
}

int
ac_seal(const ac_keyring *k, const char *serial, const uint8_t *in, size_t n,
    uint8_t *out, size_t outlen, size_t *outn)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *nonce = out, *ct, *tag;
	int len, r = AC_ERR_CRYPTO;

	if (k == NULL || serial == NULL || (in == NULL && n > 0) ||
	    out == NULL || outn == NULL || n > INT32_MAX)
		return AC_ERR_INVALID;
	*outn = 0;
	if (outlen < n + AC_SEAL_OVERHEAD)
		return AC_ERR_TOO_LONG;
	ct = out + AC_SEAL_NONCE_LEN;
	tag = ct + n;
	/* A random 96-bit nonce per seal (NIST SP 800-38D 8.2.2): we seal
	 * far fewer than 2^32 secrets under one key. */
	if (RAND_bytes(nonce, AC_SEAL_NONCE_LEN) != 1)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->seal_key,
	    nonce) != 1)
		goto out;
	/* The serial is associated data, so a blob copied to another row
	 * fails to open. */
	if (EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)serial,
	    (int)strlen(serial)) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &len, in, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AC_SEAL_TAG_LEN,
	    tag) != 1)
		goto out;
	*outn = n + AC_SEAL_OVERHEAD;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (r != 0)
		OPENSSL_cleanse(out, outlen);
	return r;
}

int
ac_unseal(const ac_keyring *k, const char *key_id, const char *serial,
    const uint8_t *in, size_t n, uint8_t *out, size_t outlen, size_t *outn)
{
	EVP_CIPHER_CTX *ctx = NULL;
	const uint8_t *ct;
	uint8_t tag[AC_SEAL_TAG_LEN];
	size_t ctlen;
	int len, r = AC_ERR_TAMPERED;

	if (k == NULL || key_id == NULL || serial == NULL || in == NULL ||
	    out == NULL || outn == NULL)
		return AC_ERR_INVALID;
	*outn = 0;
	if (strcmp(key_id, k->key_id) != 0)
		return AC_ERR_KEY;
	if (n < AC_SEAL_OVERHEAD || n - AC_SEAL_OVERHEAD > INT32_MAX)
		return AC_ERR_TAMPERED;
	ctlen = n - AC_SEAL_OVERHEAD;
	if (outlen < ctlen)
		return AC_ERR_TOO_LONG;
	ct = in + AC_SEAL_NONCE_LEN;
	memcpy(tag, ct + ctlen, sizeof(tag));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->seal_key,
	    in) != 1) {
		r = AC_ERR_CRYPTO;
		goto out;
	}
	/* Any change to nonce, ciphertext, tag or serial makes the final
	 * tag check fail (SP 800-38D 7.2); only then is out trusted. */
	if (EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)serial,
	    (int)strlen(serial)) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &len, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AC_SEAL_TAG_LEN,
	    tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + len, &len) != 1)
		goto out;
	*outn = ctlen;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (r != 0)
		OPENSSL_cleanse(out, ctlen);
	return r;
}

/* HMAC-SHA-256 of a || b under key, into out. */
static int
hmac2(const ac_keyring *k, const uint8_t key[AC_MASTER_KEY_LEN],
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    uint8_t out[AC_HASH_LEN])
{
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	char digest[] = "SHA256";
	size_t outl = 0;
	int r = AC_ERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(k->hmac)) == NULL ||
	    EVP_MAC_init(ctx, key, AC_MASTER_KEY_LEN, params) != 1 ||
	    (alen > 0 && EVP_MAC_update(ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_MAC_update(ctx, b, blen) != 1) ||
	    EVP_MAC_final(ctx, out, &outl, AC_HASH_LEN) != 1 ||
	    outl != AC_HASH_LEN)
		goto out;
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return r;
}

int
ac_pin_hash(const ac_keyring *k, const uint8_t salt[AC_PIN_SALT_LEN],
    const char *pin, size_t pinlen, uint8_t out[AC_HASH_LEN])
{
	if (k == NULL || salt == NULL || (pin == NULL && pinlen > 0) ||
	    out == NULL)
		return AC_ERR_INVALID;
	return hmac2(k, k->pin_key, salt, AC_PIN_SALT_LEN,
	    (const uint8_t *)pin, pinlen, out);
}

int
ac_pin_verify(const ac_keyring *k, const uint8_t salt[AC_PIN_SALT_LEN],
    const char *pin, size_t pinlen, const uint8_t hash[AC_HASH_LEN])
{
	uint8_t mine[AC_HASH_LEN];
	int ok = 0;

	if (hash == NULL)
		return 0;
	if (ac_pin_hash(k, salt, pin, pinlen, mine) == 0)
		ok = CRYPTO_memcmp(mine, hash, AC_HASH_LEN) == 0;
	OPENSSL_cleanse(mine, sizeof(mine));
	return ok;
}

int
ac_event_mac(const ac_keyring *k, const uint8_t *data, size_t n,
    uint8_t out[AC_HASH_LEN])
{
	if (k == NULL || (data == NULL && n > 0) || out == NULL)
		return AC_ERR_INVALID;
	return hmac2(k, k->event_key, data, n, NULL, 0, out);
}
