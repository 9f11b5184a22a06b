/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore flow table (connection tracking): flow -> backend id.
 *
 * Layout. Buckets of 4 ways, each bucket one cache line holding all there
 * is to know about its flows: per way a 48-bit fingerprint of the flow (a
 * 16-bit signature and 32 more bits of the flow's table hash), its expiry
 * tick, class, backend and VIP ids. A lookup reads one line (the XDP
 * path's table does the same, bpf/xdp_abi.h); the key itself is not kept.
 * Two flows of one bucket are told apart by their fingerprints; for a
 * flow to be taken for another, both would need the same 64-bit table
 * hash but for the bucket bits (by chance 1 in 2^45 per pair at 2^19
 * buckets, 1 in 2^37 at 2^27). Not by design, though: sluice_ft_hash is
 * not keyed in every word, and flipping bit 63 of two key words cancels
 * in its XOR of products whatever the seed: a sender who knows a flow's
 * 5-tuple can, from (or spoofing) an address two bits away, send packets
 * that hit that flow's entry. They go to its backend and update its class
 * (a RST makes it a closing flow, which expires sooner; the flow is then
 * picked again by the table, the same backend unless the table changed).
 * The XDP path's flow id has the same shape. A secret per-table key in
 * every word is the fix (not done yet). A flow has two
 * candidate buckets: its primary (low bits of the hash) and an alternate
 * derived from the primary and the signature (b ^ f(sig), as in
 * partial-key cuckoo hashing), so an entry in either bucket can find the
 * other from its own line. A primary counts how many of its flows live
 * in their alternate (overflow); lookups only read the alternate when that
 * count is not zero, which at the sizes we choose is rare.
 *
 * Bounded: the table never grows. Sized for at most 50 % load at the
 * configured number of flows (4-way buckets with one level of
 * displacement start to evict at ~75 %); when both candidate buckets of a new flow are
 * full of live entries (and one level of displacement finds no room), the
 * entry that expires soonest is evicted (LRU, with shorter timeouts after
 * FIN/RST weighing in), preferring the flows whose primary is the new
 * flow's primary bucket while they expire within 1/16 of the TCP timeout
 * of the soonest of all 8 candidates (flowtable.c says why).
 * Inserting never fails and never loops.
 *
 * Idle timeouts: each entry carries its expiry tick (coarse TSC); a hit
 * pushes it forward by its class's timeout (TCP, UDP, closing after
 * FIN/RST). Lookups treat an expired entry as absent; a clock hand
 * (sluice_ft_sweep) walks the buckets a few at a time and frees expired
 * entries so that counts stay true and ticks never wrap unseen.
 *
 * Entries are named by slot (bucket * SLUICE_FT_WAYS + way), valid until
 * the next insert or sweep.
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

#define SLUICE_FT_WAYS 4
#define SLUICE_FT_MIN_FLOWS 16u
#define SLUICE_FT_MAX_FLOWS (1u << 28)
#define SLUICE_FT_MAX_TIMEOUT_S 86400u /* keeps expiry ticks far from wrapping */
#define SLUICE_FT_MISS UINT32_MAX	/* no slot */

/* One idle timeout per class (include/sluice/consts.h). */
#define SLUICE_FT_NCLASS SLUICE_FLOW_NCLASS
_Static_assert(SLUICE_FT_NCLASS <= 4, "a way keeps its class in 2 bits");

struct sluice_ft_bucket {
	uint32_t fp[SLUICE_FT_WAYS];	     /* bits 16..47 of the way's flow's hash */
	uint32_t expire[SLUICE_FT_WAYS];     /* tick at which the way's flow expires */
	uint16_t sig[SLUICE_FT_WAYS];	     /* bits 48..63 (never 0); 0: way is free */
	uint16_t backend_id[SLUICE_FT_WAYS]; /* stable backend id (shm.h) */
	uint16_t vip_id[SLUICE_FT_WAYS];     /* VIP it was matched to when inserted */
	uint16_t overflow;		     /* flows whose primary is this bucket, living in their alternate */
	uint8_t alt;			     /* bit w: way w holds a flow whose primary is the other bucket */
	uint8_t cls;			     /* 2 bits per way: enum sluice_flow_class */
	uint8_t pad[4];
} __rte_cache_aligned;

_Static_assert(sizeof(struct sluice_ft_bucket) == 64, "a bucket is one cache line");

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
	return sizeof(*ft) + ((uint64_t)ft->mask + 1) * sizeof(struct sluice_ft_bucket);
}

