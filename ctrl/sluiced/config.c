/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration file: parse, defaults, validation. See config.h and
 * docs/config.md (which lists every key this file accepts). */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "config.h"
#include "sluice/shm.h"

static const char *const dp_mode_names[] = {"dpdk", "xdp", "dpdk+xdp-fallback", NULL};
static const char *const fwd_names[] = {"ipip", "gue", "l2dsr", NULL};
static const char *const algo_names[] = {"maglev", "ring", NULL};
static const char *const state_names[] = {"active", "draining", "disabled", NULL};
static const char *const health_names[] = {"none", "tcp", "http", NULL};

const char *conf_dp_mode_name(enum conf_dp_mode m)
{
	return (unsigned int)m <= CONF_DP_DPDK_XDP ? dp_mode_names[m] : "?";
}

const char *conf_fwd_mode_name(__u8 mode)
{
	return mode >= SLUICE_FWD_IPIP && mode <= SLUICE_FWD_L2DSR ? fwd_names[mode - 1] : "?";
}

const char *conf_backend_state_name(__u8 state)
{
	switch (state) {
	case SLUICE_BACKEND_ACTIVE: return "active";
	case SLUICE_BACKEND_DRAINING: return "draining";
	case SLUICE_BACKEND_DISABLED: return "disabled";
	case SLUICE_BACKEND_DOWN: return "down";
	}
	return "?";
}

int conf_backend_state_parse(const char *s, __u8 *state)
{
	for (unsigned int i = 0; state_names[i]; i++)
		if (s && strcmp(s, state_names[i]) == 0) {
			*state = (__u8)(SLUICE_BACKEND_ACTIVE + i);
			return 0;
		}
	return -EINVAL;
}

const char *conf_health_type_name(enum conf_health_type t)
{
	return (unsigned int)t <= CONF_HEALTH_HTTP ? health_names[t] : "?";
}

void conf_health_defaults(struct conf_health *h)
{
	memset(h, 0, sizeof(*h));
	h->type = CONF_HEALTH_NONE;
	h->expect_status = 200;
	h->interval_ms = 1000;
	h->timeout_ms = 500;
	h->rise = 2;
	h->fall = 3;
	strcpy(h->path, "/");
}

bool conf_health_equal(const struct conf_health *a, const struct conf_health *b)
{
	return a->type == b->type && a->port == b->port && a->expect_status == b->expect_status &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->host, b->host) == 0;
}

/* Why s cannot go into an HTTP request line or header (so that a
 * configured value cannot split the request), or NULL. The bytes are
 * compared unsigned: as a plain char every byte of a UTF-8 name is
 * negative, below ' ', and was refused as a "space". */
static const char *http_token_problem(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if (*u < ' ' || *u == 0x7f)
			return "contains a control character";
		if (*u == ' ')
			return "contains a space";
		if (*u >= 0x80)
			return "contains a non-ASCII byte (percent-encode a path; write an "
			       "international host name in its xn-- form)";
	}
	return NULL;
}

