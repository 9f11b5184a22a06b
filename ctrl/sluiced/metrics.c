/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus text format on /metrics. See metrics.h. */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "snapshot.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "routing.h"

/*
 * Whoever reaches the port can open connections, trickle bytes and never
 * read: each of those must cost sluiced a bounded share of descriptors,
 * time and memory, or the health probes and the control socket starve
 * (issue 12). docs/control.md gives the figures; change them here.
 *
 * A scrape is a GET with a few short headers and no body: the request is
 * read up to 8 KiB of headers, and one deadline, from accept to the last
 * byte written, covers the whole exchange (a timeout that restarts with
 * every byte would let a byte every few seconds hold a connection for
 * ever). At most METRICS_MAX_CONNS connections, fewer when the descriptor
 * limit is low: at the cap the listener stops accepting and the kernel's
 * backlog holds the rest.
 */
#define METRICS_MAX_HEADERS 8192
#define METRICS_DEADLINE_S 10
#define METRICS_MAX_CONNS 64
/* At most this share (1/N) of RLIMIT_NOFILE: the rest is for probes. */
#define METRICS_FD_SHARE 16
#define METRICS_BACKLOG 64
/* After accept() fails (EMFILE above all) the listener rests this long:
 * a level-triggered listener with a pending connection it cannot accept
 * otherwise fires again at once, for ever. */
#define METRICS_ACCEPT_REST_MS 250
/*
 * Memory: a page is rendered once into one block and handed to every
 * connection by reference, so a client that never reads holds a
 * reference, not a copy. Scrapes that start while a page younger than
 * METRICS_SHARE_MS is still being sent get that page; while the pages
 * alive add up to METRICS_PAGE_BUDGET, scrapes get the newest page however
 * old instead of a new one. A page is at most ~5 MB (16,384 backends).
 */
#define METRICS_SHARE_MS 1000
#define METRICS_PAGE_BUDGET (32u << 20)

/* One rendered page; freed by the last connection done with it. Pages
 * do not point at struct metrics: libevent may free a connection's output
 * (and so drop its reference) after metrics_stop(). */
struct page {
	unsigned int refs;
	size_t len;
	__u64 rendered_ns;
	char data[];
};

/* Bytes held by pages alive: one process serves one metrics port. */
static size_t page_bytes;

struct conn {
	struct metrics *m;
	struct bufferevent *bev;
	struct event *deadline;
	LIST_ENTRY(conn) link;
};

struct metrics {
	struct sluiced *d;
	struct evconnlistener *lis;
	struct event *rest;		/* re-enables the listener after an error */
	bool resting;
	unsigned int n_conns, max_conns;
	LIST_HEAD(, conn) conns;
	struct page *latest;		/* one reference, for sharing */
	struct slog_ratelimit accept_rl;
};

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values here are addresses, VIP keys and fixed words: none needs
 * escaping, but a value with '"', '\' or a newline would be escaped. */
