/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics: text exposition format on GET /metrics, served by
 * the daemon's own event loop on the configured address, loopback by
 * default, within fixed limits on connections, time and memory
 * (docs/control.md, "Metrics limits"). docs/config.md lists every metric.
 */
#ifndef SLUICED_METRICS_H
#define SLUICED_METRICS_H

#include <event2/buffer.h>

struct sluiced;
struct metrics;

int metrics_start(struct sluiced *d, struct metrics **out);
/* Accepts NULL. */
void metrics_stop(struct metrics *m);

/* Write the whole page into buf (tests and the HTTP handler). */
void metrics_render(struct sluiced *d, struct evbuffer *buf);

#endif /* SLUICED_METRICS_H */
