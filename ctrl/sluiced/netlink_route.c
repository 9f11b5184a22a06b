/* SPDX-License-Identifier: BSD-3-Clause */
/* Host routes through rtnetlink. See netlink_route.h. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "errmsg.h"
#include "netlink_route.h"

/* The kernel answers a route change or a dump of a small table in
 * microseconds; a second without an answer means something is wrong, and
 * the event loop (health checks, the control socket) must not wait longer. */
#define NLROUTE_TIMEOUT_S 1

struct nlroute {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
};

static int sock_open(struct nlroute *nl, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = NLROUTE_TIMEOUT_S, .tv_usec = 0};
	int one = 1, rc;

	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return sluice_errf(err, errlen, -errno, "netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return sluice_errf(err, errlen, rc, "netlink bind: %s", strerror(-rc));
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Older kernels lack strict checking: the dump is then filtered here
	 * alone, which it is anyway. */
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return 0;
}

int nlroute_open(struct nlroute **out, char *err, size_t errlen)
{
	struct nlroute *nl = calloc(1, sizeof(*nl));
	int rc;

	*out = NULL;
	if (!nl)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	rc = sock_open(nl, err, errlen);
	if (rc < 0) {
		free(nl);
		return rc;
	}
	nl->seq = (unsigned int)time(NULL);
	*out = nl;
	return 0;
}

void nlroute_close(struct nlroute *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/* The end of a dump carries the dump's result, which libmnl's own
 * handler ignores: a dump that failed half-way would read as complete.
 * ENOENT: the table does not exist yet, which is an empty one. */
static int done_cb(const struct nlmsghdr *h, void *data)
{
	int e;

	(void)data;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
		return MNL_CB_STOP;
	memcpy(&e, mnl_nlmsg_get_payload(h), sizeof(e));
	if (e >= 0 || e == -ENOENT)
		return MNL_CB_STOP;
	errno = -e;
	return MNL_CB_ERROR;
}

/* With a control array libmnl calls nothing of its own for the types
 * the array covers: the ack's handler is needed too. As mnl_cb_error. */
static int error_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

	(void)data;
	if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	errno = e->error < 0 ? -e->error : e->error;
	return e->error == 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

static int noop_cb(const struct nlmsghdr *h, void *data)
{
	(void)h, (void)data;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_DONE + 1] = {
	[NLMSG_NOOP] = noop_cb, [NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb};

/* Send req and read until its acknowledgement or the dump's end. An
 * answer that does not come in time leaves the socket with a late answer
 * queued that the next request would read as its own: start afresh. */
static int transact(struct nlroute *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data,
		    const char *what, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = ++nl->seq;
	ssize_t n;
	int rc;

	if (!nl->sock && (rc = sock_open(nl, err, errlen)) < 0)
		return rc;
	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		rc = -errno;
		goto fail;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			goto fail;
		}
		errno = 0;
		rc = mnl_cb_run2(buf, (size_t)n, seq, nl->portid, cb, data, ctl_cbs,
				 sizeof(ctl_cbs) / sizeof(ctl_cbs[0]));
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc == MNL_CB_ERROR) {
			/* The kernel's refusal in an ack, or a message that is
			 * not the answer (another seq, an interrupted dump): the
			 * rest of the answer may still be queued either way, so
			 * the socket goes too. */
			rc = errno ? -errno : -EIO;
			goto fail;
		}
	}
fail:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return sluice_errf(err, errlen, rc, "%s: %s", what,
			   rc == -ETIMEDOUT ? "the kernel did not answer within 1 s"
					    : strerror(-rc));
}

struct dump_ctx {
	__u32 table;
	__u8 proto;
	void (*fn)(void *arg, const struct nlroute_entry *e);
	void *arg;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK; /* newer than these headers: not ours to read */
	tb[type] = a;
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = {NULL};
	const struct dump_ctx *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	struct nlroute_entry e;
	size_t alen;
	__u32 table;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return MNL_CB_OK;
	if (rtm->rtm_protocol != c->proto ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	if (mnl_attr_parse(h, sizeof(*rtm), attr_cb, tb) < 0)
		return MNL_CB_OK;
	table = rtm->rtm_table;
	if (tb[RTA_TABLE] && mnl_attr_get_payload_len(tb[RTA_TABLE]) >= 4)
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table != c->table)
		return MNL_CB_OK;
	memset(&e, 0, sizeof(e));
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	e.dst.family = rtm->rtm_family == AF_INET ? SLUICE_FAMILY_V4 : SLUICE_FAMILY_V6;
	e.prefixlen = rtm->rtm_dst_len;
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
			return MNL_CB_OK;
		memcpy(e.dst.bytes, mnl_attr_get_payload(tb[RTA_DST]), alen);
	}
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) >= 4)
		e.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	c->fn(c->arg, &e);
	return MNL_CB_OK;
}

