/* SPDX-License-Identifier: BSD-3-Clause */
/* The VIP routes in the kernel's table. See routing.h. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "netlink_route.h"
#include "routing.h"

/* Health settles between probes without a state change (the first check
 * of a backend that starts up): a look this often picks that up, and
 * retries what netlink refused. The table itself is read back now and
 * then, so that a route someone else deleted comes back. */
#define ROUTING_TICK_MS 500
#define ROUTING_DUMP_S 10

/* One VIP address: configured, or found in the table with our protocol. */
struct route_addr {
	struct sluice_addr addr;
	bool configured;	/* some VIP has it (this pass) */
	bool installed;		/* the host route is in the table */
	bool seen, seen_stray;	/* scratch of a read of the table */
	bool stray;		/* a route of ours to it that is not the host route on lo */
	__u8 stray_len;		/* its prefix length */
	int stray_oif;		/* and interface */
	struct route_verdict v;	/* the last decision */
	__u64 since_ns;		/* installed last changed */
	unsigned int n_vips;	/* VIPs on it (this pass) */
};

struct routing {
	struct sluiced *d;
	struct event *tick;
	struct event *kick;
	struct nlroute *nl;
	__u32 table;		/* fixed for the process: a reload keeps it */
	int lo;			/* ifindex of lo; 0: not found yet */
	struct route_addr *addrs;
	size_t n, cap;
	bool drained;
	double drained_at;	/* Unix time */
	bool taken_over;	/* the first read of the table is done */
	bool need_dump;
	__u64 last_dump_ns;
	__u64 changes;		/* routes added or removed */
	__u64 errors;		/* netlink requests that failed */
	char last_error[256];
	struct slog_ratelimit rl;
	/* Scratch of one pass: a VIP's health per VIP of an address. */
	struct route_vip_health *scratch;
	size_t scratch_cap;
};

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int routing_check_host(const json_t *host, struct ju_err *e)
{
	static const char *const keys[] = {"drained", "drained_at", NULL};
	const json_t *at;
	bool drained = false;
	int rc;

	if (!host)
		return 0;
	if ((rc = ju_expect_object(e, host, "host")) < 0 ||
	    (rc = ju_check_keys(e, host, "host", keys)) < 0 ||
	    (rc = ju_get_bool(e, host, "drained", "host", &drained, NULL)) < 0)
		return rc;
	at = json_object_get(host, "drained_at");
	if (at && (!json_is_number(at) || json_number_value(at) < 0 ||
		   !isfinite(json_number_value(at))))
		return ju_fail(e, "host.drained_at", "expected a Unix time in seconds");
	return 0;
}

json_t *routing_host_json(const struct routing *r)
{
	if (!r || !r->drained)
		return NULL;
	return json_pack("{s:b, s:f}", "drained", 1, "drained_at", r->drained_at);
}

bool routing_drained(const struct routing *r)
{
	return r && r->drained;
}

void routing_set_drained(struct routing *r, bool drained)
{
	if (!r || r->drained == drained)
		return;
	r->drained = drained;
	r->drained_at = drained ? unix_now() : 0;
}

double routing_drained_at(const struct routing *r)
{
	return r ? r->drained_at : 0;
}

void routing_restore_drained(struct routing *r, bool drained, double drained_at)
{
	if (!r)
		return;
	r->drained = drained;
	r->drained_at = drained ? drained_at : 0;
}

static void set_error(struct routing *r, const char *msg)
{
	r->errors++;
	snprintf(r->last_error, sizeof(r->last_error), "%s", msg);
	slog_rl(&r->rl, SLOG_ERR, "routing: %s; retrying", msg);
}

