/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host versions of the BPF helpers the XDP program calls, over the maps
 * and the frame of xdp_host.h. The bounds of bpf_xdp_adjust_head/_tail are
 * the kernel's (net/core/filter.c): the start may not come within
 * sizeof(struct xdp_frame) of the buffer, the end may not pass frame_sz
 * less the skb_shared_info tailroom, and a frame keeps an Ethernet
 * header's 14 bytes; grown bytes are zeroed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sanitizer/asan_interface.h>

#include "xdp_host.h"
#include "bpf/bpf_helpers.h"

#define MAX_MAPS 64

static struct xdp_host_map *registry[MAX_MAPS];
static unsigned int n_registered;

__u64 xdp_host_jiffies;

static void die(const char *what)
{
	fprintf(stderr, "xdp_host: %s\n", what);
	abort();
}

struct xdp_host_map *xdp_host_map_new(const void *var, __u32 type, __u32 key_size,
				      __u32 value_size, __u32 max_entries)
{
	struct xdp_host_map *m = calloc(1, sizeof(*m));

	if (!m || n_registered == MAX_MAPS)
		die("out of map slots");
	if (type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY &&
	    type != BPF_MAP_TYPE_ARRAY_OF_MAPS)
		die("a map type the shim does not know");
	if (key_size != sizeof(__u32) || !value_size || !max_entries)
		die("an array map needs a 4-byte key and a value");
	m->var = var ? var : m;
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;
	m->stride = (value_size + 7u) & ~(size_t)7;
	m->values = calloc(max_entries, m->stride);
	if (!m->values)
		die("out of memory");
	registry[n_registered++] = m;
	return m;
}

void *xdp_host_map_elem(struct xdp_host_map *m, __u32 key)
{
	if (key >= m->max_entries)
		return NULL;
	return m->values + (size_t)key * m->stride;
}

void xdp_host_map_set_inner(struct xdp_host_map *outer, __u32 key, struct xdp_host_map *inner)
{
	struct xdp_host_map **slot = xdp_host_map_elem(outer, key);

	if (outer->type != BPF_MAP_TYPE_ARRAY_OF_MAPS || !slot)
		die("set_inner: not a map of maps, or key out of range");
	*slot = inner;
}

void *bpf_map_lookup_elem(void *map, const void *key)
{
	struct xdp_host_map *m = NULL;
	__u32 k;

	for (unsigned int i = 0; i < n_registered && !m; i++)
		if (registry[i]->var == map)
			m = registry[i];
	if (!m)
		die("bpf_map_lookup_elem on a map nobody registered");
	memcpy(&k, key, sizeof(k));
	if (m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		struct xdp_host_map **inner = xdp_host_map_elem(m, k);

		return inner ? *inner : NULL;
	}
	return xdp_host_map_elem(m, k);
}

__u64 bpf_jiffies64(void)
{
	return xdp_host_jiffies;
}

/* ---- the frame ---- */

/* Only [data, data_end) addressable. */
static void frame_fence(struct xdp_host_frame *f)
{
	ASAN_POISON_MEMORY_REGION(f->hard_start, XDP_HOST_FRAME_SZ);
	ASAN_UNPOISON_MEMORY_REGION(xdp_host_data(f), xdp_host_data_end(f) - xdp_host_data(f));
}

void xdp_host_frame_init(struct xdp_host_frame *f)
{
	unsigned char *p = mmap(NULL, 2 * XDP_HOST_FRAME_SZ, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED || (uintptr_t)p + 2 * XDP_HOST_FRAME_SZ > UINT32_MAX)
		die("cannot map a frame below 4 GiB");
	if (mprotect(p + XDP_HOST_FRAME_SZ, XDP_HOST_FRAME_SZ, PROT_NONE) < 0)
		die("cannot protect the frame's guard page");
	memset(f, 0, sizeof(*f));
	f->hard_start = p;
	f->hard_end = p + XDP_HOST_FRAME_SZ - XDP_HOST_TAILROOM;
}

void xdp_host_frame_load(struct xdp_host_frame *f, const void *bytes, size_t len)
{
	unsigned char *data = f->hard_start + XDP_HOST_HEADROOM;

	if (len > XDP_HOST_MAX_LEN)
		die("frame too long");
	f->md.data = (__u32)(uintptr_t)data;
	f->md.data_end = (__u32)(uintptr_t)(data + len);
	f->md.data_meta = f->md.data;
	frame_fence(f);
	memcpy(data, bytes, len);
}

/* In address arithmetic: a delta may point far outside the page. */
long bpf_xdp_adjust_head(struct xdp_md *ctx, int delta)
{
	struct xdp_host_frame *f = (struct xdp_host_frame *)ctx;
	long data = (long)f->md.data + delta;

	if (data < (long)(uintptr_t)f->hard_start + XDP_HOST_FRAME_HDR ||
	    data > (long)f->md.data_end - XDP_HOST_ETH_HLEN)
		return -EINVAL;
	f->md.data = (__u32)data;
	f->md.data_meta = f->md.data;
	frame_fence(f);
	return 0;
}

long bpf_xdp_adjust_tail(struct xdp_md *ctx, int delta)
{
	struct xdp_host_frame *f = (struct xdp_host_frame *)ctx;
	unsigned char *old_end = xdp_host_data_end(f);
	long end = (long)f->md.data_end + delta;

	if (end > (long)(uintptr_t)f->hard_end || end < (long)f->md.data + XDP_HOST_ETH_HLEN)
		return -EINVAL;
	f->md.data_end = (__u32)end;
	frame_fence(f);
	if (delta > 0)
		memset(old_end, 0, (size_t)delta);
	return 0;
}
