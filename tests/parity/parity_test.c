/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parity of the two data paths: for the same snapshot and the same frame,
 * the XDP program (bpf/sluice_xdp.bpf.c, run through BPF_PROG_TEST_RUN,
 * its maps filled by lib/xdp_path.c) and the DPDK path's processing
 * (dataplane/process.c, sluice_dp_process on an mbuf) must emit the same
 * bytes, or both not send the frame, for the same reason.
 *
 * Rounds of random flows over eight VIPs (IPv4 and IPv6; IP-in-IP, GUE
 * with both outer families, L2 DSR; exact ports and wildcards), each flow
 * sent under three snapshots: A, then B (backends added, removed, failed,
 * draining; a mode changed), then C (a VIP removed, one added, a seed
 * changed). Established flows must stick in both paths, flows of removed
 * or failed backends be re-picked in both. Among the flow packets: VLAN
 * tags, Ethernet padding, packets too big after encapsulation (with and
 * without DF), ICMP errors quoting flows, fragments, packets to non-VIP
 * addresses and ports, truncated frames, TTL 0.
 *
 * Outcomes compared per frame: XDP_TX <-> sent, byte for byte; XDP_DROP
 * with reason r <-> dropped with r; XDP_PASS with reason r <-> dropped with
 * r (the XDP path hands to the kernel what the DPDK path drops: see
 * docs/xdp.md). Each round starts both flow tables empty and stays far
 * below their capacity (no eviction in either: checked), so that
 * connection tracking decides the same everywhere.
 *
 * Needs root (BPF) and DPDK (EAL with --no-huge --no-shconf). Fails, never
 * skips.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "process.h"
#include "xdp_fixture.h"

#define ROUNDS 4
#define FLOWS_PER_ROUND 30000
#define NEW_IN_B 10000	  /* flows that start under snapshot B */
#define N_VIPS 9	  /* specs; snapshots use some of them */
#define MAX_REPORTED 8

/* ---- randomness (fixed seeds: every run checks the same packets) ---- */

static uint64_t rng_state = 0x5eedfaceULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* ---- the VIPs and the three snapshots ---- */

static const uint8_t vip4_a[4] = {192, 0, 2, 1}, vip4_b[4] = {192, 0, 2, 2};
static const uint8_t vip4_c[4] = {192, 0, 2, 3}, vip4_d[4] = {192, 0, 2, 5};
static const uint8_t vip6_a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t vip6_b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t vip6_c[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3};

static struct fx_vip *specs; /* [N_VIPS] */

static struct sluice_addr be4(uint8_t net, uint8_t host)
{
	return fx_addr4((uint8_t[]){10, 9, net, host});
}

static struct sluice_addr be6(uint8_t net, uint8_t host)
{
	return fx_addr6((uint8_t[]){0xfd, 0, 0x99, net, [15] = host});
}

