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
 * the owner carries on. A change not in force within CONTROL_WAIT_S is
 * answered anyway, with "acknowledged": false. The server knows framing, limits and replies, not
 * the commands: its owner hands it a dispatch function and a way to wait
 * until a change is in force (struct control_hooks), so commands that
 * change the configuration answer once the change is published and
 * acknowledged by the data plane.
 */
#ifndef SLUICED_CONTROL_H
#define SLUICED_CONTROL_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The limits, explained in docs/control.md ("Control socket limits"). */
#define CONTROL_MAX_REQUEST (64 * 1024)
#define CONTROL_MAX_CLIENTS 64		/* connections read or answered at once */
#define CONTROL_MAX_WAITING 64		/* replies waiting for their change, besides */
#define CONTROL_TIMEOUT_S 5		/* accept -> complete request; reply -> closed */
#define CONTROL_WAIT_S 10		/* request -> change in force; under sluicectl's 30 s */
#define CONTROL_DRAIN_MAX (1024 * 1024) /* input discarded after a reply */

struct control;

/* Someone waiting until the changes so far are in force (a reply). fn and
 * arg are the waiter's; seq and next belong to whoever keeps the list. */
struct settle_waiter {
	void (*fn)(void *arg);
	void *arg;
	uint64_t seq;
	struct settle_waiter *next;
};

struct control_hooks {
	void *ctx;
	/* Parse and run one request: the response, never NULL. *wait is set
	 * when the response must wait until the change is in force. With
	 * read_only, a request that would wait (a change) is refused with an
	 * error response, not run: no room is left to wait in. */
	json_t *(*dispatch)(void *ctx, const char *buf, size_t len, bool read_only, bool *wait);
	/* Call w->fn(w->arg) once every change made so far is in force (at
	 * once, from within, when nothing is pending). */
	void (*when_settled)(void *ctx, struct settle_waiter *w);
	/* w will not be called: forget it. */
	void (*cancel_settled)(void *ctx, struct settle_waiter *w);
	/* Fill in a waiting response: in_force once w was called, or not
	 * when the wait took too long (w is cancelled by then; say what is
	 * still missing). */
	void (*complete)(void *ctx, const struct settle_waiter *w, json_t *resp, bool in_force);
};

/* Zero fields take the defaults above. Tests shorten them. */
struct control_limits {
	unsigned int request_ms;	/* from accept to a complete request */
	unsigned int wait_ms;		/* a reply waiting for its change */
	unsigned int max_clients;	/* connections read or answered at once */
	unsigned int max_waiting;	/* replies waiting for their change */
};

struct control_params {
	struct event_base *base;
	const char *path;
	const char *group;		/* NULL or "": owner only */
	struct control_hooks hooks;
	struct control_limits limits;
};

int control_start(const struct control_params *p, struct control **out);
/* Closes every connection and removes the socket file. Accepts NULL. */
void control_stop(struct control *c);

/* {"ok": false, "error": msg}, never NULL. The message is cut to 511
 * bytes between characters, and bytes that are not UTF-8 (jansson would
 * refuse the string) become '?'. Out of memory, a shared {"ok": false,
 * "error": "out of memory"}: do not change what it returns. */
json_t *control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The length of the longest prefix of the UTF-8 string s that is at most
 * max bytes and does not split a character: for "%.*s". */
int control_utf8_prefix(const char *s, size_t max);

#endif /* SLUICED_CONTROL_H */
