/* SPDX-License-Identifier: BSD-3-Clause */
/* Table compilers: bad input is refused with a clear error, tables are
 * deterministic, weight 0 gets no slots, and Maglev equals the textbook
 * algorithm. Quality bounds are in table_quality_test.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <xxhash.h>

#include "table_fixtures.h"
#include "test_rand.h"

#define M 65537u

struct bad_case {
	const char *what;
	__u32 m;
	size_t n;
	int rc;
	const char *msg;
};

static void expect_error(const struct sluice_table_params *p, const struct sluice_table_backend *b,
			 size_t n, int rc, const char *msg)
{
	__u16 *table = malloc(((p->m && p->m <= SLUICE_TABLE_MAX_M) ? p->m : 1) * sizeof(*table));
	char err[256] = "";

	/* The table must stay untouched when the input is refused. */
	for (__u32 s = 0; p->m <= SLUICE_TABLE_MAX_M && s < p->m; s++)
		table[s] = 0xbeef;
	assert_int_equal(sluice_table_build(p, b, n, table, NULL, err, sizeof(err)), rc);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, msg);
	for (__u32 s = 0; p->m <= SLUICE_TABLE_MAX_M && s < p->m; s++)
		assert_int_equal(table[s], 0xbeef);
	free(table);
}

static void test_rejects_bad_input(void **state)
{
	struct sluice_table_backend b[20];
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = M, .seed = 1};
	(void)state;

	for (unsigned int i = 0; i < 20; i++)
		b[i] = fx_backend(i, 0, 1);

	p.m = 65536;
	expect_error(&p, b, 4, -EINVAL, "M=65536 is not prime");
	p.m = 1;
	expect_error(&p, b, 4, -EINVAL, "not prime");
	p.m = 307; /* prime, but < 16 * 20 */
	expect_error(&p, b, 20, -EINVAL, "too small for 20 backends");
	p.m = 4294967291u; /* prime, far beyond the pool */
	expect_error(&p, b, 4, -EINVAL, "larger than the maximum");
	p.m = M;
	expect_error(&p, b, 0, -EINVAL, "empty backend set");

	b[3] = b[1];
	expect_error(&p, b, 4, -EINVAL, "duplicate backend 10.0.0.1");
	b[3] = fx_backend(3, 0, 1);

	b[2].weight = SLUICE_WEIGHT_MAX + 1;
	expect_error(&p, b, 4, -EINVAL, "backend 10.0.0.2 has weight 10001");
	b[2].weight = 1;

	b[1].addr.family = 5;
	expect_error(&p, b, 4, -EINVAL, "backend 1 has an invalid address");
	b[1] = fx_backend(1, 0, 1);
	b[1].addr.bytes[9] = 1; /* bytes past an IPv4 address must be 0 */
	expect_error(&p, b, 4, -EINVAL, "invalid address");
	b[1] = fx_backend(1, 0, 1);

	for (unsigned int i = 0; i < 4; i++)
		b[i].weight = 0;
	expect_error(&p, b, 4, -ENODATA, "no backend has a weight above 0");
	for (unsigned int i = 0; i < 4; i++)
		b[i].weight = 1;

	p.algo = SLUICE_ALGO_RING;
	p.ring_k = 0;
	expect_error(&p, b, 4, -EINVAL, "ring k=0");
	p.ring_k = SLUICE_RING_MAX_K + 1;
	expect_error(&p, b, 4, -EINVAL, "ring k=10001");
	p.ring_k = 10;

	p.algo = (enum sluice_table_algo)7;
	expect_error(&p, b, 4, -EINVAL, "unknown table algorithm 7");

	{
		char err[128] = "";

		p.algo = SLUICE_ALGO_MAGLEV;
		assert_int_equal(sluice_table_build(&p, b, 4, NULL, NULL, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "missing"));
	}
}

static void test_is_prime(void **state)
{
	(void)state;
	assert_true(sluice_is_prime(2));
	assert_true(sluice_is_prime(65537));
	assert_true(sluice_is_prime(655373));
	assert_false(sluice_is_prime(0));
	assert_false(sluice_is_prime(1));
	assert_false(sluice_is_prime(65535));
	assert_false(sluice_is_prime(655371));
	assert_false(sluice_is_prime(4294967295u));
	assert_true(sluice_is_prime(4294967291u));
}

static void shuffle(struct sluice_table_backend *b, size_t n, uint64_t *rng)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = test_rand(rng) % (i + 1);
		struct sluice_table_backend t = b[i];

		b[i] = b[j];
		b[j] = t;
	}
}

/* The same set in any order gives a byte-identical table, for every
 * algorithm and a mix of families and weights. */
