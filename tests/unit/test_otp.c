/*
 * test_otp.c - HOTP and TOTP against RFC 4226 appendix D, RFC 6238
 * appendix B, and 1000+ random cases computed by oathtool (OATH Toolkit),
 * an implementation no one here wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "codec.h"
#include "otp.h"

extern char **environ;

#define RANDOM_CASES	1200

/* RFC 6238 appendix B's seeds: "1234567890" repeated to 20, 32, 64 bytes. */
static const char seed20[] = "12345678901234567890";
static const char seed32[] = "12345678901234567890123456789012";
static const char seed64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

/* RFC 4226 appendix D: HOTP values for counters 0..9, and the column
 * "Truncated Decimal" from which 8-digit codes are the last 8 digits. */
static const char *rfc4226_hotp[10] = {
	"755224", "287082", "359152", "969429", "338314",
	"254676", "287922", "162583", "399871", "520489",
};
static const char *rfc4226_trunc8[10] = {
	"84755224", "94287082", "37359152", "26969429", "40338314",
	"68254676", "18287922", "82162583", "73399871", "45520489",
};

static void
test_rfc4226_hotp(void **state)
{
	ac_otp *o6 = NULL, *o8 = NULL;
	char code[AC_MAX_CODE + 1];
	uint64_t c;

	(void)state;
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, (const uint8_t *)seed20, 20,
	    6, &o6), 0);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, (const uint8_t *)seed20, 20,
	    8, &o8), 0);
	assert_int_equal(ac_otp_digits(o6), 6);
	assert_int_equal(ac_otp_digits(o8), 8);
	/* Twice over, in a mixed order: the re-used MAC context must not
	 * carry state from one code to the next. */
	for (c = 0; c < 20; c++) {
		uint64_t k = (c * 7) % 10;

		assert_int_equal(ac_otp_hotp(o6, k, code, sizeof(code)), 0);
		assert_string_equal(code, rfc4226_hotp[k]);
		assert_int_equal(ac_otp_hotp(o8, k, code, sizeof(code)), 0);
		assert_string_equal(code, rfc4226_trunc8[k]);
	}
	ac_otp_free(o6);
	ac_otp_free(o8);
}

/* RFC 6238 appendix B: time, then the 8-digit TOTP for SHA1/256/512. */
static const struct {
	int64_t		 time;
	uint64_t	 step;
	const char	*sha1, *sha256, *sha512;
} rfc6238[] = {
	{ 59LL,          0x1ULL,      "94287082", "46119246", "90693936" },
	{ 1111111109LL,  0x23523ECULL, "07081804", "68084774", "25091201" },
	{ 1111111111LL,  0x23523EDULL, "14050471", "67062674", "99943326" },
	{ 1234567890LL,  0x273EF07ULL, "89005924", "91819424", "93441116" },
	{ 2000000000LL,  0x3F940AAULL, "69279037", "90698825", "38618901" },
	{ 20000000000LL, 0x27BC86AAULL, "65353130", "77737706", "47863826" },
};

static void
test_rfc6238_totp(void **state)
{
	ac_otp *o1 = NULL, *o256 = NULL, *o512 = NULL;
	char code[AC_MAX_CODE + 1];
	size_t i;
	uint64_t t;

	(void)state;
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, (const uint8_t *)seed20, 20,
	    8, &o1), 0);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA256, (const uint8_t *)seed32,
	    32, 8, &o256), 0);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA512, (const uint8_t *)seed64,
	    64, 8, &o512), 0);
	for (i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
		t = ac_totp_step(rfc6238[i].time, 30);
		assert_int_equal(t, rfc6238[i].step);
		assert_int_equal(ac_otp_hotp(o1, t, code, sizeof(code)), 0);
		assert_string_equal(code, rfc6238[i].sha1);
		assert_int_equal(ac_otp_hotp(o256, t, code, sizeof(code)), 0);
		assert_string_equal(code, rfc6238[i].sha256);
		assert_int_equal(ac_otp_hotp(o512, t, code, sizeof(code)), 0);
		assert_string_equal(code, rfc6238[i].sha512);
	}
	ac_otp_free(o1);
	ac_otp_free(o256);
	ac_otp_free(o512);
}

