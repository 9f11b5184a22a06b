/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-lcore flow table: allocation, insertion with eviction, the clock
 * hand. Lookups are inline in flowtable.h. */
#include <errno.h>
#include <limits.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include "flowtable.h"

#define ALL_WAYS ((1u << SLUICE_FT_WAYS) - 1)

/* Ways over the flows the table is sized for: at most 50 % full. Buckets
 * of 4 with one level of displacement hold ~75 % before the first
 * eviction (the former 8 ways of 72 bytes were sized for 80 %; these are
 * 16 bytes). */
#define FT_LOAD_NUM 2
#define FT_LOAD_DEN 1

/* Ticks of at most 1 ms: the TSC shifted by floor(log2(hz / 1000)). */
static unsigned int tick_shift_for(uint64_t hz)
{
	uint64_t per_ms = hz / 1000;
	unsigned int shift = 0;

	while (per_ms >> (shift + 1))
		shift++;
	return shift;
}

struct sluice_ft *sluice_ft_create(const struct sluice_ft_params *params)
{
	uint64_t ways, nb = 2;
	struct sluice_ft *ft;

	if (params->flows < SLUICE_FT_MIN_FLOWS || params->flows > SLUICE_FT_MAX_FLOWS ||
	    params->tsc_hz < 1000) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (unsigned int c = 0; c < SLUICE_FT_NCLASS; c++)
		if (params->timeout_s[c] == 0 || params->timeout_s[c] > SLUICE_FT_MAX_TIMEOUT_S) {
			rte_errno = EINVAL;
			return NULL;
		}
	ways = ((uint64_t)params->flows * FT_LOAD_NUM + FT_LOAD_DEN - 1) / FT_LOAD_DEN;
	while (nb * SLUICE_FT_WAYS < ways)
		nb <<= 1;

	ft = rte_zmalloc_socket("sluice_ft", sizeof(*ft), RTE_CACHE_LINE_SIZE, params->socket);
	if (!ft)
		ft = rte_zmalloc("sluice_ft", sizeof(*ft), RTE_CACHE_LINE_SIZE);
	if (!ft) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ft->buckets = rte_zmalloc_socket("sluice_ft_buckets", nb * sizeof(*ft->buckets),
					 RTE_CACHE_LINE_SIZE, params->socket);
	if (!ft->buckets)
		ft->buckets = rte_zmalloc("sluice_ft_buckets", nb * sizeof(*ft->buckets),
					  RTE_CACHE_LINE_SIZE);
	if (!ft->buckets) {
		sluice_ft_destroy(ft);
		rte_errno = ENOMEM;
		return NULL;
	}
	ft->mask = (uint32_t)(nb - 1);
	ft->tick_shift = tick_shift_for(params->tsc_hz);
	for (unsigned int c = 0; c < SLUICE_FT_NCLASS; c++)
		ft->timeout[c] = (uint32_t)(((uint64_t)params->timeout_s[c] * params->tsc_hz) >>
					    ft->tick_shift);
	return ft;
}

void sluice_ft_destroy(struct sluice_ft *ft)
{
	if (!ft)
		return;
	rte_free(ft->buckets);
	rte_free(ft);
}

void sluice_ft_remove_way(struct sluice_ft *ft, uint32_t b, unsigned int w)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];

	if (bk->alt & (1u << w)) {
		/* Its primary no longer has this flow living elsewhere. */
		ft->buckets[sluice_ft_alt(ft, b, bk->sig[w])].overflow--;
		bk->alt &= (uint8_t)~(1u << w);
	}
	bk->sig[w] = 0;
	ft->stats.entries--;
}

/* Ways of bk whose expiry has come (free ways included), as a bit mask:
 * sluice_ft_expired of the 4 at once. */
static inline unsigned int expired_ways(const struct sluice_ft_bucket *bk, uint32_t now)
{
#ifdef __SSE2__
	__m128i left = _mm_sub_epi32(_mm_load_si128((const __m128i *)bk->expire),
				     _mm_set1_epi32((int)now));
	__m128i live = _mm_cmpgt_epi32(left, _mm_setzero_si128());

	return ~(unsigned int)_mm_movemask_ps(_mm_castsi128_ps(live)) & ALL_WAYS;
#else
	unsigned int m = 0;

	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++)
		m |= (unsigned int)sluice_ft_expired(bk->expire[w], now) << w;
	return m;
