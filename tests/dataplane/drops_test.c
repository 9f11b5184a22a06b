/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's packet path on bad and special packets: every prefix of
 * valid frames, wrong header fields, IPv4 options, fragments, TTL 0,
 * unknown EtherTypes and protocols, non-VIP traffic: each dropped (or, for
 * fragments, forwarded by the 3-tuple) and counted under its reason,
 * nothing else sent. ARP and neighbour solicitations for our addresses are
 * answered byte for byte; without a configuration VIP traffic is dropped as
 * no_config; the new-flow cap forwards by table without inserting.
 */
#include "dp_test.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t other4[4] = {192, 0, 2, 99}, own4[4] = {10, 9, 9, 9};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct sluice_snapshot *snap;
static struct t_vip tv[3];
static struct sluice_global_cfg g;
static struct t_lcore t;

enum { VIP_TCP4 = 0, VIP_UDP4_ANY = 1, VIP_UDP6 = 2 };

static int setup(void **state)
{
	(void)state;
	snap = calloc(1, sizeof(*snap));
	memset(tv, 0, sizeof(tv));
	tv[0].vip = (struct sluice_vip){.addr = t_v4(192, 0, 2, 10), .port = htons(80),
					.proto = 6, .mode = SLUICE_FWD_IPIP, .id = 0, .hash_seed = 5};
	tv[1].vip = (struct sluice_vip){.addr = t_v4(192, 0, 2, 10), .port = 0, .proto = 17,
					.mode = SLUICE_FWD_GUE, .id = 1, .hash_seed = 6};
	tv[2].vip = (struct sluice_vip){.addr = t_v6(vip6), .port = htons(53), .proto = 17,
					.mode = SLUICE_FWD_GUE, .id = 2, .hash_seed = 7};
	for (uint16_t i = 0; i < 3; i++) {
		tv[0].be[i] = t_backend((uint16_t)(1 + i), t_v4(10, 1, 0, (uint8_t)(1 + i)),
					SLUICE_BACKEND_ACTIVE);
		tv[1].be[i] = t_backend((uint16_t)(10 + i), t_v4(10, 2, 0, (uint8_t)(1 + i)),
					SLUICE_BACKEND_ACTIVE);
		tv[2].be[i] = t_backend((uint16_t)(20 + i), t_v4(10, 3, 0, (uint8_t)(1 + i)),
					SLUICE_BACKEND_ACTIVE);
		tv[i].n = 3;
	}
	g = t_global_init;
	g.gue_port = htons(6080);
	t_fill(snap, tv, 3, &g);
	t_lcore_default_cfg(&t.cfg);
	t.cfg.own[0] = t_v4(own4[0], own4[1], own4[2], own4[3]);
	t.cfg.n_own = 1;
	t_lcore_init(&t);
	return snap ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	t_lcore_fini(&t);
	free(snap);
	return 0;
}

static uint64_t total_drops(void)
{
	uint64_t n = 0;

	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		n += t.lc->ctr.drops[r];
	return n;
}

/* f must be dropped under reason (or, reason < 0, under any). */
static void expect_drop(const struct sluice_snapshot *s, const struct frame *f, int reason,
			const char *what)
{
	uint64_t before = reason >= 0 ? t.lc->ctr.drops[reason] : 0, all = total_drops();
	struct rte_mbuf *m = t_one(&t, s, f, rte_rdtsc());

	if (m)
		fail_msg("%s: forwarded, expected a drop", what);
	if (total_drops() != all + 1)
		fail_msg("%s: %llu drops counted, expected 1", what,
			 (unsigned long long)(total_drops() - all));
	if (reason >= 0 && t.lc->ctr.drops[reason] != before + 1)
		fail_msg("%s: not counted as drop reason %d", what, reason);
}

static void arp_request(struct frame *f, const uint8_t target[4], int vlan)
{
	fr_arp(f, vlan, 1, client4, target);
	memcpy(f->b, bcast, 6);
}

