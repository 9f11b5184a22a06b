/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP program (bpf/sluice_xdp.bpf.c) through BPF_PROG_TEST_RUN, loaded
 * and filled by the real loader (ctrl/lib/xdp_path.c) from snapshots built
 * as sluiced builds them, never attached. Each fixture checks the verdict,
 * the output bytes (built independently, tests/bpf/xdp_fixture.h), the
 * backend (sluice_snapshot_pick as the oracle) and the counters.
 *
 * Needs root and BPF; fails, never skips, when the program cannot load.
 * Pinned maps live under /sys/fs/bpf/sluice/xdpfx-<pid>-N and are removed.
 */
#include <setjmp.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sluice/packet.h"
#include "xdp_fixture.h"

#define M 1009u

static const uint8_t client4[4] = {198, 51, 100, 7}, client4b[4] = {198, 51, 100, 8};
static const uint8_t vip4a[4] = {192, 0, 2, 10}, vip4b[4] = {192, 0, 2, 20};
static const uint8_t vip4c[4] = {192, 0, 2, 30}, other4[4] = {192, 0, 2, 99};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};
static const uint8_t vip6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x20};
static const uint8_t vip6c[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x30};
static const uint8_t router4[4] = {203, 0, 113, 1};
static const uint8_t router6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 1};

enum { V_TCP4 = 0, V_UDP4_ANY = 1, V_TCP6 = 2, V_DSR4 = 3, V_UDP6_GUE4 = 4, V_EMPTY = 5,
       V_DSR6_ANY = 7, N_VIPS = 7 };

struct fx {
	struct sluice_xdp_path *xp;
	char instance[40];
	int prog_fd;
	struct sluice_snapshot *snap;
	struct fx_vip *vips;	/* N_VIPS, indexed 0..6 (the last one is id 7) */
	struct fx_counters before, after;
	__u64 gen;
};

static int instance_seq;

static struct sluice_addr a4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return fx_addr4((uint8_t[]){a, b, c, d});
}

static struct sluice_addr a6(uint16_t net, uint8_t host)
{
	return fx_addr6((uint8_t[]){0xfd, 0, (uint8_t)(net >> 8), (uint8_t)net, [15] = host});
}

