/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI's changes over the configuration file (overlay.c) and the
 * running model's stable ids (model.c): every edit, its effect on the
 * running configuration, its JSON form; ids kept across syncs, reloads and
 * restarts, never handed to a newcomer early; a change that touches one VIP
 * reports only that VIP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "overlay.h"
#include "persist.h"
#include "statetext.h"
#include "snapshot.h"

static char msg[512];
static struct ju_err e = {msg, sizeof(msg)};

static void load(const char *text, struct conf *c)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);

	if (!root)
		fail_msg("test JSON: %s", jerr.text);
	if (conf_from_json(root, c, &e) < 0)
		fail_msg("test config refused: %s", msg);
	json_decref(root);
}

static const char base_text[] =
	"{\"vips\": ["
	"{\"address\": \"10.0.0.1\", \"port\": 80, \"forwarding\": \"l2dsr\", \"table_size\": 1009,"
	" \"backends\": [{\"address\": \"10.0.1.1\", \"mac\": \"02:00:00:00:00:01\"},"
	"              {\"address\": \"10.0.1.2\", \"mac\": \"02:00:00:00:00:02\"}]},"
	"{\"address\": \"10.0.0.2\", \"port\": 53, \"protocol\": \"udp\", \"forwarding\": \"l2dsr\","
	" \"table_size\": 1009,"
	" \"backends\": [{\"address\": \"10.0.2.1\", \"mac\": \"02:00:00:00:00:03\"}]}]}";

static struct sluice_vip_key key(const char *s)
{
	struct sluice_vip_key k;

	assert_int_equal(sluice_vip_key_parse(s, &k), 0);
	return k;
}

static struct sluice_addr addr(const char *s)
{
	struct sluice_addr a;

	assert_int_equal(sluice_addr_parse(s, &a), 0);
	return a;
}

/* eff = base + ov, validated. */
static void apply(const struct overlay *ov, const struct conf *base, struct conf *eff)
{
	assert_int_equal(overlay_apply(ov, base, eff), 0);
	if (conf_validate(eff, &e) < 0)
		fail_msg("result refused: %s", msg);
}

static const struct conf_backend *backend(const struct conf *c, const char *vip, const char *a)
{
	struct sluice_vip_key k = key(vip);
	struct sluice_addr x = addr(a);
	const struct conf_vip *v = conf_find_vip(c, &k);

	return v ? conf_find_backend(v, &x) : NULL;
}

static void test_backend_edits(void **state)
{
	struct sluice_vip_key a = key("10.0.0.1:80");
	struct sluice_addr x1 = addr("10.0.1.1"), x2 = addr("10.0.1.2"), x3 = addr("10.0.1.3");
	struct conf base, eff;
	struct overlay ov = {0};
	struct conf_backend nb = {.addr = x3, .weight = 5, .state = SLUICE_BACKEND_ACTIVE,
				  .has_mac = true, .mac = {2, 0, 0, 0, 0, 9}};
	(void)state;

	load(base_text, &base);
	apply(&ov, &base, &eff);
	assert_int_equal(eff.n_vips, 2);

	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_non_null(backend(&eff, "10.0.0.1:80", "10.0.1.3"));
	assert_int_equal(backend(&eff, "10.0.0.1:80", "10.0.1.3")->weight, 5);
	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), -EINVAL);
	assert_string_equal(msg, "backend 10.0.1.3 of VIP 10.0.0.1:80/tcp exists");

	/* A backend of the file is deleted by an entry; one the CLI added
	 * leaves no trace. */
	assert_int_equal(overlay_backend_del(&ov, &base, &eff, &a, &x1, &e), 0);
	assert_int_equal(overlay_backend_del(&ov, &base, &eff, &a, &x3, &e), 0);
	assert_int_equal(ov.n_backends, 1);
	assert_true(ov.backends[0].deleted);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_null(backend(&eff, "10.0.0.1:80", "10.0.1.1"));
	assert_null(backend(&eff, "10.0.0.1:80", "10.0.1.3"));
	assert_int_equal(overlay_backend_del(&ov, &base, &eff, &a, &x1, &e), -EINVAL);
	assert_string_equal(msg, "no backend 10.0.1.1 in VIP 10.0.0.1:80/tcp");

	/* Overrides; one equal to the file's value is no override. */
	assert_int_equal(overlay_backend_set(&ov, &base, &eff, &a, &x2, true, 7, false, 0, &e), 0);
	assert_int_equal(overlay_backend_set(&ov, &base, &eff, &a, &x2, false, 0, true,
					     SLUICE_BACKEND_DRAINING, &e),
			 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(backend(&eff, "10.0.0.1:80", "10.0.1.2")->weight, 7);
	assert_int_equal(backend(&eff, "10.0.0.1:80", "10.0.1.2")->state, SLUICE_BACKEND_DRAINING);
	assert_int_equal(ov.n_backends, 2);
	assert_int_equal(overlay_backend_set(&ov, &base, &eff, &a, &x2, true, 100, true,
					     SLUICE_BACKEND_ACTIVE, &e),
			 0);
	assert_int_equal(ov.n_backends, 1);

	/* Re-adding a deleted backend of the file: what the CLI says wins. */
	nb.addr = x1;
	nb.weight = 9;
	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(backend(&eff, "10.0.0.1:80", "10.0.1.1")->weight, 9);
	assert_false(ov.backends[0].added);
	overlay_free(&ov);
	conf_free(&eff);
	conf_free(&base);
}

