/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One health probe on the event loop: a non-blocking TCP connect, and for
 * HTTP a minimal GET whose status line is compared with the expected one.
 * Nothing blocks: a thousand probes in flight are a thousand sockets and a
 * thousand events. One deadline covers the whole probe.
 */
#ifndef SLUICED_PROBE_H
#define SLUICED_PROBE_H

#include <event2/event.h>
#include <linux/types.h>

#include "config.h"
#include "health.h"

struct probe;

/* Where and how to probe; strings are copied. */
struct probe_target {
	struct sluice_addr addr;
	__u16 port;
	enum conf_health_type type; /* TCP or HTTP */
	const char *path;	    /* HTTP request target */
	const char *host;	    /* HTTP Host; NULL or "" = the address */
	__u16 expect_status;
	__u32 timeout_ms;
};

/* Called once per probe, from the event loop, never from probe_start().
 * detail says what happened in words ("connection refused"). */
typedef void probe_done_fn(void *arg, enum health_result r, __u32 latency_us,
			   const char *detail);

/* Start a probe. Returns NULL only when out of memory; every other failure
 * (no sockets left, unreachable) is reported through done. */
struct probe *probe_start(struct event_base *base, const struct probe_target *t,
			  probe_done_fn *done, void *arg);

/* Abandon a probe that has not reported yet: done is not called. */
void probe_cancel(struct probe *p);

/* The status code of an HTTP status line ("HTTP/1.1 200 OK"), or -1. */
int probe_parse_status_line(const char *buf, size_t len);

#endif /* SLUICED_PROBE_H */
