/*
 * qr.c - the activation QR code as inline SVG (the only file that includes
 * qrencode.h).
 *
 * libqrencode gives a square of modules; we draw every dark module as part
 * of one <path>, merging horizontal runs so a typical otpauth URI costs a
 * few kilobytes.  The drawing is produced in two passes over the same code:
 * the first measures, the second writes into a buffer of exactly that size,
 * so no realloc leaves copies of the (secret-bearing) picture in freed
 * memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <qrencode.h>

#include "ac_error.h"
#include "ac_limits.h"
#include "qr.h"

/* ISO/IEC 18004 section 7.3.7 asks for a quiet zone of 4 modules. */
#define QR_QUIET	4
/* Target drawing size in CSS pixels; each module gets a whole number. */
#define QR_TARGET_PX	264
#define QR_MIN_PX	2

/* An output buffer that only counts when buf is NULL. */
struct svgbuf {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 err;
};

static void emit(struct svgbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit(struct svgbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	if (b->buf == NULL)
		n = vsnprintf(NULL, 0, fmt, ap);
	else
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (b->buf != NULL && (size_t)n >= b->cap - b->len)) {
		b->err = 1;
		return;
	}
	b->len += (size_t)n;
}

/*
 * The dark modules of one row as path segments: each run of dark modules
 * becomes a rectangle one module high, "M x y h w v1 h -w z".
 */
static void
draw_row(struct svgbuf *b, const QRcode *qr, int y)
{
	const unsigned char	*row = qr->data + (size_t)y * (size_t)qr->width;
	int			 x = 0, start;

	while (x < qr->width) {
		/* Bit 0 of each module byte is 1 for a dark module. */
		if ((row[x] & 1) == 0) {
			x++;
			continue;
		}
		start = x;
		while (x < qr->width && (row[x] & 1))
			x++;
		emit(b, "M%d %dh%dv1h-%dz", start + QR_QUIET, y + QR_QUIET,
		    x - start, x - start);
	}
}

/* The whole document into b (measuring or writing). */
static void
draw(struct svgbuf *b, const QRcode *qr)
{
	int	size = qr->width + 2 * QR_QUIET;
	int	px = QR_TARGET_PX / size;
	int	y;

	if (px < QR_MIN_PX)
		px = QR_MIN_PX;
	emit(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""
	    " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\""
	    " shape-rendering=\"crispEdges\" role=\"img\""
	    " aria-label=\"QR code to scan with your authenticator app\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    size, size, size * px, size * px, size, size);
	for (y = 0; y < qr->width; y++)
		draw_row(b, qr, y);
	emit(b, "\"/></svg>\n");
}

/* Maps libqrencode's errno to our codes. */
static int
encode_error(void)
{
	if (errno == ERANGE)
		return AC_ERR_TOO_LONG;	/* more data than version 40 holds */
	if (errno == ENOMEM)
		return AC_ERR_NOMEM;
	return AC_ERR_INVALID;
}

int
portal_qr_svg(const char *text, char **svg_out)
{
	QRcode		*qr = NULL;
	struct svgbuf	 b = { NULL, 0, 0, 0 };
	int		 r = AC_ERR_INTERNAL;

	if (svg_out == NULL)
		return AC_ERR_INVALID;
	*svg_out = NULL;
	if (text == NULL || text[0] == '\0')
		return AC_ERR_INVALID;
	if (strnlen(text, AC_MAX_URI + 1) > AC_MAX_URI)
		return AC_ERR_TOO_LONG;

	/* Version 0 = the smallest that fits; byte mode keeps the URI's
	 * case (the alphanumeric mode would upper-case it), level M as the
	 * authenticator apps' own examples use. */
	errno = 0;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL) {
		r = encode_error();
		goto out;
	}
	draw(&b, qr);			/* measure */
	if (b.err)
		goto out;
	b.cap = b.len + 1;
	b.len = 0;
	if ((b.buf = malloc(b.cap)) == NULL) {
		r = AC_ERR_NOMEM;
		goto out;
	}
	draw(&b, qr);			/* write */
	if (b.err)
		goto out;
	*svg_out = b.buf;
	b.buf = NULL;			/* transferred */
	r = 0;
out:
	if (b.buf != NULL) {
		OPENSSL_cleanse(b.buf, b.cap);
		free(b.buf);
	}
	if (qr != NULL) {
		/* The modules encode the secret: wipe them too. */
		OPENSSL_cleanse(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	return r;
}
