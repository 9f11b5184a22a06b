/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands that report: VIPs and backends from the running model, health
 * from the state machines, tables and flow placement from the snapshot in
 * force in shared memory (what the data plane uses, not what sluiced
 * intends), daemon status.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "dptelemetry.h"
#include "routing.h"
#include "xdp.h"
#include "snapshot.h"
#include "sluice/flow.h"

static json_t *health_json(const struct model_backend *b)
{
	const struct health_sm *sm = &b->sm;
	json_t *h = json_pack("{s:s, s:b, s:f, s:f}", "check",
			      conf_health_type_name(b->cfg.health.type), "up", sm->up, "since_s",
			      cmd_age_s(sm->since_ns), "since_unix", cmd_unix_time(sm->since_ns));

	if (b->cfg.health.type == CONF_HEALTH_NONE || !h)
		return h;
	json_object_set_new(h, "last", json_string(health_result_name(sm->last)));
	json_object_set_new(h, "detail", json_string(sm->last == HEALTH_NONE ? "" : sm->detail));
	json_object_set_new(h, "latency_us", json_integer(sm->last_latency_us));
	json_object_set_new(h, "checks", json_integer((json_int_t)sm->checks));
	json_object_set_new(h, "failures", json_integer((json_int_t)sm->failures));
	json_object_set_new(h, "rise", json_integer(sm->rise));
	json_object_set_new(h, "fall", json_integer(sm->fall));
	if (sm->last != HEALTH_NONE)
		json_object_set_new(h, "last_check_s", json_real(cmd_age_s(sm->last_ns)));
	return h;
}

static json_t *backend_json(const struct model_backend *b)
{
	json_t *o = json_pack("{s:o, s:I, s:I, s:s, s:s, s:o}", "address", ju_addr(&b->cfg.addr),
			      "id", (json_int_t)b->id, "weight", (json_int_t)b->cfg.weight, "state",
			      conf_backend_state_name(b->cfg.state), "effective_state",
			      conf_backend_state_name(model_backend_state(b)), "health",
			      health_json(b));

	if (o && b->cfg.has_mac)
		json_object_set_new(o, "mac", ju_mac(b->cfg.mac));
	return o;
}

static json_t *vip_json(const struct model_vip *v, bool with_backends)
{
	json_t *o = conf_vip_settings_to_json(&v->cfg), *bs = json_array();
	size_t up = 0;

	for (size_t i = 0; i < v->n_backends; i++) {
		if (model_backend_state(v->backends[i]) == SLUICE_BACKEND_ACTIVE)
			up++;
		if (with_backends)
			json_array_append_new(bs, backend_json(v->backends[i]));
	}
	json_object_set_new(o, "vip", ju_vip_key(&v->cfg.key));
	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "n_backends", json_integer((json_int_t)v->n_backends));
	json_object_set_new(o, "n_active", json_integer((json_int_t)up));
	if (with_backends)
		json_object_set_new(o, "backends", bs);
	else
		json_decref(bs);
	return o;
}

json_t *cmd_vip_list(struct sluiced *d, const json_t *req)
{
	json_t *resp = cmd_ok(), *vips = json_array();

	(void)req;
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		if (d->model.vips[i])
			json_array_append_new(vips, vip_json(d->model.vips[i], false));
	json_object_set_new(resp, "vips", vips);
	return resp;
}

json_t *cmd_vip_show(struct sluiced *d, const json_t *req)
{
	json_t *resp;
	struct model_vip *v = cmd_model_vip(d, req, &resp);

	if (!v)
		return resp;
	resp = cmd_ok();
	json_object_set_new(resp, "vip", vip_json(v, true));
	return resp;
}

json_t *cmd_backend_list(struct sluiced *d, const json_t *req)
{
	json_t *resp, *bs;
	struct model_vip *v = cmd_model_vip(d, req, &resp);

	if (!v)
		return resp;
	bs = json_array();
	for (size_t i = 0; i < v->n_backends; i++)
		json_array_append_new(bs, backend_json(v->backends[i]));
	resp = cmd_ok();
	json_object_set_new(resp, "vip", ju_vip_key(&v->cfg.key));
	json_object_set_new(resp, "backends", bs);
	return resp;
}

