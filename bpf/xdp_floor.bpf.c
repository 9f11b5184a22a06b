/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/* The floor of the XDP benchmark (bench/xdp_bench.c): the cheapest program
 * that sends a frame back out. What BPF_PROG_TEST_RUN itself costs per
 * call is measured with it and subtracted from sluice_xdp's figures. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_floor(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
