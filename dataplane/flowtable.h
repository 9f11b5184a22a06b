/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore flow table (connection tracking): flow key -> backend id.
 *
 * Layout. Buckets of 8 ways. A bucket's header is one cache line holding a
 * 16-bit signature and an expiry tick per way, so that lookups, expiry and
 * eviction decisions read one line; the entries (key and value, one cache
 * line each) live in a separate array at bucket * 8 + way. A flow has two
 * candidate buckets: its primary (low bits of the flow hash) and an
 * alternate derived from the primary and the signature (b ^ f(sig), as in
 * partial-key cuckoo hashing), so an entry in either bucket can find the
 * other from the header alone. A primary counts how many of its flows live
 * in their alternate (overflow); lookups only read the alternate when that
 * count is not zero, which at the sizes we choose is rare.
 *
 * Bounded: the table never grows. Sized for at most 80 % load at the
 * configured number of flows; when both candidate buckets of a new flow are
 * full of live entries (and one level of displacement finds no room), the
 * entry that expires soonest is evicted (LRU, with shorter timeouts after
 * FIN/RST weighing in), preferring the flows whose primary is the new
 * flow's primary bucket while they expire within 1/16 of the TCP timeout
 * of the soonest of all 16 candidates (flowtable.c says why).
 * Inserting never fails and never loops.
 *
 * Idle timeouts: each entry carries its expiry tick (coarse TSC); a hit
 * pushes it forward by its class's timeout (TCP, UDP, closing after
 * FIN/RST). Lookups treat an expired entry as absent; a clock hand
 * (sluice_ft_sweep) walks the buckets a few at a time and frees expired
 * entries so that counts stay true and ticks never wrap unseen.
 *
 * Thread safety: none. One table per lcore, used only by that lcore (the
 * telemetry thread may read the stats words, which are naturally aligned).
 */
#ifndef SLUICE_DP_FLOWTABLE_H
#define SLUICE_DP_FLOWTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sluice/flow.h"
#include "sluice/packet.h"

#define SLUICE_FT_WAYS 8
#define SLUICE_FT_MIN_FLOWS 16u
#define SLUICE_FT_MAX_FLOWS (1u << 28)
#define SLUICE_FT_MAX_TIMEOUT_S 86400u /* keeps expiry ticks far from wrapping */

/* One idle timeout per class (include/sluice/consts.h). */
#define SLUICE_FT_NCLASS SLUICE_FLOW_NCLASS

struct sluice_ft_bucket {
	uint16_t sig[SLUICE_FT_WAYS];	 /* signature of the way's flow; 0: way is free */
	uint32_t expire[SLUICE_FT_WAYS]; /* tick at which the way's flow expires */
	uint16_t overflow;		 /* flows whose primary is this bucket, living in their alternate */
	uint8_t alt;			 /* bit w: way w holds a flow whose primary is the other bucket */
	uint8_t pad[13];
} __rte_cache_aligned;

struct sluice_ft_entry {
	struct sluice_flow_key key; /* client -> VIP */
	uint16_t backend_id;	    /* stable backend id (shm.h) */
	uint16_t vip_id;	    /* VIP it was matched to when inserted */
	uint8_t cls;		    /* enum sluice_flow_class */
	uint8_t pad[3];
	uint64_t flow_hash;	    /* sluice_flow_hash (XXH64) with the VIP's seed */
	uint64_t seed;		    /* that seed: an entry of an older seed is a miss */
} __rte_cache_aligned;

_Static_assert(sizeof(struct sluice_ft_bucket) == 64, "bucket header is one cache line");
_Static_assert(sizeof(struct sluice_ft_entry) == 64, "entry is one cache line");

struct sluice_ft_stats {
	uint64_t entries;   /* live entries (expired ones until swept or looked up) */
	uint64_t inserts;   /* flows inserted */
	uint64_t evictions; /* live entries evicted because both buckets were full */
	uint64_t expired;   /* entries freed after their idle timeout */
};

