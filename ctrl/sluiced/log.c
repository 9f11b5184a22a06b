/* SPDX-License-Identifier: BSD-3-Clause */
/* One line per event on stderr, rate-limited where it may repeat. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "sluice/shm.h"

static enum slog_level min_level = SLOG_INFO;

void slog_set_level(enum slog_level min)
{
	min_level = min;
}

static const char *level_name(enum slog_level level)
{
	switch (level) {
	case SLOG_ERR: return "error";
	case SLOG_WARN: return "warning";
	case SLOG_INFO: return "info";
	case SLOG_DEBUG: return "debug";
	}
	return "?";
}

static void vlog(enum slog_level level, const char *fmt, va_list ap)
{
	static int journal = -1;
	char line[1024];
	int n;

	if (level > min_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal) {
		n = snprintf(line, sizeof(line), "<%d>", (int)level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld sluiced: %s: ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, ts.tv_nsec / 1000000, level_name(level));
	}
	if (n < 0)
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One write per line: lines from one process never interleave. */
	fprintf(stderr, "%s\n", line);
}

void slog(enum slog_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void slog_rl(struct slog_ratelimit *rl, enum slog_level level, const char *fmt, ...)
{
	__u64 now = sluice_now_ns();
	va_list ap;

	if (now - rl->window_start_ns >= rl->interval_ns) {
		if (rl->suppressed)
			slog(SLOG_WARN, "%u similar messages suppressed", rl->suppressed);
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
