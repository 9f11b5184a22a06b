/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * sluice's decapsulation for backends whose kernel lacks the ipip / fou
 * modules. XDP on the backend's interface: a frame carrying
 *   IPv4 or IPv6, protocol 4 (IPv4-in-IP) or 41 (IPv6-in-IP), or
 *   IPv4 or IPv6 + UDP to the GUE port + an IP packet (what sluice's GUE
 *   sends: the inner packet right after the UDP header, its version nibble
 *   says which family)
 * loses its outer headers: the Ethernet header (and its 802.1Q tag) moves
 * up to sit in front of the inner packet with the inner EtherType, and the
 * kernel receives the inner packet as if it had arrived that way
 * (XDP_PASS).
 *
 * Decapsulating hands the kernel a packet whose source address nobody
 * checked, so it is done only for frames that can only be sluice's:
 *   - the outer source is a load balancer's (allowed_sources, unless
 *     SLUICE_DECAP_ANY_SOURCE), and the outer destination is this host
 *     (local_addrs);
 *   - the inner packet is exactly as long as the outer header says, is not
 *     itself encapsulated (no second decapsulation, here or by the kernel's
 *     own tunnels), and is for a VIP this host serves (vips, or any of
 *     local_addrs with SLUICE_DECAP_VIP_ANY_LOCAL).
 * Anything else that is encapsulated is refused: dropped, or with
 * SLUICE_DECAP_PASS_REFUSED passed untouched, and counted by reason
 * (decap_abi.h). Frames that are not encapsulated pass untouched.
 *
 * Loaded by bpf/cli/sluice_decap_cli.c (`sluice-decap attach IFACE`), which
 * fills the maps before attaching and pins them per interface.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "decap_abi.h"
#include "sluice/encap.h"
#include "sluice/packet.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_decap_config);
} decap_config SEC(".maps");

/* Per CPU; `sluice-decap status IFACE` sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_decap_stats);
} decap_stats SEC(".maps");

/* The load balancers' `source` addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_DECAP_MAX_SOURCES);
	__type(key, struct sluice_addr);
	__type(value, __u8);
} allowed_sources SEC(".maps");

/*
 * This host's addresses, written by the loader (from the host's interfaces
 * at attach and on `refresh`, or as given with --local) rather than asked
 * of the kernel per packet with bpf_fib_lookup(): the FIB answers "not
 * forwarded" for a local route and for broadcast, multicast and anycast
 * ones alike, costs a route lookup per frame, and cannot be shown by
 * `status` or set by a test. The price is that an address added later is
 * refused (counted not_to_host) until `sluice-decap refresh`.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_DECAP_MAX_LOCAL);
	__type(key, struct sluice_addr);
	__type(value, __u8);
} local_addrs SEC(".maps");

/* The VIPs this backend serves (--vip). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_DECAP_MAX_VIPS);
	__type(key, struct sluice_addr);
	__type(value, __u8);
} vips SEC(".maps");

static SLUICE_INLINE int addr_in(void *set, int family, const __u8 *a)
{
	struct sluice_addr k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = family;
	if (family == SLUICE_FAMILY_V4)
		__builtin_memcpy(k.bytes, a, 4);
	else
		__builtin_memcpy(k.bytes, a, 16);
	return bpf_map_lookup_elem(set, &k) != 0;
}

/* What follows the outer headers: 4, 6, or 0 when it is not ours. */
static SLUICE_INLINE int inner_version(const __u8 *inner, const void *data_end)
{
	if ((const void *)(inner + 1) > data_end)
		return 0;
	return *inner >> 4;
}

/* Negative verdicts of check(): refused for this reason. */
enum {
	REFUSE_MALFORMED = -1,
	REFUSE_NOT_FROM_LB = -2,
	REFUSE_NOT_TO_HOST = -3,
	REFUSE_INNER_LEN = -4,
	REFUSE_NESTED = -5,
	REFUSE_NOT_VIP = -6,
};

/*
 * Whether the inner packet (version family, at inner) is encapsulation
 * again: IPv4/IPv6-in-IP, or UDP to the GUE port. Behind an IPv6 fragment
 * header the protocol is still visible; a later fragment of UDP has no
 * port to look at and is let through (the LB never fragments GUE itself).
 */
