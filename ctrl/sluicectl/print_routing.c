/* SPDX-License-Identifier: BSD-3-Clause */
/* Human output of the VIP announcements: status's routing section and
 * host drain|undrain. See print.h. */
#include <stdbool.h>
#include <string.h>

#include "print.h"

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

/* Why an address is or is not announced, for a person. */
static const char *reason_words(const char *r)
{
	static const struct {
		const char *name, *words;
	} w[] = {
		{"served", "a VIP can be served"},
		{"drained", "host drained"},
		{"dataplane_down", "no data path forwards"},
		{"too_few_up", "too few backends up"},
		{"pending", "waiting for the first health checks or the data plane"},
		{"not_configured", "no VIP has it any more"},
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(r, w[i].name))
			return w[i].words;
	return r;
}

static void print_drain(FILE *f, const json_t *h)
{
	char ago[32];

	if (!json_is_true(json_object_get(h, "drained"))) {
		fprintf(f, "host: not drained\n");
		return;
	}
	print_duration(ago, sizeof(ago), json_number_value(json_object_get(h, "drained_for_s")));
	if (json_is_true(json_object_get(h, "safe_to_stop")))
		fprintf(f, "host: DRAINED %s ago; grace of %lld s over: safe to stop the data "
			   "path\n",
			ago, (long long)json_integer_value(json_object_get(h, "grace_s")));
	else if (json_number_value(json_object_get(h, "safe_to_stop_in_s")) <= 0)
		fprintf(f, "host: DRAINED %s ago; grace over, but not safe to stop: %lld VIP "
			   "routes still in the table, or the table not read (see the errors)\n",
			ago, (long long)json_integer_value(json_object_get(h, "routes_left")));
	else
		fprintf(f, "host: DRAINED %s ago; the data path still forwards what the routers "
			   "send: safe to stop in %.0f s\n",
			ago, json_number_value(json_object_get(h, "safe_to_stop_in_s")));
}

void print_routing(FILE *f, const json_t *rt)
{
	const json_t *a;
	size_t i;

	if (!json_is_true(json_object_get(rt, "enabled"))) {
		fprintf(f, "routing: off (no routing.table): no VIP is announced\n");
		return;
	}
	fprintf(f, "routing: table %lld, protocol %lld, min_up %lld; %lld route changes, %lld "
		   "netlink errors\n",
		(long long)json_integer_value(json_object_get(rt, "table")),
		(long long)json_integer_value(json_object_get(rt, "protocol")),
		(long long)json_integer_value(json_object_get(rt, "min_up")),
		(long long)json_integer_value(json_object_get(rt, "route_changes")),
		(long long)json_integer_value(json_object_get(rt, "netlink_errors")));
	if (json_object_get(rt, "last_error"))
		fprintf(f, "  last error: %s\n", str(rt, "last_error"));
	print_drain(f, json_object_get(rt, "host"));
	if (!json_array_size(json_object_get(rt, "addresses")))
		return;
	fprintf(f, "%-40s %-10s %s\n", "VIP ADDRESS", "ANNOUNCED", "WHY");
	json_array_foreach(json_object_get(rt, "addresses"), i, a) {
		bool on = json_is_true(json_object_get(a, "announced"));
		const json_t *w = json_object_get(a, "wanted");

		fprintf(f, "%-40s %-10s %s%s\n", str(a, "address"), on ? "yes" : "no",
			reason_words(str(a, "reason")),
			w ? (json_is_true(w) ? " (to announce: netlink failed, retrying)"
					     : " (to withdraw: netlink failed, retrying)")
			  : "");
	}
}

void print_host(FILE *f, const json_t *r)
{
	const json_t *c;
	size_t i;

	if (!json_is_true(json_object_get(r, "changed")))
		fprintf(f, "nothing to do: the host is so already\n");
	json_array_foreach(json_object_get(r, "changes"), i, c) {
		if (json_object_get(c, "error") && !json_object_get(c, "address"))
			fprintf(f, "routes not changed: %s (retrying)\n", str(c, "error"));
		else if (json_object_get(c, "error"))
			fprintf(f, "%s %s FAILED: %s (retrying)\n", str(c, "action"),
				str(c, "address"), str(c, "error"));
		else
			fprintf(f, "%s %s\n",
				!strcmp(str(c, "action"), "announce") ? "announced" : "withdrawn",
				str(c, "address"));
	}
	print_routing(f, json_object_get(r, "routing"));
}
