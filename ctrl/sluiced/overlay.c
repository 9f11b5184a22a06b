/* SPDX-License-Identifier: BSD-3-Clause */
/* CLI changes over the configuration file. See overlay.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyidx.h"
#include "overlay.h"

void overlay_free(struct overlay *ov)
{
	if (!ov)
		return;
	free(ov->vips);
	free(ov->backends);
	memset(ov, 0, sizeof(*ov));
}

int overlay_copy(struct overlay *dst, const struct overlay *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->vips = malloc((src->n_vips ? src->n_vips : 1) * sizeof(*dst->vips));
	dst->backends = malloc((src->n_backends ? src->n_backends : 1) * sizeof(*dst->backends));
	if (!dst->vips || !dst->backends) {
		overlay_free(dst);
		return -ENOMEM;
	}
	if (src->n_vips)
		memcpy(dst->vips, src->vips, src->n_vips * sizeof(*dst->vips));
	if (src->n_backends)
		memcpy(dst->backends, src->backends, src->n_backends * sizeof(*dst->backends));
	dst->n_vips = src->n_vips;
	dst->n_backends = src->n_backends;
	return 0;
}

bool overlay_is_empty(const struct overlay *ov)
{
	return ov->n_vips == 0 && ov->n_backends == 0;
}

static struct ov_vip *find_ov_vip(const struct overlay *ov, const struct sluice_vip_key *k)
{
	for (size_t i = 0; i < ov->n_vips; i++)
		if (sluice_vip_key_equal(&ov->vips[i].key, k))
			return &ov->vips[i];
	return NULL;
}

static struct ov_backend *find_ov_backend(const struct overlay *ov,
					  const struct sluice_vip_key *vip,
					  const struct sluice_addr *addr)
{
	for (size_t i = 0; i < ov->n_backends; i++)
		if (sluice_vip_key_equal(&ov->backends[i].vip, vip) &&
		    sluice_addr_equal(&ov->backends[i].addr, addr))
			return &ov->backends[i];
	return NULL;
}

/* Entries are small and few (operators type them): arrays grown by one. */
static struct ov_vip *push_vip(struct overlay *ov)
{
	struct ov_vip *n = realloc(ov->vips, (ov->n_vips + 1) * sizeof(*n));

	if (!n)
		return NULL;
	ov->vips = n;
	memset(&n[ov->n_vips], 0, sizeof(*n));
	return &n[ov->n_vips++];
}

static struct ov_backend *push_backend(struct overlay *ov)
{
	struct ov_backend *n = realloc(ov->backends, (ov->n_backends + 1) * sizeof(*n));

	if (!n)
		return NULL;
	ov->backends = n;
	memset(&n[ov->n_backends], 0, sizeof(*n));
	return &n[ov->n_backends++];
}

static void drop_vip(struct overlay *ov, struct ov_vip *v)
{
	size_t i = (size_t)(v - ov->vips);

	memmove(v, v + 1, (ov->n_vips - i - 1) * sizeof(*v));
	ov->n_vips--;
}

static void drop_backend(struct overlay *ov, struct ov_backend *b)
{
	size_t i = (size_t)(b - ov->backends);

	memmove(b, b + 1, (ov->n_backends - i - 1) * sizeof(*b));
	ov->n_backends--;
}

static void remove_conf_vip(struct conf *c, struct conf_vip *v)
{
	size_t i = (size_t)(v - c->vips);

	free(v->backends);
	memmove(v, v + 1, (c->n_vips - i - 1) * sizeof(*v));
	c->n_vips--;
}

/* A backend the overlay deleted, until the VIP's array is compacted. */
#define OV_GONE 0xff

/* Index out's VIPs (value: position) and backends (value: position in
 * their VIP), and make room in each VIP for the backends the overlay adds
 * to it, so that applying n entries costs O(n + backends), not their
 * product. */