#endif
}

/* A way of bucket b for a new flow: a free one, else an expired one (freed
 * here). -1 when all ways are live. */
static int free_way(struct sluice_ft *ft, uint32_t b, uint32_t now)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];
	unsigned int m = sluice_ft_match(bk, 0);

	if (m)
		return __builtin_ctz(m);
	m = expired_ways(bk, now);
	if (m) {
		unsigned int w = (unsigned int)__builtin_ctz(m);

		sluice_ft_remove_way(ft, b, w);
		ft->stats.expired++;
		return (int)w;
	}
	return -1;
}

/* Of the ways of bucket bk in mask, the one that expires soonest (and how
 * soon); SLUICE_FT_WAYS when mask is empty. The first of equals wins. */
static unsigned int soonest_way(const struct sluice_ft_bucket *bk, unsigned int mask, uint32_t now,
				int32_t *left)
{
#ifdef __SSE4_1__
	/* The 4 at once: ways outside mask count as never expiring, then
	 * the minimum, then the first way of mask that has it. */
	const __m128i bits = _mm_setr_epi32(1, 2, 4, 8);
	__m128i l = _mm_sub_epi32(_mm_load_si128((const __m128i *)bk->expire),
				  _mm_set1_epi32((int)now));
	__m128i in = _mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)mask), bits), bits);
	__m128i min;
	unsigned int at;

	l = _mm_or_si128(_mm_and_si128(in, l), _mm_andnot_si128(in, _mm_set1_epi32(INT32_MAX)));
	min = _mm_min_epi32(l, _mm_shuffle_epi32(l, _MM_SHUFFLE(1, 0, 3, 2)));
	min = _mm_min_epi32(min, _mm_shuffle_epi32(min, _MM_SHUFFLE(2, 3, 0, 1)));
	at = (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(l, min))) & mask &
	     ALL_WAYS;
	*left = at ? _mm_cvtsi128_si32(min) : INT32_MAX;
	return at ? (unsigned int)__builtin_ctz(at) : SLUICE_FT_WAYS;
#else
	unsigned int best = SLUICE_FT_WAYS;
	int32_t min = INT32_MAX;

	/* Selects, not branches: which way wins is a coin toss to the
	 * predictor. */
	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++) {
		int32_t l = (int32_t)(bk->expire[w] - now);
		bool take = (mask >> w & 1) && (best == SLUICE_FT_WAYS || l < min);

		best = take ? w : best;
		min = take ? l : min;
	}
	*left = min;
	return best;
#endif
}

/* What a way holds but the bookkeeping of where its flow lives. */
struct way {
	uint32_t fp, expire;
	uint16_t sig, backend_id, vip_id;
	uint8_t cls;
};

static struct way way_get(const struct sluice_ft_bucket *bk, unsigned int w)
{
	return (struct way){.fp = bk->fp[w], .expire = bk->expire[w], .sig = bk->sig[w],
			    .backend_id = bk->backend_id[w], .vip_id = bk->vip_id[w],
			    .cls = (uint8_t)(bk->cls >> (w * 2) & 3)};
}

/* Put the flow x, whose primary is b1, into (b, w). */
static void place(struct sluice_ft *ft, uint32_t b1, uint32_t b, unsigned int w,
		  const struct way *x)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];

	if (b != b1) {
		bk->alt |= (uint8_t)(1u << w);
		ft->buckets[b1].overflow++;
	}
	bk->fp[w] = x->fp;
	bk->expire[w] = x->expire;
	bk->sig[w] = x->sig;
	bk->backend_id[w] = x->backend_id;
	bk->vip_id[w] = x->vip_id;
	sluice_ft_set_cls(bk, w, x->cls);
	ft->stats.entries++;
}

/*
 * Make room in the full bucket b by moving one of its flows to that flow's
 * other candidate bucket, if one of those has a free way (one level of
 * cuckoo displacement: what lets two-choice buckets fill to ~95 % before
 * anything is evicted). Returns the freed way, or -1.
 */
