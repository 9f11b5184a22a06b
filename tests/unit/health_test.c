/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Health checks. The rise/fall state machine driven by an injected clock;
 * then the probes over real loopback sockets: TCP connect (up, refused,
 * timeout), HTTP (expected status, another status, garbage, closed, silent),
 * and a thousand probes in flight at once on one event loop, which keeps
 * serving its other timers meanwhile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "health.h"
#include "probe.h"
#include "sluice/shm.h"

#define MS 1000000ull

/* ---- the state machine, with a clock the test moves ---- */

static void test_rise_fall(void **state)
{
	struct health_sm sm;
	__u64 now = 1000 * MS;
	(void)state;

	health_sm_init(&sm, 2, 3, true, now);
	assert_true(sm.up);
	assert_int_equal(sm.since_ns, now);
	assert_int_equal(sm.last, HEALTH_NONE);
	/* Two failures are not three: still up. A success resets the run. */
	assert_false(health_sm_feed(&sm, HEALTH_TIMEOUT, 500000, NULL, now += 1000 * MS));
	assert_false(health_sm_feed(&sm, HEALTH_REFUSED, 80, NULL, now += 1000 * MS));
	assert_false(health_sm_feed(&sm, HEALTH_OK, 90, NULL, now += 1000 * MS));
	assert_int_equal(sm.fail_run, 0);
	assert_false(health_sm_feed(&sm, HEALTH_BAD_STATUS, 300, "status 503", now += 1000 * MS));
	assert_false(health_sm_feed(&sm, HEALTH_BAD_STATUS, 300, "status 503", now += 1000 * MS));
	assert_true(sm.up);
	/* The third failure in a row takes it down, once, with the reason. */
	assert_true(health_sm_feed(&sm, HEALTH_TIMEOUT, 500000, "timeout: no connection",
				   now += 1000 * MS));
	assert_false(sm.up);
	assert_int_equal(sm.since_ns, now);
	assert_string_equal(sm.detail, "timeout: no connection");
	assert_int_equal(sm.last, HEALTH_TIMEOUT);
	assert_int_equal(sm.last_latency_us, 500000);
	assert_false(health_sm_feed(&sm, HEALTH_TIMEOUT, 1, NULL, now += 1000 * MS));
	assert_int_equal(sm.since_ns, now - 1000 * MS); /* reported once, not again */
	/* Up again after `rise` successes in a row, not before. */
	assert_false(health_sm_feed(&sm, HEALTH_OK, 1, NULL, now += 1000 * MS));
	assert_false(health_sm_feed(&sm, HEALTH_ERROR, 1, NULL, now += 1000 * MS));
	assert_false(health_sm_feed(&sm, HEALTH_OK, 1, NULL, now += 1000 * MS));
	assert_false(sm.up);
	assert_true(health_sm_feed(&sm, HEALTH_OK, 1, "status 200", now += 1000 * MS));
	assert_true(sm.up);
	assert_int_equal(sm.since_ns, now);
	assert_int_equal(sm.checks, 11);
	assert_int_equal(sm.failures, 7);
	assert_string_equal(health_result_name(HEALTH_BAD_STATUS), "bad_status");
}

static void test_rise_fall_of_one(void **state)
{
	struct health_sm sm;
	(void)state;

	health_sm_init(&sm, 1, 1, false, 0);
	assert_true(health_sm_feed(&sm, HEALTH_OK, 1, NULL, 1));
	assert_true(health_sm_feed(&sm, HEALTH_REFUSED, 1, NULL, 2));
	assert_true(health_sm_feed(&sm, HEALTH_OK, 1, NULL, 3));
	/* A reload that changes the limits keeps the state and the runs. */
	health_sm_set_limits(&sm, 3, 2);
	assert_true(sm.up);
	assert_false(health_sm_feed(&sm, HEALTH_REFUSED, 1, NULL, 4));
	assert_true(health_sm_feed(&sm, HEALTH_REFUSED, 1, NULL, 5));
}

/* ---- probes over loopback ---- */

struct result {
	enum health_result r;
	__u32 latency_us;
	char detail[HEALTH_DETAIL_MAX];
	int done;
};

static struct event_base *base;
static int outstanding;