static void
test_totp_step(void **state)
{
	(void)state;
	assert_int_equal(ac_totp_step(0, 30), 0);
	assert_int_equal(ac_totp_step(29, 30), 0);
	assert_int_equal(ac_totp_step(30, 30), 1);
	assert_int_equal(ac_totp_step(119, 60), 1);
	assert_int_equal(ac_totp_step(120, 60), 2);
	/* Before 1970 there is no step to count (contract: step 0). */
	assert_int_equal(ac_totp_step(-1, 30), 0);
	assert_int_equal(ac_totp_step(INT64_MIN, 30), 0);
	/* Past 2038 and to the end of 64-bit time (RFC 6238 section 4.2). */
	assert_int_equal(ac_totp_step(2147483648LL, 30), 71582788ULL);
	assert_int_equal(ac_totp_step(INT64_MAX, 30),
	    9223372036854775807ULL / 30);
}

static void
test_algo_names(void **state)
{
	static const char *sha1[] = { "sha1", "SHA1", "Sha-1", "SHA-1" };
	static const char *bad[] = { "", "sha", "sha-2", "md5", "sha1 ",
	    "sha384", "SHA_256" };
	enum ac_algo a;
	size_t i;

	(void)state;
	assert_string_equal(ac_algo_name(AC_ALGO_SHA1), "SHA1");
	assert_string_equal(ac_algo_name(AC_ALGO_SHA256), "SHA256");
	assert_string_equal(ac_algo_name(AC_ALGO_SHA512), "SHA512");
	for (i = 0; i < sizeof(sha1) / sizeof(sha1[0]); i++) {
		a = AC_ALGO_SHA512;
		assert_int_equal(ac_algo_parse(sha1[i], &a), 0);
		assert_int_equal(a, AC_ALGO_SHA1);
	}
	assert_int_equal(ac_algo_parse("sha256", &a), 0);
	assert_int_equal(a, AC_ALGO_SHA256);
	assert_int_equal(ac_algo_parse("SHA-512", &a), 0);
	assert_int_equal(a, AC_ALGO_SHA512);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ac_algo_parse(bad[i], &a), AC_ERR_INVALID);
	assert_int_equal(ac_algo_parse(NULL, &a), AC_ERR_INVALID);
}

static void
test_generate_secret(void **state)
{
	static const enum ac_algo algos[] = { AC_ALGO_SHA1, AC_ALGO_SHA256,
	    AC_ALGO_SHA512 };
	static const size_t lens[] = { 20, 32, 64 };
	uint8_t a[AC_MAX_SECRET], b[AC_MAX_SECRET], zero[AC_MAX_SECRET];
	size_t i, n;

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (i = 0; i < 3; i++) {
		assert_int_equal(ac_algo_secret_len(algos[i]), lens[i]);
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		assert_int_equal(ac_otp_generate_secret(algos[i], a,
		    sizeof(a), &n), 0);
		assert_int_equal(n, lens[i]);
		assert_int_equal(ac_otp_generate_secret(algos[i], b,
		    lens[i], &n), 0);
		assert_int_equal(n, lens[i]);
		/* Two draws of 160+ random bits never collide; a byte past
		 * the length is left alone. */
		assert_memory_not_equal(a, b, lens[i]);
		assert_memory_not_equal(a, zero, lens[i]);
		if (lens[i] < sizeof(a))
			assert_int_equal(a[lens[i]], 0);
		assert_int_equal(ac_otp_generate_secret(algos[i], a,
		    lens[i] - 1, &n), AC_ERR_TOO_LONG);
		assert_int_equal(n, 0);
	}
}

