/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path, packet side: which frames the data path would
 * otherwise drop belong to the host's kernel, which reaches them through
 * a TAP per port (dataplane/tap.c, docs/dataplane.md "The exception path").
 *
 * A frame goes to the kernel when all of these hold:
 *  - the data path would drop it as not_vip, unknown_l3, unknown_l4,
 *    ip_options or ipv6_ext (never a malformed, truncated or TTL-0 one,
 *    never VIP traffic dropped for a VIP's reason; before sluiced's first
 *    snapshot TCP and UDP are dropped as no_config, since a VIP's flows
 *    cannot be told apart yet, and only the rest (ARP, ICMP, ...) goes up);
 *  - its Ethernet destination is the port's MAC, the source MAC sluice-dp
 *    sends with (rewritten to the port's, the TAP's own), or a group
 *    address;
 *  - it is not addressed to a VIP: an IP packet whose destination, or an
 *    ARP request / neighbour solicitation whose target, is the address of
 *    any VIP of the snapshot (any port, any protocol) stays in the data
 *    path. ARP and ND for the VIPs, --own-addr and sluiced's source
 *    addresses are answered by sluice-dp before this is asked;
 *  - the lcore's token bucket (--exception-rate) has a token, else it is
 *    dropped as to_kernel_ratelimit.
 * Which of the rest are the host's is the kernel's to judge: it drops what
 * is not for its addresses, as on any NIC.
 */
#ifndef SLUICE_DP_EXCEPTION_H
#define SLUICE_DP_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sluice/packet.h"
#include "sluice/shm.h"
#include "limit.h"
#include "process.h"

#define SLUICE_DP_DEFAULT_EXCEPTION_RATE 10000 /* frames/s per lcore, each way */

/* An address as compared here: family, then the 16 bytes (IPv4 in the
 * first 4, the rest zero). */
struct sluice_dp_exc_addr {
	uint8_t family;
	uint8_t bytes[16];
};

struct sluice_dp_exc {
	struct sluice_dp_limit to_kernel;
	struct sluice_dp_limit from_kernel;
	struct rte_mbuf *m[SLUICE_DP_BURST_MAX]; /* lc->n_kernel of them */
	/* The VIP addresses of generation gen, sorted, built the first time
	 * a frame is judged under it: a lookup is a binary search, not a
	 * walk over every VIP of the snapshot. */
	uint64_t gen;
	bool built;
	unsigned int n_addrs;
	struct sluice_dp_exc_addr addrs[SLUICE_MAX_VIPS];
};

/* Allocate lc->exc on socket when cfg->exception_ports is not 0. Returns 0
 * or -ENOMEM. */
int sluice_dp_exc_init(struct sluice_dp_lcore *lc, int socket, uint64_t now);
void sluice_dp_exc_fini(struct sluice_dp_lcore *lc);

/* True when family/bytes is a VIP's address under snap. */
bool sluice_dp_exc_is_vip_addr(struct sluice_dp_exc *x, const struct sluice_snapshot *snap,
			       uint8_t family, const uint8_t *bytes);

/* The verdict "handed to the kernel", beyond every drop reason (and the
 * data path's "send"). */
#define SLUICE_DP_TO_KERNEL (SLUICE_DROP_MAX + 1)

/*
 * m (classified as p, received on port) is about to be dropped for
 * reason. When it is the kernel's, leave it in lc->exc->m and return
 * SLUICE_DP_TO_KERNEL; otherwise return the drop's reason (reason, or
 * to_kernel_ratelimit when the bucket is empty). lb_mac: the source MAC
 * sluice-dp sends with. (A value, not a pointer to the caller's verdict:
 * taking its address would keep it in memory on the hot path.)
 */
int sluice_dp_exc_verdict(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			  uint16_t port, struct rte_mbuf *m, const struct sluice_pkt *p,
			  const uint8_t *lb_mac, int reason, uint64_t now);

#endif /* SLUICE_DP_EXCEPTION_H */