/* The fixture's VIPs (docs in the enum above). */
static void default_vips(struct fx_vip *v)
{
	fx_vip_init(&v[0], 0, fx_addr4(vip4a), 80, 6, SLUICE_FWD_IPIP, 0x1111, M);
	for (int i = 0; i < 4; i++)
		fx_add_backend(&v[0], (__u16)(100 + i), a4(10, 0, 1, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[1], 1, fx_addr4(vip4a), 0, 17, SLUICE_FWD_GUE, 0x2222, M);
	for (int i = 0; i < 3; i++)
		fx_add_backend(&v[1], (__u16)(200 + i), a4(10, 0, 2, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[2], 2, fx_addr6(vip6a), 443, 6, SLUICE_FWD_IPIP, 0x3333, M);
	for (int i = 0; i < 3; i++)
		fx_add_backend(&v[2], (__u16)(300 + i), a6(1, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[3], 3, fx_addr4(vip4b), 80, 6, SLUICE_FWD_L2DSR, 0x4444, M);
	for (int i = 0; i < 2; i++)
		fx_add_backend(&v[3], (__u16)(400 + i), a4(10, 0, 3, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[4], 4, fx_addr6(vip6b), 53, 17, SLUICE_FWD_GUE, 0x5555, M);
	for (int i = 0; i < 2; i++)
		fx_add_backend(&v[4], (__u16)(500 + i), a4(10, 0, 4, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[5], 5, fx_addr4(vip4c), 80, 6, SLUICE_FWD_IPIP, 0x6666, M);
	fx_add_backend(&v[5], 600, a4(10, 0, 5, 1), SLUICE_BACKEND_DRAINING);
	fx_vip_init(&v[6], 7, fx_addr6(vip6c), 0, 6, SLUICE_FWD_L2DSR, 0x7777, M);
	fx_add_backend(&v[6], 700, a6(3, 1), SLUICE_BACKEND_ACTIVE);
}

static void publish(struct fx *f, size_t n_vips)
{
	struct sluice_global_cfg g = fx_global(1500);
	char err[256];

	assert_int_equal(fx_build(f->snap, &g, f->vips, n_vips, ++f->gen), 0);
	if (sluice_xdp_path_publish(f->xp, f->snap, err, sizeof(err)) < 0)
		fail_msg("publish: %s", err);
}

static int open_instance(struct fx *f)
{
	char err[512];

	snprintf(f->instance, sizeof(f->instance), "xdpfx-%d-%d", (int)getpid(), instance_seq++);
	if (sluice_xdp_path_open(f->instance, &f->xp, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice_xdp_path_open: %s; this test needs root and BPF, it does "
				"not skip\n", err);
		return -1;
	}
	f->prog_fd = sluice_xdp_path_prog_fd(f->xp);
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->snap = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*f->snap));
	f->vips = calloc(N_VIPS, sizeof(*f->vips));
	if (!f->snap || !f->vips || open_instance(f) < 0)
		return -1;
	memset(f->snap, 0, sizeof(*f->snap));
	default_vips(f->vips);
	publish(f, N_VIPS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sluice_xdp_path_close(f->xp, false);
	sluice_xdp_path_unpin(f->instance, NULL, 0);
	fx_counters_free(&f->before);
	fx_counters_free(&f->after);
	free(f->snap);
	free(f->vips);
	free(f);
	return 0;
}

/* ---- running and checking ---- */

struct result {
	int verdict;
	uint8_t out[4096];
	size_t len;
};

static void run(struct fx *f, const uint8_t *in, size_t len, struct result *r)
{
	fx_counters_read(f->xp, &f->before);
	r->verdict = fx_run(f->prog_fd, in, len, r->out, &r->len);
	if (r->verdict < 0)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(-r->verdict));
	fx_counters_read(f->xp, &f->after);
}

#define D_LCORE(f, name) ((f)->after.st->counters.name - (f)->before.st->counters.name)
#define D_DROP(f, r) ((f)->after.st->counters.drops[r] - (f)->before.st->counters.drops[r])
#define D_XDP(f, name) ((f)->after.x.name - (f)->before.x.name)
#define D_PASS(f, r) ((f)->after.x.pass[r] - (f)->before.x.pass[r])
#define D_VIP(f, id) ((f)->after.st->vip[id].packets - (f)->before.st->vip[id].packets)
#define D_VIPB(f, id) ((f)->after.st->vip[id].bytes - (f)->before.st->vip[id].bytes)
#define D_BE(f, id) ((f)->after.st->backend[id].packets - (f)->before.st->backend[id].packets)
#define D_BEB(f, id) ((f)->after.st->backend[id].bytes - (f)->before.st->backend[id].bytes)

/* The VIP struct in the published snapshot. */
static const struct sluice_vip *snap_vip(struct fx *f, __u16 id)
{
	return &f->snap->vips[id];
}

/* Forwarded: verdict XDP_TX, bytes as expected toward the oracle's backend
 * for hash, and its counters. Returns that backend. */
static const struct sluice_backend *expect_forward(struct fx *f, const struct frame *in,
						   const struct result *r, __u16 vip_id,
						   uint64_t hash)
{
	const struct sluice_vip *v = snap_vip(f, vip_id);
	const struct sluice_backend *be = sluice_snapshot_pick(f->snap, v, hash);
	uint8_t want[4096];
	size_t l3 = fr_get16(in->b + 12) == 0x8100 ? 18 : 14, n;

	assert_non_null(be);
	assert_int_equal(r->verdict, XDP_TX);
	n = fx_expect_encap(in->b, in->len, l3, v->mode, be, hash, want);
	assert_int_equal(r->len, n);
	assert_memory_equal(r->out, want, n);
	if (v->mode != SLUICE_FWD_L2DSR && be->addr.family == SLUICE_FAMILY_V4)
		assert_int_equal(fr_csum(r->out + l3, 20, 0), 0);
	assert_int_equal(D_LCORE(f, rx_packets), 1);
	assert_int_equal(D_LCORE(f, rx_bytes), in->len);
	assert_int_equal(D_LCORE(f, tx_packets), 1);
	assert_int_equal(D_LCORE(f, tx_bytes), n);
	assert_int_equal(D_VIP(f, vip_id), 1);
	assert_int_equal(D_VIPB(f, vip_id), in->len);
	assert_int_equal(D_BE(f, be->id), 1);
	assert_int_equal(D_BEB(f, be->id), in->len); /* received bytes, as for the VIP */
	return be;
}

/* Passed up the stack untouched, counted under reason. */
static void expect_pass(struct fx *f, const struct frame *in, const struct result *r, int reason)
{
	assert_int_equal(r->verdict, XDP_PASS);
	assert_int_equal(r->len, in->len);
	assert_memory_equal(r->out, in->b, in->len);
	assert_int_equal(D_XDP(f, xdp_pass), 1);
	if (reason >= 0)
		assert_int_equal(D_PASS(f, reason), 1);
	assert_int_equal(D_LCORE(f, tx_packets), 0);
}

static void expect_drop(struct fx *f, const struct result *r, int reason)
{
	assert_int_equal(r->verdict, XDP_DROP);
	assert_int_equal(D_XDP(f, xdp_drop), 1);
	assert_int_equal(D_DROP(f, reason), 1);
	assert_int_equal(D_LCORE(f, tx_packets), 0);
}

static uint64_t hash4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t sp,
		      uint16_t dp, uint64_t seed)
{
	return fx_hash(0, src, dst, proto, sp, dp, seed);
}

static uint64_t hash6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t sp,
		      uint16_t dp, uint64_t seed)
{
	return fx_hash(1, src, dst, proto, sp, dp, seed);
}

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
	assert_int_equal(D_XDP(f, lru_misses), 1);
	assert_int_equal(D_XDP(f, lru_hits), 0);
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
}

