/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * Test-only XDP program: runs the BPF build of sluice_flow_hash() so that
 * tests/bpf/flow_hash_bpf_test.c can compare it with libxxhash's XXH64.
 *
 * Packet in (through BPF_PROG_TEST_RUN, not a wire format):
 *   bytes  0..39  struct sluice_flow_key
 *   bytes 40..47  seed, little-endian
 *   bytes 48..55  overwritten with sluice_flow_hash(key, seed), little-endian
 * Returns XDP_PASS, or XDP_ABORTED if the packet is shorter than 56 bytes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice/flow.h"

#define SEED_OFF SLUICE_FLOW_KEY_SIZE /* 40 */
#define HASH_OFF (SEED_OFF + 8)       /* 48 */
#define PKT_LEN	 (HASH_OFF + 8)       /* 56 */

SEC("xdp")
int flow_hash_test(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sluice_flow_key key;
	__u64 seed, hash;

	/* key and seed */
	if (data + HASH_OFF > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&key, data, sizeof(key));
	__builtin_memcpy(&seed, data + SEED_OFF, sizeof(seed));

	hash = sluice_flow_hash(&key, seed);

	/* room for the result */
	if (data + PKT_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data + HASH_OFF, &hash, sizeof(hash));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
