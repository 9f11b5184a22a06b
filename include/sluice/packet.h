/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing shared by the DPDK data plane and the XDP program: one
 * definition of what a packet is, which flow it belongs to and which VIP
 * it is for, so that both paths classify every packet the same way.
 *
 * Compiles for user space and for BPF: wire structs of its own (no libc or
 * kernel headers that clash with DPDK's), every access bounds-checked
 * against data_end, offsets bounded, no loops.
 *
 * What is handled (everything else is classified, never misread):
 *  - Ethernet, at most one 802.1Q tag;
 *  - IPv4 without options (IHL 5; options: SLUICE_PKT_OTHER, ip_options);
 *  - IPv6 with at most a fragment header (others: SLUICE_PKT_OTHER, ipv6_ext);
 *  - TCP and UDP; fragments of either hash on the 3-tuple (ports 0) so all
 *    fragments of a datagram go to one backend;
 *  - ICMP "fragmentation needed" and ICMPv6 "packet too big" that quote a
 *    packet a backend sent from a VIP: classified with the flow they quote,
 *    turned around (client -> VIP), so they reach that flow's backend;
 *  - ARP requests and IPv6 neighbour solicitations (the data plane answers
 *    for its own addresses).
 */
#ifndef SLUICE_PACKET_H
#define SLUICE_PACKET_H

#include <linux/types.h>

#include "addr.h"
#include "consts.h"
#include "flow.h"

#define SLUICE_ETH_P_IP 0x0800
#define SLUICE_ETH_P_ARP 0x0806
#define SLUICE_ETH_P_8021Q 0x8100
#define SLUICE_ETH_P_IPV6 0x86DD

#define SLUICE_IPPROTO_ICMP 1
#define SLUICE_IPPROTO_IPIP 4
#define SLUICE_IPPROTO_TCP 6
#define SLUICE_IPPROTO_UDP 17
#define SLUICE_IPPROTO_IPV6 41
#define SLUICE_IPPROTO_FRAGMENT 44
#define SLUICE_IPPROTO_ICMPV6 58

#define SLUICE_ICMP_DEST_UNREACH 3
#define SLUICE_ICMP_FRAG_NEEDED 4
#define SLUICE_ICMPV6_PKT_TOOBIG 2
#define SLUICE_ICMPV6_NEIGH_SOLICIT 135
#define SLUICE_ICMPV6_NEIGH_ADVERT 136

#define SLUICE_IP_DF 0x4000
#define SLUICE_IP_MF 0x2000
#define SLUICE_IP_OFFSET 0x1FFF

/* Byte order: every supported host and BPF target is little-endian
 * (flow.h refuses others). */
#define sluice_htons(x) ((__be16)__builtin_bswap16((__u16)(x)))
#define sluice_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define sluice_htonl(x) ((__be32)__builtin_bswap32((__u32)(x)))
#define sluice_ntohl(x) ((__u32)__builtin_bswap32((__u32)(x)))

/* ---- wire formats ----
 * No member is wider than 16 bits: headers follow a 14-byte Ethernet header,
 * so they sit at 2-byte aligned addresses in every receive buffer, and
 * wider members would be misaligned accesses. */

struct sluice_ethhdr {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct sluice_vlanhdr {
	__be16 tci;
	__be16 proto;
};

struct sluice_ipv4hdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 proto;
	__u16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct sluice_ipv6hdr {
	__be16 ver_tc_flow[2]; /* version 4 bits, class 8, flow label 20 */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct sluice_ipv6_fraghdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be16 id[2];
};

/* The first 8 bytes of TCP and UDP: ports, then what an ICMP error quotes. */
struct sluice_l4hdr {
	__be16 sport;
	__be16 dport;
	__be16 word1[2]; /* TCP sequence number; UDP length and checksum */
};

struct sluice_udphdr {
	__be16 sport;
	__be16 dport;
	__be16 len;
	__u16 check;
};

struct sluice_icmphdr {
	__u8 type;
	__u8 code;
	__u16 check;
	__be16 data[2]; /* frag-needed: unused, mtu; PTB: mtu (32 bits) */
};

struct sluice_arphdr {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

_Static_assert(sizeof(struct sluice_ethhdr) == 14, "wire format");
_Static_assert(sizeof(struct sluice_ipv4hdr) == 20, "wire format");
_Static_assert(sizeof(struct sluice_ipv6hdr) == 40, "wire format");
_Static_assert(sizeof(struct sluice_arphdr) == 28, "wire format");
_Static_assert(_Alignof(struct sluice_ipv6hdr) == 2 && _Alignof(struct sluice_l4hdr) == 2 &&
		       _Alignof(struct sluice_icmphdr) == 2 && _Alignof(struct sluice_ipv4hdr) == 2,
	       "headers at 2-byte aligned offsets");

/* ---- the parse result ---- */

enum sluice_pkt_kind {
	SLUICE_PKT_DROP = 0,	 /* malformed: drop, count drop_reason */
	SLUICE_PKT_FLOW = 1,	 /* TCP/UDP (or fragment): look up vip, then key */
	SLUICE_PKT_ICMP_ERR = 2, /* frag-needed/PTB quoting a flow: same as FLOW */
	SLUICE_PKT_ARP = 3,	 /* ARP request for target (in vip) */
	SLUICE_PKT_ND = 4,	 /* neighbour solicitation for target (in vip) */
	SLUICE_PKT_OTHER = 5,	 /* well formed, not load-balanced: drop_reason says why */
};

struct sluice_pkt {
	__u8 eth_dst[6];	/* as received */
	__u8 eth_src[6];
	__be16 vlan_tci;	/* when has_vlan */
	__u8 has_vlan;
	__u8 kind;		/* enum sluice_pkt_kind */
	__u8 drop_reason;	/* enum sluice_drop_reason, for DROP and OTHER */
	__u8 family;		/* SLUICE_FAMILY_V4 / _V6 (IP kinds) */
	__u8 l4_proto;		/* protocol of the flow (the quoted one for ICMP_ERR) */
	__u8 fragment;		/* 1: a fragment, hashed on the 3-tuple */
	__u8 tcp_flags;		/* FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10 */
	__u8 tos;		/* IPv4 TOS / IPv6 traffic class */
	__u8 ip_df;		/* IPv4 don't-fragment bit (IPv6: always 1) */
	__u8 ttl;		/* TTL / hop limit */
	__u16 l3_off;		/* where the IP header starts: 14 or 18 */
	__u16 l3_len;		/* IP packet length per its header */
	struct sluice_addr vip; /* the VIP address the packet is for */
	__be16 vip_port;	/* its port (0 for fragments) */
	__u16 pad;
	struct sluice_flow_key key; /* client -> VIP; hash with the VIP's seed */
};

#define SLUICE_TCP_FIN 0x01
#define SLUICE_TCP_SYN 0x02
#define SLUICE_TCP_RST 0x04
#define SLUICE_TCP_ACK 0x10

/* The timeout class a TCP/UDP packet puts its flow in, from the class it
 * had (a new flow: SLUICE_FLOW_TCP): FIN or RST close it, a SYN without
 * ACK (the 4-tuple reused) opens it again, anything else leaves it. */
static SLUICE_INLINE __u8 sluice_flow_class(__u8 proto, __u8 tcp_flags, __u8 cls)
{
	if (proto != SLUICE_IPPROTO_TCP)
		return SLUICE_FLOW_UDP;
	if (tcp_flags & (SLUICE_TCP_FIN | SLUICE_TCP_RST))
		return SLUICE_FLOW_CLOSING;
	if ((tcp_flags & (SLUICE_TCP_SYN | SLUICE_TCP_ACK)) == SLUICE_TCP_SYN)
		return SLUICE_FLOW_TCP;
	return cls;
}

/* A SYN without ACK: the first packet of a TCP connection (or its
 * retransmission). Only a TCP packet of kind FLOW has flags (the parser
 * leaves them 0 otherwise). */
static SLUICE_INLINE int sluice_bare_syn(const struct sluice_pkt *p)
{
	return (p->tcp_flags & (SLUICE_TCP_SYN | SLUICE_TCP_ACK)) == SLUICE_TCP_SYN;
}

/*
 * A client that reuses a 5-tuple. A bare SYN (no ACK) that meets the entry
 * of a flow that was closed (FIN or RST seen: class CLOSING), or of a flow
 * whose backend no longer takes new connections (draining, or weight 0),
 * opens a new connection: it is picked by the table like a new flow, not
 * sent after the old one. Otherwise a drained backend would get new
 * connections through entries still within their closing timeout (IPVS's
 * conn_reuse_mode does the same). A retransmitted SYN of a handshake that
 * began on a backend since drained moves too: that connection never
 * completed there. Both data paths use this rule (`explain` answers for a
 * packet of an established flow, which it does not touch).
 */
static SLUICE_INLINE int sluice_syn_reopens(const struct sluice_pkt *p, __u8 entry_class,
					    __u8 backend_state, __u32 backend_weight)
{
	/* Flags first: the one test an established packet fails. */
	return sluice_bare_syn(p) &&
	       (entry_class == SLUICE_FLOW_CLOSING || backend_state != SLUICE_BACKEND_ACTIVE ||
		backend_weight == 0);
}

static SLUICE_INLINE int sluice_pkt_drop(struct sluice_pkt *p, __u8 reason)
{
	p->kind = SLUICE_PKT_DROP;
	p->drop_reason = reason;
	return SLUICE_PKT_DROP;
}

static SLUICE_INLINE int sluice_pkt_other(struct sluice_pkt *p, __u8 reason)
{
	p->kind = SLUICE_PKT_OTHER;
	p->drop_reason = reason;
	return SLUICE_PKT_OTHER;
}

static SLUICE_INLINE void sluice_addr_set(struct sluice_addr *a, __u8 family, const __u8 *bytes)
{
	a->family = family;
	a->pad[0] = 0;
	a->pad[1] = 0;
	a->pad[2] = 0;
	if (family == SLUICE_FAMILY_V4) {
		__builtin_memcpy(a->bytes, bytes, 4);
		__builtin_memset(a->bytes + 4, 0, 12);
	} else {
		__builtin_memcpy(a->bytes, bytes, 16);
	}
}

/* Ports of a TCP/UDP header at l4 (client -> VIP direction), or of the
 * quoted header of an ICMP error (VIP -> client, hence swapped by caller). */
static SLUICE_INLINE int sluice_parse_ports(const __u8 *l4, const __u8 *data_end, __u8 proto,
					    struct sluice_pkt *p, __be16 *sport, __be16 *dport)
{
	const struct sluice_l4hdr *h = (const struct sluice_l4hdr *)l4;

	if ((const __u8 *)(h + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	*sport = h->sport;
	*dport = h->dport;
	if (proto == SLUICE_IPPROTO_TCP) {
		if (l4 + 14 > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		p->tcp_flags = l4[13];
	}
	return SLUICE_PKT_FLOW;
}

/* The flow an ICMPv4 frag-needed quotes: the quoted packet went VIP ->
 * client, so the flow is its reverse. ic points at the ICMP header. */
static SLUICE_INLINE int sluice_parse_icmp4_err(const __u8 *ic, const __u8 *data_end,
						struct sluice_pkt *p)
{
	const struct sluice_ipv4hdr *in = (const struct sluice_ipv4hdr *)(ic + 8);
	__be16 qs, qd;
	__be32 src, dst;

	if ((const __u8 *)(in + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	if (in->ver_ihl != 0x45)
		return sluice_pkt_other(p, SLUICE_DROP_MALFORMED);
	if (in->proto != SLUICE_IPPROTO_TCP && in->proto != SLUICE_IPPROTO_UDP)
		return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L4);
	{
		const struct sluice_l4hdr *q = (const struct sluice_l4hdr *)(in + 1);

		if ((const __u8 *)(q + 1) > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		qs = q->sport;
		qd = q->dport;
	}
	__builtin_memcpy(&src, in->saddr, 4);
	__builtin_memcpy(&dst, in->daddr, 4);
	p->l4_proto = in->proto;
	sluice_addr_set(&p->vip, SLUICE_FAMILY_V4, in->saddr);
	p->vip_port = qs;
	sluice_flow_key_v4(&p->key, dst, src, in->proto, qd, qs);
	p->kind = SLUICE_PKT_ICMP_ERR;
	return SLUICE_PKT_ICMP_ERR;
}

static SLUICE_INLINE int sluice_parse_icmp6_err(const __u8 *ic, const __u8 *data_end,
						struct sluice_pkt *p)
{
	const struct sluice_ipv6hdr *in = (const struct sluice_ipv6hdr *)(ic + 8);
	const struct sluice_l4hdr *q = (const struct sluice_l4hdr *)(in + 1);

	if ((const __u8 *)(q + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	if ((sluice_ntohs(in->ver_tc_flow[0]) >> 12) != 6)
		return sluice_pkt_other(p, SLUICE_DROP_MALFORMED);
	if (in->nexthdr != SLUICE_IPPROTO_TCP && in->nexthdr != SLUICE_IPPROTO_UDP)
		return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L4);
	p->l4_proto = in->nexthdr;
	sluice_addr_set(&p->vip, SLUICE_FAMILY_V6, in->saddr);
	p->vip_port = q->sport;
	sluice_flow_key_v6(&p->key, in->daddr, in->saddr, in->nexthdr, q->dport, q->sport);
	p->kind = SLUICE_PKT_ICMP_ERR;
	return SLUICE_PKT_ICMP_ERR;
}

/*
 * Sources no client can send from, on the wire (RFC 6890): IPv4 "this
 * network" 0/8, loopback 127/8, multicast 224/4 and the limited broadcast;
 * IPv6 unspecified, loopback, multicast ff00::/8 and IPv4-mapped
 * ::ffff:0:0/96. Forwarded, such a packet makes a backend answer an address
 * that is its own, everyone's or no one's. Both data paths drop a new flow
 * from one (martian_source) before it gets an entry, so established flows
 * pay nothing; traffic not for a VIP is left alone (the host's own DHCP or
 * DAD on an XDP interface is the kernel's to judge).
 */
static SLUICE_INLINE int sluice_martian_v4(const __u8 *a)
{
	return a[0] == 0 || a[0] == 127 || (a[0] & 0xf0) == 224 ||
	       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
}

static SLUICE_INLINE int sluice_martian_v6(const __u8 *a)
{
	__u32 w0, w1, w2, w3;

	if (a[0] == 0xff)
		return 1;
	__builtin_memcpy(&w0, a, 4);
	__builtin_memcpy(&w1, a + 4, 4);
	__builtin_memcpy(&w2, a + 8, 4);
	__builtin_memcpy(&w3, a + 12, 4);
	if (w0 | w1)
		return 0;
	/* ::ffff:a.b.c.d, or :: and ::1 */
	if (w2 == sluice_htonl(0xffff))
		return 1;
	return w2 == 0 && (w3 == 0 || w3 == sluice_htonl(1));
}

/* The client of a flow key (its source) is martian. */
static SLUICE_INLINE int sluice_martian_key(const struct sluice_flow_key *k)
{
	return k->family == SLUICE_FAMILY_V4 ? sluice_martian_v4(k->src) : sluice_martian_v6(k->src);
}

/* A TCP header whose data offset is below 5 words, or reaches past the
 * l4_len bytes the IP header gives it, is malformed: the flags read from
 * it (and so the flow's class) would be whatever follows. The caller has
 * checked that 14 bytes of it are there. */
static SLUICE_INLINE int sluice_tcp_offset_ok(const __u8 *tcp, __u32 l4_len)
{
	__u32 doff = (__u32)(tcp[12] >> 4) * 4;

	return doff >= 20 && doff <= l4_len;
}

static SLUICE_INLINE int sluice_parse_ipv4(const __u8 *l3, const __u8 *data_end,
					   struct sluice_pkt *p)
{
	const struct sluice_ipv4hdr *ip = (const struct sluice_ipv4hdr *)l3;
	const __u8 *l4 = l3 + sizeof(*ip);
	__be16 sport = 0, dport = 0;
	__be32 src, dst;
	__u16 frag, tot;

	if ((const __u8 *)(ip + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	if ((ip->ver_ihl >> 4) != 4 || (ip->ver_ihl & 0xf) < 5)
		return sluice_pkt_drop(p, SLUICE_DROP_MALFORMED);
	tot = sluice_ntohs(ip->tot_len);
	if (tot < 20)
		return sluice_pkt_drop(p, SLUICE_DROP_MALFORMED);
	if ((long)tot > data_end - l3)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	p->family = SLUICE_FAMILY_V4;
	p->l3_len = tot;
	p->tos = ip->tos;
	p->ttl = ip->ttl;
	frag = sluice_ntohs(ip->frag_off);
	p->ip_df = (frag & SLUICE_IP_DF) != 0;
	p->l4_proto = ip->proto;
	sluice_addr_set(&p->vip, SLUICE_FAMILY_V4, ip->daddr);
	if (ip->ttl == 0)
		return sluice_pkt_drop(p, SLUICE_DROP_TTL_EXPIRED);
	if ((ip->ver_ihl & 0xf) != 5)
		return sluice_pkt_other(p, SLUICE_DROP_IP_OPTIONS);
	__builtin_memcpy(&src, ip->saddr, 4);
	__builtin_memcpy(&dst, ip->daddr, 4);
	if (ip->proto == SLUICE_IPPROTO_ICMP) {
		const struct sluice_icmphdr *ic = (const struct sluice_icmphdr *)l4;

		if (frag & (SLUICE_IP_MF | SLUICE_IP_OFFSET))
			return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L4);
		if ((const __u8 *)(ic + 1) > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		if (ic->type == SLUICE_ICMP_DEST_UNREACH && ic->code == SLUICE_ICMP_FRAG_NEEDED)
			return sluice_parse_icmp4_err(l4, data_end, p);
		return sluice_pkt_other(p, SLUICE_DROP_NOT_VIP);
	}
	if (ip->proto != SLUICE_IPPROTO_TCP && ip->proto != SLUICE_IPPROTO_UDP)
		return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L4);
	if (frag & (SLUICE_IP_MF | SLUICE_IP_OFFSET)) {
		p->fragment = 1;
	} else {
		/* A whole TCP header (its flags are read), or UDP's 8 bytes,
		 * inside the IP packet: not in the Ethernet padding after it. */
		if (tot < 20 + (ip->proto == SLUICE_IPPROTO_TCP ? 20 : 8))
			return sluice_pkt_drop(p, SLUICE_DROP_MALFORMED);
		if (sluice_parse_ports(l4, data_end, ip->proto, p, &sport, &dport) ==
		    SLUICE_PKT_DROP)
			return SLUICE_PKT_DROP;
		if (ip->proto == SLUICE_IPPROTO_TCP && !sluice_tcp_offset_ok(l4, tot - 20u))
			return sluice_pkt_drop(p, SLUICE_DROP_TCP_HEADER);
	}
	p->vip_port = dport;
	sluice_flow_key_v4(&p->key, src, dst, ip->proto, sport, dport);
	p->kind = SLUICE_PKT_FLOW;
	return SLUICE_PKT_FLOW;
}

static SLUICE_INLINE int sluice_parse_ipv6(const __u8 *l3, const __u8 *data_end,
					   struct sluice_pkt *p)
{
	const struct sluice_ipv6hdr *ip = (const struct sluice_ipv6hdr *)l3;
	const __u8 *l4 = l3 + sizeof(*ip);
	__be16 sport = 0, dport = 0;
	__u8 proto;
	__u16 plen;

	if ((const __u8 *)(ip + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	if ((sluice_ntohs(ip->ver_tc_flow[0]) >> 12) != 6)
		return sluice_pkt_drop(p, SLUICE_DROP_MALFORMED);
	plen = sluice_ntohs(ip->payload_len);
	if ((long)plen + 40 > data_end - l3)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	p->family = SLUICE_FAMILY_V6;
	p->l3_len = plen + 40;
	p->tos = (__u8)(sluice_ntohs(ip->ver_tc_flow[0]) >> 4);
	p->ttl = ip->hop_limit;
	p->ip_df = 1;
	sluice_addr_set(&p->vip, SLUICE_FAMILY_V6, ip->daddr);
	if (ip->hop_limit == 0)
		return sluice_pkt_drop(p, SLUICE_DROP_TTL_EXPIRED);
	proto = ip->nexthdr;
	if (proto == SLUICE_IPPROTO_FRAGMENT) {
		const struct sluice_ipv6_fraghdr *fh = (const struct sluice_ipv6_fraghdr *)l4;

		if ((const __u8 *)(fh + 1) > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		proto = fh->nexthdr;
		p->fragment = 1;
	}
	p->l4_proto = proto;
	if (proto == SLUICE_IPPROTO_ICMPV6 && !p->fragment) {
		const struct sluice_icmphdr *ic = (const struct sluice_icmphdr *)l4;

		if ((const __u8 *)(ic + 1) > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		if (ic->type == SLUICE_ICMPV6_PKT_TOOBIG)
			return sluice_parse_icmp6_err(l4, data_end, p);
		if (ic->type == SLUICE_ICMPV6_NEIGH_SOLICIT) {
			/* Target address follows the 8-byte header. */
			if (l4 + 24 > data_end)
				return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
			sluice_addr_set(&p->vip, SLUICE_FAMILY_V6, l4 + 8);
			p->kind = SLUICE_PKT_ND;
			return SLUICE_PKT_ND;
		}
		return sluice_pkt_other(p, SLUICE_DROP_NOT_VIP);
	}
	if (proto != SLUICE_IPPROTO_TCP && proto != SLUICE_IPPROTO_UDP) {
		if (proto == 0 || proto == 43 || proto == 60 || proto == 51 || proto == 50 ||
		    proto == 135 || proto == SLUICE_IPPROTO_FRAGMENT)
			return sluice_pkt_other(p, SLUICE_DROP_IPV6_EXT);
		return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L4);
	}
	if (!p->fragment) {
		if (plen < (proto == SLUICE_IPPROTO_TCP ? 20 : 8))
			return sluice_pkt_drop(p, SLUICE_DROP_MALFORMED);
		if (sluice_parse_ports(l4, data_end, proto, p, &sport, &dport) == SLUICE_PKT_DROP)
			return SLUICE_PKT_DROP;
		if (proto == SLUICE_IPPROTO_TCP && !sluice_tcp_offset_ok(l4, plen))
			return sluice_pkt_drop(p, SLUICE_DROP_TCP_HEADER);
	}
	p->vip_port = dport;
	sluice_flow_key_v6(&p->key, ip->saddr, ip->daddr, proto, sport, dport);
	p->kind = SLUICE_PKT_FLOW;
	return SLUICE_PKT_FLOW;
}

static SLUICE_INLINE int sluice_parse_arp(const __u8 *l3, const __u8 *data_end,
					  struct sluice_pkt *p)
{
	const struct sluice_arphdr *a = (const struct sluice_arphdr *)l3;

	if ((const __u8 *)(a + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	if (a->htype != sluice_htons(1) || a->ptype != sluice_htons(SLUICE_ETH_P_IP) ||
	    a->hlen != 6 || a->plen != 4)
		return sluice_pkt_other(p, SLUICE_DROP_MALFORMED);
	if (a->oper != sluice_htons(1))
		return sluice_pkt_other(p, SLUICE_DROP_NOT_VIP); /* replies: not ours to answer */
	sluice_addr_set(&p->vip, SLUICE_FAMILY_V4, a->tpa);
	p->family = SLUICE_FAMILY_V4;
	p->kind = SLUICE_PKT_ARP;
	return SLUICE_PKT_ARP;
}

/*
 * Classify the frame [data, data_end). Fills p and returns p->kind. For
 * FLOW and ICMP_ERR, p->vip/vip_port/l4_proto name the VIP to look up
 * (exact port, then port 0) and p->key the flow, client -> VIP.
 */
static SLUICE_INLINE int sluice_parse(const __u8 *data, const __u8 *data_end,
				      struct sluice_pkt *p)
{
	const struct sluice_ethhdr *eth = (const struct sluice_ethhdr *)data;
	const __u8 *l3;
	__u16 proto;

	__builtin_memset(p, 0, sizeof(*p));
	if ((const __u8 *)(eth + 1) > data_end)
		return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
	__builtin_memcpy(p->eth_dst, eth->dst, 6);
	__builtin_memcpy(p->eth_src, eth->src, 6);
	proto = sluice_ntohs(eth->proto);
	l3 = (const __u8 *)(eth + 1);
	p->l3_off = sizeof(*eth);
	if (proto == SLUICE_ETH_P_8021Q) {
		const struct sluice_vlanhdr *vh = (const struct sluice_vlanhdr *)l3;

		if ((const __u8 *)(vh + 1) > data_end)
			return sluice_pkt_drop(p, SLUICE_DROP_TRUNCATED);
		p->has_vlan = 1;
		p->vlan_tci = vh->tci;
		proto = sluice_ntohs(vh->proto);
		l3 = (const __u8 *)(vh + 1);
		p->l3_off += sizeof(*vh);
		if (proto == SLUICE_ETH_P_8021Q)
			return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L3); /* one tag only */
	}
	if (proto == SLUICE_ETH_P_IP)
		return sluice_parse_ipv4(l3, data_end, p);
	if (proto == SLUICE_ETH_P_IPV6)
		return sluice_parse_ipv6(l3, data_end, p);
	if (proto == SLUICE_ETH_P_ARP)
		return sluice_parse_arp(l3, data_end, p);
	return sluice_pkt_other(p, SLUICE_DROP_UNKNOWN_L3);
}

#endif /* SLUICE_PACKET_H */
