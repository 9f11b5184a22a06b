/* SPDX-License-Identifier: BSD-3-Clause */
/* `stats`: traffic per VIP and backend, drops by reason, per lcore, per
 * data-plane port. */
#include <string.h>

#include "commands.h"
#include "control.h"

static json_t *view_json(const struct counter_view *v)
{
	return json_pack("{s:I, s:I, s:f, s:f}", "packets", (json_int_t)v->packets, "bytes",
			 (json_int_t)v->bytes, "pps", v->pps, "bps", v->bps);
}

static json_t *counters_json(const struct sluice_lcore_counters *c)
{
	json_t *o = json_object(), *drops = json_object();

#define SLUICE_X_JSON(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	SLUICE_LCORE_COUNTERS(SLUICE_X_JSON)
#undef SLUICE_X_JSON
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		json_object_set_new(drops, sluice_drop_name(r), json_integer((json_int_t)c->drops[r]));
	json_object_set_new(o, "drops", drops);
	return o;
}

static json_t *lcores_json(const struct sluiced *d)
{
	const struct sluice_status_region *st = dpwatch_status(d->dw);
	json_t *arr = json_array();
	unsigned int n = st ? st->hdr->n_lcores : 0;
	__u64 now = sluice_now_ns();

	if (n > SLUICE_MAX_LCORES)
		n = SLUICE_MAX_LCORES;
	for (unsigned int i = 0; i < n; i++) {
		const struct sluice_lcore_status *l = &st->lcores[i];
		__u32 state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
		__u64 hb = __atomic_load_n(&l->heartbeat_ns, __ATOMIC_RELAXED);
		json_t *o;

		if (state == SLUICE_LCORE_UNUSED)
			continue;
		o = json_pack("{s:I, s:I, s:s, s:f, s:I}", "index", (json_int_t)i, "lcore_id",
			      (json_int_t)l->lcore_id, "state",
			      state == SLUICE_LCORE_ONLINE ? "online" : "offline",
			      "heartbeat_age_ms", hb >= now ? 0.0 : (double)(now - hb) / 1e6,
			      "seen_generation",
			      (json_int_t)__atomic_load_n(&l->seen_generation, __ATOMIC_ACQUIRE));
		json_object_set_new(o, "counters", counters_json(&l->counters));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The data plane's ports: the NIC's own counters (drops before a worker
 * read a packet) and per queue, as sluice-dp's main lcore last read them. */
static json_t *ports_json(const struct sluiced *d)
{
	const struct sluice_status_region *st = dpwatch_status(d->dw);
	json_t *arr = json_array();
	unsigned int n = sluice_status_n_ports(st);
	__u64 now = sluice_now_ns();

	for (unsigned int i = 0; i < n; i++) {
		const struct sluice_port_status *p = &st->ports[i];
		__u64 at = __atomic_load_n(&p->updated_ns, __ATOMIC_ACQUIRE);
		unsigned int nq = p->n_queues > SLUICE_MAX_PORT_QUEUES ? SLUICE_MAX_PORT_QUEUES
								       : p->n_queues;
		json_t *o, *c = json_object(), *qs = json_array();
		char name[SLUICE_PORT_NAME_MAX];

		memcpy(name, p->name, sizeof(name));
		name[sizeof(name) - 1] = '\0'; /* the writer's NUL, whatever it wrote */
		o = json_pack("{s:I, s:s, s:I, s:b}", "port", (json_int_t)p->port_id, "name", name,
			      "queues", (json_int_t)p->n_queues, "link_up",
			      __atomic_load_n(&p->link_up, __ATOMIC_RELAXED) != 0);
		if (at)
			json_object_set_new(o, "updated_age_ms",
					    json_real(at >= now ? 0.0 : (double)(now - at) / 1e6));
#define SLUICE_X_JSON(f)                                                                \
	json_object_set_new(c, #f, json_integer((json_int_t)__atomic_load_n(&p->counters.f, \
									    __ATOMIC_RELAXED)));
		SLUICE_PORT_COUNTERS(SLUICE_X_JSON)
#undef SLUICE_X_JSON
		for (unsigned int q = 0; q < nq; q++) {
			json_t *qo = json_pack("{s:I}", "queue", (json_int_t)q);

#define SLUICE_X_JSON(f)                                                                 \
	json_object_set_new(qo, #f, json_integer((json_int_t)__atomic_load_n(&p->queue[q].f, \
									     __ATOMIC_RELAXED)));
			SLUICE_QUEUE_COUNTERS(SLUICE_X_JSON)
#undef SLUICE_X_JSON
			json_array_append_new(qs, qo);
		}
		json_object_set_new(o, "counters", c);
		json_object_set_new(o, "per_queue", qs);
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The XDP path's own counters (bpf/xdp_abi.h), passes by drop-reason name. */
static json_t *xdp_json(const struct sluice_xdp_counters *c)
{
	json_t *o = json_object(), *pass = json_object();

#define SLUICE_X_ADD(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	SLUICE_XDP_COUNTERS(SLUICE_X_ADD)
#undef SLUICE_X_ADD
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		json_object_set_new(pass, sluice_drop_name(r), json_integer((json_int_t)c->pass[r]));
	json_object_set_new(o, "pass", pass);
	return o;
}

