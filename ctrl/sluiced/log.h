/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's log: one line per event on stderr, with a level. Under systemd
 * (JOURNAL_STREAM set) each line starts with the "<N>" priority prefix the
 * journal understands; on a terminal with a timestamp. Messages that can
 * repeat go through a rate limit that says how many it held back.
 */
#ifndef SLUICED_LOG_H
#define SLUICED_LOG_H

#include <linux/types.h>

enum slog_level {
	SLOG_ERR = 3,
	SLOG_WARN = 4,
	SLOG_INFO = 6,
	SLOG_DEBUG = 7,
};

/* A fixed window: at most `burst` messages per `interval_ns`, then one line
 * saying how many were held back when the next window opens. */
struct slog_ratelimit {
	__u64 interval_ns;
	unsigned int burst;
	__u64 window_start_ns;	/* start of the current window */
	unsigned int printed;	/* messages printed in it */
	unsigned int suppressed; /* messages held back in it */
};

#define SLOG_RATELIMIT_INIT(seconds, burst_)                                      \
	{ .interval_ns = (seconds) * 1000000000ull, .burst = (burst_) }

/* Messages below min (a higher number) are dropped. */
void slog_set_level(enum slog_level min);

void slog(enum slog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void slog_rl(struct slog_ratelimit *rl, enum slog_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* SLUICED_LOG_H */
