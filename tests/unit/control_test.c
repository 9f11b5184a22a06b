/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commands behind the control socket, against a real daemon
 * (sluiced's parts, forked, on a socket in a temporary directory): bad
 * requests each get an error response and the daemon carries on; the
 * socket is owner-only; a valid change is answered once published, with
 * the generation. Framing, limits and timeouts are the server's alone:
 * control_server_test.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "commands.h"
#include "control.h"
#include "ctl_client.h"
#include "daemon.h"
#include "log.h"

static char dir[64], sock_path[96], instance[40];
static pid_t daemon_pid;

static void unlink_instance(void)
{
	char name[64];

	sluice_shm_name(instance, "config", name, sizeof(name));
	shm_unlink(name);
	sluice_shm_name(instance, "status", name, sizeof(name));
	shm_unlink(name);
}

/* The child: sluiced's init steps, minus signals and metrics. */
static void run_daemon(const char *config)
{
	static struct sluiced d;

	/* Never outlive the test, even when it aborts. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	slog_set_level(SLOG_WARN);
	d.base = event_base_new();
	if (!d.base || daemon_load(&d, config, NULL) < 0 || daemon_attach_shm(&d) < 0 ||
	    daemon_start(&d) < 0)
		_exit(3);
	event_base_dispatch(d.base);
	_exit(0);
}

static int connect_sock(void)
{
	return ctl_connect(sock_path);
}

static void send_all(int fd, const char *buf, size_t len)
{
	assert_int_equal(ctl_send_all(fd, buf, len), 0);
}

/* Read until the daemon closes; returns the text (static buffer). */
static const char *read_all(int fd)
{
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;

	while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/* One exchange: bytes out (then our write side closed, if shut), text in. */
static const char *exchange(const char *data, size_t len, int shut)
{
	int fd = connect_sock();
	const char *r;

	assert_true(fd >= 0);
	send_all(fd, data, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	r = read_all(fd);
	close(fd);
	return r;
}

static const char *exchange_str(const char *s, int shut)
{
	return exchange(s, strlen(s), shut);
}

static void expect(const char *request, const char *fragment)
{
	const char *r = exchange(request, strlen(request), 1);

	if (!strstr(r, fragment))
		fail_msg("request %.60s...\n  got      %s\n  expected %s", request, r, fragment);
	/* Every reply is one JSON object and a newline. */
	assert_true(r[0] == '{' && r[strlen(r) - 1] == '\n');
}

static void expect_alive(void)
{
	assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);
	expect("{\"cmd\": \"status\"}\n", "\"ok\":true");
}

static int setup(void **state)
{
	char config[128];
	FILE *f;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/sluice-ctl-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(instance, sizeof(instance), "ctltest-%d", (int)getpid());
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	snprintf(config, sizeof(config), "%s/sluice.json", dir);
	unlink_instance();
	f = fopen(config, "w");
	if (!f)
		return -1;
	fprintf(f,
		"{\"instance\": \"%s\", \"control\": {\"socket\": \"%s\"}, \"metrics\": "
		"{\"enabled\": false}, \"vips\": [{\"address\": \"10.0.0.1\", \"port\": 80, "
		"\"forwarding\": \"l2dsr\", \"table_size\": 1009, \"backends\": [{\"address\": "
		"\"10.0.1.1\", \"mac\": \"02:00:00:00:00:01\"}]}]}\n",
		instance, sock_path);
	fclose(f);
	daemon_pid = fork();
	if (daemon_pid < 0)
		return -1;
	if (daemon_pid == 0)
		run_daemon(config);
	for (int i = 0; i < 200; i++) {
		int fd = connect_sock();

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;

	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, NULL, 0);
	unlink_instance();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_bad_requests(void **state)
{
	static const struct {
		const char *req, *fragment;
	} cases[] = {
		{"{\"cmd\": \n", "malformed request: line 1 column 8"},
		{"not json\n", "malformed request"},
		{"\n", "\"error\":\"empty request\""},
		{"[\"status\"]\n", "a request is an object with a string \\\"cmd\\\""},
		{"{\"vip\": \"10.0.0.1:80\"}\n", "a request is an object with a string"},
		{"{\"cmd\": 7}\n", "a request is an object with a string"},
		{"{\"cmd\": \"reboot\"}\n", "unknown command \\\"reboot\\\""},
		{"{\"cmd\": \"status\", \"cmd\": \"status\"}\n", "duplicate object key"},
		{"{\"cmd\": \"vip.list\", \"verbose\": true}\n", "vip.list: unknown field \\\"verbose\\\""},
		{"{\"cmd\": \"vip.show\"}\n", "missing \\\"vip\\\""},
		{"{\"cmd\": \"vip.show\", \"vip\": \"10.0.0.1\"}\n", "is not a VIP"},
		{"{\"cmd\": \"vip.show\", \"vip\": \"10.0.0.9:80\"}\n", "no VIP 10.0.0.9:80/tcp"},
		{"{\"cmd\": \"backend.add\", \"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.2\", "
		 "\"weight\": 10001, \"mac\": \"02:00:00:00:00:02\"}\n",
		 "weight: 10001 is out of range 0..10000"},
		{"{\"cmd\": \"backend.add\", \"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.2\"}\n",
		 "mac: required: VIP 10.0.0.1:80/tcp forwards by l2dsr"},
		{"{\"cmd\": \"backend.weight\", \"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.1\"}\n",
		 "missing \\\"weight\\\""},
		{"{\"cmd\": \"backend.drain\", \"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.9\"}\n",
		 "no backend 10.0.1.9 in VIP 10.0.0.1:80/tcp"},
		{"{\"cmd\": \"vip.add\", \"vip\": \"10.0.0.3:80\", \"settings\": {\"table_size\": "
		 "100}}\n",
		 "settings.table_size: 100 is not prime"},
		{"{\"cmd\": \"explain\", \"vip\": \"10.0.0.1:80\", \"client\": \"nope\"}\n",
		 "expected ADDRESS:PORT"},
		{"{\"cmd\": \"explain\", \"vip\": \"10.0.0.1:80/tcp\", \"protocol\": \"udp\", "
		 "\"client\": \"192.0.2.1:1000\"}\n",
		 "protocol udp: the VIP is tcp"},
		{"{\"cmd\": \"explain\", \"vip\": \"10.0.0.1:80\", \"protocol\": 6, "
		 "\"client\": \"192.0.2.1:1000\"}\n",
		 "\\\"protocol\\\": expected \\\"tcp\\\" or \\\"udp\\\""},
		{"{\"cmd\": \"host.drain\"}\n",
		 "routing is not configured (no routing.table): sluiced announces nothing"},
		{"{\"cmd\": \"host.undrain\", \"now\": true}\n", "host.undrain: unknown field"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect(cases[i].req, cases[i].fragment);
		expect_alive();
	}
}



static void test_socket_mode_and_change(void **state)
{
	struct stat sb;
	const char *r;
	(void)state;

	assert_int_equal(stat(sock_path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	r = exchange_str("{\"cmd\": \"backend.add\", \"vip\": \"10.0.0.1:80\", \"address\": "
		     "\"10.0.1.2\", \"weight\": 3, \"mac\": \"02:00:00:00:00:02\"}\n", 1);
	if (!strstr(r, "\"ok\":true") || !strstr(r, "\"generation\":2"))
		fail_msg("backend.add answered %s", r);
	r = exchange_str("{\"cmd\": \"table\", \"vip\": \"10.0.0.1:80\"}\n", 1);
	assert_non_null(strstr(r, "\"address\":\"10.0.1.2\""));
	assert_non_null(strstr(r, "\"weight\":3"));
	/* The change is in the state file, next to the configuration. */
	{
		char path[160], text[4096] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/sluice.state.json", dir);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
		fclose(f);
		assert_non_null(strstr(text, "\"10.0.1.2\""));
	}
}

/* A data plane that never acknowledges: the change is still answered,
 * after CONTROL_WAIT_S, saying it is published and which lcore has not
 * taken it. The lcore's heartbeat is in the future, so it stays live. */
static void test_change_not_acknowledged(void **state)
{
	struct sluice_status_region st;
	const char *r;
	int tries = 0;
	(void)state;

	assert_int_equal(sluice_status_create(instance, 1, &st, NULL, 0), 0);
	st.lcores[0].lcore_id = 3;
	st.lcores[0].state = SLUICE_LCORE_ONLINE;
	sluice_lcore_heartbeat(&st.lcores[0], UINT64_MAX / 2);
	sluice_lcore_ack(&st.lcores[0], 1);
	while (!strstr(exchange_str("{\"cmd\": \"status\"}\n", 1), "\"alive\":true")) {
		assert_true(++tries < 100);
		usleep(20000);
	}
	r = exchange_str("{\"cmd\": \"backend.weight\", \"vip\": \"10.0.0.1:80\", "
			 "\"address\": \"10.0.1.1\", \"weight\": 5}\n", 1);
	if (!strstr(r, "\"ok\":true,\"generation\":2,\"acknowledged\":false,"
		       "\"message\":\"published, not yet acknowledged by lcore 3\""))
		fail_msg("backend.weight answered %s", r);
	/* The change is made all the same. */
	r = exchange_str("{\"cmd\": \"backend.list\", \"vip\": \"10.0.0.1:80\"}\n", 1);
	assert_non_null(strstr(r, "\"weight\":5"));
	sluice_lcore_ack(&st.lcores[0], 2);
	sluice_status_close(&st);
}

/* With no room left to wait (the server says read-only), a change is
 * refused before it runs; here with no daemon at all behind it. */
static void test_read_only_refuses_changes(void **state)
{
	static struct sluiced nothing;
	static const char req[] = "{\"cmd\": \"backend.drain\", \"vip\": \"10.0.0.1:80\", "
				  "\"address\": \"10.0.1.1\"}";
	bool wait = true;
	json_t *r;
	(void)state;

	r = control_dispatch(&nothing, req, strlen(req), true, &wait);
	assert_false(wait);
	assert_false(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "error")),
			    "backend.drain: too many changes are waiting for the data plane; try "
			    "again later (read-only commands are served)");
	json_decref(r);
}

/* A command name cut to 64 bytes is cut between characters: the reply
 * is the error, not a false "out of memory" (a split character is not
 * UTF-8, and jansson refuses it). */
static void test_unknown_command_cut_whole(void **state)
{
	static struct sluiced nothing;
	char req[256], expected[128], name[80];
	bool wait;
	json_t *r;
	(void)state;

	memset(name, 'a', 63);
	strcpy(name + 63, "\xc3\xa9tc"); /* é across bytes 64 and 65 */
	snprintf(req, sizeof(req), "{\"cmd\": \"%s\"}", name);
	snprintf(expected, sizeof(expected), "unknown command \"%.63s\"", name);
	r = control_dispatch(&nothing, req, strlen(req), false, &wait);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "error")), expected);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_only_refuses_changes),
		cmocka_unit_test(test_unknown_command_cut_whole),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_mode_and_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_not_acknowledged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
