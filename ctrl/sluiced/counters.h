/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic counters as operators see them: per VIP and per backend, packets
 * and bytes summed over the data plane's lcores and the XDP path, and
 * rates from samples taken once a second. The data paths count per lcore
 * (or per CPU) without sharing a cache line; the sums are made here, on
 * the slow path.
 */
#ifndef SLUICED_COUNTERS_H
#define SLUICED_COUNTERS_H

#include <event2/event.h>
#include <stdbool.h>

#include "dpwatch.h"
#include "sluice/shm.h"
#include "xdp.h"

struct counters;

/* Packets and bytes, and their rates per second over the last sample. */
struct counter_view {
	__u64 packets;
	__u64 bytes;
	double pps;
	double bps; /* bytes per second */
};

struct counters *counters_create(struct event_base *base, const struct dpwatch *dw,
				 struct xdpctl *xdp);
void counters_destroy(struct counters *c);

void counters_vip(const struct counters *c, __u16 id, struct counter_view *out);
void counters_backend(const struct counters *c, __u16 id, struct counter_view *out);
/* The per-lcore counters summed over every lcore (and the XDP path). */
void counters_total(const struct counters *c, struct sluice_lcore_counters *out);
/* The XDP path's counters as last read, or NULL when it never ran. */
const struct sluice_lcore_status *counters_xdp(const struct counters *c);

/* Take a sample now (also done by a timer every second). */
void counters_sample(struct counters *c);

#endif /* SLUICED_COUNTERS_H */