/* The same flow again: an LRU hit, the same backend, no new entry. */
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
	assert_int_equal(D_XDP(f, lru_hits), 1);
	assert_int_equal(D_XDP(f, lru_misses), 0);
	assert_int_equal(D_LCORE(f, flow_inserts), 0);
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
	uint8_t *a;

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
	fr_eth(&in, 0x0806, 0);
	a = in.b + 14;
	memset(a, 0, 28);
	fr_put16(a, 1);
	fr_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	fr_put16(a + 6, 1);
	memcpy(a + 14, client4, 4);
	memcpy(a + 24, vip4a, 4);
	in.len = 14 + 28;
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
	uint8_t *ip, *ic;

	fr_ipv4(&quoted, 0, 6, vip4a, client4, 80, cport, SLUICE_TCP_ACK, 1400, 0x4000);
	fr_eth(out, 0x0800, 0);
	ip = out->b + 14;
	ic = ip + 20;
	memset(ip, 0, 20 + 8);
	ip[0] = 0x45;
	fr_put16(ip + 2, 20 + 8 + 28);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, router4, 4);
	memcpy(ip + 16, vip4a, 4);
	fr_put16(ip + 10, fr_csum(ip, 20, 0));
	ic[0] = 3;
	ic[1] = 4;
	fr_put16(ic + 6, 1400);
	memcpy(ic + 8, quoted.b + 14, 28);
	fr_put16(ic + 2, fr_csum(ic, 8 + 28, 0));
	out->len = 14 + 20 + 8 + 28;
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

/* ---- table changes ---- */

