/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket, mode 0600 (0660 with a
 * configured group). Per connection one request, one response, then the
 * connection closes. A request is one JSON object on one line, ended by a
 * newline or by the client closing its write side, at most
 * CONTROL_MAX_REQUEST bytes; a response is one JSON object and a newline:
 *
 *   {"cmd": "backend.drain", "vip": "10.0.0.10:80/tcp", "address": "10.0.1.1"}
 *   {"ok": true, "generation": 42}
 *   {"ok": false, "error": "no backend 10.0.1.9 in VIP 10.0.0.10:80/tcp"}
 *
 * Malformed, oversized, slow and unknown requests get an error response;
 * the daemon carries on. Commands that change the configuration answer
 * once the change is published and acknowledged by the data plane.
 */
#ifndef SLUICED_CONTROL_H
#define SLUICED_CONTROL_H

#include <jansson.h>
#include <stdbool.h>

#define CONTROL_MAX_REQUEST (64 * 1024)
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_TIMEOUT_S 5
#define CONTROL_DRAIN_MAX (1024 * 1024) /* input discarded after a reply */

struct sluiced;
struct control;

int control_start(struct sluiced *d, struct control **out);
/* Closes every connection and removes the socket file. Accepts NULL. */
void control_stop(struct control *c);

/* Parse and run one request (commands.c): returns the response object;
 * *wait is set when the response must wait until the change is
 * published. Never NULL. */
json_t *control_dispatch(struct sluiced *d, const char *buf, size_t len, bool *wait);

/* {"ok": false, "error": msg}. */
json_t *control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SLUICED_CONTROL_H */
