/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP program (bpf/sluice_xdp.bpf.c) through BPF_PROG_TEST_RUN, loaded
 * and filled by the real loader (lib/xdp_path.c) from snapshots built
 * as sluiced builds them, never attached. Each fixture checks the verdict,
 * the output bytes (built independently, tests/common/xdp_fixture.h), the
 * backend (sluice_snapshot_pick as the oracle) and the counters.
 *
 * Needs root and BPF; fails, never skips, when the program cannot load.
 * Pinned maps live under /sys/fs/bpf/sluice/xdpfx-<pid>-N and are removed.
 */
#include "xdp_runner.h"

/* ---- fixtures ---- */

/* Before anything is published every packet goes up the stack. */
static void test_no_config_passes(void **state)
{
	struct fx g = {0}, *f = &g;
	struct frame in;
	struct result r;
	(void)state;

	assert_int_equal(open_instance(f), 0);
	fr_ipv4(&in, 0, 6, client4, vip4a, 40000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NO_CONFIG);
	sluice_xdp_path_close(f->xp, false);
	assert_int_equal(sluice_xdp_path_unpin(f->instance, NULL, 0), 0);
	fx_counters_free(&f->before);
	fx_counters_free(&f->after);
}

/* A SYN of a new flow: IPIP toward the table's backend, a flow entry. */
static void test_syn_new_flow(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, vip4a, 40001, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 40001, 80, 0x1111));
	assert_int_equal(D_XDP(f, flow_misses), 1);
	assert_int_equal(D_XDP(f, flow_hits), 0);
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
}

/* The same flow again: a flow-table hit, the same backend, no new entry. */
static void test_established_flow(void **state)
{
	struct fx *f = *state;
	uint64_t h = hash4(client4, vip4a, 6, 40002, 80, 0x1111);
	const struct sluice_backend *first;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, vip4a, 40002, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	first = expect_forward(f, &in, &r, V_TCP4, h);
	fr_ipv4(&in, 0, 6, client4, vip4a, 40002, 80, SLUICE_TCP_ACK, 100, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(expect_forward(f, &in, &r, V_TCP4, h)->id, first->id);
	assert_int_equal(D_XDP(f, flow_hits), 1);
	assert_int_equal(D_XDP(f, flow_misses), 0);
	assert_int_equal(D_LCORE(f, flow_inserts), 0);
}

/* The flood guard (bpf/xdp_abi.h) at 1 new flow a second, one token: the
 * first new flow gets an entry; the next new flows are forwarded by the
 * table without one and counted as flow_insert_capped, as in the DPDK
 * path; with the guard off again, new flows get entries. */
static void test_flood_guard(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	sluice_xdp_path_set_syn_rate(f->xp, 1);
	publish(f, N_VIPS);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 41000, 80, 0x1111));
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
	for (uint16_t port = 41001; port < 41004; port++) {
		fr_ipv4(&in, 0, 6, client4, vip4a, port, 80, SLUICE_TCP_SYN, 0, 0x4000);
		run(f, in.b, in.len, &r);
		expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, port, 80, 0x1111));
		assert_int_equal(D_LCORE(f, flow_inserts), 0);
		assert_int_equal(D_LCORE(f, flow_insert_capped), 1);
	}
	/* The capped flow has no entry: its next packet is a miss again. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 41001, 80, SLUICE_TCP_ACK, 10, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_misses), 1);
	sluice_xdp_path_set_syn_rate(f->xp, 0);
	publish(f, N_VIPS);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41005, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
	assert_int_equal(D_LCORE(f, flow_insert_capped), 0);
}

/* UDP to any port of the wildcard VIP: GUE. */
static void test_udp_gue_wildcard(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 17, client4, vip4a, 5353, 9999, 0, 77, 0);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_UDP4_ANY, hash4(client4, vip4a, 17, 5353, 9999, 0x2222));
	assert_int_equal(r.len, in.len + 28);
}

/* IPv6 in IPv6, and IPv6 in GUE over IPv4. */
static void test_ipv6(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv6(&in, 0, 6, client6, vip6a, 50000, 443, SLUICE_TCP_SYN, 0);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP6, hash6(client6, vip6a, 6, 50000, 443, 0x3333));
	assert_int_equal(r.len, in.len + 40);
	assert_int_equal(fr_get16(r.out + 12), 0x86DD);

	fr_ipv6(&in, 0, 17, client6, vip6b, 50001, 53, 0, 30);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_UDP6_GUE4, hash6(client6, vip6b, 17, 50001, 53, 0x5555));
	assert_int_equal(r.out[23], 17);	    /* outer IPv4, UDP */
	assert_int_equal(r.out[14 + 28] >> 4, 6); /* inner IPv6 */
}