static void test_truncated_at_every_length(void **state)
{
	struct frame fs[5];
	(void)state;

	fr_ipv4(&fs[0], 0, 6, client4, vip4, 1, 80, SLUICE_TCP_SYN, 0, 0x4000);
	fr_ipv6(&fs[1], 9, 17, client6, vip6, 1, 53, 0, 0);
	fr_ipv4(&fs[2], 3, 17, client4, vip4, 1, 53, 0, 0, 0);
	fr_ipv6(&fs[3], 0, 6, client6, vip6, 1, 2, SLUICE_TCP_ACK, 0);
	arp_request(&fs[4], vip4, 0);
	for (int i = 0; i < 5; i++) {
		for (size_t len = 0; len < fs[i].len; len++) {
			struct frame cut = fs[i];
			char what[64];
			uint64_t tr = t.lc->ctr.drops[SLUICE_DROP_TRUNCATED] +
				      t.lc->ctr.drops[SLUICE_DROP_MALFORMED];

			cut.len = len;
			snprintf(what, sizeof(what), "frame %d cut at %zu", i, len);
			expect_drop(snap, &cut, -1, what);
			assert_int_equal(t.lc->ctr.drops[SLUICE_DROP_TRUNCATED] +
						 t.lc->ctr.drops[SLUICE_DROP_MALFORMED],
					 tr + 1);
		}
	}
}

/* What a careful load balancer drops (include/sluice/packet.h): a TCP
 * header whose data offset is below 5 words or past the packet, and VIP
 * traffic from a source no client can have; a sound one goes through. */
static void test_bad_tcp_and_martians(void **state)
{
	static const uint8_t martians4[][4] = {
		{0, 1, 2, 3}, {127, 0, 0, 1}, {224, 0, 0, 5}, {239, 9, 9, 9}, {255, 255, 255, 255}};
	static const uint8_t martians6[][16] = {
		{0}, {[15] = 1}, {0xff, 0x02, [15] = 1}, {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1}};
	struct frame f;
	struct rte_mbuf *m;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 1000, 80, SLUICE_TCP_SYN, 8, 0x4000);
	f.b[14 + 20 + 12] = 0x40;
	expect_drop(snap, &f, SLUICE_DROP_TCP_HEADER, "TCP data offset 4");
	f.b[14 + 20 + 12] = 0x80; /* 32 bytes: past the 28 the packet has */
	expect_drop(snap, &f, SLUICE_DROP_TCP_HEADER, "TCP data offset past the packet");
	f.b[14 + 20 + 12] = 0x70; /* 28: exactly the packet, options in the payload */
	m = t_one(&t, snap, &f, rte_rdtsc());
	assert_non_null(m);
	rte_pktmbuf_free(m);
	fr_ipv6(&f, 0, 6, client6, vip6, 1000, 443, SLUICE_TCP_SYN, 0);
	f.b[14 + 40 + 12] = 0x30;
	expect_drop(snap, &f, SLUICE_DROP_TCP_HEADER, "IPv6: TCP data offset 3");
	for (size_t i = 0; i < sizeof(martians4) / sizeof(martians4[0]); i++) {
		fr_ipv4(&f, 0, 6, martians4[i], vip4, 1000, 80, SLUICE_TCP_SYN, 0, 0x4000);
		expect_drop(snap, &f, SLUICE_DROP_MARTIAN, "IPv4 martian source");
	}
	for (size_t i = 0; i < sizeof(martians6) / sizeof(martians6[0]); i++) {
		fr_ipv6(&f, 0, 17, martians6[i], vip6, 1000, 53, 0, 8);
		expect_drop(snap, &f, SLUICE_DROP_MARTIAN, "IPv6 martian source");
	}
	/* A client that is a VIP endpoint (192.0.2.10:80/tcp), or whose
	 * address has a port-0 VIP (192.0.2.10/udp): a loop, not a client. A
	 * VIP's address with a port no VIP has is a client like any other. */
	fr_ipv4(&f, 0, 6, vip4, vip4, 80, 80, SLUICE_TCP_SYN, 0, 0x4000);
	expect_drop(snap, &f, SLUICE_DROP_MARTIAN, "source is a VIP endpoint");
	fr_ipv4(&f, 0, 17, vip4, vip4, 5353, 53, 0, 8, 0);
	expect_drop(snap, &f, SLUICE_DROP_MARTIAN, "source address has a port-0 VIP");
	fr_ipv4(&f, 0, 6, vip4, vip4, 40000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	m = t_one(&t, snap, &f, rte_rdtsc());
	assert_non_null(m);
	rte_pktmbuf_free(m);
	/* Not for a VIP: not_vip, whatever the source (XDP leaves it to the
	 * kernel: a DHCP client's 0.0.0.0 is the host's business). */
	fr_ipv4(&f, 0, 17, martians4[0], other4, 68, 67, 0, 8, 0);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "martian source, not a VIP");
}

