/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control commands, one handler each: commands.c parses a request and
 * finds its handler; cmd_edit.c changes the configuration, cmd_view.c and
 * cmd_stats.c report. Every handler returns a response object, never NULL:
 * {"ok": true, ...} or control_error(...).
 */
#ifndef SLUICED_COMMANDS_H
#define SLUICED_COMMANDS_H

#include <jansson.h>

#include "daemon.h"

/* Parse and run one request: the response object, never NULL. *wait is
 * set when the response must wait until the change is published. With
 * read_only a command that changes the configuration is refused, not run
 * (see struct control_hooks). */
json_t *control_dispatch(struct sluiced *d, const char *buf, size_t len, bool read_only,
			 bool *wait);

typedef json_t *cmd_fn(struct sluiced *d, const json_t *req);

/* Editing (answers after the publish). */
cmd_fn cmd_vip_add, cmd_vip_del, cmd_backend_add, cmd_backend_del, cmd_backend_drain,
	cmd_backend_enable, cmd_backend_disable, cmd_backend_weight;
/* Reporting. */
cmd_fn cmd_vip_list, cmd_vip_show, cmd_backend_list, cmd_health, cmd_table, cmd_explain,
	cmd_status, cmd_stats;
/* The host's announcements (cmd_host.c). */
cmd_fn cmd_host_drain, cmd_host_undrain;

/* The reply to an editing command with "dry_run": true: ov (the overlay
 * as the change would leave it; freed here) validated as a commit would,
 * VIP k's table compiled and compared with the one in force. Changes
 * nothing. See cmd_dryrun.c. */
json_t *cmd_dry_run(struct sluiced *d, struct overlay *ov, const struct sluice_vip_key *k,
		    const char *what);

/* Request fields, with errors in words: 0 or -EINVAL with *resp set. */
int cmd_vip_key(const json_t *req, struct sluice_vip_key *k, json_t **resp);
int cmd_addr(const json_t *req, const char *key, struct sluice_addr *a, json_t **resp);
/* The running model's VIP for the request's "vip", or NULL with *resp. */
struct model_vip *cmd_model_vip(struct sluiced *d, const json_t *req, json_t **resp);

/* {"ok": true} plus what the caller adds. */
json_t *cmd_ok(void);

/* Seconds since a CLOCK_MONOTONIC instant, and that instant in Unix time. */
double cmd_age_s(__u64 mono_ns);
double cmd_unix_time(__u64 mono_ns);

#endif /* SLUICED_COMMANDS_H */