/* A health object over base. vip_port tells whether a port is required. */
static int parse_health(const json_t *obj, const char *path, const struct conf_health *base,
			__u16 vip_port, struct conf_health *out, struct ju_err *e)
{
	static const char *const keys[] = {"type", "port", "path", "host", "expect_status",
					   "interval_ms", "timeout_ms", "rise", "fall", NULL};
	struct conf_health h = *base;
	const char *why;
	unsigned int type = h.type == CONF_HEALTH_NONE ? CONF_HEALTH_TCP : h.type;
	__u32 port = h.port, status = h.expect_status, rise = h.rise, fall = h.fall;
	char p[JU_PATH_MAX];
	int rc;

	if ((rc = ju_expect_object(e, obj, path)) < 0 || (rc = ju_check_keys(e, obj, path, keys)) < 0)
		return rc;
	if ((rc = ju_get_enum(e, obj, "type", path, health_names, &type, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "port", path, 1, 65535, &port, NULL)) < 0 ||
	    (rc = ju_get_str(e, obj, "path", path, h.path, sizeof(h.path), NULL)) < 0 ||
	    (rc = ju_get_str(e, obj, "host", path, h.host, sizeof(h.host), NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "expect_status", path, 100, 599, &status, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "interval_ms", path, 50, 3600000, &h.interval_ms, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "timeout_ms", path, 10, 3600000, &h.timeout_ms, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "rise", path, 1, 100, &rise, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "fall", path, 1, 100, &fall, NULL)) < 0)
		return rc;
	h.type = (enum conf_health_type)type;
	h.port = (__u16)port;
	h.expect_status = (__u16)status;
	h.rise = (__u8)rise;
	h.fall = (__u8)fall;
	if (h.timeout_ms > h.interval_ms) {
		ju_path_key(p, path, "timeout_ms");
		return ju_fail(e, p, "%u ms is longer than interval_ms (%u ms)", h.timeout_ms,
			       h.interval_ms);
	}
	if (h.path[0] != '/') {
		ju_path_key(p, path, "path");
		return ju_fail(e, p, "\"%s\" must start with /", h.path);
	}
	if ((why = http_token_problem(h.path))) {
		ju_path_key(p, path, "path");
		return ju_fail(e, p, "\"%s\" %s", h.path, why);
	}
	if ((why = http_token_problem(h.host))) {
		ju_path_key(p, path, "host");
		return ju_fail(e, p, "\"%s\" %s", h.host, why);
	}
	if (h.type != CONF_HEALTH_NONE && h.port == 0 && vip_port == 0) {
		ju_path_key(p, path, "port");
		return ju_fail(e, p, "required: the VIP takes every port (port 0)");
	}
	*out = h;
	return 0;
}

static json_t *health_to_json(const struct conf_health *h)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "type", conf_health_type_name(h->type),
			      "interval_ms", (json_int_t)h->interval_ms, "timeout_ms",
			      (json_int_t)h->timeout_ms, "rise", (json_int_t)h->rise, "fall",
			      (json_int_t)h->fall);

	if (!o)
		return NULL;
	if (h->port)
		json_object_set_new(o, "port", json_integer(h->port));
	if (h->type == CONF_HEALTH_HTTP) {
		json_object_set_new(o, "path", json_string(h->path));
		json_object_set_new(o, "expect_status", json_integer(h->expect_status));
		if (h->host[0])
			json_object_set_new(o, "host", json_string(h->host));
	}
	return o;
}

/* Why a can be neither a VIP nor a backend, or NULL. An IPv4-mapped IPv6
 * address is refused rather than taken as the IPv4 one: it would be a
 * second key for the same VIP or backend, and no packet on the wire
 * carries it. Loopback stays allowed for backends: only this host reaches
 * them, which is what the integration tests' real backends rely on. */
