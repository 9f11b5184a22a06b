/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands that change the running configuration. Each one edits a copy of
 * the overlay, and daemon_commit() validates the result, applies it,
 * saves the state file and schedules the publish; the reply goes out once
 * the data plane has the change (control.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "log.h"

/* Commit ov (a copy of d->overlay, edited); logs what was done. With
 * "dry_run" in req, only say what the change would do to VIP k's table
 * (cmd_dryrun.c). Takes ov either way. */
static json_t *commit(struct sluiced *d, const json_t *req, struct overlay *ov,
		      const struct sluice_vip_key *k, const char *what)
{
	char msg[512];
	struct ju_err e = {msg, sizeof(msg)};

	if (json_is_true(json_object_get(req, "dry_run")))
		return cmd_dry_run(d, ov, k, what);
	if (daemon_commit(d, &d->base_conf, ov, &e) < 0) {
		overlay_free(ov);
		return control_error("%s", msg);
	}
	slog(SLOG_INFO, "control: %s", what);
	return cmd_ok();
}

json_t *cmd_vip_add(struct sluiced *d, const json_t *req)
{
	const json_t *settings = json_object_get(req, "settings");
	char msg[512], what[128], s[SLUICE_VIP_STRLEN], a[SLUICE_ADDR_STRLEN];
	struct ju_err e = {msg, sizeof(msg)};
	struct sluice_vip_key k;
	struct conf_vip spec;
	struct overlay ov;
	json_t *obj, *resp;
	int rc;

	if (cmd_vip_key(req, &k, &resp) < 0)
		return resp;
	if (settings && !json_is_object(settings))
		return control_error("settings: expected an object");
	for (const char *const *f = (const char *const[]){"address", "port", "protocol",
							   "backends", NULL};
	     *f; f++)
		if (settings && json_object_get(settings, *f))
			return control_error("settings: \"%s\" is not a setting (%s)", *f,
					     strcmp(*f, "backends") ? "it comes from \"vip\""
								    : "use backend.add");
	/* The VIP's identity comes from "vip"; the parser wants it inline. */
	obj = settings ? json_deep_copy(settings) : json_object();
	sluice_addr_format(&k.addr, a, sizeof(a));
	json_object_set_new(obj, "address", json_string(a));
	json_object_set_new(obj, "port", json_integer(k.port));
	json_object_set_new(obj, "protocol", json_string(sluice_proto_name(k.proto)));
	rc = conf_vip_settings_from_json(obj, "settings", &spec, &e);
	json_decref(obj);
	if (rc < 0)
		return control_error("%s", msg);
	if (overlay_copy(&ov, &d->overlay) < 0)
		return control_error("out of memory");
	if (overlay_vip_add(&ov, &d->base_conf, &d->eff, &spec, &e) < 0) {
		overlay_free(&ov);
		return control_error("%s", msg);
	}
	sluice_vip_key_format(&k, s, sizeof(s));
	snprintf(what, sizeof(what), "VIP %s added", s);
	return commit(d, req, &ov, &k, what);
}

json_t *cmd_vip_del(struct sluiced *d, const json_t *req)
{
	char msg[512], what[128], s[SLUICE_VIP_STRLEN];
	struct ju_err e = {msg, sizeof(msg)};
	struct sluice_vip_key k;
	struct overlay ov;
	json_t *resp;

	if (cmd_vip_key(req, &k, &resp) < 0)
		return resp;
	if (overlay_copy(&ov, &d->overlay) < 0)
		return control_error("out of memory");
	if (overlay_vip_del(&ov, &d->base_conf, &d->eff, &k, &e) < 0) {
		overlay_free(&ov);
		return control_error("%s", msg);
	}
	sluice_vip_key_format(&k, s, sizeof(s));
	snprintf(what, sizeof(what), "VIP %s deleted", s);
	return commit(d, req, &ov, &k, what);
}

json_t *cmd_backend_add(struct sluiced *d, const json_t *req)
{
	char msg[512], what[160], s[SLUICE_VIP_STRLEN], a[SLUICE_ADDR_STRLEN];
	struct ju_err e = {msg, sizeof(msg)};
	const struct conf_vip *v;
	struct sluice_vip_key k;
	struct conf_backend b;
	struct overlay ov;
	json_t *obj, *resp;
	int rc;

	if (cmd_vip_key(req, &k, &resp) < 0)
		return resp;
	sluice_vip_key_format(&k, s, sizeof(s));
	v = conf_find_vip(&d->eff, &k);
	if (!v)
		return control_error("no VIP %s", s);
	/* The same parser as the file's backends, so the same limits. */
	obj = json_deep_copy(req);
	json_object_del(obj, "cmd");
	json_object_del(obj, "vip");
	json_object_del(obj, "dry_run");
	rc = conf_backend_from_json(obj, "", v, &b, &e);
	json_decref(obj);
	if (rc < 0)
		return control_error("%s", msg);
	if (overlay_copy(&ov, &d->overlay) < 0)
		return control_error("out of memory");
	if (overlay_backend_add(&ov, &d->base_conf, &d->eff, &k, &b, &e) < 0) {
		overlay_free(&ov);
		return control_error("%s", msg);
	}
	sluice_addr_format(&b.addr, a, sizeof(a));
	snprintf(what, sizeof(what), "backend %s added to VIP %s (weight %u)", a, s, b.weight);
	return commit(d, req, &ov, &k, what);
}

json_t *cmd_backend_del(struct sluiced *d, const json_t *req)
{
	char msg[512], what[160], s[SLUICE_VIP_STRLEN], a[SLUICE_ADDR_STRLEN];
	struct ju_err e = {msg, sizeof(msg)};
	struct sluice_vip_key k;
	struct sluice_addr addr;
	struct overlay ov;
	json_t *resp;

	if (cmd_vip_key(req, &k, &resp) < 0 || cmd_addr(req, "address", &addr, &resp) < 0)
		return resp;
	if (overlay_copy(&ov, &d->overlay) < 0)
		return control_error("out of memory");
	if (overlay_backend_del(&ov, &d->base_conf, &d->eff, &k, &addr, &e) < 0) {
		overlay_free(&ov);
		return control_error("%s", msg);
	}
	sluice_vip_key_format(&k, s, sizeof(s));
	sluice_addr_format(&addr, a, sizeof(a));
	snprintf(what, sizeof(what), "backend %s deleted from VIP %s", a, s);
	return commit(d, req, &ov, &k, what);
}

/* drain / enable / disable / weight: one override each. */
static json_t *backend_set(struct sluiced *d, const json_t *req, bool has_weight, __u32 weight,
			   bool has_state, __u8 state)
{
	char msg[512], what[160], s[SLUICE_VIP_STRLEN], a[SLUICE_ADDR_STRLEN];
	struct ju_err e = {msg, sizeof(msg)};
	struct sluice_vip_key k;
	struct sluice_addr addr;
	struct overlay ov;
	json_t *resp;

	if (cmd_vip_key(req, &k, &resp) < 0 || cmd_addr(req, "address", &addr, &resp) < 0)
		return resp;
	if (overlay_copy(&ov, &d->overlay) < 0)
		return control_error("out of memory");
	if (overlay_backend_set(&ov, &d->base_conf, &d->eff, &k, &addr, has_weight, weight, has_state, state,
				&e) < 0) {
		overlay_free(&ov);
		return control_error("%s", msg);
	}
	sluice_vip_key_format(&k, s, sizeof(s));
	sluice_addr_format(&addr, a, sizeof(a));
	if (has_weight)
		snprintf(what, sizeof(what), "backend %s of VIP %s: weight %u", a, s, weight);
	else
		snprintf(what, sizeof(what), "backend %s of VIP %s: %s", a, s,
			 conf_backend_state_name(state));
	return commit(d, req, &ov, &k, what);
}

json_t *cmd_backend_drain(struct sluiced *d, const json_t *req)
{
	return backend_set(d, req, false, 0, true, SLUICE_BACKEND_DRAINING);
}

json_t *cmd_backend_enable(struct sluiced *d, const json_t *req)
{
	return backend_set(d, req, false, 0, true, SLUICE_BACKEND_ACTIVE);
}

json_t *cmd_backend_disable(struct sluiced *d, const json_t *req)
{
	return backend_set(d, req, false, 0, true, SLUICE_BACKEND_DISABLED);
}

json_t *cmd_backend_weight(struct sluiced *d, const json_t *req)
{
	char msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	__u32 w = 0;
	bool present;

	if (ju_get_u32(&e, req, "weight", "", 0, SLUICE_WEIGHT_MAX, &w, &present) < 0)
		return control_error("%s", msg);
	if (!present)
		return control_error("missing \"weight\"");
	return backend_set(d, req, true, w, false, 0);
}