/* L2 DSR: only the MAC addresses change, both families, with a VLAN tag. */
static void test_l2dsr(void **state)
{
	struct fx *f = *state;
	const struct sluice_backend *be;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, vip4b, 40003, 80, SLUICE_TCP_SYN, 10, 0x4000);
	run(f, in.b, in.len, &r);
	be = expect_forward(f, &in, &r, V_DSR4, hash4(client4, vip4b, 6, 40003, 80, 0x4444));
	assert_memory_equal(r.out, be->mac, 6);
	assert_memory_equal(r.out + 12, in.b + 12, in.len - 12);

	fr_ipv6(&in, 42, 6, client6, vip6c, 40004, 8443, SLUICE_TCP_SYN, 0);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, 7, hash6(client6, vip6c, 6, 40004, 8443, 0x7777));
	assert_memory_equal(r.out + 12, in.b + 12, in.len - 12);
}

/* A VLAN-tagged frame keeps its tag outside the outer header. */
static void test_vlan_ipip(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 300, 6, client4, vip4a, 40005, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 40005, 80, 0x1111));
	assert_int_equal(fr_get16(r.out + 12), 0x8100);
	assert_int_equal(fr_get16(r.out + 14), 300);
}

/* What is not for a VIP goes up the stack untouched, counted by reason. */
static void test_non_vip_pass(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, other4, 40006, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);

	/* The VIP's address, another port: not a VIP either. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 40006, 22, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	fr_ipv6(&in, 0, 17, client6, vip6a, 1, 443, 0, 0); /* TCP VIP, UDP packet */
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);

	/* ICMP echo to a VIP. */
	fr_ipv4(&in, 0, 17, client4, vip4a, 0, 0, 0, 8, 0);
	in.b[23] = 1;
	in.b[34] = 8;
	fr_put16(in.b + 24, 0);
	fr_put16(in.b + 24, fr_csum(in.b + 14, 20, 0));
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);

	/* ARP request for a VIP, ND solicitation for one. */
	fr_arp(&in, 0, 1, client4, vip4a);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, -1);
	assert_int_equal(D_XDP(f, pass_arp), 1);
	fr_ipv6(&in, 0, 58, client6, vip6a, 0, 0, 0, 16);
	in.b[14 + 40] = 135;
	memcpy(in.b + 14 + 48, vip6a, 16);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, -1);
	assert_int_equal(D_XDP(f, pass_nd), 1);

	/* IPv4 options, GRE, LLDP, an IPv6 extension header. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 40006, 80, SLUICE_TCP_SYN, 0, 0x4000);
	in.b[14] = 0x46;
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_IP_OPTIONS);
	in.b[14] = 0x45;
	in.b[23] = 47;
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_UNKNOWN_L4);
	fr_put16(in.b + 12, 0x88cc);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_UNKNOWN_L3);
	fr_ipv6(&in, 0, 6, client6, vip6a, 1, 443, 0, 0);
	in.b[14 + 6] = 0; /* hop-by-hop */
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_IPV6_EXT);
}

