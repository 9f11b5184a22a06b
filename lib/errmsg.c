/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "errmsg.h"

#define ERRMSG_MAX 2048 /* longer messages are cut */

int sluice_verrf(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
{
	char raw[ERRMSG_MAX];
	size_t n = 0;

	if (!err || !errlen)
		return rc;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	for (const unsigned char *r = (const unsigned char *)raw; *r; r++) {
		int w;

		if (*r < 0x20 || *r == 0x7f)
			w = snprintf(err + n, errlen - n, "\\x%02x", *r);
		else
			w = snprintf(err + n, errlen - n, "%c", *r);
		/* A cut escape would be a half-truth: stop before it. */
		if (w < 0 || (size_t)w >= errlen - n)
			break;
		n += (size_t)w;
	}
	err[n] = '\0';
	return rc;
}

int sluice_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = sluice_verrf(err, errlen, rc, fmt, ap);
	va_end(ap);
	return rc;
}
