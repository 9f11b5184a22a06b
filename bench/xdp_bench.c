/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-xdpbench: the XDP program's cost per packet, through
 * BPF_PROG_TEST_RUN, for (a) the SYN of a new flow, (b) a packet of an
 * established flow, (c) a packet for the host (not a VIP), (d) the SYN of a
 * new flow over the flood guard's budget (forwarded by table, no entry),
 * against the floor of a program that only returns XDP_TX.
 *
 * Method (docs/xdp.md, "performance"). With repeat > 1 the kernel runs the
 * program again on the buffer its previous run rewrote, so sluice_xdp
 * cannot be timed that way on its own. bpf/xdp_bench.bpf.c wraps exactly
 * the same code (xdp_lb.h) in bench_lb, which first restores the frame
 * (data moved back, 64 template bytes rewritten, the next client's source
 * address patched in) and then processes it; bench_floor does the same
 * restore and returns XDP_TX. Both run with repeat = N on the same
 * scenario, so
 *     net = bench_lb - bench_floor - artifact
 * where artifact is the one thing the restore of a grown frame adds (a
 * bpf_xdp_adjust_head back), measured as half of bench_adjust (restore +
 * grow) - bench_floor. Scenarios are interleaved round by round; each
 * figure is the median of the rounds. The counters prove each scenario:
 * every run of (a) is a flow-table miss (flow_misses), every run of (b) a
 * hit, every run of (c) a pass. The trivial `return XDP_TX;` program (bpf/xdp_floor.bpf.c),
 * which rewrites nothing, is timed with plain repeat = N in the same run:
 * floor_ns, and ns = floor_ns + net. So is a reference, one hit in a BPF
 * hash map (bench_ref, net of the same floor), to compare figures of runs
 * made while the host was faster or slower.
 *
 * For reference, the "cold" figures: one run per call (repeat = 1) on a
 * fresh copy of the frame, median of many calls, minus the same for the
 * floor program. Each call starts with cold caches and branch predictors
 * after the syscall, so they are upper bounds, not what a busy NIC queue
 * sees.
 *
 *   sluice-xdpbench [--json] [--rounds N] [--repeat N] [--calls N]
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "snapshot.h"
#include "xdp_bench.skel.h"
#include "xdp_floor.skel.h"
#include "xdp_path.h"

enum scenario { SC_FLOOR, SC_SYN, SC_ESTABLISHED, SC_PASS, SC_SYN_CAPPED, SC_N };

static const char *const sc_name[SC_N] = {"floor", "syn_new_flow", "established",
					  "non_vip_pass", "syn_over_budget"};

#define ESTABLISHED_FLOWS 1024

struct bench {
	struct sluice_xdp_path *xp;
	struct xdp_floor *floor;
	struct xdp_bench *wrap;
	char instance[40];
	int fd[SC_N];
	__u32 next_client; /* cold new flows: 10.(client >> 16).(client >> 8).client */
	__u64 new_flows;   /* warm new flows so far (their clients follow the cycle's) */
	unsigned int rounds, calls, repeat;
	struct sluice_snapshot *snap; /* what publish() published */
};

/* Must match bpf/xdp_bench.bpf.c. */
struct bench_cfg {
	__u8 frame[64];
	__u32 scenario;
	__u32 nflows_mask;
	__u64 counter;
};

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static __u16 csum(const __u8 *p, size_t len)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* A 64-byte TCP frame (IPv4) from client:sport to dst:dport. */
static size_t tcp_frame(__u8 *f, __u32 client, __u16 sport, const __u8 dst[4], __u16 dport,
			__u8 flags)
{
	static const __u8 lb[6] = {2, 0, 0, 0, 0, 2}, cl[6] = {2, 0, 0, 0, 0, 1};
	__u8 *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, 64);
	memcpy(f, lb, 6);
	memcpy(f + 6, cl, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40 + 10);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10;
	ip[13] = (__u8)(client >> 16);
	ip[14] = (__u8)(client >> 8);
	ip[15] = (__u8)client;
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum(ip, 20));
	put16(tcp, sport);
	put16(tcp + 2, dport);
	tcp[12] = 0x50;
	tcp[13] = flags;
	return 64;
}