#define NFLOWS 300

/* Forget every flow (earlier fixtures left theirs): zero every set. */
static void flows_clear(struct fx *f)
{
	__u32 n = SLUICE_XDP_FLOW_SETS;
	__u32 *keys = calloc(n, sizeof(*keys));
	void *zero = calloc(n, sizeof(struct sluice_xdp_flow_set));
	char path[256];
	int fd;

	assert_non_null(keys);
	assert_non_null(zero);
	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	snprintf(path, sizeof(path), "%s/flows", sluice_xdp_path_pin_dir(f->xp));
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_batch(fd, keys, zero, &n, NULL), 0);
	close(fd);
	free(keys);
	free(zero);
}

/* NFLOWS TCP flows to VIP 0 (client ports 20000..), established. */
static void establish(struct fx *f, __u16 *backend_of)
{
	flows_clear(f);
	for (int i = 0; i < NFLOWS; i++) {
		struct frame in;
		struct result r;
		uint16_t port = (uint16_t)(20000 + i);

		fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_SYN, 0, 0x4000);
		run(f, in.b, in.len, &r);
		backend_of[i] = expect_forward(f, &in, &r, V_TCP4,
					       hash4(client4b, vip4a, 6, port, 80, 0x1111))->id;
	}
}

/* Send flow i again: returns its backend id; checks the bytes for it. */
static __u16 resend(struct fx *f, int i, const struct sluice_backend **be_out)
{
	struct frame in;
	struct result r;
	uint16_t port = (uint16_t)(20000 + i);
	uint64_t h = hash4(client4b, vip4a, 6, port, 80, 0x1111);

	fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_ACK, 20, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	for (__u32 b = 0; b < f->snap->n_backends; b++) {
		const struct sluice_backend *be = &f->snap->backends[b];
		uint8_t want[4096];
		size_t n;

		if (memcmp(r.out + 30, be->addr.bytes, 4) != 0)
			continue;
		n = fx_expect_encap(in.b, in.len, 14, SLUICE_FWD_IPIP, be, h, want);
		assert_int_equal(r.len, n);
		assert_memory_equal(r.out, want, n);
		if (be_out)
			*be_out = be;
		return be->id;
	}
	fail_msg("flow %d sent to an address that is no backend", i);
	return 0;
}

/* The kernel's tick rate, as the program reads it (CONFIG_HZ through
 * libbpf's kconfig; 250 when the configuration cannot be read). */
static unsigned int kernel_hz(void)
{
	FILE *p = popen("(zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) "
			"2>/dev/null) | sed -n 's/^CONFIG_HZ=//p'",
			"r");
	unsigned int hz = 0;

	if (p) {
		if (fscanf(p, "%u", &hz) != 1)
			hz = 0;
		pclose(p);
	}
	return hz ? hz : SLUICE_XDP_DEFAULT_HZ;
}

/* The flow table, mapped (BPF_F_MMAPABLE), and the one live way in it. */
static struct sluice_xdp_flow_set *flows_map(struct fx *f)
{
	char path[256];
	void *m;
	int fd;

	snprintf(path, sizeof(path), "%s/flows", sluice_xdp_path_pin_dir(f->xp));
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	m = mmap(NULL, (size_t)SLUICE_XDP_FLOW_SETS * sizeof(struct sluice_xdp_flow_set),
		 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	return m;
}

static struct sluice_xdp_flow *only_way(struct sluice_xdp_flow_set *sets)
{
	struct sluice_xdp_flow *found = NULL;

