/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running model: the VIPs and backends sluiced serves right now, each
 * with a stable id (what the data plane's counters and flow tables use) and
 * each backend with its health.
 *
 * Ids belong to identities: a VIP is (address, port, protocol), a backend
 * is (VIP, address). An identity keeps its id across reloads, and across
 * restarts through the state file (model_ids_to_json / model_ids_load).
 * New identities take the next free id after the last one given out, so a
 * freed id comes back only after the whole id space has been used: a flow
 * pinned to a deleted backend's id is not handed to a newcomer.
 *
 * model_sync() makes the model match a configuration and reports what
 * changed through callbacks (start or stop a health check, recompile a
 * VIP), so the owner of the model decides what a change costs.
 */
#ifndef SLUICED_MODEL_H
#define SLUICED_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "health.h"
#include "sluice/shm.h"

struct checker;
struct model_vip;

struct model_backend {
	struct conf_backend cfg;	/* as configured (file + CLI) */
	__u16 id;			/* stable; < SLUICE_MAX_BACKENDS */
	struct model_vip *vip;		/* the VIP whose set holds it */
	struct health_sm sm;		/* health; up when not checked */
	struct checker *checker;	/* its health check, NULL when none */
	bool mark;			/* scratch of model_sync() */
};

struct model_vip {
	struct conf_vip cfg;		/* settings; cfg.backends is unused */
	__u16 id;			/* stable; < SLUICE_MAX_VIPS */
	struct model_backend **backends;
	size_t n_backends;
	bool mark;			/* scratch of model_sync() */
};

struct model_id_hint;

struct model {
	struct model_vip *vips[SLUICE_MAX_VIPS];	 /* by id; NULL = free */
	struct model_backend *backends[SLUICE_MAX_BACKENDS]; /* by id; NULL = free */
	__u32 next_vip_id;		/* where the next id search starts */
	__u32 next_backend_id;
	size_t n_vips;
	size_t n_backends;
	struct model_id_hint *hints;	/* ids from the state file, sorted */
	size_t n_hints;
	/* Ids the hints promise, kept from newcomers until the next sync. */
	__u8 hinted_vip_ids[SLUICE_MAX_VIPS / 8];
	__u8 hinted_backend_ids[SLUICE_MAX_BACKENDS / 8];
};

/* What model_sync() changed. Any callback may be NULL. */
struct model_ops {
	void *ctx;
	/* Health of a new backend at start: true = up. NULL: up. */
	bool (*initial_up)(void *ctx, const struct model_backend *b);
	void (*backend_added)(void *ctx, struct model_backend *b);
	/* Called before b is freed. */
	void (*backend_removed)(void *ctx, struct model_backend *b);
	/* Its health check settings changed (cfg.health is already new). */
	void (*backend_check_changed)(void *ctx, struct model_backend *b);
	/* The VIP's table or snapshot entry must be rebuilt. */
	void (*vip_changed)(void *ctx, struct model_vip *v);
	/* Called before v is freed (its backends were removed first). */
	void (*vip_removed)(void *ctx, struct model_vip *v);
};

void model_init(struct model *m);
void model_destroy(struct model *m, const struct model_ops *ops);

/* Ids from a state file (the "ids" member), used by the next
 * model_sync() for identities the model does not have yet. Refuses ids out
 * of range and two identities with one id (-EINVAL, e says where). */
int model_ids_load(struct model *m, const json_t *ids, const char *path, struct ju_err *e);
json_t *model_ids_to_json(const struct model *m);
/* Ids from the snapshot the data plane uses now, for identities and ids no
 * hint has claimed: the data plane's flow tables hold these ids, so they
 * win over fresh ones even when the state file is lost. */
void model_ids_add_snapshot(struct model *m, const struct sluice_snapshot *snap);

/* Make m match c (validated). Returns 0 or -ENOMEM/-ENOSPC (no free id;
 * cannot happen within the validated capacities). */
int model_sync(struct model *m, const struct conf *c, const struct model_ops *ops);

struct model_vip *model_find_vip(const struct model *m, const struct sluice_vip_key *k);
struct model_backend *model_find_backend(const struct model_vip *v, const struct sluice_addr *a);

/* The backend state the data plane gets: DISABLED by the operator, DOWN
 * by health, otherwise ACTIVE or DRAINING as configured. */
__u8 model_backend_state(const struct model_backend *b);

#endif /* SLUICED_MODEL_H */