static void done(void *arg, enum health_result r, __u32 latency_us, const char *detail)
{
	struct result *res = arg;

	res->r = r;
	res->latency_us = latency_us;
	snprintf(res->detail, sizeof(res->detail), "%s", detail);
	res->done++;
	if (--outstanding == 0)
		event_base_loopbreak(base);
}

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
static int listener(__u16 *port, int backlog)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct probe_target target(__u16 port, enum conf_health_type type, const char *path,
				  __u32 timeout_ms)
{
	struct probe_target t = {.port = port, .type = type, .path = path, .expect_status = 200,
				 .timeout_ms = timeout_ms};

	sluice_addr_parse("127.0.0.1", &t.addr);
	return t;
}

/* One probe; the loop starts stall_us after it (0: at once), as a loop
 * that is busy elsewhere would. */
static void run_after(const struct probe_target *t, struct result *res, unsigned int stall_us)
{
	memset(res, 0, sizeof(*res));
	outstanding = 1;
	assert_non_null(probe_start(base, t, done, res));
	if (stall_us)
		usleep(stall_us);
	event_base_dispatch(base);
	assert_int_equal(res->done, 1);
}

static void run(const struct probe_target *t, struct result *res)
{
	run_after(t, res, 0);
}

static void test_tcp_probes(void **state)
{
	struct result res;
	struct probe_target t;
	__u16 port, dead;
	int fd = listener(&port, 16), fd2, busy;
	(void)state;

	t = target(port, CONF_HEALTH_TCP, NULL, 500);
	run(&t, &res);
	assert_int_equal(res.r, HEALTH_OK);
	assert_true(res.latency_us < 500000);
	/* The loop stalls past the deadline (sluiced loading the XDP program
	 * takes ~0.1 s) while the connection is made: the answer counts, not
	 * the loop's lateness. */
	t = target(port, CONF_HEALTH_TCP, NULL, 20);
	run_after(&t, &res, 100000);
	assert_int_equal(res.r, HEALTH_OK);
	/* A port nobody listens on: refused. */
	fd2 = listener(&dead, 1);
	close(fd2);
	t = target(dead, CONF_HEALTH_TCP, NULL, 500);
	run(&t, &res);
	assert_int_equal(res.r, HEALTH_REFUSED);
	assert_string_equal(res.detail, "connection refused");
	close(fd);

	/* A listener whose queue is full drops the SYN: the probe times out. */
	fd = listener(&port, 0);
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

		busy = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(busy, (struct sockaddr *)&sin, sizeof(sin));
		/* kept open until the process ends: they fill the queue */
	}
	usleep(50000);
	t = target(port, CONF_HEALTH_TCP, NULL, 200);
	run(&t, &res);
	assert_int_equal(res.r, HEALTH_TIMEOUT);
	assert_true(res.latency_us >= 190000 && res.latency_us < 1000000);
	assert_non_null(strstr(res.detail, "no connection within 200 ms"));
	close(fd);
}

/* A tiny HTTP server thread: the request path picks the behaviour. */
static void *http_server(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		char buf[1024] = "";
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			return NULL;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0 && strstr(buf, "GET /quit "))
			return close(fd), NULL;
		if (n > 0 && strstr(buf, "GET /ok ") && strstr(buf, "\r\nHost: 127.0.0.1:"))
			send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, MSG_NOSIGNAL);
		else if (n > 0 && strstr(buf, "GET /fail "))
			send(fd, "HTTP/1.0 503 Service Unavailable\r\n\r\n", 36, MSG_NOSIGNAL);
		else if (n > 0 && strstr(buf, "GET /slow ")) {
			usleep(30000);
			send(fd, "HTTP/1.0 200 OK\r\n\r\n", 19, MSG_NOSIGNAL);
		} else if (n > 0 && strstr(buf, "GET /garbage "))
			send(fd, "SSH-2.0-OpenSSH\r\n", 17, MSG_NOSIGNAL);
		else if (n > 0 && strstr(buf, "GET /silent ")) {
			usleep(400000);
		}
		close(fd);
	}
}

