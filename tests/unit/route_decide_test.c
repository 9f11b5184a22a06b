/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The announcement decision (route_decide.h), case by case: what outweighs
 * what (drain, a dead data path, health), min_up, several VIPs on one
 * address, and what is not known yet keeping the route as it is, present
 * or absent. Then the state file's "host" member as routing.c checks it,
 * and a drain not safe to stop before the table has been read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <event2/event.h>

#include "daemon.h"
#include "route_decide.h"
#include "routing.h"

static struct route_verdict decide(bool drained, enum route_dp dp, unsigned int min_up,
				   bool announced, const struct route_vip_health *v, size_t n)
{
	struct route_input in = {.drained = drained, .dp = dp, .min_up = min_up,
				 .announced = announced, .vips = v, .n_vips = n};

	return route_decide(&in);
}

#define ASSERT_VERDICT(v, ann, why)                                                        \
	do {                                                                               \
		struct route_verdict v_ = (v);                                             \
		assert_int_equal(v_.announce, (ann));                                      \
		assert_string_equal(route_reason_name(v_.reason), route_reason_name(why)); \
	} while (0)

static void test_served(void **state)
{
	struct route_vip_health one = {.up = 1};
	(void)state;

	for (int was = 0; was < 2; was++)
		ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 1, was, &one, 1), true, ROUTE_SERVED);
}

/* The operator's drain wins over everything, then a dead data path. */
static void test_order(void **state)
{
	struct route_vip_health none = {0}, many = {.up = 10};
	(void)state;

	for (int was = 0; was < 2; was++) {
		ASSERT_VERDICT(decide(true, ROUTE_DP_UP, 1, was, &many, 1), false, ROUTE_DRAINED);
		ASSERT_VERDICT(decide(true, ROUTE_DP_DOWN, 1, was, &none, 1), false,
			       ROUTE_DRAINED);
		ASSERT_VERDICT(decide(true, ROUTE_DP_UNKNOWN, 1, was, &many, 1), false,
			       ROUTE_DRAINED);
		ASSERT_VERDICT(decide(false, ROUTE_DP_DOWN, 1, was, &many, 1), false,
			       ROUTE_DATAPLANE_DOWN);
		ASSERT_VERDICT(decide(false, ROUTE_DP_DOWN, 1, was, &none, 1), false,
			       ROUTE_DATAPLANE_DOWN);
		ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 1, was, &none, 1), false,
			       ROUTE_TOO_FEW_UP);
	}
}

static void test_min_up(void **state)
{
	struct route_vip_health h = {.up = 2};
	(void)state;

	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, false, &h, 1), true, ROUTE_SERVED);
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 3, true, &h, 1), false, ROUTE_TOO_FEW_UP);
	h.up = 3;
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 3, false, &h, 1), true, ROUTE_SERVED);
}

/* An address is served while any of its VIPs is; one failing VIP does not
 * take the others' route away. */
static void test_several_vips(void **state)
{
	struct route_vip_health v[3] = {{.up = 0}, {.up = 1}, {.up = 4}};
	(void)state;

	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, false, v, 3), true, ROUTE_SERVED);
	v[2].up = 1;
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, true, v, 3), false, ROUTE_TOO_FEW_UP);
	/* No VIP on it at all (cannot happen for a configured address, but
	 * must not announce). */
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 1, true, v, 0), false, ROUTE_TOO_FEW_UP);
}

/* Backends whose first check is still out: a route there stays, an
 * absent one is not added, until they are known; a VIP that cannot reach
 * min_up even if they all come up is withdrawn at once. */
static void test_unknown_health(void **state)
{
	struct route_vip_health h = {.up = 1, .unknown = 2};
	(void)state;

	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, true, &h, 1), true, ROUTE_PENDING);
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, false, &h, 1), false, ROUTE_PENDING);
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 4, true, &h, 1), false, ROUTE_TOO_FEW_UP);
	/* Enough known up already: the unknown ones do not matter. */
	ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 1, false, &h, 1), true, ROUTE_SERVED);
	/* Another VIP of the address servable: served. */
	{
		struct route_vip_health v[2] = {{.up = 0, .unknown = 3}, {.up = 2}};

		ASSERT_VERDICT(decide(false, ROUTE_DP_UP, 2, false, v, 2), true, ROUTE_SERVED);
	}
}

