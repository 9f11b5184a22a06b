/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How sluice-dp spreads flows over its workers on a NIC with RSS: a fixed
 * Toeplitz key of its own (why: rss.c) and a RETA filled
 * round-robin over the workers. Here, apart from the port code, so that
 * software can compute a flow's worker the way the NIC does: the tests
 * that play the NIC over memif, and anything that must hand a packet to
 * the worker owning its flow.
 */
#ifndef SLUICE_DP_RSS_H
#define SLUICE_DP_RSS_H

#include <stdint.h>

#define SLUICE_DP_RSS_KEY_LEN 52 /* i40e's and ice's; 40-byte NICs take a prefix */
#define SLUICE_DP_RETA_SIZE 128	 /* what the tests assume; a NIC says its own */

extern const uint8_t sluice_dp_rss_key[SLUICE_DP_RSS_KEY_LEN];

/* The NIC's Toeplitz hash of an IPv4 TCP/UDP 5-tuple under sluice's key;
 * addresses and ports in host byte order. */
uint32_t sluice_dp_rss_hash_v4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);

/* The same for IPv6: addresses as in the header (16 bytes each). */
uint32_t sluice_dp_rss_hash_v6(const uint8_t *src, const uint8_t *dst, uint16_t sport,
			       uint16_t dport);

/* The queue a RETA of reta_size entries, filled round-robin over n_queues,
 * gives a hash: the low bits index the RETA. */
static inline uint16_t sluice_dp_rss_queue(uint32_t hash, uint16_t reta_size, uint16_t n_queues)
{
	return (uint16_t)((hash % reta_size) % n_queues);
}

#endif /* SLUICE_DP_RSS_H */