/*
 * Where a flow lives in the table, and its fingerprint there: a hash of the
 * key and the VIP's seed (a seed change re-picks the VIP's flows, as in the
 * XDP path, whose flow ids mix the seed in too). Cheap enough for every
 * packet: the five key words multiplied by distinct odd constants
 * (independent multiplies that run in parallel), then mixed, the shape of
 * the XDP table's flow id. Bucket from the low bits, fingerprint from the
 * high 48. The flow hash proper (XXH64 with the VIP's seed, which picks
 * the table slot, GUE's source port and the outer IPv6 flow label) costs
 * ~90 instructions: it is computed for new and re-picked flows, and for
 * established ones only when their encapsulation needs it.
 */
static inline uint64_t sluice_ft_hash(const struct sluice_flow_key *k, uint64_t seed)
{
	uint64_t x = ((k->words[0] ^ seed) * 0x9E3779B97F4A7C15ull) ^
		     (k->words[1] * 0xC2B2AE3D27D4EB4Full) ^ (k->words[2] * 0x165667B19E3779F9ull) ^
		     (k->words[3] * 0x85EBCA77C2B2AE63ull) ^
		     ((k->words[4] + seed) * 0x27D4EB2F165667C5ull);

	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 29);
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

static inline uint32_t sluice_ft_fp(uint64_t hash)
{
	return (uint32_t)(hash >> 16);
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
	__m128i s = _mm_loadl_epi64((const __m128i *)bk->sig);
	__m128i eq = _mm_cmpeq_epi16(s, _mm_set1_epi16((short)sig));

	/* One bit per byte: keep every other one, of the 4 ways loaded. */
	return (unsigned int)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128())) & 0xf;
#else
	unsigned int m = 0;

	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++)
		m |= (unsigned int)(bk->sig[w] == sig) << w;
	return m;
#endif
}

/* Ways of bk that hold the flow of hash (signature and fingerprint). */
static inline unsigned int sluice_ft_match_flow(const struct sluice_ft_bucket *bk, uint64_t hash)
{
	uint32_t fp = sluice_ft_fp(hash);
#ifdef __SSE2__
	__m128i eq = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)bk->fp),
				     _mm_set1_epi32((int)fp));
	unsigned int m = (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(eq));
#else
	unsigned int m = 0;

	for (unsigned int w = 0; w < SLUICE_FT_WAYS; w++)
		m |= (unsigned int)(bk->fp[w] == fp) << w;
#endif
	return m & sluice_ft_match(bk, sluice_ft_sig(hash));
}

/* Pipeline stage 1: start loading the flow's primary bucket. */
static inline void sluice_ft_prefetch_bucket(const struct sluice_ft *ft, uint64_t hash)
{
	rte_prefetch0(&ft->buckets[(uint32_t)hash & ft->mask]);
}

/* Pipeline stage 2 (the primary has arrived): start loading the alternate
 * when the flow may live there, or when a new flow's insert will read it
 * (its primary is full). */
static inline void sluice_ft_prefetch_entry(const struct sluice_ft *ft, uint64_t hash)
{
	uint32_t b = (uint32_t)hash & ft->mask;
	const struct sluice_ft_bucket *bk = &ft->buckets[b];

	if (!sluice_ft_match_flow(bk, hash) && (bk->overflow || !sluice_ft_match(bk, 0)))
		rte_prefetch0(&ft->buckets[sluice_ft_alt(ft, b, sluice_ft_sig(hash))]);
}

void sluice_ft_remove_way(struct sluice_ft *ft, uint32_t b, unsigned int w);

static inline uint32_t sluice_ft_find_in(struct sluice_ft *ft, uint32_t b, uint64_t hash,
					 uint32_t now)
{
	struct sluice_ft_bucket *bk = &ft->buckets[b];
	unsigned int m = sluice_ft_match_flow(bk, hash), w;

	if (!m)
		return SLUICE_FT_MISS;
	w = (unsigned int)__builtin_ctz(m);
	if (sluice_ft_expired(bk->expire[w], now)) {
		/* A flow lives in one way only: it is gone. */
		sluice_ft_remove_way(ft, b, w);
		ft->stats.expired++;
		return SLUICE_FT_MISS;
	}
	return b * SLUICE_FT_WAYS + w;
}

/* Pipeline stage 3: the slot of the flow's live entry, or SLUICE_FT_MISS.
 * hash is the flow's sluice_ft_hash, now from sluice_ft_now(). */
static inline uint32_t sluice_ft_lookup(struct sluice_ft *ft, uint64_t hash, uint32_t now)
{
	uint32_t b = (uint32_t)hash & ft->mask;
	uint32_t e = sluice_ft_find_in(ft, b, hash, now);

	if (e != SLUICE_FT_MISS || !ft->buckets[b].overflow)
		return e;
	return sluice_ft_find_in(ft, sluice_ft_alt(ft, b, sluice_ft_sig(hash)), hash, now);
}