struct sluice_ft_params {
	uint32_t flows;			       /* flows to hold without eviction pressure */
	uint32_t timeout_s[SLUICE_FT_NCLASS];  /* idle timeout per class, seconds */
	uint64_t tsc_hz;		       /* rte_get_tsc_hz() */
	int socket;			       /* NUMA socket for the memory */
};

struct sluice_ft {
	struct sluice_ft_bucket *buckets;
	struct sluice_ft_entry *entries;
	uint32_t mask;			     /* number of buckets - 1 (a power of two) */
	uint32_t sweep_next;		     /* the clock hand */
	uint32_t timeout[SLUICE_FT_NCLASS];  /* in ticks */
	unsigned int tick_shift;	     /* tick = TSC >> tick_shift (<= 1 ms) */
	struct sluice_ft_stats stats;
};

/* Allocate a table (hugepage memory on params->socket, falling back to any
 * socket). NULL on failure (rte_errno set). */
struct sluice_ft *sluice_ft_create(const struct sluice_ft_params *params);
void sluice_ft_destroy(struct sluice_ft *ft);

/* Number of ways (the most entries the table can ever hold). */
static inline uint64_t sluice_ft_capacity(const struct sluice_ft *ft)
{
	return ((uint64_t)ft->mask + 1) * SLUICE_FT_WAYS;
}

/* Bytes of memory the table holds (what bench/ reports per flow). */
static inline uint64_t sluice_ft_bytes(const struct sluice_ft *ft)
{
	return sizeof(*ft) + ((uint64_t)ft->mask + 1) * sizeof(struct sluice_ft_bucket) +
	       sluice_ft_capacity(ft) * sizeof(struct sluice_ft_entry);
}

/*
 * Where a flow lives in the table: a hash of the key and the VIP's seed
 * (a seed change re-picks the VIP's flows, as in the XDP path, whose flow
 * ids mix the seed in too), cheap enough for every packet: CRC32-C over the
 * seed and the five key words, and once more for the upper half (bucket
 * from the low bits, signature from the high). DPDK's rte_hash_crc uses
 * the CPU's CRC32 instruction (SSE4.2, ARMv8) and a table elsewhere. The flow hash proper (XXH64
 * with the VIP's seed, which picks the table slot and GUE's source port)
 * costs ~90 instructions: it is computed for new and re-picked flows only
 * and kept in the entry.
 */
static inline uint64_t sluice_ft_hash(const struct sluice_flow_key *k, uint64_t seed)
{
	uint64_t a = rte_hash_crc_8byte(seed, 0x5bd1e995u);

	a = rte_hash_crc_8byte(k->words[0], (uint32_t)a);
	a = rte_hash_crc_8byte(k->words[1], (uint32_t)a);
	a = rte_hash_crc_8byte(k->words[2], (uint32_t)a);
	a = rte_hash_crc_8byte(k->words[3], (uint32_t)a);
	a = rte_hash_crc_8byte(k->words[4], (uint32_t)a);
	return a | (uint64_t)rte_hash_crc_8byte(0x9E3779B97F4A7C15ull, (uint32_t)a) << 32;
}

static inline uint32_t sluice_ft_now(const struct sluice_ft *ft, uint64_t tsc)
{
	return (uint32_t)(tsc >> ft->tick_shift);
}

static inline bool sluice_ft_expired(uint32_t expire, uint32_t now)
{
	return (int32_t)(expire - now) <= 0;
}

static inline uint16_t sluice_ft_sig(uint64_t hash)
{
	uint16_t s = (uint16_t)(hash >> 48);

	return s ? s : 1;
}

/* The alternate bucket of b for signature sig; alt(alt(b)) == b. */
static inline uint32_t sluice_ft_alt(const struct sluice_ft *ft, uint32_t b, uint16_t sig)
{
	uint32_t x = ((uint32_t)sig * 0x9E3779B1u) >> 12 & ft->mask;

	return b ^ (x ? x : 1);
}

