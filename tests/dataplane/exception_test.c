/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path's verdicts (dataplane/exception.h) on the packet
 * path itself: which frames are handed to the kernel (left in lc->exc->m),
 * which are still the data path's (forwarded, answered or dropped under
 * their reason), the layer-2 filter and its MAC rewrite, the token bucket,
 * the ports without a TAP and the time before the first snapshot. The
 * whole path with a real TAP and kernel: tests/e2e/e2e_exception.py.
 */
#include "dp_test.h"
#include "exception.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t host4[4] = {192, 0, 2, 20}, own4[4] = {10, 9, 9, 9};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};
static const uint8_t host6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x20};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t stranger[6] = {0x02, 0x77, 0, 0, 0, 0x01};

static struct sluice_snapshot *snap;
static struct t_vip tv[2];
static struct sluice_global_cfg g;
static struct t_lcore t;

enum verdict { DROPPED, SENT, KERNEL };

static int setup(void **state)
{
	(void)state;
	snap = calloc(1, sizeof(*snap));
	memset(tv, 0, sizeof(tv));
	tv[0].vip = (struct sluice_vip){.addr = t_v4(192, 0, 2, 10), .port = htons(80),
					.proto = 6, .mode = SLUICE_FWD_IPIP, .id = 0, .hash_seed = 5};
	tv[1].vip = (struct sluice_vip){.addr = t_v6(vip6), .port = htons(53), .proto = 17,
					.mode = SLUICE_FWD_GUE, .id = 1, .hash_seed = 7};
	t_backends(&tv[0], 1, 10, 1, 0, 2);
	t_backends(&tv[1], 10, 10, 2, 0, 2);
	g = t_global_init;
	g.gue_port = htons(6080);
	t_fill(snap, tv, 2, &g);
	snap->generation = 7;
	t_lcore_default_cfg(&t.cfg);
	memcpy(&t.cfg.port_mac[0], fr_lb_mac, 6);
	t.cfg.own[0] = t_v4(own4[0], own4[1], own4[2], own4[3]);
	t.cfg.n_own = 1;
	t.cfg.exception_ports = 1u << 0;
	t.cfg.exception_rate = 1000000;
	t_lcore_init(&t);
	assert_non_null(t.lc->exc);
	return snap ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	t_lcore_fini(&t);
	free(snap);
	return 0;
}

/* Process f on port; what became of it. A frame for the kernel is
 * compared with what was sent in (dst MAC rewritten to the port's). */
static enum verdict one(const struct sluice_snapshot *s, const struct frame *f, uint16_t port,
			uint64_t now)
{
	struct rte_mbuf *in = t_mbuf(f), *out = NULL;
	uint16_t n = sluice_dp_process(t.lc, s, port, &in, 1, &out, now);

	if (n) {
		rte_pktmbuf_free(out);
		assert_int_equal(t.lc->n_kernel, 0);
		return SENT;
	}
	if (t.lc->n_kernel) {
		struct rte_mbuf *m = t.lc->exc->m[0];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

		assert_int_equal(t.lc->n_kernel, 1);
		assert_int_equal(rte_pktmbuf_data_len(m), f->len);
		if (!(f->b[0] & 1))
			assert_memory_equal(d, &t.cfg.port_mac[port], 6);
		assert_memory_equal(d + 6, f->b + 6, f->len - 6);
		rte_pktmbuf_free(m);
		t.lc->n_kernel = 0;
		return KERNEL;
	}
	return DROPPED;
}

static uint64_t drops(int reason)
{
	return t.lc->ctr.drops[reason];
}

static void arp(struct frame *f, const uint8_t target[4])
{
	fr_arp(f, 0, 1, client4, target);
	memcpy(f->b, bcast, 6);
}

static void icmp_echo4(struct frame *f, const uint8_t dst[4])
{
	fr_ipv4(f, 0, 6, client4, dst, 1, 2, 0, 8, 0);
	f->b[14 + 9] = 1;
	f->b[14 + 20] = 8; /* echo request */
	f->b[14 + 10] = 0;
	f->b[14 + 11] = 0;
	fr_put16(f->b + 14 + 10, fr_csum(f->b + 14, 20, 0));
}

/* The host's traffic goes up; a VIP's never does, whatever its port or
 * protocol; ARP/ND for the VIPs and own addresses stay sluice-dp's. */
