/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp-microbench: the packet path alone (sluice_dp_process on
 * mbufs in memory, no port), for measuring and optimising it without a
 * generator in the way, on one worker or several at once. Times only the
 * processing call; building the packets and freeing the results are
 * outside the timed span. Run under valgrind --tool=callgrind
 * --toggle-collect=measured_process for exact instruction counts of the
 * measured packets alone (the warm-up's are not collected);
 * bench/callgrind.py does, for linerate's instructions_per_packet.
 *
 *   sluice-dp-microbench [EAL options] -- [--scenario new_flows|established|nonvip|established_v6]
 *                        [--flows N] [--packets N] [--burst N] [--warm N]
 *                        [--workers N] [--json] [--compare [--rounds R]]
 *
 * --warm N: N flows of the scenario inserted before the measurement
 * (default: --flows for established flows, none for new ones; a new-flow
 * run warmed past the table's capacity measures inserts that evict).
 *
 * Workers: N lcores of the EAL's (-l / --lcores: the main lcore and the
 * first N - 1 others, each pinned to its CPU by EAL), each with what a
 * sluice-dp worker has of its own: a flow table of --flows on its socket,
 * its state and status slot on their own cache lines, mbufs from the
 * socket's pool through its per-lcore cache (sluice-dp's pool layout,
 * dataplane/ports.c). Shared, as in sluice-dp: the snapshot (read-only)
 * and the pool. Each worker's flows are the same --flows 5-tuples (its
 * own copy in its own table). The workers are released together and each
 * processes --packets packets; if they did not share anything, each would
 * cost what one alone does.
 *
 * --compare runs each worker alone on its lcore, then all --workers
 * together, --rounds times interleaved (the host's speed drifts), in one
 * process on the same flow tables, and gives the ratio per worker: its
 * cycles per packet alone / among N (1.0: no slowdown; 0.95 keeps 95 % of
 * its throughput). Three statistics: the mean over all packets (what the
 * issue asks for; it counts every preemption of the CPU by another process
 * during a timed span: on a shared 2-CPU machine most of the difference),
 * the mean without the slow bursts (> 4,000 cycles a packet: the CPU was
 * taken away) and the median burst's cycles per packet.
 *
 * --json: {"workers": N, "scenario": "established", "per_worker":
 *   [{"lcore": .., "cpu": .., "mpps": .., "cycles_per_packet": ..,
 *     "cycles_per_packet_median": .., "cycles_per_packet_unpreempted": ..,
 *     "slow_bursts": .., "slow_cycles_share": .., ...}], ...}
 * (mpps: the processing's own rate, TSC Hz / mean cycles per packet); with
 * --compare {"scenario": .., "workers": N, "rounds": [{"alone": [DOC per
 * worker], "together": DOC}, ...], "cycles_per_packet_one": [median alone
 * per worker], "cycles_per_packet_many": [median together per worker],
 * "ratio_per_worker": [..], "ratio": the lowest, and the same of the
 * other statistics (suffixes _median_burst, _unpreempted)}.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "sluice/encap.h"
#include "process.h"
#include "snapshot.h"

#define M 65537u
#define N_BACKENDS 16
#define POOL_CACHE 256 /* sluice-dp's (dataplane/ports.c) */
#define MAX_ROUNDS 31
#define HIST_MAX 4096 /* cycles per packet of a burst, the last bucket: above */

static const __u8 VIP4[4] = {10, 99, 0, 1};
static const __u8 VIP6[16] = {0xfd, 0, 0, 0x99, [15] = 1};

enum scenario { NEW, ESTABLISHED, NONVIP, ESTABLISHED_V6 };
static const char *const scenario_names[] = {"new_flows", "established", "nonvip",
					     "established_v6"};

/* One worker: everything it writes is its own, on its own cache lines. */
struct worker {
	struct sluice_dp_lcore lc;
	struct sluice_lcore_status *st;
	unsigned int lcore;
	bool warm;
	uint64_t seq;	      /* next new flow (NEW) */
	/* the last run's figures */
	uint64_t cycles, done, out_n;
	/* Bursts by cycles per packet: the median is what a burst costs when
	 * nothing else took the CPU meanwhile (the mean counts every
	 * preemption by another process that lands in a timed span, which
	 * on a shared machine is most of the noise). */
	uint32_t hist[HIST_MAX];
	/* Bursts of the last bucket (> 4,000 cycles a packet, 30 times the
	 * usual: the CPU was taken away, no cache miss costs that) and their
	 * cycles. */
	uint64_t slow_bursts, slow_cycles;
} __rte_cache_aligned;

static struct {
	enum scenario sc;
	uint64_t flows, packets, warm_n;
	unsigned int burst, n_workers, n_run;
	struct sluice_snapshot *snap;
	struct sluice_dp_config cfg;
	struct rte_mempool *pool;
	struct worker *w[RTE_MAX_LCORE];
	uint32_t ready; /* workers at the start line (atomic) */
} B;

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

/* Allocate n mbufs holding the frames of flows next(0..n-1). */
static void fill_burst(struct rte_mbuf **in, unsigned int n, struct worker *w, uint64_t first)
{
	if (rte_pktmbuf_alloc_bulk(B.pool, in, n) < 0)
		rte_exit(1, "lcore %u: out of mbufs\n", w->lcore);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t f = first != UINT64_MAX ? first + i
			     : B.sc == NEW	 ? B.flows + w->seq++
						 : rte_rand_max(B.flows);

		add_frame(in[i], f, B.sc);
	}
}

/* --warm flows in the worker's table first (once; a --compare run reuses
 * the tables). New flows are then numbered past them. */
static void warm_up(struct worker *w)
{
	for (uint64_t done = 0; !w->warm && done < B.warm_n;) {
		struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
		unsigned int n = (unsigned int)RTE_MIN((uint64_t)B.burst, B.warm_n - done);
		uint16_t k;

		fill_burst(in, n, w, done);
		k = sluice_dp_process(&w->lc, B.snap, 0, in, (uint16_t)n, out, rte_rdtsc());
		rte_pktmbuf_free_bulk(out, k);
		done += n;
	}
	if (!w->warm && B.sc == NEW)
		w->seq = B.warm_n;
	w->warm = true;
}

static int worker_run(void *arg)
{
	struct worker *w = arg;

	warm_up(w);
	w->cycles = w->done = w->out_n = 0;
	memset(w->hist, 0, sizeof(w->hist));
	w->slow_bursts = w->slow_cycles = 0;
	/* The start line: every worker of the run measures at the same time. */
	__atomic_fetch_add(&B.ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&B.ready, __ATOMIC_ACQUIRE) < B.n_run)
		rte_pause();
	while (w->done < B.packets) {
		struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
		uint64_t t0, t;
		uint16_t k;

		fill_burst(in, B.burst, w, UINT64_MAX);
		t0 = rte_rdtsc();
		k = measured_process(&w->lc, B.snap, in, (uint16_t)B.burst, out, t0);
		t = rte_rdtsc() - t0;
		w->cycles += t;
		w->hist[RTE_MIN(t / B.burst, (uint64_t)HIST_MAX - 1)]++;
		if (unlikely(t / B.burst >= HIST_MAX - 1)) {
			w->slow_bursts++;
			w->slow_cycles += t;
		}
		w->out_n += k;
		rte_pktmbuf_free_bulk(out, k);
		w->done += B.burst;
	}
	sluice_dp_flush(&w->lc);
	return 0;
}

