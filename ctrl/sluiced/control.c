/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket server: framing, limits, replies. See control.h. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

struct conn {
	struct control *ctl;
	struct bufferevent *bev;
	/* A deadline for each step: a complete request from accept, then the
	 * reply out and the client gone. Idle timeouts would let a client
	 * that sends a byte now and then hold its slot forever. */
	struct event *deadline;
	struct settle_waiter waiter;	/* when the reply waits for a publish */
	json_t *pending;		/* that reply */
	bool replied;			/* close once the output is flushed */
	bool draining;			/* reply sent: discarding input until EOF */
	size_t drained;			/* bytes discarded so far */
	struct conn *prev, *next;
};

struct control {
	struct event_base *base;
	struct control_hooks hooks;
	struct control_limits lim;
	struct evconnlistener *listener;
	char path[108];
	ino_t ino;			/* of our socket file, to remove only ours */
	struct conn *conns;
	unsigned int n_conns;
	/* Of them, replies waiting for their change. They have their own cap
	 * and leave max_clients to connections being read, so with the data
	 * plane stopped and every change waiting, `status` still gets in. */
	unsigned int n_waiting;
	struct slog_ratelimit rl;
};

static struct timeval ms_tv(unsigned int ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* The length of the UTF-8 character at s (at most avail bytes), or 0 when
 * it is not one jansson accepts: overlong, a surrogate, past U+10FFFF, or
 * cut short. */
static size_t utf8_char_len(const unsigned char *s, size_t avail)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int control_utf8_prefix(const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	/* A continuation byte right after the cut: the cut splits one. */
	if (len == max)
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	return (int)len;
}

/* Allocated before it can be needed: the answer when nothing else can be
 * allocated. */
static json_t *oom_error;

__attribute__((constructor)) static void make_oom_error(void)
{
	oom_error = json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
}

json_t *control_error(const char *fmt, ...)
{
	char msg[512];
	size_t len;
	va_list ap;
	json_t *resp;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "%s", fmt);
	len = strlen(msg);
	/* vsnprintf cuts by bytes: drop a character it cut short. */
	if ((size_t)n >= sizeof(msg)) {
		size_t lead = len;

		while (lead && ((unsigned char)msg[lead - 1] & 0xc0) == 0x80)
			lead--;
		if (lead && !utf8_char_len((const unsigned char *)msg + lead - 1, len - lead + 1))
			msg[len = lead - 1] = '\0';
	}
	for (size_t i = 0; i < len;) {
		size_t c = utf8_char_len((const unsigned char *)msg + i, len - i);

		if (!c)
			msg[i] = '?', c = 1;
		i += c;
	}
	resp = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	if (!resp)
		resp = json_incref(oom_error);
	return resp;
}

/* The waiting reply, which stops waiting. */
static json_t *take_pending(struct conn *c)
{
	json_t *resp = c->pending;

	c->pending = NULL;
	c->ctl->n_waiting--;
	return resp;
}