/* IPv4 before IPv6, then by bytes: the order status and /metrics list. */
static int addr_cmp(const struct sluice_addr *x, const struct sluice_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

/* The entry of a, or (add) a new one in its place in the sorted array.
 * Adding may move the array: pointers into it do not survive. */
static struct route_addr *find_addr(struct routing *r, const struct sluice_addr *a, bool add)
{
	struct route_addr *n;
	size_t at = 0;

	for (; at < r->n; at++) {
		int c = addr_cmp(&r->addrs[at].addr, a);

		if (c == 0)
			return &r->addrs[at];
		if (c > 0)
			break;
	}
	if (!add)
		return NULL;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		n = realloc(r->addrs, cap * sizeof(*n));
		if (!n)
			return NULL;
		r->addrs = n;
		r->cap = cap;
	}
	memmove(&r->addrs[at + 1], &r->addrs[at], (r->n - at) * sizeof(*n));
	r->n++;
	n = &r->addrs[at];
	memset(n, 0, sizeof(*n));
	n->addr = *a;
	n->since_ns = sluice_now_ns();
	n->v.reason = ROUTE_PENDING;
	return n;
}

/* ---- reading the table ---- */

static void dump_one(void *arg, const struct nlroute_entry *e)
{
	struct routing *r = arg;
	__u8 host_len = e->dst.family == SLUICE_FAMILY_V4 ? 32 : 128;
	struct route_addr *a = find_addr(r, &e->dst, true);

	if (!a)
		return;
	if (e->prefixlen == host_len && e->oif == r->lo) {
		a->seen = true;
	} else {
		/* Ours by its protocol, but not a route sluiced makes: a
		 * leftover of an older layout, or someone's mistake. */
		a->seen_stray = true;
		a->stray_len = e->prefixlen;
		a->stray_oif = e->oif;
	}
}

/* Read what the table holds of ours. Our idea of it is replaced (a route
 * deleted behind our back is then added again by the next pass), but only
 * by a whole read: a failed one leaves it as it was. */
static int dump(struct routing *r)
{
	char err[256];
	int rc;

	for (size_t i = 0; i < r->n; i++)
		r->addrs[i].seen = r->addrs[i].seen_stray = false;
	rc = nlroute_dump(r->nl, r->table, NLROUTE_PROTO, dump_one, r, err, sizeof(err));
	if (rc < 0) {
		set_error(r, err);
		r->need_dump = true;
		return rc;
	}
	for (size_t i = 0; i < r->n; i++) {
		r->addrs[i].installed = r->addrs[i].seen;
		r->addrs[i].stray = r->addrs[i].seen_stray;
	}
	r->need_dump = false;
	r->last_dump_ns = sluice_now_ns();
	return 0;
}

/* ---- deciding ---- */

static enum route_dp dp_state(const struct sluiced *d)
{
	struct dpwatch_info di;
	bool xdp = xdpctl_forwarding(d->xdp);

	if (d->eff.dp_mode == CONF_DP_XDP)
		return xdp ? ROUTE_DP_UP : ROUTE_DP_DOWN;
	dpwatch_get_info(d->dw, &di);
	if (di.alive || xdp)
		return ROUTE_DP_UP;
	/* dp_down comes from dpwatch: stale, or none came within its grace
	 * after start. Before that it is not known. */
	return d->dp_down ? ROUTE_DP_DOWN : ROUTE_DP_UNKNOWN;
}

/* Backends up: healthy and in the set (active or draining, any weight),
 * and those that would be but have not had their first check yet (they
 * start up, so the count would be a guess). A draining backend counts: it
 * serves the flows it has, and the operator who drains every backend of a
 * VIP drains them on every host of the fleet, where withdrawing would
 * break those flows everywhere. */
static void vip_health(const struct model_vip *v, struct route_vip_health *h)
{
	h->up = h->unknown = 0;
	for (size_t i = 0; i < v->n_backends; i++) {
		const struct model_backend *b = v->backends[i];
		__u8 st = model_backend_state(b);

		if (st != SLUICE_BACKEND_ACTIVE && st != SLUICE_BACKEND_DRAINING)
			continue;
		if (b->cfg.health.type != CONF_HEALTH_NONE && b->sm.checks == 0)
			h->unknown++;
		else
			h->up++;
	}
}