/* Ways of bk whose signature is sig, as a bit mask. */
static inline unsigned int sluice_ft_match(const struct sluice_ft_bucket *bk, uint16_t sig)
{
#ifdef __SSE2__
	__m128i s = _mm_load_si128((const __m128i *)bk->sig);
	__m128i eq = _mm_cmpeq_epi16(s, _mm_set1_epi16((short)sig));

	/* One bit per byte: keep every other one. */
	return (unsigned int)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
#else
	unsigned int m = 0;

	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++)
		m |= (unsigned int)(bk->sig[w] == sig) << w;
	return m;
#endif
}

static inline bool sluice_ft_key_eq(const struct sluice_flow_key *a, const struct sluice_flow_key *b)
{
	return ((a->words[0] ^ b->words[0]) | (a->words[1] ^ b->words[1]) |
		(a->words[2] ^ b->words[2]) | (a->words[3] ^ b->words[3]) |
		(a->words[4] ^ b->words[4])) == 0;
}

/* Pipeline stage 1: start loading the flow's primary bucket header. */
static inline void sluice_ft_prefetch_bucket(const struct sluice_ft *ft, uint64_t hash)
{
	rte_prefetch0(&ft->buckets[(uint32_t)hash & ft->mask]);
}

/* Pipeline stage 2 (the header has arrived): start loading the entry the
 * lookup will compare; the alternate header when the flow may live there;
 * or, for a flow that is not there, the way an insert will write. */
static inline void sluice_ft_prefetch_entry(const struct sluice_ft *ft, uint64_t hash)
{
	uint32_t b = (uint32_t)hash & ft->mask;
	const struct sluice_ft_bucket *bk = &ft->buckets[b];
	uint16_t sig = sluice_ft_sig(hash);
	unsigned int m = sluice_ft_match(bk, sig);

	if (m) {
		rte_prefetch0(&ft->entries[(size_t)b * SLUICE_FT_WAYS + __builtin_ctz(m)]);
	} else if (bk->overflow) {
		rte_prefetch0(&ft->buckets[sluice_ft_alt(ft, b, sig)]);
	} else {
		/* A new flow: it will take the first free way, else (a full
		 * table) most likely the way the insert evicts: the soonest
		 * to expire of the flows whose primary is this bucket. The
		 * insert reads the alternate bucket when this one is full. */
		unsigned int free = sluice_ft_match(bk, 0), own = (uint8_t)~bk->alt, w = 0;

		if (free) {
			w = (unsigned int)__builtin_ctz(free);
		} else {
			if (!own)
				own = 0xff;
			w = (unsigned int)__builtin_ctz(own);
			for (unsigned int i = w + 1; i < SLUICE_FT_WAYS; i++)
				if ((own & (1u << i)) && (int32_t)(bk->expire[i] - bk->expire[w]) < 0)
					w = i;
			__builtin_prefetch(&ft->buckets[sluice_ft_alt(ft, b, sig)], 1, 3);
		}
		__builtin_prefetch(&ft->entries[(size_t)b * SLUICE_FT_WAYS + w], 1, 3);
	}
}

void sluice_ft_remove_way(struct sluice_ft *ft, uint32_t b, unsigned int w);

