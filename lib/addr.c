/* SPDX-License-Identifier: BSD-3-Clause */
/* Text forms of addresses, endpoints, VIP identities and MACs. See addr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int sluice_addr_parse(const char *s, struct sluice_addr *out)
{
	char buf[SLUICE_ADDR_STRLEN];
	struct sluice_addr a;
	bool bracketed = false;
	size_t n;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	/* Brackets are optional around IPv6, so "[::1]" and "::1" agree. */
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		bracketed = true;
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(&a, 0, sizeof(a));
	if (!bracketed && inet_pton(AF_INET, buf, a.bytes) == 1)
		a.family = SLUICE_FAMILY_V4;
	else if (strchr(buf, ':') && inet_pton(AF_INET6, buf, a.bytes) == 1)
		a.family = SLUICE_FAMILY_V6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

void sluice_addr_format(const struct sluice_addr *a, char *buf, size_t len)
{
	if (!len)
		return;
	if (a->family == SLUICE_FAMILY_V4) {
		if (!inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len))
			buf[0] = '\0';
	} else if (a->family == SLUICE_FAMILY_V6) {
		if (!inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len))
			buf[0] = '\0';
	} else {
		snprintf(buf, len, "?");
	}
}

bool sluice_addr_equal(const struct sluice_addr *a, const struct sluice_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Parse a decimal port 0..65535 that makes up the whole string. */
static int port_parse(const char *s, __u16 *port)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

int sluice_endpoint_parse(const char *s, struct sluice_addr *addr, __u16 *port)
{
	char buf[SLUICE_ENDPOINT_STRLEN];
	struct sluice_addr a;
	const char *colon;
	__u16 p;
	size_t n;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		/* An unbracketed IPv6 address has several colons: ambiguous. */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
	}
	n = (size_t)(colon - s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sluice_addr_parse(buf, &a) < 0 || port_parse(colon + 1, &p) < 0)
		return -EINVAL;
	*addr = a;
	*port = p;
	return 0;
}

void sluice_endpoint_format(const struct sluice_addr *addr, __u16 port, char *buf, size_t len)
{
	char a[SLUICE_ADDR_STRLEN];

	sluice_addr_format(addr, a, sizeof(a));
	if (addr->family == SLUICE_FAMILY_V6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

int sluice_proto_parse(const char *s, __u8 *proto)
{
	if (s && strcmp(s, "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (s && strcmp(s, "udp") == 0)
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

const char *sluice_proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

int sluice_vip_key_parse(const char *s, struct sluice_vip_key *out)
{
	char buf[SLUICE_VIP_STRLEN];
	struct sluice_vip_key k;
	char *slash;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(&k, 0, sizeof(k));
	k.proto = IPPROTO_TCP;
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (sluice_proto_parse(slash + 1, &k.proto) < 0)
			return -EINVAL;
	}
	if (sluice_endpoint_parse(buf, &k.addr, &k.port) < 0)
		return -EINVAL;
	*out = k;
	return 0;
}

void sluice_vip_key_format(const struct sluice_vip_key *k, char *buf, size_t len)
{
	char ep[SLUICE_ENDPOINT_STRLEN];

	sluice_endpoint_format(&k->addr, k->port, ep, sizeof(ep));
	snprintf(buf, len, "%s/%s", ep, sluice_proto_name(k->proto));
}

bool sluice_vip_key_equal(const struct sluice_vip_key *a, const struct sluice_vip_key *b)
{
	return a->port == b->port && a->proto == b->proto && sluice_addr_equal(&a->addr, &b->addr);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sluice_mac_parse(const char *s, __u8 mac[6])
{
	__u8 m[6];

	/* Exactly "xx:xx:xx:xx:xx:xx": 17 characters, one separator kind. */
	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && s[3 * i + 2] != s[2])
			return -EINVAL;
		m[i] = (__u8)(hi << 4 | lo);
	}
	if (s[2] != ':' && s[2] != '-')
		return -EINVAL;
	memcpy(mac, m, 6);
	return 0;
}

int sluice_u64_parse(const char *s, __u64 *out)
{
	unsigned long long v;
	const char *p;
	int base = 10;
	char *end;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	/* Digits only: strtoull would also take spaces, a sign, a second
	 * "0x", and, in the base 0 this replaces, octal ("010" = 8). */
	for (p = s; *p; p++)
		if (base == 16 ? hex_digit(*p) < 0 : *p < '0' || *p > '9')
			return -EINVAL;
	if (p == s)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

void sluice_mac_format(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

socklen_t sluice_addr_to_sockaddr(const struct sluice_addr *addr, __u16 port,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr->family == SLUICE_FAMILY_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr->bytes, 16);
	return sizeof(*sin6);
}