static void label(char *out, size_t len, const char *v)
{
	size_t o = 0;

	for (; *v && o + 3 < len; v++) {
		if (*v == '"' || *v == '\\' || *v == '\n') {
			out[o++] = '\\';
			out[o++] = *v == '\n' ? 'n' : *v;
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

static void render_publish(struct sluiced *d, struct evbuffer *b)
{
	const __u32 *bounds = publisher_hist_bounds_us();
	struct publisher_stats ps;
	__u64 cum = 0;

	publisher_get_stats(d->pub, &ps);
	head(b, "sluice_generation", "gauge", "Generation of the snapshot in force.");
	evbuffer_add_printf(b, "sluice_generation %llu\n", (unsigned long long)ps.generation);
	head(b, "sluice_publishes_total", "counter", "Snapshots published by this sluiced.");
	evbuffer_add_printf(b, "sluice_publishes_total %llu\n", (unsigned long long)ps.publishes);
	head(b, "sluice_publishes_without_dataplane_total", "counter",
	     "Publishes no live lcore had to acknowledge; not in the latency histogram.");
	evbuffer_add_printf(b, "sluice_publishes_without_dataplane_total %llu\n",
			    (unsigned long long)ps.no_dataplane);
	head(b, "sluice_publish_latency_seconds", "histogram",
	     "From a change to every live lcore on the new generation.");
	for (unsigned int i = 0; i < PUB_HIST_N; i++) {
		cum += ps.hist[i];
		evbuffer_add_printf(b, "sluice_publish_latency_seconds_bucket{le=\"%g\"} %llu\n",
				    bounds[i] / 1e6, (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "sluice_publish_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)ps.hist_count);
	evbuffer_add_printf(b, "sluice_publish_latency_seconds_sum %.9f\n",
			    (double)ps.hist_sum_ns / 1e9);
	evbuffer_add_printf(b, "sluice_publish_latency_seconds_count %llu\n",
			    (unsigned long long)ps.hist_count);
	head(b, "sluice_publish_last_latency_seconds", "gauge", "Latency of the last publish.");
	evbuffer_add_printf(b, "sluice_publish_last_latency_seconds %.9f\n",
			    (double)ps.last_latency_ns / 1e9);
}

static void render_dataplane(struct sluiced *d, struct evbuffer *b)
{
	struct dpwatch_info di;

	dpwatch_get_info(d->dw, &di);
	head(b, "sluice_dataplane_up", "gauge", "1 when sluice-dp has a live lcore.");
	evbuffer_add_printf(b, "sluice_dataplane_up %d\n", di.alive);
	head(b, "sluice_dataplane_live_lcores", "gauge", "Lcores with a fresh heartbeat.");
	evbuffer_add_printf(b, "sluice_dataplane_live_lcores %u\n", di.live);
	if (di.has_age) {
		head(b, "sluice_dataplane_heartbeat_age_seconds", "gauge",
		     "Age of the freshest data-plane heartbeat.");
		evbuffer_add_printf(b, "sluice_dataplane_heartbeat_age_seconds %.6f\n",
				    (double)di.age_ns / 1e9);
	}
	head(b, "sluice_xdp_active", "gauge", "1 while the XDP path forwards.");
	evbuffer_add_printf(b, "sluice_xdp_active %d\n", xdpctl_active(d->xdp));
}

/* The per-lcore families, in SLUICE_LCORE_COUNTERS order. Each is
 * written whole (HELP, TYPE, one sample per lcore) before the next: the
 * exposition format wants a family's samples together. */
struct counter_family {
	const char *name;
	size_t off; /* of the __u64 in its struct */
};

static const struct counter_family lcore_families[] = {
#define SLUICE_X_FAMILY(name) {#name, offsetof(struct sluice_lcore_counters, name)},
	SLUICE_LCORE_COUNTERS(SLUICE_X_FAMILY)
#undef SLUICE_X_FAMILY
};

static void lcore_sample(struct evbuffer *b, const char *metric, const char *lcore,
			 const struct sluice_lcore_counters *c, size_t off)
{
	__u64 v = *(const __u64 *)((const char *)c + off);

	evbuffer_add_printf(b, "%s{lcore=\"%s\"} %llu\n", metric, lcore, (unsigned long long)v);
}

static void render_counters(struct sluiced *d, struct evbuffer *b)
{
	const struct sluice_status_region *st = dpwatch_status(d->dw);
	const struct sluice_lcore_status *xdp = counters_xdp(d->counters);
	struct sluice_lcore_counters total;
	unsigned int n = st ? st->hdr->n_lcores : 0;
	char id[16], metric[64], help[160];

	counters_total(d->counters, &total);
	head(b, "sluice_drops_total", "counter", "Packets dropped, by reason.");
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		evbuffer_add_printf(b, "sluice_drops_total{reason=\"%s\"} %llu\n",
				    sluice_drop_name(r), (unsigned long long)total.drops[r]);
	if (n > SLUICE_MAX_LCORES)
		n = SLUICE_MAX_LCORES;
	for (size_t k = 0; k < sizeof(lcore_families) / sizeof(lcore_families[0]); k++) {
		const struct counter_family *f = &lcore_families[k];
		/* Everything counts up but the flow table's occupancy. */
		bool gauge = strcmp(f->name, "flow_live") == 0;

		snprintf(metric, sizeof(metric), "sluice_lcore_%s%s", f->name, gauge ? "" : "_total");
		snprintf(help, sizeof(help),
			 "Per lcore %s (lcore=\"xdp\": the XDP path); see docs/config.md.", f->name);
		head(b, metric, gauge ? "gauge" : "counter", help);
		for (unsigned int i = 0; i < n; i++) {
			if (st->lcores[i].state == SLUICE_LCORE_UNUSED)
				continue;
			snprintf(id, sizeof(id), "%u", st->lcores[i].lcore_id);
			lcore_sample(b, metric, id, &st->lcores[i].counters, f->off);
		}
		if (xdp)
			lcore_sample(b, metric, "xdp", &xdp->counters, f->off);
	}
}

/* The data plane's ports, the NIC's own counters: labelled by DPDK port
 * id and device name, and per queue (a queue is a worker's). */
static const struct counter_family port_families[] = {
#define SLUICE_X_FAMILY(name) {#name, offsetof(struct sluice_port_counters, name)},
	SLUICE_PORT_COUNTERS(SLUICE_X_FAMILY)
#undef SLUICE_X_FAMILY
}, queue_families[] = {
#define SLUICE_X_FAMILY(name) {#name, offsetof(struct sluice_queue_counters, name)},
	SLUICE_QUEUE_COUNTERS(SLUICE_X_FAMILY)
#undef SLUICE_X_FAMILY
};

static const char *const port_help[] = {
	"Packets the port received (the NIC's count).",
	"Bytes the port received.",
	"Packets the port sent.",
	"Bytes the port sent.",
	"Packets the NIC dropped for want of a free RX descriptor: a worker did not keep up.",
	"Erroneous packets the NIC dropped on receive.",
	"Packets the NIC failed to send.",
	"RX descriptors the NIC could not refill: the mbuf pool was empty.",
};
_Static_assert(sizeof(port_help) / sizeof(port_help[0]) ==
		       sizeof(port_families) / sizeof(port_families[0]),
	       "a help text per port counter");

static __u64 load_u64(const void *base, size_t off)
{
	return __atomic_load_n((const __u64 *)((const char *)base + off), __ATOMIC_RELAXED);
}

/* The device name as a label value; the writer's NUL is not trusted. */
static void port_label(const struct sluice_port_status *p, char *out, size_t len)
{
	char name[SLUICE_PORT_NAME_MAX];

	memcpy(name, p->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	label(out, len, name);
}

static void render_ports(struct sluiced *d, struct evbuffer *b)
{
	const struct sluice_status_region *st = dpwatch_status(d->dw);
	unsigned int n = sluice_status_n_ports(st);
	char metric[64], help[128], lname[2 * SLUICE_PORT_NAME_MAX];

	if (n == 0)
		return;
	head(b, "sluice_port_link_up", "gauge", "1 when the data-plane port's link is up.");
	for (unsigned int i = 0; i < n; i++) {
		port_label(&st->ports[i], lname, sizeof(lname));
		evbuffer_add_printf(b, "sluice_port_link_up{port=\"%u\",name=\"%s\"} %u\n",
				    st->ports[i].port_id, lname,
				    __atomic_load_n(&st->ports[i].link_up, __ATOMIC_RELAXED) ? 1 : 0);
	}
	for (size_t k = 0; k < sizeof(port_families) / sizeof(port_families[0]); k++) {
		snprintf(metric, sizeof(metric), "sluice_port_%s_total", port_families[k].name);
		head(b, metric, "counter", port_help[k]);
		for (unsigned int i = 0; i < n; i++) {
			port_label(&st->ports[i], lname, sizeof(lname));
			evbuffer_add_printf(b, "%s{port=\"%u\",name=\"%s\"} %llu\n", metric,
					    st->ports[i].port_id, lname,
					    (unsigned long long)load_u64(&st->ports[i].counters,
									 port_families[k].off));
		}
	}
	for (size_t k = 0; k < sizeof(queue_families) / sizeof(queue_families[0]); k++) {
		snprintf(metric, sizeof(metric), "sluice_port_queue_%s_total",
			 queue_families[k].name);
		snprintf(help, sizeof(help), "Per queue %s of a data-plane port, as its NIC counts "
					     "them; queue N is worker N's.", queue_families[k].name);
		head(b, metric, "counter", help);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int nq = st->ports[i].n_queues;

			port_label(&st->ports[i], lname, sizeof(lname));
			for (unsigned int q = 0; q < nq && q < SLUICE_MAX_PORT_QUEUES; q++)
				evbuffer_add_printf(
					b, "%s{port=\"%u\",name=\"%s\",queue=\"%u\"} %llu\n", metric,
					st->ports[i].port_id, lname, q,
					(unsigned long long)load_u64(&st->ports[i].queue[q],
								     queue_families[k].off));
		}
	}
}

/* The XDP path's own counters (bpf/xdp_abi.h) while it is active: its
 * flow-table hits, misses and ways used are not lcore counters. */
static void render_xdp(struct sluiced *d, struct evbuffer *b)
{
	struct sluice_xdp_counters xc;

	if (xdpctl_read_xdp_counters(d->xdp, &xc) < 0)
		return;
#define SLUICE_X_METRIC(name)                                                                  \
	head(b, "sluice_xdp_" #name "_total", "counter", "XDP path " #name "; see docs/xdp.md."); \
	evbuffer_add_printf(b, "sluice_xdp_" #name "_total %llu\n", (unsigned long long)xc.name);
	SLUICE_XDP_COUNTERS(SLUICE_X_METRIC)
#undef SLUICE_X_METRIC
}

/* One sample line of a per-VIP or per-backend family; labels is
 * `vip="..."` or `vip="...",backend="..."`. */
typedef void sample_fn(struct evbuffer *b, const char *name, const char *labels,
		       struct sluiced *d, const struct model_vip *v,
		       const struct model_backend *mb);

static void s_vip_packets(struct evbuffer *b, const char *name, const char *labels,
			  struct sluiced *d, const struct model_vip *v,
			  const struct model_backend *mb)
{
	struct counter_view cv;

	(void)mb;
	counters_vip(d->counters, v->id, &cv);
	evbuffer_add_printf(b, "%s{%s} %llu\n", name, labels,
			    (unsigned long long)(strstr(name, "bytes") ? cv.bytes : cv.packets));
}

static void s_backend_packets(struct evbuffer *b, const char *name, const char *labels,
			      struct sluiced *d, const struct model_vip *v,
			      const struct model_backend *mb)
{
	struct counter_view cv;

	(void)v;
	counters_backend(d->counters, mb->id, &cv);
	evbuffer_add_printf(b, "%s{%s} %llu\n", name, labels,
			    (unsigned long long)(strstr(name, "bytes") ? cv.bytes : cv.packets));
}

static void s_backend_up(struct evbuffer *b, const char *name, const char *labels,
			 struct sluiced *d, const struct model_vip *v,
			 const struct model_backend *mb)
{
	(void)d, (void)v;
	evbuffer_add_printf(b, "%s{%s} %d\n", name, labels, mb->sm.up);
}

static void s_backend_state(struct evbuffer *b, const char *name, const char *labels,
			    struct sluiced *d, const struct model_vip *v,
			    const struct model_backend *mb)
{
	(void)d, (void)v;
	evbuffer_add_printf(b, "%s{%s,state=\"%s\"} 1\n", name, labels,
			    conf_backend_state_name(model_backend_state(mb)));
}

static void s_check_latency(struct evbuffer *b, const char *name, const char *labels,
			    struct sluiced *d, const struct model_vip *v,
			    const struct model_backend *mb)
{
	(void)d, (void)v;
	if (mb->cfg.health.type != CONF_HEALTH_NONE && mb->sm.last != HEALTH_NONE)
		evbuffer_add_printf(b, "%s{%s} %.6f\n", name, labels,
				    mb->sm.last_latency_us / 1e6);
}

static void s_checks(struct evbuffer *b, const char *name, const char *labels,
		     struct sluiced *d, const struct model_vip *v, const struct model_backend *mb)
{
	(void)d, (void)v;
	if (mb->cfg.health.type != CONF_HEALTH_NONE)
		evbuffer_add_printf(b, "%s{%s} %llu\n", name, labels,
				    (unsigned long long)(strstr(name, "failures")
								 ? mb->sm.failures
								 : mb->sm.checks));
}

/* The digest of the VIP's table in force (lib/snapshot.h), as a label: a
 * 64-bit value does not survive a float. */
static void s_vip_digest(struct evbuffer *b, const char *name, const char *labels,
			 struct sluiced *d, const struct model_vip *v,
			 const struct model_backend *mb)
{
	const struct sluice_snapshot *snap;
	__u64 gen;

	(void)mb;
	snap = daemon_current_snapshot(d, &gen);
	if (!snap || v->id >= snap->n_vips || !snap->vips[v->id].in_use)
		return;
	evbuffer_add_printf(b, "%s{%s,digest=\"%016llx\"} 1\n", name, labels,
			    (unsigned long long)sluice_vip_table_digest(snap, &snap->vips[v->id]));
}

static const struct family {
	const char *name;
	const char *type;
	const char *help;
	bool per_backend;
	sample_fn *fn;
} families[] = {
	{"sluice_vip_packets_total", "counter", "Packets to the VIP.", false, s_vip_packets},
	{"sluice_vip_bytes_total", "counter", "Bytes to the VIP.", false, s_vip_packets},
	{"sluice_table_digest", "gauge",
	 "1, labelled with the digest of the VIP's table in force: hosts of a fleet agree.", false,
	 s_vip_digest},
	{"sluice_backend_packets_total", "counter", "Packets sent to the backend.", true,
	 s_backend_packets},
	{"sluice_backend_bytes_total", "counter", "Bytes sent to the backend.", true,
	 s_backend_packets},
	{"sluice_backend_up", "gauge", "1 when health checks pass (or none are made).", true,
	 s_backend_up},
	{"sluice_backend_state", "gauge", "1 for the backend's effective state.", true,
	 s_backend_state},
	{"sluice_backend_health_check_latency_seconds", "gauge",
	 "Duration of the last health check.", true, s_check_latency},
	{"sluice_backend_health_checks_total", "counter", "Health checks made.", true, s_checks},
	{"sluice_backend_health_check_failures_total", "counter", "Health checks failed.", true,
	 s_checks},
};

static void render_model(struct sluiced *d, struct evbuffer *b)
{
	char vk[SLUICE_VIP_STRLEN], ba[SLUICE_ADDR_STRLEN], v[SLUICE_VIP_STRLEN * 2],
		a[SLUICE_ADDR_STRLEN * 2], labels[256];

	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct family *f = &families[k];

		head(b, f->name, f->type, f->help);
		for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
			const struct model_vip *mv = d->model.vips[i];

			if (!mv)
				continue;
			sluice_vip_key_format(&mv->cfg.key, vk, sizeof(vk));
			label(v, sizeof(v), vk);
			if (!f->per_backend) {
				snprintf(labels, sizeof(labels), "vip=\"%s\"", v);
				f->fn(b, f->name, labels, d, mv, NULL);
				continue;
			}
			for (size_t j = 0; j < mv->n_backends; j++) {
				sluice_addr_format(&mv->backends[j]->cfg.addr, ba, sizeof(ba));
				label(a, sizeof(a), ba);
				snprintf(labels, sizeof(labels), "vip=\"%s\",backend=\"%s\"", v, a);
				f->fn(b, f->name, labels, d, mv, mv->backends[j]);
			}
		}
	}
}

void metrics_render(struct sluiced *d, struct evbuffer *b)
{
	render_publish(d, b);
	render_dataplane(d, b);
	render_counters(d, b);
	render_ports(d, b);
	render_xdp(d, b);
	render_model(d, b);
	head(b, "sluice_health_checks_in_flight", "gauge", "Health probes running now.");
	evbuffer_add_printf(b, "sluice_health_checks_in_flight %u\n", d->checkers.in_flight);
	head(b, "sluice_health_state_changes_total", "counter",
	     "Backends that went up or down since start.");
	evbuffer_add_printf(b, "sluice_health_state_changes_total %llu\n",
			    (unsigned long long)d->health_changes);
	routing_render_metrics(d->routing, b);
}

static void page_unref(struct page *p)
{
	if (!p || --p->refs)
		return;
	page_bytes -= p->len;
	free(p);
}

static void page_cleanup(const void *data, size_t len, void *arg)
{
	(void)data, (void)len;
	page_unref(arg);
}

/* The page for a scrape starting now, with a reference for the caller. */
static struct page *page_get(struct metrics *m)
{
	struct page *p, *l = m->latest;
	__u64 now = sluice_now_ns();
	struct evbuffer *b;
	size_t len;

	if (l && ((l->refs > 1 && now - l->rendered_ns < METRICS_SHARE_MS * 1000000ull) ||
		  page_bytes + l->len > METRICS_PAGE_BUDGET)) {
		l->refs++;
		return l;
	}
	b = evbuffer_new();
	if (!b)
		return NULL;
	metrics_render(m->d, b);
	len = evbuffer_get_length(b);
	p = malloc(sizeof(*p) + len);
	if (!p) {
		evbuffer_free(b);
		return NULL;
	}
	evbuffer_remove(b, p->data, len);
	evbuffer_free(b);
	p->len = len;
	p->refs = 2; /* the caller's and latest's */
	p->rendered_ns = now;
	page_bytes += len;
	page_unref(m->latest);
	m->latest = p;
	return p;
}

static void listener_update(struct metrics *m)
{
	if (!m->resting && m->n_conns < m->max_conns)
		evconnlistener_enable(m->lis);
	else
		evconnlistener_disable(m->lis);
}

static void conn_close(struct conn *c)
{
	struct metrics *m = c->m;

	LIST_REMOVE(c, link);
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
	m->n_conns--;
	listener_update(m);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	conn_close(arg);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_close(arg);
}

static void on_conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev, (void)what;
	conn_close(arg);
}

/* Queue the status line and headers (and the page unless head_only), then
 * close once all of it is written. */
static void respond(struct conn *c, int status, const char *reason, struct page *page,
		    bool head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char text[64];
	size_t len = page ? page->len : (size_t)snprintf(text, sizeof(text), "%d %s\n", status,
							   reason);

	bufferevent_disable(c->bev, EV_READ);
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n",
			    status, reason,
			    page ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", len);
	if (head_only)
		page_unref(page);
	else if (page)
		evbuffer_add_reference(out, page->data, page->len, page_cleanup, page);
	else
		evbuffer_add(out, text, len);
	bufferevent_setcb(c->bev, NULL, on_written, on_conn_event, c);
}

/* The request line and headers are all in; answer them. */
static void handle(struct conn *c, struct evbuffer *in)
{
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF), *hdr;
	char *method, *target, *version, *save = NULL;
	bool body = false, head;
	struct page *page;

	method = line ? strtok_r(line, " ", &save) : NULL;
	target = method ? strtok_r(NULL, " ", &save) : NULL;
	version = target ? strtok_r(NULL, " ", &save) : NULL;
	if (!version || strtok_r(NULL, " ", &save) || strncmp(version, "HTTP/1.", 7)) {
		free(line);
		respond(c, 400, "Bad Request", NULL, false);
		return;
	}
	while ((hdr = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) && hdr[0]) {
		char *colon = strchr(hdr, ':');

		/* There is no body to read: a request announcing one is refused
		 * rather than read or left to be taken for the next request. */
		if (colon && ((colon - hdr == 17 && !strncasecmp(hdr, "transfer-encoding", 17)) ||
			      (colon - hdr == 14 && !strncasecmp(hdr, "content-length", 14) &&
			       strtoul(colon + 1, NULL, 10) != 0)))
			body = true;
		free(hdr);
	}
	free(hdr);
	head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") && !head)
		respond(c, 501, "Not Implemented", NULL, false);
	else if (body)
		respond(c, 413, "Payload Too Large", NULL, false);
	else if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9))
		respond(c, 404, "Not Found", NULL, false);
	else if (!(page = page_get(c->m)))
		respond(c, 503, "Service Unavailable", NULL, false);
	else
		respond(c, 200, "OK", page, head);
	free(line);
}

static void on_readable(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);

	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos >= 0 && (size_t)end.pos <= METRICS_MAX_HEADERS)
		handle(arg, in);
	else if (evbuffer_get_length(in) > METRICS_MAX_HEADERS)
		respond(arg, 400, "Bad Request", NULL, false);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct metrics *m = arg;
	const struct timeval deadline = {METRICS_DEADLINE_S, 0};
	struct conn *c = calloc(1, sizeof(*c));

	(void)lis, (void)sa, (void)salen;
	if (!c || m->n_conns >= m->max_conns ||
	    !(c->bev = bufferevent_socket_new(m->d->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->m = m;
	c->deadline = evtimer_new(m->d->base, on_deadline, c);
	if (!c->deadline) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&m->conns, c, link);
	m->n_conns++;
	evtimer_add(c->deadline, &deadline);
	/* Past the limit the headers are refused: no need to read more. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, METRICS_MAX_HEADERS + 1);
	bufferevent_setcb(c->bev, on_readable, NULL, on_conn_event, c);
	bufferevent_enable(c->bev, EV_READ);
	listener_update(m);
}

static void on_rested(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;

	(void)fd, (void)what;
	m->resting = false;
	listener_update(m);
}

static void on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct metrics *m = arg;
	const struct timeval rest = {0, METRICS_ACCEPT_REST_MS * 1000};
	int err = EVUTIL_SOCKET_ERROR();

	(void)lis;
	slog_rl(&m->accept_rl, SLOG_WARN,
		"metrics: cannot accept a connection: %s (%u open); pausing %u ms",
		strerror(err), m->n_conns, METRICS_ACCEPT_REST_MS);
	m->resting = true;
	listener_update(m);
	evtimer_add(m->rest, &rest);
}

/* A share of the descriptors, so that connections to this port can never
 * take those the health probes and the control socket need. */
static unsigned int max_conns(void)
{
	struct rlimit rl;
	rlim_t share;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return METRICS_MAX_CONNS;
	share = rl.rlim_cur / METRICS_FD_SHARE;
	if (share < 1)
		share = 1;
	return share < METRICS_MAX_CONNS ? (unsigned int)share : METRICS_MAX_CONNS;
}

int metrics_start(struct sluiced *d, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->d = d;
	LIST_INIT(&m->conns);
	m->max_conns = max_conns();
	m->accept_rl = (struct slog_ratelimit)SLOG_RATELIMIT_INIT(10, 1);
	if (evutil_parse_sockaddr_port(d->base_conf.metrics_listen, (struct sockaddr *)&ss,
				       &sslen) < 0) {
		slog(SLOG_ERR, "metrics: cannot parse %s", d->base_conf.metrics_listen);
		free(m);
		return -EINVAL;
	}
	m->rest = evtimer_new(d->base, on_rested, m);
	m->lis = m->rest ? evconnlistener_new_bind(d->base, on_accept, m,
						   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
							   LEV_OPT_REUSEABLE,
						   METRICS_BACKLOG, (struct sockaddr *)&ss, sslen)
			 : NULL;
	if (!m->lis) {
		slog(SLOG_ERR, "metrics: cannot listen on %s: %s", d->base_conf.metrics_listen,
		     strerror(errno));
		if (m->rest)
			event_free(m->rest);
		free(m);
		return -EADDRINUSE;
	}
	evconnlistener_set_error_cb(m->lis, on_accept_error);
	slog(SLOG_INFO, "metrics on http://%s/metrics (at most %u connections, %u s each)",
	     d->base_conf.metrics_listen, m->max_conns, METRICS_DEADLINE_S);
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	while (!LIST_EMPTY(&m->conns))
		conn_close(LIST_FIRST(&m->conns));
	evconnlistener_free(m->lis);
	event_free(m->rest);
	page_unref(m->latest);
	free(m);
}
