/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * Benchmark-only wrappers (bench/xdp_bench.c): BPF_PROG_TEST_RUN with
 * repeat > 1 runs a program again on the frame its previous run rewrote.
 * Each wrapper therefore first restores the frame (moves data back to
 * where the original frame started, rewrites its 64 bytes from a template
 * and, for the flow scenarios, patches in the next client's source address)
 * and only then does its work:
 *
 *   bench_floor   restore, return XDP_TX          (the floor of the method)
 *   bench_adjust  restore, grow the head by 20, return XDP_TX
 *                 (calibrates what restoring a grown frame adds)
 *   bench_lb      restore, then exactly sluice_xdp's code (xdp_lb.h)
 *   bench_ref     no restore (it rewrites nothing): one hit in a BPF hash
 *                 map, the reference that makes figures comparable across
 *                 runs on a host whose speed drifts
 *
 * The loader's pinned maps are reused (open with the instance's pin root),
 * so bench_lb sees what the loader published.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_lb.h"

#define BENCH_FRAME 64

enum bench_scenario {
	BENCH_SAME = 0,	       /* the template as is */
	BENCH_NEW_FLOWS = 1,   /* a new client in every run */
	BENCH_CYCLE_FLOWS = 2, /* clients 0 .. nflows-1 in turn */
};

struct bench_cfg {
	__u8 frame[BENCH_FRAME]; /* the template, an IPv4 frame */
	__u32 scenario;		 /* enum bench_scenario */
	__u32 nflows_mask;	 /* cycle: nflows - 1 (a power of two) */
	__u64 counter;		 /* runs so far */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_cfg);
} bench SEC(".maps");

/* Put the frame back as the template says; 0 or -1. */
static SLUICE_INLINE int restore(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int grown = (int)(data_end - data) - BENCH_FRAME;
	struct bench_cfg *b;
	__u32 zero = 0, n;
	__u8 *f;

	if (grown && bpf_xdp_adjust_head(ctx, grown))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + BENCH_FRAME > data_end)
		return -1;
	b = bpf_map_lookup_elem(&bench, &zero);
	if (!b)
		return -1;
	__builtin_memcpy(data, b->frame, BENCH_FRAME);
	if (b->scenario == BENCH_SAME)
		return 0;
	n = (__u32)b->counter++;
	if (b->scenario == BENCH_CYCLE_FLOWS)
		n &= b->nflows_mask;
	else
		n += b->nflows_mask + 1; /* after the clients of the cycle */
	f = data;
	/* Source 10.n2.n1.n0 (IPv4 source at 14 + 12). */
	f[27] = (__u8)(n >> 16);
	f[28] = (__u8)(n >> 8);
	f[29] = (__u8)n;
	return 0;
}

/* The reference: one entry, key 1 (the bench fills it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} bench_ref_map SEC(".maps");

SEC("xdp")
int bench_ref(struct xdp_md *ctx)
{
	__u32 key = 1;

	(void)ctx;
	return bpf_map_lookup_elem(&bench_ref_map, &key) ? XDP_TX : XDP_ABORTED;
}

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	if (restore(ctx) < 0)
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("xdp")
int bench_adjust(struct xdp_md *ctx)
{
	if (restore(ctx) < 0 || bpf_xdp_adjust_head(ctx, -20))
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("xdp")
int bench_lb(struct xdp_md *ctx)
{
	if (restore(ctx) < 0)
		return XDP_ABORTED;
	return sluice_xdp_process(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
