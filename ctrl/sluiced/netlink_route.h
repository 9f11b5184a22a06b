/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's routing table through rtnetlink (libmnl), for the VIP
 * announcements (routing.c): list the host routes of one protocol in one
 * table, add one, delete one. Synchronous request and acknowledgement on
 * a socket of its own with a receive timeout, so that a wedged kernel
 * answer costs the event loop a bounded wait, never a hang. No policy
 * here: routing.c decides what should be there and retries failures.
 */
#ifndef SLUICED_NETLINK_ROUTE_H
#define SLUICED_NETLINK_ROUTE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/* The route protocol sluiced's routes carry (rtm_protocol): a number no
 * routing daemon of iproute2's list uses; docs/config.md names it, and the
 * package installs /etc/iproute2/rt_protos.d/sluice.conf so that
 * `ip route show proto sluice` works. */
#define NLROUTE_PROTO 211

struct nlroute;

/* One route of the protocol in the table, as the kernel has it. */
struct nlroute_entry {
	struct sluice_addr dst;
	__u8 prefixlen;
	int oif;			/* 0: none */
};

int nlroute_open(struct nlroute **out, char *err, size_t errlen);
/* Accepts NULL. */
void nlroute_close(struct nlroute *nl);

/* The routes of protocol proto in table, IPv4 and IPv6: fn(arg, e) for
 * each. 0 or -errno with the reason in err. */
int nlroute_dump(struct nlroute *nl, __u32 table, __u8 proto,
		 void (*fn)(void *arg, const struct nlroute_entry *e), void *arg, char *err,
		 size_t errlen);

/* Add the host route (/32, /128) to dst via interface oif, or delete the
 * route to dst/prefixlen of protocol proto (via oif; 0: whichever). An add
 * that finds the route there already (EEXIST) fails: another route of
 * another owner may hold the prefix. A delete of a route that is gone
 * already succeeds. */
int nlroute_add_host(struct nlroute *nl, __u32 table, __u8 proto, const struct sluice_addr *dst,
		     int oif, char *err, size_t errlen);
int nlroute_del(struct nlroute *nl, __u32 table, __u8 proto, const struct sluice_addr *dst,
		__u8 prefixlen, int oif, char *err, size_t errlen);

#endif /* SLUICED_NETLINK_ROUTE_H */
