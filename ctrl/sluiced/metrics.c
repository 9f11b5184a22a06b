/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus text format on /metrics. See metrics.h. */
#include <errno.h>
#include <event2/http.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"

/* A scrape is a GET with a few short headers and no body. libevent's
 * defaults are unlimited: anyone who reaches the port could make sluiced
 * buffer headers or a body without bound. */
#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 0

struct metrics {
	struct sluiced *d;
	struct evhttp *http;
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
static const struct lcore_family {
	const char *name;
	size_t off;
} lcore_families[] = {
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
		const struct lcore_family *f = &lcore_families[k];
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

static const struct family {
	const char *name;
	const char *type;
	const char *help;
	bool per_backend;
	sample_fn *fn;
} families[] = {
	{"sluice_vip_packets_total", "counter", "Packets to the VIP.", false, s_vip_packets},
	{"sluice_vip_bytes_total", "counter", "Bytes to the VIP.", false, s_vip_packets},
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
	render_xdp(d, b);
	render_model(d, b);
	head(b, "sluice_health_checks_in_flight", "gauge", "Health probes running now.");
	evbuffer_add_printf(b, "sluice_health_checks_in_flight %u\n", d->checkers.in_flight);
	head(b, "sluice_health_state_changes_total", "counter",
	     "Backends that went up or down since start.");
	evbuffer_add_printf(b, "sluice_health_state_changes_total %llu\n",
			    (unsigned long long)d->health_changes);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	metrics_render(m->d, b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics lives here");
}

int metrics_start(struct sluiced *d, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sluice_addr addr;
	char host[SLUICE_ADDR_STRLEN];
	__u16 port;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->d = d;
	sluice_endpoint_parse(d->base_conf.metrics_listen, &addr, &port);
	sluice_addr_format(&addr, host, sizeof(host));
	m->http = evhttp_new(d->base);
	if (!m->http) {
		free(m);
		return -ENOMEM;
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_cb(m->http, "/metrics", on_metrics, m);
	evhttp_set_gencb(m->http, on_other, m);
	if (!evhttp_bind_socket_with_handle(m->http, host, port)) {
		slog(SLOG_ERR, "metrics: cannot listen on %s: %s", d->base_conf.metrics_listen,
		     strerror(errno));
		evhttp_free(m->http);
		free(m);
		return -EADDRINUSE;
	}
	slog(SLOG_INFO, "metrics on http://%s/metrics", d->base_conf.metrics_listen);
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	evhttp_free(m->http);
	free(m);
}