static void test_what_goes_up(void **state)
{
	struct frame f;
	uint64_t nv;
	(void)state;

	arp(&f, host4);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	arp(&f, vip4);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), SENT);
	arp(&f, own4);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), SENT);
	fr_arp(&f, 0, 2, client4, host4); /* a reply to the kernel's question */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	fr_ns(&f, client6, host6, 255);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	fr_ns(&f, client6, vip6, 255);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), SENT);

	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000); /* BGP */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	fr_ipv4(&f, 0, 17, client4, host4, 49152, 3784, 0, 24, 0); /* BFD */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	icmp_echo4(&f, host4);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	fr_ipv6(&f, 0, 6, client6, host6, 40000, 22, SLUICE_TCP_SYN, 0); /* ssh */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	fr_ipv4(&f, 0, 6, client4, host4, 1, 2, SLUICE_TCP_SYN, 0, 0x4000);
	fr_put16(f.b + 12, 0x88cc); /* LLDP, or any other EtherType */
	memcpy(f.b, (const uint8_t[6]){0x01, 0x80, 0xc2, 0, 0, 0x0e}, 6);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);

	/* VIP traffic: forwarded, or dropped for its own reason, never up. */
	nv = drops(SLUICE_DROP_NOT_VIP);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), SENT);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 22, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	icmp_echo4(&f, vip4);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	fr_ipv6(&f, 0, 6, client6, vip6, 40000, 22, SLUICE_TCP_SYN, 0);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	fr_ipv4(&f, 0, 47, client4, vip4, 1, 2, 0, 0, 0); /* GRE to the VIP */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	fr_arp(&f, 0, 1, vip4, vip4); /* someone else announcing the VIP */
	memcpy(f.b, bcast, 6);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	assert_int_equal(drops(SLUICE_DROP_NOT_VIP), nv + 4);
	assert_int_equal(drops(SLUICE_DROP_UNKNOWN_L4), 1);

	/* Bad packets are not the kernel's either. */
	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	f.b[14 + 8] = 0; /* TTL 0 */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	f.len = 14 + 10;
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
}

/* Layer 2: the port's MAC, group addresses, and the MAC sluice-dp sends
 * with (rewritten to the port's, the TAP's own); not a stranger's. */
static void test_layer2(void **state)
{
	static const uint8_t port_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct frame f;
	uint64_t nv = drops(SLUICE_DROP_NOT_VIP);
	(void)state;

	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	memcpy(f.b, stranger, 6);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	assert_int_equal(drops(SLUICE_DROP_NOT_VIP), nv + 1);
	/* g.lb_mac (fr_lb_mac) while the port has another MAC. */
	memcpy(&t.cfg.port_mac[0], port_mac, 6);
	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL); /* one() checks the rewrite */
	memcpy(f.b, port_mac, 6);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	memcpy(f.b, (const uint8_t[6]){0x01, 0, 0x5e, 0, 0, 5}, 6); /* multicast */
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), KERNEL);
	memcpy(&t.cfg.port_mac[0], fr_lb_mac, 6);
}

/* Only ports with a TAP; before the first snapshot no TCP or UDP (a VIP's
 * cannot be told from the host's), but ARP still. */
static void test_ports_and_no_config(void **state)
{
	struct frame f;
	(void)state;

	memcpy(&t.cfg.port_mac[1], fr_lb_mac, 6);
	arp(&f, host4);
	assert_int_equal(one(snap, &f, 1, rte_rdtsc()), DROPPED);
	assert_int_equal(one(NULL, &f, 0, rte_rdtsc()), KERNEL);
	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(one(NULL, &f, 0, rte_rdtsc()), DROPPED);
	assert_int_equal(drops(SLUICE_DROP_NO_CONFIG), 1);
}

/* The bucket: its burst (a tenth of the rate) at one instant, then one
 * token per 1/rate seconds; the rest dropped as to_kernel_ratelimit. A
 * new generation's VIPs are seen at once. */
static void test_rate_and_generations(void **state)
{
	const uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc() + hz;
	struct frame f;
	unsigned int up = 0;
	(void)state;

	sluice_dp_limit_init(&t.lc->exc->to_kernel, 100, hz, t0); /* burst of 10 */
	fr_ipv4(&f, 0, 17, client4, host4, 49152, 3784, 0, 24, 0);
	for (int i = 0; i < 50; i++)
		up += one(snap, &f, 0, t0) == KERNEL;
	assert_int_equal(up, 10);
	assert_int_equal(drops(SLUICE_DROP_TO_KERNEL_RATELIMIT), 40);
	/* 0.1 s later: 10 more tokens. */
	up = 0;
	for (int i = 0; i < 50; i++)
		up += one(snap, &f, 0, t0 + hz / 10) == KERNEL;
	assert_int_equal(up, 10);
	sluice_dp_limit_init(&t.lc->exc->to_kernel, 1000000, hz, t0);

	/* host4 becomes a VIP: its traffic stays in the data path from the
	 * generation that says so. */
	tv[0].vip.addr = t_v4(host4[0], host4[1], host4[2], host4[3]);
	t_fill(snap, tv, 2, &g);
	snap->generation = 8;
	fr_ipv4(&f, 0, 6, client4, host4, 40000, 179, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(one(snap, &f, 0, rte_rdtsc()), DROPPED);
	assert_true(sluice_dp_exc_is_vip_addr(t.lc->exc, snap, SLUICE_FAMILY_V4, host4));
	assert_false(sluice_dp_exc_is_vip_addr(t.lc->exc, snap, SLUICE_FAMILY_V4, vip4));
	assert_true(sluice_dp_exc_is_vip_addr(t.lc->exc, snap, SLUICE_FAMILY_V6, vip6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_goes_up),
		cmocka_unit_test(test_layer2),
		cmocka_unit_test(test_ports_and_no_config),
		cmocka_unit_test(test_rate_and_generations),
	};

	return t_main("exception_test", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
