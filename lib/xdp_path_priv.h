/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the XDP loader: the handle both halves use (xdp_path.c: load,
 * attach, counters; xdp_path_publish.c: snapshots into maps). Not for
 * other users: xdp_path.h is the interface.
 */
#ifndef SLUICE_XDP_PATH_PRIV_H
#define SLUICE_XDP_PATH_PRIV_H

#include <stdbool.h>

#include "sluice/shm.h"
#include "sluice_xdp.skel.h"
#include "xdp_abi.h"
#include "xdp_layout.h"
#include "xdp_path.h"

#define SLUICE_XDP_PIN_ROOT "/sys/fs/bpf/sluice"

/* The version of the index and settings in force, as this process last
 * wrote or read it. */
struct version_state {
	bool configured;		/* cfg_sel.configured */
	__u32 version;			/* cfg_sel.slot */
	bool other_in_use;		/* the other version may still be read: no
					 * grace period since the last switch */
	struct sluice_xdp_cfg cfg;	/* cfg[version] */
	struct sluice_xdp_vip_entry index[SLUICE_XDP_VIP_INDEX_SIZE]; /* its half */
};

/* One VIP id's table, as this process last wrote it. */
struct table_state {
	bool present;			/* tables[id] holds a map */
	bool known;			/* digest describes it */
	__u64 digest;			/* of its entries */
};

struct sluice_xdp_path {
	char instance[33];
	char pin_dir[sizeof(SLUICE_XDP_PIN_ROOT) + 40];
	struct sluice_xdp *skel;
	int ifindex;			/* where this handle attached; 0: nowhere */
	enum sluice_xdp_mode mode;
	char mode_reason[200];
	__u32 stats_map_id;		/* identifies this instance's programs */
	__u32 syn_rate;			/* the flood guard's, for the next version */
	int ncpus;

	/* The maps' contents (read back at open, kept up to date by publish). */
	struct version_state cur;
	struct table_state table[SLUICE_MAX_VIPS];
	struct sluice_backend *be;	/* [SLUICE_MAX_BACKENDS] */

	/* Publish scratch and counter buffers, allocated once. */
	struct version_state next;
	struct sluice_backend *new_be;	/* [SLUICE_MAX_BACKENDS] */
	void *percpu_buf;		/* counters of one key, all CPUs */
	__u32 *batch_keys;		/* [SLUICE_MAX_BACKENDS] */
	struct sluice_counter_pair *batch_pairs; /* [SLUICE_MAX_BACKENDS * ncpus] */
};

/* Wait until no XDP program still runs with what it read before now. */
void sluice_xdp_grace_period(void);

#endif /* SLUICE_XDP_PATH_PRIV_H */