static void test_bad_headers(void **state)
{
	struct frame f;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 1, 80, 0, 0, 0);
	f.b[14] = 0x44;
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "IHL 4");
	f.b[14] = 0x46;
	expect_drop(snap, &f, SLUICE_DROP_IP_OPTIONS, "IPv4 options");
	f.b[14] = 0x65;
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "version 6 in IPv4");
	f.b[14] = 0x45;
	fr_put16(f.b + 16, 200);
	expect_drop(snap, &f, SLUICE_DROP_TRUNCATED, "total length beyond frame");
	fr_put16(f.b + 16, 12);
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "total length below header");
	fr_put16(f.b + 16, 24);
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "no room for ports");
	/* A TCP header cut short inside the IP packet (its flags would be
	 * read from the padding after it). */
	fr_put16(f.b + 16, 39);
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "TCP header of 19 bytes");
	fr_put16(f.b + 16, 40);
	f.b[22] = 0;
	expect_drop(snap, &f, SLUICE_DROP_TTL_EXPIRED, "TTL 0");
	f.b[22] = 64;
	f.b[23] = 47;
	expect_drop(snap, &f, SLUICE_DROP_UNKNOWN_L4, "GRE");
	fr_put16(f.b + 12, 0x88cc);
	expect_drop(snap, &f, SLUICE_DROP_UNKNOWN_L3, "LLDP");

	fr_ipv4(&f, 5, 6, client4, vip4, 1, 80, 0, 0, 0);
	fr_put16(f.b + 16, 0x8100);
	expect_drop(snap, &f, SLUICE_DROP_UNKNOWN_L3, "two VLAN tags");

	fr_ipv6(&f, 0, 17, client6, vip6, 1, 53, 0, 0);
	f.b[14 + 6] = 0;
	expect_drop(snap, &f, SLUICE_DROP_IPV6_EXT, "hop-by-hop header");
	f.b[14 + 6] = 17;
	f.b[14 + 7] = 0;
	expect_drop(snap, &f, SLUICE_DROP_TTL_EXPIRED, "hop limit 0");
	f.b[14 + 7] = 9;
	fr_put16(f.b + 14 + 4, 1000);
	expect_drop(snap, &f, SLUICE_DROP_TRUNCATED, "payload beyond frame");

	fr_ipv6(&f, 0, 6, client6, vip6, 1, 80, 0, 0);
	fr_put16(f.b + 14 + 4, 19);
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "IPv6: TCP header of 19 bytes");
}

static void test_not_vip(void **state)
{
	struct frame f;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, other4, 1, 80, SLUICE_TCP_SYN, 0, 0x4000);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "other address");
	fr_ipv4(&f, 0, 6, client4, vip4, 1, 81, SLUICE_TCP_SYN, 0, 0x4000);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "other port");
	fr_ipv6(&f, 0, 17, client6, vip6, 1, 54, 0, 0);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "other IPv6 port");
	/* ICMP echo to a VIP: not load-balanced. */
	fr_ipv4(&f, 0, 17, client4, vip4, 0x0800, 0, 0, 8, 0);
	f.b[14 + 9] = 1;
	f.b[14 + 10] = f.b[14 + 11] = 0;
	fr_put16(f.b + 14 + 10, fr_csum(f.b + 14, 20, 0));
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "ICMP echo");
	fr_ipv6(&f, 0, 58, client6, vip6, 0x8000, 0, 0, 8);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "ICMPv6 echo");
	/* ARP for an address that is not ours; ARP replies. */
	arp_request(&f, other4, 0);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "ARP for another address");
	arp_request(&f, vip4, 0);
	fr_put16(f.b + 14 + 6, 2);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "ARP reply");
	/* A gratuitous ARP for one of our addresses is not a question. */
	arp_request(&f, vip4, 0);
	memcpy(f.b + 14 + 14, vip4, 4);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "gratuitous ARP");
}

