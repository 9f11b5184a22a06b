/* SPDX-License-Identifier: BSD-3-Clause */
/* The running model and its stable ids. See model.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* An id the state file gave an identity: a VIP (no address) or a backend. */
struct model_id_hint {
	struct sluice_vip_key vip;
	struct sluice_addr addr; /* family 0 for a VIP */
	__u16 id;
};

static int hint_cmp(const void *a, const void *b)
{
	const struct model_id_hint *x = a, *y = b;
	int c = memcmp(&x->vip.addr, &y->vip.addr, sizeof(x->vip.addr));

	if (c)
		return c;
	if (x->vip.port != y->vip.port)
		return x->vip.port < y->vip.port ? -1 : 1;
	if (x->vip.proto != y->vip.proto)
		return x->vip.proto < y->vip.proto ? -1 : 1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static const struct model_id_hint *hint_find(const struct model *m,
					     const struct sluice_vip_key *vip,
					     const struct sluice_addr *addr)
{
	struct model_id_hint key;

	if (!m->n_hints)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.vip.addr = vip->addr;
	key.vip.port = vip->port;
	key.vip.proto = vip->proto;
	if (addr)
		key.addr = *addr;
	return bsearch(&key, m->hints, m->n_hints, sizeof(key), hint_cmp);
}

/* Is id promised to an identity of the state file (VIP when !backend)? */
static bool hint_reserves(const struct model *m, bool backend, __u16 id)
{
	const __u8 *bits = backend ? m->hinted_backend_ids : m->hinted_vip_ids;

	return bits[id / 8] & (1u << (id % 8));
}

static void clear_hints(struct model *m)
{
	free(m->hints);
	m->hints = NULL;
	m->n_hints = 0;
	memset(m->hinted_vip_ids, 0, sizeof(m->hinted_vip_ids));
	memset(m->hinted_backend_ids, 0, sizeof(m->hinted_backend_ids));
}

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
}

static void free_backend(struct model *m, struct model_backend *b, const struct model_ops *ops)
{
	if (ops && ops->backend_removed)
		ops->backend_removed(ops->ctx, b);
	m->backends[b->id] = NULL;
	m->n_backends--;
	free(b);
}

static void free_vip(struct model *m, struct model_vip *v, const struct model_ops *ops)
{
	for (size_t i = 0; i < v->n_backends; i++)
		free_backend(m, v->backends[i], ops);
	v->n_backends = 0;
	if (ops && ops->vip_removed)
		ops->vip_removed(ops->ctx, v);
	m->vips[v->id] = NULL;
	m->n_vips--;
	free(v->backends);
	free(v);
}

void model_destroy(struct model *m, const struct model_ops *ops)
{
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		if (m->vips[i])
			free_vip(m, m->vips[i], ops);
	clear_hints(m);
}

/* The hinted id when it is free, else the next free id after the last one
 * given out that no hint reserves. */
static int take_id(struct model *m, bool backend, const struct model_id_hint *h)
{
	__u32 size = backend ? SLUICE_MAX_BACKENDS : SLUICE_MAX_VIPS;
	__u32 *next = backend ? &m->next_backend_id : &m->next_vip_id;

	if (h && h->id < size && !(backend ? (void *)m->backends[h->id] : (void *)m->vips[h->id]))
		return h->id;
	for (__u32 i = 0; i < size; i++) {
		__u32 id = (*next + i) % size;
		bool used = backend ? m->backends[id] != NULL : m->vips[id] != NULL;

		if (!used && !hint_reserves(m, backend, (__u16)id)) {
			*next = (id + 1) % size;
			return (int)id;
		}
	}
	return -ENOSPC;
}

struct model_vip *model_find_vip(const struct model *m, const struct sluice_vip_key *k)
{
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		if (m->vips[i] && sluice_vip_key_equal(&m->vips[i]->cfg.key, k))
			return m->vips[i];
	return NULL;
}

struct model_backend *model_find_backend(const struct model_vip *v, const struct sluice_addr *a)
{
	for (size_t i = 0; i < v->n_backends; i++)
		if (sluice_addr_equal(&v->backends[i]->cfg.addr, a))
			return v->backends[i];
	return NULL;
}

__u8 model_backend_state(const struct model_backend *b)
{
	if (b->cfg.state == SLUICE_BACKEND_DISABLED)
		return SLUICE_BACKEND_DISABLED;
	if (!b->sm.up)
		return SLUICE_BACKEND_DOWN;
	return b->cfg.state;
}

