/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow key and flow hash: the one definition shared by the DPDK data plane,
 * the XDP program and the control plane, so that every path picks the same
 * backend for the same packet.
 *
 * This header compiles for user space and for BPF (clang -target bpf): it
 * uses only <linux/types.h>, no libc, and no loops whose bound the verifier
 * has to discover.
 */
#ifndef SLUICE_FLOW_H
#define SLUICE_FLOW_H

#include <linux/types.h>

/* Hot-path helpers must inline in BPF (no calls) and in the data plane. */
#define SLUICE_INLINE inline __attribute__((always_inline))

/* Address families as stored in keys and addresses (not AF_* values, which
 * are a libc notion and differ between systems). */
#define SLUICE_FAMILY_V4 4
#define SLUICE_FAMILY_V6 6

/*
 * The flow key. Fixed layout, 40 bytes, both families:
 *  - addresses in network byte order; IPv4 uses bytes 0..3, bytes 4..15 are 0;
 *  - ports in network byte order; 0 and 0 for fragments and for protocols
 *    without ports, so those hash on the 3-tuple (protocol, source, dest);
 *  - pad is always 0.
 * The hash reads the key as five little-endian 64-bit words, exactly as
 * XXH64() reads the same 40 bytes.
 */
struct sluice_flow_key {
	union {
		struct {
			__u8 src[16];
			__u8 dst[16];
			__be16 sport;
			__be16 dport;
			__u8 proto;
			__u8 family;
			__u8 pad[2];
		};
		__u64 words[5];
	};
};

#define SLUICE_FLOW_KEY_SIZE 40

#if defined(__cplusplus)
static_assert(sizeof(struct sluice_flow_key) == SLUICE_FLOW_KEY_SIZE, "flow key size");
#else
_Static_assert(sizeof(struct sluice_flow_key) == SLUICE_FLOW_KEY_SIZE, "flow key layout is a contract");
_Static_assert(__builtin_offsetof(struct sluice_flow_key, sport) == 32, "flow key layout is a contract");
_Static_assert(__builtin_offsetof(struct sluice_flow_key, proto) == 36, "flow key layout is a contract");
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sluice_flow_hash assumes a little-endian host (as XXH64 reads bytes)"
#endif

/* XXH64 primes (from the XXH64 specification). */
#define SLUICE_XXH_P1 0x9E3779B185EBCA87ULL
#define SLUICE_XXH_P2 0xC2B2AE3D27D4EB4FULL
#define SLUICE_XXH_P3 0x165667B19E3779F9ULL
#define SLUICE_XXH_P4 0x85EBCA77C2B2AE63ULL
#define SLUICE_XXH_P5 0x27D4EB2F165667C5ULL

static SLUICE_INLINE __u64 sluice_rotl64(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static SLUICE_INLINE __u64 sluice_xxh64_round(__u64 acc, __u64 input)
{
	acc += input * SLUICE_XXH_P2;
	acc = sluice_rotl64(acc, 31);
	return acc * SLUICE_XXH_P1;
}

static SLUICE_INLINE __u64 sluice_xxh64_merge(__u64 acc, __u64 val)
{
	acc ^= sluice_xxh64_round(0, val);
	return acc * SLUICE_XXH_P1 + SLUICE_XXH_P4;
}

/*
 * XXH64(key, 40, seed), unrolled for the fixed 40-byte key: one 32-byte
 * stripe and one 8-byte tail. Equal to libxxhash's XXH64 for the same bytes
 * (tests/unit/flow_hash_test.c and tests/bpf/flow_hash_bpf_test.c prove
 * it).
 */
static SLUICE_INLINE __u64 sluice_flow_hash(const struct sluice_flow_key *key, __u64 seed)
{
	__u64 v1 = seed + SLUICE_XXH_P1 + SLUICE_XXH_P2;
	__u64 v2 = seed + SLUICE_XXH_P2;
	__u64 v3 = seed;
	__u64 v4 = seed - SLUICE_XXH_P1;
	__u64 h;

	v1 = sluice_xxh64_round(v1, key->words[0]);
	v2 = sluice_xxh64_round(v2, key->words[1]);
	v3 = sluice_xxh64_round(v3, key->words[2]);
	v4 = sluice_xxh64_round(v4, key->words[3]);

	h = sluice_rotl64(v1, 1) + sluice_rotl64(v2, 7) + sluice_rotl64(v3, 12) +
	    sluice_rotl64(v4, 18);
	h = sluice_xxh64_merge(h, v1);
	h = sluice_xxh64_merge(h, v2);
	h = sluice_xxh64_merge(h, v3);
	h = sluice_xxh64_merge(h, v4);

	h += SLUICE_FLOW_KEY_SIZE;

	h ^= sluice_xxh64_round(0, key->words[4]);
	h = sluice_rotl64(h, 27) * SLUICE_XXH_P1 + SLUICE_XXH_P4;

	h ^= h >> 33;
	h *= SLUICE_XXH_P2;
	h ^= h >> 29;
	h *= SLUICE_XXH_P3;
	h ^= h >> 32;
	return h;
}

/* Key builders: they zero what the layout says is zero, so that two paths
 * that saw the same packet build the same 40 bytes. */
static SLUICE_INLINE void sluice_flow_key_v4(struct sluice_flow_key *key, __be32 saddr,
					       __be32 daddr, __u8 proto, __be16 sport,
					       __be16 dport)
{
	key->words[0] = 0;
	key->words[1] = 0;
	key->words[2] = 0;
	key->words[3] = 0;
	key->words[4] = 0;
	__builtin_memcpy(key->src, &saddr, 4);
	__builtin_memcpy(key->dst, &daddr, 4);
	key->sport = sport;
	key->dport = dport;
	key->proto = proto;
	key->family = SLUICE_FAMILY_V4;
}

static SLUICE_INLINE void sluice_flow_key_v6(struct sluice_flow_key *key, const __u8 *saddr,
					       const __u8 *daddr, __u8 proto, __be16 sport,
					       __be16 dport)
{
	__builtin_memcpy(key->src, saddr, 16);
	__builtin_memcpy(key->dst, daddr, 16);
	key->sport = sport;
	key->dport = dport;
	key->proto = proto;
	key->family = SLUICE_FAMILY_V6;
	key->pad[0] = 0;
	key->pad[1] = 0;
}

#endif /* SLUICE_FLOW_H */
