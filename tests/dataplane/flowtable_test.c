/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore flow table (dataplane/flowtable.c): lookups after inserts,
 * bounded size with eviction of the entry that expires soonest, idle
 * timeouts per class, the clock hand, tick wrap-around, and the overflow
 * bookkeeping staying consistent. The table knows flows by their hash
 * alone (bucket, signature and fingerprint): hashes are chosen by the
 * test, so that bucket collisions are exact. One tick is one millisecond
 * here.
 */
#include "dp_test.h"

#define HZ (1000ull * 1024) /* 1024 cycles a millisecond: tick_shift 10 */

static struct sluice_ft *make(uint32_t flows)
{
	struct sluice_ft_params p = {
		.flows = flows,
		.timeout_s = {300, 30, 10},
		.tsc_hz = HZ,
		.socket = SOCKET_ID_ANY,
	};
	struct sluice_ft *ft = sluice_ft_create(&p);

	assert_non_null(ft);
	assert_int_equal(ft->tick_shift, 10);
	assert_int_equal(ft->timeout[SLUICE_FLOW_UDP], 30000);
	return ft;
}

static struct sluice_flow_key key(uint32_t n, uint8_t proto)
{
	struct sluice_flow_key k;

	sluice_flow_key_v4(&k, htonl(0xc6336400 + (n >> 16)), htonl(0xc000020a), proto,
			   htons((uint16_t)n), htons(80));
	return k;
}

/* Overflow counts and the entry count agree with the ways' contents. */
static void check_invariants(const struct sluice_ft *ft)
{
	uint32_t nb = ft->mask + 1;
	uint64_t live = 0;
	uint32_t *expect = calloc(nb, sizeof(*expect));

	for (uint32_t b = 0; b < nb; b++)
		for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++) {
			const struct sluice_ft_bucket *bk = &ft->buckets[b];

			if (!bk->sig[w]) {
				assert_false(bk->alt & (1u << w));
				continue;
			}
			live++;
			if (bk->alt & (1u << w))
				expect[sluice_ft_alt(ft, b, bk->sig[w])]++;
		}
	for (uint32_t b = 0; b < nb; b++)
		assert_int_equal(ft->buckets[b].overflow, expect[b]);
	assert_int_equal(ft->stats.entries, live);
	free(expect);
}

static void test_sizing(void **state)
{
	struct sluice_ft *ft = make(1000);
	struct sluice_ft_params bad = {.flows = 8, .timeout_s = {1, 1, 1}, .tsc_hz = HZ};
	(void)state;

	/* At most 50 % full at the configured size. */
	assert_true(sluice_ft_capacity(ft) >= 1000ull * 2);
	assert_int_equal(sluice_ft_capacity(ft), 2048);
	sluice_ft_destroy(ft);
	assert_null(sluice_ft_create(&bad));
	bad.flows = 100;
	bad.timeout_s[1] = 0;
	assert_null(sluice_ft_create(&bad));
	sluice_ft_destroy(NULL);
}

#define MISS SLUICE_FT_MISS

static void test_insert_lookup(void **state)
{
	struct sluice_ft *ft = make(100000);
	uint32_t now = 5;
	(void)state;

	for (uint32_t i = 0; i < 100000; i++) {
		struct sluice_flow_key k = key(i, 6);
		uint64_t h = sluice_ft_hash(&k, 1);
		uint32_t e;

		assert_int_equal(sluice_ft_lookup(ft, h, now), MISS);
		e = sluice_ft_insert(ft, h, SLUICE_FLOW_TCP, now);
		sluice_ft_set(ft, e, (uint16_t)i, (uint16_t)(i >> 16));
	}
	assert_int_equal(ft->stats.entries, 100000);
	assert_int_equal(ft->stats.evictions, 0);
	for (uint32_t i = 0; i < 100000; i++) {
		struct sluice_flow_key k = key(i, 6);
		uint32_t e = sluice_ft_lookup(ft, sluice_ft_hash(&k, 1), now);

		assert_int_not_equal(e, MISS);
		assert_int_equal(sluice_ft_backend(ft, e), (uint16_t)i);
		assert_int_equal(sluice_ft_vip(ft, e), (uint16_t)(i >> 16));
		assert_int_equal(sluice_ft_cls(ft, e), SLUICE_FLOW_TCP);
	}
	/* Same key, other hash seed: another slot, not found. */
	{
		struct sluice_flow_key k = key(7, 6);

		assert_int_equal(sluice_ft_lookup(ft, sluice_ft_hash(&k, 2), now), MISS);
	}
	/* Another flow of the same bucket and signature, told apart by the
	 * rest of its fingerprint. */
	{
		struct sluice_flow_key k = key(7, 6);
		uint64_t h = sluice_ft_hash(&k, 1);

		assert_int_equal(sluice_ft_lookup(ft, h ^ (1ull << 20), now), MISS);
		assert_int_not_equal(sluice_ft_lookup(ft, h, now), MISS);
	}
	check_invariants(ft);
	sluice_ft_destroy(ft);
}

