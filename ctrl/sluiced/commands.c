/* SPDX-License-Identifier: BSD-3-Clause */
/* Request parsing and the command table. See commands.h and control.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "control.h"
#include "log.h"

struct command {
	const char *name;
	cmd_fn *fn;
	bool wait;			/* reply after the publish */
	const char *const keys[8];	/* allowed besides "cmd" */
};

static const struct command commands[] = {
	{"vip.list", cmd_vip_list, false, {NULL}},
	{"vip.show", cmd_vip_show, false, {"vip", NULL}},
	{"vip.add", cmd_vip_add, true, {"vip", "settings", NULL}},
	{"vip.del", cmd_vip_del, true, {"vip", NULL}},
	{"backend.list", cmd_backend_list, false, {"vip", NULL}},
	{"backend.add", cmd_backend_add, true, {"vip", "address", "weight", "state", "mac", NULL}},
	{"backend.del", cmd_backend_del, true, {"vip", "address", NULL}},
	{"backend.drain", cmd_backend_drain, true, {"vip", "address", NULL}},
	{"backend.enable", cmd_backend_enable, true, {"vip", "address", NULL}},
	{"backend.disable", cmd_backend_disable, true, {"vip", "address", NULL}},
	{"backend.weight", cmd_backend_weight, true, {"vip", "address", "weight", NULL}},
	{"health", cmd_health, false, {"vip", NULL}},
	{"stats", cmd_stats, false, {"vip", NULL}},
	{"table", cmd_table, false, {"vip", NULL}},
	{"explain", cmd_explain, false, {"vip", "protocol", "client", "port", NULL}},
	{"status", cmd_status, false, {NULL}},
	{"host.drain", cmd_host_drain, false, {NULL}},
	{"host.undrain", cmd_host_undrain, false, {NULL}},
};

json_t *cmd_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

double cmd_age_s(__u64 mono_ns)
{
	__u64 now = sluice_now_ns();

	return now > mono_ns ? (double)(now - mono_ns) / 1e9 : 0.0;
}

double cmd_unix_time(__u64 mono_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - cmd_age_s(mono_ns);
}

int cmd_vip_key(const json_t *req, struct sluice_vip_key *k, json_t **resp)
{
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	bool present;

	if (ju_get_vip_key(&e, req, "vip", "", k, &present) < 0) {
		*resp = control_error("%s", msg);
		return -EINVAL;
	}
	if (!present) {
		*resp = control_error("missing \"vip\"");
		return -EINVAL;
	}
	return 0;
}

int cmd_addr(const json_t *req, const char *key, struct sluice_addr *a, json_t **resp)
{
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	bool present;

	if (ju_get_addr(&e, req, key, "", a, &present) < 0) {
		*resp = control_error("%s", msg);
		return -EINVAL;
	}
	if (!present) {
		*resp = control_error("missing \"%s\"", key);
		return -EINVAL;
	}
	return 0;
}

struct model_vip *cmd_model_vip(struct sluiced *d, const json_t *req, json_t **resp)
{
	struct sluice_vip_key k;
	struct model_vip *v;
	char s[SLUICE_VIP_STRLEN];

	if (cmd_vip_key(req, &k, resp) < 0)
		return NULL;
	v = model_find_vip(&d->model, &k);
	if (!v) {
		sluice_vip_key_format(&k, s, sizeof(s));
		*resp = control_error("no VIP %s", s);
	}
	return v;
}

json_t *control_dispatch(struct sluiced *d, const char *buf, size_t len, bool read_only,
			 bool *wait)
{
	static struct slog_ratelimit rl = SLOG_RATELIMIT_INIT(10, 5);
	json_error_t jerr;
	json_t *req, *resp;
	const char *name, *key;
	bool dry;
	json_t *v;

	*wait = false;
	/* A bare newline: jansson would only say "wrong arguments" at line
	 * -1 (buf is NULL then), which tells the client nothing. */
	if (!len)
		return control_error("empty request");
	req = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		slog_rl(&rl, SLOG_INFO, "control: malformed request: %s", jerr.text);
		return control_error("malformed request: line %d column %d: %s", jerr.line,
				     jerr.column, jerr.text);
	}
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "cmd"))) {
		json_decref(req);
		return control_error("a request is an object with a string \"cmd\"");
	}
	name = json_string_value(json_object_get(req, "cmd"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];

		if (strcmp(c->name, name) != 0)
			continue;
		json_object_foreach(req, key, v) {
			/* Every change can be tried first: "dry_run". */
			bool ok = strcmp(key, "cmd") == 0 || (c->wait && !strcmp(key, "dry_run"));

			for (const char *const *k = c->keys; *k && !ok; k++)
				ok = strcmp(*k, key) == 0;
			if (!ok) {
				resp = control_error("%s: unknown field \"%s\"", name, key);
				json_decref(req);
				return resp;
			}
		}
		v = json_object_get(req, "dry_run");
		if (v && !json_is_boolean(v)) {
			resp = control_error("%s: dry_run: expected true or false", name);
			json_decref(req);
			return resp;
		}
		dry = json_is_true(v);
		/* Not run at all: there is no room to wait for it to be in
		 * force, and a refused change must be one that was not made.
		 * A dry run changes nothing, so has nothing to wait for. */
		if (read_only && c->wait && !dry) {
			resp = control_error("%s: too many changes are waiting for the data plane; "
					     "try again later (read-only commands are served)",
					     name);
		} else {
			resp = c->fn(d, req);
			*wait = c->wait && !dry;
		}
		json_decref(req);
		return resp;
	}
	resp = control_error("unknown command \"%.*s\"", control_utf8_prefix(name, 64), name);
	json_decref(req);
	return resp;
}