static int grow_scratch(struct routing *r, size_t n)
{
	struct route_vip_health *s;

	if (n <= r->scratch_cap)
		return 0;
	s = realloc(r->scratch, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	r->scratch = s;
	r->scratch_cap = n;
	return 0;
}

/* The verdict for every address: VIPs grouped by address. */
static void decide_all(struct routing *r)
{
	const struct sluiced *d = r->d;
	enum route_dp dp = dp_state(d);

	for (size_t i = 0; i < r->n; i++) {
		r->addrs[i].configured = false;
		r->addrs[i].n_vips = 0;
	}
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		if (d->model.vips[i])
			find_addr(r, &d->model.vips[i]->cfg.key.addr, true);
	for (size_t k = 0; k < r->n; k++) {
		struct route_addr *a = &r->addrs[k];
		struct route_input in = {.drained = r->drained, .dp = dp,
					 .min_up = d->eff.routing.min_up,
					 .announced = a->installed};
		size_t n = 0;

		for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
			const struct model_vip *v = d->model.vips[i];

			if (!v || !sluice_addr_equal(&v->cfg.key.addr, &a->addr))
				continue;
			if (grow_scratch(r, n + 1) < 0)
				break;
			vip_health(v, &r->scratch[n++]);
		}
		a->configured = n > 0;
		a->n_vips = (unsigned int)n;
		in.vips = r->scratch;
		in.n_vips = n;
		a->v = a->configured ? route_decide(&in)
				     : (struct route_verdict){false, ROUTE_TOO_FEW_UP};
	}
}

/* ---- changing the table ---- */

/* 0 or -errno. */
static int change(struct routing *r, struct route_addr *a, bool add, __u8 len, int oif,
		  json_t *log)
{
	char err[256], s[SLUICE_ADDR_STRLEN];
	int rc;

	sluice_addr_format(&a->addr, s, sizeof(s));
	if (add)
		rc = nlroute_add_host(r->nl, r->table, NLROUTE_PROTO, &a->addr, r->lo, err,
				      sizeof(err));
	else
		rc = nlroute_del(r->nl, r->table, NLROUTE_PROTO, &a->addr, len, oif, err,
				 sizeof(err));
	if (rc < 0) {
		set_error(r, err);
		r->need_dump = true;
		if (log)
			json_array_append_new(log, json_pack("{s:s, s:s, s:s}", "address", s,
							     "action", add ? "announce" : "withdraw",
							     "error", err));
		return rc;
	}
	r->changes++;
	if (log)
		json_array_append_new(log, json_pack("{s:s, s:s}", "address", s, "action",
						     add ? "announce" : "withdraw"));
	return 0;
}

static void log_change(const struct route_addr *a, bool add, __u32 table)
{
	char s[SLUICE_ADDR_STRLEN];

	sluice_addr_format(&a->addr, s, sizeof(s));
	if (add)
		slog(SLOG_INFO, "routing: %s announced (route in table %u)", s, table);
	else if (!a->configured)
		slog(SLOG_INFO, "routing: %s withdrawn: no VIP has it any more", s);
	else
		slog(SLOG_WARN, "routing: %s withdrawn: %s", s, route_reason_name(a->v.reason));
}

/* A pass that could not even start: counted, and in the reply (log may be
 * NULL) as an entry with "error" alone, so that a drain does not look done. */
static int fail_pass(struct routing *r, json_t *log, const char *msg)
{
	if (msg)
		set_error(r, msg);
	if (log)
		json_array_append_new(log, json_pack("{s:s}", "error", r->last_error));
	return -EAGAIN;
}

/* Bring the table in line with the verdicts; log (may be NULL) collects
 * what was done for a command's reply. 0, or -errno when the table could
 * not be read or changed (an entry with "error" in log says why). */