/* Full buckets: the flow of the primary bucket that expires soonest goes;
 * a recently touched one stays; a guest of the alternate bucket goes only
 * when the primary has no flow of its own. The table never holds more than
 * its ways. */
#define W SLUICE_FT_WAYS

static void test_eviction(void **state)
{
	struct sluice_ft *ft = make(16); /* 8 buckets of 4 */
	uint64_t h[2 * W + 1];
	uint32_t alt;
	uint16_t sig = 0x100;
	(void)state;

	assert_int_equal(ft->mask, 7);
	/* 2W + 1 flows, all with primary bucket 0 and the same signature,
	 * so the same alternate bucket; fingerprints differ. */
	alt = sluice_ft_alt(ft, 0, sig);
	for (uint32_t i = 0; i < 2 * W + 1; i++)
		h[i] = (uint64_t)sig << 48 | (uint64_t)(i + 1) << 16 | 0x40; /* low bits: bucket 0 */
	for (uint32_t i = 0; i < 2 * W; i++)
		sluice_ft_insert(ft, h[i], SLUICE_FLOW_TCP, 100 + i);
	assert_int_equal(ft->buckets[0].overflow, W);
	assert_int_equal(ft->buckets[alt].alt, (1u << W) - 1);
	check_invariants(ft);
	/* Touch flow 0 (the oldest) 20 s later: flow 1 is now the soonest.
	 * (A hit rewrites the expiry only once it lags by more than 1/16 of
	 * the timeout, 18.75 s for TCP here; see sluice_ft_touch.) */
	sluice_ft_touch(ft, sluice_ft_lookup(ft, h[0], 20000), 0, 20000);
	sluice_ft_insert(ft, h[2 * W], SLUICE_FLOW_TCP, 20001);
	assert_int_equal(ft->stats.evictions, 1);
	assert_int_equal(sluice_ft_lookup(ft, h[1], 20001), MISS);
	for (uint32_t i = 0; i < 2 * W + 1; i++)
		if (i != 1)
			assert_int_not_equal(sluice_ft_lookup(ft, h[i], 20001), MISS);
	check_invariants(ft);
	/* A closing flow expires sooner and goes first (W + 1, a guest of
	 * the alternate bucket). */
	sluice_ft_touch(ft, sluice_ft_lookup(ft, h[W + 1], 20002), SLUICE_TCP_FIN, 20002);
	assert_int_equal(sluice_ft_cls(ft, sluice_ft_lookup(ft, h[W + 1], 20002)),
			 SLUICE_FLOW_CLOSING);
	sluice_ft_insert(ft, h[1], SLUICE_FLOW_TCP, 20003);
	assert_int_equal(sluice_ft_lookup(ft, h[W + 1], 20003), MISS);
	check_invariants(ft);
	/* The primary's soonest own flow (2) goes; the alternate bucket's
	 * flows (W...), which expire a few ms later, stay. */
	sluice_ft_insert(ft, h[W + 1], SLUICE_FLOW_TCP, 20005);
	assert_int_equal(sluice_ft_lookup(ft, h[2], 20005), MISS);
	assert_int_not_equal(sluice_ft_lookup(ft, h[W], 20005), MISS);
	assert_int_equal(ft->stats.evictions, 3);
	/* A flow that expires much sooner than the primary's own (flow
	 * W + 2, closing: 10 s against ~280 s) goes first, wherever it lives. */
	sluice_ft_touch(ft, sluice_ft_lookup(ft, h[W + 2], 20006), SLUICE_TCP_FIN, 20006);
	sluice_ft_insert(ft, h[2], SLUICE_FLOW_TCP, 20007);
	assert_int_equal(sluice_ft_lookup(ft, h[W + 2], 20007), MISS);
	assert_int_not_equal(sluice_ft_lookup(ft, h[3], 20007), MISS);
	assert_int_equal(ft->stats.evictions, 4);
	check_invariants(ft);

	/* Many more flows than ways: bounded, consistent. */
	for (uint32_t i = 0; i < 10000; i++) {
		struct sluice_flow_key x = key(1000 + i, 17);
		uint64_t hx = sluice_ft_hash(&x, 3);

		if (sluice_ft_lookup(ft, hx, 20100 + i) == MISS)
			sluice_ft_insert(ft, hx, SLUICE_FLOW_UDP, 20100 + i);
		assert_int_not_equal(sluice_ft_lookup(ft, hx, 20100 + i), MISS);
	}
	assert_true(ft->stats.entries <= sluice_ft_capacity(ft));
	assert_int_equal(ft->stats.inserts - ft->stats.evictions - ft->stats.expired,
			 ft->stats.entries);
	check_invariants(ft);
	sluice_ft_destroy(ft);
}

