/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text forms of addresses, endpoints, VIP identities, protocols, MAC
 * addresses and numbers, as the configuration file, the state file, the
 * control socket and sluicectl spell them:
 *
 *   address    10.0.0.10            2001:db8::10  (or [2001:db8::10])
 *   endpoint   10.0.0.10:80         [2001:db8::10]:443
 *   VIP        10.0.0.10:80/tcp     [2001:db8::10]:443/udp   (default tcp)
 *   MAC        02:00:5e:10:00:01
 *   number     4099                 0x1003    (decimal, or hex after 0x)
 *
 * One parser for the daemon and the CLI, so that both agree on what a
 * string names. Parsers return 0 or -EINVAL and never touch *out on error.
 */
#ifndef SLUICE_CTRL_ADDR_H
#define SLUICE_CTRL_ADDR_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "sluice/addr.h"

/* Buffer sizes that hold any formatted value, NUL included. */
#define SLUICE_ADDR_STRLEN 48	  /* INET6_ADDRSTRLEN and then some */
#define SLUICE_ENDPOINT_STRLEN 56 /* "[" addr "]:" port */
#define SLUICE_VIP_STRLEN 64	  /* endpoint "/" proto */
#define SLUICE_MAC_STRLEN 18

/* A VIP's identity: address, port (host order; 0 = every port), protocol. */
struct sluice_vip_key {
	struct sluice_addr addr;
	__u16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* "10.0.0.1", "2001:db8::1" or "[2001:db8::1]". */
int sluice_addr_parse(const char *s, struct sluice_addr *out);
/* Canonical text (inet_ntop). Always NUL-terminates buf. */
void sluice_addr_format(const struct sluice_addr *a, char *buf, size_t len);
bool sluice_addr_equal(const struct sluice_addr *a, const struct sluice_addr *b);

/* "10.0.0.1:80" or "[2001:db8::1]:443"; the port is required (0..65535). */
int sluice_endpoint_parse(const char *s, struct sluice_addr *addr, __u16 *port);
void sluice_endpoint_format(const struct sluice_addr *addr, __u16 port, char *buf, size_t len);

/* "tcp" / "udp" <-> IPPROTO_TCP / IPPROTO_UDP. */
int sluice_proto_parse(const char *s, __u8 *proto);
const char *sluice_proto_name(__u8 proto);

/* An endpoint with an optional "/tcp" or "/udp" (tcp when absent). */
int sluice_vip_key_parse(const char *s, struct sluice_vip_key *out);
void sluice_vip_key_format(const struct sluice_vip_key *k, char *buf, size_t len);
bool sluice_vip_key_equal(const struct sluice_vip_key *a, const struct sluice_vip_key *b);

/* "02:00:5e:10:00:01" (also with '-'); format gives lower-case ':' form. */
int sluice_mac_parse(const char *s, __u8 mac[6]);
void sluice_mac_format(const __u8 mac[6], char *buf, size_t len);

/* An unsigned 64-bit number that makes up the whole string: decimal
 * ("010" is ten), or hexadecimal after "0x" or "0X". No sign, no spaces. */
int sluice_u64_parse(const char *s, __u64 *out);

/* A socket address for addr:port; returns its length. */
socklen_t sluice_addr_to_sockaddr(const struct sluice_addr *addr, __u16 port,
				  struct sockaddr_storage *ss);

#endif /* SLUICE_CTRL_ADDR_H */
