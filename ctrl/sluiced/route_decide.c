/* SPDX-License-Identifier: BSD-3-Clause */
/* The announcement decision. See route_decide.h. */
#include "route_decide.h"

struct route_verdict route_decide(const struct route_input *in)
{
	bool servable = false, maybe = false;
	struct route_verdict keep = {in->announced, ROUTE_PENDING};

	/* The operator's word and a dead data path are facts about every
	 * VIP of the host: nothing below outweighs them. */
	if (in->drained)
		return (struct route_verdict){false, ROUTE_DRAINED};
	if (in->dp == ROUTE_DP_DOWN)
		return (struct route_verdict){false, ROUTE_DATAPLANE_DOWN};
	for (size_t i = 0; i < in->n_vips; i++) {
		const struct route_vip_health *v = &in->vips[i];

		if (v->up >= in->min_up)
			servable = true;
		else if (v->up + v->unknown >= in->min_up)
			maybe = true;
	}
	if (servable)
		return in->dp == ROUTE_DP_UP ? (struct route_verdict){true, ROUTE_SERVED} : keep;
	/* No VIP is servable now; one whose first checks are still out may
	 * turn out to be. */
	if (maybe)
		return keep;
	return (struct route_verdict){false, ROUTE_TOO_FEW_UP};
}

const char *route_reason_name(enum route_reason r)
{
	switch (r) {
	case ROUTE_SERVED: return "served";
	case ROUTE_DRAINED: return "drained";
	case ROUTE_DATAPLANE_DOWN: return "dataplane_down";
	case ROUTE_TOO_FEW_UP: return "too_few_up";
	case ROUTE_PENDING: return "pending";
	}
	return "?";
}
