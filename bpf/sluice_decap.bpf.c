/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * sluice's decapsulation for backends whose kernel lacks the ipip / fou
 * modules. XDP on the backend's interface: a frame carrying
 *   IPv4 or IPv6, protocol 4 (IPv4-in-IP) or 41 (IPv6-in-IP), or
 *   IPv4 or IPv6 + UDP to gue_port + an IP packet (what sluice's GUE sends:
 *   the inner packet right after the UDP header, its version nibble says
 *   which family)
 * loses its outer headers: the Ethernet header (and its 802.1Q tag) moves
 * up to sit in front of the inner packet with the inner EtherType, and the
 * kernel receives the inner packet as if it had arrived that way
 * (XDP_PASS). The inner destination is the VIP, which the backend carries
 * on its loopback. Every other frame passes untouched, as does a frame
 * whose outer headers are wrong (bad IPv4 checksum or length, a fragment,
 * an inner version that does not match): the kernel then drops or handles
 * it as it would without this program.
 *
 * Loaded by bpf/cli/sluice_decap_cli.c (`sluice-decap attach IFACE`), which
 * sets gue_port before loading.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice/encap.h"
#include "sluice/packet.h"

/* Outer UDP destination port of GUE, host order; 0: no GUE. */
const volatile __u16 gue_port = 6080;

/* Named counters, per CPU; `sluice-decap status IFACE` sums them. */
struct sluice_decap_stats {
	__u64 ipip;	 /* IPv4/IPv6-in-IP frames decapsulated */
	__u64 gue;	 /* GUE frames decapsulated */
	__u64 malformed; /* looked like ours, wrong outer headers: passed as is */
	__u64 other;	 /* not encapsulated: passed as is */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_decap_stats);
} decap_stats SEC(".maps");

/* What follows the outer headers: 4, 6, or 0 when it is not ours. */
static SLUICE_INLINE int inner_version(const __u8 *inner, const void *data_end)
{
	if ((const void *)(inner + 1) > data_end)
		return 0;
	return *inner >> 4;
}

/*
 * Length of the outer IP (+ UDP) headers at l3 and the inner family in
 * *family, or 0 when the frame is not sluice's encapsulation, -1 when it
 * looks like it but is malformed. l3 is 14 or 18 bytes into the frame.
 */
static SLUICE_INLINE int outer_len(const __u8 *l3, const void *data_end, __u16 ethertype,
				   int *family)
{
	__u8 proto;
	int len, v;

	if (ethertype == SLUICE_ETH_P_IP) {
		const struct sluice_ipv4hdr *ip = (const struct sluice_ipv4hdr *)l3;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->proto;
		if (proto != SLUICE_IPPROTO_IPIP && proto != SLUICE_IPPROTO_IPV6 &&
		    !(proto == SLUICE_IPPROTO_UDP && gue_port))
			return 0;
		if (ip->ver_ihl != 0x45 ||
		    (sluice_ntohs(ip->frag_off) & (SLUICE_IP_MF | SLUICE_IP_OFFSET)) ||
		    sluice_csum_fold(sluice_csum_add(ip, 20, 0)) != 0 ||
		    (long)sluice_ntohs(ip->tot_len) > (const __u8 *)data_end - l3)
			return proto == SLUICE_IPPROTO_UDP ? 0 : -1;
		len = 20;
	} else if (ethertype == SLUICE_ETH_P_IPV6) {
		const struct sluice_ipv6hdr *ip = (const struct sluice_ipv6hdr *)l3;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->nexthdr;
		if (proto != SLUICE_IPPROTO_IPIP && proto != SLUICE_IPPROTO_IPV6 &&
		    !(proto == SLUICE_IPPROTO_UDP && gue_port))
			return 0;
		if ((long)sluice_ntohs(ip->payload_len) + 40 > (const __u8 *)data_end - l3)
			return proto == SLUICE_IPPROTO_UDP ? 0 : -1;
		len = 40;
	} else {
		return 0;
	}

	if (proto == SLUICE_IPPROTO_UDP) {
		const struct sluice_udphdr *udp = (const struct sluice_udphdr *)(l3 + len);

		if ((const void *)(udp + 1) > data_end || udp->dport != sluice_htons(gue_port))
			return 0;
		len += 8;
		v = inner_version(l3 + len, data_end);
		if (v != 4 && v != 6)
			return -1;
	} else {
		v = inner_version(l3 + len, data_end);
		if (v != (proto == SLUICE_IPPROTO_IPIP ? 4 : 6))
			return -1;
	}
	*family = v;
	return len;
}

SEC("xdp")
int sluice_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sluice_ethhdr *eth = data;
	struct sluice_decap_stats *st;
	struct sluice_ethhdr e;
	struct sluice_vlanhdr vh = {0};
	__u32 zero = 0;
	int l2 = 14, len, family = 0;
	__u16 proto;

	st = bpf_map_lookup_elem(&decap_stats, &zero);
	if (!st)
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		goto other;
	e = *eth;
	proto = sluice_ntohs(eth->proto);
	if (proto == SLUICE_ETH_P_8021Q) {
		struct sluice_vlanhdr *tag = (struct sluice_vlanhdr *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			goto other;
		vh = *tag;
		proto = sluice_ntohs(tag->proto);
		l2 = 18;
		len = outer_len((const __u8 *)data + 18, data_end, proto, &family);
	} else {
		len = outer_len((const __u8 *)data + 14, data_end, proto, &family);
	}
	if (len == 0)
		goto other;
	if (len < 0) {
		st->malformed++;
		return XDP_PASS;
	}
	if (len == 20 || len == 40)
		st->ipip++;
	else
		st->gue++;

	/* Drop the outer headers, then write the L2 header back in front of
	 * the inner packet. */
	if (bpf_xdp_adjust_head(ctx, len))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)eth + 18 > data_end)
		return XDP_PASS;
	__builtin_memcpy(eth->dst, e.dst, 6);
	__builtin_memcpy(eth->src, e.src, 6);
	proto = family == 6 ? SLUICE_ETH_P_IPV6 : SLUICE_ETH_P_IP;
	if (l2 == 18) {
		struct sluice_vlanhdr *tag = (struct sluice_vlanhdr *)(eth + 1);

		eth->proto = sluice_htons(SLUICE_ETH_P_8021Q);
		tag->tci = vh.tci;
		tag->proto = sluice_htons(proto);
	} else {
		eth->proto = sluice_htons(proto);
	}
	return XDP_PASS;
other:
	st->other++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
