/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rise/fall state machine of one backend's health, and nothing else:
 * no sockets, no clock of its own (every call passes "now"), so tests drive
 * it with an injected clock. probe.c produces the results, checker.c feeds
 * them in.
 *
 * An up backend goes down after `fall` failed checks in a row; a down one
 * comes up after `rise` successful checks in a row. A result of the other
 * kind resets the run. Each transition is reported once, with the result
 * that caused it.
 */
#ifndef SLUICED_HEALTH_H
#define SLUICED_HEALTH_H

#include <linux/types.h>
#include <stdbool.h>

enum health_result {
	HEALTH_OK = 0,
	HEALTH_TIMEOUT,	   /* no answer within the timeout */
	HEALTH_REFUSED,	   /* connection refused (RST) */
	HEALTH_BAD_STATUS, /* HTTP answered with another status */
	HEALTH_ERROR,	   /* any other failure: unreachable, reset, garbage */
	HEALTH_NONE,	   /* no check has finished yet */
};

#define HEALTH_DETAIL_MAX 96

struct health_sm {
	bool up;			/* the state */
	__u8 rise;			/* successes in a row that bring it up */
	__u8 fall;			/* failures in a row that take it down */
	__u8 ok_run;			/* current run of successes */
	__u8 fail_run;			/* current run of failures */
	enum health_result last;	/* result of the last check */
	__u32 last_latency_us;		/* how long the last check took */
	__u64 last_ns;			/* when the last check finished */
	__u64 since_ns;			/* when the state last changed (or began) */
	__u64 checks;			/* checks fed in */
	__u64 failures;			/* of which failed */
	char detail[HEALTH_DETAIL_MAX];	/* last result in words ("status 503") */
};

/* Start in state up (or down) at now, with no history. */
void health_sm_init(struct health_sm *sm, __u8 rise, __u8 fall, bool up, __u64 now_ns);

/* Change rise/fall (a reload) without touching state or runs. */
void health_sm_set_limits(struct health_sm *sm, __u8 rise, __u8 fall);

/* Feed one result. Returns true when the state changed (then sm->up is the
 * new state and sm->detail says why). detail may be NULL. */
bool health_sm_feed(struct health_sm *sm, enum health_result r, __u32 latency_us,
		    const char *detail, __u64 now_ns);

/* "ok", "timeout", "refused", "bad_status", "error", "none". */
const char *health_result_name(enum health_result r);

#endif /* SLUICED_HEALTH_H */