/* Too big once encapsulated: frag-needed / packet-too-big from the VIP. */
static void test_icmp_too_big(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	/* 1480 IP bytes + 20 of IPIP = 1500: fits exactly. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 40007, 80, SLUICE_TCP_ACK, 1480 - 40, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 40007, 80, 0x1111));

	/* 1481: frag-needed advertising 1480. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 40007, 80, SLUICE_TCP_ACK, 1481 - 40, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	assert_int_equal(r.len, 14 + 20 + 8 + 28);
	assert_memory_equal(r.out, fr_client_mac, 6);
	assert_memory_equal(r.out + 6, fr_lb_mac, 6);
	assert_int_equal(fr_csum(r.out + 14, 20, 0), 0);
	assert_int_equal(r.out[23], 1);
	assert_memory_equal(r.out + 26, vip4a, 4);
	assert_memory_equal(r.out + 30, client4, 4);
	assert_int_equal(r.out[34], 3);
	assert_int_equal(r.out[35], 4);
	assert_int_equal(fr_get16(r.out + 40), 1480);
	assert_int_equal(fr_csum(r.out + 34, 8 + 28, 0), 0);
	assert_memory_equal(r.out + 42, in.b + 14, 28);
	assert_int_equal(D_LCORE(f, icmp_too_big_sent), 1);
	assert_int_equal(D_DROP(f, SLUICE_DROP_TOO_BIG), 1);
	assert_int_equal(D_LCORE(f, tx_packets), 1);

	/* Without DF: dropped, not answered. */
	fr_ipv4(&in, 0, 6, client4, vip4a, 40007, 80, SLUICE_TCP_ACK, 1481 - 40, 0);
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_TOO_BIG);
	assert_int_equal(D_LCORE(f, icmp_too_big_sent), 0);

	/* IPv6 in IPv6: 1461 + 40 > 1500: packet too big advertising 1460. */
	fr_ipv6(&in, 0, 6, client6, vip6a, 50002, 443, SLUICE_TCP_ACK, 1461 - 60);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	assert_int_equal(r.len, 14 + 40 + 8 + 48);
	assert_int_equal(fr_get16(r.out + 12), 0x86DD);
	assert_int_equal(r.out[20], 58);
	assert_memory_equal(r.out + 22, vip6a, 16);
	assert_memory_equal(r.out + 38, client6, 16);
	assert_int_equal(r.out[54], 2);
	assert_int_equal(fr_get32(r.out + 58), 1460);
	assert_int_equal(fr_csum6(r.out + 14, r.out + 54, 8 + 48, 58), 0);
	assert_memory_equal(r.out + 62, in.b + 14, 48);
	assert_int_equal(D_LCORE(f, icmp_too_big_sent), 1);
}

/* A router's frag-needed about a packet the backend sent reaches the
 * backend of that flow, even after the table changed under it. */
static void build_frag_needed4(struct frame *out, uint16_t cport)
{
	struct frame quoted;

	fr_ipv4(&quoted, 0, 6, vip4a, client4, 80, cport, SLUICE_TCP_ACK, 1400, 0x4000);
	fr_icmp4_frag_needed(out, router4, vip4a, &quoted, 28, 1400);
}

static void build_ptb6(struct frame *out, uint16_t cport)
{
	struct frame quoted;
	uint8_t *ip, *ic;

	fr_ipv6(&quoted, 0, 6, vip6a, client6, 443, cport, SLUICE_TCP_ACK, 1300);
	fr_eth(out, 0x86DD, 0);
	ip = out->b + 14;
	ic = ip + 40;
	memset(ip, 0, 40 + 8);
	ip[0] = 0x60;
	fr_put16(ip + 4, 8 + 48);
	ip[6] = 58;
	ip[7] = 64;
	memcpy(ip + 8, router6, 16);
	memcpy(ip + 24, vip6a, 16);
	ic[0] = 2;
	fr_put16(ic + 6, 1280);
	memcpy(ic + 8, quoted.b + 14, 48);
	out->len = 14 + 40 + 8 + 48;
}

