/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two BPF_PROG_TEST_RUN programs of the XDP path share: the
 * addresses and VIPs of the fixtures, opening an instance and publishing
 * to it, running a frame and the checks of its verdict, bytes and counters
 * (xdp_fixtures_test.c: one frame at a time; xdp_tables_test.c: flows
 * across table changes, ages and CPUs).
 */
#ifndef SLUICE_TEST_XDP_RUNNER_H
#define SLUICE_TEST_XDP_RUNNER_H

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

static int instance_seq; /* per program */

static inline struct sluice_addr a4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return fx_addr4((uint8_t[]){a, b, c, d});
}

static inline struct sluice_addr a6(uint16_t net, uint8_t host)
{
	return fx_addr6((uint8_t[]){0xfd, 0, (uint8_t)(net >> 8), (uint8_t)net, [15] = host});
}

/* The fixture's VIPs (docs in the enum above). */
static inline void default_vips(struct fx_vip *v)
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

static inline void publish(struct fx *f, size_t n_vips)
{
	struct sluice_global_cfg g = fx_global(1500);
	char err[256];

	assert_int_equal(fx_build(f->snap, &g, f->vips, n_vips, ++f->gen), 0);
	if (sluice_xdp_path_publish(f->xp, f->snap, err, sizeof(err)) < 0)
		fail_msg("publish: %s", err);
}

static inline int open_instance(struct fx *f)
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

static inline int setup(void **state)
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

static inline int teardown(void **state)
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

static inline void run(struct fx *f, const uint8_t *in, size_t len, struct result *r)
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
static inline void expect_pass(struct fx *f, const struct frame *in, const struct result *r, int reason)
{
	assert_int_equal(r->verdict, XDP_PASS);
	assert_int_equal(r->len, in->len);
	assert_memory_equal(r->out, in->b, in->len);
	assert_int_equal(D_XDP(f, xdp_pass), 1);
	if (reason >= 0)
		assert_int_equal(D_PASS(f, reason), 1);
	assert_int_equal(D_LCORE(f, tx_packets), 0);
}

static inline void expect_drop(struct fx *f, const struct result *r, int reason)
{
	assert_int_equal(r->verdict, XDP_DROP);
	assert_int_equal(D_XDP(f, xdp_drop), 1);
	assert_int_equal(D_DROP(f, reason), 1);
	assert_int_equal(D_LCORE(f, tx_packets), 0);
}

static inline uint64_t hash4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t sp,
		      uint16_t dp, uint64_t seed)
{
	return fx_hash(0, src, dst, proto, sp, dp, seed);
}

static inline uint64_t hash6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t sp,
		      uint16_t dp, uint64_t seed)
{
	return fx_hash(1, src, dst, proto, sp, dp, seed);
}


#endif /* SLUICE_TEST_XDP_RUNNER_H */
