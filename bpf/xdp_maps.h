/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * The XDP program's maps. The loader pins every one of them by name under
 * /sys/fs/bpf/sluice/<instance>/ and reuses them when it loads the program
 * again (a restarted sluiced keeps the flows). Keys and values are in
 * xdp_abi.h; docs/xdp.md says who writes what, in which order.
 */
#ifndef SLUICE_XDP_MAPS_H
#define SLUICE_XDP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_abi.h"

/* Global settings and the VIP index, two versions each; cfg_sel names
 * the one in force (xdp_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sluice_xdp_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_xdp_cfg_sel);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cfg_sel SEC(".maps");

/* (address, port, protocol) -> VIP: version v at [v * SIZE, (v+1) * SIZE). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SLUICE_XDP_VIP_INDEX_SIZE);
	__type(key, __u32);
	__type(value, struct sluice_xdp_vip_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vip_index SEC(".maps");

/* One VIP's lookup table. BPF_F_INNER_MAP: tables of different sizes fit
 * the same outer map. max_entries here only describes the template. Sizes
 * rather than types: clang 14 leaves the union a forward declaration in
 * the BTF of an inner-map template. */
struct sluice_xdp_table_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(union sluice_xdp_table_entry));
};

/* VIP id -> its table; the loader replaces an entry with a new, frozen
 * map: a packet sees the old table or the new one, never a mix. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SLUICE_MAX_VIPS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sluice_xdp_table_map); /* last: a flexible array */
} tables SEC(".maps");

/* Backends by stable id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLUICE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct sluice_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backends SEC(".maps");

/* Connection tracking: SLUICE_XDP_FLOW_SETS sets shared by every CPU,
 * soonest-to-expire replaced within a flow's two sets (xdp_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SLUICE_XDP_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct sluice_xdp_flow_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/* Counters: named ones and per-VIP pairs (one per-CPU element) ... */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_xdp_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* The flood guard's budget per CPU (xdp_abi.h). Not pinned: a reloaded
 * program starts with a full bucket, as a restarted sluice-dp does. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_xdp_syn_budget);
} syn_budget SEC(".maps");

/* ... and per-backend pairs by backend id (packets and bytes sent). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct sluice_counter_pair);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backend_stats SEC(".maps");

#endif /* SLUICE_XDP_MAPS_H */