static int index_conf(const struct overlay *ov, struct conf *out, struct keyidx *ix)
{
	size_t n = out->n_vips, *adds = NULL;
	__u32 vi;
	int rc = -ENOMEM;

	for (size_t i = 0; i < out->n_vips; i++)
		n += out->vips[i].n_backends;
	adds = calloc(out->n_vips ? out->n_vips : 1, sizeof(*adds));
	if (!adds || keyidx_init(ix, n) < 0)
		goto out;
	for (size_t i = 0; i < out->n_vips; i++) {
		const struct conf_vip *v = &out->vips[i];

		keyidx_put(ix, &v->key, NULL, (__u32)i);
		for (size_t j = 0; j < v->n_backends; j++)
			keyidx_put(ix, &v->key, &v->backends[j].addr, (__u32)j);
	}
	for (size_t i = 0; i < ov->n_backends; i++)
		if (ov->backends[i].added && keyidx_get(ix, &ov->backends[i].vip, NULL, &vi))
			adds[vi]++;
	for (size_t i = 0; i < out->n_vips; i++) {
		struct conf_vip *v = &out->vips[i];
		struct conf_backend *b;

		if (!adds[i])
			continue;
		b = realloc(v->backends, (v->n_backends + adds[i]) * sizeof(*b));
		if (!b)
			goto out;
		v->backends = b;
	}
	rc = 0;
out:
	free(adds);
	return rc;
}

/* Drop the backends marked OV_GONE, keeping the order of the rest. */
static void compact_backends(struct conf_vip *v)
{
	size_t k = 0;

	/* Nothing moves before the first deleted one (a backend is ~560
	 * bytes: copying them all onto themselves showed in profiles). */
	while (k < v->n_backends && v->backends[k].state != OV_GONE)
		k++;
	for (size_t j = k; j < v->n_backends; j++)
		if (v->backends[j].state != OV_GONE)
			v->backends[k++] = v->backends[j];
	v->n_backends = k;
}

int overlay_apply(const struct overlay *ov, const struct conf *base, struct conf *out)
{
	struct keyidx ix = {0};
	int rc = conf_copy(out, base);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ov->n_vips; i++) {
		const struct ov_vip *o = &ov->vips[i];
		struct conf_vip *v = conf_find_vip(out, &o->key);
		struct conf_vip *n;

		if (o->op == OV_VIP_DEL) {
			if (v)
				remove_conf_vip(out, v);
			continue;
		}
		if (v) { /* settings replaced; the file's backends stay */
			struct conf_backend *keep = v->backends;
			size_t nkeep = v->n_backends;

			*v = o->spec;
			v->backends = keep;
			v->n_backends = nkeep;
			continue;
		}
		n = realloc(out->vips, (out->n_vips + 1) * sizeof(*n));
		if (!n)
			goto nomem;
		out->vips = n;
		n[out->n_vips] = o->spec;
		n[out->n_vips].backends = NULL;
		n[out->n_vips].n_backends = 0;
		out->n_vips++;
	}
	if (index_conf(ov, out, &ix) < 0)
		goto nomem;
	for (size_t i = 0; i < ov->n_backends; i++) {
		const struct ov_backend *o = &ov->backends[i];
		struct conf_backend *b = NULL;
		struct conf_vip *v;
		__u32 vi, bi;

		if (!keyidx_get(&ix, &o->vip, NULL, &vi))
			continue; /* its VIP is gone: kept, not in force */
		v = &out->vips[vi];
		if (keyidx_get(&ix, &o->vip, &o->addr, &bi))
			b = &v->backends[bi];
		if (o->deleted) {
			if (b)
				b->state = OV_GONE;
			continue;
		}
		if (!b) {
			if (!o->added)
				continue;
			/* Room was made by index_conf(). */
			b = &v->backends[v->n_backends++];
			memset(b, 0, sizeof(*b));
			b->addr = o->addr;
			b->weight = CONF_DEFAULT_WEIGHT;
			b->state = SLUICE_BACKEND_ACTIVE;
			b->health = v->health;
		}
		if (o->has_weight)
			b->weight = o->weight;
		if (o->has_state)
			b->state = o->state;
		if (o->has_mac) {
			b->has_mac = true;
			memcpy(b->mac, o->mac, 6);
		}
	}
	for (size_t i = 0; i < out->n_vips; i++)
		compact_backends(&out->vips[i]);
	keyidx_free(&ix);
	return 0;
nomem:
	keyidx_free(&ix);
	conf_free(out);
	return -ENOMEM;
}

static int fail_vip(struct ju_err *e, const char *fmt, const struct sluice_vip_key *k)
{
	char s[SLUICE_VIP_STRLEN];

	sluice_vip_key_format(k, s, sizeof(s));
	return ju_fail(e, NULL, fmt, s);
}

