/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's packet path (dataplane/process.c) on real mbufs: for
 * each forwarding mode, the backend is the one the table names (computed
 * independently), and the outer headers are right byte by byte with valid
 * checksums; flows stay on their backend across table changes while it is
 * in the set, move when it is removed; ICMP errors follow their flow; too
 * big packets get ICMP frag-needed / packet-too-big.
 */
#include "dp_test.h"
#include "rss.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t dsr4[4] = {192, 0, 2, 20};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};
static const uint8_t nexthop_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
#define GUE_PORT 6080

static struct sluice_snapshot *snap_a, *snap_b;
static struct t_vip tv[5];
static struct sluice_global_cfg g;
static struct t_lcore t;

enum { VIP_TCP4 = 0, VIP_UDP4_ANY = 1, VIP_TCP6 = 2, VIP_UDP6 = 3, VIP_DSR4 = 4 };

static void base_vips(void)
{
	static const struct {
		const uint8_t *addr;
		int family;
		uint16_t port;
		uint8_t proto, mode, nbe;
		uint16_t first_id;
	} d[5] = {
		{vip4, 4, 80, 6, SLUICE_FWD_IPIP, 4, 1},   {vip4, 4, 0, 17, SLUICE_FWD_GUE, 3, 10},
		{vip6, 6, 443, 6, SLUICE_FWD_IPIP, 3, 20}, {vip6, 6, 53, 17, SLUICE_FWD_GUE, 2, 30},
		{dsr4, 4, 80, 6, SLUICE_FWD_L2DSR, 3, 40},
	};

	memset(tv, 0, sizeof(tv));
	for (uint16_t i = 0; i < 5; i++) {
		struct sluice_vip *v = &tv[i].vip;

		v->addr = d[i].family == 4 ? t_v4(d[i].addr[0], d[i].addr[1], d[i].addr[2],
						  d[i].addr[3])
					   : t_v6(d[i].addr);
		v->port = htons(d[i].port);
		v->proto = d[i].proto;
		v->mode = d[i].mode;
		v->id = i;
		v->hash_seed = 11u + i;
		tv[i].n = d[i].nbe;
		for (uint16_t j = 0; j < d[i].nbe; j++) {
			uint8_t a6[16] = {0xfd, 0, 0, (uint8_t)d[i].first_id, [15] = (uint8_t)(j + 1)};

			tv[i].be[j] = t_backend((uint16_t)(d[i].first_id + j),
						d[i].family == 4 ? t_v4(10, (uint8_t)(i + 1), 0,
									(uint8_t)(j + 1))
								 : t_v6(a6),
						SLUICE_BACKEND_ACTIVE);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	snap_a = calloc(1, sizeof(*snap_a));
	snap_b = calloc(1, sizeof(*snap_b));
	g = t_global_init;
	g.gue_port = htons(GUE_PORT);
	base_vips();
	t_fill(snap_a, tv, 5, &g);
	t_lcore_default_cfg(&t.cfg);
	t_lcore_init(&t);
	return snap_a && snap_b ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	t_lcore_fini(&t);
	free(snap_a);
	free(snap_b);
	return 0;
}

static const struct sluice_backend *oracle4(const struct sluice_snapshot *s, int vip, uint8_t proto,
					    const uint8_t *dst, uint16_t sport, uint16_t dport,
					    uint64_t *hash)
{
	uint64_t h = t_hash4(proto, client4, dst, sport, dport, s->vips[vip].hash_seed);

	if (hash)
		*hash = h;
	return sluice_snapshot_pick(s, &s->vips[vip], h);
}

static const struct sluice_backend *oracle6(const struct sluice_snapshot *s, int vip, uint8_t proto,
					    uint16_t sport, uint16_t dport, uint64_t *hash)
{
	uint64_t h = t_hash6(proto, client6, vip6, sport, dport, s->vips[vip].hash_seed);

	if (hash)
		*hash = h;
	return sluice_snapshot_pick(s, &s->vips[vip], h);
}

/* Ethernet header of an encapsulated frame; returns its length. */
static size_t check_eth(const uint8_t *o, const uint8_t *dst, uint16_t type, int vlan)
{
	assert_memory_equal(o, dst, 6);
	assert_memory_equal(o + 6, g.lb_mac, 6);
	if (vlan) {
		assert_int_equal(fr_get16(o + 12), 0x8100);
		assert_int_equal(fr_get16(o + 14), vlan);
		assert_int_equal(fr_get16(o + 16), type);
		return 18;
	}
	assert_int_equal(fr_get16(o + 12), type);
	return 14;
}

/* An outer IPv4 header toward be, carrying inner_len bytes after extra. */
static void check_outer4(const uint8_t *ip, uint8_t tos, size_t inner_len, size_t extra,
			 uint8_t proto, const struct sluice_backend *be)
{
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], tos);
	assert_int_equal(fr_get16(ip + 2), 20 + extra + inner_len);
	assert_int_equal(fr_get16(ip + 4), 0);
	assert_int_equal(fr_get16(ip + 6), 0x4000);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], proto);
	assert_int_equal(fr_csum(ip, 20, 0), 0);
	assert_memory_equal(ip + 12, g.src_v4.bytes, 4);
	assert_memory_equal(ip + 16, be->addr.bytes, 4);
}

