/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Health checks on the event loop: one timer per checked backend firing
 * every interval (the first at a random point of the first interval, so a
 * thousand backends do not all connect at the same instant), one probe per
 * tick, the result fed to the backend's rise/fall state machine. A change
 * of state goes to the owner's callback; nothing else is decided here.
 */
#ifndef SLUICED_CHECKER_H
#define SLUICED_CHECKER_H

#include <event2/event.h>

#include "model.h"

/* What all checkers share. */
struct checker_env {
	struct event_base *base;
	void *ctx;
	/* b->sm.up changed; b->sm.detail says why. */
	void (*changed)(void *ctx, struct model_backend *b);
	unsigned long long probes_started; /* since start, for metrics */
	unsigned int in_flight;		   /* probes running now */
};

/* Start checking b (b->cfg.health.type != NONE): sets b->checker. */
int checker_start(struct checker_env *env, struct model_backend *b);
/* Stop and free b's checker, if any; a probe in flight is abandoned. */
void checker_stop(struct checker_env *env, struct model_backend *b);

#endif /* SLUICED_CHECKER_H */