static void test_vip_edits(void **state)
{
	struct sluice_vip_key b = key("10.0.0.2:53/udp"), c = key("[2001:db8::9]:443");
	struct conf base, eff;
	struct conf_vip spec;
	struct overlay ov = {0};
	json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:i}", "address", "10.0.0.2", "port", 53,
			      "protocol", "udp", "forwarding", "l2dsr", "table_size", 4099);
	struct conf_backend nb = {.addr = addr("2001:db8::1:1"), .weight = 1,
				  .state = SLUICE_BACKEND_ACTIVE, .has_mac = true};
	size_t before_v, before_b;
	(void)state;

	load(base_text, &base);
	apply(&ov, &base, &eff);
	assert_int_equal(overlay_vip_del(&ov, &base, &eff, &b, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(eff.n_vips, 1);
	assert_int_equal(overlay_vip_del(&ov, &base, &eff, &b, &e), -EINVAL);
	assert_string_equal(msg, "no VIP 10.0.0.2:53/udp");

	/* Back from the CLI with new settings and without the file's backends. */
	assert_int_equal(conf_vip_settings_from_json(j, "", &spec, &e), 0);
	assert_int_equal(overlay_vip_add(&ov, &base, &eff, &spec, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(conf_find_vip(&eff, &b)->table_size, 4099);
	assert_int_equal(conf_find_vip(&eff, &b)->n_backends, 0);
	assert_int_equal(overlay_vip_add(&ov, &base, &eff, &spec, &e), -EINVAL);
	assert_string_equal(msg, "VIP 10.0.0.2:53/udp exists");

	/* A VIP only the CLI knows, with a backend: deleting it leaves nothing. */
	spec.key = c;
	assert_int_equal(overlay_vip_add(&ov, &base, &eff, &spec, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &c, &nb, &e), 0);
	before_v = ov.n_vips;
	before_b = ov.n_backends;
	conf_free(&eff);
	apply(&ov, &base, &eff);
	assert_int_equal(conf_find_vip(&eff, &c)->n_backends, 1);
	assert_int_equal(overlay_vip_del(&ov, &base, &eff, &c, &e), 0);
	assert_int_equal(ov.n_vips, before_v - 1);
	assert_int_equal(ov.n_backends, before_b - 1);
	json_decref(j);
	overlay_free(&ov);
	conf_free(&eff);
	conf_free(&base);
}

/* The state file's form gives back the same running configuration, and
 * entries whose VIP left the file stay (not in force). */
static void test_json_round_trip(void **state)
{
	struct sluice_vip_key a = key("10.0.0.1:80"), b = key("10.0.0.2:53/udp");
	struct conf base, eff, eff2, small;
	struct overlay ov = {0}, ov2;
	struct conf_backend nb = {.addr = addr("10.0.1.7"), .weight = 3,
				  .state = SLUICE_BACKEND_ACTIVE, .has_mac = true,
				  .mac = {2, 0, 0, 0, 0, 7}};
	struct sluice_addr x2 = addr("10.0.1.2");
	json_t *j;
	(void)state;

	load(base_text, &base);
	apply(&ov, &base, &eff);
	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), 0);
	assert_int_equal(overlay_backend_set(&ov, &base, &eff, &a, &x2, false, 0, true,
					     SLUICE_BACKEND_DISABLED, &e),
			 0);
	assert_int_equal(overlay_vip_del(&ov, &base, &eff, &b, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	j = overlay_to_json(&ov);
	assert_int_equal(overlay_from_json(j, "overlay", &ov2, &e), 0);
	apply(&ov2, &base, &eff2);
	assert_int_equal(eff2.n_vips, eff.n_vips);
	assert_int_equal(backend(&eff2, "10.0.0.1:80", "10.0.1.7")->weight, 3);
	assert_int_equal(backend(&eff2, "10.0.0.1:80", "10.0.1.7")->mac[5], 7);
	assert_int_equal(backend(&eff2, "10.0.0.1:80", "10.0.1.2")->state, SLUICE_BACKEND_DISABLED);
	/* The file drops VIP 10.0.0.1: its entries wait, harmless. */
	load("{\"vips\": [{\"address\": \"10.0.0.2\", \"port\": 53, \"protocol\": \"udp\"}]}",
	     &small);
	conf_free(&eff2);
	apply(&ov2, &small, &eff2);
	assert_int_equal(eff2.n_vips, 0);
	json_decref(j);
	overlay_free(&ov);
	overlay_free(&ov2);
	conf_free(&eff);
	conf_free(&eff2);
	conf_free(&small);
	conf_free(&base);
}

/* statetext_render's document, checked equal to the JSON library's
 * rendering of the same (persist_render_all); the caller frees it. */
static json_t *state_text_as_json(const struct overlay *ov, const struct model *m,
				  json_t *ids, json_t *host)
{
	char *t_want = persist_render_all(ov, ids, host), *t_got = statetext_render(ov, m, host);
	json_t *want, *got;

	assert_non_null(t_want);
	assert_non_null(t_got);
	want = json_loads(t_want, 0, NULL);
	got = json_loads(t_got, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(want, got));
	json_decref(want);
	free(t_want);
	free(t_got);
	return got;
}

/* The state text sluiced writes straight from the overlay and the model
 * says what the JSON library's rendering of the same says: every kind of
 * entry, IPv6, many backends, ids. */
static void test_state_text(void **state)
{
	struct sluice_vip_key a = key("10.0.0.1:80"), b = key("10.0.0.2:53/udp");
	struct sluice_addr x2 = addr("10.0.1.2"), x1 = addr("10.0.1.1");
	struct conf base, eff;
	struct conf_vip spec;
	struct overlay ov = {0};
	struct model m;
	json_t *ids, *got, *host;
	(void)state;

	load(base_text, &base);
	apply(&ov, &base, &eff);
	for (unsigned int i = 0; i < 40; i++) {
		struct conf_backend nb = {.weight = 1 + i, .state = SLUICE_BACKEND_ACTIVE,
					  .has_mac = true, .mac = {2, 0, 0, 0, 1, (__u8)i}};
		char s[32];

		snprintf(s, sizeof(s), "10.0.3.%u", i + 1);
		nb.addr = addr(s);
		assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), 0);
	}
	assert_int_equal(overlay_backend_set(&ov, &base, &eff, &a, &x2, true, 7, true,
					     SLUICE_BACKEND_DRAINING, &e), 0);
	assert_int_equal(overlay_backend_del(&ov, &base, &eff, &a, &x1, &e), 0);
	spec = *conf_find_vip(&base, &b);
	spec.key = key("[2001:db8::1]:443");
	spec.backends = NULL;
	spec.n_backends = 0;
	assert_int_equal(overlay_vip_add(&ov, &base, &eff, &spec, &e), 0);
	assert_int_equal(overlay_vip_del(&ov, &base, &eff, &b, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	model_init(&m);
	assert_int_equal(model_sync(&m, &eff, NULL), 0);
	ids = model_ids_to_json(&m);
	got = state_text_as_json(&ov, &m, ids, NULL);
	/* The test covers what it says: 40 added, one changed, one deleted. */
	assert_int_equal(json_array_size(json_object_get(json_object_get(got, "overlay"),
							 "backends")), 42);
	json_decref(got);
	/* With the host's state (the drain) as well. */
	host = json_pack("{s:b, s:f}", "drained", 1, "drained_at", 1764806400.25); /* routing.c's */
	json_decref(state_text_as_json(&ov, &m, ids, host));
	json_decref(host);
	json_decref(ids);
	model_destroy(&m, NULL);
	overlay_free(&ov);
	conf_free(&eff);
	conf_free(&base);
}

static void test_json_refused(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{"{\"vips\": [{\"vip\": \"10.0.0.1:80\", \"op\": \"add\"}]}",
		 "overlay.vips[0]: missing key \"settings\""},
		{"{\"vips\": [{\"vip\": \"10.0.0.1:80\", \"op\": \"del\"}, {\"vip\": "
		 "\"10.0.0.1:80/tcp\", \"op\": \"del\"}]}",
		 "overlay.vips[1]: a second entry for the same VIP"},
		{"{\"backends\": [{\"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.1\", "
		 "\"weight\": 10001}]}",
		 "overlay.backends[0].weight: 10001 is out of range 0..10000"},
		{"{\"backends\": [{\"vip\": \"10.0.0.1:80\", \"address\": \"10.0.1.1\", "
		 "\"added\": true, \"deleted\": true}]}",
		 "overlay.backends[0]: both added and deleted"},
		{"{\"vips\": [], \"extra\": 1}", "overlay: unknown key \"extra\""},
		{"{\"backends\": [{\"vip\": \"10.0.0.1\", \"address\": \"10.0.1.1\"}]}",
		 "overlay.backends[0].vip: \"10.0.0.1\" is not a VIP"},
	};
	struct overlay ov;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].text, 0, NULL);

		assert_non_null(j);
		assert_int_equal(overlay_from_json(j, "overlay", &ov, &e), -EINVAL);
		if (!strstr(msg, cases[i].expect))
			fail_msg("got \"%s\", expected \"%s\"", msg, cases[i].expect);
		json_decref(j);
	}
}