/* The data plane's heartbeat not seen yet (a start's first seconds):
 * nothing moves, however healthy the backends. */
static void test_unknown_dataplane(void **state)
{
	struct route_vip_health h = {.up = 5}, none = {0};
	(void)state;

	ASSERT_VERDICT(decide(false, ROUTE_DP_UNKNOWN, 1, true, &h, 1), true, ROUTE_PENDING);
	ASSERT_VERDICT(decide(false, ROUTE_DP_UNKNOWN, 1, false, &h, 1), false, ROUTE_PENDING);
	/* Health is known bad: that alone withdraws. */
	ASSERT_VERDICT(decide(false, ROUTE_DP_UNKNOWN, 1, true, &none, 1), false,
		       ROUTE_TOO_FEW_UP);
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(route_reason_name(ROUTE_SERVED), "served");
	assert_string_equal(route_reason_name(ROUTE_DRAINED), "drained");
	assert_string_equal(route_reason_name(ROUTE_DATAPLANE_DOWN), "dataplane_down");
	assert_string_equal(route_reason_name(ROUTE_TOO_FEW_UP), "too_few_up");
	assert_string_equal(route_reason_name(ROUTE_PENDING), "pending");
}

/* The state file's "host": what a restart reads the drain from. */
static void test_check_host(void **state)
{
	static const char *const good[] = {
		"{\"drained\": true, \"drained_at\": 1764800000.5}",
		"{\"drained\": false}",
		"{}",
	};
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{"[]", "host: expected an object"},
		{"{\"drained\": 1}", "host.drained"},
		{"{\"drained\": true, \"drained_at\": \"yesterday\"}", "host.drained_at"},
		{"{\"drained\": true, \"drained_at\": -5}", "host.drained_at"},
		{"{\"drained\": true, \"by\": \"me\"}", "unknown key \"by\""},
	};
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	(void)state;

	assert_int_equal(routing_check_host(NULL, &e), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *j = json_loads(good[i], 0, NULL);

		assert_non_null(j);
		assert_int_equal(routing_check_host(j, &e), 0);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);

		msg[0] = '\0';
		assert_non_null(j);
		assert_true(routing_check_host(j, &e) < 0);
		if (!strstr(msg, bad[i].msg))
			fail_msg("%s: got \"%s\", expected \"%s\"", bad[i].json, msg, bad[i].msg);
		json_decref(j);
	}
}

/* A drain whose grace is long over is not safe to stop while the table
 * has not been read: a route of ours may still be in it. */
static void test_safe_to_stop_needs_table(void **state)
{
	static struct sluiced d;
	json_t *host = json_pack("{s:b, s:f}", "drained", 1, "drained_at", 1.0), *st, *h;
	struct routing *r;

	(void)state;
	d.base = event_base_new();
	assert_non_null(d.base);
	d.eff.routing.enabled = true;
	d.eff.routing.table = 4242;
	d.eff.routing.drain_grace_s = 1;
	r = routing_create(&d, host);
	assert_non_null(r);
	st = routing_status_json(r);
	h = json_object_get(st, "host");
	assert_true(json_is_true(json_object_get(h, "drained")));
	assert_true(json_number_value(json_object_get(h, "safe_to_stop_in_s")) == 0);
	assert_true(json_is_false(json_object_get(h, "safe_to_stop")));
	json_decref(st);
	routing_destroy(r);
	json_decref(host);
	event_base_free(d.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),		 cmocka_unit_test(test_order),
		cmocka_unit_test(test_min_up),		 cmocka_unit_test(test_several_vips),
		cmocka_unit_test(test_unknown_health),	 cmocka_unit_test(test_unknown_dataplane),
		cmocka_unit_test(test_reason_names),	 cmocka_unit_test(test_check_host),
		cmocka_unit_test(test_safe_to_stop_needs_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