static int apply(struct routing *r, json_t *log)
{
	char err[256];
	size_t kept = 0;
	int ret = 0;

	if (!r->nl && nlroute_open(&r->nl, err, sizeof(err)) < 0)
		return fail_pass(r, log, err);
	if (!r->lo) {
		r->lo = (int)if_nametoindex("lo");
		if (!r->lo)
			return fail_pass(r, log, "no interface lo in this network namespace");
	}
	if ((r->need_dump || !r->taken_over ||
	     sluice_now_ns() - r->last_dump_ns >= ROUTING_DUMP_S * 1000000000ull) &&
	    dump(r) < 0)
		return fail_pass(r, log, NULL);
	decide_all(r);
	/* A kernel that did not answer in time is not asked again in this
	 * pass: each request would wait its second, and the event loop with
	 * it. need_dump is set: the next pass reads the table and goes on. */
	for (size_t i = 0; i < r->n && ret != -ETIMEDOUT; i++) {
		struct route_addr *a = &r->addrs[i];
		int rc = 0;

		/* Read back after: one address may have had several. */
		if (a->stray && (rc = change(r, a, false, a->stray_len, a->stray_oif, log)) < 0)
			ret = rc;
		if (rc == -ETIMEDOUT)
			break;
		if (a->stray && rc == 0) {
			char s[SLUICE_ADDR_STRLEN];

			sluice_addr_format(&a->addr, s, sizeof(s));
			slog(SLOG_INFO, "routing: removed %s/%u from table %u: protocol %u, but "
					"not a host route on lo as sluiced makes them",
			     s, a->stray_len, r->table, NLROUTE_PROTO);
			a->stray = false;
			r->need_dump = true;
		}
		if (a->v.announce == a->installed)
			continue;
		rc = change(r, a, a->v.announce, a->addr.family == SLUICE_FAMILY_V4 ? 32 : 128,
			    r->lo, log);
		if (rc == 0) {
			a->installed = a->v.announce;
			a->since_ns = sluice_now_ns();
			log_change(a, a->installed, r->table);
		} else {
			ret = rc;
		}
	}
	if (!r->taken_over) {
		r->taken_over = true;
		for (size_t i = 0; i < r->n; i++)
			kept += r->addrs[i].installed;
		slog(SLOG_INFO, "routing: table %u taken over: %zu of %zu VIP addresses announced%s",
		     r->table, kept, r->n, r->drained ? " (host drained)" : "");
	}
	/* Forget addresses that are neither configured nor in the table. */
	for (size_t i = 0; i < r->n;) {
		if (!r->addrs[i].configured && !r->addrs[i].installed && !r->addrs[i].stray)
			memmove(&r->addrs[i], &r->addrs[i + 1], (--r->n - i) * sizeof(*r->addrs));
		else
			i++;
	}
	return ret;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	(void)apply(arg, NULL);
}

void routing_kick(struct routing *r)
{
	if (r)
		event_active(r->kick, EV_TIMEOUT, 0);
}

json_t *routing_apply_now(struct routing *r)
{
	json_t *log = json_array();

	if (r)
		(void)apply(r, log);
	return log;
}

struct routing *routing_create(struct sluiced *d, const json_t *host)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = ROUTING_TICK_MS * 1000};
	struct routing *r;
	char err[256];

	if (!d->eff.routing.enabled)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->d = d;
	r->table = d->eff.routing.table;
	r->rl = (struct slog_ratelimit)SLOG_RATELIMIT_INIT(60, 5);
	if (host && json_is_true(json_object_get(host, "drained"))) {
		const json_t *at = json_object_get(host, "drained_at");

		r->drained = true;
		r->drained_at = at ? json_number_value(at) : unix_now();
	}
	/* A socket that cannot be had now is retried by every pass. */
	if (nlroute_open(&r->nl, err, sizeof(err)) < 0)
		set_error(r, err);
	r->tick = event_new(d->base, -1, EV_PERSIST, on_tick, r);
	r->kick = event_new(d->base, -1, 0, on_tick, r);
	if (!r->tick || !r->kick || event_add(r->tick, &tv) < 0) {
		routing_destroy(r);
		return NULL;
	}
	slog(SLOG_INFO, "routing: VIP routes in table %u, protocol %u, min_up %u%s", r->table,
	     NLROUTE_PROTO, d->eff.routing.min_up, r->drained ? "; the host is drained" : "");
	return r;
}

