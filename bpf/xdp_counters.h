/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * Counting in the XDP program. Every counter is per CPU (no atomics) and
 * named (xdp_abi.h); every verdict counts exactly one of xdp_pass,
 * xdp_drop or tx_packets, plus its reason.
 */
#ifndef SLUICE_XDP_COUNTERS_H
#define SLUICE_XDP_COUNTERS_H

#include "xdp_maps.h"

/* This CPU's counters; NULL only if the map is broken. */
static SLUICE_INLINE struct sluice_xdp_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

static SLUICE_INLINE int count_drop(struct sluice_xdp_stats *st, __u8 reason)
{
	if (reason < SLUICE_DROP_MAX)
		st->lcore.drops[reason]++;
	st->xdp.xdp_drop++;
	return XDP_DROP;
}

/* A packet handed to the kernel, counted by why it is not load-balanced
 * (the drop-reason names: not_vip, ip_options, unknown_l3, ...). */
static SLUICE_INLINE int count_pass(struct sluice_xdp_stats *st, __u8 reason)
{
	if (reason < SLUICE_DROP_MAX)
		st->xdp.pass[reason]++;
	st->xdp.xdp_pass++;
	return XDP_PASS;
}

/* A packet of a VIP forwarded (received bytes, as the DPDK path). */
static SLUICE_INLINE void count_vip(struct sluice_xdp_stats *st, __u32 vip_id, __u32 bytes)
{
	if (vip_id < SLUICE_MAX_VIPS) {
		st->vip[vip_id].packets++;
		st->vip[vip_id].bytes += bytes;
	}
}

/* A frame sent back out (XDP_TX): sent bytes for tx_bytes; for a packet
 * forwarded to backend_id (>= 0), the received bytes count for the backend,
 * as for its VIP (the DPDK path counts the same). */
static SLUICE_INLINE int count_tx(struct sluice_xdp_stats *st, int backend_id, __u32 rx_bytes,
				  __u32 tx_bytes)
{
	st->lcore.tx_packets++;
	st->lcore.tx_bytes += tx_bytes;
	if (backend_id >= 0) {
		__u32 id = (__u32)backend_id;
		struct sluice_counter_pair *b = bpf_map_lookup_elem(&backend_stats, &id);

		if (b) {
			b->packets++;
			b->bytes += rx_bytes;
		}
	}
	return XDP_TX;
}

#endif /* SLUICE_XDP_COUNTERS_H */