	for (__u32 i = 0; i < SLUICE_XDP_FLOW_SETS; i++)
		for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
			if (sets[i].way[w].seen) {
				assert_null(found);
				found = &sets[i].way[w];
			}
	assert_non_null(found);
	return found;
}

/* Move way f's last packet back by secs seconds (clock units of 64
 * jiffies). */
static void age_way(struct sluice_xdp_flow *w, unsigned int secs)
{
	__u32 units = (__u32)(((unsigned long long)secs * kernel_hz()) >> SLUICE_XDP_TIME_SHIFT);

	w->seen = (((w->seen >> 2) - units) & SLUICE_XDP_TIME_MASK) << 2 | (w->seen & 3);
}

/* Idle timeouts by class, as the DPDK path's: a TCP flow lives 300 s after
 * its last packet, a closing one (FIN or RST seen) 10 s, a UDP one 30 s;
 * an expired entry is a new flow again (its way reused, counted as
 * expired). Ages are made by moving the entry's time back. */
static void test_idle_timeouts(void **state)
{
	struct fx *f = *state;
	struct sluice_xdp_flow_set *sets;
	struct sluice_xdp_flow *w;
	struct frame in;
	struct result r;

	flows_clear(f);
	sets = flows_map(f);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	w = only_way(sets);
	assert_int_equal(w->seen & 3, SLUICE_XDP_CLASS_TCP);
	/* 20 s idle: a TCP flow is still there; after a FIN, 20 s is too long. */
	age_way(w, 20);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_FIN | SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_hits), 1);
	assert_int_equal(w->seen & 3, SLUICE_XDP_CLASS_CLOSING);
	age_way(w, 8);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_hits), 1); /* 8 s < 10 s */
	age_way(w, 12);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_misses), 1); /* 12 s > 10 s: gone */
	assert_int_equal(D_LCORE(f, flow_expired), 1);
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
	assert_true(only_way(sets) == w); /* its own way, reused */
	assert_int_equal(w->seen & 3, SLUICE_XDP_CLASS_TCP);
	/* A TCP flow idle for 290 s lives, for 310 s it does not. */
	age_way(w, 290);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_hits), 1);
	age_way(w, 310);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_misses), 1);

	/* UDP: 30 s. */
	flows_clear(f);
	fr_ipv4(&in, 0, 17, client4, vip4a, 5353, 9999, 0, 20, 0);
	run(f, in.b, in.len, &r);
	w = only_way(sets);
	assert_int_equal(w->seen & 3, SLUICE_XDP_CLASS_UDP);
	age_way(w, 25);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_hits), 1);
	age_way(w, 35);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_misses), 1);
	munmap(sets, (size_t)SLUICE_XDP_FLOW_SETS * sizeof(struct sluice_xdp_flow_set));
}

/* The flow table is shared by the CPUs without locks: a way read while
 * another CPU rewrites it may hold the tag of one write and the backend of
 * another. Such a way must match no flow: the packet is a miss (the table
 * picks), never sent to the backend the torn way names. */
static void test_torn_way_is_a_miss(void **state)
{
	struct fx *f = *state;
	uint64_t h = hash4(client4, vip4a, 6, 41001, 80, 0x1111);
	const struct sluice_backend *be;
	struct sluice_xdp_flow_set *sets;
	struct sluice_xdp_flow *w;
	struct frame in;
	struct result r;

	flows_clear(f);
	sets = flows_map(f);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41001, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	be = expect_forward(f, &in, &r, V_TCP4, h);
	w = only_way(sets);
	/* Another backend of the VIP in the way, the tag left as it was. */
	for (__u32 b = 0; b < f->snap->n_backends; b++)
		if (f->snap->backends[b].vip_id == V_TCP4 && f->snap->backends[b].id != be->id) {
			w->backend_id = f->snap->backends[b].id;
			break;
		}
	assert_int_not_equal(w->backend_id, be->id);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41001, 80, SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, lru_misses), 1);
	assert_int_equal(expect_forward(f, &in, &r, V_TCP4, h)->id, be->id);
	munmap(sets, (size_t)SLUICE_XDP_FLOW_SETS * sizeof(struct sluice_xdp_flow_set));
}

/* Adding a backend swaps in a new table: established flows keep their
 * backends, new flows follow the new table. */