static void test_timeouts_and_sweep(void **state)
{
	struct sluice_ft *ft = make(1000);
	struct sluice_flow_key tcp = key(1, 6), udp = key(2, 17), fin = key(3, 6);
	uint64_t ht = sluice_ft_hash(&tcp, 9), hu = sluice_ft_hash(&udp, 9);
	uint64_t hf = sluice_ft_hash(&fin, 9);
	uint32_t t0 = 0xfffff000u; /* ticks wrap in between */
	(void)state;

	sluice_ft_insert(ft, ht, sluice_flow_class(6, SLUICE_TCP_SYN, SLUICE_FLOW_TCP), t0);
	sluice_ft_insert(ft, hu, sluice_flow_class(17, 0, SLUICE_FLOW_TCP), t0);
	sluice_ft_insert(ft, hf, sluice_flow_class(6, SLUICE_TCP_RST, SLUICE_FLOW_TCP), t0);
	assert_int_equal(ft->stats.entries, 3);
	/* After 9.999 s everything lives; at 10 s the closing flow is gone. */
	assert_int_not_equal(sluice_ft_lookup(ft, hf, t0 + 9999), MISS);
	assert_int_equal(sluice_ft_lookup(ft, hf, t0 + 10000), MISS);
	assert_int_equal(ft->stats.expired, 1);
	/* UDP lives 30 s from its last packet. */
	sluice_ft_touch(ft, sluice_ft_lookup(ft, hu, t0 + 20000), 0, t0 + 20000);
	assert_int_not_equal(sluice_ft_lookup(ft, hu, t0 + 49999), MISS);
	/* A FIN moves a TCP flow to the short timeout; a new SYN back. */
	sluice_ft_touch(ft, sluice_ft_lookup(ft, ht, t0 + 1000), SLUICE_TCP_FIN | SLUICE_TCP_ACK,
			t0 + 1000);
	sluice_ft_touch(ft, sluice_ft_lookup(ft, ht, t0 + 2000), SLUICE_TCP_SYN, t0 + 2000);
	assert_int_not_equal(sluice_ft_lookup(ft, ht, t0 + 2000 + 299999), MISS);
	/* The clock hand frees what expired without being looked up. */
	assert_int_equal(sluice_ft_sweep(ft, t0 + 2000 + 300000, ft->mask + 1), 2);
	assert_int_equal(ft->stats.entries, 0);
	assert_int_equal(ft->stats.expired, 3);
	check_invariants(ft);
	/* The hand advances a few buckets at a time and wraps. */
	for (uint32_t i = 0; i < 100; i++) {
		struct sluice_flow_key x = key(100 + i, 17);

		sluice_ft_insert(ft, sluice_ft_hash(&x, 1), SLUICE_FLOW_UDP, 0);
	}
	for (uint32_t i = 0; i < (ft->mask + 1) / 7 + 1; i++)
		sluice_ft_sweep(ft, 40000, 7);
	assert_int_equal(ft->stats.entries, 0);
	check_invariants(ft);
	sluice_ft_destroy(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizing),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_timeouts_and_sweep),
	};
	int rc;

	if (t_eal_init("flowtable_test") < 0) {
		fprintf(stderr, "EAL initialisation failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	t_eal_fini();
	return rc;
}
