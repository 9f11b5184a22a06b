/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP data path as sluiced drives it: load the XDP program, pin its
 * maps under /sys/fs/bpf/sluice/<instance>/, attach it to an interface
 * (native mode, generic where native is refused), publish snapshots into
 * its maps (each VIP's table swapped whole), read its counters, detach.
 *
 * The XDP path consumes the same struct sluice_snapshot that sluiced
 * publishes to shared memory, so both data paths always get the same
 * configuration from one build step.
 */
#ifndef SLUICE_XDP_PATH_H
#define SLUICE_XDP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/shm.h"
#include "xdp_abi.h" /* bpf/: struct sluice_xdp_counters */

struct sluice_xdp_path;

enum sluice_xdp_mode {
	SLUICE_XDP_DETACHED = 0,
	SLUICE_XDP_NATIVE = 1,	/* driver mode */
	SLUICE_XDP_GENERIC = 2, /* skb mode: slower, works on every device */
};

/* Load the program and create (or reuse pinned) maps for instance; does
 * not attach. Returns 0 or -errno with err (the kernel refused the program
 * or a map, or a pinned map does not match this build). */
int sluice_xdp_path_open(const char *instance, struct sluice_xdp_path **out, char *err,
			 size_t errlen);

/* Attach to ifname: native mode first, generic when native is refused. */
int sluice_xdp_path_attach(struct sluice_xdp_path *xp, const char *ifname, char *err,
			   size_t errlen);
enum sluice_xdp_mode sluice_xdp_path_mode(const struct sluice_xdp_path *xp);
const char *sluice_xdp_mode_name(enum sluice_xdp_mode mode);

/* Make snap the XDP path's configuration. Each VIP's table is written into
 * a fresh inner map and swapped in whole; a packet sees the old table or the
 * new one, never a mix. */
/* New flows the program records per second per CPU (its flood guard,
 * bpf/xdp_abi.h; 0: every one). In force from the next publish. */
void sluice_xdp_path_set_syn_rate(struct sluice_xdp_path *xp, __u32 rate);

int sluice_xdp_path_publish(struct sluice_xdp_path *xp, const struct sluice_snapshot *snap,
			    char *err, size_t errlen);

/* Sum the program's per-CPU counters into out (same layout as one lcore of
 * the shared-memory status region). */
int sluice_xdp_path_read_counters(struct sluice_xdp_path *xp, struct sluice_lcore_status *out,
				  char *err, size_t errlen);

/* Detach (unless keep_attached) and free. Accepts NULL. The maps stay
 * pinned either way (see sluice_xdp_path_unpin). */
void sluice_xdp_path_close(struct sluice_xdp_path *xp, bool keep_attached);

/* ---- additions for logs, tools and tests ---- */

/* Why the program runs in its mode, for logs: "native mode (driver)",
 * "generic mode: the driver refused native mode (Operation not
 * supported)", or "not attached". */
const char *sluice_xdp_path_mode_reason(const struct sluice_xdp_path *xp);

/* Counters only the XDP path has (flow-table hits and misses, passes by reason,
 * ...; bpf/xdp_abi.h), summed over CPUs. */
int sluice_xdp_path_read_xdp_counters(struct sluice_xdp_path *xp, struct sluice_xdp_counters *out,
				      char *err, size_t errlen);

/* The loaded program (for BPF_PROG_TEST_RUN) and where its maps are
 * pinned (/sys/fs/bpf/sluice/<instance>). */
int sluice_xdp_path_prog_fd(const struct sluice_xdp_path *xp);
const char *sluice_xdp_path_pin_dir(const struct sluice_xdp_path *xp);

/* The flow table's entry for key under a VIP's seed: 1 and its backend id,
 * VIP id and class (xdp_abi.h) when there is one, 0 when not, -errno. Its
 * age is not known here (the program's clock is the kernel's jiffies): an
 * entry idle past its timeout is found too, and is a new flow to the
 * program. */
int sluice_xdp_path_find_flow(struct sluice_xdp_path *xp, const struct sluice_flow_key *key,
			      __u64 seed, __u16 *backend_id, __u16 *vip_id, __u32 *cls);

/* Is this instance's program attached to ifname (left there by an earlier
 * process, e.g. a sluiced that was killed or told to keep it)? */
bool sluice_xdp_path_left_attached(struct sluice_xdp_path *xp, const char *ifname);

/* Remove an instance's pinned maps (forgets its flows and counters; a
 * program still attached keeps working with the maps it holds). */
int sluice_xdp_path_unpin(const char *instance, char *err, size_t errlen);

#endif /* SLUICE_XDP_PATH_H */