static const char *addr_problem(const struct sluice_addr *a, bool vip)
{
	static const __u8 zero[16];
	static const __u8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const __u8 *b = a->bytes;

	if (a->family == SLUICE_FAMILY_V4) {
		if (memcmp(b, zero, 4) == 0)
			return "is the unspecified address";
		if (b[0] >= 224 && b[0] <= 239)
			return "is a multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "is the broadcast address";
		if (vip && b[0] == 127)
			return "is a loopback address: no packet from the network reaches it";
		return NULL;
	}
	if (memcmp(b, zero, 16) == 0)
		return "is the unspecified address";
	if (b[0] == 0xff)
		return "is a multicast address";
	if (memcmp(b, mapped, 12) == 0)
		return "is an IPv4-mapped address: write the IPv4 address";
	if (vip && memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "is a loopback address: no packet from the network reaches it";
	return NULL;
}

static int check_addr(struct ju_err *e, const char *path, const struct sluice_addr *a, bool vip)
{
	const char *why = addr_problem(a, vip);
	char p[JU_PATH_MAX], s[SLUICE_ADDR_STRLEN];

	if (!why)
		return 0;
	ju_path_key(p, path, "address");
	sluice_addr_format(a, s, sizeof(s));
	return ju_fail(e, p, "%s %s", s, why);
}

int conf_vip_settings_from_json(const json_t *obj, const char *path, struct conf_vip *v,
				struct ju_err *e)
{
	static const char *const keys[] = {"address", "port", "protocol", "forwarding",
					   "algorithm", "table_size", "hash_seed", "ring_k",
					   "health", "backends", NULL};
	static const char *const protos[] = {"tcp", "udp", NULL};
	unsigned int proto = 0, fwd = 0, algo = 0;
	__u32 port = 0;
	bool present;
	char p[JU_PATH_MAX];
	const json_t *h;
	int rc;

	memset(v, 0, sizeof(*v));
	v->table_size = SLUICE_TABLE_DEFAULT_M;
	v->ring_k = SLUICE_RING_DEFAULT_K;
	conf_health_defaults(&v->health);
	if ((rc = ju_expect_object(e, obj, path)) < 0 || (rc = ju_check_keys(e, obj, path, keys)) < 0)
		return rc;
	if ((rc = ju_get_addr(e, obj, "address", path, &v->key.addr, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"address\"");
	if ((rc = check_addr(e, path, &v->key.addr, true)) < 0)
		return rc;
	if ((rc = ju_get_u32(e, obj, "port", path, 0, 65535, &port, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"port\" (0 takes every port)");
	if ((rc = ju_get_enum(e, obj, "protocol", path, protos, &proto, NULL)) < 0 ||
	    (rc = ju_get_enum(e, obj, "forwarding", path, fwd_names, &fwd, NULL)) < 0 ||
	    (rc = ju_get_enum(e, obj, "algorithm", path, algo_names, &algo, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "table_size", path, 2, SLUICE_TABLE_MAX_M, &v->table_size,
			     NULL)) < 0 ||
	    (rc = ju_get_u64_wide(e, obj, "hash_seed", path, &v->hash_seed, NULL)) < 0 ||
	    (rc = ju_get_u32(e, obj, "ring_k", path, 1, SLUICE_RING_MAX_K, &v->ring_k, NULL)) < 0)
		return rc;
	v->key.port = (__u16)port;
	v->key.proto = proto ? IPPROTO_UDP : IPPROTO_TCP;
	v->mode = (__u8)(SLUICE_FWD_IPIP + fwd);
	v->algo = algo ? SLUICE_ALGO_RING : SLUICE_ALGO_MAGLEV;
	if (!sluice_is_prime(v->table_size)) {
		ju_path_key(p, path, "table_size");
		return ju_fail(e, p, "%u is not prime", v->table_size);
	}
	h = json_object_get(obj, "health");
	if (h) {
		struct conf_health base;

		conf_health_defaults(&base);
		ju_path_key(p, path, "health");
		if ((rc = parse_health(h, p, &base, v->key.port, &v->health, e)) < 0)
			return rc;
	}
	return 0;
}

json_t *conf_vip_settings_to_json(const struct conf_vip *v)
{
	char seed[24];
	json_t *o;

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)v->hash_seed);
	o = json_pack("{s:o, s:I, s:s, s:s, s:s, s:I, s:s, s:I}", "address", ju_addr(&v->key.addr),
		      "port", (json_int_t)v->key.port, "protocol", sluice_proto_name(v->key.proto),
		      "forwarding", conf_fwd_mode_name(v->mode), "algorithm",
		      sluice_table_algo_name(v->algo), "table_size", (json_int_t)v->table_size,
		      "hash_seed", seed, "ring_k", (json_int_t)v->ring_k);
	if (o && v->health.type != CONF_HEALTH_NONE)
		json_object_set_new(o, "health", health_to_json(&v->health));
	return o;
}

int conf_backend_from_json(const json_t *obj, const char *path, const struct conf_vip *v,
			   struct conf_backend *b, struct ju_err *e)
{
	static const char *const keys[] = {"address", "weight", "state", "mac", "health", NULL};
	unsigned int state = 0;
	bool present;
	char p[JU_PATH_MAX];
	const json_t *h;
	int rc;

	memset(b, 0, sizeof(*b));
	b->weight = CONF_DEFAULT_WEIGHT;
	b->health = v->health;
	if ((rc = ju_expect_object(e, obj, path)) < 0 || (rc = ju_check_keys(e, obj, path, keys)) < 0)
		return rc;
	if ((rc = ju_get_addr(e, obj, "address", path, &b->addr, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"address\"");
	if ((rc = check_addr(e, path, &b->addr, false)) < 0)
		return rc;
	if ((rc = ju_get_u32(e, obj, "weight", path, 0, SLUICE_WEIGHT_MAX, &b->weight, NULL)) < 0 ||
	    (rc = ju_get_enum(e, obj, "state", path, state_names, &state, NULL)) < 0 ||
	    (rc = ju_get_mac(e, obj, "mac", path, b->mac, &b->has_mac)) < 0)
		return rc;
	b->state = (__u8)(SLUICE_BACKEND_ACTIVE + state);
	h = json_object_get(obj, "health");
	if (h) {
		ju_path_key(p, path, "health");
		if ((rc = parse_health(h, p, &v->health, v->key.port, &b->health, e)) < 0)
			return rc;
	}
	return 0;
}

struct conf_vip *conf_find_vip(const struct conf *c, const struct sluice_vip_key *k)
{
	for (size_t i = 0; i < c->n_vips; i++)
		if (sluice_vip_key_equal(&c->vips[i].key, k))
			return &c->vips[i];
	return NULL;
}

struct conf_backend *conf_find_backend(const struct conf_vip *v, const struct sluice_addr *a)
{
	for (size_t i = 0; i < v->n_backends; i++)
		if (sluice_addr_equal(&v->backends[i].addr, a))
			return &v->backends[i];
	return NULL;
}

static int parse_vip(const json_t *obj, const char *path, struct conf_vip *v, struct ju_err *e)
{
	const json_t *arr;
	char p[JU_PATH_MAX], bp[JU_PATH_MAX];
	int rc = conf_vip_settings_from_json(obj, path, v, e);

	if (rc < 0)
		return rc;
	arr = json_object_get(obj, "backends");
	if (!arr)
		return 0;
	ju_path_key(p, path, "backends");
	if (!json_is_array(arr))
		return ju_fail(e, p, "expected an array");
	if (json_array_size(arr) > SLUICE_MAX_BACKENDS_PER_VIP)
		return ju_fail(e, p, "%zu backends: at most %u per VIP", json_array_size(arr),
			       SLUICE_MAX_BACKENDS_PER_VIP);
	v->backends = calloc(json_array_size(arr) ? json_array_size(arr) : 1,
			     sizeof(*v->backends));
	if (!v->backends)
		return ju_fail(e, p, "out of memory");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct conf_backend *b = &v->backends[i];

		ju_path_index(bp, p, i);
		rc = conf_backend_from_json(json_array_get(arr, i), bp, v, b, e);
		if (rc < 0)
			return rc;
		/* Counted only now: conf_free frees what was parsed so far. */
		v->n_backends = i + 1;
		for (size_t j = 0; j < i; j++)
			if (sluice_addr_equal(&v->backends[j].addr, &b->addr)) {
				char a[SLUICE_ADDR_STRLEN];

				sluice_addr_format(&b->addr, a, sizeof(a));
				ju_path_key(p, bp, "address");
				return ju_fail(e, p, "duplicate backend %s (also backends[%zu])", a,
					       j);
			}
	}
	return 0;
}

/* The socket is given to the group at start, after the shared memory and
 * the state file exist: an unknown group must be refused here, by
 * --check-config too, not half-way through a start. */
static int check_group(const char *name, struct ju_err *e)
{
	struct group gr, *found = NULL;
	long max = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t len = max > 0 ? (size_t)max : 16384;
	char *buf;
	int rc;

	for (;;) {
		buf = malloc(len);
		if (!buf)
			return ju_fail(e, "control.group", "out of memory");
		rc = getgrnam_r(name, &gr, buf, len, &found);
		free(buf);
		if (rc != ERANGE || len >= 1 << 20)
			break;
		len *= 2;
	}
	if (rc)
		return ju_fail(e, "control.group", "\"%s\": cannot look it up: %s", name,
			       strerror(rc));
	if (!found)
		return ju_fail(e, "control.group", "\"%s\": no such group", name);
	return 0;
}

static int parse_sections(const json_t *root, struct conf *c, struct ju_err *e)
{
	static const char *const dp_keys[] = {"mode", "interface", "heartbeat_timeout_ms",
					      "xdp_on_stop", "syn_rate", NULL};
	static const char *const on_stop_names[] = {"keep", "detach", NULL};
	static const char *const src_keys[] = {"ipv4", "ipv6", NULL};
	static const char *const ctl_keys[] = {"socket", "group", NULL};
	static const char *const met_keys[] = {"enabled", "listen", NULL};
	unsigned int mode = CONF_DP_DPDK, on_stop = 0;
	bool on_stop_given = false;
	__u32 gue = CONF_DEFAULT_GUE_PORT, mtu = SLUICE_DEFAULT_MTU;
	struct sluice_addr a;
	bool present;
	const json_t *o;
	int rc;

	if ((o = json_object_get(root, "dataplane"))) {
		if ((rc = ju_expect_object(e, o, "dataplane")) < 0 ||
		    (rc = ju_check_keys(e, o, "dataplane", dp_keys)) < 0 ||
		    (rc = ju_get_enum(e, o, "mode", "dataplane", dp_mode_names, &mode, NULL)) < 0 ||
		    (rc = ju_get_str(e, o, "interface", "dataplane", c->interface,
				     sizeof(c->interface), NULL)) < 0 ||
		    (rc = ju_get_u32(e, o, "heartbeat_timeout_ms", "dataplane", 10, 600000,
				     &c->heartbeat_timeout_ms, NULL)) < 0 ||
		    (rc = ju_get_enum(e, o, "xdp_on_stop", "dataplane", on_stop_names, &on_stop,
				      &on_stop_given)) < 0 ||
		    (rc = ju_get_u32(e, o, "syn_rate", "dataplane", 0, 1000000000, &c->syn_rate,
				     NULL)) < 0)
			return rc;
	}
	c->dp_mode = (enum conf_dp_mode)mode;
	/* Mode xdp keeps the program forwarding across a stop of sluiced (a
	 * restart must not interrupt traffic, as with sluice-dp); as a
	 * fallback it goes with sluiced, so that sluice-dp has the interface
	 * to itself again. */
	c->xdp_keep_on_stop = on_stop_given ? on_stop == 0 : c->dp_mode == CONF_DP_XDP;
	if (c->dp_mode != CONF_DP_DPDK && !c->interface[0])
		return ju_fail(e, "dataplane.interface", "required in mode \"%s\"",
			       conf_dp_mode_name(c->dp_mode));
	if ((o = json_object_get(root, "source"))) {
		if ((rc = ju_expect_object(e, o, "source")) < 0 ||
		    (rc = ju_check_keys(e, o, "source", src_keys)) < 0)
			return rc;
		if ((rc = ju_get_addr(e, o, "ipv4", "source", &a, &present)) < 0)
			return rc;
		if (present && a.family != SLUICE_FAMILY_V4)
			return ju_fail(e, "source.ipv4", "expected an IPv4 address");
		if (present)
			c->global.src_v4 = a;
		if ((rc = ju_get_addr(e, o, "ipv6", "source", &a, &present)) < 0)
			return rc;
		if (present && a.family != SLUICE_FAMILY_V6)
			return ju_fail(e, "source.ipv6", "expected an IPv6 address");
		if (present)
			c->global.src_v6 = a;
	}
	if ((rc = ju_get_mac(e, root, "nexthop_mac", "", c->global.nexthop_mac, NULL)) < 0 ||
	    (rc = ju_get_mac(e, root, "lb_mac", "", c->global.lb_mac, NULL)) < 0 ||
	    (rc = ju_get_u32(e, root, "gue_port", "", 1, 65535, &gue, NULL)) < 0 ||
	    (rc = ju_get_u32(e, root, "mtu", "", 576, 9702, &mtu, NULL)) < 0)
		return rc;
	c->global.gue_port = htons((__u16)gue);
	c->global.mtu = (__u16)mtu;
	if ((o = json_object_get(root, "control"))) {
		if ((rc = ju_expect_object(e, o, "control")) < 0 ||
		    (rc = ju_check_keys(e, o, "control", ctl_keys)) < 0 ||
		    (rc = ju_get_str(e, o, "socket", "control", c->control_socket,
				     sizeof(c->control_socket), NULL)) < 0 ||
		    (rc = ju_get_str(e, o, "group", "control", c->control_group,
				     sizeof(c->control_group), NULL)) < 0)
			return rc;
		if (c->control_socket[0] != '/')
			return ju_fail(e, "control.socket", "must be an absolute path");
		if (c->control_group[0] && (rc = check_group(c->control_group, e)) < 0)
			return rc;
	}
	if ((o = json_object_get(root, "metrics"))) {
		struct sluice_addr ma;
		__u16 mp;

		if ((rc = ju_expect_object(e, o, "metrics")) < 0 ||
		    (rc = ju_check_keys(e, o, "metrics", met_keys)) < 0 ||
		    (rc = ju_get_bool(e, o, "enabled", "metrics", &c->metrics_enabled, NULL)) < 0 ||
		    (rc = ju_get_str(e, o, "listen", "metrics", c->metrics_listen,
				     sizeof(c->metrics_listen), NULL)) < 0)
			return rc;
		if (sluice_endpoint_parse(c->metrics_listen, &ma, &mp) < 0 || mp == 0)
			return ju_fail(e, "metrics.listen",
				       "\"%s\" is not ADDRESS:PORT (IPv6 in brackets)",
				       c->metrics_listen);
	}
	return 0;
}

int conf_from_json(const json_t *root, struct conf *c, struct ju_err *e)
{
	static const char *const keys[] = {"instance", "dataplane", "source", "nexthop_mac",
					   "lb_mac", "gue_port", "mtu", "control", "metrics",
					   "routing", "vips", NULL};
	const json_t *vips;
	char p[JU_PATH_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	strcpy(c->instance, CONF_DEFAULT_INSTANCE);
	c->heartbeat_timeout_ms = CONF_DEFAULT_HEARTBEAT_MS;
	c->syn_rate = SLUICE_DEFAULT_SYN_RATE;
	c->metrics_enabled = true;
	strcpy(c->metrics_listen, CONF_DEFAULT_METRICS);
	if ((rc = ju_expect_object(e, root, "(top level)")) < 0 ||
	    (rc = ju_check_keys(e, root, "(top level)", keys)) < 0 ||
	    (rc = ju_get_str(e, root, "instance", "", c->instance, sizeof(c->instance), NULL)) < 0)
		goto fail;
	if (!sluice_instance_valid(c->instance)) {
		rc = ju_fail(e, "instance", "\"%s\": " SLUICE_INSTANCE_RULE, c->instance);
		goto fail;
	}
	/* instance is at most 32 characters: this fits. */
	snprintf(c->control_socket, sizeof(c->control_socket), "/run/sluice/%.32s.sock",
		 c->instance);
	if ((rc = parse_sections(root, c, e)) < 0 ||
	    (rc = conf_routing_from_json(root, &c->routing, e)) < 0)
		goto fail;
	vips = json_object_get(root, "vips");
	if (vips && !json_is_array(vips)) {
		rc = ju_fail(e, "vips", "expected an array");
		goto fail;
	}
	if (vips && json_array_size(vips) > SLUICE_MAX_VIPS) {
		rc = ju_fail(e, "vips", "%zu VIPs: at most %u", json_array_size(vips),
			     SLUICE_MAX_VIPS);
		goto fail;
	}
	c->vips = calloc(vips && json_array_size(vips) ? json_array_size(vips) : 1,
			 sizeof(*c->vips));
	if (!c->vips) {
		rc = ju_fail(e, "vips", "out of memory");
		goto fail;
	}
	for (size_t i = 0; vips && i < json_array_size(vips); i++) {
		struct conf_vip *v = &c->vips[i];

		ju_path_index(p, "vips", i);
		rc = parse_vip(json_array_get(vips, i), p, v, e);
		c->n_vips = i + 1;
		if (rc < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (sluice_vip_key_equal(&c->vips[j].key, &v->key)) {
				char k[SLUICE_VIP_STRLEN];

				sluice_vip_key_format(&v->key, k, sizeof(k));
				rc = ju_fail(e, p, "duplicate VIP %s (also vips[%zu])", k, j);
				goto fail;
			}
	}
	rc = conf_validate(c, e);
	if (rc == 0)
		return 0;
fail:
	conf_free(c);
	return rc;
}

/* "PATH.backends[j].field", made only for an error: every change validates
 * every backend, and formatting each one's path showed in profiles. */
static void backend_path(char *out, const char *path, size_t j, const char *field)
{
	char p[JU_PATH_MAX], bp[JU_PATH_MAX];

	ju_path_key(p, path, "backends");
	ju_path_index(bp, p, j);
	ju_path_key(out, bp, field);
}

/* Encapsulating VIPs need a source address of their backends' family and
 * a next hop; L2 DSR needs every backend's MAC. */
static int validate_forwarding(const struct conf *c, const struct conf_vip *v, const char *path,
			       struct ju_err *e)
{
	static const __u8 zero_mac[6];
	char k[SLUICE_VIP_STRLEN], p[JU_PATH_MAX];

	sluice_vip_key_format(&v->key, k, sizeof(k));
	for (size_t j = 0; j < v->n_backends; j++) {
		const struct conf_backend *b = &v->backends[j];
		bool v4 = b->addr.family == SLUICE_FAMILY_V4;

		if (v->mode == SLUICE_FWD_L2DSR) {
			if (!b->has_mac) {
				backend_path(p, path, j, "mac");
				return ju_fail(e, p, "required: VIP %s forwards by l2dsr", k);
			}
			/* Only the MAC changes: the backend gets the VIP's packet
			 * as it came, so it must be of the VIP's family (and be
			 * checked at an address of that family). */
			if (b->addr.family != v->key.addr.family) {
				backend_path(p, path, j, "address");
				return ju_fail(e, p,
					       "an l2dsr VIP's backends have its address family: "
					       "the packet reaches them unchanged");
			}
			continue;
		}
		if (v->mode == SLUICE_FWD_IPIP && b->addr.family != v->key.addr.family) {
			backend_path(p, path, j, "address");
			return ju_fail(e, p,
				       "an ipip VIP's backends have its address family (IPv4 in "
				       "IPv4, IPv6 in IPv6); use gue to mix families");
		}
		if ((v4 ? c->global.src_v4.family : c->global.src_v6.family) == 0)
			return ju_fail(e, v4 ? "source.ipv4" : "source.ipv6",
				       "required: VIP %s encapsulates to IPv%c backends", k,
				       v4 ? '4' : '6');
		if (memcmp(c->global.nexthop_mac, zero_mac, 6) == 0)
			return ju_fail(e, "nexthop_mac", "required: VIP %s encapsulates (%s)", k,
				       conf_fwd_mode_name(v->mode));
	}
	return 0;
}

int conf_validate(const struct conf *c, struct ju_err *e)
{
	size_t backends = 0, slots = 0;
	char p[JU_PATH_MAX], q[JU_PATH_MAX];
	int rc;

	if (c->n_vips > SLUICE_MAX_VIPS)
		return ju_fail(e, "vips", "%zu VIPs: at most %u", c->n_vips, SLUICE_MAX_VIPS);
	for (size_t i = 0; i < c->n_vips; i++) {
		const struct conf_vip *v = &c->vips[i];
		__u64 need = (__u64)SLUICE_TABLE_MIN_SLOTS_PER_BACKEND * v->n_backends;

		ju_path_index(p, "vips", i);
		if (v->n_backends > SLUICE_MAX_BACKENDS_PER_VIP) {
			ju_path_key(q, p, "backends");
			return ju_fail(e, q, "%zu backends: at most %u per VIP", v->n_backends,
				       SLUICE_MAX_BACKENDS_PER_VIP);
		}
		if (v->table_size < need) {
			ju_path_key(q, p, "table_size");
			return ju_fail(e, q,
				       "%u is too small for %zu backends: at least %u slots per "
				       "backend (%llu)",
				       v->table_size, v->n_backends,
				       SLUICE_TABLE_MIN_SLOTS_PER_BACKEND, (unsigned long long)need);
		}
		if ((rc = validate_forwarding(c, v, p, e)) < 0)
			return rc;
		backends += v->n_backends;
		slots += v->table_size;
	}
	if (backends > SLUICE_MAX_BACKENDS)
		return ju_fail(e, "vips", "%zu backends in all: at most %u", backends,
			       SLUICE_MAX_BACKENDS);
	if (slots > SLUICE_TABLE_POOL_SLOTS)
		return ju_fail(e, "vips",
			       "the table sizes add up to %zu slots: the snapshot holds %u", slots,
			       SLUICE_TABLE_POOL_SLOTS);
	return 0;
}

int conf_load(const char *file, struct conf *out, char *err, size_t errlen)
{
	char msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson reports a missing or unreadable file as line -1. */
		if (jerr.line < 0)
			return sluice_errf(err, errlen, -EINVAL, "%s: %s", file, jerr.text);
		return sluice_errf(err, errlen, -EINVAL, "%s:%d:%d: %s", file, jerr.line,
				   jerr.column, jerr.text);
	}
	msg[0] = '\0';
	rc = conf_from_json(root, out, &e);
	json_decref(root);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "%s: %s", file, msg);
	return 0;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_vips; i++)
		free(c->vips[i].backends);
	free(c->vips);
	c->vips = NULL;
	c->n_vips = 0;
}

int conf_copy(struct conf *dst, const struct conf *src)
{
	*dst = *src;
	dst->vips = calloc(src->n_vips ? src->n_vips : 1, sizeof(*dst->vips));
	if (!dst->vips)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_vips; i++) {
		struct conf_vip *v = &dst->vips[i];

		*v = src->vips[i];
		v->backends = calloc(v->n_backends ? v->n_backends : 1, sizeof(*v->backends));
		if (!v->backends) {
			dst->n_vips = i;
			conf_free(dst);
			return -ENOMEM;
		}
		if (v->n_backends)
			memcpy(v->backends, src->vips[i].backends,
			       v->n_backends * sizeof(*v->backends));
	}
	return 0;
}