/* The VIPs of test_icmp_error_follows_flow after its table change. */
static void grown_vips(struct fx_vip *v)
{
	default_vips(v);
	for (int i = 0; i < 40; i++)
		fx_add_backend(&v[V_TCP4], (__u16)(110 + i), a4(10, 0, 9, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	for (int i = 0; i < 40; i++)
		fx_add_backend(&v[V_TCP6], (__u16)(310 + i), a6(9, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
}

/* A client port whose flow to vip_id the grown table moves elsewhere. */
static uint16_t port_that_moves(struct fx *f, const struct sluice_snapshot *grown, int v6)
{
	__u16 vip_id = v6 ? V_TCP6 : V_TCP4;

	for (uint16_t port = 41000; port < 42000; port++) {
		uint64_t h = v6 ? hash6(client6, vip6a, 6, port, 443, 0x3333)
				: hash4(client4, vip4a, 6, port, 80, 0x1111);

		if (sluice_snapshot_pick(f->snap, snap_vip(f, vip_id), h)->id !=
		    sluice_snapshot_pick(grown, &grown->vips[vip_id], h)->id)
			return port;
	}
	fail_msg("no flow moves");
	return 0;
}

static void test_icmp_error_follows_flow(void **state)
{
	struct fx *f = *state;
	struct sluice_snapshot *grown = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*grown));
	struct fx_vip *gv = calloc(N_VIPS, sizeof(*gv));
	struct sluice_global_cfg g = fx_global(1500);
	struct sluice_backend be, be6;
	struct frame in, icmp;
	struct result r;
	uint8_t want[4096];
	uint16_t p4, p6;
	uint64_t h, h6;
	size_t n;

	assert_non_null(grown);
	assert_non_null(gv);
	grown_vips(gv);
	assert_int_equal(fx_build(grown, &g, gv, N_VIPS, 0), 0);
	p4 = port_that_moves(f, grown, 0);
	p6 = port_that_moves(f, grown, 1);
	free(grown);
	free(gv);
	h = hash4(client4, vip4a, 6, p4, 80, 0x1111);
	h6 = hash6(client6, vip6a, 6, p6, 443, 0x3333);

	/* ICMP for a flow never seen: the table decides, as for the flow. */
	build_frag_needed4(&icmp, p4);
	run(f, icmp.b, icmp.len, &r);
	be = *expect_forward(f, &icmp, &r, V_TCP4, h);
	assert_int_equal(D_LCORE(f, flow_inserts), 0); /* ICMP creates no entry */

	fr_ipv4(&in, 0, 6, client4, vip4a, p4, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(expect_forward(f, &in, &r, V_TCP4, h)->id, be.id);
	fr_ipv6(&in, 0, 6, client6, vip6a, p6, 443, SLUICE_TCP_SYN, 0);
	run(f, in.b, in.len, &r);
	be6 = *expect_forward(f, &in, &r, V_TCP6, h6);

	/* The new table sends these flows elsewhere; their backends stay
	 * active, so the ICMP errors follow the flows' entries. */
	grown_vips(f->vips);
	publish(f, N_VIPS);
	assert_int_not_equal(sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP4), h)->id, be.id);
	assert_int_not_equal(sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP6), h6)->id, be6.id);
	run(f, icmp.b, icmp.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	n = fx_expect_encap(icmp.b, icmp.len, 14, SLUICE_FWD_IPIP, &be, h, want);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.out, want, n);
	assert_int_equal(D_BE(f, be.id), 1);

	build_ptb6(&icmp, p6);
	run(f, icmp.b, icmp.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	n = fx_expect_encap(icmp.b, icmp.len, 14, SLUICE_FWD_IPIP, &be6, h6, want);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.out, want, n);
	assert_int_equal(D_BE(f, be6.id), 1);

	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* A VIP without a backend for new flows drops them. */
static void test_no_backend(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, vip4c, 40009, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_NO_BACKEND);
	assert_int_equal(D_VIP(f, V_EMPTY), 0); /* VIPs count what they forward */
}

/* Every prefix of valid frames (from the Ethernet header on; the kernel
 * refuses shorter test frames): dropped for the reason the shared parser
 * gives in user space, truncated or malformed. */
static void test_truncated_at_every_header(void **state)
{
	struct fx *f = *state;
	struct frame fs[5];
	struct result r;

	fr_ipv4(&fs[0], 0, 6, client4, vip4a, 1, 80, SLUICE_TCP_SYN, 0, 0x4000);
	fr_ipv6(&fs[1], 7, 17, client6, vip6b, 1, 53, 0, 0);
	fr_ipv4(&fs[2], 9, 17, client4, vip4a, 1, 2, 0, 0, 0);
	fr_ipv6(&fs[3], 0, 6, client6, vip6a, 1, 443, SLUICE_TCP_ACK, 0);
	build_frag_needed4(&fs[4], 40010);
	for (int i = 0; i < 5; i++) {
		for (size_t len = 14; len < fs[i].len; len++) {
			struct sluice_pkt p;

			assert_int_equal(sluice_parse(fs[i].b, fs[i].b + len, &p), SLUICE_PKT_DROP);
			assert_true(p.drop_reason == SLUICE_DROP_TRUNCATED ||
				    p.drop_reason == SLUICE_DROP_MALFORMED);
			run(f, fs[i].b, len, &r);
			if (r.verdict != XDP_DROP || D_DROP(f, p.drop_reason) != 1)
				fail_msg("frame %d cut at %zu: verdict %d", i, len, r.verdict);
		}
	}
}