static int backend_ptr_cmp(const void *a, const void *b)
{
	const struct model_backend *x = *(struct model_backend *const *)a;
	const struct model_backend *y = *(struct model_backend *const *)b;

	return memcmp(&x->cfg.addr, &y->cfg.addr, sizeof(x->cfg.addr));
}

static bool backend_table_fields_differ(const struct conf_backend *a, const struct conf_backend *b)
{
	return a->weight != b->weight || a->state != b->state || a->has_mac != b->has_mac ||
	       memcmp(a->mac, b->mac, 6) != 0;
}

/* Bring v's backends in line with cv's. Returns 1 when the VIP's table or
 * snapshot entry changed, 0 when not, or -errno (then v keeps every
 * backend it had and those added so far). */
static int sync_backends(struct model *m, struct model_vip *v, const struct conf_vip *cv,
			 const struct model_ops *ops)
{
	struct model_backend **old = v->backends, **now;
	size_t n_old = v->n_backends, n_now = 0;
	int changed = 0, rc = 0;

	now = calloc(cv->n_backends + n_old + 1, sizeof(*now));
	if (!now)
		return -ENOMEM;
	if (n_old)
		qsort(old, n_old, sizeof(*old), backend_ptr_cmp);
	for (size_t i = 0; i < n_old; i++)
		old[i]->mark = false;
	for (size_t i = 0; i < cv->n_backends; i++) {
		const struct conf_backend *cb = &cv->backends[i];
		struct model_backend key, *kp = &key, **found, *b;
		int id;

		key.cfg.addr = cb->addr;
		found = n_old ? bsearch(&kp, old, n_old, sizeof(*old), backend_ptr_cmp) : NULL;
		if (found) {
			bool check_changed;

			b = *found;
			b->mark = true;
			if (backend_table_fields_differ(&b->cfg, cb))
				changed = 1;
			check_changed = !conf_health_equal(&b->cfg.health, &cb->health);
			b->cfg = *cb;
			if (check_changed && ops && ops->backend_check_changed)
				ops->backend_check_changed(ops->ctx, b);
			now[n_now++] = b;
			continue;
		}
		id = take_id(m, true, hint_find(m, &cv->key, &cb->addr));
		b = id < 0 ? NULL : calloc(1, sizeof(*b));
		if (!b) {
			rc = id < 0 ? id : -ENOMEM;
			break;
		}
		b->cfg = *cb;
		b->id = (__u16)id;
		b->vip = v;
		b->mark = true;
		m->backends[id] = b;
		m->n_backends++;
		health_sm_init(&b->sm, cb->health.rise, cb->health.fall,
			       ops && ops->initial_up ? ops->initial_up(ops->ctx, b) : true,
			       sluice_now_ns());
		now[n_now++] = b;
		changed = 1;
		if (ops && ops->backend_added)
			ops->backend_added(ops->ctx, b);
	}
	for (size_t i = 0; i < n_old; i++) {
		if (old[i]->mark)
			continue;
		if (rc < 0) {
			now[n_now++] = old[i]; /* failed half-way: keep it */
			continue;
		}
		free_backend(m, old[i], ops);
		changed = 1;
	}
	free(old);
	v->backends = now;
	v->n_backends = n_now;
	return rc < 0 ? rc : changed;
}

static bool vip_settings_differ(const struct conf_vip *a, const struct conf_vip *b)
{
	return a->mode != b->mode || a->algo != b->algo || a->table_size != b->table_size ||
	       a->hash_seed != b->hash_seed || a->ring_k != b->ring_k;
}

int model_sync(struct model *m, const struct conf *c, const struct model_ops *ops)
{
	int rc = 0;

	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++)
		if (m->vips[i])
			m->vips[i]->mark = false;
	for (size_t i = 0; i < c->n_vips && rc >= 0; i++) {
		const struct conf_vip *cv = &c->vips[i];
		struct model_vip *v = model_find_vip(m, &cv->key);
		bool changed = false;
		int r;

		if (!v) {
			int id = take_id(m, false, hint_find(m, &cv->key, NULL));

			if (id < 0) {
				rc = id;
				break;
			}
			v = calloc(1, sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			v->id = (__u16)id;
			m->vips[id] = v;
			m->n_vips++;
			changed = true;
		} else if (vip_settings_differ(&v->cfg, cv)) {
			changed = true;
		}
		v->mark = true;
		v->cfg = *cv;
		v->cfg.backends = NULL;
		v->cfg.n_backends = 0;
		r = sync_backends(m, v, cv, ops);
		if (r < 0)
			rc = r;
		if ((changed || r != 0) && ops && ops->vip_changed)
			ops->vip_changed(ops->ctx, v);
	}
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS && rc >= 0; i++)
		if (m->vips[i] && !m->vips[i]->mark)
			free_vip(m, m->vips[i], ops);
	/* Hints serve the first sync after a (re)start only. */
	clear_hints(m);
	return rc;
}

