/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What sluice-decap's files share: its exit codes, how it reports an
 * error, and the address sets its commands read from the command line,
 * from files and from the host.
 */
#ifndef SLUICE_DECAP_CLI_H
#define SLUICE_DECAP_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Print "sluice-decap: MESSAGE" on stderr (control bytes escaped, since a
 * message may quote an argument or a file) and return code. */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A set of addresses without duplicates, in insertion order; free(s.a). */
struct addr_set {
	struct sluice_addr *a;
	size_t n, cap;
};

bool set_has(const struct addr_set *s, const struct sluice_addr *a);
int set_add(struct addr_set *s, const struct sluice_addr *a);

/* Addresses separated by commas, blanks or newlines; '#' comments to the
 * end of the line (the file form). Return 0 or an exit code, with a
 * message naming the bad word and where it came from. */
int parse_addrs(const char *text, const char *where, struct addr_set *s);
int parse_addr_file(const char *path, struct addr_set *s);

/* The host's addresses, without loopback ones. */
int host_addrs(struct addr_set *s);

#endif