int overlay_vip_add(struct overlay *ov, const struct conf *base, const struct conf *eff,
		    const struct conf_vip *spec, struct ju_err *e)
{
	const struct conf_vip *bv = conf_find_vip(base, &spec->key);
	struct ov_vip *o;
	size_t old_nb = ov->n_backends;

	if (conf_find_vip(eff, &spec->key))
		return fail_vip(e, "VIP %s exists", &spec->key);
	/* Re-adding a VIP of the file that the CLI deleted: it comes back as
	 * specified, without the file's backends. */
	for (size_t i = 0; bv && i < bv->n_backends; i++) {
		struct ov_backend *b = push_backend(ov);

		if (!b) {
			ov->n_backends = old_nb;
			return ju_fail(e, NULL, "out of memory");
		}
		b->vip = spec->key;
		b->addr = bv->backends[i].addr;
		b->deleted = true;
	}
	o = find_ov_vip(ov, &spec->key);
	if (!o)
		o = push_vip(ov);
	if (!o) {
		ov->n_backends = old_nb;
		return ju_fail(e, NULL, "out of memory");
	}
	o->key = spec->key;
	o->op = OV_VIP_ADD;
	o->spec = *spec;
	o->spec.backends = NULL;
	o->spec.n_backends = 0;
	return 0;
}

int overlay_vip_del(struct overlay *ov, const struct conf *base, const struct conf *eff,
		    const struct sluice_vip_key *key, struct ju_err *e)
{
	struct ov_vip *o = find_ov_vip(ov, key);

	if (!conf_find_vip(eff, key))
		return fail_vip(e, "no VIP %s", key);
	if (conf_find_vip(base, key)) {
		if (!o && !(o = push_vip(ov)))
			return ju_fail(e, NULL, "out of memory");
		o->key = *key;
		o->op = OV_VIP_DEL;
		memset(&o->spec, 0, sizeof(o->spec));
	} else if (o) {
		drop_vip(ov, o);
	}
	/* Its backends' entries would otherwise come back with a new VIP. */
	for (size_t i = ov->n_backends; i-- > 0;)
		if (sluice_vip_key_equal(&ov->backends[i].vip, key))
			drop_backend(ov, &ov->backends[i]);
	return 0;
}

/* Is addr a backend of the VIP in the file, with the VIP's file backends
 * in force (not replaced by a CLI re-add)? */
static bool base_has_backend(const struct conf *base, const struct sluice_vip_key *vip,
			     const struct sluice_addr *addr)
{
	const struct conf_vip *bv = conf_find_vip(base, vip);

	return bv && conf_find_backend(bv, addr);
}

static const struct conf_vip *eff_vip(const struct conf *eff, const struct sluice_vip_key *k,
				      struct ju_err *e)
{
	const struct conf_vip *v = conf_find_vip(eff, k);

	if (!v)
		fail_vip(e, "no VIP %s", k);
	return v;
}

static int fail_backend(struct ju_err *e, const char *what, const struct sluice_addr *a,
			const struct sluice_vip_key *k)
{
	char s[SLUICE_VIP_STRLEN], b[SLUICE_ADDR_STRLEN];

	sluice_vip_key_format(k, s, sizeof(s));
	sluice_addr_format(a, b, sizeof(b));
	return ju_fail(e, NULL, what, b, s);
}

int overlay_backend_add(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct conf_backend *b,
			struct ju_err *e)
{
	const struct conf_vip *v = eff_vip(eff, vip, e);
	struct ov_backend *o;

	if (!v)
		return -ENOENT;
	if (conf_find_backend(v, &b->addr))
		return fail_backend(e, "backend %s of VIP %s exists", &b->addr, vip);
	o = find_ov_backend(ov, vip, &b->addr);
	if (!o && !(o = push_backend(ov)))
		return ju_fail(e, NULL, "out of memory");
	memset(o, 0, sizeof(*o));
	o->vip = *vip;
	o->addr = b->addr;
	/* Over a backend of the file (deleted earlier): every field is set,
	 * so what the CLI said wins over what the file says. */
	o->added = !base_has_backend(base, vip, &b->addr);
	o->has_weight = true;
	o->weight = b->weight;
	o->has_state = true;
	o->state = b->state;
	o->has_mac = b->has_mac;
	memcpy(o->mac, b->mac, 6);
	return 0;
}

