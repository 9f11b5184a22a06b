/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's configuration: the JSON file (docs/config.md) parsed into plain
 * structs and validated. Syntax errors name file, line and column; semantic
 * errors name the field by its JSON path. Nothing here touches the running
 * daemon: a configuration is data until model_sync() applies it.
 */
#ifndef SLUICED_CONFIG_H
#define SLUICED_CONFIG_H

#include <jansson.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "jsonutil.h"
#include "sluice/model.h"
#include "table.h"

#define CONF_DEFAULT_PATH "/etc/sluice/sluice.json"
#define CONF_DEFAULT_INSTANCE "sluice"
#define CONF_DEFAULT_METRICS "127.0.0.1:9470"
#define CONF_DEFAULT_WEIGHT 100u
#define CONF_DEFAULT_GUE_PORT 6080u
#define CONF_DEFAULT_HEARTBEAT_MS 1000u
#define CONF_HEALTH_PATH_MAX 256
#define CONF_SOCKET_PATH_MAX 108 /* sun_path */

enum conf_dp_mode {
	CONF_DP_DPDK = 0,	   /* sluice-dp only */
	CONF_DP_XDP = 1,	   /* the XDP path only, driven by sluiced */
	CONF_DP_DPDK_XDP = 2, /* sluice-dp; XDP takes over when it goes stale */
};

enum conf_health_type {
	CONF_HEALTH_NONE = 0, /* not checked: always up */
	CONF_HEALTH_TCP = 1,  /* a TCP connect succeeds */
	CONF_HEALTH_HTTP = 2, /* GET path answers expect_status */
};

/* How one backend is checked. */
struct conf_health {
	enum conf_health_type type;
	__u16 port;			  /* 0: the VIP's port */
	__u16 expect_status;		  /* HTTP status that means healthy */
	__u32 interval_ms;		  /* one probe per interval */
	__u32 timeout_ms;		  /* a probe slower than this failed */
	__u8 rise;			  /* successes in a row to go up */
	__u8 fall;			  /* failures in a row to go down */
	char path[CONF_HEALTH_PATH_MAX];  /* HTTP request target */
	char host[CONF_HEALTH_PATH_MAX];  /* HTTP Host header; "" = the address */
};

/* One backend of one VIP, as configured (after any per-backend health
 * override has been merged over the VIP's). */
struct conf_backend {
	struct sluice_addr addr;	/* its identity within the VIP */
	__u32 weight;			/* 0..SLUICE_WEIGHT_MAX */
	__u8 state;			/* ACTIVE, DRAINING or DISABLED */
	bool has_mac;			/* mac is set (needed by l2dsr) */
	__u8 mac[6];
	struct conf_health health;	/* effective check */
};

/* One VIP and its backends. */
struct conf_vip {
	struct sluice_vip_key key;	/* address, port, protocol */
	__u8 mode;			/* enum sluice_fwd_mode */
	enum sluice_table_algo algo;	/* maglev or ring */
	__u32 table_size;		/* M, prime */
	__u64 hash_seed;		/* seeds the flow hash and the table */
	__u32 ring_k;			/* ring: virtual nodes per backend */
	struct conf_health health;	/* default check of its backends */
	struct conf_backend *backends;
	size_t n_backends;
};

/* VIP announcement (docs/config.md "routing"): host routes in a kernel
 * table of sluiced's own for BIRD or FRR to export. */
#define CONF_DEFAULT_MIN_UP 1u
#define CONF_DEFAULT_DRAIN_GRACE_S 30u
struct conf_routing {
	bool enabled;			/* "routing" given: sluiced keeps routes */
	__u32 table;			/* kernel table id; not 253-255 */
	__u32 min_up;			/* backends up a VIP needs */
	__u32 drain_grace_s;		/* host drain: forward this long after */
};

/* A whole configuration. */
struct conf {
	char instance[33];		/* names the shared memory */
	enum conf_dp_mode dp_mode;
	char interface[IF_NAMESIZE];	/* XDP attaches here; "" = none */
	__u32 heartbeat_timeout_ms;	/* data plane stale after this */
	__u32 syn_rate;			/* the XDP path's flood guard (consts.h) */
	bool xdp_keep_on_stop;		/* leave the XDP program attached when sluiced stops */
	struct sluice_global_cfg global; /* sources, MACs, GUE port, MTU */
	char control_socket[CONF_SOCKET_PATH_MAX];
	char control_group[64];		/* "" = owner only (0600) */
	bool metrics_enabled;
	char metrics_listen[SLUICE_ENDPOINT_STRLEN];
	struct conf_routing routing;
	struct conf_vip *vips;
	size_t n_vips;
};

/* Parse and validate a configuration file. On error returns -errno and
 * err holds "FILE:LINE:COLUMN: what" or "FILE: json.path: what". */
int conf_load(const char *file, struct conf *out, char *err, size_t errlen);
/* The same from a JSON value (tests, and sources without a file). */
int conf_from_json(const json_t *root, struct conf *out, struct ju_err *e);
void conf_free(struct conf *c);
int conf_copy(struct conf *dst, const struct conf *src);

/* Checks across VIPs and against the snapshot's capacities; run on every
 * configuration that is about to be used (config file, and the result of
 * applying CLI changes). */
int conf_validate(const struct conf *c, struct ju_err *e);

/* One VIP's settings (no backends) from JSON with defaults, and back:
 * shared with `vip add` and the state file. */
int conf_vip_settings_from_json(const json_t *obj, const char *path, struct conf_vip *v,
				struct ju_err *e);
json_t *conf_vip_settings_to_json(const struct conf_vip *v);
/* A backend's fields (address, weight, state, mac) over v's defaults. */
int conf_backend_from_json(const json_t *obj, const char *path, const struct conf_vip *v,
			   struct conf_backend *b, struct ju_err *e);
/* Defaults for a health check (type NONE). */
void conf_health_defaults(struct conf_health *h);
bool conf_health_equal(const struct conf_health *a, const struct conf_health *b);

/* The "routing" section (config_routing.c); absent: r->enabled false. */
int conf_routing_from_json(const json_t *root, struct conf_routing *r, struct ju_err *e);

/* Names of enumerations, for output. */
const char *conf_dp_mode_name(enum conf_dp_mode m);
const char *conf_fwd_mode_name(__u8 mode);
const char *conf_backend_state_name(__u8 state);
const char *conf_health_type_name(enum conf_health_type t);
int conf_backend_state_parse(const char *s, __u8 *state);

/* The VIP in c with key k, or NULL; likewise a backend of v. */
struct conf_vip *conf_find_vip(const struct conf *c, const struct sluice_vip_key *k);
struct conf_backend *conf_find_backend(const struct conf_vip *v, const struct sluice_addr *a);

#endif /* SLUICED_CONFIG_H */