/* Fragments carry no ports: they hash on the 3-tuple and only a port-0
 * VIP takes them; first and later fragments go to the same backend. */
static void test_fragments(void **state)
{
	uint64_t h = t_hash4(17, client4, vip4, 0, 0, snap->vips[VIP_UDP4_ANY].hash_seed);
	const struct sluice_backend *be = sluice_snapshot_pick(snap, &snap->vips[VIP_UDP4_ANY], h);
	uint16_t frags[2] = {0x2000, 0x00b9};
	struct frame f;
	(void)state;

	for (int i = 0; i < 2; i++) {
		struct rte_mbuf *m;
		const uint8_t *o;

		fr_ipv4(&f, 0, 17, client4, vip4, 4444, 53, 0, 64, frags[i]);
		m = t_one(&t, snap, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_memory_equal(o + 14 + 16, be->addr.bytes, 4);
		assert_int_equal(fr_get16(o + 14 + 20), 0xC000 | ((h >> 32) & 0x3FFF));
		assert_memory_equal(o + 14 + 28, f.b + 14, f.len - 14);
		rte_pktmbuf_free(m);
	}
	/* TCP fragments: no TCP wildcard VIP here. */
	fr_ipv4(&f, 0, 6, client4, vip4, 4444, 80, 0, 64, 0x2000);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "TCP fragment");
	/* An IPv6 fragment to a VIP with a port only. */
	fr_ipv6(&f, 0, 44, client6, vip6, 0, 0, 0, 16);
	f.b[14 + 40] = 17;
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "IPv6 fragment");
}

static void test_arp_reply(void **state)
{
	const uint8_t *targets[3] = {vip4, own4, g.src_v4.bytes};
	(void)state;

	for (int i = 0; i < 3; i++)
		for (int vlan = 0; vlan <= 12; vlan += 12) {
			struct frame f;
			struct rte_mbuf *m;
			const uint8_t *o, *a;
			size_t l2 = vlan ? 18 : 14;
			uint64_t n0 = t.lc->ctr.arp_replies;

			arp_request(&f, targets[i], vlan);
			m = t_one(&t, snap, &f, rte_rdtsc());
			assert_non_null(m);
			o = rte_pktmbuf_mtod(m, const uint8_t *);
			assert_int_equal(rte_pktmbuf_data_len(m), f.len);
			assert_memory_equal(o, fr_client_mac, 6);
			assert_memory_equal(o + 6, g.lb_mac, 6);
			if (vlan)
				assert_int_equal(fr_get16(o + 14), vlan);
			assert_int_equal(fr_get16(o + l2 - 2), 0x0806);
			a = o + l2;
			assert_memory_equal(a, f.b + l2, 6); /* htype, ptype, hlen, plen */
			assert_int_equal(fr_get16(a + 6), 2);
			assert_memory_equal(a + 8, g.lb_mac, 6);
			assert_memory_equal(a + 14, targets[i], 4);
			assert_memory_equal(a + 18, fr_client_mac, 6);
			assert_memory_equal(a + 24, client4, 4);
			assert_int_equal(t.lc->ctr.arp_replies, n0 + 1);
			rte_pktmbuf_free(m);
		}
}

static void ns_frame(struct frame *f, const uint8_t target[16], uint8_t hop)
{
	fr_ns(f, client6, target, hop);
}