json_t *cmd_health(struct sluiced *d, const json_t *req)
{
	json_t *resp = NULL, *list = json_array();
	const struct model_vip *only = NULL;

	if (json_object_get(req, "vip") && !(only = cmd_model_vip(d, req, &resp))) {
		json_decref(list);
		return resp;
	}
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		const struct model_vip *v = d->model.vips[i];

		if (!v || (only && v != only))
			continue;
		for (size_t j = 0; j < v->n_backends; j++) {
			json_t *o = health_json(v->backends[j]);

			json_object_set_new(o, "vip", ju_vip_key(&v->cfg.key));
			json_object_set_new(o, "address", ju_addr(&v->backends[j]->cfg.addr));
			json_object_set_new(o, "id", json_integer(v->backends[j]->id));
			json_object_set_new(o, "effective_state",
					    json_string(conf_backend_state_name(
						    model_backend_state(v->backends[j]))));
			json_array_append_new(list, o);
		}
	}
	resp = cmd_ok();
	json_object_set_new(resp, "backends", list);
	return resp;
}

/* A snapshot VIP's key, canonical. */
static json_t *snap_vip_key(const struct sluice_vip *v)
{
	struct sluice_vip_key k = {.addr = v->addr, .port = ntohs(v->port), .proto = v->proto};

	return ju_vip_key(&k);
}

/* The VIP of the request in the snapshot in force, or NULL with *resp. */
static const struct sluice_vip *snap_vip(struct sluiced *d, const json_t *req,
					 const struct sluice_snapshot **snap, __u64 *gen,
					 json_t **resp)
{
	struct sluice_vip_key k;
	char s[SLUICE_VIP_STRLEN];
	int id;

	if (cmd_vip_key(req, &k, resp) < 0)
		return NULL;
	sluice_vip_key_format(&k, s, sizeof(s));
	*snap = daemon_current_snapshot(d, gen);
	if (!*snap) {
		*resp = control_error("nothing is published yet");
		return NULL;
	}
	id = sluice_vip_index_find(*snap, &k.addr, htons(k.port), k.proto);
	if (id < 0) {
		*resp = control_error("no VIP %s in generation %llu", s, (unsigned long long)*gen);
		return NULL;
	}
	return &(*snap)->vips[id];
}

json_t *cmd_table(struct sluiced *d, const json_t *req)
{
	const struct sluice_snapshot *snap;
	const struct sluice_vip *v;
	__u32 *slots;
	__u64 gen, wsum = 0;
	json_t *resp, *bs;

	v = snap_vip(d, req, &snap, &gen, &resp);
	if (!v)
		return resp;
	slots = calloc(v->backend_count ? v->backend_count : 1, sizeof(*slots));
	if (!slots)
		return control_error("out of memory");
	for (__u32 s = 0; s < v->table_size; s++) {
		__u16 x = snap->tables[v->table_offset + s];

		if (x < v->backend_count)
			slots[x]++;
	}
	for (__u32 i = 0; i < v->backend_count; i++) {
		const struct sluice_backend *b = &snap->backends[v->backend_first + i];

		if (b->state == SLUICE_BACKEND_ACTIVE)
			wsum += b->weight;
	}
	bs = json_array();
	for (__u32 i = 0; i < v->backend_count; i++) {
		const struct sluice_backend *b = &snap->backends[v->backend_first + i];
		bool takes = b->state == SLUICE_BACKEND_ACTIVE;

		json_array_append_new(
			bs, json_pack("{s:o, s:I, s:s, s:I, s:I, s:f, s:f}", "address",
				      ju_addr(&b->addr), "id", (json_int_t)b->id, "state",
				      conf_backend_state_name(b->state), "weight",
				      (json_int_t)b->weight, "slots", (json_int_t)slots[i], "share",
				      v->table_size ? (double)slots[i] / v->table_size : 0.0,
				      "weight_share",
				      takes && wsum ? (double)b->weight / (double)wsum : 0.0));
	}
	free(slots);
	resp = cmd_ok();
	json_object_set_new(resp, "vip", snap_vip_key(v));
	json_object_set_new(resp, "generation", json_integer((json_int_t)gen));
	json_object_set_new(resp, "vip_id", json_integer(v->id));
	json_object_set_new(resp, "table_size", json_integer(v->table_size));
	{
		char digest[17];

		snprintf(digest, sizeof(digest), "%016llx",
			 (unsigned long long)sluice_vip_table_digest(snap, v));
		json_object_set_new(resp, "digest", json_string(digest));
	}
	json_object_set_new(resp, "backends", bs);
	return resp;
}

/*
 * What the data path's flow table holds for the flow, when it can be
 * asked: sluice-dp through its telemetry socket (each worker's table), or
 * the XDP path's map. Returns the "flow_table" object with "found"; when
 * found, its backend (and whether it still keeps the flow); NULL when
 * nothing could be asked (*why says so).
 */
