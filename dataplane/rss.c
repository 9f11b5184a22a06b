/* SPDX-License-Identifier: BSD-3-Clause */
/* sluice's RSS key and the NIC's hash in software. See rss.h. */
#include <string.h>

#include <rte_ip.h>
#include <rte_thash.h>

#include "rss.h"

/*
 * The Toeplitz key every port is given. Not the device's default: some
 * PMDs pick theirs at random on every start, and then which worker a flow
 * lands on would change with each restart and differ between NIC models;
 * with a fixed key it is a function of the 5-tuple, the key and the RETA
 * that software can compute too (rte_softrss). Random bytes, not the
 * symmetric 0x6d5a pattern: a symmetric key sends both directions of a
 * connection to one queue, which a DSR load balancer does not need (the
 * backends answer clients directly, replies never come back through it)
 * and pays for with a hash that ignores which side an address is on. A
 * reply that did arrive here (a backend not set up for DSR) would hash to
 * whichever worker its reversed tuple picks; it is not addressed to a VIP,
 * so that worker drops it as not_vip, whichever one it is.
 * 52 bytes: the longest key of common NICs (i40e, ice); a device with a
 * 40-byte key takes the first 40.
 */
const uint8_t sluice_dp_rss_key[SLUICE_DP_RSS_KEY_LEN] = {
	0x7e, 0xe5, 0xb2, 0xe5, 0x50, 0xcc, 0xbd, 0xa1, 0xd6, 0x0f, 0x04, 0xba, 0xf1,
	0xf5, 0x38, 0x88, 0xde, 0x2b, 0x7e, 0x0d, 0xaf, 0x56, 0xa2, 0x92, 0xa2, 0x14,
	0x7d, 0x27, 0x68, 0x1d, 0x36, 0x44, 0x28, 0x55, 0x41, 0xea, 0x92, 0xf6, 0x36,
	0x19, 0x10, 0x39, 0x37, 0x88, 0x89, 0x4f, 0x65, 0xab, 0xd3, 0x02, 0xce, 0x86,
};

uint32_t sluice_dp_rss_hash_v4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct rte_ipv4_tuple t = {.src_addr = src, .dst_addr = dst, .sport = sport, .dport = dport};

	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, sluice_dp_rss_key);
}

uint32_t sluice_dp_rss_hash_v6(const uint8_t *src, const uint8_t *dst, uint16_t sport,
			       uint16_t dport)
{
	struct rte_ipv6_tuple t = {.sport = sport, .dport = dport};
	struct rte_ipv6_hdr h;

	memcpy(h.src_addr, src, 16);
	memcpy(h.dst_addr, dst, 16);
	rte_thash_load_v6_addrs(&h, (union rte_thash_tuple *)&t);
	return rte_softrss((uint32_t *)&t, RTE_THASH_V6_L4_LEN, sluice_dp_rss_key);
}
