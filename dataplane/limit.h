/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A token bucket in TSC units (a token costs tsc_hz), one per lcore and
 * purpose: new-flow inserts, ICMP too-big replies, the exception path's
 * frames to and from the kernel. One writer each: no atomics.
 */
#ifndef SLUICE_DP_LIMIT_H
#define SLUICE_DP_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct sluice_dp_limit {
	uint64_t rate;	 /* tokens per second; 0: unlimited */
	uint64_t level;	 /* tokens * tsc_hz */
	uint64_t cap;	 /* most level may reach */
	uint64_t last;	 /* TSC of the last refill */
};

static inline void sluice_dp_limit_init(struct sluice_dp_limit *l, uint64_t rate, uint64_t hz,
					uint64_t now)
{
	/* Allow a tenth of a second's worth at once, at least one token. */
	uint64_t burst = rate / 10 ? rate / 10 : 1;

	l->rate = rate;
	l->cap = burst * hz;
	l->level = l->cap;
	l->last = now;
}

/* Whether a token is there, refilling first. The refill is lazy (only
 * when short), which is exact for a token bucket: the level only falls
 * between refills. */
static inline bool sluice_dp_limit_has(struct sluice_dp_limit *l, uint64_t hz, uint64_t now)
{
	if (l->rate == 0 || l->level >= hz)
		return true;
	uint64_t dt = now - l->last;

	if (dt > hz)
		dt = hz;
	l->level += dt * l->rate;
	if (l->level > l->cap)
		l->level = l->cap;
	l->last = now;
	return l->level >= hz;
}

/* Take a token if there is one. */
static inline bool sluice_dp_limit_take(struct sluice_dp_limit *l, uint64_t hz, uint64_t now)
{
	if (!sluice_dp_limit_has(l, hz, now))
		return false;
	if (l->rate)
		l->level -= hz;
	return true;
}

#endif /* SLUICE_DP_LIMIT_H */
