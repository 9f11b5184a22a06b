/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * <bpf/bpf_helpers.h> for the host build of the XDP program (fuzz_xdp: its
 * include directory comes before the system's, for that executable only).
 * The map declarations of bpf/xdp_maps.h keep their libbpf meaning: each
 * __uint/__type/__array makes a typed member, so a map variable is an
 * ordinary host global whose members' types carry its type, sizes and
 * max_entries (xdp_host.h reads them back). SEC() places nothing. The
 * helpers the program calls are host functions (xdp_host.c).
 */
#ifndef SLUICE_XDP_HOST_BPF_HELPERS_H
#define SLUICE_XDP_HOST_BPF_HELPERS_H

#include <linux/types.h>

#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

#define SEC(name)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __weak __attribute__((weak))
#define __kconfig /* the harness defines the kconfig values it needs */

enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	LIBBPF_PIN_BY_NAME,
};

struct xdp_md;

/* The element of key in map (a map variable, or an inner map that an
 * ARRAY_OF_MAPS lookup returned), or NULL. */
void *bpf_map_lookup_elem(void *map, const void *key);
/* Move the frame's start (end) by delta bytes, within the kernel's bounds;
 * 0 or -EINVAL. */
long bpf_xdp_adjust_head(struct xdp_md *ctx, int delta);
long bpf_xdp_adjust_tail(struct xdp_md *ctx, int delta);
__u64 bpf_jiffies64(void);

#endif /* SLUICE_XDP_HOST_BPF_HELPERS_H */