/* ---- model ids ---- */

struct counts {
	int vip_changed[SLUICE_MAX_VIPS];
	int added, removed, check_changed;
};

static void c_vip(void *ctx, struct model_vip *v)
{
	((struct counts *)ctx)->vip_changed[v->id]++;
}
static void c_add(void *ctx, struct model_backend *b)
{
	(void)b;
	((struct counts *)ctx)->added++;
}
static void c_rm(void *ctx, struct model_backend *b)
{
	(void)b;
	((struct counts *)ctx)->removed++;
}
static void c_check(void *ctx, struct model_backend *b)
{
	(void)b;
	((struct counts *)ctx)->check_changed++;
}

static struct model_ops ops_for(struct counts *c)
{
	struct model_ops ops = {.ctx = c, .vip_changed = c_vip, .vip_removed = c_vip,
				.backend_added = c_add, .backend_removed = c_rm,
				.backend_check_changed = c_check};

	memset(c, 0, sizeof(*c));
	return ops;
}

static __u16 bid(const struct model *m, const char *vip, const char *a)
{
	struct sluice_vip_key k = key(vip);
	struct sluice_addr x = addr(a);
	const struct model_vip *v = model_find_vip(m, &k);
	const struct model_backend *b = v ? model_find_backend(v, &x) : NULL;

	if (!b)
		fail_msg("no backend %s in %s", a, vip);
	return b->id;
}

