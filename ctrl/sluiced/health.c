/* SPDX-License-Identifier: BSD-3-Clause */
/* The rise/fall state machine. See health.h. */
#include <stdio.h>
#include <string.h>

#include "health.h"

void health_sm_init(struct health_sm *sm, __u8 rise, __u8 fall, bool up, __u64 now_ns)
{
	memset(sm, 0, sizeof(*sm));
	sm->up = up;
	sm->rise = rise ? rise : 1;
	sm->fall = fall ? fall : 1;
	sm->last = HEALTH_NONE;
	sm->since_ns = now_ns;
}

void health_sm_set_limits(struct health_sm *sm, __u8 rise, __u8 fall)
{
	sm->rise = rise ? rise : 1;
	sm->fall = fall ? fall : 1;
}

bool health_sm_feed(struct health_sm *sm, enum health_result r, __u32 latency_us,
		    const char *detail, __u64 now_ns)
{
	bool ok = r == HEALTH_OK;
	bool changed = false;

	sm->checks++;
	sm->last = r;
	sm->last_latency_us = latency_us;
	sm->last_ns = now_ns;
	snprintf(sm->detail, sizeof(sm->detail), "%s", detail ? detail : health_result_name(r));
	if (ok) {
		sm->fail_run = 0;
		if (sm->ok_run < 255)
			sm->ok_run++;
		if (!sm->up && sm->ok_run >= sm->rise) {
			sm->up = true;
			changed = true;
		}
	} else {
		sm->failures++;
		sm->ok_run = 0;
		if (sm->fail_run < 255)
			sm->fail_run++;
		if (sm->up && sm->fail_run >= sm->fall) {
			sm->up = false;
			changed = true;
		}
	}
	if (changed)
		sm->since_ns = now_ns;
	return changed;
}

const char *health_result_name(enum health_result r)
{
	switch (r) {
	case HEALTH_OK: return "ok";
	case HEALTH_TIMEOUT: return "timeout";
	case HEALTH_REFUSED: return "refused";
	case HEALTH_BAD_STATUS: return "bad_status";
	case HEALTH_ERROR: return "error";
	case HEALTH_NONE: return "none";
	}
	return "?";
}
