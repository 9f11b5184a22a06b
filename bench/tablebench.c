/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-tablebench: how the lookup-table compilers behave when a backend
 * set changes. For every (algorithm, N, change) it builds the table before
 * and after the change, and measures over a fixed set of random flows:
 *  - moved: the fraction of flows whose backend (its identity, not its
 *    index: indexes shift when the set changes) differs after the change;
 *  - ideal: the fraction that has to move (the flows of the new, removed or
 *    failed backends);
 *  - max/mean: the most slots any backend owns in the after table over the
 *    mean slots per backend (1.0 is perfect balance);
 *  - build ms: the median wall time of building the before table.
 *
 * Everything is deterministic (fixed PRNG, flow hash and table seeds) except
 * the build times. Flow hashes are computed once; a flow's slot is
 * hash % M, as in the data planes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/addr.h"
#include "sluice/flow.h"
#include "table.h"

#define FLOW_PRNG_SEED 0x736c756963656265ULL /* "sluicebe" */
#define FLOW_HASH_SEED 0x0123456789abcdefULL
#define TABLE_SEED 0x7461626c65736565ULL
#define DEFAULT_FLOWS 1000000UL
#define MAX_FLOWS 100000000UL
#define BUILD_REPS 5
#define BUILD_BUDGET_MS 2000.0 /* stop repeating a build after this much */
#define GOAL_REPS 9
#define MAX_N 1000

struct config {
	enum sluice_table_algo algo;
	__u32 m;
	__u32 k; /* ring only */
};

static const struct config configs[] = {
	{ SLUICE_ALGO_MODULO, 65537, 0 }, { SLUICE_ALGO_RING, 65537, 1 },
	{ SLUICE_ALGO_RING, 65537, 10 },  { SLUICE_ALGO_RING, 65537, 100 },
	{ SLUICE_ALGO_RING, 65537, 1000 }, { SLUICE_ALGO_MAGLEV, 65537, 0 },
	{ SLUICE_ALGO_MAGLEV, 655373, 0 },
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

static const unsigned int full_ns[] = { 4, 10, 100, 1000 };
static const unsigned int quick_ns[] = { 4, 100 };

enum change { CHANGE_ADD1, CHANGE_REMOVE1, CHANGE_FAIL10, NCHANGES };
static const char *const change_names[NCHANGES] = { "add1", "remove1", "fail10" };

struct result {
	const struct config *cfg;
	unsigned int n_before, n_after;
	enum change change;
	__u64 moved_flows;
	__u32 moved_slots; /* noise-free: slots whose backend changed */
	double moved, ideal, max_over_mean, build_ms;
	int build_reps;
};

/* Flows per slot, for each table size: built once from the flow hashes. */
struct slot_counts {
	__u32 m;
	__u32 *count;
};

static __u64 *flow_hashes;
static unsigned long nflows;
static struct slot_counts counts[2];

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--json] [--quick] [--flows N] [--help]\n"
		"  --json     one JSON document on stdout instead of the human table\n"
		"  --quick    a smoke test: only N=4 and N=100\n"
		"  --flows N  random flows to measure moved fractions with (default %lu)\n"
		"  --help     this text\n",
		prog, DEFAULT_FLOWS);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "sluice-tablebench: out of memory\n");
		exit(1);
	}
	return p;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* splitmix64: small, fast and good enough to make test flows. */
