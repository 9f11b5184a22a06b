/* SPDX-License-Identifier: BSD-3-Clause */
/* Error messages for callers that pass a buffer: libsluice functions return
 * 0 / -errno and, on failure, a sentence saying what was wrong. */
#ifndef SLUICE_ERRMSG_H
#define SLUICE_ERRMSG_H

#include <stddef.h>

/* Format a message into err (if err and errlen are non-zero); return rc. */
int sluice_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