static json_t *flow_table_entry(struct sluiced *d, const struct sluice_snapshot *snap,
				const struct sluice_vip *v, const struct sluice_flow_key *key,
				const struct sluice_addr *caddr, __u16 cport, __u16 dport,
				const struct sluice_backend **be_out, char *why, size_t whylen)
{
	char cs[INET6_ADDRSTRLEN], vs[INET6_ADDRSTRLEN], cmd[200];
	int af = caddr->family == SLUICE_FAMILY_V6 ? AF_INET6 : AF_INET;
	struct dpwatch_info di;
	const struct sluice_backend *b;
	json_t *ft = NULL;
	__u16 id = 0, vid = 0;
	__u32 cls;

	*be_out = NULL;
	dpwatch_get_info(d->dw, &di);
	if (di.alive) {
		inet_ntop(af, caddr->bytes, cs, sizeof(cs));
		inet_ntop(af, v->addr.bytes, vs, sizeof(vs));
		snprintf(cmd, sizeof(cmd), "/sluice/flow,%s,%s,%u,%s,%u",
			 sluice_proto_name(v->proto), cs, cport, vs, dport);
		ft = dptelemetry_query((pid_t)di.writer_pid, cmd, why, whylen);
		if (!ft)
			return NULL;
		json_object_set_new(ft, "path", json_string("dpdk"));
		/* An expired entry not yet reused is a new flow to the data
		 * path. */
		json_object_set_new(ft, "found",
				    json_boolean(json_integer_value(json_object_get(ft, "found")) &&
						 json_integer_value(json_object_get(
							 ft, "expires_in_ms")) > 0));
		json_object_del(ft, "vip");
		if (!json_is_true(json_object_get(ft, "found")))
			return ft;
		id = (__u16)json_integer_value(json_object_get(ft, "backend_id"));
		vid = (__u16)json_integer_value(json_object_get(ft, "vip_id"));
	} else if (xdpctl_active(d->xdp)) {
		int rc = xdpctl_find_flow(d->xdp, key, v->hash_seed, &id, &vid, &cls);

		if (rc < 0) {
			snprintf(why, whylen, "cannot read the XDP flow table: %s", strerror(-rc));
			return NULL;
		}
		ft = json_pack("{s:s, s:b}", "path", "xdp", "found", rc == 1);
		if (rc == 0)
			return ft;
		json_object_set_new(ft, "backend_id", json_integer(id));
		json_object_set_new(ft, "class", json_string(sluice_flow_class_name(cls & 3)));
	} else {
		snprintf(why, whylen, "no data path is running");
		return NULL;
	}
	b = id < SLUICE_MAX_BACKENDS ? sluice_snapshot_backend(snap, id) : NULL;
	if (sluice_flow_stays(b, vid, v->id))
		*be_out = b;
	return ft;
}