static void test_table_swap_keeps_flows(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	int moved_by_table = 0;

	establish(f, before);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);

		if (sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP4), h)->id != before[i])
			moved_by_table++;
		assert_int_equal(resend(f, i, NULL), before[i]);
		assert_int_equal(D_XDP(f, lru_hits), 1);
	}
	printf("table swap: %d of %d flows would move by the new table; none did\n",
	       moved_by_table, NFLOWS);
	assert_true(moved_by_table > 0);

	/* New flows: the new table. */
	for (int i = 0; i < 50; i++) {
		struct frame in;
		struct result r;
		uint16_t port = (uint16_t)(30000 + i);

		fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_SYN, 0, 0x4000);
		run(f, in.b, in.len, &r);
		expect_forward(f, &in, &r, V_TCP4, hash4(client4b, vip4a, 6, port, 80, 0x1111));
	}
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* One flow table for the host: flows established on CPU 0 keep their
 * backends when their packets arrive on CPU 1 after the table changed (no
 * RSS on veth; a NAPI instance polled from another CPU). With a table per
 * CPU, CPU 1 would re-pick them from the new table and move some. */
static void test_flows_follow_across_cpus(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	int moved_by_table = 0;

	assert_true(libbpf_num_possible_cpus() >= 2); /* this machine has 2 */
	establish(f, before);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	assert_int_equal(fx_pin_cpu(1), 0);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);

		if (sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP4), h)->id != before[i])
			moved_by_table++;
		assert_int_equal(resend(f, i, NULL), before[i]);
		assert_int_equal(D_XDP(f, lru_hits), 1);
	}
	assert_int_equal(fx_pin_cpu(0), 0);
	printf("on the other CPU: %d of %d flows would move by the new table; none did\n",
	       moved_by_table, NFLOWS);
	assert_true(moved_by_table > 0);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* A removed or failed backend's flows are re-picked from the new table;
 * a draining backend keeps its flows and gets no new ones. */
static void test_repick_after_removal(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS], removed = 101, down = 102, draining = 103;
	int n_removed = 0, n_down = 0, n_draining = 0;
	struct fx_vip *v = &f->vips[V_TCP4];

	establish(f, before);
	/* Remove 101 (swap the last backend into its place), 102 down, 103
	 * draining. */
	for (size_t i = 0; i < v->n; i++) {
		if (v->be[i].id == removed)
			v->be[i--] = v->be[--v->n];
		else if (v->be[i].id == down)
			v->be[i].state = SLUICE_BACKEND_DOWN;
		else if (v->be[i].id == draining)
			v->be[i].state = SLUICE_BACKEND_DRAINING;
	}
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);
		const struct sluice_backend *pick = sluice_snapshot_pick(f->snap,
									  snap_vip(f, V_TCP4), h);
		__u16 now = resend(f, i, NULL);

		assert_true(pick->id != removed && pick->id != down && pick->id != draining);
		if (before[i] == removed || before[i] == down) {
			assert_int_equal(now, pick->id);
			assert_int_equal(D_LCORE(f, flow_repicks), 1);
			n_removed += before[i] == removed;
			n_down += before[i] == down;
		} else {
			assert_int_equal(now, before[i]);
			assert_int_equal(D_LCORE(f, flow_repicks), 0);
			n_draining += before[i] == draining;
		}
	}
	printf("re-picked %d flows of a removed backend and %d of a failed one; %d stayed on "
	       "a draining one\n", n_removed, n_down, n_draining);
	assert_true(n_removed > 0 && n_down > 0 && n_draining > 0);
	/* Once re-picked, they stay. */
	for (int i = 0; i < NFLOWS; i++)
		if (before[i] == removed)
			assert_int_not_equal(resend(f, i, NULL), removed);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* VIPs come and go: a removed VIP's traffic passes, an added one is
 * served, and the removed backend ids are gone from the maps. */