json_t *cmd_stats(struct sluiced *d, const json_t *req)
{
	const struct model_vip *only = NULL;
	const struct sluice_lcore_status *xdp;
	struct sluice_xdp_counters xc;
	struct sluice_lcore_counters total;
	struct dpwatch_info di;
	struct counter_view cv;
	json_t *resp = NULL, *vips, *dp;

	if (json_object_get(req, "vip") && !(only = cmd_model_vip(d, req, &resp)))
		return resp;
	dpwatch_get_info(d->dw, &di);
	vips = json_array();
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		const struct model_vip *v = d->model.vips[i];
		json_t *o, *bs;

		if (!v || (only && v != only))
			continue;
		bs = json_array();
		counters_vip(d->counters, v->id, &cv);
		o = view_json(&cv);
		json_object_set_new(o, "vip", ju_vip_key(&v->cfg.key));
		json_object_set_new(o, "id", json_integer(v->id));
		for (size_t j = 0; j < v->n_backends; j++) {
			const struct model_backend *b = v->backends[j];
			json_t *bo;

			counters_backend(d->counters, b->id, &cv);
			bo = view_json(&cv);
			json_object_set_new(bo, "address", ju_addr(&b->cfg.addr));
			json_object_set_new(bo, "id", json_integer(b->id));
			json_object_set_new(bo, "effective_state",
					    json_string(conf_backend_state_name(
						    model_backend_state(b))));
			json_array_append_new(bs, bo);
		}
		json_object_set_new(o, "backends", bs);
		json_array_append_new(vips, o);
	}
	counters_total(d->counters, &total);
	dp = json_pack("{s:b, s:b, s:I, s:I}", "attached", di.attached, "alive", di.alive, "pid",
		       (json_int_t)di.writer_pid, "live_lcores", (json_int_t)di.live);
	if (di.has_age)
		json_object_set_new(dp, "heartbeat_age_ms", json_real((double)di.age_ns / 1e6));
	resp = cmd_ok();
	json_object_set_new(resp, "dataplane", dp);
	json_object_set_new(resp, "xdp", json_string(xdpctl_state(d->xdp)));
	json_object_set_new(resp, "totals", counters_json(&total));
	json_object_set_new(resp, "vips", vips);
	json_object_set_new(resp, "lcores", lcores_json(d));
	json_object_set_new(resp, "ports", ports_json(d));
	xdp = counters_xdp(d->counters);
	if (xdp)
		json_object_set_new(resp, "xdp_counters", counters_json(&xdp->counters));
	if (xdpctl_read_xdp_counters(d->xdp, &xc) == 0)
		json_object_set_new(resp, "xdp_path", xdp_json(&xc));
	json_object_set_new(resp, "time_unix", json_real(cmd_unix_time(sluice_now_ns())));
	return resp;
}
