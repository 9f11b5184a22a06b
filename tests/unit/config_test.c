/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's configuration: every file of tests/data/config/bad/ is refused
 * with the message its .expect file names (file:line:column for syntax, the
 * JSON path for the rest), every file of good/ and the shipped example are
 * accepted, and defaults, health-check merging and capacity limits are as
 * docs/config.md says.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "sluice/shm.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void read_expect(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("%s: missing (every bad file needs the message it expects)", path);
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	if (!out[0])
		fail_msg("%s: empty", path);
}

static void test_bad_corpus(void **state)
{
	const char *dir = SLUICE_TEST_DATA "/config/bad";
	char path[1024], expect_path[1024], expect[512], err[1024];
	struct dirent *de;
	struct conf c;
	DIR *d = opendir(dir);
	int n = 0;
	(void)state;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(expect_path, sizeof(expect_path), "%s/%.*s.expect", dir,
			 (int)(strlen(de->d_name) - 5), de->d_name);
		read_expect(expect_path, expect, sizeof(expect));
		err[0] = '\0';
		if (conf_load(path, &c, err, sizeof(err)) == 0) {
			conf_free(&c);
			fail_msg("%s was accepted", path);
		}
		/* The message names the file first, then what is wrong. */
		if (strncmp(err, path, strlen(path)) != 0)
			fail_msg("%s: message does not start with the file: \"%s\"", path, err);
		if (!strstr(err, expect))
			fail_msg("%s:\n  got      \"%s\"\n  expected \"%s\"", path, err, expect);
		n++;
	}
	closedir(d);
	printf("# %d bad files refused with the expected message\n", n);
	assert_true(n >= 40);
}

static void test_good_corpus(void **state)
{
	const char *dir = SLUICE_TEST_DATA "/config/good";
	char path[1024], err[1024];
	struct dirent *de;
	struct conf c;
	DIR *d = opendir(dir);
	int n = 0;
	(void)state;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (conf_load(path, &c, err, sizeof(err)) < 0)
			fail_msg("%s refused: %s", path, err);
		conf_free(&c);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
	/* The example the documentation ships must stay valid. */
	if (conf_load(SLUICE_SOURCE_ROOT "/docs/examples/sluice.json", &c, err, sizeof(err)) < 0)
		fail_msg("docs/examples/sluice.json refused: %s", err);
	assert_int_equal(c.n_vips, 3);
	assert_int_equal(c.dp_mode, CONF_DP_DPDK_XDP);
	conf_free(&c);
}

static int parse(const char *text, struct conf *c, char *msg, size_t len)
{
	struct ju_err e = {msg, len};
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	int rc;

	if (!root)
		fail_msg("test JSON does not parse: %s", jerr.text);
	msg[0] = '\0';
	rc = conf_from_json(root, c, &e);
	json_decref(root);
	return rc;
}

static void test_defaults(void **state)
{
	struct conf c;
	char msg[256];
	(void)state;

	assert_int_equal(parse("{\"vips\": [{\"address\": \"10.0.0.1\", \"port\": 80, "
			       "\"forwarding\": \"l2dsr\", \"backends\": [{\"address\": "
			       "\"10.0.1.1\", \"mac\": \"02:00:00:00:00:01\"}]}]}",
			       &c, msg, sizeof(msg)),
			 0);
	assert_string_equal(c.instance, "sluice");
	assert_int_equal(c.dp_mode, CONF_DP_DPDK);
	assert_int_equal(c.heartbeat_timeout_ms, 1000);
	assert_string_equal(c.control_socket, "/run/sluice/sluice.sock");
	assert_true(c.metrics_enabled);
	assert_string_equal(c.metrics_listen, "127.0.0.1:9470");
	assert_int_equal(ntohs(c.global.gue_port), 6080);
	assert_int_equal(c.global.mtu, 1500);
	assert_int_equal(c.vips[0].key.proto, IPPROTO_TCP);
	assert_int_equal(c.vips[0].algo, SLUICE_ALGO_MAGLEV);
	assert_int_equal(c.vips[0].table_size, 65537);
	assert_int_equal(c.vips[0].hash_seed, 0);
	assert_int_equal(c.vips[0].health.type, CONF_HEALTH_NONE);
	assert_int_equal(c.vips[0].backends[0].weight, 100);
	assert_int_equal(c.vips[0].backends[0].state, SLUICE_BACKEND_ACTIVE);
	conf_free(&c);
}