static void
test_new_invalid(void **state)
{
	uint8_t key[AC_MAX_SECRET + 1];
	ac_otp *o = (ac_otp *)key;
	char code[AC_MAX_CODE + 1];

	(void)state;
	memset(key, 1, sizeof(key));
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, key, 20, 7, &o),
	    AC_ERR_INVALID);
	assert_null(o);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, key, 20, 0, &o),
	    AC_ERR_INVALID);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, key, 0, 6, &o),
	    AC_ERR_INVALID);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, NULL, 20, 6, &o),
	    AC_ERR_INVALID);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA1, key, AC_MAX_SECRET + 1, 6,
	    &o), AC_ERR_INVALID);
	assert_int_equal(ac_otp_new((enum ac_algo)3, key, 20, 6, &o),
	    AC_ERR_INVALID);
	assert_null(o);
	/* A one-byte key and a 64-byte key are both fine. */
	assert_int_equal(ac_otp_new(AC_ALGO_SHA256, key, 1, 6, &o), 0);
	/* The code buffer must hold the digits and the NUL. */
	assert_int_equal(ac_otp_hotp(o, 1, code, 6), AC_ERR_INVALID);
	assert_int_equal(ac_otp_hotp(o, 1, code, 7), 0);
	assert_int_equal(strlen(code), 6);
	ac_otp_free(o);
	assert_int_equal(ac_otp_new(AC_ALGO_SHA512, key, AC_MAX_SECRET, 8,
	    &o), 0);
	ac_otp_free(o);
	ac_otp_free(NULL);
}

static void
test_code_compare(void **state)
{
	(void)state;
	assert_true(ac_otp_code_equal("123456", "123456"));
	assert_false(ac_otp_code_equal("123456", "123457"));
	assert_false(ac_otp_code_equal("023456", "123456"));
	assert_false(ac_otp_code_equal("123456", "1234567"));
	assert_false(ac_otp_code_equal("", "123456"));
	assert_false(ac_otp_code_equal(NULL, "123456"));
	assert_true(ac_otp_code_valid("012345", 6));
	assert_true(ac_otp_code_valid("01234567", 8));
	assert_false(ac_otp_code_valid("01234567", 6));
	assert_false(ac_otp_code_valid("012345", 8));
	assert_false(ac_otp_code_valid("01234a", 6));
	assert_false(ac_otp_code_valid("12345 ", 6));
	assert_false(ac_otp_code_valid("-12345", 6));
	assert_false(ac_otp_code_valid("", 6));
	assert_false(ac_otp_code_valid(NULL, 6));
}

/* splitmix64: a small reproducible generator, seeded from TP_OTP_SEED. */
static uint64_t
next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Runs oathtool with argv, writes the hex key to its standard input (KEY
 * "-"; a secret never belongs in argv) and reads the code it prints.
 * Returns 0 or -1 with a message in msg.
 */
