/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building what sluice sends: the encapsulation toward a backend (IP-in-IP,
 * GUE, L2 DSR) and the ICMP "fragmentation needed" / "packet too big" reply
 * to a client. Shared by the DPDK data plane and the XDP program, so both
 * emit the same bytes for the same packet and configuration; every field
 * is a function of the packet, the backend and the global settings (no
 * counters, no clocks: IPv4 ID is 0 with DF set).
 *
 * Both functions write into a buffer the caller has already resized
 * (rte_pktmbuf_prepend / bpf_xdp_adjust_head, trim / adjust_tail), because
 * resizing is the one step the two environments do differently.
 * Compiles for user space and for BPF.
 */
#ifndef SLUICE_ENCAP_H
#define SLUICE_ENCAP_H

#include <linux/types.h>

#include "model.h"
#include "packet.h"

#define SLUICE_OUTER_TTL 64
#define SLUICE_GUE_SPORT_BASE 0xC000 /* outer source ports 49152..65535 */
#define SLUICE_IPV6_MIN_MTU 1280
#define SLUICE_QUOTE_V4 (20 + 8)     /* IPv4 header + 8 bytes, as RFC 792 asks */
#define SLUICE_QUOTE_V6 (40 + 8)     /* a fixed quote: checksummable in BPF */
#define SLUICE_QUOTE_MAX SLUICE_QUOTE_V6

/* One's-complement sum of len bytes (len even and a compile-time constant
 * after inlining, so BPF sees an unrolled loop). */
static SLUICE_INLINE __u32 sluice_csum_add(const void *buf, int len, __u32 sum)
{
	const __u16 *w = (const __u16 *)buf;

#if defined(__clang__)
#pragma unroll
#else
#pragma GCC unroll 64
#endif
	for (int i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

static SLUICE_INLINE __u16 sluice_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Bytes added in front of the IP packet to reach a backend of `family`. */
static SLUICE_INLINE int sluice_encap_overhead(__u8 mode, __u8 family)
{
	int ip = family == SLUICE_FAMILY_V6 ? 40 : 20;

	if (mode == SLUICE_FWD_IPIP)
		return ip;
	if (mode == SLUICE_FWD_GUE)
		return ip + 8;
	return 0; /* L2 DSR */
}

/* Outer UDP source port of GUE: from the flow hash, so backends' RSS
 * spreads flows across their queues. */
static SLUICE_INLINE __be16 sluice_gue_sport(__u64 hash)
{
	return sluice_htons(SLUICE_GUE_SPORT_BASE | (__u16)((hash >> 32) & 0x3FFF));
}

/* Ethernet (+ the received 802.1Q tag) at data. */
static SLUICE_INLINE int sluice_write_l2(__u8 *data, const __u8 *data_end,
					 const struct sluice_pkt *p, const __u8 *dst,
					 const __u8 *src, __u16 proto)
{
	struct sluice_ethhdr *eth = (struct sluice_ethhdr *)data;

	if ((const __u8 *)(eth + 1) + 4 > data_end)
		return -1;
	__builtin_memcpy(eth->dst, dst, 6);
	__builtin_memcpy(eth->src, src, 6);
	if (p->has_vlan) {
		struct sluice_vlanhdr *vh = (struct sluice_vlanhdr *)(eth + 1);

		eth->proto = sluice_htons(SLUICE_ETH_P_8021Q);
		vh->tci = p->vlan_tci;
		vh->proto = sluice_htons(proto);
	} else {
		eth->proto = sluice_htons(proto);
	}
	return 0;
}

/* Two bytes as a 16-bit load of them would see them (either byte order). */
static SLUICE_INLINE __u16 sluice_bytes16(__u8 first, __u8 second)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u16)(first | second << 8);
#else
	return (__u16)(first << 8 | second);
#endif
}

static SLUICE_INLINE void sluice_write_ipv4(struct sluice_ipv4hdr *ip, __u8 tos, __u16 tot_len,
					    __u16 frag, __u8 proto, const __u8 *saddr,
					    const __u8 *daddr)
{
	__u32 s, d, sum;

	__builtin_memcpy(&s, saddr, 4);
	__builtin_memcpy(&d, daddr, 4);
	ip->ver_ihl = 0x45;
	ip->tos = tos;
	ip->tot_len = sluice_htons(tot_len);
	ip->id = 0;
	ip->frag_off = sluice_htons(frag);
	ip->ttl = SLUICE_OUTER_TTL;
	ip->proto = proto;
	__builtin_memcpy(ip->saddr, &s, 4);
	__builtin_memcpy(ip->daddr, &d, 4);
	/* The checksum from the values, not by reading the header back: a
	 * 16-bit load over two byte stores cannot be forwarded from the store
	 * buffer and waits for them (perf showed the stall). The same words,
	 * so the same sum as sluice_csum_add() over the header. */
	sum = (__u32)sluice_bytes16(0x45, tos) + sluice_htons(tot_len) + sluice_htons(frag) +
	      sluice_bytes16(SLUICE_OUTER_TTL, proto) + (s & 0xffff) + (s >> 16) + (d & 0xffff) +
	      (d >> 16);
	ip->check = sluice_csum_fold(sum);
}

