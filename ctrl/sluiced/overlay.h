/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The changes made through the control socket, kept apart from the
 * configuration file: "the running configuration = the file + the
 * overlay". The overlay is what the state file persists, so a restart or a
 * SIGHUP re-applies the CLI's changes on top of whatever the file now says.
 *
 * Entries are keyed by identity (VIP key; VIP key + backend address) and
 * hold the final word for that identity, never a history:
 *  - a VIP entry either adds the VIP with its settings (and, over a VIP the
 *    file also has, replaces the file's settings) or deletes it;
 *  - a backend entry adds a backend, deletes one, or overrides its weight,
 *    state or MAC.
 * Entries whose target is gone from the file are kept and ignored, so that
 * a file edited back brings them into force again.
 */
#ifndef SLUICED_OVERLAY_H
#define SLUICED_OVERLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum ov_vip_op {
	OV_VIP_ADD = 1, /* present, with spec's settings */
	OV_VIP_DEL = 2, /* absent */
};

struct ov_vip {
	struct sluice_vip_key key;
	enum ov_vip_op op;
	struct conf_vip spec; /* OV_VIP_ADD: settings; backends unused */
};

struct ov_backend {
	struct sluice_vip_key vip;
	struct sluice_addr addr;
	bool added;		/* not in the file: the CLI added it */
	bool deleted;		/* the CLI deleted it */
	bool has_weight;	/* weight overrides the file's */
	bool has_state;		/* state overrides the file's */
	bool has_mac;		/* mac overrides the file's */
	__u32 weight;
	__u8 state;
	__u8 mac[6];
};

struct overlay {
	struct ov_vip *vips;
	size_t n_vips;
	struct ov_backend *backends;
	size_t n_backends;
};

void overlay_free(struct overlay *ov);
int overlay_copy(struct overlay *dst, const struct overlay *src);
bool overlay_is_empty(const struct overlay *ov);

/* out = base with ov applied (a new conf: free it with conf_free). Not
 * validated: run conf_validate() on the result. */
int overlay_apply(const struct overlay *ov, const struct conf *base, struct conf *out);

/* Edits. base is the configuration file, eff the running configuration
 * (base + ov); they check that the target exists (or not) in eff and
 * record the change in ov. On error ov is unchanged and e says why. */
int overlay_vip_add(struct overlay *ov, const struct conf *base, const struct conf *eff,
		    const struct conf_vip *spec, struct ju_err *e);
int overlay_vip_del(struct overlay *ov, const struct conf *base, const struct conf *eff,
		    const struct sluice_vip_key *key, struct ju_err *e);
int overlay_backend_add(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct conf_backend *b,
			struct ju_err *e);
int overlay_backend_del(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct sluice_addr *addr,
			struct ju_err *e);
/* Override weight (when has_weight) and/or state (when has_state);
 * an override equal to the file's value is dropped. */
int overlay_backend_set(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct sluice_addr *addr,
			bool has_weight, __u32 weight, bool has_state, __u8 state,
			struct ju_err *e);

/* The overlay as JSON (the state file's "overlay" member) and back. */
json_t *overlay_to_json(const struct overlay *ov);
int overlay_from_json(const json_t *obj, const char *path, struct overlay *ov, struct ju_err *e);

#endif /* SLUICED_OVERLAY_H */