static int
oathtool(char *const argv[], const char *hexkey, char *code, size_t codelen,
    char *msg, size_t msglen)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, st, r = -1;
	pid_t pid = -1;
	size_t got = 0;
	ssize_t k;

	if (pipe(in) != 0 || pipe(out) != 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	st = posix_spawnp(&pid, "oathtool", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (st != 0) {
		pid = -1;
		snprintf(msg, msglen, "cannot run oathtool (%s): install the "
		    "oathtool package (tests/install-deps.sh)", strerror(st));
		goto out;
	}
	/* The key is under 130 bytes: the pipe buffer takes it at once. */
	if (write(in[1], hexkey, strlen(hexkey)) != (ssize_t)strlen(hexkey)) {
		snprintf(msg, msglen, "write to oathtool: %s", strerror(errno));
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	while (got < codelen - 1 &&
	    (k = read(out[0], code + got, codelen - 1 - got)) > 0)
		got += (size_t)k;
	code[got] = '\0';
	code[strcspn(code, "\n")] = '\0';
	r = 0;
out:
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (pid > 0 && (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)) {
		snprintf(msg, msglen, "oathtool failed (status %d)", st);
		r = -1;
	}
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	return r;
}

/* One random case: secret, algorithm, digits, and a counter or a time. */
struct rcase {
	enum ac_algo	 algo;
	uint8_t		 key[AC_MAX_SECRET];
	size_t		 keylen;
	int		 digits;
	int		 totp, period;
	uint64_t	 counter;	/* HOTP counter */
	int64_t		 time;		/* TOTP Unix time */
};

static void
random_case(uint64_t *rng, int i, struct rcase *c)
{
	size_t j;

	memset(c, 0, sizeof(*c));
	/* oathtool's HOTP mode is SHA-1 only: one case in four is HOTP, the
	 * rest TOTP with all three hashes. */
	c->totp = (i % 4) != 0;
	c->algo = c->totp ? (enum ac_algo)(next_random(rng) % 3) :
	    AC_ALGO_SHA1;
	c->digits = next_random(rng) % 2 ? 8 : 6;
	c->period = next_random(rng) % 2 ? 60 : 30;
	/* Mostly the generated size, sometimes any size from 1 to 64. */
	c->keylen = next_random(rng) % 4 ? ac_algo_secret_len(c->algo) :
	    1 + next_random(rng) % AC_MAX_SECRET;
	for (j = 0; j < c->keylen; j++)
		c->key[j] = (uint8_t)next_random(rng);
	/* Small counters, full 64-bit ones, and times up to year ~4000. */
	c->counter = next_random(rng) % 2 ? next_random(rng) % 100000 :
	    next_random(rng);
	c->time = (int64_t)(next_random(rng) % (1ULL << 36));
}

/* Computes one case with oathtool and with us; fails on any difference. */
static void
check_case(const struct rcase *c, uint64_t seed, int i)
{
	static const char *modes[] = { "--totp=SHA1", "--totp=SHA256",
	    "--totp=SHA512" };
	char hex[2 * AC_MAX_SECRET + 1], num[32], digits[4], step[16];
	char when[32], want[32], got[AC_MAX_CODE + 1], msg[128];
	char *argv[12];
	ac_otp *o = NULL;
	int a = 0;

	assert_int_equal(ac_hex_encode(c->key, c->keylen, hex, sizeof(hex)),
	    0);
	snprintf(digits, sizeof(digits), "%d", c->digits);
	argv[a++] = (char *)(uintptr_t)"oathtool";
	if (c->totp) {
		snprintf(step, sizeof(step), "%ds", c->period);
		snprintf(when, sizeof(when), "@%lld", (long long)c->time);
		argv[a++] = (char *)(uintptr_t)modes[c->algo];
		argv[a++] = (char *)(uintptr_t)"-s";
		argv[a++] = step;
		argv[a++] = (char *)(uintptr_t)"-N";
		argv[a++] = when;
	} else {
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)c->counter);
		argv[a++] = (char *)(uintptr_t)"--hotp";
		argv[a++] = (char *)(uintptr_t)"-c";
		argv[a++] = num;
	}
	argv[a++] = (char *)(uintptr_t)"-d";
	argv[a++] = digits;
	argv[a++] = (char *)(uintptr_t)"-";
	argv[a] = NULL;
	if (oathtool(argv, hex, want, sizeof(want), msg, sizeof(msg)) != 0)
		fail_msg("case %d: %s", i, msg);
	assert_int_equal(ac_otp_new(c->algo, c->key, c->keylen, c->digits,
	    &o), 0);
	assert_int_equal(ac_otp_hotp(o, c->totp ? ac_totp_step(c->time,
	    c->period) : c->counter, got, sizeof(got)), 0);
	ac_otp_free(o);
	if (strcmp(want, got) != 0)
		fail_msg("case %d (TP_OTP_SEED=%llu): %s %s key %s: oathtool "
		    "says %s, we say %s", i, (unsigned long long)seed,
		    c->totp ? modes[c->algo] : "--hotp",
		    c->totp ? when : num, hex, want, got);
}

static void
test_random_vs_oathtool(void **state)
{
	const char *env = getenv("TP_OTP_SEED");
	uint64_t seed, rng;
	struct rcase c;
	int i;

	(void)state;
	seed = env != NULL ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	rng = seed;
	print_message("# random cases with TP_OTP_SEED=%llu\n",
	    (unsigned long long)seed);
	for (i = 0; i < RANDOM_CASES; i++) {
		random_case(&rng, i, &c);
		check_case(&c, seed, i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4226_hotp),
		cmocka_unit_test(test_rfc6238_totp),
		cmocka_unit_test(test_totp_step),
		cmocka_unit_test(test_algo_names),
		cmocka_unit_test(test_generate_secret),
		cmocka_unit_test(test_new_invalid),
		cmocka_unit_test(test_code_compare),
		cmocka_unit_test(test_random_vs_oathtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
