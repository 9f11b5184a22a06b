/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Health-gated VIP announcement (docs/config.md "routing"): for each VIP
 * address, a host route `ADDR dev lo proto 211 table T` while the address
 * can be served (route_decide.h says when), for BIRD or FRR to learn from
 * table T and export by BGP. sluiced never speaks BGP itself.
 *
 * Fail static: the routes are never removed on the way out, neither on a
 * crash nor on a clean stop (a restart must not flap every announcement);
 * `sluicectl host drain` is how a host leaves. At start sluiced takes the
 * table over: its protocol's routes that are still wanted stay untouched,
 * those of addresses no longer configured go, and nothing is withdrawn or
 * added on health that is not known yet.
 *
 * Netlink failures are logged (rate-limited), counted and retried on the
 * next tick; they never stop the daemon.
 */
#ifndef SLUICED_ROUTING_H
#define SLUICED_ROUTING_H

#include <jansson.h>
#include <stdbool.h>

#include "jsonutil.h"
#include "route_decide.h"

struct sluiced;
struct routing;

/* The state file's "host" member (NULL: none), checked: 0 or -EINVAL
 * with e saying what is wrong. Kept until routing_create takes it. */
int routing_check_host(const json_t *host, struct ju_err *e);

/* Start keeping routes when d->eff.routing is enabled (NULL otherwise:
 * every routing_* call accepts NULL). host is the state file's "host". */
struct routing *routing_create(struct sluiced *d, const json_t *host);
/* Stops the timers; leaves every route where it is. */
void routing_destroy(struct routing *r);

/* Something the decision reads changed (health, the data path, the
 * configuration): look again soon, on the event loop. */
void routing_kick(struct routing *r);

/* The "host" member for the state file while drained (new reference), or
 * NULL. */
json_t *routing_host_json(const struct routing *r);

/* `host drain` / `host undrain`: the caller saves the state file (through
 * routing_host_json) and calls routing_apply_drain once it is saved. */
bool routing_drained(const struct routing *r);
void routing_set_drained(struct routing *r, bool drained);
/* Undo a routing_set_drained whose state could not be saved: the drain
 * and its start (Unix time; 0 while not drained) as they were. */
double routing_drained_at(const struct routing *r);
void routing_restore_drained(struct routing *r, bool drained, double drained_at);
/* Bring the routes in line now; the reply of host drain/undrain:
 * addresses withdrawn or announced, errors. */
json_t *routing_apply_now(struct routing *r);

/* `sluicectl status`'s "routing" object; /metrics' families. */
json_t *routing_status_json(struct routing *r);
struct evbuffer;
void routing_render_metrics(struct routing *r, struct evbuffer *b);

#endif /* SLUICED_ROUTING_H */
