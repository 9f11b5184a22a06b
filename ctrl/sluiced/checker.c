/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-backend health-check timers and probes. See checker.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "checker.h"
#include "probe.h"

struct checker {
	struct checker_env *env;
	struct model_backend *b;
	struct event *timer;	/* fires every interval */
	struct probe *probe;	/* in flight, or NULL */
	bool first;		/* the timer's first (jittered) shot */
};

static void probe_done(void *arg, enum health_result r, __u32 latency_us, const char *detail)
{
	struct checker *c = arg;
	struct model_backend *b = c->b;

	c->probe = NULL;
	c->env->in_flight--;
	if (health_sm_feed(&b->sm, r, latency_us, detail, sluice_now_ns()) && c->env->changed)
		c->env->changed(c->env->ctx, b);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct checker *c = arg;
	const struct conf_health *h = &c->b->cfg.health;
	struct probe_target t = {
		.addr = c->b->cfg.addr,
		.port = h->port ? h->port : c->b->vip->cfg.key.port,
		.type = h->type,
		.path = h->path,
		.host = h->host,
		.expect_status = h->expect_status,
		.timeout_ms = h->timeout_ms,
	};

	(void)fd, (void)what;
	if (c->first) {
		/* From now on, one tick per interval. */
		struct timeval tv = {.tv_sec = h->interval_ms / 1000,
				     .tv_usec = (suseconds_t)(h->interval_ms % 1000) * 1000};

		c->first = false;
		event_free(c->timer);
		c->timer = event_new(c->env->base, -1, EV_PERSIST, tick, c);
		if (c->timer)
			event_add(c->timer, &tv);
	}
	/* The timeout is at most the interval, so a probe still running now
	 * is late only by the loop's own delay: let it finish. */
	if (c->probe)
		return;
	c->probe = probe_start(c->env->base, &t, probe_done, c);
	if (!c->probe) {
		if (health_sm_feed(&c->b->sm, HEALTH_ERROR, 0, "out of memory", sluice_now_ns()) &&
		    c->env->changed)
			c->env->changed(c->env->ctx, c->b);
		return;
	}
	c->env->probes_started++;
	c->env->in_flight++;
}

int checker_start(struct checker_env *env, struct model_backend *b)
{
	const struct conf_health *h = &b->cfg.health;
	struct checker *c;
	struct timeval tv;
	unsigned int r = 0;
	__u64 us;

	if (b->checker || h->type == CONF_HEALTH_NONE)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->env = env;
	c->b = b;
	c->first = true;
	c->timer = event_new(env->base, -1, 0, tick, c);
	if (!c->timer) {
		free(c);
		return -ENOMEM;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)b->id * 2654435761u;
	us = (__u64)r % ((__u64)h->interval_ms * 1000u);
	tv.tv_sec = (time_t)(us / 1000000u);
	tv.tv_usec = (suseconds_t)(us % 1000000u);
	event_add(c->timer, &tv);
	b->checker = c;
	return 0;
}

void checker_stop(struct checker_env *env, struct model_backend *b)
{
	struct checker *c = b->checker;

	if (!c)
		return;
	if (c->probe) {
		probe_cancel(c->probe);
		env->in_flight--;
	}
	if (c->timer)
		event_free(c->timer);
	free(c);
	b->checker = NULL;
}
