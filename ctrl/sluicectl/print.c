/* SPDX-License-Identifier: BSD-3-Clause */
/* Human-readable output of every command. See print.h. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "print.h"

/* Field accessors that tolerate absent fields: the daemon may be newer. */
static const char *s_(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static long long i_(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static double f_(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static bool b_(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

void print_duration(char *buf, size_t len, double s)
{
	long long t = (long long)s;

	if (s < 0 || isnan(s))
		snprintf(buf, len, "-");
	else if (t < 60)
		snprintf(buf, len, "%llds", t);
	else if (t < 3600)
		snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lldh%02lldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}

void print_si(char *buf, size_t len, double v)
{
	static const char *const units[] = {"", "k", "M", "G", "T", "P"};
	unsigned int u = 0;

	while (fabs(v) >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%s", fabs(v) < 10 ? 2 : fabs(v) < 100 ? 1 : 0, v, units[u]);
}

static void print_vip_list(FILE *f, const json_t *r)
{
	const json_t *v;
	size_t i;

	fprintf(f, "%-30s %4s %-6s %-7s %9s %-20s %8s %7s\n", "VIP", "ID", "FWD", "ALGO", "M",
		"SEED", "BACKENDS", "ACTIVE");
	json_array_foreach(json_object_get(r, "vips"), i, v)
		fprintf(f, "%-30s %4lld %-6s %-7s %9lld %-20s %8lld %7lld\n", s_(v, "vip"),
			i_(v, "id"), s_(v, "forwarding"), s_(v, "algorithm"), i_(v, "table_size"),
			s_(v, "hash_seed"), i_(v, "n_backends"), i_(v, "n_active"));
}

static void health_cell(char *buf, size_t len, const json_t *h)
{
	if (!strcmp(s_(h, "check"), "none"))
		snprintf(buf, len, "unchecked");
	else
		snprintf(buf, len, "%s", b_(h, "up") ? "up" : "down");
}

static void print_backends(FILE *f, const json_t *list)
{
	const json_t *b;
	char since[32], health[32];
	size_t i;

	fprintf(f, "%-40s %5s %6s %-9s %-9s %-9s %s\n", "BACKEND", "ID", "WEIGHT", "STATE",
		"EFFECTIVE", "HEALTH", "SINCE");
	json_array_foreach(list, i, b) {
		const json_t *h = json_object_get(b, "health");

		print_duration(since, sizeof(since), f_(h, "since_s"));
		health_cell(health, sizeof(health), h);
		fprintf(f, "%-40s %5lld %6lld %-9s %-9s %-9s %s\n", s_(b, "address"), i_(b, "id"),
			i_(b, "weight"), s_(b, "state"), s_(b, "effective_state"), health, since);
	}
}

static void print_vip_show(FILE *f, const json_t *r)
{
	const json_t *v = json_object_get(r, "vip"), *h = json_object_get(v, "health");

	fprintf(f, "VIP %s (id %lld)\n", s_(v, "vip"), i_(v, "id"));
	fprintf(f, "  forwarding %s, algorithm %s, table size %lld, hash seed %s", s_(v, "forwarding"),
		s_(v, "algorithm"), i_(v, "table_size"), s_(v, "hash_seed"));
	if (!strcmp(s_(v, "algorithm"), "ring"))
		fprintf(f, ", ring k %lld", i_(v, "ring_k"));
	fprintf(f, "\n  health check: ");
	/* No "port": the check goes to the VIP's port. */
	if (!h)
		fprintf(f, "none\n");
	else
		fprintf(f, "%s%s%s, port %lld, every %lld ms, timeout %lld ms, rise %lld, fall %lld\n",
			s_(h, "type"), json_object_get(h, "path") ? " " : "",
			json_object_get(h, "path") ? s_(h, "path") : "",
			json_object_get(h, "port") ? i_(h, "port") : i_(v, "port"),
			i_(h, "interval_ms"), i_(h, "timeout_ms"), i_(h, "rise"), i_(h, "fall"));
	fprintf(f, "  %lld backends, %lld taking new flows\n\n", i_(v, "n_backends"),
		i_(v, "n_active"));
	print_backends(f, json_object_get(v, "backends"));
}

static void print_health(FILE *f, const json_t *r)
{
	const json_t *b;
	char since[32], state[32], lat[32];
	size_t i;

	fprintf(f, "%-30s %-40s %-5s %-9s %-10s %9s %7s  %s\n", "VIP", "BACKEND", "CHECK", "HEALTH",
		"LAST", "LATENCY", "SINCE", "DETAIL");
	json_array_foreach(json_object_get(r, "backends"), i, b) {
		print_duration(since, sizeof(since), f_(b, "since_s"));
		health_cell(state, sizeof(state), b);
		if (json_object_get(b, "latency_us") && strcmp(s_(b, "last"), "none"))
			snprintf(lat, sizeof(lat), "%.2f ms", f_(b, "latency_us") / 1000.0);
		else
			snprintf(lat, sizeof(lat), "-");
		fprintf(f, "%-30s %-40s %-5s %-9s %-10s %9s %7s  %s\n", s_(b, "vip"),
			s_(b, "address"), s_(b, "check"), state, s_(b, "last"), lat, since,
			s_(b, "detail"));
	}
}

static void print_counts(FILE *f, const char *name, const json_t *c)
{
	char p[16], by[16], pps[16], bps[16];

	print_si(p, sizeof(p), f_(c, "packets"));
	print_si(by, sizeof(by), f_(c, "bytes"));
	print_si(pps, sizeof(pps), f_(c, "pps"));
	print_si(bps, sizeof(bps), f_(c, "bps") * 8);
	fprintf(f, "%-44s %10s %10s %10s %10s\n", name, p, by, pps, bps);
}

/* The data plane's ports: imissed and rx_nombuf are packets the NIC
 * dropped before any worker saw them, so they get columns of their own. */
static void print_ports(FILE *f, const json_t *ports)
{
	const json_t *p, *q;
	size_t i, j;

	if (!json_array_size(ports))
		return;
	fprintf(f, "\n%-4s %-20s %-4s %12s %12s %10s %10s %10s %10s\n", "PORT", "DEVICE", "LINK",
		"RX", "TX", "IMISSED", "RX_NOMBUF", "IERRORS", "OERRORS");
	json_array_foreach(ports, i, p) {
		const json_t *c = json_object_get(p, "counters");
		char rx[16], tx[16];

		print_si(rx, sizeof(rx), f_(c, "ipackets"));
		print_si(tx, sizeof(tx), f_(c, "opackets"));
		fprintf(f, "%-4lld %-20s %-4s %12s %12s %10lld %10lld %10lld %10lld\n", i_(p, "port"),
			s_(p, "name"), b_(p, "link_up") ? "up" : "down", rx, tx, i_(c, "imissed"),
			i_(c, "rx_nombuf"), i_(c, "ierrors"), i_(c, "oerrors"));
		json_array_foreach(json_object_get(p, "per_queue"), j, q) {
			print_si(rx, sizeof(rx), f_(q, "rx_packets"));
			print_si(tx, sizeof(tx), f_(q, "tx_packets"));
			fprintf(f, "  queue %-3lld %-20s %12s %12s %10lld\n", i_(q, "queue"), "", rx,
				tx, i_(q, "errors"));
		}
	}
}

static void print_stats(FILE *f, const json_t *r)
{
	const json_t *dp = json_object_get(r, "dataplane"), *v, *b, *l, *x;
	const json_t *drops = json_object_get(json_object_get(r, "totals"), "drops");
	const char *reason;
	char name[96];
	size_t i, j;
	bool any = false;

	if (!b_(dp, "attached"))
		fprintf(f, "data plane: not running (no status region)\n");
	else
		fprintf(f, "data plane: %s, pid %lld, %lld live lcores, heartbeat %.1f ms ago\n",
			b_(dp, "alive") ? "alive" : "DOWN", i_(dp, "pid"), i_(dp, "live_lcores"),
			f_(dp, "heartbeat_age_ms"));
	fprintf(f, "XDP path: %s\n", s_(r, "xdp"));
	if ((x = json_object_get(r, "xdp_path"))) {
		const json_t *pass = json_object_get(x, "pass");

		fprintf(f, "  flow table: %lld hits, %lld misses, %lld ways used; to the kernel: %lld (",
			i_(x, "flow_hits"), i_(x, "flow_misses"), i_(x, "flow_ways_used"),
			i_(x, "xdp_pass"));
		any = false;
		if (i_(x, "pass_arp") || i_(x, "pass_nd")) {
			fprintf(f, "arp %lld, nd %lld", i_(x, "pass_arp"), i_(x, "pass_nd"));
			any = true;
		}
		json_object_foreach((json_t *)pass, reason, v)
			if (json_integer_value(v)) {
				fprintf(f, "%s%s %lld", any ? ", " : "", reason,
					(long long)json_integer_value(v));
				any = true;
			}
		fprintf(f, "%s); dropped %lld; table mismatches %lld\n", any ? "" : "none",
			i_(x, "xdp_drop"), i_(x, "table_mismatch"));
		any = false;
	}
	fprintf(f, "\n");
	fprintf(f, "%-44s %10s %10s %10s %10s\n", "VIP / BACKEND", "PACKETS", "BYTES", "PKT/S",
		"BIT/S");
	json_array_foreach(json_object_get(r, "vips"), i, v) {
		print_counts(f, s_(v, "vip"), v);
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			snprintf(name, sizeof(name), "  %s (%s)", s_(b, "address"),
				 s_(b, "effective_state"));
			print_counts(f, name, b);
		}
	}
	fprintf(f, "\ndrops:");
	json_object_foreach((json_t *)drops, reason, v)
		if (json_integer_value(v)) {
			fprintf(f, " %s %lld", reason, (long long)json_integer_value(v));
			any = true;
		}
	fprintf(f, "%s\n", any ? "" : " none");
	if ((x = json_object_get(r, "totals")) && (i_(x, "to_kernel") || i_(x, "from_kernel")))
		fprintf(f, "exception path (TAPs): %lld frames to the kernel, %lld from it\n",
			i_(x, "to_kernel"), i_(x, "from_kernel"));
	print_ports(f, json_object_get(r, "ports"));
	if (!json_array_size(json_object_get(r, "lcores")))
		return;
	fprintf(f, "\n%-6s %-8s %11s %10s %12s %12s %10s\n", "LCORE", "STATE", "HEARTBEAT",
		"GEN", "RX", "TX", "DROPS");
	json_array_foreach(json_object_get(r, "lcores"), i, l) {
		const json_t *c = json_object_get(l, "counters");
		long long dsum = 0;
		char rx[16], tx[16], hb[24];

		json_object_foreach((json_t *)json_object_get(c, "drops"), reason, v)
			dsum += (long long)json_integer_value(v);
		print_si(rx, sizeof(rx), f_(c, "rx_packets"));
		print_si(tx, sizeof(tx), f_(c, "tx_packets"));
		snprintf(hb, sizeof(hb), "%.1f ms", f_(l, "heartbeat_age_ms"));
		fprintf(f, "%-6lld %-8s %11s %10lld %12s %12s %10lld\n", i_(l, "lcore_id"),
			s_(l, "state"), hb, i_(l, "seen_generation"), rx, tx, dsum);
	}
}

static void print_table(FILE *f, const json_t *r)
{
	const json_t *b;
	size_t i;

	fprintf(f, "VIP %s (id %lld), generation %lld, table size %lld, digest %s\n\n",
		s_(r, "vip"), i_(r, "vip_id"), i_(r, "generation"), i_(r, "table_size"),
		s_(r, "digest"));
	fprintf(f, "%-40s %5s %-9s %6s %8s %8s %8s\n", "BACKEND", "ID", "STATE", "WEIGHT",
		"SLOTS", "SHARE", "WEIGHT%");
	json_array_foreach(json_object_get(r, "backends"), i, b)
		fprintf(f, "%-40s %5lld %-9s %6lld %8lld %7.2f%% %7.2f%%\n", s_(b, "address"),
			i_(b, "id"), s_(b, "state"), i_(b, "weight"), i_(b, "slots"),
			100 * f_(b, "share"), 100 * f_(b, "weight_share"));
}

static void print_explain(FILE *f, const json_t *r)
{
	const json_t *b = json_object_get(r, "backend"), *ft;

	fprintf(f, "%s %s -> %s (generation %lld)\n", s_(r, "protocol"), s_(r, "client"),
		s_(r, "vip"), i_(r, "generation"));
	fprintf(f, "  flow hash %s", s_(r, "hash"));
	if (json_is_object(b)) {
		fprintf(f, ", slot %lld of %lld in the lookup table", i_(r, "slot"),
			i_(r, "table_size"));
		if (json_object_get(r, "table_backend"))
			fprintf(f, " (%s, for a new flow)", s_(r, "table_backend"));
		fprintf(f, "\n  backend %s (id %lld, %s, weight %lld), by the %s\n", s_(b, "address"),
			i_(b, "id"), s_(b, "state"), i_(b, "weight"), s_(r, "by"));
	} else {
		fprintf(f, "\n  no backend: %s\n", s_(r, "reason"));
	}
	if ((ft = json_object_get(r, "flow_table")) && json_is_true(json_object_get(ft, "found"))) {
		fprintf(f, "  flow-table entry (%s", s_(ft, "path"));
		if (json_object_get(ft, "lcore"))
			fprintf(f, ", lcore %lld", i_(ft, "lcore"));
		fprintf(f, "): backend id %lld, class %s", i_(ft, "backend_id"), s_(ft, "class"));
		if (json_object_get(ft, "expires_in_ms"))
			fprintf(f, ", idle timeout in %.1f s", (double)i_(ft, "expires_in_ms") / 1000);
		fprintf(f, "\n");
	}
	fprintf(f, "  note: %s\n", s_(r, "note"));
}

static void print_status(FILE *f, const json_t *r)
{
	const json_t *dp = json_object_get(r, "dataplane");
	char up[32];

	print_duration(up, sizeof(up), f_(r, "uptime_s"));
	fprintf(f, "instance %s, up %s\n", s_(r, "instance"), up);
	fprintf(f, "config %s, state file %s (%lld CLI changes)\n", s_(r, "config"),
		s_(r, "state_file"), i_(r, "cli_changes"));
	fprintf(f, "%lld VIPs, %lld backends, %lld health checks in flight\n", i_(r, "vips"),
		i_(r, "backends"), i_(r, "health_checks_in_flight"));
	fprintf(f, "generation %lld; %lld publishes by this sluiced, last took %.1f us\n",
		i_(r, "generation"), i_(r, "publishes"), f_(r, "publish_latency_us"));
	fprintf(f, "data plane (%s): ", s_(dp, "mode"));
	if (!b_(dp, "attached"))
		fprintf(f, "not running");
	else
		fprintf(f, "%s, pid %lld, %lld/%lld lcores live, heartbeat %.1f ms ago",
			b_(dp, "alive") ? "alive" : "DOWN", i_(dp, "pid"), i_(dp, "live"),
			i_(dp, "lcores"), f_(dp, "heartbeat_age_ms"));
	fprintf(f, "; XDP path %s\n", s_(dp, "xdp"));
	if (json_object_get(r, "routing"))
		print_routing(f, json_object_get(r, "routing"));
}

/* "active", "active -> draining", "- -> active" (absent before). */
static void before_after(char *buf, size_t len, const json_t *b, const char *field)
{
	char x[2][24];

	for (int i = 0; i < 2; i++) {
		char key[32];
		const json_t *v;

		snprintf(key, sizeof(key), "%s_%s", field, i ? "after" : "before");
		v = json_object_get(b, key);
		if (json_is_string(v))
			snprintf(x[i], sizeof(x[i]), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(x[i], sizeof(x[i]), "%lld", (long long)json_integer_value(v));
		else
			snprintf(x[i], sizeof(x[i]), "-");
	}
	if (!strcmp(x[0], x[1]))
		snprintf(buf, len, "%s", x[0]);
	else
		snprintf(buf, len, "%s -> %s", x[0], x[1]);
}

static void print_list(FILE *f, const char *what, const json_t *list)
{
	const json_t *a;
	size_t i;

	fprintf(f, "%s:", what);
	json_array_foreach(list, i, a)
		fprintf(f, "%s %s", i ? "," : "", json_string_value(a));
	fprintf(f, "%s\n", json_array_size(list) ? "" : " none");
}

/* The answer to a change made with --dry-run. */
static void print_dry_run(FILE *f, const json_t *r)
{
	long long mb = i_(r, "table_size_before"), ma = i_(r, "table_size_after");
	long long m = mb > ma ? mb : ma;
	char state[64], weight[64], sb[32], sa[32];
	const json_t *b;
	size_t i;

	fprintf(f, "dry run, nothing changed: %s\n", s_(r, "change"));
	fprintf(f, "VIP %s", s_(r, "vip"));
	if (!b_(r, "vip_before"))
		fprintf(f, " (new)");
	else if (!b_(r, "vip_after"))
		fprintf(f, " (deleted)");
	if (json_object_get(r, "algorithm"))
		fprintf(f, ", %s", s_(r, "algorithm"));
	fprintf(f, ", table in force: generation %lld", i_(r, "generation"));
	if (mb == ma)
		fprintf(f, "\n  table: %lld slots\n", mb);
	else
		fprintf(f, "\n  table: %lld slots before, %lld after (0: no backend takes new flows)\n",
			mb, ma);
	fprintf(f, "\n%-40s %-20s %-12s %15s %15s %8s %8s\n", "BACKEND", "STATE", "WEIGHT",
		"SLOTS BEFORE", "SLOTS AFTER", "GAINED", "LOST");
	json_array_foreach(json_object_get(r, "backends"), i, b) {
		before_after(state, sizeof(state), b, "state");
		before_after(weight, sizeof(weight), b, "weight");
		snprintf(sb, sizeof(sb), "%lld %5.1f%%", i_(b, "slots_before"),
			 mb ? 100.0 * (double)i_(b, "slots_before") / (double)mb : 0.0);
		snprintf(sa, sizeof(sa), "%lld %5.1f%%", i_(b, "slots_after"),
			 ma ? 100.0 * (double)i_(b, "slots_after") / (double)ma : 0.0);
		fprintf(f, "%-40s %-20s %-12s %15s %15s %8lld %8lld\n", s_(b, "address"), state,
			weight, sb, sa, i_(b, "gained"), i_(b, "lost"));
	}
	fprintf(f, "\nmoves %lld of %lld slots: %.2f%% of new flows would go elsewhere "
		   "(flows in progress stay)\n",
		i_(r, "moved_slots"), m, 100 * f_(r, "moved_fraction"));
	print_list(f, "gaining", json_object_get(r, "gaining"));
	print_list(f, "losing", json_object_get(r, "losing"));
}

void print_response(FILE *f, const char *cmd, const json_t *r)
{
	if (b_(r, "dry_run"))
		print_dry_run(f, r);
	else if (!strcmp(cmd, "vip.list"))
		print_vip_list(f, r);
	else if (!strcmp(cmd, "vip.show"))
		print_vip_show(f, r);
	else if (!strcmp(cmd, "backend.list"))
		print_backends(f, json_object_get(r, "backends"));
	else if (!strcmp(cmd, "health"))
		print_health(f, r);
	else if (!strcmp(cmd, "stats"))
		print_stats(f, r);
	else if (!strcmp(cmd, "table"))
		print_table(f, r);
	else if (!strcmp(cmd, "explain"))
		print_explain(f, r);
	else if (!strcmp(cmd, "status"))
		print_status(f, r);
	else if (!strcmp(cmd, "host.drain") || !strcmp(cmd, "host.undrain"))
		print_host(f, r);
	/* Changes print nothing on success, like ip(8). */
}