static void conn_free(struct conn *c)
{
	struct control *ctl = c->ctl;

	if (c->pending) {
		ctl->hooks.cancel_settled(ctl->hooks.ctx, &c->waiter);
		json_decref(take_pending(c));
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_conns--;
	if (c->deadline)
		event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
}

static void arm_deadline(struct conn *c, unsigned int ms)
{
	struct timeval tv = ms_tv(ms);

	evtimer_add(c->deadline, &tv);
}

static void send_reply(struct conn *c, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);

	json_decref(resp);
	if (!text)
		text = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
	/* From now on we only write; what the client still sends is ignored. */
	bufferevent_disable(c->bev, EV_READ);
	if (text) {
		bufferevent_write(c->bev, text, strlen(text));
		bufferevent_write(c->bev, "\n", 1);
		free(text);
	}
	c->replied = true;
	arm_deadline(c, c->ctl->lim.request_ms);
	bufferevent_enable(c->bev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/* The change this reply waited for is in force: the owner fills in what
 * it knows (the generation). */
static void settled(void *arg)
{
	struct conn *c = arg;
	struct control *ctl = c->ctl;
	json_t *resp = take_pending(c);

	ctl->hooks.complete(ctl->hooks.ctx, &c->waiter, resp, true);
	send_reply(c, resp);
}

static void handle(struct conn *c, const char *buf, size_t len)
{
	struct control *ctl = c->ctl;
	bool wait = false;
	json_t *resp = ctl->hooks.dispatch(ctl->hooks.ctx, buf, len,
					   ctl->n_waiting >= ctl->lim.max_waiting, &wait);

	if (!wait || !json_is_true(json_object_get(resp, "ok"))) {
		send_reply(c, resp);
		return;
	}
	c->pending = resp;
	ctl->n_waiting++;
	/* Waiting on the data plane is not the client's fault, so it gets its
	 * own span; but a data plane that never acknowledges must not hold
	 * the slot (and the client) forever. */
	arm_deadline(c, ctl->lim.wait_ms);
	c->waiter.fn = settled;
	c->waiter.arg = c;
	ctl->hooks.when_settled(ctl->hooks.ctx, &c->waiter);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	size_t len = evbuffer_get_length(in);

	if (c->draining) {
		c->drained += len;
		evbuffer_drain(in, len);
		if (c->drained > CONTROL_DRAIN_MAX)
			conn_free(c);
		return;
	}
	if (c->replied || c->pending)
		return;
	if (eol.pos < 0) {
		if (len > CONTROL_MAX_REQUEST)
			send_reply(c, control_error("request larger than %d bytes",
						    CONTROL_MAX_REQUEST));
		return;
	}
	if ((size_t)eol.pos > CONTROL_MAX_REQUEST) {
		send_reply(c, control_error("request larger than %d bytes", CONTROL_MAX_REQUEST));
		return;
	}
	handle(c, (const char *)evbuffer_pullup(in, eol.pos), (size_t)eol.pos);
}

/* The reply is out. Closing now with unread input would make the kernel
 * reset the connection and the client could lose the reply (a request
 * that was too large is still arriving): close our side, discard what
 * still comes, and free the connection at EOF. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (!c->replied || c->draining || evbuffer_get_length(bufferevent_get_output(bev)))
		return;
	c->draining = true;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_enable(bev, EV_READ);
}

/* A client that closed its write side still reads the reply; one that
 * closed the socket cannot. On a unix stream socket only the second shuts
 * both directions of ours down, which poll() reports as POLLHUP. */
static bool peer_gone(struct conn *c)
{
	struct pollfd p = {.fd = bufferevent_getfd(c->bev), .events = 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	if (c->replied || (what & BEV_EVENT_ERROR)) {
		conn_free(c); /* done, gone, or our reply could not be written */
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A half-closed client still reads the reply; for one that
		 * left, free the slot now rather than when the change is in
		 * force. */
		if (c->pending) {
			if (peer_gone(c))
				conn_free(c);
			return;
		}
		if (len == 0) {
			conn_free(c);
			return;
		}
		if (len > CONTROL_MAX_REQUEST) {
			send_reply(c, control_error("request larger than %d bytes",
						    CONTROL_MAX_REQUEST));
			return;
		}
		/* The client closed its write side: the request is complete. */
		handle(c, (const char *)evbuffer_pullup(in, -1), len);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd, (void)what;
	if (c->replied) {
		conn_free(c); /* it does not take its reply, or does not leave */
		return;
	}
	if (c->pending) {
		struct control *ctl = c->ctl;
		json_t *resp = take_pending(c);

		/* The change is made, only not in force yet: still "ok", and
		 * the owner says what is missing. */
		ctl->hooks.cancel_settled(ctl->hooks.ctx, &c->waiter);
		ctl->hooks.complete(ctl->hooks.ctx, &c->waiter, resp, false);
		send_reply(c, resp);
		return;
	}
	send_reply(c, control_error("no complete request within %g s",
				    c->ctl->lim.request_ms / 1000.0));
}

/*
 * Full: close the oldest connection that is not waiting for a change (one
 * still trickling its request, or not reading its reply) to make room for
 * the new one. A real client sends its request at once and is gone within
 * milliseconds, so the oldest is the slowest: clients that hold slots by
 * sending a byte now and then, even a hundred of them, push each other out
 * and cannot keep `sluicectl status` out. The evicted one gets no reply
 * (writing one could hold its slot again). False when none can go.
 */
static bool evict_oldest(struct control *ctl, const struct conn *keep)
{
	struct conn *victim = NULL;

	for (struct conn *c = ctl->conns; c; c = c->next)
		if (c != keep && !c->pending)
			victim = c; /* the list is newest first: the last is oldest */
	if (!victim)
		return false;
	slog_rl(&ctl->rl, SLOG_WARN,
		"control: %u connections: closed the oldest unfinished one to admit a new one",
		ctl->lim.max_clients);
	conn_free(victim);
	return true;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct control *ctl = arg;
	struct conn *c;

	(void)l, (void)sa, (void)socklen;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->deadline = evtimer_new(ctl->base, on_deadline, c);
	}
	if (!c || !c->bev || !c->deadline) {
		if (c && c->bev)
			bufferevent_free(c->bev); /* closes fd */
		else
			close(fd);
		if (c && c->deadline)
			event_free(c->deadline);
		free(c);
		slog_rl(&ctl->rl, SLOG_ERR, "control: out of memory accepting a connection");
		return;
	}
	c->ctl = ctl;
	c->next = ctl->conns;
	if (c->next)
		c->next->prev = c;
	ctl->conns = c;
	ctl->n_conns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	arm_deadline(c, ctl->lim.request_ms);
	/* Read no more than the limit (and a byte to notice going over). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_MAX_REQUEST + 2);
	if (ctl->n_conns - ctl->n_waiting > ctl->lim.max_clients && !evict_oldest(ctl, c)) {
		send_reply(c, control_error("too many connections (%u): try again",
					    ctl->lim.max_clients));
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* A socket file left by a dead sluiced is removed; one that answers is
 * another daemon's: refuse to take it over. Anything but a socket is
 * never removed: a control.socket that names the configuration by
 * mistake must not delete it (a regular file refuses a connection just
 * like a stale socket). */
static int clear_stale_socket(const struct sockaddr_un *sun)
{
	struct stat sb;
	int fd, rc;

	if (lstat(sun->sun_path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -ENOTSOCK;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	return unlink(sun->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

/* Bind the socket at path with its mode (0600, or 0660 and group gid when
 * gid is not -1) set before anyone can reach it. Returns 0 or -errno.
 *
 * Binding at path and then chown/chmod by name leaves a window: the socket
 * is reachable with the umask's mode, and in a directory others can write
 * to, the name can be swapped for a symlink in between, so the chown and
 * chmod land on whatever it points at. fchown/fchmod on the socket's fd do
 * not help: on Linux they change the socket's own inode, not the file bind
 * creates, and a umask is only a mode, not a group. So the socket is bound
 * in a directory of our own (mkdtemp: 0700, nobody else can enter it) next
 * to the target, given its group and mode there, and renamed into place:
 * one atomic step, after which connect() by the new name reaches it.
 * RENAME_NOREPLACE: whatever appeared at path since clear_stale_socket()
 * is not clobbered. */
static int bind_in_private_dir(int fd, const char *path, const char *parent, gid_t gid)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char tmp[sizeof(sun.sun_path) - 2]; /* room for "/s" */
	int rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.XXXXXX", parent) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (!mkdtemp(tmp))
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", tmp);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (gid != (gid_t)-1 && chown(sun.sun_path, (uid_t)-1, gid) < 0) ||
	    chmod(sun.sun_path, gid != (gid_t)-1 ? 0660 : 0600) < 0 ||
	    renameat2(AT_FDCWD, sun.sun_path, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		rc = -errno;
		unlink(sun.sun_path);
	}
	rmdir(tmp);
	return rc;
}

static int open_socket(struct control *ctl, const char *path, const char *group)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[sizeof(sun.sun_path)];
	const char *parent;
	gid_t gid = (gid_t)-1;
	struct stat sb;
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	parent = dirname(dir);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		slog(SLOG_WARN, "control: cannot create %s: %s", parent, strerror(errno));
	rc = clear_stale_socket(&sun);
	if (rc == -EADDRINUSE) {
		slog(SLOG_ERR, "control: another sluiced answers on %s", path);
		return rc;
	}
	if (rc == -ENOTSOCK) {
		slog(SLOG_ERR, "control: %s exists and is not a socket; not removing it "
			       "(is control.socket right?)",
		     path);
		return rc;
	}
	if (group && group[0]) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			slog(SLOG_ERR, "control: cannot give %s to group %s: no such group", path,
			     group);
			return -ENOENT;
		}
		gid = gr->gr_gid;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = bind_in_private_dir(fd, path, parent, gid);
	if (rc < 0) {
		slog(SLOG_ERR, "control: cannot bind %s%s%s: %s", path,
		     gid != (gid_t)-1 ? " for group " : "", gid != (gid_t)-1 ? group : "",
		     strerror(-rc));
		close(fd);
		return rc;
	}
	if (stat(path, &sb) == 0)
		ctl->ino = sb.st_ino;
	return fd;
}

int control_start(const struct control_params *p, struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd;

	*out = NULL;
	if (!ctl)
		return -ENOMEM;
	ctl->base = p->base;
	ctl->hooks = p->hooks;
	ctl->lim = p->limits;
	if (!ctl->lim.request_ms)
		ctl->lim.request_ms = CONTROL_TIMEOUT_S * 1000;
	if (!ctl->lim.wait_ms)
		ctl->lim.wait_ms = CONTROL_WAIT_S * 1000;
	if (!ctl->lim.max_clients)
		ctl->lim.max_clients = CONTROL_MAX_CLIENTS;
	if (!ctl->lim.max_waiting)
		ctl->lim.max_waiting = CONTROL_MAX_WAITING;
	ctl->rl = (struct slog_ratelimit)SLOG_RATELIMIT_INIT(10, 3);
	snprintf(ctl->path, sizeof(ctl->path), "%s", p->path);
	fd = open_socket(ctl, ctl->path, p->group);
	if (fd < 0) {
		free(ctl);
		return fd;
	}
	ctl->listener = evconnlistener_new(ctl->base, on_accept, ctl,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64, fd);
	if (!ctl->listener) {
		close(fd);
		unlink(ctl->path);
		free(ctl);
		return -ENOMEM;
	}
	slog(SLOG_INFO, "control socket %s (%s)", ctl->path,
	     p->group && p->group[0] ? "owner and group" : "owner only");
	*out = ctl;
	return 0;
}

void control_stop(struct control *ctl)
{
	struct stat sb;

	if (!ctl)
		return;
	while (ctl->conns)
		conn_free(ctl->conns);
	evconnlistener_free(ctl->listener);
	if (stat(ctl->path, &sb) == 0 && sb.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}
