/* SPDX-License-Identifier: BSD-3-Clause */
/* Summing per-lcore counters; rates from one-second samples. */
#include <stdlib.h>
#include <string.h>

#include "counters.h"

#define SAMPLE_INTERVAL_S 1

/* Totals of every VIP and backend id at one instant. */
struct sample {
	__u64 t_ns;
	struct sluice_counter_pair vip[SLUICE_MAX_VIPS];
	struct sluice_counter_pair backend[SLUICE_MAX_BACKENDS];
};

struct counters {
	const struct dpwatch *dw;
	struct xdpctl *xdp;
	struct event *timer;
	struct sluice_lcore_status *xdp_last;	/* last XDP reading, kept after it stops */
	bool have_xdp;
	struct sample *prev, *cur;		/* the two latest samples */
};

static void add_pair(struct sluice_counter_pair *dst, const struct sluice_counter_pair *src)
{
	dst->packets += __atomic_load_n(&src->packets, __ATOMIC_RELAXED);
	dst->bytes += __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
}

static unsigned int n_lcores(const struct sluice_status_region *st)
{
	unsigned int n;

	if (!st)
		return 0;
	n = __atomic_load_n(&st->hdr->n_lcores, __ATOMIC_RELAXED);
	return n > SLUICE_MAX_LCORES ? SLUICE_MAX_LCORES : n;
}

/* Sum one id over the lcores and the XDP path. */
static void sum_pair(const struct counters *c, bool backend, __u16 id,
		     struct sluice_counter_pair *out)
{
	const struct sluice_status_region *st = dpwatch_status(c->dw);
	unsigned int n = n_lcores(st);

	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < n; i++)
		add_pair(out, backend ? &st->lcores[i].backend[id] : &st->lcores[i].vip[id]);
	if (c->have_xdp)
		add_pair(out, backend ? &c->xdp_last->backend[id] : &c->xdp_last->vip[id]);
}

void counters_sample(struct counters *c)
{
	struct sample *s = c->prev;

	if (xdpctl_read_counters(c->xdp, c->xdp_last) == 0)
		c->have_xdp = true;
	c->prev = c->cur;
	c->cur = s;
	s->t_ns = sluice_now_ns();
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		sum_pair(c, false, (__u16)i, &s->vip[i]);
	for (unsigned int i = 0; i < SLUICE_MAX_BACKENDS; i++)
		sum_pair(c, true, (__u16)i, &s->backend[i]);
}

static void view(const struct counters *c, bool backend, __u16 id, struct counter_view *out)
{
	const struct sluice_counter_pair *a, *b;
	struct sluice_counter_pair now;
	double dt;

	sum_pair(c, backend, id, &now);
	out->packets = now.packets;
	out->bytes = now.bytes;
	out->pps = out->bps = 0;
	if (!c->prev->t_ns || c->cur->t_ns <= c->prev->t_ns)
		return;
	a = backend ? &c->prev->backend[id] : &c->prev->vip[id];
	b = backend ? &c->cur->backend[id] : &c->cur->vip[id];
	dt = (double)(c->cur->t_ns - c->prev->t_ns) / 1e9;
	/* A restarted data plane starts from zero: no negative rates. */
	if (b->packets >= a->packets)
		out->pps = (double)(b->packets - a->packets) / dt;
	if (b->bytes >= a->bytes)
		out->bps = (double)(b->bytes - a->bytes) / dt;
}

void counters_vip(const struct counters *c, __u16 id, struct counter_view *out)
{
	view(c, false, id, out);
}

void counters_backend(const struct counters *c, __u16 id, struct counter_view *out)
{
	view(c, true, id, out);
}

static void add_lcore(struct sluice_lcore_counters *dst, const struct sluice_lcore_counters *src)
{
#define SLUICE_X_ADD(name) dst->name += __atomic_load_n(&src->name, __ATOMIC_RELAXED);
	SLUICE_LCORE_COUNTERS(SLUICE_X_ADD)
#undef SLUICE_X_ADD
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		dst->drops[r] += __atomic_load_n(&src->drops[r], __ATOMIC_RELAXED);
}

void counters_total(const struct counters *c, struct sluice_lcore_counters *out)
{
	const struct sluice_status_region *st = dpwatch_status(c->dw);
	unsigned int n = n_lcores(st);

	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < n; i++)
		add_lcore(out, &st->lcores[i].counters);
	if (c->have_xdp)
		add_lcore(out, &c->xdp_last->counters);
}

const struct sluice_lcore_status *counters_xdp(const struct counters *c)
{
	return c->have_xdp ? c->xdp_last : NULL;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	counters_sample(arg);
}

struct counters *counters_create(struct event_base *base, const struct dpwatch *dw,
				 struct xdpctl *xdp)
{
	struct counters *c = calloc(1, sizeof(*c));
	struct timeval tv = {.tv_sec = SAMPLE_INTERVAL_S, .tv_usec = 0};

	if (!c)
		return NULL;
	c->dw = dw;
	c->xdp = xdp;
	c->prev = calloc(1, sizeof(*c->prev));
	c->cur = calloc(1, sizeof(*c->cur));
	c->xdp_last = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*c->xdp_last));
	if (!c->prev || !c->cur || !c->xdp_last)
		goto fail;
	memset(c->xdp_last, 0, sizeof(*c->xdp_last));
	if (base) {
		c->timer = event_new(base, -1, EV_PERSIST, tick, c);
		if (!c->timer || event_add(c->timer, &tv) < 0)
			goto fail;
	}
	counters_sample(c);
	return c;
fail:
	counters_destroy(c);
	return NULL;
}

void counters_destroy(struct counters *c)
{
	if (!c)
		return;
	if (c->timer)
		event_free(c->timer);
	free(c->prev);
	free(c->cur);
	free(c->xdp_last);
	free(c);
}