static __u64 prng_next(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random TCP flows to one VIP: 3 in 4 IPv4, 1 in 4 IPv6; random client
 * address and ephemeral port; server port 443. */
static void make_flows(void)
{
	static const __u8 vip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
	__u64 state = FLOW_PRNG_SEED;

	flow_hashes = xcalloc(nflows, sizeof(*flow_hashes));
	for (unsigned long i = 0; i < nflows; i++) {
		struct sluice_flow_key key;
		__u64 r = prng_next(&state);
		__be16 sport = htons((__u16)(1024 + (r >> 8) % 64512));

		if ((r & 3) == 0) {
			__u8 src[16] = { 0x20, 0x01, 0x0d, 0xb8 };
			__u64 a = prng_next(&state), b = prng_next(&state);

			memcpy(src + 4, &a, 4);
			memcpy(src + 8, &b, 8);
			sluice_flow_key_v6(&key, src, vip6, 6, sport, htons(443));
		} else {
			__be32 saddr = (__be32)(r >> 32);

			sluice_flow_key_v4(&key, saddr, htonl(0xc000020aU), 6, sport, htons(443));
		}
		flow_hashes[i] = sluice_flow_hash(&key, FLOW_HASH_SEED);
	}
}

static const __u32 *slot_counts(__u32 m)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (counts[i].m == m)
			return counts[i].count;
		if (counts[i].m == 0) {
			counts[i].m = m;
			counts[i].count = xcalloc(m, sizeof(__u32));
			for (unsigned long f = 0; f < nflows; f++)
				counts[i].count[flow_hashes[f] % m]++;
			return counts[i].count;
		}
	}
	fprintf(stderr, "sluice-tablebench: too many table sizes\n");
	exit(1);
}

/* Backend identity id -> IPv4 10.a.b.c with a.b.c = id + 1. */
static void backend_addr(__u32 id, struct sluice_addr *a)
{
	__u32 v = id + 1;

	memset(a, 0, sizeof(*a));
	a->family = SLUICE_FAMILY_V4;
	a->bytes[0] = 10;
	a->bytes[1] = (__u8)(v >> 16);
	a->bytes[2] = (__u8)(v >> 8);
	a->bytes[3] = (__u8)v;
}

/* The table of the backends named by ids[0..n), as identities: idtab[s] is
 * the id of the backend of slot s. Returns the wall time of the build in ms. */
