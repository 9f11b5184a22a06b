/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From the model to the data plane: keeps one compiled table per VIP,
 * recompiles only the VIPs marked changed, lays every VIP out in the
 * inactive snapshot slot, publishes it, and follows the lcores until all
 * live ones acknowledge the new generation. That span, from the first
 * change to the last acknowledgement, is the publish latency (last value
 * and a histogram). A publish that no live lcore had to acknowledge (no
 * data plane) is only counted: its span is compiling alone.
 *
 * A snapshot equal in every used part to the one in force is not
 * published: a restarted sluiced with an unchanged configuration moves no
 * flow, and no generation is spent on a change that changes nothing.
 *
 * Tables compile on a worker thread when the publisher has an event loop
 * (publisher.c says how the model stays the loop's alone).
 *
 * One publish is in flight at a time. Changes that arrive meanwhile are
 * collected and go out together once the lcores have caught up, so the
 * slot being rewritten is never one an lcore may still read.
 */
#ifndef SLUICED_PUBLISHER_H
#define SLUICED_PUBLISHER_H

#include <event2/event.h>
#include <stdbool.h>

#include "model.h"
#include "sluice/shm.h"

/* Upper bounds (µs) of the latency histogram's buckets; +Inf follows. */
#define PUB_HIST_BOUNDS_US                                                          \
	{ 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,     \
	  1000000 }
#define PUB_HIST_N 13

struct publisher;

struct publisher_hooks {
	void *ctx;
	/* The data plane's status region now, or NULL (nobody to wait for). */
	const struct sluice_status_region *(*status)(void *ctx);
	/* A new generation went out (before the acknowledgements). */
	void (*published)(void *ctx, const struct sluice_snapshot *snap, __u64 gen);
	/* Every change up to number seq (see publisher_seq()) is in force:
	 * published and acknowledged, or found to change nothing. */
	void (*done)(void *ctx, __u64 seq);
};

struct publisher_stats {
	__u64 generation;		/* in force */
	__u64 publishes;		/* by this process */
	__u64 unchanged;		/* rebuilt snapshots equal to the one in force */
	__u64 compiles;			/* VIP tables compiled */
	__u64 no_dataplane;		/* publishes with no live lcore to acknowledge */
	__u64 last_latency_ns;		/* change -> every live lcore on it */
	__u64 last_compile_ns;		/* of which compiling tables */
	__u64 last_fill_ns;		/* of which filling the slot */
	__u64 last_live_lcores;		/* lcores that acknowledged the last one */
	/* Latency of the publishes live lcores acknowledged only. */
	__u64 hist[PUB_HIST_N + 1];	/* cumulative counts are made by readers */
	__u64 hist_count;
	__u64 hist_sum_ns;
	bool busy;			/* a change or an acknowledgement is pending */
};

/* Compile one VIP's table exactly as the publisher does: the table
 * parameters from the VIP's settings, then sluice_vip_compile() (which
 * sorts backends[] by address and weighs each by its state). table has
 * room for cfg->table_size slots; *m gets that size, or 0 when no backend
 * takes new flows. A dry run of a change uses it, so that what it predicts
 * is what a publish would do. 0 or -errno with err. */
int publisher_compile_table(const struct conf_vip *cfg, struct sluice_backend *backends, size_t n,
			    __u16 *table, __u32 *m, char *err, size_t errlen);

/* m must outlive the publisher; cfg is the writable config region. */
struct publisher *publisher_create(struct event_base *base, struct sluice_config_region *cfg,
				   const struct model *m, const struct publisher_hooks *hooks);
void publisher_destroy(struct publisher *p);

void publisher_set_global(struct publisher *p, const struct sluice_global_cfg *g);
void publisher_set_stale_ns(struct publisher *p, __u64 stale_ns);

/* VIP id changed (or was removed from the model): recompile it and
 * publish, soon, from the event loop. */
void publisher_vip_changed(struct publisher *p, __u16 vip_id);
/* Publish soon even if no VIP changed (global settings). */
void publisher_touch(struct publisher *p);

/* The number of the last change reported (by publisher_vip_changed() or
 * publisher_touch()); hooks.done reports progress in these numbers, so a
 * caller can wait for its own change even while others keep coming. */
__u64 publisher_seq(const struct publisher *p);
/* The number of the last change in force. */
__u64 publisher_done_seq(const struct publisher *p);

/* Why change number seq is not in force yet, for a reply that gives up
 * waiting: true when it is published (as *gen, awaiting acknowledgements),
 * false when it still waits behind generation *gen. ids gets the DPDK
 * lcore ids of the live lcores that have not acknowledged *gen: *n of
 * them, at most max. */
bool publisher_pending(const struct publisher *p, __u64 seq, __u64 *gen, __u32 *ids,
		       unsigned int max, unsigned int *n);

/* Do the pending work now, without the event loop (start-up, benchmark):
 * compile, fill, publish. Returns 1 when a generation went out, 0 when
 * nothing had to, -EAGAIN when the previous generation is still being
 * acknowledged, -errno on failure. A publisher made with an event loop
 * compiles on its worker thread instead and returns -EINPROGRESS: the loop
 * publishes when the worker is done. */
int publisher_flush(struct publisher *p);
/* Check the acknowledgements of the generation in flight; returns true
 * when none is in flight any more (and records its latency). */
bool publisher_poll_ack(struct publisher *p);

void publisher_get_stats(const struct publisher *p, struct publisher_stats *out);
/* The histogram bucket bounds, in µs (PUB_HIST_N of them). */
const __u32 *publisher_hist_bounds_us(void);

#endif /* SLUICED_PUBLISHER_H */