static void check_outer6(const uint8_t *ip, uint8_t tclass, size_t payload, uint8_t nh,
			 const struct sluice_backend *be, uint64_t hash)
{
	uint32_t w = fr_get32(ip);

	assert_int_equal(w >> 28, 6);
	assert_int_equal((w >> 20) & 0xff, tclass);
	assert_int_equal(w & 0xfffff, (uint32_t)hash & 0xfffff);
	assert_int_equal(fr_get16(ip + 4), payload);
	assert_int_equal(ip[6], nh);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, g.src_v6.bytes, 16);
	assert_memory_equal(ip + 24, be->addr.bytes, 16);
}

static void check_gue(const uint8_t *udp, size_t inner_len, uint64_t hash)
{
	assert_int_equal(fr_get16(udp), 0xC000 | ((hash >> 32) & 0x3FFF));
	assert_int_equal(fr_get16(udp + 2), GUE_PORT);
	assert_int_equal(fr_get16(udp + 4), 8 + inner_len);
	assert_int_equal(fr_get16(udp + 6), 0);
}

static void test_ipip4_picks_table_backend(void **state)
{
	(void)state;
	for (int vlan = 0; vlan <= 42; vlan += 42)
		for (uint16_t sport = 1000; sport < 1200; sport++) {
			struct frame f;
			const struct sluice_backend *be =
				oracle4(snap_a, VIP_TCP4, 6, vip4, sport, 80, NULL);
			struct rte_mbuf *m;
			const uint8_t *o;
			size_t l2, inner = 40 + 10;

			fr_ipv4(&f, vlan, 6, client4, vip4, sport, 80, SLUICE_TCP_SYN, 10, 0x4000);
			m = t_one(&t, snap_a, &f, rte_rdtsc());
			assert_non_null(m);
			o = rte_pktmbuf_mtod(m, const uint8_t *);
			assert_int_equal(rte_pktmbuf_data_len(m), f.len + 20);
			l2 = check_eth(o, nexthop_mac, 0x0800, vlan);
			check_outer4(o + l2, 0x10, inner, 0, 4, be);
			/* The inner packet is untouched. */
			assert_memory_equal(o + l2 + 20, f.b + l2, inner);
			rte_pktmbuf_free(m);
		}
}

