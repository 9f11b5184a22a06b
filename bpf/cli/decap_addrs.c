/* SPDX-License-Identifier: BSD-3-Clause */
/* sluice-decap's address sets and its error reporting (decap_cli.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decap_cli.h"
#include "errmsg.h"

int fail(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	sluice_verrf(msg, sizeof(msg), 0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice-decap: %s\n", msg);
	return code;
}

bool set_has(const struct addr_set *s, const struct sluice_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(&s->a[i], a, sizeof(*a)) == 0)
			return true;
	return false;
}

int set_add(struct addr_set *s, const struct sluice_addr *a)
{
	if (set_has(s, a))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sluice_addr *p = realloc(s->a, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->a = p;
		s->cap = cap;
	}
	s->a[s->n++] = *a;
	return 0;
}

int parse_addrs(const char *text, const char *where, struct addr_set *s)
{
	const char *p = text;

	while (*p) {
		char word[SLUICE_ADDR_STRLEN + 8];
		struct sluice_addr a;
		size_t n;

		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		n = strcspn(p, ", \t\r\n#");
		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word) || (memcpy(word, p, n), word[n] = '\0',
					  sluice_addr_parse(word, &a) < 0))
			return fail(EXIT_USAGE, "%s: \"%.*s\" is not an IPv4 or IPv6 address", where,
				    (int)(n > 64 ? 64 : n), p);
		if (set_add(s, &a) < 0)
			return fail(EXIT_FAIL, "out of memory");
		p += n;
	}
	return 0;
}

int parse_addr_file(const char *path, struct addr_set *s)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!f)
		return fail(EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
	if (getdelim(&text, &len, '\0', f) < 0 && !feof(f)) {
		rc = fail(EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
	} else {
		rc = parse_addrs(text ? text : "", path, s);
		if (rc == 0 && s->n == 0)
			rc = fail(EXIT_USAGE, "%s holds no address", path);
	}
	free(text);
	fclose(f);
	return rc;
}

/* The host's addresses, without loopback ones: 127/8 and ::1 never arrive
 * from the wire (the kernel drops them as martians), so neither an outer
 * nor an inner destination may be one. */
int host_addrs(struct addr_set *s)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return fail(EXIT_FAIL, "cannot list the host's addresses: %s", strerror(errno));
	for (i = ifa; i; i = i->ifa_next) {
		struct sluice_addr a;

		if (!i->ifa_addr)
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;

			if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
				continue;
			a.family = SLUICE_FAMILY_V4;
			memcpy(a.bytes, &sin->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;

			if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
				continue;
			a.family = SLUICE_FAMILY_V6;
			memcpy(a.bytes, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		if (set_add(s, &a) < 0) {
			freeifaddrs(ifa);
			return fail(EXIT_FAIL, "out of memory");
		}
	}
	freeifaddrs(ifa);
	return 0;
}