static double build_ids(const struct config *cfg, const __u32 *ids, unsigned int n,
			__u16 *table, __u32 *idtab)
{
	struct sluice_table_params p = {
		.algo = cfg->algo, .m = cfg->m, .seed = TABLE_SEED, .ring_k = cfg->k,
	};
	struct sluice_table_backend *b = xcalloc(n, sizeof(*b));
	__u32 *sorted = xcalloc(n, sizeof(*sorted));
	char err[256] = "";
	double t0, t1;
	int rc;

	for (unsigned int i = 0; i < n; i++) {
		backend_addr(ids[i], &b[i].addr);
		b[i].weight = 1;
	}
	t0 = now_ms();
	rc = sluice_table_build(&p, b, n, table, sorted, err, sizeof(err));
	t1 = now_ms();
	if (rc < 0) {
		fprintf(stderr, "sluice-tablebench: %s m=%u k=%u n=%u: %s (%d)\n",
			sluice_table_algo_name(cfg->algo), cfg->m, cfg->k, n, err, rc);
		exit(1);
	}
	if (idtab)
		for (__u32 s = 0; s < cfg->m; s++)
			idtab[s] = ids[sorted[table[s]]];
	free(b);
	free(sorted);
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median build time of ids[0..n) over up to reps builds (fewer when the
 * builds take longer than BUILD_BUDGET_MS together); the first build fills
 * idtab. */
static double timed_build(const struct config *cfg, const __u32 *ids, unsigned int n,
			  __u16 *table, __u32 *idtab, int reps, int *done)
{
	double t[16], total = 0;
	int i;

	for (i = 0; i < reps && i < 16; i++) {
		t[i] = build_ids(cfg, ids, n, table, i == 0 ? idtab : NULL);
		total += t[i];
		if (total > BUILD_BUDGET_MS && i + 1 < reps) {
			i++;
			break;
		}
	}
	*done = i;
	return median(t, i);
}

/* The backend set after a change: ids of the before set are 0..n-1. */
static unsigned int change_set(enum change c, unsigned int n, __u32 *ids, unsigned int *nfailed)
{
	unsigned int na = 0;

	*nfailed = 0;
	switch (c) {
	case CHANGE_ADD1:
		for (unsigned int i = 0; i <= n; i++)
			ids[na++] = i;
		break;
	case CHANGE_REMOVE1:
		for (unsigned int i = 0; i < n; i++)
			if (i != n / 2)
				ids[na++] = i;
		*nfailed = 1;
		break;
	case CHANGE_FAIL10: {
		/* f = 10% (at least 1), spread: backend (j * n + n / 2) / f fails. */
		unsigned int f = n / 10 ? n / 10 : 1, next = 0;

		for (unsigned int i = 0; i < n; i++) {
			if (next < f && i == (next * n + n / 2) / f) {
				next++;
				continue;
			}
			ids[na++] = i;
		}
		*nfailed = f;
		break;
	}
	default:
		break;
	}
	return na;
}

static void run_change(const struct config *cfg, unsigned int n, enum change c,
		       const __u32 *before, __u16 *table, __u32 *after, struct result *r)
{
	__u32 ids[MAX_N + 1], owned[MAX_N + 2] = { 0 }, maxown = 0;
	const __u32 *cnt = slot_counts(cfg->m);
	unsigned int nfailed, na = change_set(c, n, ids, &nfailed);
	__u64 moved = 0;
	__u32 moved_slots = 0;

	build_ids(cfg, ids, na, table, after);
	for (__u32 s = 0; s < cfg->m; s++) {
		if (before[s] != after[s]) {
			moved += cnt[s];
			moved_slots++;
		}
		owned[after[s]]++;
	}
	for (unsigned int i = 0; i < na; i++)
		if (owned[ids[i]] > maxown)
			maxown = owned[ids[i]];
	r->n_after = na;
	r->moved_flows = moved;
	r->moved_slots = moved_slots;
	r->moved = (double)moved / (double)nflows;
	r->ideal = c == CHANGE_ADD1 ? 1.0 / (n + 1) : (double)nfailed / n;
	r->max_over_mean = maxown / ((double)cfg->m / na);
}

static void print_k(const struct config *cfg, int json)
{
	if (cfg->algo == SLUICE_ALGO_RING)
		printf(json ? "%u" : "%5u", cfg->k);
	else
		printf(json ? "null" : "%5s", "-");
}

static void print_human(const struct result *res, size_t nres, const double goal[2],
			const int goal_reps[2], double runtime_s)
{
	int any_short = 0;

	printf("sluice-tablebench: %lu flows (IPv4/IPv6 TCP, flow hash seed 0x%" PRIx64
	       "), table seed 0x%" PRIx64 ", weight 1 each\n\n",
	       nflows, (uint64_t)FLOW_HASH_SEED, (uint64_t)TABLE_SEED);
	printf("%-9s %7s %5s %11s %-8s %9s %9s %11s %9s %10s\n", "algorithm", "m", "k",
	       "N", "change", "moved", "ideal", "moved/ideal", "max/mean", "build ms");
	for (size_t i = 0; i < nres; i++) {
		const struct result *r = &res[i];
		char nn[32];

		snprintf(nn, sizeof(nn), "%u->%u", r->n_before, r->n_after);
		printf("%-9s %7u ", sluice_table_algo_name(r->cfg->algo), r->cfg->m);
		print_k(r->cfg, 0);
		printf(" %11s %-8s %9.6f %9.6f %11.3f %9.4f %10.3f%s\n", nn,
		       change_names[r->change], r->moved, r->ideal, r->moved / r->ideal,
		       r->max_over_mean, r->build_ms, r->build_reps < BUILD_REPS ? " *" : "");
		any_short |= r->build_reps < BUILD_REPS;
	}
	if (any_short)
		printf("\n* build ms from fewer than %d builds (time budget %.0f ms)\n",
		       BUILD_REPS, BUILD_BUDGET_MS);
	printf("\nmaglev build time, N=1000, median of %d: M=65537 %.3f ms, M=655373 %.3f ms\n",
	       goal_reps[0] < goal_reps[1] ? goal_reps[0] : goal_reps[1], goal[0], goal[1]);
	printf("runtime %.2f s\n", runtime_s);
}

static void print_json(const struct result *res, size_t nres, const double goal[2],
		       const int goal_reps[2], double runtime_s)
{
	printf("{\"flows\":%lu,\"flow_hash_seed\":%" PRIu64 ",\"table_seed\":%" PRIu64
	       ",\"results\":[",
	       nflows, (uint64_t)FLOW_HASH_SEED, (uint64_t)TABLE_SEED);
	for (size_t i = 0; i < nres; i++) {
		const struct result *r = &res[i];

		printf("%s\n{\"algorithm\":\"%s\",\"m\":%u,\"k\":", i ? "," : "",
		       sluice_table_algo_name(r->cfg->algo), r->cfg->m);
		print_k(r->cfg, 1);
		printf(",\"n_before\":%u,\"n_after\":%u,\"change\":\"%s\",\"moved_flows\":%" PRIu64
		       ",\"moved_slot_fraction\":%.9g,\"moved_fraction\":%.9g,\"ideal_fraction\":%.9g,\"moved_over_ideal\":%.9g"
		       ",\"max_over_mean\":%.9g,\"build_ms\":%.6g,\"build_reps\":%d}",
		       r->n_before, r->n_after, change_names[r->change], (uint64_t)r->moved_flows,
		       (double)r->moved_slots / r->cfg->m, r->moved,
		       r->ideal, r->moved / r->ideal, r->max_over_mean, r->build_ms,
		       r->build_reps);
	}
	printf("\n],\"maglev_build_ms\":{\"n1000_m65537\":%.6g,\"n1000_m655373\":%.6g,"
	       "\"reps\":{\"n1000_m65537\":%d,\"n1000_m655373\":%d}},\"runtime_s\":%.3f}\n",
	       goal[0], goal[1], goal_reps[0], goal_reps[1], runtime_s);
}

static int parse_flows(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > MAX_FLOWS)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const unsigned int *ns = full_ns;
	size_t nn = sizeof(full_ns) / sizeof(full_ns[0]), nres = 0;
	int json = 0, quick = 0, goal_reps[2];
	double t_start = now_ms(), goal[2];
	struct result *res;
	__u16 *table;
	__u32 *before, *after, ids[MAX_N];

	nflows = DEFAULT_FLOWS;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--quick") == 0) {
			quick = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, argv[0]);
			return 0;
		} else if (strcmp(a, "--flows") == 0 || strncmp(a, "--flows=", 8) == 0) {
			const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);

			if (parse_flows(v, &nflows) < 0) {
				fprintf(stderr, "%s: --flows needs a number 1..%lu\n", argv[0],
					MAX_FLOWS);
				usage(stderr, argv[0]);
				return 2;
			}
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", argv[0], a);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (quick) {
		ns = quick_ns;
		nn = sizeof(quick_ns) / sizeof(quick_ns[0]);
	}

	make_flows();
	res = xcalloc(NCONFIGS * nn * NCHANGES, sizeof(*res));
	table = xcalloc(655373, sizeof(*table));
	before = xcalloc(655373, sizeof(*before));
	after = xcalloc(655373, sizeof(*after));
	for (unsigned int i = 0; i < MAX_N; i++)
		ids[i] = i;

	for (size_t c = 0; c < NCONFIGS; c++) {
		const struct config *cfg = &configs[c];

		for (size_t j = 0; j < nn; j++) {
			int reps;
			/* The before table is the same for every change: build it
			 * (and time it) once per (config, N). */
			double ms = timed_build(cfg, ids, ns[j], table, before, BUILD_REPS, &reps);

			for (int ch = 0; ch < NCHANGES; ch++) {
				struct result *r = &res[nres++];

				r->cfg = cfg;
				r->n_before = ns[j];
				r->change = (enum change)ch;
				r->build_ms = ms;
				r->build_reps = reps;
				run_change(cfg, ns[j], (enum change)ch, before, table, after, r);
			}
		}
	}

	/* The Maglev build-time goals, measured on their own. */
	for (int g = 0; g < 2; g++) {
		static const struct config goal_cfg[2] = {
			{ SLUICE_ALGO_MAGLEV, 65537, 0 }, { SLUICE_ALGO_MAGLEV, 655373, 0 },
		};

		goal[g] = timed_build(&goal_cfg[g], ids, 1000, table, NULL, GOAL_REPS,
				      &goal_reps[g]);
	}

	if (json)
		print_json(res, nres, goal, goal_reps, (now_ms() - t_start) / 1e3);
	else
		print_human(res, nres, goal, goal_reps, (now_ms() - t_start) / 1e3);
	free(res);
	free(table);
	free(before);
	free(after);
	free(flow_hashes);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		free(counts[i].count);
	return 0;
}