/* dataplane.xdp_on_stop: mode xdp keeps the program attached by default,
 * the fallback detaches; either can be told otherwise. */
static void test_xdp_on_stop(void **state)
{
	static const struct {
		const char *dp;
		bool keep;
	} cases[] = {
		{"{\"mode\": \"xdp\", \"interface\": \"eth0\"}", true},
		{"{\"mode\": \"dpdk+xdp-fallback\", \"interface\": \"eth0\"}", false},
		{"{\"mode\": \"xdp\", \"interface\": \"eth0\", \"xdp_on_stop\": \"detach\"}",
		 false},
		{"{\"mode\": \"dpdk+xdp-fallback\", \"interface\": \"eth0\", "
		 "\"xdp_on_stop\": \"keep\"}",
		 true},
	};
	char json[512], msg[256];
	struct conf c;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json), "{\"dataplane\": %s}", cases[i].dp);
		assert_int_equal(parse(json, &c, msg, sizeof(msg)), 0);
		assert_int_equal(c.xdp_keep_on_stop, cases[i].keep);
		conf_free(&c);
	}
	assert_true(parse("{\"dataplane\": {\"mode\": \"xdp\", \"interface\": \"eth0\", "
			  "\"xdp_on_stop\": \"later\"}}",
			  &c, msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "dataplane.xdp_on_stop"));
}

static void test_health_merge(void **state)
{
	struct conf c;
	const struct conf_health *h0, *h1, *h2;
	char msg[256];
	(void)state;

	assert_int_equal(
		parse("{\"vips\": [{\"address\": \"10.0.0.1\", \"port\": 80, \"forwarding\": "
		      "\"l2dsr\", \"hash_seed\": \"0xffffffffffffffff\", \"health\": {\"type\": "
		      "\"http\", \"path\": \"/hz\", \"interval_ms\": 2000, \"fall\": 4}, "
		      "\"backends\": ["
		      "{\"address\": \"10.0.1.1\", \"mac\": \"02:00:00:00:00:01\"},"
		      "{\"address\": \"10.0.1.2\", \"mac\": \"02:00:00:00:00:02\", \"health\": "
		      "{\"port\": 8080, \"rise\": 5}},"
		      "{\"address\": \"10.0.1.3\", \"mac\": \"02:00:00:00:00:03\", \"health\": "
		      "{\"type\": \"none\"}}]}]}",
		      &c, msg, sizeof(msg)),
		0);
	assert_int_equal(c.vips[0].hash_seed, UINT64_MAX);
	h0 = &c.vips[0].backends[0].health;
	h1 = &c.vips[0].backends[1].health;
	h2 = &c.vips[0].backends[2].health;
	/* Defaults where neither says (timeout 500 ms, rise 2, status 200). */
	assert_int_equal(h0->type, CONF_HEALTH_HTTP);
	assert_string_equal(h0->path, "/hz");
	assert_int_equal(h0->interval_ms, 2000);
	assert_int_equal(h0->timeout_ms, 500);
	assert_int_equal(h0->rise, 2);
	assert_int_equal(h0->fall, 4);
	assert_int_equal(h0->expect_status, 200);
	assert_int_equal(h0->port, 0);
	/* A backend's own health object overrides only what it names. */
	assert_int_equal(h1->type, CONF_HEALTH_HTTP);
	assert_string_equal(h1->path, "/hz");
	assert_int_equal(h1->port, 8080);
	assert_int_equal(h1->rise, 5);
	assert_int_equal(h1->fall, 4);
	assert_int_equal(h2->type, CONF_HEALTH_NONE);
	conf_free(&c);
}

