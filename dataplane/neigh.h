/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Answering for our own addresses, so that a router can reach the load
 * balancer: ARP replies (IPv4) and neighbour advertisements (IPv6).
 *
 * Own addresses: the snapshot's outer source addresses (global src_v4 /
 * src_v6), the address of every VIP in the snapshot, and the --own-addr
 * list. Replies are built in the request's mbuf and go back out of the
 * port it came from, with the request's VLAN tag.
 *
 * Slow path: a linear scan over at most SLUICE_MAX_VIPS VIPs per request.
 */
#ifndef SLUICE_DP_NEIGH_H
#define SLUICE_DP_NEIGH_H

#include <stdbool.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "sluice/packet.h"
#include "sluice/shm.h"
#include "process.h"

/* True when addr is one of ours under snap (which may be NULL). */
bool sluice_neigh_is_own(const struct sluice_snapshot *snap, const struct sluice_dp_config *cfg,
			 const struct sluice_addr *addr);

/*
 * Turn the ARP request m (classified as p) into the reply for its target
 * from mac. Returns 0 when m is ready to send, or a drop reason
 * (enum sluice_drop_reason) when it must be dropped.
 */
int sluice_neigh_arp_reply(struct rte_mbuf *m, const struct sluice_pkt *p,
			   const struct rte_ether_addr *mac);

/*
 * Turn the neighbour solicitation m (classified as p; its target is
 * p->vip) into the solicited advertisement from mac: validates hop limit
 * 255, code 0 and the ICMPv6 checksum first (RFC 4861 7.1.1). Returns 0 or
 * a drop reason.
 */
int sluice_neigh_nd_reply(struct rte_mbuf *m, const struct sluice_pkt *p,
			  const struct rte_ether_addr *mac);

#endif /* SLUICE_DP_NEIGH_H */