json_t *cmd_explain(struct sluiced *d, const json_t *req)
{
	char msg[256], h[24];
	struct ju_err e = {msg, sizeof(msg)};
	const struct sluice_snapshot *snap;
	const struct sluice_backend *b;
	const struct sluice_vip *v;
	struct sluice_flow_key key;
	struct sluice_addr caddr;
	__u16 cport, dport;
	__u32 port = 0;
	bool present;
	__u64 gen, hash;
	const struct sluice_backend *kept;
	char why[200];
	json_t *resp, *ft;
	const char *client = json_string_value(json_object_get(req, "client"));
	const json_t *proto = json_object_get(req, "protocol");
	__u8 p;

	v = snap_vip(d, req, &snap, &gen, &resp);
	if (!v)
		return resp;
	/* The flow's protocol picks nothing (it is the VIP's): one that
	 * differs asks about flows this VIP never sees. */
	if (proto && sluice_proto_parse(json_string_value(proto), &p) < 0)
		return control_error("\"protocol\": expected \"tcp\" or \"udp\"");
	if (proto && p != v->proto)
		return control_error("protocol %s: the VIP is %s", json_string_value(proto),
				     sluice_proto_name(v->proto));
	if (!client || sluice_endpoint_parse(client, &caddr, &cport) < 0)
		return control_error("\"client\": expected ADDRESS:PORT (IPv6 in brackets)");
	if (caddr.family != v->addr.family)
		return control_error("the client and the VIP are of different address families");
	if (ju_get_u32(&e, req, "port", "", 1, 65535, &port, &present) < 0)
		return control_error("%s", msg);
	dport = v->port ? ntohs(v->port) : (__u16)port;
	if (!v->port && !present)
		return control_error("the VIP takes every port: give the destination \"port\"");
	if (v->addr.family == SLUICE_FAMILY_V4) {
		__be32 src, dst;

		memcpy(&src, caddr.bytes, 4);
		memcpy(&dst, v->addr.bytes, 4);
		sluice_flow_key_v4(&key, src, dst, v->proto, htons(cport), htons(dport));
	} else {
		sluice_flow_key_v6(&key, caddr.bytes, v->addr.bytes, v->proto, htons(cport),
				   htons(dport));
	}
	hash = sluice_flow_hash(&key, v->hash_seed);
	b = sluice_table_pick(snap, v, hash);
	snprintf(h, sizeof(h), "0x%016llx", (unsigned long long)hash);
	ft = flow_table_entry(d, snap, v, &key, &caddr, cport, dport, &kept, why, sizeof(why));
	resp = cmd_ok();
	json_object_set_new(resp, "vip", snap_vip_key(v));
	json_object_set_new(resp, "generation", json_integer((json_int_t)gen));
	json_object_set_new(resp, "protocol", json_string(sluice_proto_name(v->proto)));
	json_object_set_new(resp, "client", json_string(client));
	json_object_set_new(resp, "destination_port", json_integer(dport));
	json_object_set_new(resp, "hash", json_string(h));
	json_object_set_new(resp, "table_size", json_integer(v->table_size));
	if (ft)
		json_object_set_new(resp, "flow_table", ft);
	if (kept) {
		/* Established: its entry decides, whatever the table says. */
		json_object_set_new(resp, "by", json_string("flow table"));
		json_object_set_new(resp, "note",
				    json_string("an established flow: it stays on this backend "
						"while the backend keeps its flows (active or "
						"draining)"));
		if (b && b != kept)
			json_object_set_new(resp, "table_backend", ju_addr(&b->addr));
		b = kept;
	} else {
		json_object_set_new(resp, "by", json_string("lookup table"));
		json_object_set_new(
			resp, "note",
			json_string(!ft ? why
				    : json_is_true(json_object_get(ft, "found"))
					    ? "its flow-table entry names a backend that no longer "
					      "keeps flows: the next packet re-picks it here"
					    : "no flow-table entry: a new flow goes here"));
	}
	if (!b) {
		json_object_set_new(resp, "backend", json_null());
		json_object_set_new(resp, "reason",
				    json_string("no backend takes new flows: packets are "
						"dropped (no_backend)"));
		return resp;
	}
	json_object_set_new(resp, "slot", json_integer(sluice_table_slot(hash, v->table_size)));
	json_object_set_new(resp, "backend",
			    json_pack("{s:o, s:I, s:s, s:I}", "address", ju_addr(&b->addr), "id",
				      (json_int_t)b->id, "state", conf_backend_state_name(b->state),
				      "weight", (json_int_t)b->weight));
	return resp;
}

json_t *cmd_status(struct sluiced *d, const json_t *req)
{
	struct publisher_stats ps;
	struct dpwatch_info di;
	json_t *resp = cmd_ok(), *dp;

	(void)req;
	publisher_get_stats(d->pub, &ps);
	dpwatch_get_info(d->dw, &di);
	dp = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I}", "mode", conf_dp_mode_name(d->eff.dp_mode),
		       "attached", di.attached, "alive", di.alive, "pid",
		       (json_int_t)di.writer_pid, "lcores", (json_int_t)di.n_lcores, "live",
		       (json_int_t)di.live);
	if (di.has_age)
		json_object_set_new(dp, "heartbeat_age_ms", json_real((double)di.age_ns / 1e6));
	json_object_set_new(dp, "xdp", json_string(xdpctl_state(d->xdp)));
	json_object_set_new(resp, "instance", json_string(d->eff.instance));
	json_object_set_new(resp, "config", json_string(d->config_path));
	json_object_set_new(resp, "state_file", json_string(d->state_path));
	json_object_set_new(resp, "uptime_s", json_real(cmd_age_s(d->start_ns)));
	json_object_set_new(resp, "vips", json_integer((json_int_t)d->model.n_vips));
	json_object_set_new(resp, "backends", json_integer((json_int_t)d->model.n_backends));
	json_object_set_new(resp, "cli_changes",
			    json_integer((json_int_t)(d->overlay.n_vips + d->overlay.n_backends)));
	json_object_set_new(resp, "generation", json_integer((json_int_t)ps.generation));
	json_object_set_new(resp, "publishes", json_integer((json_int_t)ps.publishes));
	json_object_set_new(resp, "unchanged_rebuilds", json_integer((json_int_t)ps.unchanged));
	json_object_set_new(resp, "publish_latency_us",
			    json_real((double)ps.last_latency_ns / 1e3));
	json_object_set_new(resp, "health_checks_in_flight",
			    json_integer(d->checkers.in_flight));
	json_object_set_new(resp, "dataplane", dp);
	json_object_set_new(resp, "routing", routing_status_json(d->routing));
	return resp;
}