static void test_ids_and_changes(void **state)
{
	struct conf base, eff, swapped;
	struct counts cnt;
	struct model_ops ops = ops_for(&cnt);
	struct overlay ov = {0};
	struct model m, m2;
	struct sluice_vip_key a = key("10.0.0.1:80");
	struct sluice_addr x1 = addr("10.0.1.1");
	struct conf_backend nb = {.addr = addr("10.0.1.3"), .weight = 1,
				  .state = SLUICE_BACKEND_ACTIVE, .has_mac = true};
	json_t *ids;
	(void)state;

	load(base_text, &base);
	model_init(&m);
	assert_int_equal(model_sync(&m, &base, &ops), 0);
	assert_int_equal(m.n_vips, 2);
	assert_int_equal(m.n_backends, 3);
	assert_int_equal(cnt.added, 3);
	assert_int_equal(bid(&m, "10.0.0.1:80", "10.0.1.1"), 0);
	assert_int_equal(bid(&m, "10.0.0.2:53/udp", "10.0.2.1"), 2);

	/* Nothing changed: nothing reported. */
	ops = ops_for(&cnt);
	assert_int_equal(model_sync(&m, &base, &ops), 0);
	assert_int_equal(cnt.vip_changed[0] + cnt.vip_changed[1] + cnt.added + cnt.removed, 0);

	/* One backend replaced in VIP 0: only VIP 0 changes; the newcomer
	 * does not get the freed id 0. */
	apply(&ov, &base, &eff);
	assert_int_equal(overlay_backend_del(&ov, &base, &eff, &a, &x1, &e), 0);
	assert_int_equal(overlay_backend_add(&ov, &base, &eff, &a, &nb, &e), 0);
	conf_free(&eff);
	apply(&ov, &base, &eff);
	ops = ops_for(&cnt);
	assert_int_equal(model_sync(&m, &eff, &ops), 0);
	assert_int_equal(cnt.vip_changed[0], 1);
	assert_int_equal(cnt.vip_changed[1], 0);
	assert_int_equal(cnt.added, 1);
	assert_int_equal(cnt.removed, 1);
	assert_int_equal(bid(&m, "10.0.0.1:80", "10.0.1.3"), 3);
	assert_int_equal(bid(&m, "10.0.0.1:80", "10.0.1.2"), 1);

	/* A health-check change is not a table change. */
	eff.vips[1].backends[0].health.type = CONF_HEALTH_TCP;
	ops = ops_for(&cnt);
	assert_int_equal(model_sync(&m, &eff, &ops), 0);
	assert_int_equal(cnt.check_changed, 1);
	assert_int_equal(cnt.vip_changed[1], 0);

	/* A restart: ids from the state file, VIPs listed in another order. */
	ids = model_ids_to_json(&m);
	model_init(&m2);
	assert_int_equal(model_ids_load(&m2, ids, "ids", &e), 0);
	assert_int_equal(conf_copy(&swapped, &eff), 0);
	{
		struct conf_vip t = swapped.vips[0];

		swapped.vips[0] = swapped.vips[1];
		swapped.vips[1] = t;
	}
	assert_int_equal(model_sync(&m2, &swapped, NULL), 0);
	assert_int_equal(bid(&m2, "10.0.0.1:80", "10.0.1.3"), 3);
	assert_int_equal(bid(&m2, "10.0.0.1:80", "10.0.1.2"), 1);
	assert_int_equal(bid(&m2, "10.0.0.2:53/udp", "10.0.2.1"), 2);
	assert_int_equal(model_find_vip(&m2, &a)->id, 0);
	/* ... and the next newcomer continues after the last id given. */
	assert_int_equal(m2.next_backend_id, 4);
	json_decref(ids);
	model_destroy(&m2, NULL);
	model_destroy(&m, NULL);
	overlay_free(&ov);
	conf_free(&swapped);
	conf_free(&eff);
	conf_free(&base);
}