int overlay_backend_del(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct sluice_addr *addr,
			struct ju_err *e)
{
	const struct conf_vip *v = eff_vip(eff, vip, e);
	struct ov_backend *o;

	if (!v)
		return -ENOENT;
	if (!conf_find_backend(v, addr))
		return fail_backend(e, "no backend %s in VIP %s", addr, vip);
	o = find_ov_backend(ov, vip, addr);
	if (!base_has_backend(base, vip, addr)) {
		if (o)
			drop_backend(ov, o);
		return 0;
	}
	if (!o && !(o = push_backend(ov)))
		return ju_fail(e, NULL, "out of memory");
	memset(o, 0, sizeof(*o));
	o->vip = *vip;
	o->addr = *addr;
	o->deleted = true;
	return 0;
}

int overlay_backend_set(struct overlay *ov, const struct conf *base, const struct conf *eff,
			const struct sluice_vip_key *vip, const struct sluice_addr *addr,
			bool has_weight, __u32 weight, bool has_state, __u8 state,
			struct ju_err *e)
{
	const struct conf_vip *v = eff_vip(eff, vip, e), *bv = conf_find_vip(base, vip);
	const struct conf_backend *bb = bv ? conf_find_backend(bv, addr) : NULL;
	struct ov_backend *o;

	if (!v)
		return -ENOENT;
	if (!conf_find_backend(v, addr))
		return fail_backend(e, "no backend %s in VIP %s", addr, vip);
	o = find_ov_backend(ov, vip, addr);
	if (!o) {
		if (!(o = push_backend(ov)))
			return ju_fail(e, NULL, "out of memory");
		o->vip = *vip;
		o->addr = *addr;
	}
	if (has_weight) {
		o->has_weight = true;
		o->weight = weight;
	}
	if (has_state) {
		o->has_state = true;
		o->state = state;
	}
	/* An override that says what the file says is no override: the
	 * state file keeps only real differences. */
	if (bb && o->has_weight && o->weight == bb->weight)
		o->has_weight = false;
	if (bb && o->has_state && o->state == bb->state)
		o->has_state = false;
	if (!o->added && !o->deleted && !o->has_weight && !o->has_state && !o->has_mac)
		drop_backend(ov, o);
	return 0;
}

json_t *overlay_to_json(const struct overlay *ov)
{
	json_t *vips = json_array(), *backends = json_array();

	for (size_t i = 0; i < ov->n_vips; i++) {
		const struct ov_vip *o = &ov->vips[i];
		json_t *j = json_pack("{s:o, s:s}", "vip", ju_vip_key(&o->key), "op",
				      o->op == OV_VIP_ADD ? "add" : "del");

		if (o->op == OV_VIP_ADD)
			json_object_set_new(j, "settings", conf_vip_settings_to_json(&o->spec));
		json_array_append_new(vips, j);
	}
	for (size_t i = 0; i < ov->n_backends; i++) {
		const struct ov_backend *o = &ov->backends[i];
		json_t *j = json_pack("{s:o, s:o}", "vip", ju_vip_key(&o->vip), "address",
				      ju_addr(&o->addr));

		if (o->added)
			json_object_set_new(j, "added", json_true());
		if (o->deleted)
			json_object_set_new(j, "deleted", json_true());
		if (o->has_weight)
			json_object_set_new(j, "weight", json_integer(o->weight));
		if (o->has_state)
			json_object_set_new(j, "state",
					    json_string(conf_backend_state_name(o->state)));
		if (o->has_mac)
			json_object_set_new(j, "mac", ju_mac(o->mac));
		json_array_append_new(backends, j);
	}
	return json_pack("{s:o, s:o}", "vips", vips, "backends", backends);
}

