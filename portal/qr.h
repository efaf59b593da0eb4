/*
 * qr.h - the activation QR code, drawn as inline SVG.
 *
 * The portal shows the otpauth:// URI of a pending token as a QR code that
 * authenticator apps scan.  libqrencode computes the modules; this module
 * draws them itself as one SVG <path>, so the page needs no image file and
 * the secret never leaves the response it belongs to.
 */
#ifndef PORTAL_QR_H
#define PORTAL_QR_H

/*
 * Encodes text (1..AC_MAX_URI bytes, byte mode, error correction level M)
 * and returns in *svg_out a malloc'd, NUL-terminated SVG document the
 * caller frees (wipe it first: it encodes the secret).  The drawing has a
 * 4-module quiet zone (ISO/IEC 18004 section 7.3.7), a white background,
 * viewBox in modules, integer pixels per module in width/height (about
 * 264 px; CSS may scale it), role="img" and an aria-label.
 *
 * Returns 0, AC_ERR_INVALID (NULL or empty text), AC_ERR_TOO_LONG (over
 * AC_MAX_URI or too much data for a QR code) or AC_ERR_NOMEM.  On failure
 * *svg_out is NULL.
 */
int portal_qr_svg(const char *text, char **svg_out);

#endif
