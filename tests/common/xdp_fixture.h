/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the XDP tests: snapshots built the way sluiced builds them
 * (sluice_vip_compile + sluice_snapshot_fill), BPF_PROG_TEST_RUN of the
 * loaded program, an expected-bytes builder for each encapsulation written
 * byte by byte from the formats (independent of include/sluice/encap.h),
 * the flow hash from libxxhash over a key written byte by byte, and counter
 * deltas.
 */
#ifndef SLUICE_TEST_XDP_FIXTURE_H
#define SLUICE_TEST_XDP_FIXTURE_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <xxhash.h>

#include "sluice/consts.h"
#include "sluice/model.h"
#include "snapshot.h"
#include "xdp_path.h"
#include "frames.h"

/* ---- addresses and settings ---- */

static const uint8_t fx_nexthop_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t fx_src4[4] = {10, 0, 0, 1};
static const uint8_t fx_src6[16] = {0xfd, 0, [15] = 1};
#define FX_GUE_PORT 6080

static inline struct sluice_addr fx_addr4(const uint8_t b[4])
{
	struct sluice_addr a;

	memset(&a, 0, sizeof(a));
	a.family = SLUICE_FAMILY_V4;
	memcpy(a.bytes, b, 4);
	return a;
}

static inline struct sluice_addr fx_addr6(const uint8_t b[16])
{
	struct sluice_addr a;

	memset(&a, 0, sizeof(a));
	a.family = SLUICE_FAMILY_V6;
	memcpy(a.bytes, b, 16);
	return a;
}

static inline struct sluice_global_cfg fx_global(uint16_t mtu)
{
	struct sluice_global_cfg g;

	memset(&g, 0, sizeof(g));
	g.src_v4 = fx_addr4(fx_src4);
	g.src_v6 = fx_addr6(fx_src6);
	memcpy(g.nexthop_mac, fx_nexthop_mac, 6);
	memcpy(g.lb_mac, fr_lb_mac, 6);
	g.gue_port = (__be16)__builtin_bswap16(FX_GUE_PORT);
	g.mtu = mtu;
	return g;
}

/* ---- snapshots ---- */

/* One VIP as a test describes it; backends get their table from
 * sluice_vip_compile (Maglev). */
struct fx_vip {
	struct sluice_vip vip;		/* addr, port (network order), proto, mode, id, hash_seed */
	struct sluice_backend be[64];	/* addr, mac, state, id, weight */
	size_t n;
	__u32 m;			/* table size (prime) */
	__u16 table[70001];		/* filled by fx_build */
};

static inline void fx_vip_init(struct fx_vip *v, __u16 id, struct sluice_addr addr, uint16_t port,
			       __u8 proto, __u8 mode, __u64 seed, __u32 m)
{
	memset(&v->vip, 0, sizeof(v->vip));
	v->vip.addr = addr;
	v->vip.port = (__be16)__builtin_bswap16(port);
	v->vip.proto = proto;
	v->vip.mode = mode;
	v->vip.id = id;
	v->vip.hash_seed = seed;
	v->n = 0;
	v->m = m;
}

static inline struct sluice_backend *fx_add_backend(struct fx_vip *v, __u16 id,
						    struct sluice_addr addr, __u8 state)
{
	struct sluice_backend *b = &v->be[v->n++];

	memset(b, 0, sizeof(*b));
	b->addr = addr;
	b->id = id;
	b->state = state;
	b->weight = 100;
	b->mac[0] = 0x02;
	b->mac[1] = 0xbe;
	b->mac[4] = (uint8_t)(id >> 8);
	b->mac[5] = (uint8_t)id;
	return b;
}

/* Compile every VIP and fill snap. Returns 0 or fails the test. */
static inline int fx_build(struct sluice_snapshot *snap, const struct sluice_global_cfg *g,
			   struct fx_vip *vips, size_t n, __u64 generation)
{
	struct sluice_vip_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	char err[256];
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = vips[i].m,
						.seed = 77 + vips[i].vip.id};
		__u32 m = 0;

		rc = sluice_vip_compile(&p, vips[i].be, vips[i].n, vips[i].table, &m, err,
					sizeof(err));
		specs[i].vip = vips[i].vip;
		specs[i].backends = vips[i].be;
		specs[i].n_backends = vips[i].n;
		specs[i].table = m ? vips[i].table : NULL;
		specs[i].m = m;
	}
	if (rc == 0)
		rc = sluice_snapshot_fill(snap, g, specs, n, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "fx_build: %s\n", err);
	snap->generation = generation;
	free(specs);
	return rc;
}

/* ---- running the program ---- */

/* One BPF_PROG_TEST_RUN of frame [in, in+len): the verdict, the output in
 * out (4096 bytes) and its length in *out_len. -errno if the run fails. */
static inline int fx_run(int prog_fd, const void *in, size_t len, uint8_t *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = 4096, .repeat = 1);
	int rc = bpf_prog_test_run_opts(prog_fd, &opts);

	if (rc < 0)
		return rc;
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/* Per-CPU flow tables: every run must be on the same CPU. */
static inline int fx_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* ---- the flow hash, independently ---- */

