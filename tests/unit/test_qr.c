/*
 * test_qr.c - the activation QR code.
 *
 * The reference is an independent decoder: each SVG is rasterised with
 * rsvg-convert (librsvg) and read back with zbarimg (ZBar); the decoded
 * text must equal what we encoded.  Neither tool is ours, so a wrong
 * drawing (flipped modules, missing runs, no quiet zone) fails here.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "qr.h"

static char tmpdir[] = "/tmp/test_qr.XXXXXX";

/*
 * Runs argv with stdout captured into out (NUL-terminated, truncated to
 * outlen - 1) and stderr discarded.  Returns the exit status, or -1.
 */
static int
run_capture(char *const argv[], char *out, size_t outlen)
{
	int	fds[2], status = 0, devnull;
	size_t	len = 0;
	ssize_t	n;
	pid_t	pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		dup2(fds[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < outlen &&
	    (n = read(fds[0], out + len, outlen - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Renders text as SVG, rasterises it at width px and decodes it. */
static void
assert_round_trip(const char *text, const char *width)
{
	char	 svgpath[64], pngpath[64], decoded[4096], w[16];
	char	*svg = NULL;
	FILE	*f;
	size_t	 n;

	assert_int_equal(portal_qr_svg(text, &svg), 0);
	assert_non_null(svg);
	snprintf(w, sizeof(w), "%s", width);
	snprintf(svgpath, sizeof(svgpath), "%s/qr.svg", tmpdir);
	snprintf(pngpath, sizeof(pngpath), "%s/qr.png", tmpdir);
	f = fopen(svgpath, "w");
	assert_non_null(f);
	assert_int_equal(fputs(svg, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(svg);

	{
		char *const rsvg[] = { "rsvg-convert", "-w", w,
		    "-b", "white", "-o", pngpath, svgpath, NULL };
		char *const zbar[] = { "zbarimg", "--raw", "--nodbus", "-q",
		    pngpath, NULL };

		assert_int_equal(run_capture(rsvg, decoded, sizeof(decoded)), 0);
		assert_int_equal(run_capture(zbar, decoded, sizeof(decoded)), 0);
	}
	/* zbarimg ends each symbol with a newline. */
	n = strlen(decoded);
	if (n > 0 && decoded[n - 1] == '\n')
		decoded[n - 1] = '\0';
	assert_string_equal(decoded, text);
}

static void
typical_otpauth_uri_round_trips(void **state)
{
	(void)state;
	assert_round_trip("otpauth://totp/Example%20Corp:alice%40example.org"
	    "?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Corp", "400");
}

/* The largest URI the portal produces: a 64-byte SHA-512 seed (103 Base32
 * characters), 8 digits, 60 s, and a long issuer in label and parameter. */
static void
long_sha512_uri_round_trips(void **state)
{
	(void)state;
	assert_round_trip("otpauth://totp/"
	    "Rheinisch-Westf%C3%A4lische%20Versorgungsbetriebe%20IT-Sicherheit:"
	    "maximilian.mustermann-schmidt%40it.versorgungsbetriebe.example"
	    "?secret=BMYFK6U7YTUQ4M2YPWRMP3ARGZNYBJOK54KDSXUDVDG7EFZ4MGDKXUHVDI7"
	    "WJCNO2P4B2QTHRSY5N6ZAIVVI7NGZ7YRUQ3MSW7OACJQ"
	    "&issuer=Rheinisch-Westf%C3%A4lische%20Versorgungsbetriebe%20IT-"
	    "Sicherheit&algorithm=SHA512&digits=8&period=60", "400");
}

static void
minimal_string_round_trips(void **state)
{
	(void)state;
	assert_round_trip("a", "400");
}

/* AC_MAX_URI bytes exactly is accepted and still decodes. */
static void
limit_length_round_trips(void **state)
{
	char	text[AC_MAX_URI + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < AC_MAX_URI; i++)
		text[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	text[AC_MAX_URI] = '\0';
	assert_round_trip(text, "1200");
}

/* Reads "viewBox="0 0 N N"" and checks every run lies inside the quiet
 * zone: x, y >= 4 and x + w, y + 1 <= N - 4. */
static void
quiet_zone_is_four_modules(void **state)
{
	char		*svg = NULL, *p;
	int		 size, x, y, w, w2, nrun = 0, consumed;
	int		 minx = 1 << 30, miny = 1 << 30, maxx = 0, maxy = 0;

	(void)state;
	assert_int_equal(portal_qr_svg("otpauth://totp/x?secret=AAAA", &svg), 0);
	assert_non_null(strstr(svg, "shape-rendering=\"crispEdges\""));
	assert_non_null(strstr(svg, "role=\"img\""));
	assert_non_null(strstr(svg, "aria-label=\""));
	assert_non_null(strstr(svg, "fill=\"#fff\""));
	p = strstr(svg, "viewBox=\"0 0 ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "viewBox=\"0 0 %d", &size), 1);
	/* Version 1 is 21 modules; a version adds 4: 21..177, + 8 quiet. */
	assert_true(size >= 29 && size <= 185 && (size - 29) % 4 == 0);
	p = strstr(svg, " d=\"");
	assert_non_null(p);
	p += 4;
	while (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &consumed) == 4) {
		assert_int_equal(w, w2);
		assert_true(w >= 1);
		if (x < minx) minx = x;
		if (y < miny) miny = y;
		if (x + w > maxx) maxx = x + w;
		if (y + 1 > maxy) maxy = y + 1;
		nrun++;
		p += consumed;
	}
	assert_int_equal(*p, '"');
	assert_true(nrun > 0);
	/* The finder patterns touch all four edges of the symbol, so the
	 * dark modules span exactly the symbol, 4 modules from each edge. */
	assert_int_equal(minx, 4);
	assert_int_equal(miny, 4);
	assert_int_equal(maxx, size - 4);
	assert_int_equal(maxy, size - 4);
	free(svg);
}

static void
invalid_input_is_refused(void **state)
{
	static char	 sentinel[] = "sentinel";
	char		*svg = sentinel;
	char		 big[AC_MAX_URI + 2];

	(void)state;
	assert_int_equal(portal_qr_svg(NULL, &svg), AC_ERR_INVALID);
	assert_null(svg);
	svg = sentinel;
	assert_int_equal(portal_qr_svg("", &svg), AC_ERR_INVALID);
	assert_null(svg);
	assert_int_equal(portal_qr_svg("x", NULL), AC_ERR_INVALID);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	svg = sentinel;
	assert_int_equal(portal_qr_svg(big, &svg), AC_ERR_TOO_LONG);
	assert_null(svg);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/qr.svg", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qr.png", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(typical_otpauth_uri_round_trips),
		cmocka_unit_test(long_sha512_uri_round_trips),
		cmocka_unit_test(minimal_string_round_trips),
		cmocka_unit_test(limit_length_round_trips),
		cmocka_unit_test(quiet_zone_is_four_modules),
		cmocka_unit_test(invalid_input_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
