/* SPDX-License-Identifier: BSD-3-Clause */
/* From argv to a control request. See args.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "args.h"
#include "errmsg.h"

const char args_usage[] =
	"usage: sluicectl [-j|--json] [-s|--socket PATH] [--dry-run] OBJECT COMMAND [ARGS]\n"
	"\n"
	"  vip list\n"
	"  vip show VIP\n"
	"  vip add VIP [forwarding ipip|gue|l2dsr] [algorithm maglev|ring] [table-size M]\n"
	"              [seed S] [ring-k K] [check none|tcp|http] [check-port P] [path PATH]\n"
	"              [host HOST] [expect STATUS] [interval MS] [timeout MS] [rise N] [fall N]\n"
	"  vip del VIP\n"
	"  backend list VIP\n"
	"  backend add VIP ADDR [weight W] [mac MAC]\n"
	"  backend del|drain|enable|disable VIP ADDR\n"
	"  backend weight VIP ADDR W\n"
	"  (vip add|del and backend changes take --dry-run: what would move, changing nothing)\n"
	"  health [VIP]\n"
	"  stats [VIP] [--watch] [--interval SECONDS]\n"
	"  table VIP\n"
	"  explain VIP tcp|udp CLIENT:PORT [port DPORT]\n"
	"  status\n"
	"  host drain [--wait]|undrain\n"
	"\n"
	"VIP is ADDRESS:PORT[/tcp|/udp] (tcp when omitted), IPv6 in brackets:\n"
	"10.0.0.10:80, [2001:db8::10]:443/udp. ADDR is a backend address.\n"
	"Exit status: 0 success, 1 the daemon refused (or cannot be reached), 2 usage.\n";

static int usage_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A usage error: -EINVAL and the message (lib/errmsg.h). */
static int usage_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sluice_verrf(err, errlen, -EINVAL, fmt, ap);
	va_end(ap);
	return rc;
}

/* The one word of names[] that word is a prefix of, exactly or uniquely. */
static const char *match(const char *word, const char *const *names)
{
	const char *found = NULL;
	size_t n = strlen(word);

	if (!n)
		return NULL;
	for (const char *const *p = names; *p; p++) {
		if (strcmp(*p, word) == 0)
			return *p;
		if (strncmp(*p, word, n) == 0) {
			if (found)
				return NULL; /* ambiguous */
			found = *p;
		}
	}
	return found;
}

static int put_vip(json_t *req, const char *s, char *err, size_t errlen)
{
	struct sluice_vip_key k;
	char canon[SLUICE_VIP_STRLEN];

	if (sluice_vip_key_parse(s, &k) < 0)
		return usage_err(err, errlen,
				 "\"%s\" is not a VIP: ADDRESS:PORT[/tcp|/udp], IPv6 in brackets",
				 s);
	sluice_vip_key_format(&k, canon, sizeof(canon));
	json_object_set_new(req, "vip", json_string(canon));
	return 0;
}

