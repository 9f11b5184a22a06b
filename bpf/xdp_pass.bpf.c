/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/* `return XDP_PASS;`. A veth only receives the frames its peer sends with
 * XDP_TX (or redirects to it) when it runs an XDP program itself: the
 * namespace tests put this one on the router's side of the load
 * balancer's veth (docs/xdp.md, "testing on veth"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