static int kick(struct sluice_ft *ft, uint32_t b, uint32_t now)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];

	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++) {
		struct way x = way_get(bk, w);
		uint32_t o = sluice_ft_alt(ft, b, x.sig);
		bool in_alt = bk->alt & (1u << w);
		int w2 = free_way(ft, o, now);

		if (w2 < 0)
			continue;
		/* Its primary is o when it lived in its alternate b, else b. */
		sluice_ft_remove_way(ft, b, w);
		place(ft, in_alt ? o : b, o, (unsigned int)w2, &x);
		return (int)w;
	}
	return -1;
}

/* Displacement reads up to 8 other buckets (cache misses). Below
 * 7/8 full one of them nearly always has room; above, most have none and
 * a flood of new flows would pay all 8 for nothing: evict instead. */
static inline bool kicks_pay(const struct sluice_ft *ft)
{
	return ft->stats.entries < sluice_ft_capacity(ft) / 8 * 7;
}

uint32_t sluice_ft_insert(struct sluice_ft *ft, uint64_t hash, uint8_t cls, uint32_t now)
{
	uint32_t b1 = (uint32_t)hash & ft->mask, b2, b;
	uint16_t sig = sluice_ft_sig(hash);
	struct way x = {.fp = sluice_ft_fp(hash), .expire = now + ft->timeout[cls], .sig = sig,
			.cls = cls};
	int w;

	b2 = sluice_ft_alt(ft, b1, sig);
	if ((w = free_way(ft, b1, now)) >= 0)
		b = b1;
	else if ((w = free_way(ft, b2, now)) >= 0)
		b = b2;
	else if (kicks_pay(ft) && (w = kick(ft, b1, now)) >= 0)
		b = b1;
	else if (kicks_pay(ft) && (w = kick(ft, b2, now)) >= 0)
		b = b2;
	else {
		/*
		 * Everything around is full of live flows: evict the one that
		 * would have expired first (least recently seen, per its
		 * class), preferring the flows whose primary is b1. Removing
		 * one of those, and putting the new flow in its place,
		 * touches no other bucket; a flow living in its alternate
		 * would update its primary's overflow count, a third random
		 * cache line per insert (under a flood of new flows, perf put
		 * 23-29 % of the worker's time on that line). The preference
		 * holds while b1's soonest own flow expires within 1/16 of the
		 * TCP timeout of the soonest of all 8 (a flood's flows are
		 * all about that close); a flow much older than that goes
		 * first wherever it lives.
		 */
		int32_t l_own, l1, l2;
		unsigned int own = soonest_way(&ft->buckets[b1], (uint8_t)~ft->buckets[b1].alt, now,
					       &l_own);
		unsigned int w1 = soonest_way(&ft->buckets[b1], ALL_WAYS, now, &l1);
		unsigned int w2 = soonest_way(&ft->buckets[b2], ALL_WAYS, now, &l2);
		int32_t l_min = l1 <= l2 ? l1 : l2;

		if (own < SLUICE_FT_WAYS &&
		    (int64_t)l_own - l_min <= (int64_t)(ft->timeout[SLUICE_FLOW_TCP] >> 4)) {
			b = b1;
			w = (int)own;
		} else {
			b = l1 <= l2 ? b1 : b2;
			w = (int)(l1 <= l2 ? w1 : w2);
		}
		sluice_ft_remove_way(ft, b, (unsigned int)w);
		ft->stats.evictions++;
	}
	place(ft, b1, b, (unsigned int)w, &x);
	ft->stats.inserts++;
	return b * SLUICE_FT_WAYS + (unsigned int)w;
}

unsigned int sluice_ft_sweep(struct sluice_ft *ft, uint32_t now, uint32_t n)
{
	unsigned int freed = 0;
	uint32_t b = ft->sweep_next;

	if (n > ft->mask + 1)
		n = ft->mask + 1;
	for (uint32_t i = 0; i < n; i++, b = (b + 1) & ft->mask) {
		struct sluice_ft_bucket *bk = &ft->buckets[b];

		rte_prefetch0(&ft->buckets[(b + 4) & ft->mask]);
		for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++)
			if (bk->sig[w] && sluice_ft_expired(bk->expire[w], now)) {
				sluice_ft_remove_way(ft, b, w);
				freed++;
			}
	}
	ft->sweep_next = b;
	ft->stats.expired += freed;
	return freed;
}