static SLUICE_INLINE void sluice_write_ipv6(struct sluice_ipv6hdr *ip, __u8 tclass, __u32 flow,
					    __u16 payload_len, __u8 nexthdr, const __u8 *saddr,
					    const __u8 *daddr)
{
	ip->ver_tc_flow[0] = sluice_htons(6u << 12 | (__u32)tclass << 4 | ((flow >> 16) & 0xF));
	ip->ver_tc_flow[1] = sluice_htons(flow & 0xFFFF);
	ip->payload_len = sluice_htons(payload_len);
	ip->nexthdr = nexthdr;
	ip->hop_limit = SLUICE_OUTER_TTL;
	__builtin_memcpy(ip->saddr, saddr, 16);
	__builtin_memcpy(ip->daddr, daddr, 16);
}

/*
 * Encapsulate toward backend be. The caller has grown the frame at its head
 * by sluice_encap_overhead(vip mode, be family) bytes (nothing for L2 DSR):
 * the received L2 header now sits at that offset and the IP packet after
 * it. Writes the new L2 header and outer headers in front of the IP packet.
 * Returns 0, or -1 if the frame is shorter than the headers.
 */
static SLUICE_INLINE int sluice_encap_write(__u8 *data, const __u8 *data_end,
					    const struct sluice_pkt *p, __u8 mode,
					    const struct sluice_backend *be,
					    const struct sluice_global_cfg *g, __u64 hash)
{
	__u8 inner = p->family == SLUICE_FAMILY_V6 ? SLUICE_IPPROTO_IPV6 : SLUICE_IPPROTO_IPIP;
	__u8 *outer = data + (p->has_vlan ? 18 : 14);
	int gue = mode == SLUICE_FWD_GUE;

	if (mode == SLUICE_FWD_L2DSR)
		return sluice_write_l2(data, data_end, p, be->mac, g->lb_mac,
				       p->family == SLUICE_FAMILY_V6 ? SLUICE_ETH_P_IPV6
								     : SLUICE_ETH_P_IP);
	if (be->addr.family == SLUICE_FAMILY_V6) {
		struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)outer;
		struct sluice_udphdr *udp = (struct sluice_udphdr *)(ip + 1);

		if ((const __u8 *)(udp + 1) > data_end)
			return -1;
		if (sluice_write_l2(data, data_end, p, g->nexthop_mac, g->lb_mac,
				    SLUICE_ETH_P_IPV6) < 0)
			return -1;
		sluice_write_ipv6(ip, p->tos, (__u32)hash, p->l3_len + (gue ? 8 : 0),
				  gue ? SLUICE_IPPROTO_UDP : inner, g->src_v6.bytes, be->addr.bytes);
		if (gue) {
			/* A zero UDP checksum over IPv6 is allowed for tunnels
			 * (RFC 6935/6936); sluice's decap accepts it. */
			udp->sport = sluice_gue_sport(hash);
			udp->dport = g->gue_port;
			udp->len = sluice_htons(p->l3_len + 8);
			udp->check = 0;
		}
		return 0;
	} else {
		struct sluice_ipv4hdr *ip = (struct sluice_ipv4hdr *)outer;
		struct sluice_udphdr *udp = (struct sluice_udphdr *)(ip + 1);

		if ((const __u8 *)(udp + 1) > data_end)
			return -1;
		if (sluice_write_l2(data, data_end, p, g->nexthop_mac, g->lb_mac,
				    SLUICE_ETH_P_IP) < 0)
			return -1;
		sluice_write_ipv4(ip, p->tos, p->l3_len + (gue ? 28 : 20), SLUICE_IP_DF,
				  gue ? SLUICE_IPPROTO_UDP : inner, g->src_v4.bytes, be->addr.bytes);
		if (gue) {
			udp->sport = sluice_gue_sport(hash);
			udp->dport = g->gue_port;
			udp->len = sluice_htons(p->l3_len + 8);
			udp->check = 0; /* optional over IPv4 */
		}
		return 0;
	}
}

/* True when the encapsulated packet fits the egress MTU. */
static SLUICE_INLINE int sluice_encap_fits(const struct sluice_pkt *p, int overhead, __u16 mtu)
{
	return (__u32)p->l3_len + (__u32)overhead <= mtu;
}

/* ---- ICMP too big, back to the client ---- */