static int put_addr(json_t *req, const char *s, char *err, size_t errlen)
{
	struct sluice_addr a;
	char canon[SLUICE_ADDR_STRLEN];

	if (sluice_addr_parse(s, &a) < 0)
		return usage_err(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", s);
	sluice_addr_format(&a, canon, sizeof(canon));
	json_object_set_new(req, "address", json_string(canon));
	return 0;
}

static int put_uint(json_t *obj, const char *key, const char *word, const char *s,
		    unsigned long long max, char *err, size_t errlen)
{
	__u64 v;

	if (sluice_u64_parse(s, &v) < 0 || v > max)
		return usage_err(err, errlen, "%s: \"%s\" is not a number from 0 to %llu", word, s,
				 max);
	json_object_set_new(obj, key, json_integer((json_int_t)v));
	return 0;
}

/* vip add's KEYWORD VALUE pairs, mapped to the configuration's keys. */
static int vip_settings(int argc, char **argv, json_t *settings, char *err, size_t errlen)
{
	static const struct {
		const char *word, *key, *health_key;
		bool number;
	} kw[] = {
		{"forwarding", "forwarding", NULL, false}, {"algorithm", "algorithm", NULL, false},
		{"table-size", "table_size", NULL, true},  {"seed", "hash_seed", NULL, false},
		{"ring-k", "ring_k", NULL, true},	   {"check", NULL, "type", false},
		{"check-port", NULL, "port", true},	   {"path", NULL, "path", false},
		{"host", NULL, "host", false},		   {"expect", NULL, "expect_status", true},
		{"interval", NULL, "interval_ms", true},   {"timeout", NULL, "timeout_ms", true},
		{"rise", NULL, "rise", true},		   {"fall", NULL, "fall", true},
	};
	const char *names[sizeof(kw) / sizeof(kw[0]) + 1];
	json_t *health = json_object();
	int rc = 0;

	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		names[i] = kw[i].word;
	names[sizeof(kw) / sizeof(kw[0])] = NULL;
	for (int i = 0; i < argc && rc == 0; i += 2) {
		const char *w = match(argv[i], names), *key;
		size_t k = 0;
		json_t *dst;

		if (!w) {
			rc = usage_err(err, errlen, "vip add: unknown or ambiguous keyword \"%s\"",
				       argv[i]);
			break;
		}
		if (i + 1 >= argc) {
			rc = usage_err(err, errlen, "vip add: %s needs a value", w);
			break;
		}
		while (strcmp(kw[k].word, w))
			k++;
		dst = kw[k].key ? settings : health;
		key = kw[k].key ? kw[k].key : kw[k].health_key;

		if (kw[k].number)
			rc = put_uint(dst, key, w, argv[i + 1], 0xffffffffu, err, errlen);
		else
			json_object_set_new(dst, key, json_string(argv[i + 1]));
	}
	if (rc == 0 && json_object_size(health))
		json_object_set(settings, "health", health);
	json_decref(health);
	return rc;
}

static int need(int argc, int n, const char *what, char *err, size_t errlen)
{
	if (argc < n)
		return usage_err(err, errlen, "%s: missing arguments (see sluicectl --help)",
				 what);
	return 0;
}

static int parse_backend(int argc, char **argv, struct invocation *inv, char *err,
			 size_t errlen)
{
	static const char *const cmds[] = {"list", "add",    "del",    "drain",
					   "enable", "disable", "weight", NULL};
	const char *c = argc ? match(argv[0], cmds) : NULL;
	json_t *req = inv->req;
	static char name[32];
	int rc;

	if (!c)
		return usage_err(err, errlen, argc ? "backend: unknown or ambiguous command \"%s\": "
						     "expected list, add, del, drain, enable, "
						     "disable or weight"
						   : "backend: expected a command%.0s: list, add, del, "
						     "drain, enable, disable or weight",
				 argc ? argv[0] : "");
	snprintf(name, sizeof(name), "backend.%s", c);
	inv->cmd = name;
	json_object_set_new(req, "cmd", json_string(name));
	if (!strcmp(c, "list")) {
		if ((rc = need(argc, 2, "backend list", err, errlen)) < 0)
			return rc;
		if (argc > 2)
			return usage_err(err, errlen, "backend list: too many arguments");
		return put_vip(req, argv[1], err, errlen);
	}
	if ((rc = need(argc, 3, name, err, errlen)) < 0 ||
	    (rc = put_vip(req, argv[1], err, errlen)) < 0 ||
	    (rc = put_addr(req, argv[2], err, errlen)) < 0)
		return rc;
	if (!strcmp(c, "weight")) {
		if (argc != 4)
			return usage_err(err, errlen, "backend weight VIP ADDR W");
		return put_uint(req, "weight", "weight", argv[3], 0xffffffffu, err, errlen);
	}
	if (!strcmp(c, "add")) {
		for (int i = 3; i < argc; i += 2) {
			static const char *const kws[] = {"weight", "mac", NULL};
			const char *w = match(argv[i], kws);

			if (!w || i + 1 >= argc)
				return usage_err(err, errlen,
						 "backend add VIP ADDR [weight W] [mac MAC]");
			if (!strcmp(w, "weight")) {
				if ((rc = put_uint(req, "weight", w, argv[i + 1], 0xffffffffu, err,
						   errlen)) < 0)
					return rc;
			} else {
				json_object_set_new(req, "mac", json_string(argv[i + 1]));
			}
		}
		return 0;
	}
	if (argc > 3)
		return usage_err(err, errlen, "%s: too many arguments", name);
	return 0;
}

static int parse_vip(int argc, char **argv, struct invocation *inv, char *err, size_t errlen)
{
	static const char *const cmds[] = {"list", "show", "add", "del", NULL};
	const char *c = argc ? match(argv[0], cmds) : NULL;
	static char name[32];
	int rc;

	if (!c)
		return usage_err(err, errlen, argc ? "vip: unknown or ambiguous command \"%s\": "
						     "expected list, show, add or del"
						   : "vip: expected a command%.0s: list, show, add or del",
				 argc ? argv[0] : "");
	snprintf(name, sizeof(name), "vip.%s", c);
	inv->cmd = name;
	json_object_set_new(inv->req, "cmd", json_string(name));
	if (!strcmp(c, "list"))
		return argc == 1 ? 0 : usage_err(err, errlen, "vip list: too many arguments");
	if ((rc = need(argc, 2, name, err, errlen)) < 0 ||
	    (rc = put_vip(inv->req, argv[1], err, errlen)) < 0)
		return rc;
	if (!strcmp(c, "add")) {
		json_t *settings = json_object();

		rc = vip_settings(argc - 2, argv + 2, settings, err, errlen);
		if (rc == 0 && json_object_size(settings))
			json_object_set(inv->req, "settings", settings);
		json_decref(settings);
		return rc;
	}
	return argc == 2 ? 0 : usage_err(err, errlen, "%s: too many arguments", name);
}

static int parse_stats(int argc, char **argv, struct invocation *inv, char *err, size_t errlen)
{
	int rc;

	inv->interval_s = 1.0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w") ||
		    !strcmp(argv[i], "watch")) {
			inv->watch = true;
		} else if (!strcmp(argv[i], "--interval") || !strcmp(argv[i], "-i") ||
			   !strcmp(argv[i], "interval")) {
			char *end;

			if (i + 1 >= argc)
				return usage_err(err, errlen, "stats: --interval needs seconds");
			inv->interval_s = strtod(argv[++i], &end);
			if (*end || inv->interval_s < 0.1 || inv->interval_s > 3600)
				return usage_err(err, errlen,
						 "stats: --interval takes 0.1 to 3600 seconds");
		} else if (!json_object_get(inv->req, "vip")) {
			if ((rc = put_vip(inv->req, argv[i], err, errlen)) < 0)
				return rc;
		} else {
			return usage_err(err, errlen, "stats: unexpected \"%s\"", argv[i]);
		}
	}
	return 0;
}

