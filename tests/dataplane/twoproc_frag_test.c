/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragments and sluice-dp's workers, with sluice-dp as a real process
 * (the harness of twoproc_test.c: twoproc_harness.h). Two workers over a
 * two-queue memif port, this process playing a NIC that spreads by
 * sluice's key and RETA (--assume-reta): fragments of a datagram sent on
 * the queue that is not its addresses' worker are handed to that worker,
 * which holds the datagram's 3-tuple entry; fragments sent on the owner's
 * queue are not handed over.
 */
#include <rte_ethdev.h>
#include <rte_thash.h>

#include "twoproc_harness.h"

/* The queue a NIC with the FRAG hash types gives a fragment of src -> dst:
 * Toeplitz over the addresses alone (8 or 32 bytes), whatever the ports. */
static uint16_t addr_queue(bool v6, const uint8_t *src, const uint8_t *dst)
{
	union rte_thash_tuple t;
	struct rte_ipv6_hdr ip;
	uint32_t h;

	memset(&t, 0, sizeof(t));
	if (v6) {
		memcpy(&ip.src_addr, src, 16);
		memcpy(&ip.dst_addr, dst, 16);
		rte_thash_load_v6_addrs(&ip, &t);
		h = rte_softrss((uint32_t *)&t, RTE_THASH_V6_L3_LEN, sluice_dp_rss_key);
	} else {
		t.v4.src_addr = RTE_IPV4(src[0], src[1], src[2], src[3]);
		t.v4.dst_addr = RTE_IPV4(dst[0], dst[1], dst[2], dst[3]);
		h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L3_LEN, sluice_dp_rss_key);
	}
	return sluice_dp_rss_queue(h, SLUICE_DP_RETA_SIZE, t_nq);
}

/* The next IPv4-in-IPv4 output on any queue: its backend id, the queue, the
 * last byte of the inner source address. */
static uint16_t rx_v4(uint16_t *queue, uint8_t *src_last)
{
	struct rte_mbuf *m = rx_one(queue, "IPv4");
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t id;

	if (rte_pktmbuf_data_len(m) < 14 + 20 + 20 || fr_get16(b + 12) != 0x0800 || b[14 + 9] != 4)
		fail_msg("unexpected output from sluice-dp (not IPv4-in-IPv4)");
	id = fr_get16(b + 32);
	*src_last = b[34 + 15];
	rte_pktmbuf_free(m);
	return id;
}

/* Datagram d's client: 198.51.100.(20 + d) or client6 ending in 20 + d. */
static const uint8_t *frag_client(bool v6, unsigned int d)
{
	static uint8_t c4[4] = {198, 51, 100}, c6[16];

	memcpy(c6, client6, 16);
	c6[15] = (uint8_t)(20 + d);
	c4[3] = (uint8_t)(20 + d);
	return v6 ? c6 : c4;
}

/* Send datagram d's fragment at byte offset off (the first carries the
 * TCP header; MF unless off is 192) on queue q; expect it out of worker
 * owner to backend want. */
static void frag_round_trip(bool v6, unsigned int d, uint16_t off, uint16_t q, uint16_t owner,
			    uint16_t want)
{
	const uint8_t *client = frag_client(v6, d);
	uint16_t out_q, id, sport;
	struct rte_mbuf *m;
	struct frame f;
	uint8_t x;

	if (v6)
		fr_ipv6_frag(&f, 6, client, vip6, (uint16_t)(2000 + d), 80, 0x10000u + d, off,
			     off < 192, off ? 64 : 64 - 20);
	else
		fr_ipv4_frag(&f, 6, client, vip4, (uint16_t)(2000 + d), 80, (uint16_t)(100 + d),
			     off, off < 192, off ? 64 : 64 - 20);
	m = t_mbuf(&f);
	tx_all(q, &m, 1);
	id = v6 ? rx_v6(&out_q, &x, &sport) : rx_v4(&out_q, &x);
	/* x: the inner next header (IPv6), source (IPv4) */
	if (out_q != owner || id != want || x != (v6 ? 44 : 20 + d))
		fail_msg("datagram %u, fragment at %u, sent on queue %u: out of worker %u to "
			 "backend %u, expected worker %u, backend %u",
			 d, off, q, out_q, id, owner, want);
}

/* The backend generation g's table gives datagram d's 3-tuple. */
static uint16_t frag_by_table(bool v6, unsigned int d, uint64_t g)
{
	const uint8_t *client = frag_client(v6, d);

	build(oracle_snap, g);
	return sluice_snapshot_pick(oracle_snap, &oracle_snap->vips[v6 ? 4 : 3],
				    v6 ? t_hash6(6, client, vip6, 0, 0, 66)
				       : t_hash4(6, client, vip4, 0, 0, 77))
		->id;
}

/*
 * Datagrams of clients whose addresses RSS gives to either worker, each
 * cut in fragments (the first with the TCP ports, later ones without).
 * Those of every other datagram are sent on the queue that is not their
 * worker's, as a NIC that hashed the first on its ports or lacks the FRAG
 * types would; the rest on their own. Every fragment must come out of the
 * worker of the datagram's addresses, to the backend the table gives the
 * 3-tuple, and only the ones on the wrong queue are handed over (counted
 * on both workers). Then that backend drains (generation 2, which no
 * longer gives it): a last fragment of each datagram it had, sent on the
 * wrong queue, still reaches it, by the entry the owner holds.
 */
#define FRAG_DGRAMS 16
static void fragments_to_addr_worker(bool v6)
{
	unsigned int sent[2] = {0, 0}, on[2] = {0, 0}, kept = 0;
	uint16_t owner[FRAG_DGRAMS], be[FRAG_DGRAMS], draining = v6 ? V6_BE + 2 : 2;
	char err[256];

	with_v6 = v6;
	port0_vips = true;
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	for (unsigned int d = 0; d < FRAG_DGRAMS; d++) {
		uint16_t q;

		owner[d] = addr_queue(v6, frag_client(v6, d), v6 ? vip6 : vip4);
		q = d % 2 ? owner[d] : (uint16_t)(1 - owner[d]);
		be[d] = frag_by_table(v6, d, 1);
		on[owner[d]]++;
		for (uint16_t off = 0; off < 192; off += 64) {
			frag_round_trip(v6, d, off, q, owner[d], be[d]);
			if (q != owner[d])
				sent[q]++;
		}
	}
	assert_true(on[0] > 0 && on[1] > 0 && sent[0] > 0 && sent[1] > 0);
	assert_int_equal(publish(2), 0);
	wait_seen(2);
	for (unsigned int d = 0; d < FRAG_DGRAMS; d++) {
		uint16_t q = (uint16_t)(1 - owner[d]);

		if (be[d] != draining || frag_by_table(v6, d, 2) == draining)
			continue;
		frag_round_trip(v6, d, 192, q, owner[d], draining);
		sent[q]++;
		kept++;
	}
	assert_true(kept > 0);
	check_handoff_counters(sent);
}

static void test_fragments_handed_to_addr_worker(void **state)
{
	(void)state;
	fragments_to_addr_worker(false);
}

static void test_fragments6_handed_to_addr_worker(void **state)
{
	(void)state;
	fragments_to_addr_worker(true);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fragments_handed_to_addr_worker, dp_up_two,
						dp_down),
		cmocka_unit_test_setup_teardown(test_fragments6_handed_to_addr_worker, dp_up_two,
						dp_down),
	};

	return twoproc_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