/* Read-only lookup for diagnostics (telemetry, from another thread while
 * the owner works: what it reads may be a moment old): the slot of the
 * flow, live or expired (*expire_out its expiry tick), or SLUICE_FT_MISS.
 * Frees nothing. */
static inline uint32_t sluice_ft_peek(const struct sluice_ft *ft, uint64_t hash,
				      uint32_t *expire_out)
{
	uint32_t b = (uint32_t)hash & ft->mask;

	for (int pass = 0; pass < 2; pass++, b = sluice_ft_alt(ft, b, sluice_ft_sig(hash))) {
		unsigned int m = sluice_ft_match_flow(&ft->buckets[b], hash);

		if (m) {
			unsigned int w = (unsigned int)__builtin_ctz(m);

			*expire_out = ft->buckets[b].expire[w];
			return b * SLUICE_FT_WAYS + w;
		}
	}
	return SLUICE_FT_MISS;
}

/* What an entry holds. */
static inline uint16_t sluice_ft_backend(const struct sluice_ft *ft, uint32_t slot)
{
	return ft->buckets[slot / SLUICE_FT_WAYS].backend_id[slot % SLUICE_FT_WAYS];
}

static inline uint16_t sluice_ft_vip(const struct sluice_ft *ft, uint32_t slot)
{
	return ft->buckets[slot / SLUICE_FT_WAYS].vip_id[slot % SLUICE_FT_WAYS];
}

static inline uint8_t sluice_ft_cls(const struct sluice_ft *ft, uint32_t slot)
{
	return (uint8_t)(ft->buckets[slot / SLUICE_FT_WAYS].cls >> (slot % SLUICE_FT_WAYS * 2) & 3);
}

/* The entry's flow goes to backend_id, picked for VIP vip_id. */
static inline void sluice_ft_set(struct sluice_ft *ft, uint32_t slot, uint16_t backend_id,
				 uint16_t vip_id)
{
	ft->buckets[slot / SLUICE_FT_WAYS].backend_id[slot % SLUICE_FT_WAYS] = backend_id;
	ft->buckets[slot / SLUICE_FT_WAYS].vip_id[slot % SLUICE_FT_WAYS] = vip_id;
}

static inline void sluice_ft_set_cls(struct sluice_ft_bucket *bk, unsigned int w, uint8_t cls)
{
	bk->cls = (uint8_t)((bk->cls & ~(3u << (w * 2))) | (unsigned int)cls << (w * 2));
}

/* A hit: the flow was seen now; tcp_flags of this packet (0 for UDP) may
 * move it to the closing class (FIN/RST) or back (a new SYN). The expiry
 * is rewritten only when it has fallen more than 1/16 of the timeout
 * behind (timeouts are that precise): most hits leave the bucket's cache
 * line clean, which saves memory write-backs at high flow counts. */
static inline void sluice_ft_touch(struct sluice_ft *ft, uint32_t slot, uint8_t tcp_flags,
				   uint32_t now)
{
	struct sluice_ft_bucket *bk = &ft->buckets[slot / SLUICE_FT_WAYS];
	unsigned int w = slot % SLUICE_FT_WAYS;
	uint32_t *expire = &bk->expire[w];
	uint8_t cls = sluice_ft_cls(ft, slot);
	uint32_t t;

	/* Only these flags can change the class (and only TCP has flags). */
	if (unlikely(tcp_flags & (SLUICE_TCP_FIN | SLUICE_TCP_RST | SLUICE_TCP_SYN))) {
		uint8_t c = sluice_flow_class(SLUICE_IPPROTO_TCP, tcp_flags, cls);

		if (c != cls) {
			sluice_ft_set_cls(bk, w, c);
			*expire = now + ft->timeout[c];
			return;
		}
	}
	t = ft->timeout[cls];
	if ((int32_t)(now + t - *expire) > (int32_t)(t >> 4))
		*expire = now + t;
}

/* Insert the flow of hash after a lookup missed; its slot. Always
 * succeeds: frees an expired way or evicts the soonest-expiring of the 8
 * candidate ways. The caller sets the backend and VIP (sluice_ft_set). */
uint32_t sluice_ft_insert(struct sluice_ft *ft, uint64_t hash, uint8_t cls, uint32_t now);

/* The clock hand: examine the next n buckets and free expired entries.
 * Returns the number freed. */
unsigned int sluice_ft_sweep(struct sluice_ft *ft, uint32_t now, uint32_t n);

#endif /* SLUICE_DP_FLOWTABLE_H */