static const __u8 vip[4] = {192, 0, 2, 10}, not_vip[4] = {192, 0, 2, 99};

/* One VIP, 100 backends, Maglev M = 65537: a production-sized table. */
static int publish(struct bench *b)
{
	struct sluice_snapshot *snap = b->snap = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*snap));
	struct sluice_backend be[100];
	__u16 *table = calloc(65537, sizeof(*table));
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = 65537, .seed = 1};
	struct sluice_vip_spec spec;
	struct sluice_global_cfg g;
	char err[256];
	__u32 m = 0;
	int rc;

	if (!snap || !table)
		return -ENOMEM;
	memset(snap, 0, sizeof(*snap));
	memset(&g, 0, sizeof(g));
	g.src_v4.family = 4;
	memcpy(g.src_v4.bytes, (__u8[]){10, 0, 0, 1}, 4);
	g.src_v6.family = 6;
	g.nexthop_mac[0] = 2;
	g.lb_mac[0] = 2;
	g.gue_port = __builtin_bswap16(6080);
	g.mtu = 1500;
	memset(be, 0, sizeof(be));
	for (int i = 0; i < 100; i++) {
		be[i].addr.family = 4;
		memcpy(be[i].addr.bytes, (__u8[]){10, 1, (__u8)(i / 250), (__u8)(1 + i % 250)}, 4);
		be[i].state = SLUICE_BACKEND_ACTIVE;
		be[i].weight = 1;
		be[i].id = (__u16)i;
	}
	memset(&spec, 0, sizeof(spec));
	spec.vip.addr.family = 4;
	memcpy(spec.vip.addr.bytes, vip, 4);
	spec.vip.port = __builtin_bswap16(80);
	spec.vip.proto = 6;
	spec.vip.mode = SLUICE_FWD_IPIP;
	spec.vip.hash_seed = 42;
	rc = sluice_vip_compile(&p, be, 100, table, &m, err, sizeof(err));
	spec.backends = be;
	spec.n_backends = 100;
	spec.table = table;
	spec.m = m;
	if (rc == 0)
		rc = sluice_snapshot_fill(snap, &g, &spec, 1, err, sizeof(err));
	if (rc == 0)
		rc = sluice_xdp_path_publish(b->xp, snap, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "sluice-xdpbench: %s\n", err);
	free(table);
	return rc;
}

/* The flood guard at rate new flows a second per CPU (0: off), in force
 * from the next publish: for syn_over_budget, at 1 a second, every new
 * flow but the first of a round is over the budget. */
static int set_guard(struct bench *b, __u32 rate)
{
	char err[256];

	sluice_xdp_path_set_syn_rate(b->xp, rate);
	if (sluice_xdp_path_publish(b->xp, b->snap, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-xdpbench: %s\n", err);
		return -1;
	}
	return 0;
}

/* One run of fd over frame: the kernel's time for it, or -1. */
static int run_once(int fd, const __u8 *frame, size_t len, __u32 want)
{
	__u8 out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &opts) < 0 || opts.retval != want)
		return -1;
	return (int)opts.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u32 median(__u32 *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[n / 2];
}

/* ---- cold: one run per call ---- */

/* One round of a scenario: the median of calls single runs. */
static int cold_round(struct bench *b, enum scenario sc, __u32 *samples, __u32 *out)
{
	__u8 frame[64];

	if (sc == SC_SYN_CAPPED && set_guard(b, 1) < 0)
		return -1;

	for (unsigned int i = 0; i < b->calls; i++) {
		__u32 want = XDP_TX;
		int ns;

		switch (sc) {
		case SC_SYN:
		case SC_SYN_CAPPED:
			/* Clients past those of the warm rounds: new every time. */
			b->next_client++;
			tcp_frame(frame, b->next_client, 40000, vip, 80, 0x02);
			break;
		case SC_ESTABLISHED:
			tcp_frame(frame, i % ESTABLISHED_FLOWS, 40000, vip, 80, 0x10);
			break;
		case SC_PASS:
			tcp_frame(frame, i % ESTABLISHED_FLOWS, 40000, not_vip, 80, 0x10);
			want = XDP_PASS;
			break;
		default:
			tcp_frame(frame, 1, 40000, vip, 80, 0x10);
			break;
		}
		ns = run_once(b->fd[sc], frame, 64, want);
		if (ns < 0) {
			fprintf(stderr, "sluice-xdpbench: %s: run failed or wrong verdict\n",
				sc_name[sc]);
			return -1;
		}
		samples[i] = (__u32)ns;
	}
	*out = median(samples, b->calls);
	return sc == SC_SYN_CAPPED ? set_guard(b, 0) : 0;
}