/* Run workers first..first+n-1 together: the main lcore's (worker 0) on
 * the main lcore, the others launched on theirs. */
static void run(unsigned int first, unsigned int n)
{
	B.n_run = n;
	__atomic_store_n(&B.ready, 0, __ATOMIC_RELEASE);
	for (unsigned int i = RTE_MAX(first, 1u); i < first + n; i++)
		if (rte_eal_remote_launch(worker_run, B.w[i], B.w[i]->lcore) != 0)
			rte_exit(1, "cannot launch lcore %u\n", B.w[i]->lcore);
	if (first == 0)
		worker_run(B.w[0]);
	for (unsigned int i = RTE_MAX(first, 1u); i < first + n; i++)
		rte_eal_wait_lcore(B.w[i]->lcore);
}

static double cycles_per_packet(const struct worker *w)
{
	return (double)w->cycles / (double)w->done;
}

/* The mean without the slow bursts: what memory and caches cost, all of
 * it, but not the time the CPU spent on another process. */
static double cycles_per_packet_unpreempted(const struct worker *w)
{
	return (double)(w->cycles - w->slow_cycles) /
	       (double)RTE_MAX(w->done - w->slow_bursts * B.burst, (uint64_t)1);
}

/* The median burst's cycles per packet (to the cycle). */
static double cycles_per_packet_median(const struct worker *w)
{
	uint64_t bursts = w->done / B.burst, seen = 0;
	unsigned int i = 0;

	for (; i < HIST_MAX - 1; i++) {
		seen += w->hist[i];
		if (2 * seen >= bursts)
			break;
	}
	return i + 0.5;
}

