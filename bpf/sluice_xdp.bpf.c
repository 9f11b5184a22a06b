/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * sluice's XDP data path: the in-kernel twin of the DPDK path. For every
 * frame: classify it with the shared parser (include/sluice/packet.h),
 * match a VIP, find the flow's backend (connection tracking, then the VIP's
 * lookup table), encapsulate with the shared writer (include/sluice/encap.h)
 * and send it back out of the interface it came in on (XDP_TX, one-armed).
 *
 * Verdicts (docs/xdp.md):
 *   TCP/UDP or frag-needed/packet-too-big for a VIP  -> encapsulate, XDP_TX
 *   ... too big for the egress MTU after encapsulation -> ICMP reply, XDP_TX
 *                                                        (DF clear or an ICMP
 *                                                        error: XDP_DROP)
 *   ... VIP with no backend                            -> XDP_DROP no_backend
 *   malformed / truncated / TTL 0                      -> XDP_DROP + reason
 *   anything else (not for a VIP, ARP, ND, IPv4
 *   options, other protocols, nothing published)       -> XDP_PASS + reason
 * The DPDK path drops what XDP passes: here the host's own traffic shares
 * the interface and must reach the kernel.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_lb.h"

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	return sluice_xdp_process(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
