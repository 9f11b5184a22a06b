/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watching the data plane (sluice-dp) through its status region: attach
 * when it appears (it may start before or after sluiced, and restart with
 * a new region), read the lcores' heartbeats, and say when the data plane
 * goes stale and when it is back. What to do then (hand over to the XDP
 * path, or just log) is the owner's decision, through the hooks.
 */
#ifndef SLUICED_DPWATCH_H
#define SLUICED_DPWATCH_H

#include <event2/event.h>
#include <stdbool.h>

#include "sluice/shm.h"

struct dpwatch;

struct dpwatch_hooks {
	void *ctx;
	/* It was alive and is not any more, or never came within the grace
	 * period after start. why says which, in words. */
	void (*stale)(void *ctx, const char *why);
	/* It is alive (again). */
	void (*fresh)(void *ctx);
};

struct dpwatch_info {
	bool attached;		/* a status region is mapped */
	bool alive;		/* at least one live lcore */
	__u32 writer_pid;	/* sluice-dp's pid, from the region */
	unsigned int n_lcores;	/* lcores in the region */
	unsigned int live;	/* live lcores */
	bool has_age;
	__u64 age_ns;		/* since the freshest heartbeat */
	__u64 since_ns;		/* when alive last changed (CLOCK_MONOTONIC) */
};

struct dpwatch *dpwatch_create(struct event_base *base, const char *instance, __u64 stale_ns,
			       const struct dpwatch_hooks *hooks);
void dpwatch_destroy(struct dpwatch *dw);
void dpwatch_set_stale_ns(struct dpwatch *dw, __u64 stale_ns);

/* The mapped status region, or NULL. Valid until the next loop tick. */
const struct sluice_status_region *dpwatch_status(const struct dpwatch *dw);
void dpwatch_get_info(const struct dpwatch *dw, struct dpwatch_info *out);

/* Check now (also done by a timer every 100 ms). */
void dpwatch_poll(struct dpwatch *dw);

#endif /* SLUICED_DPWATCH_H */