json_t *model_ids_to_json(const struct model *m)
{
	json_t *vips = json_array();

	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		const struct model_vip *v = m->vips[i];
		json_t *bs;

		if (!v)
			continue;
		bs = json_array();
		for (size_t j = 0; j < v->n_backends; j++)
			json_array_append_new(bs, json_pack("{s:o, s:I}", "address",
							    ju_addr(&v->backends[j]->cfg.addr),
							    "id", (json_int_t)v->backends[j]->id));
		json_array_append_new(vips, json_pack("{s:o, s:I, s:o}", "vip",
						      ju_vip_key(&v->cfg.key), "id",
						      (json_int_t)v->id, "backends", bs));
	}
	return json_pack("{s:I, s:I, s:o}", "next_vip", (json_int_t)m->next_vip_id,
			 "next_backend", (json_int_t)m->next_backend_id, "vips", vips);
}

static int load_vip_hints(struct model *m, const json_t *jv, const char *path, bool *vip_used,
			  bool *be_used, struct ju_err *e)
{
	static const char *const keys[] = {"vip", "id", "backends", NULL};
	static const char *const bkeys[] = {"address", "id", NULL};
	struct model_id_hint h;
	const json_t *bs;
	char p[JU_PATH_MAX], bp[JU_PATH_MAX];
	__u32 id = 0;
	bool present;
	int rc;

	memset(&h, 0, sizeof(h));
	if ((rc = ju_expect_object(e, jv, path)) < 0 || (rc = ju_check_keys(e, jv, path, keys)) < 0 ||
	    (rc = ju_get_vip_key(e, jv, "vip", path, &h.vip, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"vip\"");
	if ((rc = ju_get_u32(e, jv, "id", path, 0, SLUICE_MAX_VIPS - 1, &id, &present)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, path, "missing key \"id\"");
	ju_path_key(p, path, "id");
	if (vip_used[id])
		return ju_fail(e, p, "VIP id %u given twice", id);
	vip_used[id] = true;
	h.id = (__u16)id;
	m->hints[m->n_hints++] = h;
	bs = json_object_get(jv, "backends");
	ju_path_key(p, path, "backends");
	if (bs && !json_is_array(bs))
		return ju_fail(e, p, "expected an array");
	for (size_t j = 0; bs && j < json_array_size(bs); j++) {
		const json_t *jb = json_array_get(bs, j);

		ju_path_index(bp, p, j);
		if ((rc = ju_expect_object(e, jb, bp)) < 0 ||
		    (rc = ju_check_keys(e, jb, bp, bkeys)) < 0 ||
		    (rc = ju_get_addr(e, jb, "address", bp, &h.addr, &present)) < 0)
			return rc;
		if (!present)
			return ju_fail(e, bp, "missing key \"address\"");
		id = 0;
		if ((rc = ju_get_u32(e, jb, "id", bp, 0, SLUICE_MAX_BACKENDS - 1, &id,
				     &present)) < 0)
			return rc;
		if (!present)
			return ju_fail(e, bp, "missing key \"id\"");
		if (be_used[id])
			return ju_fail(e, bp, "backend id %u given twice", id);
		be_used[id] = true;
		h.id = (__u16)id;
		m->hints[m->n_hints++] = h;
	}
	return 0;
}

int model_ids_load(struct model *m, const json_t *ids, const char *path, struct ju_err *e)
{
	static const char *const keys[] = {"next_vip", "next_backend", "vips", NULL};
	bool *vip_used = NULL, *be_used = NULL;
	const json_t *vips;
	size_t n = 0;
	char p[JU_PATH_MAX], q[JU_PATH_MAX];
	int rc;

	if ((rc = ju_expect_object(e, ids, path)) < 0 || (rc = ju_check_keys(e, ids, path, keys)) < 0 ||
	    (rc = ju_get_u32(e, ids, "next_vip", path, 0, SLUICE_MAX_VIPS - 1, &m->next_vip_id,
			     NULL)) < 0 ||
	    (rc = ju_get_u32(e, ids, "next_backend", path, 0, SLUICE_MAX_BACKENDS - 1,
			     &m->next_backend_id, NULL)) < 0)
		return rc;
	vips = json_object_get(ids, "vips");
	ju_path_key(p, path, "vips");
	if (vips && !json_is_array(vips))
		return ju_fail(e, p, "expected an array");
	for (size_t i = 0; vips && i < json_array_size(vips); i++) {
		const json_t *bs = json_object_get(json_array_get(vips, i), "backends");

		n += 1 + (json_is_array(bs) ? json_array_size(bs) : 0);
	}
	if (n > SLUICE_MAX_VIPS + SLUICE_MAX_BACKENDS)
		return ju_fail(e, p, "more ids than VIPs and backends can have");
	clear_hints(m);
	m->hints = calloc(n ? n : 1, sizeof(*m->hints));
	vip_used = calloc(SLUICE_MAX_VIPS, sizeof(bool));
	be_used = calloc(SLUICE_MAX_BACKENDS, sizeof(bool));
	if (!m->hints || !vip_used || !be_used) {
		rc = ju_fail(e, path, "out of memory");
		goto out;
	}
	for (size_t i = 0; vips && i < json_array_size(vips); i++) {
		ju_path_index(q, p, i);
		rc = load_vip_hints(m, json_array_get(vips, i), q, vip_used, be_used, e);
		if (rc < 0)
			goto out;
	}
	if (m->n_hints)
		qsort(m->hints, m->n_hints, sizeof(*m->hints), hint_cmp);
	for (size_t i = 0; i < m->n_hints; i++) {
		__u16 id = m->hints[i].id;
		__u8 *bits = m->hints[i].addr.family ? m->hinted_backend_ids : m->hinted_vip_ids;

		bits[id / 8] |= (__u8)(1u << (id % 8));
	}
	for (size_t i = 1; i < m->n_hints; i++)
		if (hint_cmp(&m->hints[i - 1], &m->hints[i]) == 0) {
			rc = ju_fail(e, p, "an identity is listed twice");
			goto out;
		}
	rc = 0;
out:
	if (rc < 0)
		clear_hints(m);
	free(vip_used);
	free(be_used);
	return rc;
}

/* Append one hint unless its id or its identity is taken. The first
 * n_sorted hints (the state file's) are sorted; the snapshot's own
 * identities are unique by construction. */
static void add_hint(struct model *m, const struct model_id_hint *h, size_t cap,
		     size_t n_sorted)
{
	bool backend = h->addr.family != 0;
	__u8 *bits = backend ? m->hinted_backend_ids : m->hinted_vip_ids;

	if (m->n_hints >= cap || (bits[h->id / 8] & (1u << (h->id % 8))))
		return;
	if (n_sorted && bsearch(h, m->hints, n_sorted, sizeof(*h), hint_cmp))
		return;
	bits[h->id / 8] |= (__u8)(1u << (h->id % 8));
	m->hints[m->n_hints++] = *h;
}

void model_ids_add_snapshot(struct model *m, const struct sluice_snapshot *snap)
{
	size_t cap, n_state;
	struct model_id_hint h, *grown;

	if (!snap || snap->n_vips > SLUICE_MAX_VIPS || snap->n_backends > SLUICE_MAX_BACKENDS)
		return;
	cap = m->n_hints + snap->n_vips + snap->n_backends;
	grown = realloc(m->hints, (cap ? cap : 1) * sizeof(*grown));
	if (!grown)
		return;
	m->hints = grown;
	n_state = m->n_hints;
	for (__u32 i = 0; i < snap->n_vips; i++) {
		const struct sluice_vip *v = &snap->vips[i];

		/* The caller checked the snapshot; bounds again, so that no id
		 * from shared memory can index past the model's arrays. */
		if (!v->in_use || v->id >= SLUICE_MAX_VIPS ||
		    v->backend_first + (__u64)v->backend_count > snap->n_backends)
			continue;
		memset(&h, 0, sizeof(h));
		h.vip.addr = v->addr;
		h.vip.port = ntohs(v->port);
		h.vip.proto = v->proto;
		h.id = v->id;
		add_hint(m, &h, cap, n_state);
		for (__u32 j = 0; j < v->backend_count; j++) {
			const struct sluice_backend *b = &snap->backends[v->backend_first + j];

			if (b->id >= SLUICE_MAX_BACKENDS)
				continue;
			h.addr = b->addr;
			h.id = b->id;
			add_hint(m, &h, cap, n_state);
		}
	}
	if (m->n_hints)
		qsort(m->hints, m->n_hints, sizeof(*m->hints), hint_cmp);
}