static void test_deterministic_in_any_order(void **state)
{
	const enum sluice_table_algo algos[] = {SLUICE_ALGO_MAGLEV, SLUICE_ALGO_RING,
						SLUICE_ALGO_MODULO};
	struct sluice_table_backend b[200];
	__u16 *t0 = malloc(M * sizeof(*t0)), *t1 = malloc(M * sizeof(*t1));
	uint64_t rng = 99;
	char err[128];
	(void)state;

	for (unsigned int i = 0; i < 200; i++)
		b[i] = fx_backend(i, i % 3 == 0, 1 + i % 7);
	for (unsigned int a = 0; a < 3; a++) {
		struct sluice_table_params p = {.algo = algos[a], .m = M, .seed = 7, .ring_k = 50};

		assert_int_equal(sluice_table_build(&p, b, 200, t0, NULL, err, sizeof(err)), 0);
		for (int r = 0; r < 5; r++) {
			shuffle(b, 200, &rng);
			assert_int_equal(sluice_table_build(&p, b, 200, t1, NULL, err, sizeof(err)), 0);
			assert_memory_equal(t0, t1, M * sizeof(*t0));
		}
		/* ... and the seed matters (modulo ignores it). */
		p.seed = 8;
		assert_int_equal(sluice_table_build(&p, b, 200, t1, NULL, err, sizeof(err)), 0);
		if (algos[a] == SLUICE_ALGO_MODULO)
			assert_memory_equal(t0, t1, M * sizeof(*t0));
		else
			assert_memory_not_equal(t0, t1, M * sizeof(*t0));
	}
	free(t0);
	free(t1);
}

/* Values index the backends in address order, reported through sorted[]. */
static void test_sorted_order_and_values(void **state)
{
	struct sluice_table_backend b[5] = {fx_backend(9, 0, 1), fx_backend(2, 1, 1),
					    fx_backend(4, 0, 1), fx_backend(1, 0, 1),
					    fx_backend(7, 1, 1)};
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = 1009, .seed = 3};
	__u16 table[1009];
	__u32 sorted[5];
	int seen[5] = {0};
	(void)state;

	assert_int_equal(sluice_table_build(&p, b, 5, table, sorted, NULL, 0), 0);
	/* v4 (family 4) sorts before v6 (family 6); then by address bytes. */
	assert_int_equal(sorted[0], 3);
	assert_int_equal(sorted[1], 2);
	assert_int_equal(sorted[2], 0);
	assert_int_equal(sorted[3], 1);
	assert_int_equal(sorted[4], 4);
	for (unsigned int s = 0; s < 1009; s++) {
		assert_in_range(table[s], 0, 4);
		seen[table[s]] = 1;
	}
	for (unsigned int i = 0; i < 5; i++)
		assert_true(seen[i]);
}

/* Weight 0 means no slots, in every algorithm. */
static void test_weight_zero_gets_no_slots(void **state)
{
	const enum sluice_table_algo algos[] = {SLUICE_ALGO_MAGLEV, SLUICE_ALGO_RING,
						SLUICE_ALGO_MODULO};
	struct sluice_table_backend *b = fx_backends(50);
	__u16 *t = malloc(M * sizeof(*t));
	__u32 sorted[50];
	(void)state;

	b[17].weight = 0;
	b[30].weight = 0;
	for (unsigned int a = 0; a < 3; a++) {
		struct sluice_table_params p = {.algo = algos[a], .m = M, .seed = 5, .ring_k = 20};

		assert_int_equal(sluice_table_build(&p, b, 50, t, sorted, NULL, 0), 0);
		for (__u32 s = 0; s < M; s++) {
			unsigned int who = fx_backend_number(&b[sorted[t[s]]]);

			assert_int_not_equal(who, 17);
			assert_int_not_equal(who, 30);
		}
	}
	free(b);
	free(t);
}

/* Maglev as the paper writes it, with the same credit rule for weights:
 * walk each permutation one probe at a time until a free slot. */
static void reference_maglev(const struct sluice_table_backend *b, const __u32 *sorted, size_t n,
			     __u32 m, __u64 seed, __u16 *table)
{
	__u32 *next = calloc(n, sizeof(*next)), *skip = calloc(n, sizeof(*skip));
	__u32 *credit = calloc(n, sizeof(*credit)), wmax = 0, filled = 0;
	uint8_t *used = calloc(m, 1);

	for (size_t i = 0; i < n; i++) {
		const struct sluice_table_backend *be = &b[sorted[i]];

		next[i] = (__u32)(XXH64(&be->addr, sizeof(be->addr), seed ^ 0x6d61676c65764f46ULL) % m);
		skip[i] = (__u32)(XXH64(&be->addr, sizeof(be->addr), seed ^ 0x6d61676c65765348ULL) %
				  (m - 1)) + 1;
		if (be->weight > wmax)
			wmax = be->weight;
	}
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			if (b[sorted[i]].weight == 0)
				continue;
			credit[i] += b[sorted[i]].weight;
			if (credit[i] < wmax)
				continue;
			credit[i] -= wmax;
			while (used[next[i]])
				next[i] = (__u32)(((__u64)next[i] + skip[i]) % m);
			used[next[i]] = 1;
			table[next[i]] = (__u16)i;
			filled++;
		}
	}
	free(next);
	free(skip);
	free(credit);
	free(used);
}