static int parse_explain(int argc, char **argv, struct invocation *inv, char *err,
			 size_t errlen)
{
	struct sluice_vip_key k;
	struct sluice_addr a;
	char vip[SLUICE_VIP_STRLEN + 8];
	__u16 port;
	__u8 proto;
	int rc;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "port")))
		return usage_err(err, errlen, "explain VIP tcp|udp CLIENT:PORT [port DPORT]");
	if (sluice_proto_parse(argv[1], &proto) < 0)
		return usage_err(err, errlen, "explain: protocol \"%s\": tcp or udp", argv[1]);
	/* The VIP may carry its protocol already (no address has a '/');
	 * then the two must agree. */
	if (strchr(argv[0], '/')) {
		if (sluice_vip_key_parse(argv[0], &k) < 0 || k.proto != proto)
			return usage_err(err, errlen, "explain: \"%s\" and protocol %s disagree",
					 argv[0], argv[1]);
		snprintf(vip, sizeof(vip), "%s", argv[0]);
	} else {
		snprintf(vip, sizeof(vip), "%s/%s", argv[0], argv[1]);
	}
	if ((rc = put_vip(inv->req, vip, err, errlen)) < 0)
		return rc;
	if (sluice_endpoint_parse(argv[2], &a, &port) < 0)
		return usage_err(err, errlen, "explain: \"%s\" is not CLIENT:PORT", argv[2]);
	json_object_set_new(inv->req, "protocol", json_string(argv[1]));
	json_object_set_new(inv->req, "client", json_string(argv[2]));
	if (argc == 5)
		return put_uint(inv->req, "port", "port", argv[4], 65535, err, errlen);
	return 0;
}