/* Length of the whole reply frame. */
static SLUICE_INLINE int sluice_too_big_len(const struct sluice_pkt *p)
{
	int l2 = p->has_vlan ? 18 : 14;

	return p->family == SLUICE_FAMILY_V6 ? l2 + 40 + 8 + SLUICE_QUOTE_V6
					     : l2 + 20 + 8 + SLUICE_QUOTE_V4;
}

/* Copy what the reply quotes (the start of the offending IP packet) out of
 * the frame before the caller trims it. Returns 0 or -1. */
static SLUICE_INLINE int sluice_too_big_quote(const __u8 *data, const __u8 *data_end,
					      const struct sluice_pkt *p,
					      __u8 quote[SLUICE_QUOTE_MAX])
{
	const __u8 *l3 = data + (p->has_vlan ? 18 : 14);

	if (p->family == SLUICE_FAMILY_V6) {
		if (l3 + SLUICE_QUOTE_V6 > data_end)
			return -1;
		__builtin_memcpy(quote, l3, SLUICE_QUOTE_V6);
	} else {
		if (l3 + SLUICE_QUOTE_V4 > data_end)
			return -1;
		__builtin_memcpy(quote, l3, SLUICE_QUOTE_V4);
	}
	return 0;
}

/*
 * Write the ICMP frag-needed (IPv4) or packet-too-big (IPv6) reply into a
 * frame of exactly sluice_too_big_len(p) bytes: from the VIP to the client,
 * through the router it came from, advertising mtu (what fits after
 * encapsulation; at least 1280 for IPv6). Returns 0 or -1.
 */
static SLUICE_INLINE int sluice_too_big_write(__u8 *data, const __u8 *data_end,
					      const struct sluice_pkt *p,
					      const __u8 quote[SLUICE_QUOTE_MAX], __u16 mtu)
{
	__u8 *l3 = data + (p->has_vlan ? 18 : 14);

	if (p->family == SLUICE_FAMILY_V6) {
		struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)l3;
		struct sluice_icmphdr *ic = (struct sluice_icmphdr *)(ip + 1);
		__u8 *q = (__u8 *)(ic + 1);
		__u32 sum;

		if (q + SLUICE_QUOTE_V6 > data_end)
			return -1;
		if (sluice_write_l2(data, data_end, p, p->eth_src, p->eth_dst, SLUICE_ETH_P_IPV6) <
		    0)
			return -1;
		/* From the VIP (the quoted destination) to the client. */
		sluice_write_ipv6(ip, 0, 0, 8 + SLUICE_QUOTE_V6, SLUICE_IPPROTO_ICMPV6, quote + 24,
				  quote + 8);
		ic->type = SLUICE_ICMPV6_PKT_TOOBIG;
		ic->code = 0;
		ic->check = 0;
		ic->data[0] = 0; /* the MTU is 32 bits; ours fits in the low 16 */
		ic->data[1] = sluice_htons(mtu < SLUICE_IPV6_MIN_MTU ? SLUICE_IPV6_MIN_MTU : mtu);
		__builtin_memcpy(q, quote, SLUICE_QUOTE_V6);
		/* Pseudo-header: addresses, upper-layer length, next header. */
		sum = sluice_csum_add(ip->saddr, 32, 0);
		sum += sluice_htons(8 + SLUICE_QUOTE_V6);
		sum += sluice_htons(SLUICE_IPPROTO_ICMPV6);
		sum = sluice_csum_add(ic, 8 + SLUICE_QUOTE_V6, sum);
		ic->check = sluice_csum_fold(sum);
	} else {
		struct sluice_ipv4hdr *ip = (struct sluice_ipv4hdr *)l3;
		struct sluice_icmphdr *ic = (struct sluice_icmphdr *)(ip + 1);
		__u8 *q = (__u8 *)(ic + 1);

		if (q + SLUICE_QUOTE_V4 > data_end)
			return -1;
		if (sluice_write_l2(data, data_end, p, p->eth_src, p->eth_dst, SLUICE_ETH_P_IP) < 0)
			return -1;
		sluice_write_ipv4(ip, 0, 20 + 8 + SLUICE_QUOTE_V4, 0, SLUICE_IPPROTO_ICMP,
				  quote + 16, quote + 12);
		ic->type = SLUICE_ICMP_DEST_UNREACH;
		ic->code = SLUICE_ICMP_FRAG_NEEDED;
		ic->check = 0;
		ic->data[0] = 0;
		ic->data[1] = sluice_htons(mtu);
		__builtin_memcpy(q, quote, SLUICE_QUOTE_V4);
		ic->check = sluice_csum_fold(sluice_csum_add(ic, 8 + SLUICE_QUOTE_V4, 0));
	}
	return 0;
}

#endif /* SLUICE_ENCAP_H */
