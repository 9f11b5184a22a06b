/* SPDX-License-Identifier: BSD-3-Clause */
/* Non-blocking TCP and HTTP probes on libevent. See probe.h. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"
#include "sluice/shm.h"

#define PROBE_REQ_MAX 640
#define PROBE_RESP_MAX 256 /* a status line is far shorter */

enum probe_phase {
	PROBE_CONNECTING,
	PROBE_SENDING,
	PROBE_READING,
};

struct probe {
	struct event_base *base;
	struct event *ev;	  /* the one event of the current phase */
	int fd;
	enum probe_phase phase;
	enum conf_health_type type;
	__u16 expect_status;
	__u32 timeout_ms;
	__u64 start_ns;		  /* for the latency */
	__u64 deadline_ns;	  /* start + timeout */
	int early_errno;	  /* connect() failed at once: report it */
	bool stall_granted;	  /* the deadline was moved once for a stall */
	probe_done_fn *done;
	void *arg;
	size_t req_len, req_off;
	size_t resp_len;
	char req[PROBE_REQ_MAX];
	char resp[PROBE_RESP_MAX];
};

static void probe_event(evutil_socket_t fd, short what, void *arg);

int probe_parse_status_line(const char *buf, size_t len)
{
	int code = 0;

	/* "HTTP/1.x SSS" at least: 12 bytes. */
	if (len < 12 || memcmp(buf, "HTTP/", 5) != 0)
		return -1;
	for (size_t i = 5; i < 8; i++)
		if (!(buf[i] == '.' || (buf[i] >= '0' && buf[i] <= '9')))
			return -1;
	if (buf[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		code = code * 10 + (buf[i] - '0');
	}
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -1;
	return code;
}

static void probe_free(struct probe *p)
{
	if (p->ev)
		event_free(p->ev);
	if (p->fd >= 0) {
		/* Reset rather than FIN: no TIME_WAIT piles up on this host for
		 * a thousand backends checked every second. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(p->fd);
	}
	free(p);
}

static void finish(struct probe *p, enum health_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish(struct probe *p, enum health_result r, const char *fmt, ...)
{
	__u64 now = sluice_now_ns();
	__u64 us = (now - p->start_ns) / 1000;
	probe_done_fn *done = p->done;
	void *arg = p->arg;
	char detail[HEALTH_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	probe_free(p);
	done(arg, r, us > 0xffffffffu ? 0xffffffffu : (__u32)us, detail);
}

static void fail_errno(struct probe *p, int err)
{
	if (err == ECONNREFUSED)
		finish(p, HEALTH_REFUSED, "connection refused");
	else if (err == ETIMEDOUT)
		finish(p, HEALTH_TIMEOUT, "timeout: %s", strerror(err));
	else
		finish(p, HEALTH_ERROR, "%s", strerror(err));
}

/* (Re)arm the event for the current phase with what is left of the
 * deadline; a deadline already past fires as a timeout at once. */
static int arm(struct probe *p, short what)
{
	__u64 now = sluice_now_ns();
	__u64 left = p->deadline_ns > now ? p->deadline_ns - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(left / 1000000000u),
			     .tv_usec = (suseconds_t)(left % 1000000000u / 1000)};

	if (p->ev)
		event_free(p->ev);
	p->ev = event_new(p->base, p->fd, what, probe_event, p);
	if (!p->ev)
		return -ENOMEM;
	return event_add(p->ev, &tv);
}

static void on_timeout(struct probe *p)
{
	switch (p->phase) {
	case PROBE_CONNECTING:
		finish(p, HEALTH_TIMEOUT, "timeout: no connection within %u ms", p->timeout_ms);
		break;
	case PROBE_SENDING:
		finish(p, HEALTH_TIMEOUT, "timeout: request not sent within %u ms",
		       p->timeout_ms);
		break;
	case PROBE_READING:
		finish(p, HEALTH_TIMEOUT, "timeout: no HTTP status within %u ms", p->timeout_ms);
		break;
	}
}

static void on_connected(struct probe *p)
{
	int err = p->early_errno;
	socklen_t len = sizeof(err);

	if (!err && getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		fail_errno(p, err);
		return;
	}
	if (p->type == CONF_HEALTH_TCP) {
		finish(p, HEALTH_OK, "connected");
		return;
	}
	p->phase = PROBE_SENDING;
	if (arm(p, EV_WRITE) < 0)
		finish(p, HEALTH_ERROR, "out of memory");
}

static void on_writable(struct probe *p)
{
	ssize_t n = send(p->fd, p->req + p->req_off, p->req_len - p->req_off, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail_errno(p, errno);
		else if (arm(p, EV_WRITE) < 0)
			finish(p, HEALTH_ERROR, "out of memory");
		return;
	}
	p->req_off += (size_t)n;
	if (p->req_off < p->req_len) {
		if (arm(p, EV_WRITE) < 0)
			finish(p, HEALTH_ERROR, "out of memory");
		return;
	}
	p->phase = PROBE_READING;
	if (arm(p, EV_READ) < 0)
		finish(p, HEALTH_ERROR, "out of memory");
}

static void judge_status(struct probe *p)
{
	int code = probe_parse_status_line(p->resp, p->resp_len);

	if (code < 0)
		finish(p, HEALTH_ERROR, "not an HTTP response");
	else if (code != p->expect_status)
		finish(p, HEALTH_BAD_STATUS, "status %d, expected %u", code, p->expect_status);
	else
		finish(p, HEALTH_OK, "status %d", code);
}

static void on_readable(struct probe *p)
{
	ssize_t n = recv(p->fd, p->resp + p->resp_len, sizeof(p->resp) - 1 - p->resp_len, 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail_errno(p, errno);
		else if (arm(p, EV_READ) < 0)
			finish(p, HEALTH_ERROR, "out of memory");
		return;
	}
	p->resp_len += (size_t)n;
	p->resp[p->resp_len] = '\0';
	if (memchr(p->resp, '\n', p->resp_len) || p->resp_len == sizeof(p->resp) - 1) {
		judge_status(p);
		return;
	}
	if (n == 0) {
		if (p->resp_len >= 12)
			judge_status(p);
		else
			finish(p, HEALTH_ERROR, "connection closed before the status line");
		return;
	}
	if (arm(p, EV_READ) < 0)
		finish(p, HEALTH_ERROR, "out of memory");
}

/* At a timeout: has what the probe waits for arrived all the same? When
 * the loop itself was late (a stall such as loading the XDP program takes
 * ~0.1 s), the deadline passes with the answer already there, and
 * libevent reports the timeout alone: the backend was not late, so the
 * answer is judged. Only what has arrived by now counts. */
static bool ready_now(const struct probe *p)
{
	struct pollfd pfd = {.fd = p->fd, .events = p->phase == PROBE_READING ? POLLIN : POLLOUT};

	return p->fd >= 0 && poll(&pfd, 1, 0) == 1 && pfd.revents;
}

/* A deadline found long past means the loop could not run then (sluiced
 * stalled, or not scheduled on a loaded machine): the backend lost that
 * time through no fault of its own. Once per probe, it gets it back, up to
 * one timeout more. A timer on time (late by less than PROBE_STALL_NS)
 * is a real timeout. */
#define PROBE_STALL_NS 20000000ull
static bool grant_stall(struct probe *p)
{
	__u64 now = sluice_now_ns(), late = now > p->deadline_ns ? now - p->deadline_ns : 0;
	__u64 max = (__u64)p->timeout_ms * 1000000u;

	if (p->stall_granted || late < PROBE_STALL_NS)
		return false;
	p->stall_granted = true;
	p->deadline_ns = now + (late < max ? late : max);
	if (arm(p, p->phase == PROBE_READING ? EV_READ : EV_WRITE) < 0)
		finish(p, HEALTH_ERROR, "out of memory");
	return true;
}

static void probe_event(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	if ((what & EV_TIMEOUT) && !ready_now(p)) {
		if (!grant_stall(p))
			on_timeout(p);
		return;
	}
	switch (p->phase) {
	case PROBE_CONNECTING: on_connected(p); break;
	case PROBE_SENDING: on_writable(p); break;
	case PROBE_READING: on_readable(p); break;
	}
}

static void build_request(struct probe *p, const struct probe_target *t)
{
	char host[SLUICE_ENDPOINT_STRLEN + CONF_HEALTH_PATH_MAX];
	int n;

	if (t->host && t->host[0]) {
		snprintf(host, sizeof(host), "%s", t->host);
	} else if (t->port != 80) {
		sluice_endpoint_format(&t->addr, t->port, host, sizeof(host));
	} else {
		char a[SLUICE_ADDR_STRLEN];

		sluice_addr_format(&t->addr, a, sizeof(a));
		snprintf(host, sizeof(host), t->addr.family == SLUICE_FAMILY_V6 ? "[%s]" : "%s", a);
	}
	n = snprintf(p->req, sizeof(p->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluiced-health-check\r\n"
		     "Accept: */*\r\nConnection: close\r\n\r\n",
		     t->path && t->path[0] ? t->path : "/", host);
	p->req_len = n < 0 ? 0 : (size_t)n >= sizeof(p->req) ? sizeof(p->req) - 1 : (size_t)n;
}

struct probe *probe_start(struct event_base *base, const struct probe_target *t,
			  probe_done_fn *done, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl = sluice_addr_to_sockaddr(&t->addr, t->port, &ss);
	struct probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base = base;
	p->fd = -1;
	p->type = t->type;
	p->expect_status = t->expect_status;
	p->timeout_ms = t->timeout_ms;
	p->done = done;
	p->arg = arg;
	p->start_ns = sluice_now_ns();
	p->deadline_ns = p->start_ns + (__u64)t->timeout_ms * 1000000u;
	p->phase = PROBE_CONNECTING;
	if (t->type == CONF_HEALTH_HTTP)
		build_request(p, t);
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		p->early_errno = errno;
	else if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		p->early_errno = errno;
	/* Results, early ones included, reach the caller from the loop. */
	if (p->fd < 0) {
		p->ev = event_new(base, -1, 0, probe_event, p);
		if (!p->ev) {
			free(p);
			return NULL;
		}
		event_active(p->ev, EV_WRITE, 0);
		return p;
	}
	if (p->early_errno) {
		p->ev = event_new(base, p->fd, EV_WRITE, probe_event, p);
		if (!p->ev) {
			probe_free(p);
			return NULL;
		}
		event_active(p->ev, EV_WRITE, 0);
		return p;
	}
	if (arm(p, EV_WRITE) < 0) {
		probe_free(p);
		return NULL;
	}
	return p;
}

void probe_cancel(struct probe *p)
{
	if (p)
		probe_free(p);
}