static inline struct sluice_ft_entry *sluice_ft_find_in(struct sluice_ft *ft, uint32_t b,
							uint16_t sig,
							const struct sluice_flow_key *key,
							uint32_t now)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];
	unsigned int m = sluice_ft_match(bk, sig);

	while (m) {
		unsigned int w = (unsigned int)__builtin_ctz(m);
		struct sluice_ft_entry *e = &ft->entries[(size_t)b * SLUICE_FT_WAYS + w];

		m &= m - 1;
		if (!sluice_ft_key_eq(&e->key, key))
			continue;
		if (sluice_ft_expired(bk->expire[w], now)) {
			/* A key lives in one way only: it is gone. */
			sluice_ft_remove_way(ft, b, w);
			ft->stats.expired++;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* Pipeline stage 3: the live entry of key, or NULL. hash is its
 * sluice_ft_hash, now from sluice_ft_now(). */
static inline struct sluice_ft_entry *sluice_ft_lookup(struct sluice_ft *ft,
						       const struct sluice_flow_key *key,
						       uint64_t hash, uint32_t now)
{
	uint32_t b = (uint32_t)hash & ft->mask;
	uint16_t sig = sluice_ft_sig(hash);
	struct sluice_ft_entry *e = sluice_ft_find_in(ft, b, sig, key, now);

	if (e || !ft->buckets[b].overflow)
		return e;
	return sluice_ft_find_in(ft, sluice_ft_alt(ft, b, sig), sig, key, now);
}

/* Read-only lookup for diagnostics (telemetry, from another thread while
 * the owner works: what it reads may be a moment old): the entry of key,
 * live or expired (*expire_out its expiry tick), or NULL. Frees nothing. */
static inline const struct sluice_ft_entry *sluice_ft_peek(const struct sluice_ft *ft,
							   const struct sluice_flow_key *key,
							   uint64_t hash, uint32_t *expire_out)
{
	uint32_t b = (uint32_t)hash & ft->mask;
	uint16_t sig = sluice_ft_sig(hash);

	for (int pass = 0; pass < 2; pass++, b = sluice_ft_alt(ft, b, sig)) {
		const struct sluice_ft_bucket *bk = &ft->buckets[b];

		for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++) {
			const struct sluice_ft_entry *e = &ft->entries[(size_t)b * SLUICE_FT_WAYS + w];

			if (bk->sig[w] == sig && sluice_ft_key_eq(&e->key, key)) {
				*expire_out = bk->expire[w];
				return e;
			}
		}
	}
	return NULL;
}

/* A hit: the flow was seen now; tcp_flags of this packet (0 for UDP) may
 * move it to the closing class (FIN/RST) or back (a new SYN). The expiry
 * is rewritten only when it has fallen more than 1/16 of the timeout
 * behind (timeouts are that precise): most hits leave the bucket's cache
 * line clean, which saves memory write-backs at high flow counts. */
static inline void sluice_ft_touch(struct sluice_ft *ft, struct sluice_ft_entry *e,
				   uint8_t tcp_flags, uint32_t now)
{
	size_t i = (size_t)(e - ft->entries);
	uint32_t *expire = &ft->buckets[i / SLUICE_FT_WAYS].expire[i % SLUICE_FT_WAYS];
	uint8_t cls = e->cls;
	uint32_t t;

	/* Only these flags can change the class (and only TCP has flags). */
	if (unlikely(tcp_flags & (SLUICE_TCP_FIN | SLUICE_TCP_RST | SLUICE_TCP_SYN))) {
		cls = sluice_flow_class(SLUICE_IPPROTO_TCP, tcp_flags, cls);
		if (cls != e->cls) {
			e->cls = cls;
			*expire = now + ft->timeout[cls];
			return;
		}
	}
	t = ft->timeout[cls];
	if ((int32_t)(now + t - *expire) > (int32_t)(t >> 4))
		*expire = now + t;
}

/* Insert key after a lookup missed. Always succeeds: frees an expired way
 * or evicts the soonest-expiring of the 16 candidate ways. The caller sets
 * backend_id and vip_id. */
struct sluice_ft_entry *sluice_ft_insert(struct sluice_ft *ft, const struct sluice_flow_key *key,
					 uint64_t hash, uint8_t cls, uint32_t now);

/* The clock hand: examine the next n buckets and free expired entries.
 * Returns the number freed. */
unsigned int sluice_ft_sweep(struct sluice_ft *ft, uint32_t now, uint32_t n);

#endif /* SLUICE_DP_FLOWTABLE_H */
