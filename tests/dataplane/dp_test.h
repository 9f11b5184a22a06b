/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the data-plane packet tests share: EAL without hugepages, a mempool,
 * frames copied into mbufs, snapshots built with libsluice, and the
 * independent oracle (libxxhash's XXH64 over a key built byte by byte, and
 * sluice_snapshot_pick for the table's answer).
 */
#ifndef SLUICE_DP_TEST_H
#define SLUICE_DP_TEST_H

#include <arpa/inet.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "process.h"
#include "snapshot.h"
#include "frames.h"

#define T_M 1009u /* table size of the test VIPs (prime, >= 16 backends * 16) */
#define T_MAX_BE 16

static struct rte_mempool *t_pool;

/* EAL without hugepages or PCI, memory only, one lcore. */
static inline int t_eal_init(const char *name)
{
	char prefix[64];
	char *argv[] = {(char *)name, "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			prefix, "--log-level=*:warning", "-l", "0", "--no-telemetry", NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-test-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -1;
	t_pool = rte_pktmbuf_pool_create("t_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	return t_pool ? 0 : -1;
}

static inline int t_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* EAL leaves its runtime directory behind: remove ours. */
static inline void t_eal_fini(void)
{
	char dir[128];

	rte_mempool_free(t_pool);
	rte_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/sluice-test-%d", (int)getpid());
	nftw(dir, t_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* A packet test's main: EAL, the group with its fixtures, EAL's files
 * removed. */
static inline int t_main(const char *name, const struct CMUnitTest *tests, size_t n,
			 CMFixtureFunction setup, CMFixtureFunction teardown)
{
	int rc;

	if (t_eal_init(name) < 0) {
		fprintf(stderr, "EAL initialisation failed\n");
		return 1;
	}
	rc = _cmocka_run_group_tests(name, tests, n, setup, teardown);
	t_eal_fini();
	return rc;
}

static inline struct rte_mbuf *t_mbuf(const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)f->len);
	assert_non_null(p);
	memcpy(p, f->b, f->len);
	return m;
}

static inline struct sluice_addr t_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct sluice_addr x = {.family = SLUICE_FAMILY_V4, .bytes = {a, b, c, d}};

	return x;
}

static inline struct sluice_addr t_v6(const uint8_t b[16])
{
	struct sluice_addr x = {.family = SLUICE_FAMILY_V6};

	memcpy(x.bytes, b, 16);
	return x;
}

/* A VIP as a test describes it. */
struct t_vip {
	struct sluice_vip vip;
	struct sluice_backend be[T_MAX_BE];
	size_t n;
	uint16_t table[T_M];
};

static inline struct sluice_backend t_backend(uint16_t id, struct sluice_addr addr, uint8_t state)
{
	struct sluice_backend b;

	memset(&b, 0, sizeof(b));
	b.addr = addr;
	b.id = id;
	b.state = state;
	b.weight = 1;
	b.mac[0] = 0x02;
	b.mac[1] = 0xbe;
	b.mac[5] = (uint8_t)id;
	return b;
}

/* n active backends of v, ids first_id.., addresses a.b.c.1.. */
static inline void t_backends(struct t_vip *v, uint16_t first_id, uint8_t a, uint8_t b,
			      uint8_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v->be[i] = t_backend((uint16_t)(first_id + i), t_v4(a, b, c, (uint8_t)(1 + i)),
				     SLUICE_BACKEND_ACTIVE);
	v->n = n;
}

static const struct sluice_global_cfg t_global_init = {
	.src_v4 = {.family = SLUICE_FAMILY_V4, .bytes = {10, 0, 0, 1}},
	.src_v6 = {.family = SLUICE_FAMILY_V6, .bytes = {0xfd, 0, [15] = 1}},
	.nexthop_mac = {0x02, 0, 0, 0, 0, 0xfe},
	.mtu = 1500,
	.lb_mac = {0x02, 0, 0, 0, 0, 0x02},
};

/* Fill snap with vips (compiled here: Maglev, M = T_M, seed from the id). */
static inline void t_fill(struct sluice_snapshot *snap, struct t_vip *vips, size_t n,
			  const struct sluice_global_cfg *g)
{
	struct sluice_vip_spec specs[16];
	char err[256];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		struct sluice_table_params tp = {.algo = SLUICE_ALGO_MAGLEV, .m = T_M,
						 .seed = 1000u + vips[i].vip.id};
		__u32 m;

		if (sluice_vip_compile(&tp, vips[i].be, vips[i].n, vips[i].table, &m, err,
				       sizeof(err)) != 0)
			fail_msg("compile: %s", err);
		memset(&specs[i], 0, sizeof(specs[i]));
		specs[i].vip = vips[i].vip;
		specs[i].backends = vips[i].be;
		specs[i].n_backends = vips[i].n;
		specs[i].table = m ? vips[i].table : NULL;
		specs[i].m = m;
	}
	if (sluice_snapshot_fill(snap, g, specs, n, err, sizeof(err)) != 0)
		fail_msg("fill: %s", err);
}

/* The oracle: the flow key built byte by byte (flow.h's layout), hashed
 * with libxxhash. */
static inline uint64_t t_hash4(uint8_t proto, const uint8_t src[4], const uint8_t dst[4],
			       uint16_t sport, uint16_t dport, uint64_t seed)
{
	uint8_t k[40];

	memset(k, 0, sizeof(k));
	memcpy(k, src, 4);
	memcpy(k + 16, dst, 4);
	fr_put16(k + 32, sport);
	fr_put16(k + 34, dport);
	k[36] = proto;
	k[37] = SLUICE_FAMILY_V4;
	return XXH64(k, sizeof(k), seed);
}

static inline uint64_t t_hash6(uint8_t proto, const uint8_t src[16], const uint8_t dst[16],
			       uint16_t sport, uint16_t dport, uint64_t seed)
{
	uint8_t k[40];

	memset(k, 0, sizeof(k));
	memcpy(k, src, 16);
	memcpy(k + 16, dst, 16);
	fr_put16(k + 32, sport);
	fr_put16(k + 34, dport);
	k[36] = proto;
	k[37] = SLUICE_FAMILY_V6;
	return XXH64(k, sizeof(k), seed);
}

/* A zeroed lcore context with its own status slot. */
struct t_lcore {
	struct sluice_dp_config cfg;
	struct sluice_lcore_status *st;
	struct sluice_dp_lcore *lc;
};

static inline void t_lcore_default_cfg(struct sluice_dp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tsc_hz = rte_get_tsc_hz();
	cfg->flows = 4096;
	cfg->timeout_s[SLUICE_FLOW_TCP] = SLUICE_TIMEOUT_TCP_S;
	cfg->timeout_s[SLUICE_FLOW_UDP] = SLUICE_TIMEOUT_UDP_S;
	cfg->timeout_s[SLUICE_FLOW_CLOSING] = SLUICE_TIMEOUT_CLOSING_S;
	cfg->port_mac[0] = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x99}};
}

static inline void t_lcore_init(struct t_lcore *t)
{
	t->st = calloc(1, sizeof(*t->st));
	t->lc = rte_zmalloc("t_lcore", sizeof(*t->lc), RTE_CACHE_LINE_SIZE);
	assert_non_null(t->st);
	assert_non_null(t->lc);
	assert_int_equal(sluice_dp_lcore_init(t->lc, &t->cfg, t->st, SOCKET_ID_ANY), 0);
}

static inline void t_lcore_fini(struct t_lcore *t)
{
	sluice_dp_lcore_fini(t->lc);
	rte_free(t->lc);
	free(t->st);
	memset(t, 0, sizeof(*t));
}

/* Process one frame at TSC now; returns the output mbuf or NULL (dropped). */
static inline struct rte_mbuf *t_one(struct t_lcore *t, const struct sluice_snapshot *snap,
				     const struct frame *f, uint64_t now)
{
	struct rte_mbuf *in = t_mbuf(f), *out = NULL;
	uint16_t n = sluice_dp_process(t->lc, snap, 0, &in, 1, &out, now);

	assert_true(n <= 1);
	return n ? out : NULL;
}

#endif /* SLUICE_DP_TEST_H */