/* The 40-byte flow key of include/sluice/flow.h, written byte by byte: client -> VIP. */
static inline uint64_t fx_hash(int v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			       uint16_t sport, uint16_t dport, uint64_t seed)
{
	uint8_t key[40];

	memset(key, 0, sizeof(key));
	memcpy(key, src, v6 ? 16 : 4);
	memcpy(key + 16, dst, v6 ? 16 : 4);
	fr_put16(key + 32, sport);
	fr_put16(key + 34, dport);
	key[36] = proto;
	key[37] = v6 ? 6 : 4;
	return XXH64(key, sizeof(key), seed);
}

/* ---- expected output, byte by byte ---- */

/*
 * What a data path must send for the frame in[0..len) (IP packet at l3)
 * toward be with mode and hash, into out; returns its length. Outer IPv4:
 * ID 0, DF, TTL 64, TOS copied; outer IPv6: traffic class copied, flow
 * label = hash & 0xfffff, hop limit 64; GUE: UDP source port 0xC000 | bits
 * 32..45 of the hash, checksum 0.
 */
static inline size_t fx_expect_encap(const uint8_t *in, size_t len, size_t l3, uint8_t mode,
				     const struct sluice_backend *be, uint64_t hash, uint8_t *out)
{
	const uint8_t *ip = in + l3;
	size_t ip_len = len - l3, o = 0;
	int inner6 = ip[0] >> 4 == 6, outer6 = be->addr.family == SLUICE_FAMILY_V6;
	uint8_t tos = inner6 ? (uint8_t)((ip[0] & 0xf) << 4 | ip[1] >> 4) : ip[1];
	uint16_t l3proto = mode == SLUICE_FWD_L2DSR ? (inner6 ? 0x86DD : 0x0800)
						     : (outer6 ? 0x86DD : 0x0800);
	int gue = mode == SLUICE_FWD_GUE;

	memcpy(out, mode == SLUICE_FWD_L2DSR ? be->mac : fx_nexthop_mac, 6);
	memcpy(out + 6, fr_lb_mac, 6);
	if (l3 == 18) {
		fr_put16(out + 12, 0x8100);
		memcpy(out + 14, in + 14, 2);
		fr_put16(out + 16, l3proto);
	} else {
		fr_put16(out + 12, l3proto);
	}
	o = l3;
	if (mode == SLUICE_FWD_L2DSR) {
		memcpy(out + o, ip, ip_len);
		return o + ip_len;
	}
	if (outer6) {
		uint32_t flow = (uint32_t)hash & 0xFFFFF;

		out[o] = (uint8_t)(0x60 | tos >> 4);
		out[o + 1] = (uint8_t)(tos << 4 | flow >> 16);
		fr_put16(out + o + 2, (uint16_t)flow);
		fr_put16(out + o + 4, (uint16_t)(ip_len + (gue ? 8 : 0)));
		out[o + 6] = gue ? 17 : (inner6 ? 41 : 4);
		out[o + 7] = 64;
		memcpy(out + o + 8, fx_src6, 16);
		memcpy(out + o + 24, be->addr.bytes, 16);
		o += 40;
	} else {
		memset(out + o, 0, 20);
		out[o] = 0x45;
		out[o + 1] = tos;
		fr_put16(out + o + 2, (uint16_t)(20 + ip_len + (gue ? 8 : 0)));
		fr_put16(out + o + 6, 0x4000);
		out[o + 8] = 64;
		out[o + 9] = gue ? 17 : (inner6 ? 41 : 4);
		memcpy(out + o + 12, fx_src4, 4);
		memcpy(out + o + 16, be->addr.bytes, 4);
		fr_put16(out + o + 10, fr_csum(out + o, 20, 0));
		o += 20;
	}
	if (gue) {
		fr_put16(out + o, (uint16_t)(0xC000 | ((hash >> 32) & 0x3FFF)));
		fr_put16(out + o + 2, FX_GUE_PORT);
		fr_put16(out + o + 4, (uint16_t)(ip_len + 8));
		fr_put16(out + o + 6, 0);
		o += 8;
	}
	memcpy(out + o, ip, ip_len);
	return o + ip_len;
}

/* ---- counters ---- */

struct fx_counters {
	struct sluice_lcore_status *st; /* heap: large */
	struct sluice_xdp_counters x;
};

static inline void fx_counters_read(struct sluice_xdp_path *xp, struct fx_counters *c)
{
	char err[256];

	if (!c->st)
		c->st = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*c->st));
	if (sluice_xdp_path_read_counters(xp, c->st, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_read_xdp_counters(xp, &c->x, err, sizeof(err)) < 0) {
		fprintf(stderr, "reading counters: %s\n", err);
		abort();
	}
}

static inline void fx_counters_free(struct fx_counters *c)
{
	free(c->st);
	c->st = NULL;
}

#endif /* SLUICE_TEST_XDP_FIXTURE_H */