static int vip_from_json(const json_t *j, const char *path, struct overlay *ov, struct ju_err *e)
{
	static const char *const keys[] = {"vip", "op", "settings", NULL};
	static const char *const ops[] = {"add", "del", NULL};
	struct ov_vip *o;
	unsigned int op = 0;
	bool present;
	char p[JU_PATH_MAX];
	int rc;

	if ((rc = ju_expect_object(e, j, path)) < 0 || (rc = ju_check_keys(e, j, path, keys)) < 0)
		return rc;
	if (!(o = push_vip(ov)))
		return ju_fail(e, path, "out of memory");
	if ((rc = ju_get_vip_key(e, j, "vip", path, &o->key, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"vip\"");
	if ((rc = ju_get_enum(e, j, "op", path, ops, &op, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"op\"");
	o->op = op == 0 ? OV_VIP_ADD : OV_VIP_DEL;
	if (o->op == OV_VIP_ADD) {
		const json_t *s = json_object_get(j, "settings");

		ju_path_key(p, path, "settings");
		if (!s)
			return ju_fail(e, path, "missing key \"settings\"");
		if ((rc = conf_vip_settings_from_json(s, p, &o->spec, e)) < 0)
			return rc;
		if (json_object_get(s, "backends"))
			return ju_fail(e, p, "unknown key \"backends\"");
		if (!sluice_vip_key_equal(&o->spec.key, &o->key))
			return ju_fail(e, p, "address, port and protocol differ from \"vip\"");
	}
	for (size_t i = 0; i + 1 < ov->n_vips; i++)
		if (sluice_vip_key_equal(&ov->vips[i].key, &o->key))
			return ju_fail(e, path, "a second entry for the same VIP");
	return 0;
}

static int backend_from_json(const json_t *j, const char *path, struct overlay *ov,
			     struct ju_err *e)
{
	static const char *const keys[] = {"vip",   "address", "added", "deleted",
					   "weight", "state",  "mac",   NULL};
	static const char *const states[] = {"active", "draining", "disabled", NULL};
	struct ov_backend *o;
	unsigned int st = 0;
	bool present;
	int rc;

	if ((rc = ju_expect_object(e, j, path)) < 0 || (rc = ju_check_keys(e, j, path, keys)) < 0)
		return rc;
	if (!(o = push_backend(ov)))
		return ju_fail(e, path, "out of memory");
	if ((rc = ju_get_vip_key(e, j, "vip", path, &o->vip, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"vip\"");
	if ((rc = ju_get_addr(e, j, "address", path, &o->addr, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"address\"");
	if ((rc = ju_get_bool(e, j, "added", path, &o->added, NULL)) < 0 ||
	    (rc = ju_get_bool(e, j, "deleted", path, &o->deleted, NULL)) < 0 ||
	    (rc = ju_get_u32(e, j, "weight", path, 0, SLUICE_WEIGHT_MAX, &o->weight,
			     &o->has_weight)) < 0 ||
	    (rc = ju_get_enum(e, j, "state", path, states, &st, &o->has_state)) < 0 ||
	    (rc = ju_get_mac(e, j, "mac", path, o->mac, &o->has_mac)) < 0)
		return rc;
	o->state = (__u8)(SLUICE_BACKEND_ACTIVE + st);
	if (o->added && o->deleted)
		return ju_fail(e, path, "both added and deleted");
	for (size_t i = 0; i + 1 < ov->n_backends; i++)
		if (sluice_vip_key_equal(&ov->backends[i].vip, &o->vip) &&
		    sluice_addr_equal(&ov->backends[i].addr, &o->addr))
			return ju_fail(e, path, "a second entry for the same backend");
	return 0;
}

int overlay_from_json(const json_t *obj, const char *path, struct overlay *ov, struct ju_err *e)
{
	static const char *const keys[] = {"vips", "backends", NULL};
	const json_t *vips, *backends;
	char p[JU_PATH_MAX], q[JU_PATH_MAX];
	int rc;

	memset(ov, 0, sizeof(*ov));
	if ((rc = ju_expect_object(e, obj, path)) < 0 || (rc = ju_check_keys(e, obj, path, keys)) < 0)
		return rc;
	vips = json_object_get(obj, "vips");
	backends = json_object_get(obj, "backends");
	ju_path_key(p, path, "vips");
	if (vips && !json_is_array(vips))
		return ju_fail(e, p, "expected an array");
	for (size_t i = 0; vips && i < json_array_size(vips); i++) {
		ju_path_index(q, p, i);
		if ((rc = vip_from_json(json_array_get(vips, i), q, ov, e)) < 0)
			goto fail;
	}
	ju_path_key(p, path, "backends");
	if (backends && !json_is_array(backends)) {
		rc = ju_fail(e, p, "expected an array");
		goto fail;
	}
	for (size_t i = 0; backends && i < json_array_size(backends); i++) {
		ju_path_index(q, p, i);
		if ((rc = backend_from_json(json_array_get(backends, i), q, ov, e)) < 0)
			goto fail;
	}
	return 0;
fail:
	overlay_free(ov);
	return rc;
}
