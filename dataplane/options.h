/* SPDX-License-Identifier: BSD-3-Clause */
/* sluice-dp's own options (after EAL's and "--"). */
#ifndef SLUICE_DP_OPTIONS_H
#define SLUICE_DP_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "process.h"

#define DP_DEFAULT_INSTANCE "sluice" /* sluiced's default */
#define DP_DEFAULT_EXCEPTION_PREFIX "sl-" /* the TAP of port N is sl-N */
#define DP_EXCEPTION_PREFIX_MAX 12	  /* + up to 3 digits: IFNAMSIZ - 1 */

/* Which ports get a TAP to the kernel (docs/dataplane.md). */
enum dp_exception_mode {
	DP_EXCEPTION_AUTO = 0, /* devices the kernel cannot see: not on the vdev bus */
	DP_EXCEPTION_ON,       /* every port */
	DP_EXCEPTION_OFF,      /* none */
};

struct dp_options {
	char instance[33];		/* names the shared-memory regions */
	bool no_shm;			/* run without sluiced: own addresses only */
	unsigned int burst;		/* RX burst size, 1..SLUICE_DP_BURST_MAX */
	unsigned int tx_drain_us;	/* flush partial TX bursts after this long */
	unsigned int rx_desc;		/* RX descriptors per queue */
	unsigned int tx_desc;		/* TX descriptors per queue */
	unsigned int stats_interval_s;	/* log a counters line this often; 0: never */
	unsigned int assume_reta;	/* a port without RSS: its peer spreads by sluice's
					 * key and a round-robin RETA of this size; 0: not */
	unsigned int idle_sleep_us;	/* a worker idle this long sleeps as long; 0: never */
	enum dp_exception_mode exception;
	char exception_prefix[DP_EXCEPTION_PREFIX_MAX + 1];
	struct sluice_dp_config dp;	/* processing settings (port MACs filled later) */
};

/* Parse argv (the application part: argv[0] is the program). Returns 0;
 * 1 when --help was printed (exit 0); -1 after printing what is wrong to
 * stderr (exit 2). */
int dp_options_parse(int argc, char **argv, struct dp_options *o);
void dp_options_usage(FILE *f, const char *prog);

#endif /* SLUICE_DP_OPTIONS_H */
