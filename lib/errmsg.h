/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one way sluice builds an error message: callers pass a buffer, a
 * function returns 0 / -errno and, on failure, a sentence saying what was
 * wrong. Messages quote what they refuse (a file's text, a client's
 * request, an interface name) and end up in the log, in sluicectl's output
 * and on a terminal, so a control byte in them is written as \xHH: a CR, LF
 * or escape sequence from outside cannot forge a line there.
 */
#ifndef SLUICE_ERRMSG_H
#define SLUICE_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

/* Format a message into err (if err and errlen are non-zero); return rc. */
int sluice_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int sluice_verrf(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif
