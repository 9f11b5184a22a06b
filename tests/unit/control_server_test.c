/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket server on its own (ctrl/sluiced/control.h): no
 * daemon, an event base in this process, and a dispatch function of the
 * test's own. Framing, the size limit, one request per connection, slow
 * clients, too many clients, replies that wait for a change, and what
 * control_start does with the file already at its path.
 *
 * The test is the client too: its sockets are non-blocking, and the loop
 * runs in short slices while it waits for a reply.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <grp.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "control.h"
#include "ctl_client.h"
#include "log.h"

static struct event_base *base;
static struct control *ctl;
static char dir[64], sock_path[96];
static struct settle_waiter *waiting;	/* replies waiting on "change" */
static unsigned int n_waiting, n_cancelled;

/* The test's commands: "status" and "vip.list" answer at once, "change"
 * once settle_all() says it is in force (and is refused when the server
 * says read-only); the rest is an error. */
static json_t *test_dispatch(void *ctx, const char *buf, size_t len, bool read_only,
			     bool *wait)
{
	json_t *req = json_loadb(buf, len, 0, NULL);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *resp;

	(void)ctx;
	*wait = false;
	if (!cmd)
		resp = control_error("malformed request");
	else if (!strcmp(cmd, "status"))
		resp = json_pack("{s:b, s:s}", "ok", 1, "instance", "test");
	else if (!strcmp(cmd, "vip.list"))
		resp = json_pack("{s:b, s:[]}", "ok", 1, "vips");
	else if (!strcmp(cmd, "change") && read_only)
		resp = control_error("change refused: read-only now");
	else if (!strcmp(cmd, "change")) {
		resp = json_pack("{s:b}", "ok", 1);
		*wait = true;
	} else {
		resp = control_error("unknown command \"%s\"", cmd);
	}
	json_decref(req);
	return resp;
}

static void test_when_settled(void *ctx, struct settle_waiter *w)
{
	(void)ctx;
	w->next = waiting;
	waiting = w;
	n_waiting++;
}

static void test_cancel_settled(void *ctx, struct settle_waiter *w)
{
	(void)ctx;
	for (struct settle_waiter **pp = &waiting; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			n_waiting--;
			n_cancelled++;
			return;
		}
	fail_msg("cancelled a waiter that was not waiting");
}

static void test_complete(void *ctx, const struct settle_waiter *w, json_t *resp, bool in_force)
{
	(void)ctx, (void)w;
	json_object_set_new(resp, "generation", json_integer(7));
	if (!in_force) {
		json_object_set_new(resp, "acknowledged", json_false());
		json_object_set_new(resp, "message", json_string("not yet"));
	}
}

/* Every change so far is in force. */
static void settle_all(void)
{
	while (waiting) {
		struct settle_waiter *w = waiting;

		waiting = w->next;
		n_waiting--;
		w->fn(w->arg);
	}
}

/* Set by a test: right after the server's bind, a symlink to
 * bind_swap_target takes bind_swap_path, as a user who can write to the
 * socket's directory could do. */
static const char *bind_swap_path, *bind_swap_target;

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc = __real_bind(fd, sa, len);

	if (rc == 0 && bind_swap_path) {
		unlink(bind_swap_path);
		if (symlink(bind_swap_target, bind_swap_path) < 0)
			fail_msg("symlink %s: %s", bind_swap_path, strerror(errno));
		bind_swap_path = NULL;
	}
	return rc;
}

static int start_grouped(const char *path, const char *group, struct control_limits lim,
			 struct control **out)
{
	return control_start(&(struct control_params){
				     .base = base,
				     .path = path,
				     .group = group,
				     .limits = lim,
				     .hooks = {.dispatch = test_dispatch,
					       .when_settled = test_when_settled,
					       .cancel_settled = test_cancel_settled,
					       .complete = test_complete},
			     },
			     out);
}

static int start_limited(const char *path, struct control_limits lim, struct control **out)
{
	return start_grouped(path, NULL, lim, out);
}

static int start_on(const char *path, struct control **out)
{
	return start_limited(path, (struct control_limits){0}, out);
}

/* The test's server again, with other limits. */
static void restart_with(struct control_limits lim)
{
	control_stop(ctl);
	ctl = NULL;
	assert_int_equal(start_limited(sock_path, lim, &ctl), 0);
}