static void test_gue4_wildcard(void **state)
{
	(void)state;
	for (uint16_t dport = 50; dport < 150; dport++) {
		struct frame f;
		uint64_t h;
		const struct sluice_backend *be =
			oracle4(snap_a, VIP_UDP4_ANY, 17, vip4, 5353, dport, &h);
		struct rte_mbuf *m;
		const uint8_t *o;
		size_t inner = 28 + 100;

		fr_ipv4(&f, 0, 17, client4, vip4, 5353, dport, 0, 100, 0);
		m = t_one(&t, snap_a, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(rte_pktmbuf_data_len(m), f.len + 28);
		check_eth(o, nexthop_mac, 0x0800, 0);
		check_outer4(o + 14, 0x10, inner, 8, 17, be);
		check_gue(o + 34, inner, h);
		assert_memory_equal(o + 42, f.b + 14, inner);
		rte_pktmbuf_free(m);
	}
}

static void test_ipv6_modes(void **state)
{
	(void)state;
	for (uint16_t sport = 2000; sport < 2100; sport++) {
		struct frame f;
		uint64_t h;
		const struct sluice_backend *be = oracle6(snap_a, VIP_TCP6, 6, sport, 443, &h);
		struct rte_mbuf *m;
		const uint8_t *o;
		size_t inner = 40 + 20 + 16;

		/* IPv6 in IPv6 */
		fr_ipv6(&f, 0, 6, client6, vip6, sport, 443, SLUICE_TCP_ACK, 16);
		m = t_one(&t, snap_a, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(rte_pktmbuf_data_len(m), f.len + 40);
		check_eth(o, nexthop_mac, 0x86DD, 0);
		check_outer6(o + 14, 0x2a, inner, 41, be, h);
		assert_memory_equal(o + 54, f.b + 14, inner);
		rte_pktmbuf_free(m);

		/* GUE over IPv6, with a VLAN tag */
		be = oracle6(snap_a, VIP_UDP6, 17, sport, 53, &h);
		inner = 40 + 8 + 30;
		fr_ipv6(&f, 7, 17, client6, vip6, sport, 53, 0, 30);
		m = t_one(&t, snap_a, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(rte_pktmbuf_data_len(m), f.len + 48);
		check_eth(o, nexthop_mac, 0x86DD, 7);
		check_outer6(o + 18, 0x2a, inner + 8, 17, be, h);
		check_gue(o + 58, inner, h);
		assert_memory_equal(o + 66, f.b + 18, inner);
		rte_pktmbuf_free(m);
	}
}

static void test_l2dsr(void **state)
{
	(void)state;
	for (uint16_t sport = 3000; sport < 3100; sport++) {
		struct frame f;
		const struct sluice_backend *be = oracle4(snap_a, VIP_DSR4, 6, dsr4, sport, 80, NULL);
		struct rte_mbuf *m;
		const uint8_t *o;

		fr_ipv4(&f, 0, 6, client4, dsr4, sport, 80, SLUICE_TCP_SYN, 0, 0x4000);
		/* Ethernet padding to 60 bytes is not forwarded. */
		memset(f.b + f.len, 0, 60 - f.len);
		f.len = 60;
		m = t_one(&t, snap_a, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(rte_pktmbuf_data_len(m), 54);
		check_eth(o, be->mac, 0x0800, 0);
		assert_memory_equal(o + 14, f.b + 14, 40);
		rte_pktmbuf_free(m);
	}
}

/* Send flows (sports from..from+n) to VIP_TCP4 under s; backend ids out. */
static void run_flows(const struct sluice_snapshot *s, uint16_t from, unsigned int n,
		      uint8_t flags, uint16_t *ids)
{
	for (unsigned int i = 0; i < n; i++) {
		struct frame f;
		struct rte_mbuf *m;
		const uint8_t *ip;
		struct sluice_addr a = {.family = SLUICE_FAMILY_V4};

		fr_ipv4(&f, 0, 6, client4, vip4, (uint16_t)(from + i), 80, flags, 0, 0x4000);
		m = t_one(&t, s, &f, rte_rdtsc());
		if (!m) {
			ids[i] = 0xffff;
			continue;
		}
		ip = rte_pktmbuf_mtod(m, const uint8_t *) + 14;
		memcpy(a.bytes, ip + 16, 4);
		ids[i] = 0xffff;
		for (uint32_t b = 0; b < s->n_backends; b++)
			if (s->backends[b].vip_id == VIP_TCP4 &&
			    memcmp(&s->backends[b].addr, &a, sizeof(a)) == 0)
				ids[i] = s->backends[b].id;
		assert_int_not_equal(ids[i], 0xffff); /* a backend of the snapshot */
		rte_pktmbuf_free(m);
	}
}

static uint16_t oracle_id(const struct sluice_snapshot *s, uint16_t sport)
{
	const struct sluice_backend *be = oracle4(s, VIP_TCP4, 6, vip4, sport, 80, NULL);

	return be ? be->id : 0xffff;
}

#define NF 400

/* Flows keep their backend while it stays in the set, across table
 * changes; new flows follow the new table; removed or failed backends'
 * flows are re-picked; draining backends keep theirs. */
static void test_stickiness_and_repick(void **state)
{
	uint16_t a[NF], b[NF];
	unsigned int moved_by_table = 0, repicked = 0;
	uint64_t repicks0;
	(void)state;

	/* Under A: every flow on the table's answer. */
	run_flows(snap_a, 10000, NF, SLUICE_TCP_SYN, a);
	for (unsigned int i = 0; i < NF; i++)
		assert_int_equal(a[i], oracle_id(snap_a, (uint16_t)(10000 + i)));

	/* B: backend 5 added, so the table changes. */
	base_vips();
	tv[VIP_TCP4].be[4] = t_backend(5, t_v4(10, 1, 0, 5), SLUICE_BACKEND_ACTIVE);
	tv[VIP_TCP4].n = 5;
	t_fill(snap_b, tv, 5, &g);
	run_flows(snap_b, 10000, NF, SLUICE_TCP_ACK, b);
	for (unsigned int i = 0; i < NF; i++) {
		assert_int_equal(b[i], a[i]);
		moved_by_table += oracle_id(snap_b, (uint16_t)(10000 + i)) != a[i];
	}
	assert_true(moved_by_table > 0); /* the change mattered */
	/* New flows follow B. */
	run_flows(snap_b, 20000, NF, SLUICE_TCP_SYN, b);
	for (unsigned int i = 0; i < NF; i++)
		assert_int_equal(b[i], oracle_id(snap_b, (uint16_t)(20000 + i)));

	/* C: backend 2 draining, backend 3 removed, backend 4 down. */
	base_vips();
	tv[VIP_TCP4].be[1].state = SLUICE_BACKEND_DRAINING;
	tv[VIP_TCP4].be[2] = tv[VIP_TCP4].be[3];
	tv[VIP_TCP4].be[2].state = SLUICE_BACKEND_DOWN;
	tv[VIP_TCP4].be[3] = t_backend(5, t_v4(10, 1, 0, 5), SLUICE_BACKEND_ACTIVE);
	t_fill(snap_b, tv, 5, &g);
	repicks0 = t.lc->ctr.flow_repicks;
	run_flows(snap_b, 10000, NF, SLUICE_TCP_ACK, b);
	for (unsigned int i = 0; i < NF; i++) {
		if (a[i] == 1 || a[i] == 2) {
			assert_int_equal(b[i], a[i]); /* active, or draining: stays */
		} else if (a[i] == 3 || a[i] == 4) {
			assert_int_equal(b[i], oracle_id(snap_b, (uint16_t)(10000 + i)));
			assert_true(b[i] == 1 || b[i] == 5); /* never the draining one */
			repicked++;
		}
	}
	assert_true(repicked > 0);
	assert_int_equal(t.lc->ctr.flow_repicks - repicks0, repicked);
	/* And the re-picked flows now stay on their new backend. */
	memcpy(a, b, sizeof(a));
	run_flows(snap_b, 10000, NF, SLUICE_TCP_ACK, b);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(t.lc->ctr.flow_repicks - repicks0, repicked);

	/* D: every backend draining (no table): established flows still go
	 * through, new ones are dropped as no_backend. */
	base_vips();
	for (size_t j = 0; j < tv[VIP_TCP4].n; j++)
		tv[VIP_TCP4].be[j].state = SLUICE_BACKEND_DRAINING;
	tv[VIP_TCP4].be[4] = t_backend(5, t_v4(10, 1, 0, 5), SLUICE_BACKEND_DRAINING);
	tv[VIP_TCP4].n = 5;
	t_fill(snap_b, tv, 5, &g);
	assert_int_equal(snap_b->vips[VIP_TCP4].table_size, 0);
	run_flows(snap_b, 10000, NF, SLUICE_TCP_ACK, b);
	assert_memory_equal(a, b, sizeof(a));
	{
		uint64_t nb0 = t.lc->ctr.drops[SLUICE_DROP_NO_BACKEND];

		run_flows(snap_b, 30000, 10, SLUICE_TCP_SYN, b);
		for (unsigned int i = 0; i < 10; i++)
			assert_int_equal(b[i], 0xffff);
		assert_int_equal(t.lc->ctr.drops[SLUICE_DROP_NO_BACKEND] - nb0, 10);
	}
}

/*
 * A client that reuses a 5-tuple (include/sluice/packet.h,
 * sluice_syn_reopens): a bare SYN on the entry of a closed flow, or of a
 * flow whose backend drains, is a new connection picked by the table; an
 * ACK of the same flows, and a SYN on an open flow of an active backend,
 * stay where they are.
 */
#define REUSE_PORT 61000 /* ports no other test uses */

static void test_syn_reuses_tuple(void **state)
{
	uint16_t a[NF], b[NF];
	unsigned int on_drained = 0;
	uint64_t reopened0 = t.lc->ctr.flow_reopened;
	(void)state;

	/* Open NF flows under A, close half of them. */
	run_flows(snap_a, REUSE_PORT, NF, SLUICE_TCP_SYN, a);
	run_flows(snap_a, REUSE_PORT, NF / 2, SLUICE_TCP_FIN | SLUICE_TCP_ACK, b);
	assert_memory_equal(a, b, NF / 2 * sizeof(b[0]));
	/* B: backend 5 added (the table moves) and backend 2 draining. */
	base_vips();
	tv[VIP_TCP4].be[1].state = SLUICE_BACKEND_DRAINING;
	tv[VIP_TCP4].be[4] = t_backend(5, t_v4(10, 1, 0, 5), SLUICE_BACKEND_ACTIVE);
	tv[VIP_TCP4].n = 5;
	t_fill(snap_b, tv, 5, &g);
	/* ACKs, closed or open, on a draining backend or not: all stay. */
	run_flows(snap_b, REUSE_PORT, NF, SLUICE_TCP_ACK, b);
	assert_memory_equal(a, b, sizeof(b));
	assert_int_equal(t.lc->ctr.flow_reopened, reopened0);
	/* SYNs: closed flows and flows on the draining backend start anew by
	 * B's table; open flows of active backends stay (a retransmission). */
	run_flows(snap_b, REUSE_PORT, NF, SLUICE_TCP_SYN, b);
	for (unsigned int i = 0; i < NF; i++) {
		bool reopens = i < NF / 2 || a[i] == 2;

		if (reopens)
			assert_int_equal(b[i], oracle_id(snap_b, (uint16_t)(REUSE_PORT + i)));
		else
			assert_int_equal(b[i], a[i]);
		assert_int_not_equal(b[i], 2); /* never a new connection on the drained one */
		on_drained += i >= NF / 2 && a[i] == 2;
	}
	assert_true(on_drained > 0);
	assert_int_equal(t.lc->ctr.flow_reopened - reopened0, NF / 2 + on_drained);
	/* The new connections stay on their new backends. */
	memcpy(a, b, sizeof(a));
	run_flows(snap_b, REUSE_PORT, NF, SLUICE_TCP_ACK, b);
	assert_memory_equal(a, b, sizeof(b));
}

/* An idle flow expires: after the UDP timeout it is picked by the table
 * again (here a changed one) and counted as expired. */
static void test_idle_timeout(void **state)
{
	uint64_t now = rte_rdtsc(), later = now + 31 * t.cfg.tsc_hz, h;
	const struct sluice_backend *first, *second;
	struct frame f;
	struct rte_mbuf *m;
	uint64_t expired0;
	uint16_t sport = 0;
	(void)state;

	/* A flow whose backend differs between A and a table without it. */
	base_vips();
	tv[VIP_UDP4_ANY].n = 2; /* drop backend 12 */
	t_fill(snap_b, tv, 5, &g);
	for (uint16_t s = 1; s < 60000 && !sport; s++)
		if (oracle4(snap_a, VIP_UDP4_ANY, 17, vip4, s, 9999, NULL)->id !=
		    oracle4(snap_b, VIP_UDP4_ANY, 17, vip4, s, 9999, NULL)->id &&
		    oracle4(snap_a, VIP_UDP4_ANY, 17, vip4, s, 9999, NULL)->id != 12)
			sport = s;
	assert_int_not_equal(sport, 0);
	first = oracle4(snap_a, VIP_UDP4_ANY, 17, vip4, sport, 9999, &h);
	second = oracle4(snap_b, VIP_UDP4_ANY, 17, vip4, sport, 9999, &h);
	fr_ipv4(&f, 0, 17, client4, vip4, sport, 9999, 0, 10, 0);
	m = t_one(&t, snap_a, &f, now);
	assert_non_null(m);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 14 + 16, first->addr.bytes, 4);
	rte_pktmbuf_free(m);
	/* Within the timeout: sticky (backend still in B's set). */
	m = t_one(&t, snap_b, &f, now + 29 * t.cfg.tsc_hz);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 14 + 16, first->addr.bytes, 4);
	rte_pktmbuf_free(m);
	/* 31 s after the last packet: expired, re-picked by B's table. */
	expired0 = t.lc->ft->stats.expired;
	later = now + 29 * t.cfg.tsc_hz + 31 * t.cfg.tsc_hz;
	m = t_one(&t, snap_b, &f, later);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 14 + 16, second->addr.bytes, 4);
	rte_pktmbuf_free(m);
	assert_int_equal(t.lc->ft->stats.expired - expired0, 1);
}

/* A router's frag-needed about a packet a backend sent for a flow goes to
 * that flow's backend, even when the table would now say otherwise. */
static void test_icmp_error_follows_flow(void **state)
{
	uint16_t ids[1], sport = 0;
	(void)state;

	base_vips();
	tv[VIP_TCP4].be[4] = t_backend(5, t_v4(10, 1, 0, 5), SLUICE_BACKEND_ACTIVE);
	tv[VIP_TCP4].n = 5;
	t_fill(snap_b, tv, 5, &g);
	for (uint16_t s = 40000; s < 60000 && !sport; s++)
		if (oracle_id(snap_a, s) != oracle_id(snap_b, s))
			sport = s;
	assert_int_not_equal(sport, 0);
	run_flows(snap_a, sport, 1, SLUICE_TCP_SYN, ids);
	assert_int_equal(ids[0], oracle_id(snap_a, sport));
	{
		struct frame quoted, f;
		uint8_t router[4] = {203, 0, 113, 1};
		struct rte_mbuf *m;
		const uint8_t *o;

		/* The packet the backend sent: VIP:80 -> client:sport. */
		fr_ipv4(&quoted, 0, 6, vip4, client4, 80, sport, SLUICE_TCP_ACK, 1400, 0x4000);
		fr_icmp4_frag_needed(&f, router, vip4, &quoted, 28, 1400);
		m = t_one(&t, snap_b, &f, rte_rdtsc());
		assert_non_null(m);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(o[14 + 9], 4);
		assert_memory_equal(o + 14 + 16,
				    snap_b->backends[snap_b->backend_pos_by_id[ids[0]]].addr.bytes, 4);
		assert_memory_equal(o + 34, f.b + 14, f.len - 14);
		rte_pktmbuf_free(m);
	}
}

/* Toeplitz over the bytes a NIC hashes (addresses and ports in network
 * order), bit by bit from the definition, not through DPDK's helpers: for
 * every set bit of the input, XOR in the 32 key bits starting there. */
static uint32_t toeplitz(const uint8_t *in, size_t len, const uint8_t *key)
{
	uint32_t h = 0;

	for (size_t i = 0; i < len * 8; i++) {
		uint32_t window = 0;

		if (!(in[i / 8] & (0x80 >> (i % 8))))
			continue;
		for (size_t b = 0; b < 32; b++)
			window = window << 1 | ((key[(i + b) / 8] >> (7 - (i + b) % 8)) & 1);
		h ^= window;
	}
	return h;
}

/* The hash sluice-dp computes for a flow (to hand an ICMP error to the
 * worker RSS gives the flow) is the NIC's: Toeplitz with sluice's key
 * over source, destination, source port, destination port. */
static void test_rss_hash_is_the_nics(void **state)
{
	uint8_t in[36], src6[16], dst6[16];
	(void)state;

	for (unsigned int i = 0; i < 16; i++) {
		src6[i] = (uint8_t)(0x20 + 7 * i);
		dst6[i] = (uint8_t)(0xfd - 5 * i);
	}
	memcpy(in, client4, 4);
	memcpy(in + 4, vip4, 4);
	fr_put16(in + 8, 40001);
	fr_put16(in + 10, 80);
	assert_int_equal(sluice_dp_rss_hash_v4(fr_get32(client4), fr_get32(vip4), 40001, 80),
			 toeplitz(in, 12, sluice_dp_rss_key));
	memcpy(in, src6, 16);
	memcpy(in + 16, dst6, 16);
	fr_put16(in + 32, 51000);
	fr_put16(in + 34, 443);
	assert_int_equal(sluice_dp_rss_hash_v6(src6, dst6, 51000, 443),
			 toeplitz(in, 36, sluice_dp_rss_key));
	/* A fragment's owner: its key has ports 0, and the hash of that is the
	 * NIC's hash of fragments, over the addresses alone. */
	assert_int_equal(sluice_dp_rss_hash_v6(src6, dst6, 0, 0),
			 toeplitz(in, 32, sluice_dp_rss_key));
	memcpy(in, client4, 4);
	memcpy(in + 4, vip4, 4);
	assert_int_equal(sluice_dp_rss_hash_v4(fr_get32(client4), fr_get32(vip4), 0, 0),
			 toeplitz(in, 8, sluice_dp_rss_key));
	/* A round-robin RETA: entry i is queue i mod n. */
	assert_int_equal(sluice_dp_rss_queue(130, 128, 3), 2 % 3);
	assert_int_equal(sluice_dp_rss_queue(127, 128, 2), 1);
}

/* With two workers and a known spread, a fragment of a port-0 VIP (first or
 * later) is left for the worker RSS gives its addresses when that is
 * another; a whole datagram of the same addresses on its own worker is
 * forwarded, and on the owner the fragments are too. */
static void test_fragments_left_for_addr_worker(void **state)
{
	uint8_t in[8];
	uint16_t owner, sport = 0;
	(void)state;

	memcpy(in, client4, 4);
	memcpy(in + 4, vip4, 4);
	owner = sluice_dp_rss_queue(toeplitz(in, 8, sluice_dp_rss_key), SLUICE_DP_RETA_SIZE, 2);
	for (uint16_t s = 40000; !sport; s++)
		if (sluice_dp_rss_queue(sluice_dp_rss_hash_v4(fr_get32(client4), fr_get32(vip4), s,
							      53),
					SLUICE_DP_RETA_SIZE, 2) != owner)
			sport = s;
	t.cfg.n_workers = 2;
	t.cfg.reta_size[0] = SLUICE_DP_RETA_SIZE;
	for (int on_owner = 0; on_owner < 2; on_owner++) {
		struct rte_mbuf *pk[3], *out[3];
		struct frame f[3];
		uint16_t n;

		t.lc->self = on_owner ? owner : (uint16_t)(1 - owner);
		fr_ipv4_frag(&f[0], 17, client4, vip4, sport, 53, 7, 0, 1, 64 - 8);
		fr_ipv4_frag(&f[1], 17, client4, vip4, sport, 53, 7, 64, 0, 64);
		/* whole, on the worker of its 5-tuple */
		fr_ipv4(&f[2], 0, 17, client4, vip4, sport, 53, 0, 64, 0);
		for (int i = 0; i < 3; i++)
			pk[i] = t_mbuf(&f[i]);
		if (on_owner) /* the whole datagram is not this worker's: not asked */
			n = sluice_dp_process(t.lc, snap_a, 0, pk, 2, out, rte_rdtsc());
		else
			n = sluice_dp_process(t.lc, snap_a, 0, pk, 3, out, rte_rdtsc());
		if (on_owner) {
			assert_int_equal(n, 2);
			assert_int_equal(t.lc->n_handoff, 0);
			rte_pktmbuf_free(pk[2]);
		} else {
			assert_int_equal(n, 1);
			assert_ptr_equal(out[0], pk[2]);
			assert_int_equal(t.lc->n_handoff, 2);
			for (int i = 0; i < 2; i++) {
				assert_ptr_equal(t.lc->handoff_m[i], pk[i]);
				assert_int_equal(t.lc->handoff_to[i], owner);
			}
			rte_pktmbuf_free_bulk(t.lc->handoff_m, 2);
		}
		rte_pktmbuf_free_bulk(out, n);
	}
	t.lc->self = 0;
	t.lc->n_handoff = 0;
	t.cfg.n_workers = 0;
	t.cfg.reta_size[0] = 0;
}

static void test_too_big_v4(void **state)
{
	struct frame f;
	struct rte_mbuf *m;
	const uint8_t *o, *ip, *ic;
	uint64_t tb0 = t.lc->ctr.drops[SLUICE_DROP_TOO_BIG];
	(void)state;

	/* 1480 bytes + 20 of IP-in-IP = 1500: fits. */
	fr_ipv4(&f, 0, 6, client4, vip4, 7000, 80, SLUICE_TCP_ACK, 1440, 0x4000);
	m = t_one(&t, snap_a, &f, rte_rdtsc());
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 20 + 1480);
	rte_pktmbuf_free(m);
	/* 1481: frag-needed advertising 1480, back to the client. */
	fr_ipv4(&f, 0, 6, client4, vip4, 7000, 80, SLUICE_TCP_ACK, 1441, 0x4000);
	m = t_one(&t, snap_a, &f, rte_rdtsc());
	assert_non_null(m);
	o = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 20 + 8 + 28);
	assert_memory_equal(o, fr_client_mac, 6);
	assert_memory_equal(o + 6, fr_lb_mac, 6);
	assert_int_equal(fr_get16(o + 12), 0x0800);
	ip = o + 14;
	ic = ip + 20;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(fr_get16(ip + 2), 56);
	assert_int_equal(ip[9], 1);
	assert_int_equal(fr_csum(ip, 20, 0), 0);
	assert_memory_equal(ip + 12, vip4, 4);
	assert_memory_equal(ip + 16, client4, 4);
	assert_int_equal(ic[0], 3);
	assert_int_equal(ic[1], 4);
	assert_int_equal(fr_get16(ic + 6), 1480);
	assert_int_equal(fr_csum(ic, 8 + 28, 0), 0);
	assert_memory_equal(ic + 8, f.b + 14, 28);
	rte_pktmbuf_free(m);
	assert_int_equal(t.lc->ctr.drops[SLUICE_DROP_TOO_BIG] - tb0, 1);
	assert_true(t.lc->ctr.icmp_too_big_sent >= 1);
	/* Without DF: dropped and counted, no reply (we do not fragment). */
	fr_ipv4(&f, 0, 6, client4, vip4, 7000, 80, SLUICE_TCP_ACK, 1441, 0);
	assert_null(t_one(&t, snap_a, &f, rte_rdtsc()));
	assert_int_equal(t.lc->ctr.drops[SLUICE_DROP_TOO_BIG] - tb0, 2);
}