static int parse_host(int argc, char **argv, struct invocation *inv, char *err, size_t errlen)
{
	static const char *const cmds[] = {"drain", "undrain", NULL};
	const char *c = argc ? match(argv[0], cmds) : NULL;
	static char name[32];

	if (c && argc == 2 && !strcmp(c, "drain") && !strcmp(argv[1], "--wait"))
		inv->wait_safe = true;
	else if (!c || argc > 1)
		return usage_err(err, errlen, "host drain [--wait] | host undrain");
	snprintf(name, sizeof(name), "host.%s", c);
	inv->cmd = name;
	json_object_set_new(inv->req, "cmd", json_string(name));
	return 0;
}

/* The commands that change the configuration: the ones with a dry run. */
static bool is_change(const char *cmd)
{
	static const char *const changes[] = {"vip.add",	"vip.del",	  "backend.add",
					      "backend.del",	"backend.drain",  "backend.enable",
					      "backend.disable", "backend.weight", NULL};

	for (const char *const *c = changes; *c; c++)
		if (!strcmp(*c, cmd))
			return true;
	return false;
}

static int parse_words(int argc, char **argv, struct invocation *inv, char *err,
		       size_t errlen)
{
	static const char *const objects[] = {"vip", "backend", "health", "stats", "table",
					      "explain", "status", "host", NULL};
	const char *o = argc ? match(argv[0], objects) : NULL;
	int rc;

	if (!o)
		return usage_err(err, errlen, argc ? "unknown object \"%s\"" : "%s",
				 argc ? argv[0] : "no object given");
	inv->req = json_object();
	inv->cmd = o;
	argc--;
	argv++;
	if (!strcmp(o, "vip")) {
		rc = parse_vip(argc, argv, inv, err, errlen);
	} else if (!strcmp(o, "backend")) {
		rc = parse_backend(argc, argv, inv, err, errlen);
	} else if (!strcmp(o, "host")) {
		rc = parse_host(argc, argv, inv, err, errlen);
	} else {
		json_object_set_new(inv->req, "cmd", json_string(o));
		if (!strcmp(o, "health"))
			rc = argc > 1 ? usage_err(err, errlen, "health [VIP]")
			     : argc   ? put_vip(inv->req, argv[0], err, errlen)
				      : 0;
		else if (!strcmp(o, "stats"))
			rc = parse_stats(argc, argv, inv, err, errlen);
		else if (!strcmp(o, "table"))
			rc = argc != 1 ? usage_err(err, errlen, "table VIP")
				       : put_vip(inv->req, argv[0], err, errlen);
		else if (!strcmp(o, "explain"))
			rc = parse_explain(argc, argv, inv, err, errlen);
		else
			rc = argc ? usage_err(err, errlen, "status takes no arguments") : 0;
	}
	if (rc == 0 && inv->dry_run) {
		if (!is_change(inv->cmd))
			rc = usage_err(err, errlen, "--dry-run: only for vip add|del and backend "
						    "add|del|drain|enable|disable|weight");
		else
			json_object_set_new(inv->req, "dry_run", json_true());
	}
	if (rc < 0) {
		json_decref(inv->req);
		inv->req = NULL;
	}
	return rc;
}

int args_parse(int argc, char **argv, bool dry_run, struct invocation *inv, char *err,
	       size_t errlen)
{
	char **words = calloc((size_t)argc + 1, sizeof(*words));
	int n = 0, rc;

	memset(inv, 0, sizeof(*inv));
	if (!words)
		return usage_err(err, errlen, "out of memory");
	inv->dry_run = dry_run;
	/* Flags an operator types last: "backend drain VIP ADDR --dry-run". */
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			inv->dry_run = true;
		else if (!strcmp(argv[i], "--json"))
			inv->json = true;
		else
			words[n++] = argv[i];
	}
	rc = parse_words(n, words, inv, err, errlen);
	free(words);
	return rc;
}