/* Without a state file, the ids the data plane uses come from the snapshot
 * in force; a wrong state file is refused. */
static void test_ids_from_snapshot(void **state)
{
	struct sluice_snapshot *snap = calloc(1, sizeof(*snap));
	struct sluice_backend bs[2];
	struct sluice_vip_spec spec;
	struct sluice_global_cfg g = {0};
	struct conf base;
	struct sluice_vip_key vk = key("10.0.0.1:80");
	struct model m;
	json_t *bad;
	(void)state;

	memset(bs, 0, sizeof(bs));
	bs[0].addr = addr("10.0.1.1");
	bs[0].id = 700;
	bs[1].addr = addr("10.0.1.2");
	bs[1].id = 9000;
	memset(&spec, 0, sizeof(spec));
	spec.vip.addr = addr("10.0.0.1");
	spec.vip.port = htons(80);
	spec.vip.proto = 6;
	spec.vip.mode = SLUICE_FWD_L2DSR;
	spec.vip.id = 42;
	spec.backends = bs;
	spec.n_backends = 2;
	assert_int_equal(sluice_snapshot_fill(snap, &g, &spec, 1, msg, sizeof(msg)), 0);

	load(base_text, &base);
	model_init(&m);
	model_ids_add_snapshot(&m, snap);
	assert_int_equal(model_sync(&m, &base, NULL), 0);
	assert_int_equal(model_find_vip(&m, &vk)->id, 42);
	assert_int_equal(bid(&m, "10.0.0.1:80", "10.0.1.1"), 700);
	assert_int_equal(bid(&m, "10.0.0.1:80", "10.0.1.2"), 9000);
	/* Identities the snapshot does not know get ids no hint promised. */
	assert_int_not_equal(bid(&m, "10.0.0.2:53/udp", "10.0.2.1"), 700);
	model_destroy(&m, NULL);

	bad = json_loads("{\"vips\": [{\"vip\": \"10.0.0.1:80\", \"id\": 1, \"backends\": ["
			 "{\"address\": \"10.0.1.1\", \"id\": 3}, {\"address\": \"10.0.1.2\", "
			 "\"id\": 3}]}]}",
			 0, NULL);
	model_init(&m);
	assert_int_equal(model_ids_load(&m, bad, "ids", &e), -EINVAL);
	assert_string_equal(msg, "ids.vips[0].backends[1]: backend id 3 given twice");
	json_decref(bad);
	model_destroy(&m, NULL);
	conf_free(&base);
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_edits),	cmocka_unit_test(test_vip_edits),
		cmocka_unit_test(test_json_round_trip), cmocka_unit_test(test_json_refused),
		cmocka_unit_test(test_ids_and_changes), cmocka_unit_test(test_ids_from_snapshot),
		cmocka_unit_test(test_state_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