/* Lengths that lie, a zero TTL, IPv4 options, fragments. */
static void test_malformed(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 6, client4, vip4a, 40011, 80, SLUICE_TCP_SYN, 0, 0x4000);
	fr_put16(in.b + 16, 200); /* total length beyond the frame */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_TRUNCATED);
	fr_put16(in.b + 16, 12); /* shorter than its header */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_MALFORMED);
	fr_put16(in.b + 16, 24); /* too short for the ports */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_MALFORMED);
	fr_put16(in.b + 16, 40);
	in.b[14] = 0x44; /* IHL 4 */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_MALFORMED);
	in.b[14] = 0x45;
	in.b[22] = 0; /* TTL 0 */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_TTL_EXPIRED);

	fr_ipv6(&in, 0, 6, client6, vip6a, 1, 443, 0, 0);
	fr_put16(in.b + 14 + 4, 1000); /* payload beyond the frame */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_TRUNCATED);
	fr_put16(in.b + 14 + 4, 20);
	in.b[14 + 7] = 0; /* hop limit 0 */
	run(f, in.b, in.len, &r);
	expect_drop(f, &r, SLUICE_DROP_TTL_EXPIRED);

	/* Ethernet padding after a valid packet: forwarded without it (as the
	 * DPDK path does). */
	fr_ipv4(&in, 0, 17, client4, vip4a, 5354, 53, 0, 0, 0);
	{
		struct frame unpadded = in;

		memset(in.b + in.len, 0xee, 60 - in.len);
		in.len = 60;
		run(f, in.b, in.len, &r);
		assert_int_equal(r.verdict, XDP_TX);
		assert_int_equal(r.len, unpadded.len + 28);
		assert_int_equal(fr_get16(r.out + 14 + 2), 20 + 8 + 28);
		assert_memory_equal(r.out + 14 + 28, unpadded.b + 14, unpadded.len - 14);
		assert_int_equal(D_VIPB(f, V_UDP4_ANY), 60); /* received bytes */
	}
}

/* Fragments hash on the 3-tuple: the wildcard VIP takes them, all to one
 * backend; a port-specific VIP cannot see their port: they pass. */
static void test_fragments(void **state)
{
	struct fx *f = *state;
	uint64_t h = hash4(client4, vip4a, 17, 0, 0, 0x2222);
	const struct sluice_backend *be;
	struct frame in;
	struct result r;

	fr_ipv4(&in, 0, 17, client4, vip4a, 1000, 53, 0, 64, 0x2000); /* first, MF */
	run(f, in.b, in.len, &r);
	be = expect_forward(f, &in, &r, V_UDP4_ANY, h);
	fr_ipv4(&in, 0, 17, client4, vip4a, 0x0b0b, 0x0b0b, 0, 64, 0x0009); /* later */
	run(f, in.b, in.len, &r);
	assert_int_equal(expect_forward(f, &in, &r, V_UDP4_ANY, h)->id, be->id);

	fr_ipv4(&in, 0, 6, client4, vip4a, 40012, 80, 0, 64, 0x2000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
}


static void test_unset_mac_and_mtu(void **state)
{
	struct fx *f = *state;
	static const uint8_t ours[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	struct sluice_global_cfg g = fx_global(0);
	struct frame in;
	struct result r;
	char err[256];

	memset(g.lb_mac, 0, 6);
	assert_int_equal(fx_build(f->snap, &g, f->vips, N_VIPS, ++f->gen), 0);
	assert_int_equal(sluice_xdp_path_publish(f->xp, f->snap, err, sizeof(err)), 0);
	fr_ipv4(&in, 0, 6, client4, vip4a, 40016, 80, SLUICE_TCP_SYN, 0, 0x4000);
	memcpy(in.b, ours, 6);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	assert_memory_equal(r.out + 6, ours, 6);
	fr_ipv4(&in, 0, 6, client4, vip4a, 40016, 80, SLUICE_TCP_ACK, 1481 - 40, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	assert_int_equal(r.len, 14 + 20 + 8 + 28); /* frag-needed */
	assert_int_equal(fr_get16(r.out + 40), 1480);
	publish(f, N_VIPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_config_passes),
		cmocka_unit_test(test_syn_new_flow),
		cmocka_unit_test(test_established_flow),
		cmocka_unit_test(test_flood_guard),
		cmocka_unit_test(test_udp_gue_wildcard),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_l2dsr),
		cmocka_unit_test(test_vlan_ipip),
		cmocka_unit_test(test_non_vip_pass),
		cmocka_unit_test(test_icmp_too_big),
		cmocka_unit_test(test_icmp_error_follows_flow),
		cmocka_unit_test(test_no_backend),
		cmocka_unit_test(test_truncated_at_every_header),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_unset_mac_and_mtu),
	};

	if (fx_pin_cpu(0) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
