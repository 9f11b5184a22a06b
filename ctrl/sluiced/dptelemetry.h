/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asking the running sluice-dp through DPDK's telemetry socket (its
 * /sluice/... commands, dataplane/telemetry.c): for what only the data
 * plane knows, such as a flow's entry in a worker's flow table (explain).
 * The socket is found by the process id sluice-dp wrote into its status
 * region: every /var/run/dpdk/<prefix>/dpdk_telemetry.v2 greets with its
 * process's pid.
 *
 * Blocking, with a short timeout (a local socket answered by a thread of
 * its own): for commands an operator asks for, never on a timer.
 */
#ifndef SLUICED_DPTELEMETRY_H
#define SLUICED_DPTELEMETRY_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* The answer of process pid to cmd ("/sluice/flow,tcp,..."): the JSON value
 * under the command's name, or NULL with the reason in err. */
json_t *dptelemetry_query(pid_t pid, const char *cmd, char *err, size_t errlen);

#endif /* SLUICED_DPTELEMETRY_H */