static void run_ms(long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int client(void)
{
	int fd = ctl_connect(sock_path);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(ctl_send_all(fd, s, strlen(s)), 0);
}

/* Runs the loop for a slice, then appends what the server sent to r;
 * true once it closed. */
struct reply {
	char text[1 << 16];
	size_t len;
};

static bool pump(int fd, struct reply *r)
{
	ssize_t n;

	run_ms(5);
	while ((n = recv(fd, r->text + r->len, sizeof(r->text) - 1 - r->len, 0)) > 0)
		r->len += (size_t)n;
	r->text[r->len] = '\0';
	return n == 0 || (n < 0 && errno != EAGAIN);
}

/* Everything the server sends until it closes, within max_s. */
static const char *reply_of(int fd, double max_s)
{
	static struct reply r;
	double end = now_s() + max_s;
	bool closed;

	r.len = 0;
	do
		closed = pump(fd, &r);
	while (!closed && now_s() < end);
	if (!closed)
		fail_msg("no reply within %.1f s (so far \"%s\")", max_s, r.text);
	return r.text;
}

/* One exchange on a fresh connection; the write side closed if shut. */
static const char *exchange(const char *data, size_t len, bool shut)
{
	int fd = client();
	const char *r;

	/* A large request goes out while the loop reads it. */
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			run_ms(1);
			continue;
		}
		if (n < 0)
			break; /* refused early: the reply says why */
		off += (size_t)n;
	}
	if (shut)
		shutdown(fd, SHUT_WR);
	r = reply_of(fd, 10);
	close(fd);
	return r;
}

static const char *exchange_str(const char *s, bool shut)
{
	return exchange(s, strlen(s), shut);
}