static void test_maglev_equals_reference(void **state)
{
	const __u32 ms[] = {1009, 65537, 655373};
	const unsigned int ns[] = {3, 37, 1000};
	uint64_t rng = 2024;
	(void)state;

	for (unsigned int mi = 0; mi < 3; mi++)
		for (unsigned int ni = 0; ni < 3; ni++) {
			__u32 m = ms[mi];
			unsigned int n = ns[ni];
			struct sluice_table_backend *b;
			struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = m, .seed = 11};
			__u16 *t = malloc(m * sizeof(*t)), *r = malloc(m * sizeof(*r));
			__u32 *sorted = malloc(n * sizeof(*sorted));

			if ((__u64)m < 16ull * n) {
				free(t), free(r), free(sorted);
				continue;
			}
			b = fx_backends(n);
			for (unsigned int i = 0; i < n; i++) /* weighted on odd rounds */
				b[i].weight = (ni & 1) ? 1 + test_rand(&rng) % 9 : 1;
			assert_int_equal(sluice_table_build(&p, b, n, t, sorted, NULL, 0), 0);
			reference_maglev(b, sorted, n, m, p.seed, r);
			assert_memory_equal(t, r, m * sizeof(*t));
			free(b), free(t), free(r), free(sorted);
		}
}

/* A VIP compiled again and again through one cache, as sluiced does on
 * every change (add, remove, weight, drain, the seed or M changing under
 * it), gives after each change the table a build from scratch gives. */
static void test_cached_equals_from_scratch(void **state)
{
	enum { POOL = 300, CHANGES = 200 };
	struct sluice_table_backend pool[POOL], cur[POOL];
	bool in[POOL] = {false};
	struct sluice_maglev_cache cache = {0};
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = 16381, .seed = 5};
	__u16 *t0 = malloc(65537 * sizeof(*t0)), *t1 = malloc(65537 * sizeof(*t1));
	uint64_t rng = 4242;
	unsigned int built = 0;
	char err[128];
	(void)state;

	for (unsigned int i = 0; i < POOL; i++) {
		pool[i] = fx_backend(i, i % 4 == 0, 1 + i % 5);
		in[i] = i < 100;
	}
	for (unsigned int c = 0; c < CHANGES; c++) {
		unsigned int k = (unsigned int)(test_rand(&rng) % POOL), what = c % 7;
		size_t n = 0;
		int r0, r1;

		if (c == 60)
			p.seed++;				/* every permutation moves */
		else if (c == 120)
			p.m = 65537;				/* and again */
		else if (what <= 1)
			in[k] = !in[k];				/* add or remove */
		else if (what == 2)
			pool[k].weight = (__u32)(test_rand(&rng) % 10); /* weight, 0 = drain */
		else if (what == 3)
			pool[k].weight = pool[k].weight ? 0 : 3; /* drain, health flip */
		for (unsigned int i = 0; i < POOL; i++)
			if (in[i])
				cur[n++] = pool[i];
		shuffle(cur, n, &rng); /* callers hand backends in any order */
		if (n == 0 || (__u64)p.m < 16ull * n)
			continue;
		r0 = sluice_table_build(&p, cur, n, t0, NULL, err, sizeof(err));
		r1 = sluice_table_build_cached(&p, cur, n, t1, NULL, &cache, err, sizeof(err));
		assert_int_equal(r0, r1);
		if (r0 != 0)
			continue;
		assert_memory_equal(t0, t1, p.m * sizeof(*t0));
		/* The cache now holds this set under these parameters. */
		assert_int_equal(cache.n, n);
		assert_int_equal(cache.m, p.m);
		assert_int_equal(cache.seed, p.seed);
		built++;
	}
	/* Both parameter changes happened, and most changes were built. */
	assert_int_equal(p.m, 65537);
	assert_int_equal(p.seed, 6);
	assert_true(built > CHANGES / 2);
	sluice_maglev_cache_free(&cache);
	free(t0);
	free(t1);
}

static void test_algo_names(void **state)
{
	enum sluice_table_algo a;
	(void)state;

	assert_int_equal(sluice_table_algo_parse("ring", &a), 0);
	assert_int_equal(a, SLUICE_ALGO_RING);
	assert_int_equal(sluice_table_algo_parse("Maglev", &a), -EINVAL);
	assert_int_equal(sluice_table_algo_parse(NULL, &a), -EINVAL);
	assert_string_equal(sluice_table_algo_name(SLUICE_ALGO_MAGLEV), "maglev");
	assert_string_equal(sluice_table_algo_name((enum sluice_table_algo)9), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_deterministic_in_any_order),
		cmocka_unit_test(test_sorted_order_and_values),
		cmocka_unit_test(test_weight_zero_gets_no_slots),
		cmocka_unit_test(test_maglev_equals_reference),
		cmocka_unit_test(test_cached_equals_from_scratch),
		cmocka_unit_test(test_algo_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