/* The last run of workers first..first+n-1 as one JSON document (or text
 * lines). */
static void print_run(FILE *f, unsigned int first, unsigned int n, bool json)
{
	const double hz = (double)rte_get_tsc_hz();

	if (json)
		fprintf(f, "{\"workers\": %u, \"scenario\": \"%s\", \"flows\": %llu, "
			"\"packets_per_worker\": %llu, \"burst\": %u, \"tsc_mhz\": %.0f, "
			"\"per_worker\": [",
			n, scenario_names[B.sc], (unsigned long long)B.flows,
			(unsigned long long)B.packets, B.burst, hz / 1e6);
	for (unsigned int i = first; i < first + n; i++) {
		const struct worker *w = B.w[i];
		const struct sluice_lcore_counters *c = &w->st->counters;
		double cpp = cycles_per_packet(w), med = cycles_per_packet_median(w),
		       unp = cycles_per_packet_unpreempted(w);

		if (json)
			fprintf(f, "%s{\"lcore\": %u, \"cpu\": %d, \"mpps\": %.3f, "
				"\"cycles_per_packet\": %.1f, \"cycles_per_packet_median\": %.1f, "
				"\"cycles_per_packet_unpreempted\": %.1f, "
				"\"slow_bursts\": %llu, \"slow_cycles_share\": %.3f, "
				"\"packets\": %llu, \"forwarded\": %llu, "
				"\"flow_live\": %llu, \"flow_inserts\": %llu, \"flow_evictions\": %llu}",
				i > first ? ", " : "", w->lcore, rte_lcore_to_cpu_id((int)w->lcore),
				hz / cpp / 1e6, cpp, med, unp, (unsigned long long)w->slow_bursts,
				(double)w->slow_cycles / (double)w->cycles, (unsigned long long)w->done,
				(unsigned long long)w->out_n, (unsigned long long)c->flow_live,
				(unsigned long long)c->flow_inserts,
				(unsigned long long)c->flow_evictions);
		else
			fprintf(f, "scenario %s, worker %u (lcore %u), %u running: %llu packets, %llu "
				"forwarded, %.1f cycles/packet (median burst %.1f, unpreempted %.1f; "
				"%.1f Mpps at %.0f MHz; %llu slow bursts, %.1f %% of the cycles); "
				"flows in table %llu, inserts %llu, evictions %llu, repicks %llu\n",
				scenario_names[B.sc], i + 1, w->lcore, n, (unsigned long long)w->done,
				(unsigned long long)w->out_n, cpp, med, unp, hz / cpp / 1e6, hz / 1e6,
				(unsigned long long)w->slow_bursts,
				100.0 * (double)w->slow_cycles / (double)w->cycles,
				(unsigned long long)c->flow_live,
				(unsigned long long)c->flow_inserts,
				(unsigned long long)c->flow_evictions,
				(unsigned long long)c->flow_repicks);
	}
	if (json)
		fprintf(f, "]}");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians over the rounds of one statistic (0: mean, 1: median burst,
 * 2: mean unpreempted),
 * per worker alone and among n; prints them and the ratios, returns the
 * lowest ratio. */
static double ratios(double alone[][RTE_MAX_LCORE][MAX_ROUNDS],
		     double many[][RTE_MAX_LCORE][MAX_ROUNDS], unsigned int stat, unsigned int n,
		     unsigned int rounds, bool json)
{
	static const char *const name[] = {"", "_median_burst", "_unpreempted"};
	static const char *const label[] = {"mean", "median burst", "mean unpreempted"};
	double lowest = 1e9, a[RTE_MAX_LCORE], m[RTE_MAX_LCORE];

	for (unsigned int i = 0; i < n; i++) {
		a[i] = median(alone[stat][i], rounds);
		m[i] = median(many[stat][i], rounds);
		lowest = RTE_MIN(lowest, a[i] / m[i]);
		if (!json)
			printf("%s, median of %u rounds: worker %u (lcore %u) alone %.1f "
			       "cycles/packet, among %u %.1f: ratio %.3f\n",
			       label[stat], rounds, i + 1, B.w[i]->lcore, a[i], n,
			       m[i], a[i] / m[i]);
	}
	if (!json)
		return lowest;
	for (unsigned int k = 0; k < 3; k++) {
		static const char *const what[] = {"_one", "_many", "ratio"};

		printf(k < 2 ? ", \"cycles_per_packet%s%s\": [" : ", \"%s%s_per_worker\": [",
		       k < 2 ? name[stat] : what[k], k < 2 ? what[k] : name[stat]);
		for (unsigned int i = 0; i < n; i++)
			printf("%s%.3f", i ? ", " : "", k == 0 ? a[i] : k == 1 ? m[i] : a[i] / m[i]);
		printf("]");
	}
	printf(", \"ratio%s\": %.3f", name[stat], lowest);
	return lowest;
}

/* Each worker alone, then n together, rounds times; the ratio per worker
 * of the medians. Alone and together on the same lcore: CPUs of a VM need
 * not be alike (here one is steadily faster than the other). */
static void compare(unsigned int n, unsigned int rounds, bool json)
{
	static double alone[3][RTE_MAX_LCORE][MAX_ROUNDS], many[3][RTE_MAX_LCORE][MAX_ROUNDS];
	double lo, lo_med, lo_unp;

	if (json)
		printf("{\"scenario\": \"%s\", \"workers\": %u, \"rounds\": [",
		       scenario_names[B.sc], n);
	for (unsigned int r = 0; r < rounds; r++) {
		if (json)
			printf("%s{\"alone\": [", r ? ", " : "");
		for (unsigned int i = 0; i < n; i++) {
			run(i, 1);
			alone[0][i][r] = cycles_per_packet(B.w[i]);
			alone[1][i][r] = cycles_per_packet_median(B.w[i]);
			alone[2][i][r] = cycles_per_packet_unpreempted(B.w[i]);
			if (json && i)
				printf(", ");
			print_run(stdout, i, 1, json);
		}
		run(0, n);
		for (unsigned int i = 0; i < n; i++) {
			many[0][i][r] = cycles_per_packet(B.w[i]);
			many[1][i][r] = cycles_per_packet_median(B.w[i]);
			many[2][i][r] = cycles_per_packet_unpreempted(B.w[i]);
		}
		if (json)
			printf("], \"together\": ");
		print_run(stdout, 0, n, json);
		if (json)
			printf("}");
		fflush(stdout);
	}
	if (json)
		printf("]");
	lo = ratios(alone, many, 0, n, rounds, json);
	lo_med = ratios(alone, many, 1, n, rounds, json);
	lo_unp = ratios(alone, many, 2, n, rounds, json);
	if (json)
		printf("}\n");
	else
		printf("ratio (lowest): %.3f; of the median bursts: %.3f; unpreempted: %.3f\n", lo,
		       lo_med, lo_unp);
}

static void workers_create(void)
{
	unsigned int lcore = rte_get_main_lcore(), i = 0;

	if (rte_lcore_count() < B.n_workers)
		rte_exit(2, "--workers %u needs %u lcores, EAL has %u: give it -l with as many "
			 "CPUs (one lcore per CPU)\n", B.n_workers, B.n_workers, rte_lcore_count());
	for (; i < B.n_workers; i++, lcore = rte_get_next_lcore(lcore, 1, 0)) {
		int socket = (int)rte_lcore_to_socket_id(lcore);
		struct worker *w = rte_zmalloc_socket("bench_worker", sizeof(*w),
						      RTE_CACHE_LINE_SIZE, socket);

		if (!w)
			rte_exit(1, "out of memory for worker %u\n", i);
		w->st = rte_zmalloc_socket("bench_status", sizeof(*w->st), RTE_CACHE_LINE_SIZE,
					   socket);
		w->lcore = lcore;
		if (!w->st || sluice_dp_lcore_init(&w->lc, &B.cfg, w->st, socket) < 0)
			rte_exit(1, "worker %u: flow table of %u flows: out of memory (-m?)\n", i,
				 B.cfg.flows);
		B.w[i] = w;
	}
}

static enum scenario parse_scenario(const char *s)
{
	if (strcmp(s, "new") == 0 || strcmp(s, "new_flows") == 0)
		return NEW;
	if (strcmp(s, "established") == 0)
		return ESTABLISHED;
	if (strcmp(s, "nonvip") == 0)
		return NONVIP;
	if (strcmp(s, "established_v6") == 0)
		return ESTABLISHED_V6;
	rte_exit(2, "--scenario %s: one of new_flows, established, nonvip, established_v6\n", s);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"scenario", 1, 0, 's'}, {"flows", 1, 0, 'f'},	 {"packets", 1, 0, 'p'},
		{"burst", 1, 0, 'b'},	 {"workers", 1, 0, 'w'}, {"json", 0, 0, 'j'},
		{"compare", 0, 0, 'c'},	 {"rounds", 1, 0, 'r'},	 {"warm", 1, 0, 'W'},
		{0, 0, 0, 0},
	};
	int64_t warm_n = -1;
	unsigned int rounds = 3;
	bool json = false, cmp = false;
	int c, rc = rte_eal_init(argc, argv);

	if (rc < 0)
		rte_exit(1, "EAL init failed\n");
	argc -= rc;
	argv += rc;
	B.sc = ESTABLISHED;
	B.flows = 1000000;
	B.packets = 20000000;
	B.burst = 32;
	B.n_workers = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 's')
			B.sc = parse_scenario(optarg);
		else if (c == 'f')
			B.flows = strtoull(optarg, NULL, 10);
		else if (c == 'p')
			B.packets = strtoull(optarg, NULL, 10);
		else if (c == 'b')
			B.burst = (unsigned int)atoi(optarg);
		else if (c == 'w')
			B.n_workers = (unsigned int)atoi(optarg);
		else if (c == 'j')
			json = true;
		else if (c == 'c')
			cmp = true;
		else if (c == 'r')
			rounds = (unsigned int)atoi(optarg);
		else if (c == 'W')
			warm_n = (int64_t)strtoull(optarg, NULL, 10);
		else
			rte_exit(2, "usage: see the source\n");
	}
	if (B.burst < 1 || B.burst > SLUICE_DP_BURST_MAX || B.flows < 1 || B.flows > (1u << 26) ||
	    B.packets < B.burst)
		rte_exit(2, "bad --burst (1..%d), --flows (1..2^26) or --packets (>= burst)\n",
			 SLUICE_DP_BURST_MAX);
	if (B.n_workers < 1 || B.n_workers > RTE_MAX_LCORE || rounds < 1 || rounds > MAX_ROUNDS)
		rte_exit(2, "bad --workers or --rounds (1..%d)\n", MAX_ROUNDS);
	if (warm_n < 0)
		warm_n = B.sc == ESTABLISHED || B.sc == ESTABLISHED_V6 ? (int64_t)B.flows : 0;
	B.warm_n = (uint64_t)warm_n;
	B.snap = calloc(1, sizeof(*B.snap));
	/* Enough for every worker's burst and its lcore cache. */
	B.pool = rte_pktmbuf_pool_create("mb", 8191 + B.n_workers * (POOL_CACHE * 3 / 2 + 64),
					 POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!B.snap || !B.pool)
		rte_exit(1, "out of memory\n");
	build_snapshot(B.snap);
	B.cfg.tsc_hz = rte_get_tsc_hz();
	B.cfg.flows = B.flows > 1048576 ? (uint32_t)B.flows : 1048576;
	B.cfg.timeout_s[SLUICE_FLOW_TCP] = SLUICE_TIMEOUT_TCP_S;
	B.cfg.timeout_s[SLUICE_FLOW_UDP] = SLUICE_TIMEOUT_UDP_S;
	B.cfg.timeout_s[SLUICE_FLOW_CLOSING] = SLUICE_TIMEOUT_CLOSING_S;
	B.cfg.n_workers = 1; /* no hand-off here: every worker processes its own traffic */
	workers_create();

	if (cmp) {
		compare(B.n_workers, rounds, json);
	} else {
		run(0, B.n_workers);
		print_run(stdout, 0, B.n_workers, json);
		if (json)
			printf("\n");
	}
	if (!json)
		printf("flow table: %llu bytes for %u flows, %.1f bytes per flow\n",
		       (unsigned long long)sluice_ft_bytes(B.w[0]->lc.ft), B.cfg.flows,
		       (double)sluice_ft_bytes(B.w[0]->lc.ft) / B.cfg.flows);
	for (unsigned int i = 0; i < B.n_workers; i++) {
		sluice_dp_lcore_fini(&B.w[i]->lc);
		rte_free(B.w[i]->st);
		rte_free(B.w[i]);
	}
	rte_mempool_free(B.pool);
	free(B.snap);
	rte_eal_cleanup();
	return 0;
}
