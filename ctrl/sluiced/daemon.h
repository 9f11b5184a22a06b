/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's parts and the one path by which configuration changes
 * (start, SIGHUP, the CLI) take effect: daemon_commit(). main.c calls the
 * init steps in order; the control commands, the metrics page and the
 * signal handlers work on struct sluiced.
 */
#ifndef SLUICED_DAEMON_H
#define SLUICED_DAEMON_H

#include <event2/event.h>
#include <limits.h>
#include <stdbool.h>

#include "checker.h"
#include "config.h"
#include "control.h"
#include "counters.h"
#include "dpwatch.h"
#include "model.h"
#include "overlay.h"
#include "publisher.h"
#include "sluice/shm.h"
#include "xdp.h"

struct metrics;
struct routing;

struct sluiced {
	char config_path[PATH_MAX];
	char state_path[PATH_MAX];
	struct event_base *base;
	struct conf base_conf;		/* the configuration file as loaded */
	struct overlay overlay;		/* the CLI's changes over it */
	struct conf eff;		/* base_conf + overlay: what runs */
	struct model model;
	struct model_ops model_ops;	/* what the model's changes start */
	struct sluice_config_region cfg; /* shared memory we write */
	int lock_fd;			/* flock(2) on it: one sluiced per instance */
	__u64 distrusted_gen;		/* a generation found corrupt at attach; 0: none */
	struct publisher *pub;
	struct dpwatch *dw;
	struct xdpctl *xdp;		/* NULL in mode dpdk */
	struct event *xdp_timer;	/* hand-back after recovery; retries */
	bool dp_down;			/* dpwatch said stale, not fresh since */
	struct counters *counters;
	struct checker_env checkers;
	struct control *ctl;
	struct metrics *metrics;
	struct routing *routing;	/* NULL without routing.table */
	json_t *host_state;		/* the state file's "host", until routing takes it */
	struct settle_waiter *waiters;
	char *state_text;		/* what the state file holds now */
	bool starting;			/* first sync: adopt health from shm */
	bool ready;			/* READY=1 sent */
	__u64 ready_seq;		/* READY=1 once this change is in force */
	__u64 start_ns;
	__u64 health_changes;		/* state changes since start */
};

/* Init steps, in the order main() calls them. Each returns 0 or -errno
 * and logs why it failed. */
int daemon_load(struct sluiced *d, const char *config_path, const char *state_path);
int daemon_attach_shm(struct sluiced *d);
int daemon_start(struct sluiced *d);
void daemon_stop(struct sluiced *d);

/* Make base + ov the running configuration: validate, bring the model in
 * line (ids, health checks), save the state file, schedule the publish.
 * On success takes ownership of *base and *ov (when they are not d's own);
 * on failure nothing changes and e says why. */
int daemon_commit(struct sluiced *d, struct conf *base, struct overlay *ov, struct ju_err *e);

/* Write the state file anew (after a change of the host's state). 0 or
 * -errno with e saying why. */
int daemon_save_state(struct sluiced *d, struct ju_err *e);

/* SIGHUP: reload the configuration file; a bad file changes nothing. */
void daemon_reload(struct sluiced *d);

/* Call fn(arg) once every change made so far is in force: published and
 * acknowledged, or found to change nothing (at once when nothing is
 * pending). Later changes do not delay it. The waiter is owned by the
 * caller and must stay valid until called or cancelled; w->seq is the
 * publisher's change number it waits for. */
void daemon_when_settled(struct sluiced *d, struct settle_waiter *w);
void daemon_cancel_settled(struct sluiced *d, struct settle_waiter *w);

/* The snapshot in force in shared memory (NULL before the first). */
const struct sluice_snapshot *daemon_current_snapshot(const struct sluiced *d, __u64 *gen);

#endif /* SLUICED_DAEMON_H */