static void test_http_probes(void **state)
{
	static const struct {
		const char *path;
		enum health_result r;
		const char *detail;
	} cases[] = {
		{"/ok", HEALTH_OK, "status 200"},
		{"/fail", HEALTH_BAD_STATUS, "status 503, expected 200"},
		{"/garbage", HEALTH_ERROR, "not an HTTP response"},
		{"/closed", HEALTH_ERROR, "connection closed before the status line"},
		{"/silent", HEALTH_TIMEOUT, "timeout: no HTTP status within 150 ms"},
	};
	struct probe_target t;
	struct result res;
	pthread_t th;
	__u16 port;
	int lfd = listener(&port, 64);
	(void)state;

	assert_int_equal(pthread_create(&th, NULL, http_server, &lfd), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = target(port, CONF_HEALTH_HTTP, cases[i].path, 150);
		run(&t, &res);
		if (res.r != cases[i].r || strcmp(res.detail, cases[i].detail))
			fail_msg("%s: got %s \"%s\", expected %s \"%s\"", cases[i].path,
				 health_result_name(res.r), res.detail,
				 health_result_name(cases[i].r), cases[i].detail);
	}
	/* The loop stalls 120 ms right after the start (sluiced busy, or not
	 * scheduled): a backend that answers in 30 ms within a 50 ms timeout
	 * gets the lost time back and passes; a silent one still times out.
	 * (The server answers one at a time: /silent above holds it 400 ms.) */
	usleep(300000);
	for (int silent = 0; silent < 2; silent++) {
		t = target(port, CONF_HEALTH_HTTP, silent ? "/silent" : "/slow", 50);
		run_after(&t, &res, 120000);
		if (res.r != (silent ? HEALTH_TIMEOUT : HEALTH_OK))
			fail_msg("%s after a stall: got %s \"%s\"", silent ? "/silent" : "/slow",
				 health_result_name(res.r), res.detail);
	}
	t = target(port, CONF_HEALTH_HTTP, "/quit", 1000);
	run(&t, &res);
	pthread_join(th, NULL);
	close(lfd);
}

/* ---- a thousand at once ---- */

#define MANY 1000

static __u64 last_tick, max_gap;

static void ticker(evutil_socket_t fd, short what, void *arg)
{
	__u64 now = sluice_now_ns();

	(void)fd, (void)what, (void)arg;
	if (last_tick && now - last_tick > max_gap)
		max_gap = now - last_tick;
	last_tick = now;
}

static void test_thousand_concurrent(void **state)
{
	static struct result res[MANY];
	static int fds[MANY];
	static __u16 ports[MANY];
	struct timeval tv = {.tv_sec = 0, .tv_usec = 5000};
	struct rlimit rl;
	struct event *tick;
	int ok = 0, refused = 0;
	__u64 t0, elapsed;
	(void)state;

	/* 1000 listeners and 1000 probes need more than the usual 1024. */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	assert_true(rl.rlim_cur >= 2 * MANY + 64);
	for (int i = 0; i < MANY; i++)
		fds[i] = listener(&ports[i], 4);
	/* Every other backend is down: its port refuses. (Closed only now, so
	 * that no later listener takes a freed port.) */
	for (int i = 1; i < MANY; i += 2) {
		close(fds[i]);
		fds[i] = -1;
	}
	tick = event_new(base, -1, EV_PERSIST, ticker, NULL);
	event_add(tick, &tv);
	memset(res, 0, sizeof(res));
	outstanding = MANY;
	t0 = sluice_now_ns();
	for (int i = 0; i < MANY; i++) {
		struct probe_target t = target(ports[i], CONF_HEALTH_TCP, NULL, 2000);

		assert_non_null(probe_start(base, &t, done, &res[i]));
	}
	last_tick = 0;
	max_gap = 0;
	event_base_dispatch(base);
	elapsed = sluice_now_ns() - t0;
	event_free(tick);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(res[i].done, 1);
		ok += res[i].r == HEALTH_OK;
		refused += res[i].r == HEALTH_REFUSED;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	printf("# %d probes in flight at once: %d up, %d refused in %.1f ms; the loop's "
	       "5 ms timer never waited more than %.1f ms\n",
	       MANY, ok, refused, elapsed / 1e6, max_gap / 1e6);
	assert_int_equal(ok, MANY / 2);
	assert_int_equal(refused, MANY / 2);
	assert_true(elapsed < 2000 * MS);
	assert_true(max_gap < 200 * MS);
}

static void test_status_line(void **state)
{
	(void)state;
	assert_int_equal(probe_parse_status_line("HTTP/1.1 200 OK\r\n", 17), 200);
	assert_int_equal(probe_parse_status_line("HTTP/1.0 503\r\n", 14), 503);
	assert_int_equal(probe_parse_status_line("HTTP/2 204 \r\n", 13), -1);
	assert_int_equal(probe_parse_status_line("HTTP/1.1 20", 11), -1);
	assert_int_equal(probe_parse_status_line("HTTP/1.1 2000 OK", 16), -1);
	assert_int_equal(probe_parse_status_line("http/1.1 200 OK", 15), -1);
}

static int setup(void **state)
{
	(void)state;
	base = event_base_new();
	return base ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rise_fall),
		cmocka_unit_test(test_rise_fall_of_one),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test_setup_teardown(test_tcp_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousand_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