static void test_nd_reply(void **state)
{
	struct frame f;
	struct rte_mbuf *m;
	const uint8_t *o, *ip, *ic;
	(void)state;

	ns_frame(&f, vip6, 255);
	m = t_one(&t, snap, &f, rte_rdtsc());
	assert_non_null(m);
	o = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 40 + 32);
	assert_memory_equal(o, fr_client_mac, 6);
	assert_memory_equal(o + 6, g.lb_mac, 6);
	assert_int_equal(fr_get16(o + 12), 0x86DD);
	ip = o + 14;
	ic = ip + 40;
	assert_int_equal(ip[0], 0x60);
	assert_int_equal(fr_get16(ip + 4), 32);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);
	assert_memory_equal(ip + 8, vip6, 16);
	assert_memory_equal(ip + 24, client6, 16);
	assert_int_equal(ic[0], 136);
	assert_int_equal(ic[1], 0);
	assert_int_equal(ic[4], 0x60); /* solicited, override */
	assert_memory_equal(ic + 8, vip6, 16);
	assert_int_equal(ic[24], 2);
	assert_int_equal(ic[25], 1);
	assert_memory_equal(ic + 26, g.lb_mac, 6);
	assert_int_equal(fr_csum6(ip, ic, 32, 58), 0);
	assert_int_equal(t.lc->ctr.nd_replies, 1);
	rte_pktmbuf_free(m);

	ns_frame(&f, vip6, 64);
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "NS with hop limit 64");
	ns_frame(&f, vip6, 255);
	f.b[14 + 40 + 2] ^= 1;
	expect_drop(snap, &f, SLUICE_DROP_MALFORMED, "NS with a bad checksum");
	ns_frame(&f, client6, 255);
	expect_drop(snap, &f, SLUICE_DROP_NOT_VIP, "NS for another address");
}

static void test_no_config(void **state)
{
	struct frame f;
	struct rte_mbuf *m;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 1, 80, SLUICE_TCP_SYN, 0, 0x4000);
	expect_drop(NULL, &f, SLUICE_DROP_NO_CONFIG, "no snapshot");
	fr_ipv6(&f, 0, 17, client6, vip6, 1, 53, 0, 0);
	expect_drop(NULL, &f, SLUICE_DROP_NO_CONFIG, "no snapshot, IPv6");
	arp_request(&f, vip4, 0);
	expect_drop(NULL, &f, SLUICE_DROP_NOT_VIP, "ARP for a VIP without snapshot");
	/* --own-addr is answered with the port's MAC. */
	arp_request(&f, own4, 0);
	m = t_one(&t, NULL, &f, rte_rdtsc());
	assert_non_null(m);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 6, &t.cfg.port_mac[0], 6);
	rte_pktmbuf_free(m);
}

/* Above the insert cap, new flows are still forwarded by the table, but
 * not inserted, and counted. */
static void test_syn_cap(void **state)
{
	struct t_lcore c;
	struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
	uint16_t n;
	(void)state;

	t_lcore_default_cfg(&c.cfg);
	c.cfg.syn_rate = 10; /* a tenth of a second's worth at once: one */
	t_lcore_init(&c);
	for (unsigned int i = 0; i < SLUICE_DP_BURST_MAX; i++) {
		struct frame f;

		fr_ipv4(&f, 0, 6, client4, vip4, (uint16_t)(100 + i), 80, SLUICE_TCP_SYN, 0,
			0x4000);
		in[i] = t_mbuf(&f);
	}
	n = sluice_dp_process(c.lc, snap, 0, in, SLUICE_DP_BURST_MAX, out, rte_rdtsc());
	assert_int_equal(n, SLUICE_DP_BURST_MAX);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t h = t_hash4(6, client4, vip4, (uint16_t)(100 + i), 80, 5);

		assert_memory_equal(rte_pktmbuf_mtod(out[i], uint8_t *) + 14 + 16,
				    sluice_snapshot_pick(snap, &snap->vips[0], h)->addr.bytes, 4);
		rte_pktmbuf_free(out[i]);
	}
	assert_int_equal(c.lc->ft->stats.inserts, 1);
	assert_int_equal(c.lc->ctr.flow_insert_capped, SLUICE_DP_BURST_MAX - 1);
	t_lcore_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_tcp_and_martians),
		cmocka_unit_test(test_not_vip),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_nd_reply),
		cmocka_unit_test(test_no_config),
		cmocka_unit_test(test_syn_cap),
	};
	int rc;

	if (t_eal_init("drops_test") < 0) {
		fprintf(stderr, "EAL initialisation failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, setup, teardown);
	t_eal_fini();
	return rc;
}