/* hash_seed as a string: decimal (a leading 0 is not octal) or 0x hex. */
static void test_seed_forms(void **state)
{
	static const struct {
		const char *text;
		__u64 seed;
	} cases[] = {{"010", 10}, {"08", 8}, {"0x10", 16}, {"0X10", 16}};
	char text[256], msg[256];
	struct conf c;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"vips\": [{\"address\": \"10.0.0.1\", \"port\": 80, "
			 "\"forwarding\": \"l2dsr\", \"hash_seed\": \"%s\"}]}",
			 cases[i].text);
		if (parse(text, &c, msg, sizeof(msg)) < 0)
			fail_msg("hash_seed \"%s\": %s", cases[i].text, msg);
		assert_int_equal(c.vips[0].hash_seed, cases[i].seed);
		conf_free(&c);
	}
}

/* Limits no small file reaches: many VIPs, the table pool. */
static void test_capacities(void **state)
{
	json_t *root = json_object(), *vips = json_array();
	struct ju_err e;
	struct conf c;
	char msg[256];
	(void)state;

	e.buf = msg;
	e.len = sizeof(msg);
	for (int i = 0; i < SLUICE_MAX_VIPS + 1; i++)
		json_array_append_new(vips, json_pack("{s:s, s:i}", "address", "10.0.0.1", "port",
						      i + 1));
	json_object_set_new(root, "vips", vips);
	assert_int_equal(conf_from_json(root, &c, &e), -EINVAL);
	assert_string_equal(msg, "vips: 257 VIPs: at most 256");
	json_decref(root);

	/* 2^24 - 3 is prime: two such tables overflow the 16 Mi-slot pool. */
	root = json_pack("{s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}", "vips", "address", "10.0.0.1",
			 "port", 1, "table_size", 16777213, "address", "10.0.0.1", "port", 2,
			 "table_size", 16777213);
	assert_int_equal(conf_from_json(root, &c, &e), -EINVAL);
	assert_string_equal(msg, "vips: the table sizes add up to 33554426 slots: the snapshot "
				 "holds 16777216");
	json_decref(root);
}

/* `vip add` and the state file carry settings through JSON: nothing lost. */
static void test_settings_round_trip(void **state)
{
	struct conf_vip a, b;
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:s, s:i, s:{s:s, s:s, s:i, s:i}}",
			      "address", "2001:db8::5", "port", 53, "protocol", "udp",
			      "forwarding", "gue", "algorithm", "ring", "table_size", 1009,
			      "hash_seed", "12345678901234567890", "ring_k", 7, "health", "type",
			      "http", "path", "/x", "port", 8080, "expect_status", 204);
	json_t *back;
	(void)state;

	assert_int_equal(conf_vip_settings_from_json(j, "v", &a, &e), 0);
	back = conf_vip_settings_to_json(&a);
	assert_int_equal(conf_vip_settings_from_json(back, "v", &b, &e), 0);
	assert_true(sluice_vip_key_equal(&a.key, &b.key));
	assert_int_equal(b.mode, SLUICE_FWD_GUE);
	assert_int_equal(b.algo, SLUICE_ALGO_RING);
	assert_int_equal(b.table_size, 1009);
	assert_int_equal(b.hash_seed, 12345678901234567890ull);
	assert_int_equal(b.ring_k, 7);
	assert_true(conf_health_equal(&a.health, &b.health));
	assert_int_equal(b.health.expect_status, 204);
	json_decref(j);
	json_decref(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_corpus),	 cmocka_unit_test(test_good_corpus),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_xdp_on_stop),	 cmocka_unit_test(test_health_merge),
		cmocka_unit_test(test_seed_forms),	 cmocka_unit_test(test_capacities),
		cmocka_unit_test(test_settings_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
