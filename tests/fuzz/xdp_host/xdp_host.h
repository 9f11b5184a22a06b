/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host side of the XDP program's host build (bpf/bpf_helpers.h here):
 * the maps' storage, behind the pointers the program passes to
 * bpf_map_lookup_elem, and the XDP frame the program runs on.
 *
 * Maps: each map variable of bpf/xdp_maps.h is registered with the sizes its
 * __uint/__type members carry (XDP_HOST_MAP). ARRAY: element key, or NULL
 * past max_entries. PERCPU_ARRAY: the element of "CPU 0" (the host has one).
 * ARRAY_OF_MAPS: the inner map set at key (an xdp_host_map, which the
 * program passes back to bpf_map_lookup_elem), or NULL.
 *
 * Frames: one page as a driver gives XDP, XDP_PACKET_HEADROOM before the
 * frame and the skb_shared_info tailroom after the end it may grow to,
 * mapped below 4 GiB (struct xdp_md's pointers are 32 bits) and followed by
 * a PROT_NONE page. Only [data, data_end) is addressable to ASan, so a read
 * or write by the program outside its frame is reported at once (before
 * data only from the 8-byte granule that holds data on: ASan's resolution).
 */
#ifndef SLUICE_XDP_HOST_H
#define SLUICE_XDP_HOST_H

#include <linux/bpf.h>
#include <stddef.h>

struct xdp_host_map {
	const void *var;	/* what the program passes: the map variable, or this */
	__u32 type;		/* BPF_MAP_TYPE_ARRAY, _PERCPU_ARRAY, _ARRAY_OF_MAPS */
	__u32 key_size, value_size, max_entries;
	size_t stride;		/* value_size rounded up to 8, as the kernel's arrays */
	unsigned char *values;	/* max_entries strides; of maps: struct xdp_host_map * */
};

/* The number an __uint(name, n) member stands for. */
#define XDP_HOST_N(member) ((__u32)(sizeof(*(member)) / sizeof(int)))

/* Register map variable m (declared as in bpf/xdp_maps.h): an ARRAY or
 * PERCPU_ARRAY with __type(value), or an ARRAY_OF_MAPS with __array(values). */
#define XDP_HOST_MAP(m)                                                                 \
	xdp_host_map_new(&(m), XDP_HOST_N((m).type), sizeof(*(m).key), sizeof(*(m).value), \
			 XDP_HOST_N((m).max_entries))
#define XDP_HOST_MAP_OF_MAPS(m)                                                  \
	xdp_host_map_new(&(m), XDP_HOST_N((m).type), sizeof(*(m).key), sizeof(void *), \
			 XDP_HOST_N((m).max_entries))
/* A new inner map for ARRAY_OF_MAPS m, as its template (__array(values,
 * ...)) but with n entries. */
#define XDP_HOST_INNER(m, n)                                                         \
	xdp_host_map_new(NULL, XDP_HOST_N((m).values[0]->type),                       \
			 XDP_HOST_N((m).values[0]->key_size), XDP_HOST_N((m).values[0]->value_size), \
			 (n))

/* A map of zeroed elements; var NULL: an inner map. Aborts when out of
 * memory or the type or key is not one this shim knows. */
struct xdp_host_map *xdp_host_map_new(const void *var, __u32 type, __u32 key_size,
				      __u32 value_size, __u32 max_entries);
/* The storage of element key (CPU 0's for a per-CPU map): for the harness
 * to write what the loader would, and to read counters. */
void *xdp_host_map_elem(struct xdp_host_map *m, __u32 key);
/* outer[key] = inner (NULL: delete). */
void xdp_host_map_set_inner(struct xdp_host_map *outer, __u32 key, struct xdp_host_map *inner);

/* What bpf_jiffies64 returns. */
extern __u64 xdp_host_jiffies;

#define XDP_HOST_HEADROOM 256	   /* XDP_PACKET_HEADROOM */
#define XDP_HOST_FRAME_SZ 4096	   /* a page a frame, as most drivers */
#define XDP_HOST_TAILROOM 320	   /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), x86-64 */
#define XDP_HOST_FRAME_HDR 40	   /* sizeof(struct xdp_frame): adjust_head's limit */
#define XDP_HOST_ETH_HLEN 14	   /* the shortest frame the adjust helpers leave */
#define XDP_HOST_MAX_LEN (XDP_HOST_FRAME_SZ - XDP_HOST_HEADROOM - XDP_HOST_TAILROOM)

struct xdp_host_frame {
	struct xdp_md md;	   /* first: the program's ctx */
	unsigned char *hard_start; /* the page */
	unsigned char *hard_end;   /* how far data_end may grow */
};

/* Map f's page (once). */
void xdp_host_frame_init(struct xdp_host_frame *f);
/* Receive len (<= XDP_HOST_MAX_LEN) bytes: data at the headroom. */
void xdp_host_frame_load(struct xdp_host_frame *f, const void *bytes, size_t len);
static inline unsigned char *xdp_host_data(const struct xdp_host_frame *f)
{
	return (unsigned char *)(unsigned long)f->md.data;
}
static inline unsigned char *xdp_host_data_end(const struct xdp_host_frame *f)
{
	return (unsigned char *)(unsigned long)f->md.data_end;
}

#endif /* SLUICE_XDP_HOST_H */
