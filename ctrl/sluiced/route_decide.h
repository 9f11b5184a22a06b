/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether one VIP address should be announced: a pure function of the
 * host's drain, the data path's state and its VIPs' backend counts, so
 * that tests can walk every case (tests/unit/test_route_decide.c).
 *
 * An address is announced while any of its VIPs (ports, protocols) can be
 * served: a route is per address, and withdrawing it because one port's
 * backends failed would take every healthy service on the other ports
 * away with it. An address that must go when any of its services fails
 * is one VIP on an address of its own.
 *
 * What is not known yet (the data plane's heartbeat in the first seconds,
 * backends that have not had their first check) neither adds nor removes
 * a route: the one there stays, an absent one stays absent. So a restart
 * does not withdraw what an earlier sluiced announced, and a start does
 * not announce what nobody has checked.
 */
#ifndef SLUICED_ROUTE_DECIDE_H
#define SLUICED_ROUTE_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

enum route_dp {
	ROUTE_DP_UNKNOWN = 0,	/* not heard of yet: the start's grace */
	ROUTE_DP_UP,		/* a data path forwards */
	ROUTE_DP_DOWN,		/* none does, and no fallback took over */
};

/* Why an address is (not) announced. */
enum route_reason {
	ROUTE_SERVED = 0,	/* announced: a VIP can be served */
	ROUTE_DRAINED,		/* `sluicectl host drain` */
	ROUTE_DATAPLANE_DOWN,
	ROUTE_TOO_FEW_UP,	/* no VIP has routing.min_up backends up */
	ROUTE_PENDING,		/* not known yet: kept as it was */
};

/* One VIP's backends (routing.c counts them). */
struct route_vip_health {
	unsigned int up;	/* healthy, active or draining */
	unsigned int unknown;	/* would be up, no check finished yet */
};

struct route_input {
	bool drained;
	enum route_dp dp;
	unsigned int min_up;
	bool announced;		/* the route is there now */
	const struct route_vip_health *vips;
	size_t n_vips;
};

struct route_verdict {
	bool announce;
	enum route_reason reason;
};

struct route_verdict route_decide(const struct route_input *in);

/* "served", "drained", "dataplane_down", "too_few_up", "pending". */
const char *route_reason_name(enum route_reason r);

#endif /* SLUICED_ROUTE_DECIDE_H */