static void expect_alive(void)
{
	const char *r = exchange_str("{\"cmd\": \"status\"}\n", true);

	if (!strstr(r, "\"ok\":true"))
		fail_msg("status answered \"%s\"", r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-ctlsrv-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	waiting = NULL;
	n_waiting = n_cancelled = 0;
	return start_on(sock_path, &ctl);
}

static int teardown(void **state)
{
	(void)state;
	control_stop(ctl);
	ctl = NULL;
	/* control_stop cancelled whatever still waited. */
	assert_null(waiting);
	return rmdir(dir);
}

static void test_framing(void **state)
{
	char *big = malloc(70000);
	struct reply early = {.len = 0};
	const char *r;
	int fd, fd2;
	(void)state;

	/* Too large, with or without a newline: refused, the reply arrives. */
	memset(big, ' ', 70000);
	memcpy(big, "{\"cmd\": \"status\", \"pad\": \"", 26);
	r = exchange(big, 70000, true);
	assert_non_null(strstr(r, "request larger than 65536 bytes"));
	big[69999] = '\n';
	r = exchange(big, 70000, false);
	assert_non_null(strstr(r, "request larger than 65536 bytes"));
	free(big);
	expect_alive();

	/* No newline: closing the write side ends the request. */
	r = exchange_str("{\"cmd\": \"status\"}", true);
	assert_non_null(strstr(r, "\"ok\":true"));
	/* One request per connection: the second is not answered. */
	r = exchange_str("{\"cmd\": \"status\"}\n{\"cmd\": \"vip.list\"}\n", true);
	assert_non_null(strstr(r, "\"instance\""));
	assert_null(strstr(r, "\"vips\":["));
	/* Every reply is one JSON object and a newline. */
	assert_true(r[0] == '{' && r[strlen(r) - 1] == '\n');
	/* A connection that says nothing and leaves: no harm. */
	fd = client();
	close(fd);
	expect_alive();

	/* A client that stalls mid-request is told so, and others are served
	 * meanwhile. */
	fd = client();
	send_str(fd, "{\"cmd\": \"sta");
	fd2 = client();
	send_str(fd2, "{\"cmd\": \"status\"}\n");
	assert_non_null(strstr(reply_of(fd2, 2), "\"ok\":true"));
	close(fd2);
	assert_false(pump(fd, &early));
	r = reply_of(fd, 10);
	if (!strstr(r, "no complete request within 5 s"))
		fail_msg("stalled client got \"%s\"", r);
	close(fd);
	expect_alive();
}

/* The deadline is for the whole request: a client that sends a byte now
 * and then, never a whole request, is still cut off. */
static void test_request_deadline(void **state)
{
	const char *req = "{\"cmd\": \"status\"}\n";
	struct reply r = {.len = 0};
	double start, took;
	bool closed = false;
	int fd;
	(void)state;

	restart_with((struct control_limits){.request_ms = 1000});
	fd = client();
	start = now_s();
	for (size_t i = 0; i + 1 < strlen(req) && !closed; i++) {
		if (ctl_send_all(fd, req + i, 1) < 0)
			break;
		for (int j = 0; j < 60 && !closed; j++) /* 300 ms */
			closed = pump(fd, &r);
	}
	while (!closed && now_s() - start < 10)
		closed = pump(fd, &r);
	took = now_s() - start;
	close(fd);
	if (!strstr(r.text, "no complete request within 1 s"))
		fail_msg("trickling client got \"%s\" after %.1f s", r.text, took);
	assert_true(took < 2.5);
	expect_alive();
}

/* Full: the oldest connection not waiting for a change is closed to admit
 * the new one, so a client with a request gets in however many idle or
 * trickling ones hold the slots (a hundred slow clients cannot keep
 * `sluicectl status` out), and the count stays at the cap. */
static void test_full_evicts_oldest(void **state)
{
	int fds[CONTROL_MAX_CLIENTS + 36];
	const unsigned int n = sizeof(fds) / sizeof(fds[0]);
	struct reply r = {.len = 0};
	(void)state;

	for (unsigned int i = 0; i < n; i++) {
		fds[i] = client();
		send_str(fds[i], "{"); /* a request begun, never finished */
		run_ms(2);
	}
	run_ms(50);
	expect_alive();
	/* The first ones went, without a reply; the newest are still held. */
	assert_true(pump(fds[0], &r));
	assert_int_equal(r.len, 0);
	r.len = 0;
	assert_false(pump(fds[n - 1], &r));
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	run_ms(50);
	expect_alive();
}

/* A change is answered once it is in force, with what the owner adds;
 * a client that half-closed still gets it. */
static void test_change_waits(void **state)
{
	struct reply early = {.len = 0};
	const char *r;
	int fd;
	(void)state;

	fd = client();
	send_str(fd, "{\"cmd\": \"change\"}\n");
	shutdown(fd, SHUT_WR);
	run_ms(50);
	assert_false(pump(fd, &early));
	assert_string_equal(early.text, "");
	assert_int_equal(n_waiting, 1);
	expect_alive(); /* others are served meanwhile */
	settle_all();
	r = reply_of(fd, 2);
	assert_string_equal(r, "{\"ok\":true,\"generation\":7}\n");
	close(fd);
	assert_int_equal(n_cancelled, 0);
}

/* A waiting client that hangs up frees its slot at once: its waiter is
 * cancelled (the change itself stays made). */
static void test_waiting_client_leaves(void **state)
{
	struct reply r = {.len = 0};
	int fd;
	(void)state;

	fd = client();
	send_str(fd, "{\"cmd\": \"change\"}\n");
	for (int i = 0; i < 10; i++)
		pump(fd, &r);
	assert_int_equal(n_waiting, 1);
	close(fd);
	run_ms(50);
	assert_int_equal(n_waiting, 0);
	assert_int_equal(n_cancelled, 1);
	expect_alive();
}

/* A change that does not come into force in time is answered anyway,
 * saying so, and its waiter is cancelled. */
static void test_wait_deadline(void **state)
{
	double start = now_s(), took;
	const char *r;
	int fd;
	(void)state;

	restart_with((struct control_limits){.wait_ms = 300});
	fd = client();
	send_str(fd, "{\"cmd\": \"change\"}\n");
	shutdown(fd, SHUT_WR);
	r = reply_of(fd, 3);
	took = now_s() - start;
	assert_string_equal(r, "{\"ok\":true,\"generation\":7,\"acknowledged\":false,"
			       "\"message\":\"not yet\"}\n");
	assert_true(took >= 0.25 && took < 2);
	close(fd);
	assert_int_equal(n_waiting, 0);
	assert_int_equal(n_cancelled, 1);
	expect_alive();
}

/* Replies waiting for a change do not take the slots of those being
 * read: with every client waiting, a read-only request is still served,
 * and a change beyond the waiting cap is refused without being run. */
static void test_waiting_do_not_lock_out(void **state)
{
	int fds[4], idle[4], fd;
	const char *r;
	(void)state;

	restart_with((struct control_limits){.max_clients = 4, .max_waiting = 4});
	for (int i = 0; i < 4; i++) {
		fds[i] = client();
		send_str(fds[i], "{\"cmd\": \"change\"}\n");
		shutdown(fds[i], SHUT_WR);
	}
	run_ms(50);
	assert_int_equal(n_waiting, 4);
	expect_alive();
	r = exchange_str("{\"cmd\": \"change\"}\n", true);
	if (!strstr(r, "change refused: read-only now"))
		fail_msg("a change over the cap got \"%s\"", r);
	assert_int_equal(n_waiting, 4);
	/* Idle connections fill the 4 slots; a 5th pushes the oldest out
	 * and is answered. */
	for (int i = 0; i < 4; i++)
		idle[i] = client();
	run_ms(50);
	expect_alive();
	(void)fd;
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	run_ms(50);
	settle_all();
	for (int i = 0; i < 4; i++) {
		assert_string_equal(reply_of(fds[i], 2), "{\"ok\":true,\"generation\":7}\n");
		close(fds[i]);
	}
}

/* Only a socket is ever removed: a control.socket naming a regular file
 * (the configuration, by a typo) refuses to start and leaves it alone; a
 * stale socket of a dead sluiced is replaced. */
static void test_socket_path_taken(void **state)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char tmp[64] = "/tmp/sluice-ctl-path-XXXXXX", path[96], text[16] = "";
	struct control *c = NULL;
	struct stat sb;
	FILE *f;
	int fd;
	(void)state;

	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/sluice.json", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"vips\": []}\n", f);
	fclose(f);
	assert_int_equal(start_on(path, &c), -ENOTSOCK);
	assert_null(c);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "{\"vips\": []}\n");
	unlink(path);

	/* A socket file nobody listens on any more. */
	snprintf(path, sizeof(path), "%s/ctl.sock", tmp);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(start_on(path, &c), 0);
	assert_non_null(c);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	control_stop(c);
	assert_int_equal(rmdir(tmp), 0); /* control_stop removed the socket */
}