static SLUICE_INLINE int nested(const __u8 *inner, const void *data_end, int family,
				__u16 gue_port)
{
	const struct sluice_udphdr *udp;
	__u8 proto;

	if (family == 4) {
		const struct sluice_ipv4hdr *ip = (const struct sluice_ipv4hdr *)inner;
		__u32 ihl;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->proto;
		if (proto != SLUICE_IPPROTO_UDP)
			return proto == SLUICE_IPPROTO_IPIP || proto == SLUICE_IPPROTO_IPV6;
		if (!gue_port || (sluice_ntohs(ip->frag_off) & SLUICE_IP_OFFSET))
			return 0;
		ihl = (ip->ver_ihl & 0xf) * 4;
		if (ihl < 20)
			return 0;
		udp = (const struct sluice_udphdr *)(inner + ihl);
	} else {
		const struct sluice_ipv6hdr *ip = (const struct sluice_ipv6hdr *)inner;
		int off = 40;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->nexthdr;
		if (proto == SLUICE_IPPROTO_FRAGMENT) {
			const struct sluice_ipv6_fraghdr *fh =
				(const struct sluice_ipv6_fraghdr *)(ip + 1);

			if ((const void *)(fh + 1) > data_end)
				return 0;
			proto = fh->nexthdr;
			if (sluice_ntohs(fh->frag_off) & ~7)
				return proto == SLUICE_IPPROTO_IPIP || proto == SLUICE_IPPROTO_IPV6;
			off += 8;
		}
		if (proto != SLUICE_IPPROTO_UDP)
			return proto == SLUICE_IPPROTO_IPIP || proto == SLUICE_IPPROTO_IPV6;
		if (!gue_port)
			return 0;
		udp = (const struct sluice_udphdr *)(inner + off);
	}
	/* A first fragment or datagram too short for the port: not GUE. */
	if ((const void *)(udp + 1) > data_end)
		return 0;
	return udp->dport == sluice_htons(gue_port);
}

/*
 * The frame's outer headers at l3 (14 or 18 bytes into the frame): the
 * length of the outer IP (+ UDP) headers to take off, with the inner family
 * in *family; 0 when the frame is not sluice's encapsulation (passed as
 * is); a REFUSE_ reason otherwise.
 */