void routing_destroy(struct routing *r)
{
	if (!r)
		return;
	if (r->tick)
		event_free(r->tick);
	if (r->kick)
		event_free(r->kick);
	nlroute_close(r->nl);
	free(r->addrs);
	free(r->scratch);
	free(r);
}

/* ---- reporting ---- */

/* Safe to stop once the grace is over and no route is left to withdraw:
 * while one is still in the table (a failed delete, a table not read
 * yet), the routers still send here whatever the grace says. */
static json_t *drain_json(const struct routing *r)
{
	__u32 grace = r->d->eff.routing.drain_grace_s;
	double age = unix_now() - r->drained_at, left = grace - age;
	size_t still = 0;

	if (!r->drained)
		return json_pack("{s:b}", "drained", 0);
	for (size_t i = 0; i < r->n; i++)
		still += r->addrs[i].installed || r->addrs[i].stray;
	return json_pack("{s:b, s:f, s:f, s:I, s:f, s:I, s:b}", "drained", 1, "drained_at",
			 r->drained_at, "drained_for_s", age > 0 ? age : 0.0, "grace_s",
			 (json_int_t)grace, "safe_to_stop_in_s", left > 0 ? left : 0.0,
			 "routes_left", (json_int_t)still,
			 "safe_to_stop", left <= 0 && r->taken_over && still == 0);
}

json_t *routing_status_json(struct routing *r)
{
	json_t *o, *addrs;

	if (!r)
		return json_pack("{s:b}", "enabled", 0);
	addrs = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct route_addr *a = &r->addrs[i];
		json_t *x;

		if (!a->configured && !a->installed)
			continue;
		x = json_pack("{s:o, s:b, s:s, s:I, s:f}", "address", ju_addr(&a->addr),
			      "announced", a->installed, "reason",
			      a->configured ? route_reason_name(a->v.reason) : "not_configured",
			      "vips", (json_int_t)a->n_vips, "since_s", cmd_age_s(a->since_ns));
		if (a->installed != a->v.announce)
			json_object_set_new(x, "wanted", json_boolean(a->v.announce));
		json_array_append_new(addrs, x);
	}
	o = json_pack("{s:b, s:I, s:i, s:I, s:o, s:I, s:I, s:o}", "enabled", 1, "table",
		      (json_int_t)r->table, "protocol", NLROUTE_PROTO, "min_up",
		      (json_int_t)r->d->eff.routing.min_up, "host", drain_json(r), "route_changes",
		      (json_int_t)r->changes, "netlink_errors", (json_int_t)r->errors,
		      "addresses", addrs);
	if (r->last_error[0])
		json_object_set_new(o, "last_error", json_string(r->last_error));
	return o;
}

void routing_render_metrics(struct routing *r, struct evbuffer *b)
{
	char s[SLUICE_ADDR_STRLEN];

	if (!r)
		return;
	evbuffer_add_printf(b, "# HELP sluice_vip_announced 1 while the VIP address's host "
			       "route is in the routing table.\n# TYPE sluice_vip_announced gauge\n");
	for (size_t i = 0; i < r->n; i++) {
		if (!r->addrs[i].configured && !r->addrs[i].installed)
			continue;
		sluice_addr_format(&r->addrs[i].addr, s, sizeof(s));
		evbuffer_add_printf(b, "sluice_vip_announced{vip=\"%s\"} %d\n", s,
				    r->addrs[i].installed);
	}
	evbuffer_add_printf(b,
			    "# HELP sluice_route_changes_total VIP routes added or removed.\n"
			    "# TYPE sluice_route_changes_total counter\n"
			    "sluice_route_changes_total %llu\n"
			    "# HELP sluice_route_netlink_errors_total Route requests the kernel "
			    "refused or did not answer (retried).\n"
			    "# TYPE sluice_route_netlink_errors_total counter\n"
			    "sluice_route_netlink_errors_total %llu\n"
			    "# HELP sluice_host_drained 1 while the host is drained (sluicectl "
			    "host drain).\n# TYPE sluice_host_drained gauge\n"
			    "sluice_host_drained %d\n",
			    (unsigned long long)r->changes, (unsigned long long)r->errors,
			    r->drained);
}
