/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl host drain|undrain`: the host leaves (or rejoins) the fleet
 * by its routes. Drained, every VIP route is withdrawn at once and stays
 * withdrawn across restarts (the state file keeps the drain); the data
 * path keeps forwarding, so that the flows the routers still send here
 * while they move away are served. routing.drain_grace_s is how long that
 * takes: `sluicectl status` says when it is safe to stop the data path.
 */
#include "commands.h"
#include "control.h"
#include "log.h"
#include "routing.h"

static json_t *set_drain(struct sluiced *d, bool drained)
{
	char msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	size_t failed = 0, n;
	json_t *resp, *changes, *c;
	double was_at;

	if (!d->routing)
		return control_error("routing is not configured (no routing.table): sluiced "
				     "announces nothing, so there is nothing to %s",
				     drained ? "withdraw" : "announce");
	if (routing_drained(d->routing) == drained) {
		resp = cmd_ok();
		json_object_set_new(resp, "changed", json_false());
		json_object_set_new(resp, "routing", routing_status_json(d->routing));
		return resp;
	}
	was_at = routing_drained_at(d->routing);
	routing_set_drained(d->routing, drained);
	/* Saved before any route moves: a restart must find the drain. */
	if (daemon_save_state(d, &e) < 0) {
		/* An undrain undone keeps the drain's start: the grace
		 * already served is not served again. */
		routing_restore_drained(d->routing, !drained, was_at);
		return control_error("%s", msg);
	}
	changes = routing_apply_now(d->routing);
	json_array_foreach(changes, n, c)
		failed += json_object_get(c, "error") != NULL;
	if (drained)
		slog(failed ? SLOG_ERR : SLOG_WARN,
		     "host drained: %zu VIP routes withdrawn%s; the data path keeps forwarding, "
		     "safe to stop once the grace of %u s is over and no route is left",
		     json_array_size(changes) - failed,
		     failed ? " (some failed or the table could not be read: retrying)" : "",
		     d->eff.routing.drain_grace_s);
	else
		slog(SLOG_INFO, "host undrained: %zu VIP routes announced%s",
		     json_array_size(changes) - failed,
		     failed ? " (some failed or the table could not be read: retrying)" : "");
	resp = cmd_ok();
	json_object_set_new(resp, "changed", json_true());
	/* The drain is in force (saved); the routes are not all where they
	 * should be yet: the reply says so, and safe_to_stop waits for them. */
	json_object_set_new(resp, "complete", json_boolean(failed == 0));
	json_object_set_new(resp, "changes", changes);
	json_object_set_new(resp, "routing", routing_status_json(d->routing));
	return resp;
}

json_t *cmd_host_drain(struct sluiced *d, const json_t *req)
{
	(void)req;
	return set_drain(d, true);
}

json_t *cmd_host_undrain(struct sluiced *d, const json_t *req)
{
	(void)req;
	return set_drain(d, false);
}