static SLUICE_INLINE int check(const __u8 *l3, const void *data_end, __u16 ethertype,
			       const struct sluice_decap_config *cfg, int *family)
{
	const __u8 *saddr, *daddr, *inner, *inner_daddr;
	int outer_family, hlen, v;
	__u32 payload, inner_len;
	__u8 proto;

	if (ethertype == SLUICE_ETH_P_IP) {
		const struct sluice_ipv4hdr *ip = (const struct sluice_ipv4hdr *)l3;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->proto;
		if (proto != SLUICE_IPPROTO_IPIP && proto != SLUICE_IPPROTO_IPV6 &&
		    !(proto == SLUICE_IPPROTO_UDP && cfg->gue_port))
			return 0;
		if (ip->ver_ihl != 0x45 ||
		    (sluice_ntohs(ip->frag_off) & (SLUICE_IP_MF | SLUICE_IP_OFFSET)) ||
		    sluice_csum_fold(sluice_csum_add(ip, 20, 0)) != 0 ||
		    sluice_ntohs(ip->tot_len) < 20 ||
		    (long)sluice_ntohs(ip->tot_len) > (const __u8 *)data_end - l3)
			return proto == SLUICE_IPPROTO_UDP ? 0 : REFUSE_MALFORMED;
		payload = sluice_ntohs(ip->tot_len) - 20;
		saddr = ip->saddr;
		daddr = ip->daddr;
		outer_family = SLUICE_FAMILY_V4;
		hlen = 20;
	} else if (ethertype == SLUICE_ETH_P_IPV6) {
		const struct sluice_ipv6hdr *ip = (const struct sluice_ipv6hdr *)l3;

		if ((const void *)(ip + 1) > data_end)
			return 0;
		proto = ip->nexthdr;
		if (proto != SLUICE_IPPROTO_IPIP && proto != SLUICE_IPPROTO_IPV6 &&
		    !(proto == SLUICE_IPPROTO_UDP && cfg->gue_port))
			return 0;
		if ((long)sluice_ntohs(ip->payload_len) + 40 > (const __u8 *)data_end - l3)
			return proto == SLUICE_IPPROTO_UDP ? 0 : REFUSE_MALFORMED;
		payload = sluice_ntohs(ip->payload_len);
		saddr = ip->saddr;
		daddr = ip->daddr;
		outer_family = SLUICE_FAMILY_V6;
		hlen = 40;
	} else {
		return 0;
	}

	if (proto == SLUICE_IPPROTO_UDP) {
		const struct sluice_udphdr *udp = (const struct sluice_udphdr *)(l3 + hlen);

		if ((const void *)(udp + 1) > data_end || udp->dport != sluice_htons(cfg->gue_port))
			return 0;
		if (payload < 8)
			return REFUSE_MALFORMED;
		hlen += 8;
		v = inner_version(l3 + hlen, data_end);
		if (v != 4 && v != 6)
			return REFUSE_MALFORMED;
		/* The UDP length is a second statement of the inner length. */
		if (sluice_ntohs(udp->len) != payload)
			return REFUSE_INNER_LEN;
		payload -= 8;
	} else {
		v = inner_version(l3 + hlen, data_end);
		if (v != (proto == SLUICE_IPPROTO_IPIP ? 4 : 6))
			return REFUSE_MALFORMED;
	}

	/* The trust boundary: from a load balancer, to this host. */
	if (!(cfg->flags & SLUICE_DECAP_ANY_SOURCE) &&
	    !addr_in(&allowed_sources, outer_family, saddr))
		return REFUSE_NOT_FROM_LB;
	if (!addr_in(&local_addrs, outer_family, daddr))
		return REFUSE_NOT_TO_HOST;

	/* The inner packet. A shorter or longer one than the outer header
	 * promised would have the kernel trim or read past what the load
	 * balancer sent. */
	inner = l3 + hlen;
	if (v == 4) {
		const struct sluice_ipv4hdr *ip = (const struct sluice_ipv4hdr *)inner;

		if ((const void *)(ip + 1) > data_end)
			return REFUSE_INNER_LEN;
		inner_len = sluice_ntohs(ip->tot_len);
		inner_daddr = ip->daddr;
	} else {
		const struct sluice_ipv6hdr *ip = (const struct sluice_ipv6hdr *)inner;

		if ((const void *)(ip + 1) > data_end)
			return REFUSE_INNER_LEN;
		inner_len = (__u32)sluice_ntohs(ip->payload_len) + 40;
		inner_daddr = ip->daddr;
	}
	if (inner_len != payload)
		return REFUSE_INNER_LEN;
	if (nested(inner, data_end, v, cfg->gue_port))
		return REFUSE_NESTED;
	if (!addr_in(cfg->flags & SLUICE_DECAP_VIP_ANY_LOCAL ? (void *)&local_addrs : (void *)&vips,
		     v, inner_daddr))
		return REFUSE_NOT_VIP;
	*family = v;
	return hlen;
}

SEC("xdp")
int sluice_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sluice_ethhdr *eth = data;
	const struct sluice_decap_config *cfg;
	struct sluice_decap_stats *st;
	struct sluice_ethhdr e;
	struct sluice_vlanhdr vh = {0};
	__u32 zero = 0;
	int l2 = 14, len, family = 0;
	__u16 proto;

	st = bpf_map_lookup_elem(&decap_stats, &zero);
	cfg = bpf_map_lookup_elem(&decap_config, &zero);
	if (!st || !cfg)
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
		len = check((const __u8 *)data + 18, data_end, proto, cfg, &family);
	} else {
		len = check((const __u8 *)data + 14, data_end, proto, cfg, &family);
	}
	if (len == 0)
		goto other;
	if (len < 0) {
		switch (len) {
		case REFUSE_MALFORMED: st->malformed++; break;
		case REFUSE_NOT_FROM_LB: st->not_from_lb++; break;
		case REFUSE_NOT_TO_HOST: st->not_to_host++; break;
		case REFUSE_INNER_LEN: st->bad_inner_len++; break;
		case REFUSE_NESTED: st->nested++; break;
		default: st->not_vip++; break;
		}
		return cfg->flags & SLUICE_DECAP_PASS_REFUSED ? XDP_PASS : XDP_DROP;
	}
	if (len == 20 || len == 40)
		st->ipip++;
	else
		st->gue++;

	/* Drop the outer headers, then write the L2 header back in front of
	 * the inner packet. */
	if (bpf_xdp_adjust_head(ctx, len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)eth + 18 > data_end)
		return XDP_DROP;
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