static void test_too_big_v6(void **state)
{
	struct frame f;
	struct rte_mbuf *m;
	const uint8_t *o, *ip, *ic;
	(void)state;

	/* 1461 bytes + 40 of IPv6-in-IPv6 > 1500: PTB advertising 1460. */
	fr_ipv6(&f, 0, 6, client6, vip6, 7000, 443, SLUICE_TCP_ACK, 1461 - 60);
	m = t_one(&t, snap_a, &f, rte_rdtsc());
	assert_non_null(m);
	o = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 40 + 8 + 48);
	assert_memory_equal(o, fr_client_mac, 6);
	ip = o + 14;
	ic = ip + 40;
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(fr_get16(ip + 4), 56);
	assert_int_equal(ip[6], 58);
	assert_memory_equal(ip + 8, vip6, 16);
	assert_memory_equal(ip + 24, client6, 16);
	assert_int_equal(ic[0], 2);
	assert_int_equal(ic[1], 0);
	assert_int_equal(fr_get32(ic + 4), 1460);
	assert_int_equal(fr_csum6(ip, ic, 56, 58), 0);
	assert_memory_equal(ic + 8, f.b + 14, 48);
	rte_pktmbuf_free(m);
}

/* Per-VIP and per-backend counters, and a burst of many flows at once. */
static void test_burst_and_counters(void **state)
{
	struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
	struct sluice_lcore_status before;
	uint64_t be_pkts = 0;
	uint16_t n;
	(void)state;

	memcpy(&before, t.st, sizeof(before));
	for (unsigned int i = 0; i < SLUICE_DP_BURST_MAX; i++) {
		struct frame f;

		fr_ipv4(&f, 0, 6, client4, vip4, (uint16_t)(50000 + i), 80, SLUICE_TCP_SYN, 6,
			0x4000);
		in[i] = t_mbuf(&f);
	}
	n = sluice_dp_process(t.lc, snap_a, 0, in, SLUICE_DP_BURST_MAX, out, rte_rdtsc());
	assert_int_equal(n, SLUICE_DP_BURST_MAX);
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *o = rte_pktmbuf_mtod(out[i], const uint8_t *);

		assert_memory_equal(o + 14 + 16,
				    oracle4(snap_a, VIP_TCP4, 6, vip4, (uint16_t)(50000 + i), 80,
					    NULL)->addr.bytes,
				    4);
		rte_pktmbuf_free(out[i]);
	}
	assert_int_equal(t.st->vip[VIP_TCP4].packets - before.vip[VIP_TCP4].packets,
			 SLUICE_DP_BURST_MAX);
	assert_int_equal(t.st->vip[VIP_TCP4].bytes - before.vip[VIP_TCP4].bytes,
			 SLUICE_DP_BURST_MAX * 60);
	for (uint16_t id = 1; id <= 5; id++)
		be_pkts += t.st->backend[id].packets - before.backend[id].packets;
	assert_int_equal(be_pkts, SLUICE_DP_BURST_MAX);
	sluice_dp_flush(t.lc);
	assert_int_equal(t.st->counters.rx_packets, t.lc->ctr.rx_packets);
	assert_int_equal(t.st->counters.flow_live, t.lc->ft->stats.entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipip4_picks_table_backend),
		cmocka_unit_test(test_gue4_wildcard),
		cmocka_unit_test(test_ipv6_modes),
		cmocka_unit_test(test_l2dsr),
		cmocka_unit_test(test_stickiness_and_repick),
		cmocka_unit_test(test_syn_reuses_tuple),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_icmp_error_follows_flow),
		cmocka_unit_test(test_rss_hash_is_the_nics),
		cmocka_unit_test(test_fragments_left_for_addr_worker),
		cmocka_unit_test(test_too_big_v4),
		cmocka_unit_test(test_too_big_v6),
		cmocka_unit_test(test_burst_and_counters),
	};
	int rc;

	if (t_eal_init("process_test") < 0) {
		fprintf(stderr, "EAL initialisation failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, setup, teardown);
	t_eal_fini();
	return rc;
}