/* ---- warm: repeat = N through the restoring wrappers ---- */

/* prog over the scenario's template with repeat; the ns per run. */
static int warm_run(struct bench *b, int prog_fd, enum scenario sc, __u32 want, __u32 *ns)
{
	struct bench_cfg cfg;
	__u8 out[256];
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = cfg.frame, .data_size_in = 64,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = b->repeat);
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.nflows_mask = ESTABLISHED_FLOWS - 1;
	switch (sc) {
	case SC_SYN:
	case SC_SYN_CAPPED:
		tcp_frame(cfg.frame, 0, 40000, vip, 80, 0x02);
		cfg.scenario = 1; /* new flows, after the cycle's clients */
		cfg.counter = b->new_flows; /* clients never seen before */
		/* Only the program's own runs use up clients: the floor's
		 * restore costs the same whoever the client is, and the warm
		 * clients must stay below the cold ones (main). */
		if (prog_fd == bpf_program__fd(b->wrap->progs.bench_lb))
			b->new_flows += b->repeat;
		break;
	case SC_ESTABLISHED:
		tcp_frame(cfg.frame, 0, 40000, vip, 80, 0x10);
		cfg.scenario = 2;
		break;
	default:
		tcp_frame(cfg.frame, 0, 40000, not_vip, 80, 0x10);
		cfg.scenario = 2;
		break;
	}
	rc = bpf_map_update_elem(bpf_map__fd(b->wrap->maps.bench), &zero, &cfg, BPF_ANY);
	if (rc == 0)
		rc = bpf_prog_test_run_opts(prog_fd, &opts);
	if (rc < 0 || opts.retval != want) {
		fprintf(stderr, "sluice-xdpbench: %s: run failed (%d) or verdict %u\n", sc_name[sc],
			rc, opts.retval);
		return -1;
	}
	*ns = opts.duration;
	return 0;
}

/* What the warm rounds of one scenario measure. */
struct warm {
	__u32 floor[64], adjust[64], lb[64];
};

