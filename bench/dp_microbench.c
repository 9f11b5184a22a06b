/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp-microbench: the packet path alone (sluice_dp_process on
 * mbufs in memory, no port), for measuring and optimising it without a
 * generator in the way. Times only the processing call; building the
 * packets and freeing the results are outside the timed span. Run under
 * valgrind --tool=callgrind --toggle-collect=measured_process for exact
 * instruction counts of the measured packets alone (the warm-up's are not
 * collected); bench/linerate.py does, for its instructions_per_packet.
 *
 *   sluice-dp-microbench [EAL options] -- --scenario new|established|nonvip|established_v6
 *                        [--flows N] [--packets N] [--burst N] [--warm N]
 *
 * --warm N: N flows of the scenario inserted before the measurement
 * (default: --flows for established flows, none for new ones; a new-flow
 * run warmed past the table's capacity measures inserts that evict).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "sluice/encap.h"
#include "process.h"
#include "snapshot.h"

#define M 65537u
#define N_BACKENDS 16

static const __u8 VIP4[4] = {10, 99, 0, 1};
static const __u8 VIP6[16] = {0xfd, 0, 0, 0x99, [15] = 1};

enum scenario { NEW, ESTABLISHED, NONVIP, ESTABLISHED_V6 };

static void build_snapshot(struct sluice_snapshot *snap)
{
	struct sluice_table_params tp = {.algo = SLUICE_ALGO_MAGLEV, .m = M, .seed = 1};
	struct sluice_global_cfg g = {
		.src_v4 = {.family = SLUICE_FAMILY_V4, .bytes = {10, 0, 0, 1}},
		.src_v6 = {.family = SLUICE_FAMILY_V6, .bytes = {0xfd, 0, [15] = 1}},
		.nexthop_mac = {2, 0, 0, 0, 0, 1},
		.mtu = 1500,
		.lb_mac = {2, 0, 0, 0, 0, 2},
	};
	static struct sluice_backend be[2][N_BACKENDS];
	static __u16 table[2][M];
	struct sluice_vip_spec spec[2];
	char err[256];

	/* 10.99.0.1:80 with IPv4 backends, [fd00:99::1]:80 with IPv6 ones. */
	memset(spec, 0, sizeof(spec));
	for (unsigned int v = 0; v < 2; v++) {
		__u8 fam = v ? SLUICE_FAMILY_V6 : SLUICE_FAMILY_V4;

		for (unsigned int i = 0; i < N_BACKENDS; i++) {
			be[v][i].id = (__u16)(v * N_BACKENDS + i + 1);
			be[v][i].state = SLUICE_BACKEND_ACTIVE;
			be[v][i].weight = 1;
			be[v][i].addr = v ? (struct sluice_addr){.family = fam,
								 .bytes = {0xfd, 0x20, [15] = (__u8)(i + 1)}}
					  : (struct sluice_addr){.family = fam,
								 .bytes = {10, 200, 0, (__u8)(i + 1)}};
		}
		spec[v].vip = (struct sluice_vip){.addr = {.family = fam},
						  .port = sluice_htons(80),
						  .proto = SLUICE_IPPROTO_TCP,
						  .mode = SLUICE_FWD_IPIP, .hash_seed = 0x5eed + v,
						  .id = (__u16)v};
		memcpy(spec[v].vip.addr.bytes, v ? VIP6 : VIP4, v ? 16 : 4);
		if (sluice_vip_compile(&tp, be[v], N_BACKENDS, table[v], &spec[v].m, err,
				       sizeof(err)) < 0)
			rte_exit(1, "compile: %s\n", err);
		spec[v].backends = be[v];
		spec[v].n_backends = N_BACKENDS;
		spec[v].table = table[v];
	}
	if (sluice_snapshot_fill(snap, &g, spec, 2, err, sizeof(err)) < 0)
		rte_exit(1, "fill: %s\n", err);
}

/* A zeroed frame of len bytes with its Ethernet header, 02::1 -> 02::2. */
static void write_eth(uint8_t *f, size_t len, uint16_t type)
{
	memset(f, 0, len);
	f[0] = 2;
	f[5] = 2;
	f[6] = 2;
	f[11] = 1;
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

/* A 74-byte IPv6 TCP frame (78 with FCS, as sluice-pktgen sends) of flow i;
 * its length. */
static uint16_t write_frame6(uint8_t *f, uint64_t i)
{
	struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)(f + 14);
	uint8_t *l4 = f + 54;
	uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [12] = (uint8_t)(i >> 24),
			   (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

	write_eth(f, 74, 0x86dd);
	sluice_write_ipv6(ip, 0, 0, 20, SLUICE_IPPROTO_TCP, src, VIP6);
	l4[0] = 4;
	l4[3] = 80;
	l4[12] = 0x50;
	l4[13] = SLUICE_TCP_ACK;
	return 74;
}

/* A 60-byte TCP frame (64 with FCS) of flow i, as sluice-pktgen sends. */
static uint16_t write_frame(uint8_t *f, uint64_t i, enum scenario sc)
{
	struct sluice_ipv4hdr *ip = (struct sluice_ipv4hdr *)(f + 14);
	uint8_t *l4 = f + 34;
	uint8_t src[4] = {198, (uint8_t)(18 + ((i >> 24) & 1)), (uint8_t)(i >> 16),
			  (uint8_t)(i >> 8)};
	uint8_t dst[4] = {10, sc == NONVIP ? 98 : 99, 0, 1};

	write_eth(f, 60, 0x0800);
	sluice_write_ipv4(ip, 0, 46, SLUICE_IP_DF, SLUICE_IPPROTO_TCP, src, dst);
	l4[0] = (uint8_t)(4 + (i & 0x3f));
	l4[1] = (uint8_t)i;
	l4[3] = 80;
	l4[12] = 0x50;
	l4[13] = sc == NEW ? SLUICE_TCP_SYN : SLUICE_TCP_ACK;
	return 60;
}

static void add_frame(struct rte_mbuf *m, uint64_t i, enum scenario sc)
{
	uint8_t buf[128];
	uint16_t len = sc == ESTABLISHED_V6 ? write_frame6(buf, i) : write_frame(buf, i, sc);

	memcpy(rte_pktmbuf_append(m, len), buf, len);
}

/* The measured call, apart from the warm-up's, for callgrind's
 * --toggle-collect. */
__attribute__((noinline)) static uint16_t measured_process(struct sluice_dp_lcore *lc,
							     const struct sluice_snapshot *snap,
							     struct rte_mbuf **in, uint16_t n,
							     struct rte_mbuf **out, uint64_t now)
{
	return sluice_dp_process(lc, snap, 0, in, n, out, now);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"scenario", 1, 0, 's'}, {"flows", 1, 0, 'f'}, {"packets", 1, 0, 'p'},
		{"burst", 1, 0, 'b'},	 {"warm", 1, 0, 'w'},	  {0, 0, 0, 0},
	};
	enum scenario sc = ESTABLISHED;
	uint64_t flows = 1000000, packets = 20000000, seq = 0, cycles = 0, done = 0, out_n = 0;
	int64_t warm_n = -1;
	unsigned int burst = 32;
	struct sluice_snapshot *snap;
	struct sluice_dp_config cfg;
	struct sluice_dp_lcore *lc;
	struct sluice_lcore_status *st;
	struct rte_mempool *pool;
	int c, rc = rte_eal_init(argc, argv);

	if (rc < 0)
		rte_exit(1, "EAL init failed\n");
	argc -= rc;
	argv += rc;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 's')
			sc = strcmp(optarg, "new") == 0	     ? NEW
			     : strcmp(optarg, "nonvip") == 0 ? NONVIP
			     : strcmp(optarg, "established_v6") == 0 ? ESTABLISHED_V6
							     : ESTABLISHED;
		else if (c == 'f')
			flows = strtoull(optarg, NULL, 10);
		else if (c == 'p')
			packets = strtoull(optarg, NULL, 10);
		else if (c == 'b')
			burst = (unsigned int)atoi(optarg);
		else if (c == 'w')
			warm_n = (int64_t)strtoull(optarg, NULL, 10);
		else
			rte_exit(2, "usage: see the source\n");
	}
	if (burst < 1 || burst > SLUICE_DP_BURST_MAX || flows < 1)
		rte_exit(2, "bad --burst or --flows\n");
	snap = calloc(1, sizeof(*snap));
	st = calloc(1, sizeof(*st));
	lc = rte_zmalloc("lc", sizeof(*lc), RTE_CACHE_LINE_SIZE);
	pool = rte_pktmbuf_pool_create("mb", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (!snap || !st || !lc || !pool)
		rte_exit(1, "out of memory\n");
	build_snapshot(snap);
	memset(&cfg, 0, sizeof(cfg));
	cfg.tsc_hz = rte_get_tsc_hz();
	cfg.flows = flows > 1048576 ? (uint32_t)flows : 1048576;
	cfg.timeout_s[SLUICE_FLOW_TCP] = SLUICE_TIMEOUT_TCP_S;
	cfg.timeout_s[SLUICE_FLOW_UDP] = SLUICE_TIMEOUT_UDP_S;
	cfg.timeout_s[SLUICE_FLOW_CLOSING] = SLUICE_TIMEOUT_CLOSING_S;
	if (sluice_dp_lcore_init(lc, &cfg, st, (int)rte_socket_id()) < 0)
		rte_exit(1, "flow table\n");

	/* Established: every flow in the table first. */
	if (warm_n < 0)
		warm_n = sc == ESTABLISHED || sc == ESTABLISHED_V6 ? (int64_t)flows : 0;
	for (uint64_t warm = (uint64_t)warm_n; done < warm;) {
		struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
		unsigned int n = (unsigned int)RTE_MIN((uint64_t)burst, warm - done);
		uint16_t k;

		if (rte_pktmbuf_alloc_bulk(pool, in, n) < 0)
			rte_exit(1, "mbufs\n");
		for (unsigned int i = 0; i < n; i++)
			add_frame(in[i], done + i, sc);
		k = sluice_dp_process(lc, snap, 0, in, (uint16_t)n, out, rte_rdtsc());
		rte_pktmbuf_free_bulk(out, k);
		done += n;
	}
	seq = sc == NEW ? done : 0;
	done = 0;
	while (done < packets) {
		struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
		uint64_t t0;
		uint16_t k;

		if (rte_pktmbuf_alloc_bulk(pool, in, burst) < 0)
			rte_exit(1, "mbufs\n");
		for (unsigned int i = 0; i < burst; i++) {
			uint64_t f = sc == NEW ? flows + seq++ : rte_rand_max(flows);

			add_frame(in[i], f, sc);
		}
		t0 = rte_rdtsc();
		k = measured_process(lc, snap, in, (uint16_t)burst, out, t0);
		cycles += rte_rdtsc() - t0;
		out_n += k;
		rte_pktmbuf_free_bulk(out, k);
		done += burst;
	}
	sluice_dp_flush(lc);
	printf("flow table: %llu bytes for %u flows, %.1f bytes per flow\n",
	       (unsigned long long)sluice_ft_bytes(lc->ft), cfg.flows,
	       (double)sluice_ft_bytes(lc->ft) / cfg.flows);
	printf("scenario %s: %llu packets, %llu forwarded, %.1f cycles/packet (%.1f Mpps at "
	       "%.0f MHz); flows in table %llu, inserts %llu, evictions %llu, repicks %llu\n",
	       sc == NEW ? "new" : sc == NONVIP ? "nonvip" : sc == ESTABLISHED_V6 ? "established_v6" : "established",
	       (unsigned long long)done, (unsigned long long)out_n, (double)cycles / (double)done,
	       (double)rte_get_tsc_hz() / ((double)cycles / (double)done) / 1e6,
	       rte_get_tsc_hz() / 1e6, (unsigned long long)st->counters.flow_live,
	       (unsigned long long)st->counters.flow_inserts,
	       (unsigned long long)st->counters.flow_evictions,
	       (unsigned long long)st->counters.flow_repicks);
	sluice_dp_lcore_fini(lc);
	rte_free(lc);
	rte_mempool_free(pool);
	free(snap);
	free(st);
	rte_eal_cleanup();
	return 0;
}