/* Snapshot A's VIPs (ids 0..7). */
static void vips_a(void)
{
	struct fx_vip *v = specs;

	fx_vip_init(&v[0], 0, fx_addr4(vip4_a), 80, 6, SLUICE_FWD_IPIP, 0x1001, 65537);
	for (int i = 0; i < 8; i++)
		fx_add_backend(&v[0], (__u16)(10 + i), be4(0, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[1], 1, fx_addr4(vip4_a), 0, 17, SLUICE_FWD_GUE, 0x1002, 1009);
	for (int i = 0; i < 4; i++)
		fx_add_backend(&v[1], (__u16)(30 + i), be4(1, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	for (int i = 0; i < 2; i++)
		fx_add_backend(&v[1], (__u16)(40 + i), be6(1, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[2], 2, fx_addr6(vip6_a), 443, 6, SLUICE_FWD_IPIP, 0x1003, 65537);
	for (int i = 0; i < 6; i++)
		fx_add_backend(&v[2], (__u16)(50 + i), be6(2, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[3], 3, fx_addr6(vip6_a), 0, 17, SLUICE_FWD_GUE, 0x1004, 1009);
	for (int i = 0; i < 3; i++)
		fx_add_backend(&v[3], (__u16)(70 + i), be6(3, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	for (int i = 0; i < 2; i++)
		fx_add_backend(&v[3], (__u16)(80 + i), be4(3, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[4], 4, fx_addr4(vip4_b), 80, 6, SLUICE_FWD_L2DSR, 0x1005, 1009);
	for (int i = 0; i < 4; i++)
		fx_add_backend(&v[4], (__u16)(90 + i), be4(4, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[5], 5, fx_addr6(vip6_b), 80, 6, SLUICE_FWD_L2DSR, 0x1006, 1009);
	for (int i = 0; i < 3; i++)
		fx_add_backend(&v[5], (__u16)(100 + i), be6(5, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[6], 6, fx_addr4(vip4_c), 53, 17, SLUICE_FWD_IPIP, 0x1007, 1009);
	for (int i = 0; i < 5; i++)
		fx_add_backend(&v[6], (__u16)(110 + i), be4(6, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	fx_vip_init(&v[7], 7, fx_addr6(vip6_c), 8080, 6, SLUICE_FWD_GUE, 0x1008, 1009);
	for (int i = 0; i < 4; i++)
		fx_add_backend(&v[7], (__u16)(120 + i), be6(7, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
	/* Not in A: the VIP that C adds. */
	fx_vip_init(&v[8], 8, fx_addr4(vip4_d), 443, 6, SLUICE_FWD_GUE, 0x1009, 1009);
	for (int i = 0; i < 3; i++)
		fx_add_backend(&v[8], (__u16)(130 + i), be4(8, (uint8_t)(1 + i)),
			       SLUICE_BACKEND_ACTIVE);
}

static struct sluice_backend *find_be(struct fx_vip *v, __u16 id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->be[i].id == id)
			return &v->be[i];
	return NULL;
}

static void remove_be(struct fx_vip *v, __u16 id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->be[i].id == id) {
			v->be[i] = v->be[--v->n];
			return;
		}
}

/* B: from A, backends added, removed, failed, draining; a mode changed. */
static void vips_b(void)
{
	struct fx_vip *v = specs;

	fx_add_backend(&v[0], 18, be4(0, 9), SLUICE_BACKEND_ACTIVE);
	fx_add_backend(&v[0], 19, be4(0, 10), SLUICE_BACKEND_ACTIVE);
	remove_be(&v[0], 11);
	find_be(&v[0], 12)->state = SLUICE_BACKEND_DOWN;
	find_be(&v[2], 51)->state = SLUICE_BACKEND_DOWN;
	find_be(&v[2], 52)->state = SLUICE_BACKEND_DRAINING;
	find_be(&v[4], 91)->state = SLUICE_BACKEND_DRAINING;
	remove_be(&v[1], 31);
	fx_add_backend(&v[1], 42, be6(1, 3), SLUICE_BACKEND_ACTIVE);
	find_be(&v[3], 80)->state = SLUICE_BACKEND_DISABLED;
	v[7].vip.mode = SLUICE_FWD_IPIP; /* established flows change encapsulation */
	remove_be(&v[6], 112);
}

/* C: from B, a VIP removed (5: its traffic is no VIP's), one added (8),
 * a seed changed (6: its flows re-hash), a failed backend back. */
static void vips_c(void)
{
	struct fx_vip *v = specs;

	find_be(&v[0], 12)->state = SLUICE_BACKEND_ACTIVE;
	remove_be(&v[0], 13);
	v[6].vip.hash_seed = 0x7777;
	find_be(&v[2], 52)->state = SLUICE_BACKEND_ACTIVE;
}

/* The VIPs of a phase: A and B have 0..7; C has 0..4, 6..8. */
static size_t phase_specs(int phase, struct fx_vip *out)
{
	size_t n = 0;

	for (int i = 0; i < N_VIPS; i++) {
		if ((phase < 2 && i == 8) || (phase == 2 && i == 5))
			continue;
		out[n++] = specs[i];
	}
	return n;
}

/* ---- the two paths ---- */

struct xdp_side {
	struct sluice_xdp_path *xp;
	char instance[40];
	int prog_fd, stats_fd, flows_fd;
	int ncpus;
	struct sluice_xdp_stats *cpu; /* [ncpus] */
	struct sluice_xdp_stats sum;  /* after the last frame */
};

struct dp_side {
	struct rte_mempool *pool;
	struct sluice_dp_config cfg;
	struct sluice_dp_lcore lc;
	struct sluice_lcore_status *status;
};

static void xdp_sum(struct xdp_side *x, struct sluice_xdp_stats *out)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(x->stats_fd, &zero, x->cpu) < 0) {
		perror("reading the XDP counters");
		exit(1);
	}
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < x->ncpus; c++) {
		const __u64 *s = (const __u64 *)&x->cpu[c];
		__u64 *d = (__u64 *)out;

		for (size_t w = 0; w < sizeof(*out) / 8; w++)
			d[w] += s[w];
	}
}

static int open_map(struct xdp_side *x, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sluice_xdp_path_pin_dir(x->xp), name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "parity: cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Both flow tables empty. */
static void reset_flows(struct xdp_side *x, struct dp_side *d)
{
	__u32 n = SLUICE_XDP_FLOW_SETS, *keys = calloc(n, sizeof(*keys));
	void *zero = calloc(n, sizeof(struct sluice_xdp_flow_set));

	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	if (!keys || !zero || bpf_map_update_batch(x->flows_fd, keys, zero, &n, NULL) < 0) {
		fprintf(stderr, "parity: cannot clear the XDP flow table\n");
		exit(1);
	}
	free(keys);
	free(zero);
	sluice_dp_lcore_fini(&d->lc);
	if (sluice_dp_lcore_init(&d->lc, &d->cfg, d->status, SOCKET_ID_ANY) < 0) {
		fprintf(stderr, "parity: sluice_dp_lcore_init failed\n");
		exit(1);
	}
}

/* ---- one frame through both ---- */

enum verdict { V_SENT, V_DROPPED, V_PASSED };
static const char *const verdict_name[] = {"sent", "dropped", "passed to the kernel"};

struct outcome {
	enum verdict v;
	int reason; /* drop (or pass) reason; -1 for sent without one */
	uint8_t bytes[4096];
	size_t len;
};

/* The reason whose counter moved between a and b, or -1. */
static int moved(const __u64 *a, const __u64 *b)
{
	for (int r = 0; r < SLUICE_DROP_MAX; r++)
		if (a[r] != b[r])
			return r;
	return -1;
}

static void run_xdp(struct xdp_side *x, const uint8_t *frame, size_t len, struct outcome *o)
{
	struct sluice_xdp_stats after;
	int ret = fx_run(x->prog_fd, frame, len, o->bytes, &o->len);

	if (ret < 0) {
		fprintf(stderr, "parity: BPF_PROG_TEST_RUN: %s\n", strerror(-ret));
		exit(1);
	}
	xdp_sum(x, &after);
	o->v = ret == XDP_TX ? V_SENT : ret == XDP_PASS ? V_PASSED : V_DROPPED;
	if (ret == XDP_PASS)
		o->reason = moved(x->sum.xdp.pass, after.xdp.pass);
	else
		o->reason = moved(x->sum.lcore.drops, after.lcore.drops);
	if (ret != XDP_TX && ret != XDP_DROP && ret != XDP_PASS)
		o->reason = 1000 + ret;
	x->sum = after;
}

static void run_dp(struct dp_side *d, const struct sluice_snapshot *snap, const uint8_t *frame,
		   size_t len, struct outcome *o)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool), *out[1];
	__u64 before[SLUICE_DROP_MAX];
	uint16_t n;
	char *p;

	if (!m || !(p = rte_pktmbuf_append(m, (uint16_t)len))) {
		fprintf(stderr, "parity: out of mbufs\n");
		exit(1);
	}
	memcpy(p, frame, len);
	memcpy(before, d->lc.ctr.drops, sizeof(before));
	n = sluice_dp_process(&d->lc, snap, 0, &m, 1, out, rte_rdtsc());
	o->reason = moved(before, d->lc.ctr.drops);
	if (n == 1) {
		o->v = V_SENT;
		o->len = rte_pktmbuf_data_len(out[0]);
		memcpy(o->bytes, rte_pktmbuf_mtod(out[0], void *), o->len);
		rte_pktmbuf_free(out[0]);
	} else {
		o->v = V_DROPPED;
		o->len = 0;
	}
}

struct tally {
	uint64_t frames, sent, dropped, passed, mismatches, too_big_replies;
};

static void hexdump(const char *what, const uint8_t *b, size_t n)
{
	fprintf(stderr, "  %s (%zu bytes):", what, n);
	for (size_t i = 0; i < n && i < 96; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n    ", b[i]);
	fprintf(stderr, "\n");
}

/* Run frame through both paths under snap; compare; count. */
static void both(struct xdp_side *x, struct dp_side *d, const struct sluice_snapshot *snap,
		 const uint8_t *frame, size_t len, const char *what, struct tally *t)
{
	static struct outcome ox, od;
	bool same;

	run_xdp(x, frame, len, &ox);
	run_dp(d, snap, frame, len, &od);
	t->frames++;
	if (ox.v == V_SENT) {
		same = od.v == V_SENT && ox.len == od.len && memcmp(ox.bytes, od.bytes, ox.len) == 0 &&
		       ox.reason == od.reason; /* too-big replies count too_big in both */
		t->sent++;
		t->too_big_replies += ox.reason == SLUICE_DROP_TOO_BIG;
	} else {
		/* Not sent: XDP drops or passes what DPDK drops, same reason. */
		same = od.v == V_DROPPED && ox.reason == od.reason;
		if (ox.v == V_DROPPED)
			t->dropped++;
		else
			t->passed++;
	}
	if (same)
		return;
	if (++t->mismatches > MAX_REPORTED)
		return;
	fprintf(stderr, "MISMATCH (%s): XDP %s (reason %d), DPDK %s (reason %d)\n", what,
		verdict_name[ox.v], ox.reason, verdict_name[od.v], od.reason);
	hexdump("frame", frame, len);
	if (ox.v == V_SENT)
		hexdump("XDP sent", ox.bytes, ox.len);
	if (od.v == V_SENT)
		hexdump("DPDK sent", od.bytes, od.len);
}

/* ---- flows and frames ---- */

struct flow {
	uint8_t spec;	 /* index in specs[] */
	uint8_t v6;
	uint8_t proto;
	uint8_t df;	 /* IPv4 DF bit on its packets */
	uint16_t vlan;	 /* 0: untagged */
	uint16_t sport, dport;
	uint8_t src[16];
};

static void new_flow(struct flow *f, int phase)
{
	const struct fx_vip *v;
	uint64_t r = rnd();

	do
		f->spec = (uint8_t)rnd_below(N_VIPS);
	while ((phase < 2 && f->spec == 8) || (phase == 2 && f->spec == 5));
	v = &specs[f->spec];
	f->v6 = v->vip.addr.family == SLUICE_FAMILY_V6;
	f->proto = v->vip.proto;
	f->df = f->proto == 6 || (r & 1);
	f->vlan = (r >> 8) % 10 == 0 ? (uint16_t)(100 + (r >> 16) % 50) : 0;
	f->sport = (uint16_t)(1024 + (r >> 24) % 64000);
	f->dport = v->vip.port ? (uint16_t)__builtin_bswap16(v->vip.port)
			       : (uint16_t)(1 + (r >> 40) % 65000);
	memset(f->src, 0, sizeof(f->src));
	if (f->v6) {
		uint64_t a = rnd(), b = rnd();

		f->src[0] = 0x20;
		f->src[1] = 0x01;
		f->src[2] = 0x0d;
		f->src[3] = 0xb9;
		memcpy(f->src + 4, &a, 6);
		memcpy(f->src + 10, &b, 6);
	} else {
		uint32_t a = (uint32_t)rnd();

		memcpy(f->src, &a, 4);
		f->src[0] = (uint8_t)(1 + f->src[0] % 190); /* a public-looking address */
	}
}

/* A packet of flow f into fr: TCP SYN first, then ACKs with data; now
 * and then too big for the MTU once encapsulated; sometimes padded. */
static void flow_frame(const struct flow *f, int first, struct frame *fr)
{
	const struct fx_vip *v = &specs[f->spec];
	uint64_t r = rnd();
	size_t payload = (r & 0xff) < 8 ? 1420 + (r >> 8) % 60 : (r >> 8) % 300;
	uint8_t flags = first ? SLUICE_TCP_SYN : SLUICE_TCP_ACK;

	if (f->proto == 6 && first)
		payload = 0;
	if (f->v6)
		fr_ipv6(fr, f->vlan, f->proto, f->src, v->vip.addr.bytes, f->sport, f->dport, flags,
			payload);
	else
		fr_ipv4(fr, f->vlan, f->proto, f->src, v->vip.addr.bytes, f->sport, f->dport, flags,
			payload, f->df ? 0x4000 : 0);
	if (fr->len < 60 && (r >> 30) & 1) {
		/* Padding of a short frame, as a NIC delivers it. */
		for (size_t i = fr->len; i < 60; i++)
			fr->b[i] = (uint8_t)rnd();
		fr->len = 60;
	}
}

/* ICMP frag-needed / packet-too-big from a router, quoting a packet the
 * flow's backend sent from the VIP. */
static void icmp_error_frame(const struct flow *f, struct frame *fr)
{
	const struct fx_vip *v = &specs[f->spec];
	static const uint8_t router4[4] = {203, 0, 113, 9};
	static const uint8_t router6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 9};
	struct frame q;
	uint8_t *ip, *ic;

	if (f->v6) {
		fr_ipv6(&q, 0, f->proto, v->vip.addr.bytes, f->src, f->dport, f->sport,
			SLUICE_TCP_ACK, 1300);
		fr_eth(fr, 0x86DD, f->vlan);
		ip = fr->b + (f->vlan ? 18 : 14);
		ic = ip + 40;
		memset(ip, 0, 48);
		ip[0] = 0x60;
		fr_put16(ip + 4, 8 + 48);
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, router6, 16);
		memcpy(ip + 24, v->vip.addr.bytes, 16);
		ic[0] = 2;
		fr_put16(ic + 6, 1280);
		memcpy(ic + 8, q.b + 14, 48);
		fr->len = (size_t)(ic + 8 + 48 - fr->b);
	} else {
		fr_ipv4(&q, 0, f->proto, v->vip.addr.bytes, f->src, f->dport, f->sport,
			SLUICE_TCP_ACK, 1400, 0x4000);
		fr_eth(fr, 0x0800, f->vlan);
		ip = fr->b + (f->vlan ? 18 : 14);
		ic = ip + 20;
		memset(ip, 0, 28);
		ip[0] = 0x45;
		fr_put16(ip + 2, 20 + 8 + 28);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, router4, 4);
		memcpy(ip + 16, v->vip.addr.bytes, 4);
		fr_put16(ip + 10, fr_csum(ip, 20, 0));
		ic[0] = 3;
		ic[1] = 4;
		fr_put16(ic + 6, 1400);
		memcpy(ic + 8, q.b + 14, 28);
		fr_put16(ic + 2, fr_csum(ic, 36, 0));
		fr->len = (size_t)(ic + 36 - fr->b);
	}
}

/* Now and then, something else than the flow's next packet: an ICMP
 * error, a fragment, a non-VIP address or port, a truncated frame, TTL 0,
 * a FIN, a SYN that reuses the flow's 5-tuple, a martian source, a TCP
 * header of 4 words, a new flow from the VIP's own endpoint.
 * Returns its name, or NULL for a plain flow packet. */
static const char *odd_frame(const struct flow *f, struct frame *fr)
{
	unsigned int r = rnd_below(100);

	if (r >= 14)
		return NULL;
	switch (r) {
	case 0:
	case 1:
	case 2:
		icmp_error_frame(f, fr);
		return "ICMP error quoting a flow";
	case 3:
		flow_frame(f, 0, fr);
		fr->b[(f->vlan ? 18 : 14) + (f->v6 ? 39 : 19)] ^= 0x40; /* another address */
		return "to a non-VIP address";
	case 4:
		flow_frame(f, 0, fr);
		fr_put16(fr->b + (f->vlan ? 18 : 14) + (f->v6 ? 42 : 22), 7); /* port 7 */
		return "to another port";
	case 5:
	case 6:
		flow_frame(f, 0, fr);
		fr->len = 14 + rnd_below((unsigned int)fr->len - 14);
		return "truncated";
	case 7:
		flow_frame(f, 0, fr);
		fr->b[(f->vlan ? 18 : 14) + (f->v6 ? 7 : 8)] = 0;
		return "TTL 0";
	case 8:
		if (f->v6)
			return NULL;
		fr_ipv4(fr, f->vlan, f->proto, f->src, specs[f->spec].vip.addr.bytes, f->sport,
			f->dport, 0, 100, (uint16_t)(rnd_below(2) ? 0x2000 : 0x0010));
		return "IPv4 fragment";
	case 9:
	case 10:
		if (f->proto != 6)
			return NULL;
		/* The client closes (FIN), or opens again on the same 5-tuple
		 * (a bare SYN): on a closed entry or a draining backend that
		 * is a new connection picked by the table
		 * (sluice_syn_reopens). */
		flow_frame(f, 0, fr);
		fr->b[(f->vlan ? 18 : 14) + (f->v6 ? 40 : 20) + 13] =
			r == 9 ? (SLUICE_TCP_FIN | SLUICE_TCP_ACK) : SLUICE_TCP_SYN;
		return r == 9 ? "FIN" : "SYN reusing the 5-tuple";
	case 11:
		/* From a source no client can have: loopback. */
		flow_frame(f, 0, fr);
		if (f->v6) {
			memset(fr->b + (f->vlan ? 18 : 14) + 8, 0, 16);
			fr->b[(f->vlan ? 18 : 14) + 8 + 15] = 1;
		} else {
			fr->b[(f->vlan ? 18 : 14) + 12] = 127;
		}
		return "martian source";
	case 13:
		/* A new flow whose client is the VIP's own endpoint. */
		flow_frame(f, 1, fr);
		memcpy(fr->b + (f->vlan ? 18 : 14) + (f->v6 ? 8 : 12),
		       specs[f->spec].vip.addr.bytes, f->v6 ? 16 : 4);
		fr_put16(fr->b + (f->vlan ? 18 : 14) + (f->v6 ? 40 : 20), f->dport);
		return "client is the VIP";
	case 12:
		if (f->proto != 6)
			return NULL;
		flow_frame(f, 0, fr);
		fr->b[(f->vlan ? 18 : 14) + (f->v6 ? 40 : 20) + 12] = 0x40;
		return "TCP data offset 4";
	default:
		flow_frame(f, 0, fr);
		return NULL;
	}
}

/* The flood guard, both paths at 1 new flow a second (one token): the
 * first new flow (a TCP one) gets an entry, the others are forwarded by
 * the table without one. After a table change the one stays and the
 * others follow the new table, byte for byte alike on both paths; both
 * count the same capped inserts. Then, still over the budget, a bare SYN
 * of every flow, the recorded one too, goes by the table without a look
 * at the flow table: both paths count each one capped (the recorded
 * flow's SYN is no hit) and send the same bytes. Quick: the whole of it
 * well within the second after which a token comes back. */
static void flood_guard(struct xdp_side *x, struct dp_side *d, struct sluice_snapshot **snap,
			struct flow *flows, struct tally *t)
{
	static struct frame fr;
	struct sluice_xdp_stats before, after, mid;
	uint64_t dp_capped, dp_mid;
	char err[512];
	int n = 64;

	d->cfg.syn_rate = 1;
	sluice_xdp_path_set_syn_rate(x->xp, 1);
	reset_flows(x, d);
	xdp_sum(x, &before);
	for (int ph = 0; ph < 2; ph++) {
		if (sluice_xdp_path_publish(x->xp, snap[ph], err, sizeof(err)) < 0) {
			fprintf(stderr, "parity: publish: %s\n", err);
			t->mismatches++;
			return;
		}
		for (int i = 0; i < n; i++) {
			if (ph == 0)
				do
					new_flow(&flows[i], 0);
				while (i == 0 && flows[i].proto != 6);
			flow_frame(&flows[i], ph == 0, &fr);
			both(x, d, snap[ph], fr.b, fr.len,
			     ph == 0 ? "new flow under the flood guard" : "capped flow, table changed", t);
		}
	}
	xdp_sum(x, &mid);
	dp_mid = d->lc.ctr.flow_insert_capped;
	for (int i = 0; i < n; i++) {
		if (flows[i].proto != 6)
			continue;
		flow_frame(&flows[i], 1, &fr);
		both(x, d, snap[1], fr.b, fr.len, "bare SYN over the budget", t);
		if (i == 0)
			xdp_sum(x, &after);
		if (i == 0 && (after.xdp.flow_hits != mid.xdp.flow_hits ||
			       after.lcore.flow_insert_capped != mid.lcore.flow_insert_capped + 1 ||
			       d->lc.ctr.flow_insert_capped != dp_mid + 1)) {
			fprintf(stderr, "parity: over the budget, the SYN of a recorded flow was "
					"looked up (XDP hits %+lld, capped %+lld; DPDK capped %+lld)\n",
				(long long)(after.xdp.flow_hits - mid.xdp.flow_hits),
				(long long)(after.lcore.flow_insert_capped -
					    mid.lcore.flow_insert_capped),
				(long long)(d->lc.ctr.flow_insert_capped - dp_mid));
			t->mismatches++;
		}
	}
	xdp_sum(x, &after);
	dp_capped = d->lc.ctr.flow_insert_capped;
	printf("flood guard: %" PRIu64 " capped inserts on XDP, %" PRIu64 " on DPDK\n",
	       (uint64_t)(after.lcore.flow_insert_capped - before.lcore.flow_insert_capped),
	       dp_capped);
	if (dp_capped == 0 ||
	    after.lcore.flow_insert_capped - before.lcore.flow_insert_capped != dp_capped) {
		fprintf(stderr, "parity: the flood guards capped differently\n");
		t->mismatches++;
	}
	d->cfg.syn_rate = 0;
	sluice_xdp_path_set_syn_rate(x->xp, 0);
}

/* ---- main ---- */

static char eal_prefix[40];

/* EAL leaves /var/run/dpdk/<prefix> behind even without shared config. */
static void remove_runtime_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/var/run/dpdk/%s", eal_prefix);
	rmdir(path);
}

static int eal_init(void)
{
	/* No hugepages, no shared config: nothing left behind, nothing met. */
	char *argv[] = {"parity", "--no-pci", "--no-huge", "-m", "512", "--no-shconf",
			"--file-prefix", eal_prefix, "--no-telemetry", "-l", "0", "--log-level",
			"error", NULL};

	snprintf(eal_prefix, sizeof(eal_prefix), "sluice-parity-%d", (int)getpid());
	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

int main(void)
{
	struct sluice_snapshot *snap[3];
	struct fx_vip *phase_vips = calloc(N_VIPS, sizeof(*phase_vips));
	struct sluice_global_cfg g = fx_global(1500);
	struct flow *flows = calloc(FLOWS_PER_ROUND + NEW_IN_B, sizeof(*flows));
	struct tally t = {0};
	struct xdp_side x = {0};
	struct dp_side d = {0};
	uint64_t flows_total = 0, t0 = 0, dp_repicks = 0;
	static struct frame fr;
	char err[512];
	int rc = 1;

	specs = calloc(N_VIPS, sizeof(*specs));
	for (int i = 0; i < 3; i++)
		snap[i] = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*snap[i]));
	if (!specs || !phase_vips || !flows || !snap[0] || !snap[1] || !snap[2])
		return 1;
	if (eal_init() < 0) {
		fprintf(stderr, "parity: rte_eal_init failed\n");
		return 1;
	}
	/* Per-CPU flow tables: every BPF run on one CPU (EAL put us on 0). */
	if (fx_pin_cpu(0) < 0) {
		perror("sched_setaffinity");
		return 1;
	}

	/* The snapshots, as sluiced would build them. */
	vips_a();
	for (int ph = 0; ph < 3; ph++) {
		size_t n;

		if (ph == 1)
			vips_b();
		if (ph == 2)
			vips_c();
		n = phase_specs(ph, phase_vips);
		memset(snap[ph], 0, sizeof(*snap[ph]));
		if (fx_build(snap[ph], &g, phase_vips, n, (__u64)ph + 1) < 0)
			return 1;
	}

	/* XDP: the loader, pinned maps of a private instance. */
	snprintf(x.instance, sizeof(x.instance), "parity-%d", (int)getpid());
	if (sluice_xdp_path_open(x.instance, &x.xp, err, sizeof(err)) < 0) {
		fprintf(stderr, "parity: %s (needs root and BPF; does not skip)\n", err);
		return 1;
	}
	x.prog_fd = sluice_xdp_path_prog_fd(x.xp);
	x.stats_fd = open_map(&x, "stats");
	x.flows_fd = open_map(&x, "flows");
	x.ncpus = libbpf_num_possible_cpus();
	x.cpu = calloc((size_t)x.ncpus, sizeof(*x.cpu));

	/* DPDK: one lcore's processing, no rate caps, long idle timeouts. */
	d.pool = rte_pktmbuf_pool_create("parity", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	d.status = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*d.status));
	if (!x.cpu || !d.pool || !d.status)
		goto out;
	memset(d.status, 0, sizeof(*d.status));
	d.cfg.tsc_hz = rte_get_tsc_hz();
	d.cfg.flows = 8 * (FLOWS_PER_ROUND + NEW_IN_B); /* far from full: no eviction */
	for (int c = 0; c < SLUICE_FT_NCLASS; c++)
		d.cfg.timeout_s[c] = 3600;
	if (sluice_dp_lcore_init(&d.lc, &d.cfg, d.status, SOCKET_ID_ANY) < 0)
		goto out;

	t0 = rte_rdtsc();
	for (int round = 0; round < ROUNDS; round++) {
		int n_flows = FLOWS_PER_ROUND;

		dp_repicks += d.lc.ctr.flow_repicks;
		reset_flows(&x, &d);
		xdp_sum(&x, &x.sum);
		for (int ph = 0; ph < 3; ph++) {
			if (sluice_xdp_path_publish(x.xp, snap[ph], err, sizeof(err)) < 0) {
				fprintf(stderr, "parity: publish: %s\n", err);
				goto out;
			}
			if (ph == 0)
				for (int i = 0; i < n_flows; i++)
					new_flow(&flows[i], 0);
			if (ph == 1) {
				for (int i = n_flows; i < n_flows + NEW_IN_B; i++)
					new_flow(&flows[i], 1);
				n_flows += NEW_IN_B;
			}
			for (int i = 0; i < n_flows; i++) {
				const struct flow *f = &flows[i];
				bool first = (ph == 0) || (ph == 1 && i >= FLOWS_PER_ROUND);
				const char *odd = first ? NULL : odd_frame(f, &fr);

				if (!odd)
					flow_frame(f, first, &fr);
				both(&x, &d, snap[ph], fr.b, fr.len, odd ? odd : "flow packet", &t);
			}
		}
		flows_total += (uint64_t)n_flows;
		/* Far below capacity: neither table evicted a live flow. */
		xdp_sum(&x, &x.sum);
		if (x.sum.lcore.flow_evictions || d.lc.ft->stats.evictions) {
			fprintf(stderr, "parity: evictions (XDP %" PRIu64 ", DPDK %" PRIu64
					") make connection tracking differ: test sized wrong\n",
				(uint64_t)x.sum.lcore.flow_evictions,
				(uint64_t)d.lc.ft->stats.evictions);
			t.mismatches++;
		}
		dp_repicks += d.lc.ctr.flow_repicks;
		d.lc.ctr.flow_repicks = 0;
		printf("round %d: %d flows, %" PRIu64 " frames so far, %" PRIu64 " mismatches\n",
		       round + 1, n_flows, t.frames, t.mismatches);
		fflush(stdout);
	}
	flood_guard(&x, &d, snap, flows, &t);
	printf("parity: %" PRIu64 " flows, %" PRIu64 " frames under 3 snapshots: %" PRIu64
	       " sent (%" PRIu64 " too-big replies), %" PRIu64 " dropped, %" PRIu64
	       " passed to the kernel by XDP (dropped by DPDK); %" PRIu64 " mismatches; "
	       "XDP flow repicks %" PRIu64 " (DPDK %" PRIu64 "); %.1f s\n",
	       flows_total, t.frames, t.sent, t.too_big_replies, t.dropped, t.passed, t.mismatches,
	       (uint64_t)x.sum.lcore.flow_repicks, dp_repicks,
	       (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	rc = t.mismatches == 0 && flows_total >= 100000 && t.sent > 0 ? 0 : 1;
out:
	sluice_dp_lcore_fini(&d.lc);
	sluice_xdp_path_close(x.xp, false);
	sluice_xdp_path_unpin(x.instance, NULL, 0);
	free(x.cpu);
	free(d.status);
	for (int i = 0; i < 3; i++)
		free(snap[i]);
	free(phase_vips);
	free(flows);
	free(specs);
	rte_eal_cleanup();
	remove_runtime_dir();
	return rc;
}
