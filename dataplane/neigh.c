/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP replies and neighbour advertisements for our own addresses. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "neigh.h"

#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2
#define ND_NS_LEN 24 /* ICMPv6 header (4) + reserved (4) + target (16) */
#define ND_NA_LEN (24 + 8) /* with the target link-layer address option */
#define ND_NA_FLAG_SOLICITED 0x40
#define ND_NA_FLAG_OVERRIDE 0x20
#define ND_HOP_LIMIT 255

static bool addr_eq(const struct sluice_addr *a, const struct sluice_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

bool sluice_neigh_is_own(const struct sluice_snapshot *snap, const struct sluice_dp_config *cfg,
			 const struct sluice_addr *addr)
{
	for (unsigned int i = 0; i < cfg->n_own; i++)
		if (addr_eq(&cfg->own[i], addr))
			return true;
	if (!snap)
		return false;
	if (addr_eq(&snap->global.src_v4, addr) || addr_eq(&snap->global.src_v6, addr))
		return true;
	for (unsigned int i = 0; i < snap->n_vips && i < SLUICE_MAX_VIPS; i++)
		if (snap->vips[i].in_use && addr_eq(&snap->vips[i].addr, addr))
			return true;
	return false;
}

int sluice_neigh_arp_reply(struct rte_mbuf *m, const struct sluice_pkt *p,
			   const struct rte_ether_addr *mac)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	struct sluice_arphdr *arp = (struct sluice_arphdr *)(data + p->l3_off);
	uint8_t target[4];

	/* An announcement of the target by its owner is not a question:
	 * answering it would claim the address back. */
	if (memcmp(arp->spa, arp->tpa, 4) == 0)
		return SLUICE_DROP_NOT_VIP;
	if (rte_is_multicast_ether_addr((const struct rte_ether_addr *)arp->sha))
		return SLUICE_DROP_MALFORMED;
	memcpy(target, arp->tpa, 4);
	memcpy(data, arp->sha, 6); /* Ethernet destination: the asker */
	memcpy(data + 6, mac, 6);
	arp->oper = rte_cpu_to_be_16(2);
	memcpy(arp->tha, arp->sha, 6);
	memcpy(arp->tpa, arp->spa, 4);
	memcpy(arp->sha, mac, 6);
	memcpy(arp->spa, target, 4);
	return 0;
}

/* ICMPv6 checksum over len bytes at l4 with ip's pseudo-header: the value to
 * store (computing) or 0 (verifying a valid one). */
static uint16_t icmp6_cksum(const struct sluice_ipv6hdr *ip, const void *l4, uint16_t len)
{
	uint32_t sum = rte_raw_cksum(ip->saddr, 32);

	sum += rte_cpu_to_be_16(len);
	sum += rte_cpu_to_be_16(SLUICE_IPPROTO_ICMPV6);
	sum += rte_raw_cksum(l4, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int ns_valid(const struct sluice_pkt *p, const struct sluice_ipv6hdr *ip,
		    const uint8_t *icmp, uint16_t len)
{
	static const uint8_t unspecified[16];
	bool from_unspecified = memcmp(ip->saddr, unspecified, 16) == 0;

	if (p->ttl != ND_HOP_LIMIT || icmp[1] != 0 || len < ND_NS_LEN)
		return SLUICE_DROP_MALFORMED;
	if (icmp6_cksum(ip, icmp, len) != 0)
		return SLUICE_DROP_MALFORMED;
	if (p->vip.bytes[0] == 0xff) /* a multicast target */
		return SLUICE_DROP_MALFORMED;
	if (from_unspecified && ip->daddr[0] != 0xff)
		return SLUICE_DROP_MALFORMED; /* DAD goes to the solicited-node group */
	/* Options: each at least 8 bytes; no source address option with an
	 * unspecified source. At most len / 8 of them: a bounded walk. */
	for (uint16_t off = ND_NS_LEN; off < len;) {
		uint16_t olen;

		if (off + 2 > len)
			return SLUICE_DROP_MALFORMED;
		olen = (uint16_t)(icmp[off + 1] * 8);
		if (olen == 0 || off + olen > len)
			return SLUICE_DROP_MALFORMED;
		if (icmp[off] == ND_OPT_SOURCE_LLADDR && from_unspecified)
			return SLUICE_DROP_MALFORMED;
		off = (uint16_t)(off + olen);
	}
	return 0;
}

int sluice_neigh_nd_reply(struct rte_mbuf *m, const struct sluice_pkt *p,
			  const struct rte_ether_addr *mac)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
	static const uint8_t unspecified[16];
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)(data + p->l3_off);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	uint16_t want = (uint16_t)(p->l3_off + sizeof(*ip) + ND_NA_LEN);
	bool solicited;
	int rc;

	/* sluice_parse checked that the whole IPv6 packet is in the frame. */
	rc = ns_valid(p, ip, icmp, (uint16_t)(p->l3_len - sizeof(*ip)));
	if (rc)
		return rc;
	/* Exactly the advertisement's length: append or trim. */
	if (rte_pktmbuf_data_len(m) < want) {
		if (!rte_pktmbuf_append(m, (uint16_t)(want - rte_pktmbuf_data_len(m))))
			return SLUICE_DROP_NO_MBUF;
	} else if (rte_pktmbuf_data_len(m) > want) {
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - want));
	}
	solicited = memcmp(ip->saddr, unspecified, 16) != 0;
	/* Ethernet: to the solicitor (or all nodes), from us; the VLAN tag
	 * and EtherType stay. */
	memcpy(data, solicited ? p->eth_src : all_nodes_mac, 6);
	memcpy(data + 6, mac, 6);
	/* IPv6: from the target, to the solicitor (or all nodes). */
	ip->ver_tc_flow[0] = rte_cpu_to_be_16(6u << 12);
	ip->ver_tc_flow[1] = 0;
	ip->payload_len = rte_cpu_to_be_16(ND_NA_LEN);
	ip->nexthdr = SLUICE_IPPROTO_ICMPV6;
	ip->hop_limit = ND_HOP_LIMIT;
	memcpy(ip->daddr, solicited ? ip->saddr : all_nodes, 16);
	memcpy(ip->saddr, p->vip.bytes, 16);
	/* ICMPv6 NA: S (when solicited) and O; target; its link-layer address. */
	memset(icmp, 0, ND_NA_LEN);
	icmp[0] = SLUICE_ICMPV6_NEIGH_ADVERT;
	icmp[4] = (uint8_t)((solicited ? ND_NA_FLAG_SOLICITED : 0) | ND_NA_FLAG_OVERRIDE);
	memcpy(icmp + 8, p->vip.bytes, 16);
	icmp[24] = ND_OPT_TARGET_LLADDR;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	{
		uint16_t c = icmp6_cksum(ip, icmp, ND_NA_LEN);

		memcpy(icmp + 2, &c, 2);
	}
	return 0;
}