/* The header of a request about table; the table number goes in the
 * attribute too, since rtm_table holds only 8 bits. */
static struct rtmsg *route_msg(char *buf, __u16 type, __u16 flags, int family, __u32 table,
			       __u8 proto, struct nlmsghdr **h)
{
	struct rtmsg *rtm;

	*h = mnl_nlmsg_put_header(buf);
	(*h)->nlmsg_type = type;
	(*h)->nlmsg_flags = NLM_F_REQUEST | flags;
	rtm = mnl_nlmsg_put_extra_header(*h, sizeof(*rtm));
	rtm->rtm_family = (__u8)family;
	rtm->rtm_table = table < 256 ? (__u8)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = proto;
	mnl_attr_put_u32(*h, RTA_TABLE, table);
	return rtm;
}

int nlroute_dump(struct nlroute *nl, __u32 table, __u8 proto,
		 void (*fn)(void *arg, const struct nlroute_entry *e), void *arg, char *err,
		 size_t errlen)
{
	static const int families[] = {AF_INET, AF_INET6};
	struct dump_ctx c = {.table = table, .proto = proto, .fn = fn, .arg = arg};
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct nlmsghdr *h;
		int rc;

		/* Strict checking filters on the table; the protocol is a
		 * filter the kernel does not offer, so both are checked in
		 * dump_cb. rtm_protocol must be 0 in a strict dump request. */
		route_msg(buf, RTM_GETROUTE, NLM_F_DUMP, families[i], table, 0, &h);
		rc = transact(nl, h, dump_cb, &c,
			      families[i] == AF_INET ? "listing IPv4 routes" : "listing IPv6 routes",
			      err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A route change's message with its destination, and its description
 * for errors ("adding the route to 10.0.0.10/32 in table 100"). */
static struct rtmsg *change_msg(char *buf, __u16 type, __u16 flags, __u32 table, __u8 proto,
				const struct sluice_addr *dst, __u8 prefixlen, char *what,
				size_t wlen, struct nlmsghdr **h)
{
	bool v4 = dst->family == SLUICE_FAMILY_V4;
	char a[SLUICE_ADDR_STRLEN];
	struct rtmsg *rtm;

	rtm = route_msg(buf, type, NLM_F_ACK | flags, v4 ? AF_INET : AF_INET6, table, proto, h);
	rtm->rtm_dst_len = prefixlen;
	if (prefixlen)
		mnl_attr_put(*h, RTA_DST, v4 ? 4 : 16, dst->bytes);
	sluice_addr_format(dst, a, sizeof(a));
	snprintf(what, wlen, "%s the route to %s/%u in table %u",
		 type == RTM_NEWROUTE ? "adding" : "deleting", a, prefixlen, table);
	return rtm;
}

int nlroute_add_host(struct nlroute *nl, __u32 table, __u8 proto, const struct sluice_addr *dst,
		     int oif, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[SLUICE_ADDR_STRLEN + 64];
	bool v4 = dst->family == SLUICE_FAMILY_V4;
	struct nlmsghdr *h;
	struct rtmsg *rtm;

	rtm = change_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, table, proto, dst,
			 v4 ? 32 : 128, what, sizeof(what), &h);
	/* What `ip route add ADDR dev lo` makes: a unicast route on the link,
	 * no gateway (IPv6 routes have universe scope). */
	rtm->rtm_scope = v4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_OIF, (__u32)oif);
	return transact(nl, h, NULL, NULL, what, err, errlen);
}

int nlroute_del(struct nlroute *nl, __u32 table, __u8 proto, const struct sluice_addr *dst,
		__u8 prefixlen, int oif, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[SLUICE_ADDR_STRLEN + 64];
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	int rc;

	rtm = change_msg(buf, RTM_DELROUTE, 0, table, proto, dst, prefixlen, what, sizeof(what),
			 &h);
	/* Any scope and type: the protocol, table and prefix name it. */
	rtm->rtm_scope = RT_SCOPE_NOWHERE;
	if (oif)
		mnl_attr_put_u32(h, RTA_OIF, (__u32)oif);
	rc = transact(nl, h, NULL, NULL, what, err, errlen);
	return rc == -ESRCH || rc == -ENOENT ? 0 : rc;
}