static int warm_round(struct bench *b, enum scenario sc, struct warm *w, unsigned int r)
{
	__u32 want = sc == SC_PASS ? XDP_PASS : XDP_TX;
	struct sluice_xdp_counters c0, c1;
	static struct sluice_lcore_status l0, l1; /* large: per-VIP and backend pairs */
	__u64 expected;
	char err[256];

	__u32 saved = b->repeat, ignored;

	/* Refresh the established flows: the new-flow rounds evict some, as
	 * a full flow table must. */
	b->repeat = ESTABLISHED_FLOWS;
	if (sc == SC_ESTABLISHED &&
	    warm_run(b, bpf_program__fd(b->wrap->progs.bench_lb), sc, want, &ignored) < 0)
		return -1;
	b->repeat = saved;
	if ((sc == SC_SYN_CAPPED && set_guard(b, 1) < 0) ||
	    warm_run(b, bpf_program__fd(b->wrap->progs.bench_floor), sc, XDP_TX, &w->floor[r]) < 0 ||
	    warm_run(b, bpf_program__fd(b->wrap->progs.bench_adjust), sc, XDP_TX, &w->adjust[r]) < 0 ||
	    sluice_xdp_path_read_xdp_counters(b->xp, &c0, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_read_counters(b->xp, &l0, err, sizeof(err)) < 0 ||
	    warm_run(b, bpf_program__fd(b->wrap->progs.bench_lb), sc, want, &w->lb[r]) < 0 ||
	    sluice_xdp_path_read_xdp_counters(b->xp, &c1, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_read_counters(b->xp, &l1, err, sizeof(err)) < 0 ||
	    (sc == SC_SYN_CAPPED && set_guard(b, 0) < 0))
		return -1;
	/* The scenario is what it claims, in every run: over the budget,
	 * every new flow but the bucket's one token goes by the table
	 * without a look at the flow table (neither a hit nor a miss). */
	if (sc == SC_SYN_CAPPED &&
	    (l1.counters.flow_insert_capped - l0.counters.flow_insert_capped + 1 < b->repeat ||
	     c1.flow_hits - c0.flow_hits + c1.flow_misses - c0.flow_misses > 1)) {
		fprintf(stderr, "sluice-xdpbench: %s: %llu of %u runs over the budget "
			"(misses %llu, inserts %llu)\n", sc_name[sc],
			(unsigned long long)(l1.counters.flow_insert_capped -
					     l0.counters.flow_insert_capped),
			b->repeat, (unsigned long long)(c1.flow_misses - c0.flow_misses),
			(unsigned long long)(l1.counters.flow_inserts - l0.counters.flow_inserts));
		return -1;
	}
	if (sc == SC_SYN_CAPPED)
		return 0;
	expected = sc == SC_SYN ? c1.flow_misses - c0.flow_misses
	       : sc == SC_ESTABLISHED ? c1.flow_hits - c0.flow_hits : c1.xdp_pass - c0.xdp_pass;
	/* A table built smaller (-Dxdp_flow_sets_log2, for the breakdown of a
	 * new flow's cost in docs/xdp.md) is full of the new-flow rounds'
	 * entries, and they evict established ones: that figure is not one. */
	if (expected != b->repeat &&
	    !(sc == SC_ESTABLISHED && SLUICE_XDP_FLOW_SETS < (1u << 18))) {
		fprintf(stderr, "sluice-xdpbench: %s: %llu of %u runs took the scenario's path "
			"(hits %llu misses %llu pass %llu drop %llu)\n",
			sc_name[sc], (unsigned long long)expected, b->repeat,
			(unsigned long long)(c1.flow_hits - c0.flow_hits),
			(unsigned long long)(c1.flow_misses - c0.flow_misses),
			(unsigned long long)(c1.xdp_pass - c0.xdp_pass),
			(unsigned long long)(c1.xdp_drop - c0.xdp_drop));
		return -1;
	}
	return 0;
}

/* What the program and its flow table are: the verifier's view of
 * sluice_xdp (instructions after its rewrites, JIT bytes, instructions
 * it processed) and the flow table's bytes per flow. */
struct shape {
	__u32 xlated_insns, jited_bytes, verified_insns;
	__u64 flow_table_bytes, flows;
};

static int shape_get(struct bench *b, struct shape *s)
{
	struct bpf_prog_info pi;
	struct bpf_map_info mi;
	__u32 len = sizeof(pi), mlen = sizeof(mi);

	memset(&pi, 0, sizeof(pi));
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(sluice_xdp_path_prog_fd(b->xp), &pi, &len) < 0 ||
	    bpf_obj_get_info_by_fd(bpf_map__fd(b->wrap->maps.flows), &mi, &mlen) < 0)
		return -1;
	s->xlated_insns = pi.xlated_prog_len / 8;
	s->jited_bytes = pi.jited_prog_len;
	s->verified_insns = pi.verified_insns;
	s->flow_table_bytes = (__u64)mi.value_size * mi.max_entries;
	s->flows = (__u64)mi.max_entries * SLUICE_XDP_FLOW_WAYS;
	return 0;
}

/* Repeat = n on a frame the program does not rewrite. */
static int repeated(int fd, const __u8 *frame, __u32 n, __u32 want, __u32 *ns)
{
	__u8 out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = 64,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

	if (bpf_prog_test_run_opts(fd, &opts) < 0 || opts.retval != want)
		return -1;
	*ns = opts.duration;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.rounds = 7, .calls = 20000, .repeat = 200000};
	__u32 *samples, cold[SC_N][64], cold_med[SC_N], floor_runs[64], floor_ns, ref_runs[64], ref_ns;
	struct warm *warm = calloc(SC_N, sizeof(*warm));
	int net[SC_N], artifact[SC_N], json = 0, rc = 1;
	struct shape shape;
	__u8 frame[64];
	char err[512];
	cpu_set_t set;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			b.rounds = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			b.calls = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			b.repeat = (unsigned int)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: sluice-xdpbench [--json] [--rounds N] [--repeat N] "
					"[--calls N]\n");
			return 2;
		}
	}
	if (b.rounds < 1 || b.rounds > 64 || b.calls < 1 || b.repeat < 1 || !warm) {
		fprintf(stderr, "sluice-xdpbench: rounds 1..64, calls and repeat >= 1\n");
		return 2;
	}
	/* Warm new clients (two scenarios a round) must not reach the cold
	 * ones at 2^23, nor the cold ones 2^24 (addresses 10.x.y.z). */
	if ((__u64)b.rounds * 2 * b.repeat + ESTABLISHED_FLOWS > 1u << 23 ||
	    (__u64)b.rounds * 2 * b.calls > 1u << 23) {
		fprintf(stderr, "sluice-xdpbench: rounds x repeat (and x calls) too large: "
				"new clients would repeat\n");
		return 2;
	}
	/* The flow table is per CPU: stay on one. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	snprintf(b.instance, sizeof(b.instance), "xdpbench-%d", (int)getpid());
	if (sluice_xdp_path_open(b.instance, &b.xp, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-xdpbench: %s\n", err);
		return 1;
	}
	{
		LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = sluice_xdp_path_pin_dir(b.xp));

		b.wrap = xdp_bench__open_opts(&o);
		if (b.wrap && xdp_bench__load(b.wrap) < 0) {
			xdp_bench__destroy(b.wrap);
			b.wrap = NULL;
		}
	}
	b.floor = xdp_floor__open_and_load();
	samples = calloc(b.calls, sizeof(*samples));
	if (!b.floor || !b.wrap || !samples || publish(&b) < 0) {
		fprintf(stderr, "sluice-xdpbench: setup failed\n");
		goto out;
	}
	if (shape_get(&b, &shape) < 0) {
		fprintf(stderr, "sluice-xdpbench: cannot read the program's or flow table's info\n");
		goto out;
	}
	b.fd[SC_FLOOR] = bpf_program__fd(b.floor->progs.xdp_floor);
	b.fd[SC_SYN] = b.fd[SC_ESTABLISHED] = b.fd[SC_PASS] = b.fd[SC_SYN_CAPPED] =
		sluice_xdp_path_prog_fd(b.xp);
	b.next_client = 1u << 23; /* the warm rounds' new clients stay below */
	for (__u32 i = 0; i < ESTABLISHED_FLOWS; i++) {
		tcp_frame(frame, i, 40000, vip, 80, 0x02);
		if (run_once(b.fd[SC_SYN], frame, 64, XDP_TX) < 0)
			goto out;
	}

	/* Interleaved rounds: the trivial floor, then each scenario warm,
	 * then each cold. */
	{
		__u32 key = 1;
		__u64 val = 1;

		if (bpf_map_update_elem(bpf_map__fd(b.wrap->maps.bench_ref_map), &key, &val, 0) < 0)
			goto out;
	}
	tcp_frame(frame, 1, 40000, vip, 80, 0x10);
	for (unsigned int r = 0; r < b.rounds; r++) {
		if (repeated(b.fd[SC_FLOOR], frame, b.repeat, XDP_TX, &floor_runs[r]) < 0 ||
		    repeated(bpf_program__fd(b.wrap->progs.bench_ref), frame, b.repeat, XDP_TX,
			     &ref_runs[r]) < 0)
			goto out;
		for (int sc = 1; sc < SC_N; sc++)
			if (warm_round(&b, sc, &warm[sc], r) < 0)
				goto out;
		for (int sc = 0; sc < SC_N; sc++)
			if (cold_round(&b, sc, samples, &cold[sc][r]) < 0)
				goto out;
	}
	floor_ns = median(floor_runs, b.rounds);
	ref_ns = median(ref_runs, b.rounds);
	for (int sc = 0; sc < SC_N; sc++)
		cold_med[sc] = median(cold[sc], b.rounds);
	for (int sc = 1; sc < SC_N; sc++) {
		int lb = (int)median(warm[sc].lb, b.rounds), fl = (int)median(warm[sc].floor, b.rounds);
		int adj = (int)median(warm[sc].adjust, b.rounds);

		/* The restore of a pass frame moves nothing back. */
		artifact[sc] = sc == SC_PASS ? 0 : (adj - fl + 1) / 2;
		net[sc] = lb - fl - artifact[sc];
	}

	if (json) {
		printf("{\"method\":\"repeat=%u through restoring wrappers (bpf/xdp_bench.bpf.c), "
		       "median of %u interleaved rounds; see docs/xdp.md\",\"floor_ns\":%u,\"runs\":[",
		       b.repeat, b.rounds, floor_ns);
		for (int sc = 1; sc < SC_N; sc++)
			printf("%s{\"scenario\":\"%s\",\"ns\":%d,\"net_ns\":%d,\"wrapped_ns\":%u,"
			       "\"wrapped_floor_ns\":%u,\"restore_artifact_ns\":%d,\"cold_ns\":%u,"
			       "\"cold_net_ns\":%d}",
			       sc > 1 ? "," : "", sc_name[sc], (int)floor_ns + net[sc], net[sc],
			       median(warm[sc].lb, b.rounds), median(warm[sc].floor, b.rounds),
			       artifact[sc], cold_med[sc], (int)cold_med[sc] - (int)cold_med[SC_FLOOR]);
		printf("],\"cold_floor_ns\":%u,\"reference\":{\"what\":\"one BPF hash-map hit, "
		       "net of the floor\",\"net_ns\":%d},",
		       cold_med[SC_FLOOR], (int)ref_ns - (int)floor_ns);
		printf("\"flow_table\":{\"flows\":%llu,\"bytes\":%llu,\"bytes_per_flow\":%llu},"
		       "\"program\":{\"xlated_insns\":%u,\"jited_bytes\":%u,\"verified_insns\":%u}}\n",
		       (unsigned long long)shape.flows, (unsigned long long)shape.flow_table_bytes,
		       (unsigned long long)(shape.flow_table_bytes / shape.flows), shape.xlated_insns,
		       shape.jited_bytes, shape.verified_insns);
	} else {
		printf("XDP per packet, BPF_PROG_TEST_RUN (median of %u interleaved rounds)\n",
		       b.rounds);
		printf("warm: repeat=%u through restoring wrappers; floor `return XDP_TX;` %u ns\n",
		       b.repeat, floor_ns);
		for (int sc = 1; sc < SC_N; sc++)
			printf("  %-14s %4d ns   net %4d ns   (wrapped %u, its floor %u, restore "
			       "artifact %d)\n",
			       sc_name[sc], (int)floor_ns + net[sc], net[sc],
			       median(warm[sc].lb, b.rounds), median(warm[sc].floor, b.rounds),
			       artifact[sc]);
		printf("reference: one BPF hash-map hit, net %d ns\n", (int)ref_ns - (int)floor_ns);
		printf("cold: one run per call, median of %u calls; floor %u ns\n", b.calls,
		       cold_med[SC_FLOOR]);
		for (int sc = 1; sc < SC_N; sc++)
			printf("  %-14s %4u ns   net %4d ns\n", sc_name[sc], cold_med[sc],
			       (int)cold_med[sc] - (int)cold_med[SC_FLOOR]);
		printf("flow table: %llu flows, %llu bytes, %llu bytes per flow\n",
		       (unsigned long long)shape.flows, (unsigned long long)shape.flow_table_bytes,
		       (unsigned long long)(shape.flow_table_bytes / shape.flows));
		printf("sluice_xdp: %u instructions after the verifier's rewrites, %u bytes JITed, "
		       "%u instructions processed by the verifier\n",
		       shape.xlated_insns, shape.jited_bytes, shape.verified_insns);
	}
	rc = 0;
out:
	free(samples);
	free(warm);
	xdp_bench__destroy(b.wrap);
	xdp_floor__destroy(b.floor);
	sluice_xdp_path_close(b.xp, false);
	free(b.snap);
	sluice_xdp_path_unpin(b.instance, NULL, 0);
	return rc;
}