/* The socket has its group and mode before it appears at its path: what
 * is put at the path right after bind (a symlink to another file) never
 * gets them, and the socket is never reachable with other permissions. */
static void test_socket_group_no_window(void **state)
{
	char tmp[64] = "/tmp/sluice-ctl-perm-XXXXXX", path[96], victim[96];
	struct group *gr = getgrnam("daemon");
	struct control *c = NULL;
	struct dirent *de;
	struct stat sb;
	int fd, n = 0;
	DIR *dh;
	(void)state;

	assert_non_null(gr);
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/ctl.sock", tmp);
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	bind_swap_path = path;
	bind_swap_target = victim;
	if (start_grouped(path, "daemon", (struct control_limits){0}, &c) == 0)
		control_stop(c);
	assert_null(bind_swap_path); /* the swap happened */
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_not_equal(sb.st_gid, gr->gr_gid);
	unlink(path);
	unlink(victim);

	/* Undisturbed: the socket is 0660 and the group's, and nothing else
	 * is left in the directory. */
	c = NULL;
	assert_int_equal(start_grouped(path, "daemon", (struct control_limits){0}, &c), 0);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	assert_int_equal(sb.st_gid, gr->gr_gid);
	dh = opendir(tmp);
	assert_non_null(dh);
	while ((de = readdir(dh)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dh);
	assert_int_equal(n, 1);
	fd = ctl_connect(path);
	assert_true(fd >= 0);
	close(fd);
	control_stop(c);
	assert_int_equal(rmdir(tmp), 0);
}

/* control_error never returns NULL: a message cut at its size limit in
 * the middle of a character, or with bytes that are not UTF-8, is still
 * an error response, valid UTF-8, as much of the message as fits. */
static void test_error_always_a_response(void **state)
{
	char long_msg[1200] = "";
	const char *e;
	json_t *r;
	(void)state;

	for (int i = 0; i < 599; i++)
		strcat(long_msg, "\xc3\xa9"); /* é: a 512-byte cut falls inside one */
	r = control_error("%s", long_msg);
	assert_non_null(r);
	e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	assert_int_equal(strlen(e), 510); /* 255 whole ones */
	assert_int_equal((unsigned char)e[508], 0xc3);
	assert_false(json_is_true(json_object_get(r, "ok")));
	json_decref(r);

	r = control_error("near '%s'", "\xff\xc3x");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "error")), "near '??x'");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_path_taken),
		cmocka_unit_test(test_socket_group_no_window),
		cmocka_unit_test(test_error_always_a_response),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_evicts_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_client_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_do_not_lock_out, setup, teardown),
	};
	int rc;

	slog_set_level(SLOG_WARN);
	/* As sluiced (main.c): a client that left must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	event_base_free(base);
	return rc;
}
