/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * The XDP program's work on one frame, sluice_xdp_process(): the body of
 * bpf/sluice_xdp.bpf.c, in a header so that the benchmark's wrapper
 * (bpf/xdp_bench.bpf.c) times exactly the same code. Verdicts: see
 * sluice_xdp.bpf.c and docs/xdp.md.
 */
#ifndef SLUICE_XDP_LB_H
#define SLUICE_XDP_LB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice/encap.h"
#include "sluice/packet.h"

#include "xdp_counters.h"
#include "xdp_flow.h"
#include "xdp_maps.h"

/* The packet is too big for the egress MTU once encapsulated. Answer a TCP
 * or UDP packet that may not be fragmented with frag-needed / packet-too-
 * big (from the VIP, advertising mtu); drop anything else. Either way the
 * packet counts as a too_big drop. */
static SLUICE_INLINE int too_big(struct xdp_md *ctx, struct sluice_xdp_stats *st,
				 const struct sluice_pkt *p, __u16 mtu)
{
	__u8 quote[SLUICE_QUOTE_MAX];
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int want = sluice_too_big_len(p);

	if (p->kind != SLUICE_PKT_FLOW || !p->ip_df)
		return count_drop(st, SLUICE_DROP_TOO_BIG);
	if (sluice_too_big_quote(data, data_end, p, quote) < 0)
		return count_drop(st, SLUICE_DROP_TOO_BIG);
	if (bpf_xdp_adjust_tail(ctx, want - (int)(data_end - data))) {
		st->xdp.adjust_failed++;
		return count_drop(st, SLUICE_DROP_NO_MBUF);
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (sluice_too_big_write(data, data_end, p, quote, mtu) < 0)
		return count_drop(st, SLUICE_DROP_TOO_BIG);
	st->lcore.drops[SLUICE_DROP_TOO_BIG]++;
	st->lcore.icmp_too_big_sent++;
	return count_tx(st, -1, 0, (__u32)want);
}

/* A TCP/UDP packet or ICMP error, possibly for a VIP. */
static SLUICE_INLINE int forward(struct xdp_md *ctx, struct sluice_xdp_stats *st,
				 const struct sluice_pkt *p, __u32 len)
{
	const struct sluice_global_cfg *g;
	const struct sluice_backend *be;
	const struct sluice_xdp_cfg *c;
	struct sluice_global_cfg own;
	struct vip_hit vip;
	void *data, *data_end;
	__u32 version = 0, be_id = 0, end;
	int overhead, hashed = 0;
	__u8 why = SLUICE_DROP_NO_BACKEND;
	__u64 hash = 0;
	__u16 mtu;

	c = cfg_get(&version);
	if (!c)
		return count_pass(st, SLUICE_DROP_NO_CONFIG);
	if (vip_find(p, c, version, &vip) < 0)
		return count_pass(st, SLUICE_DROP_NOT_VIP);

	be = flow_backend(st, p, &vip, &be_id, &hash, &hashed, &why);
	if (!be)
		return count_drop(st, why);
	/* GUE's source port and IPv6's flow label come from the flow hash;
	 * IPv4 IP-in-IP and L2 DSR do not use it. */
	if (!hashed && (vip.mode == SLUICE_FWD_GUE || be->addr.family == SLUICE_FAMILY_V6))
		hash = sluice_flow_hash(&p->key, vip.hash_seed);

	overhead = sluice_encap_overhead(vip.mode, be->addr.family);
	mtu = c->g.mtu ? c->g.mtu : SLUICE_DEFAULT_MTU;
	if (!sluice_encap_fits(p, overhead, mtu)) {
		if (mtu < overhead) /* nothing fits: nothing to advertise */
			return count_drop(st, SLUICE_DROP_TOO_BIG);
		return too_big(ctx, st, p, (__u16)(mtu - overhead));
	}
	/* Ethernet padding (or trailing bytes) is not part of the packet. */
	end = (__u32)p->l3_off + p->l3_len;
	if (len > end && bpf_xdp_adjust_tail(ctx, (int)end - (int)len)) {
		st->xdp.adjust_failed++;
		return count_drop(st, SLUICE_DROP_NO_MBUF);
	}
	if (overhead && bpf_xdp_adjust_head(ctx, -overhead)) {
		st->xdp.adjust_failed++;
		return count_drop(st, SLUICE_DROP_NO_MBUF);
	}
	g = &c->g;
	if (!(g->lb_mac[0] | g->lb_mac[1] | g->lb_mac[2] | g->lb_mac[3] | g->lb_mac[4] |
	      g->lb_mac[5])) {
		/* No configured source MAC: the interface's, to which the
		 * frame was addressed. */
		own = *g;
		__builtin_memcpy(own.lb_mac, p->eth_dst, 6);
		g = &own;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (sluice_encap_write(data, data_end, p, vip.mode, be, g, hash) < 0)
		return count_drop(st, SLUICE_DROP_MALFORMED); /* cannot happen: it grew */
	count_vip(st, vip.id, len);
	return count_tx(st, (int)be_id, len, (__u32)(data_end - data));
}

/* Classify, count and forward one frame; returns the XDP verdict. */
static SLUICE_INLINE int sluice_xdp_process(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = (__u32)(data_end - data);
	struct sluice_xdp_stats *st;
	struct sluice_pkt p;

	st = stats_get();
	if (!st)
		return XDP_PASS;
	st->lcore.rx_packets++;
	st->lcore.rx_bytes += len;

	switch (sluice_parse(data, data_end, &p)) {
	case SLUICE_PKT_FLOW:
	case SLUICE_PKT_ICMP_ERR:
		return forward(ctx, st, &p, len);
	case SLUICE_PKT_DROP:
		return count_drop(st, p.drop_reason);
	case SLUICE_PKT_ARP:
		st->xdp.pass_arp++;
		st->xdp.xdp_pass++;
		return XDP_PASS;
	case SLUICE_PKT_ND:
		st->xdp.pass_nd++;
		st->xdp.xdp_pass++;
		return XDP_PASS;
	default:
		return count_pass(st, p.drop_reason);
	}
}

#endif /* SLUICE_XDP_LB_H */