static void test_vip_removed_and_added(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	publish(f, 2); /* only VIPs 0 and 1 */
	fr_ipv4(&in, 0, 6, client4, vip4b, 40013, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	fr_ipv6(&in, 0, 6, client6, vip6a, 50004, 443, SLUICE_TCP_SYN, 0);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	publish(f, N_VIPS);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP6, hash6(client6, vip6a, 6, 50004, 443, 0x3333));
}

/* A broken snapshot is refused before anything is written. */
static void test_publish_refuses_bad_snapshot(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;
	char err[256];
	__u16 saved = f->snap->tables[f->snap->vips[0].table_offset];

	f->snap->tables[f->snap->vips[0].table_offset] = 999;
	assert_int_equal(sluice_xdp_path_publish(f->xp, f->snap, err, sizeof(err)), -EINVAL);
	printf("refused: %s\n", err);
	f->snap->tables[f->snap->vips[0].table_offset] = saved;
	fr_ipv4(&in, 0, 6, client4, vip4a, 40014, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 40014, 80, 0x1111));
}

/* A new loader on the pinned maps (a restarted sluiced) keeps the flows. */
static void test_reopen_keeps_flows(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	char err[512];

	establish(f, before);
	sluice_xdp_path_close(f->xp, false);
	assert_int_equal(sluice_xdp_path_open(f->instance, &f->xp, err, sizeof(err)), 0);
	f->prog_fd = sluice_xdp_path_prog_fd(f->xp);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++)
		assert_int_equal(resend(f, i, NULL), before[i]);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* Ids that change meaning in one publish (sluiced does not do this, the
 * loader still must not mix them up): VIP 3 moves to another address, its
 * backend ids to other addresses. */
static void test_ids_change_meaning(void **state)
{
	struct fx *f = *state;
	static const uint8_t vip4d[4] = {192, 0, 2, 21};
	struct frame in;
	struct result r;
	const struct sluice_backend *be;

	fr_ipv4(&in, 0, 6, client4, vip4b, 40015, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_DSR4, hash4(client4, vip4b, 6, 40015, 80, 0x4444));

	fx_vip_init(&f->vips[V_DSR4], 3, fx_addr4(vip4d), 80, 6, SLUICE_FWD_L2DSR, 0x4444, M);
	fx_add_backend(&f->vips[V_DSR4], 400, a4(10, 0, 7, 1), SLUICE_BACKEND_ACTIVE);
	fx_add_backend(&f->vips[V_DSR4], 401, a4(10, 0, 7, 2), SLUICE_BACKEND_ACTIVE);
	f->vips[V_DSR4].be[0].mac[0] = 0x06; /* other MACs too */
	f->vips[V_DSR4].be[1].mac[0] = 0x06;
	publish(f, N_VIPS);

	run(f, in.b, in.len, &r); /* the old address: no VIP any more */
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	fr_ipv4(&in, 0, 6, client4, vip4d, 40015, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	be = expect_forward(f, &in, &r, V_DSR4, hash4(client4, vip4d, 6, 40015, 80, 0x4444));
	assert_int_equal(be->mac[0], 0x06);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* Without a configured source MAC the interface's (the frame's
 * destination) is used; MTU 0 means 1500, as in the DPDK path. */
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
		cmocka_unit_test(test_idle_timeouts),
		cmocka_unit_test(test_torn_way_is_a_miss),
		cmocka_unit_test(test_table_swap_keeps_flows),
		cmocka_unit_test(test_flows_follow_across_cpus),
		cmocka_unit_test(test_repick_after_removal),
		cmocka_unit_test(test_vip_removed_and_added),
		cmocka_unit_test(test_publish_refuses_bad_snapshot),
		cmocka_unit_test(test_reopen_keeps_flows),
		cmocka_unit_test(test_ids_change_meaning),
		cmocka_unit_test(test_unset_mac_and_mtu),
	};

	if (fx_pin_cpu(0) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
