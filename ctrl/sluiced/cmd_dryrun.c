/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dry run of a change ("dry_run": true on an editing command): the
 * edited overlay is applied to a copy of the configuration and validated
 * as a commit would (so a change that would be refused is refused with the
 * same words), then the VIP's table is compiled by the publisher's own
 * code and compared, slot by slot, with the table in force in shared
 * memory. Nothing is committed: the model, the state file, the snapshot
 * and its generation stay as they are.
 *
 * A slot "moves" when the backend it names changes, or when it gets or
 * loses a backend at all (a VIP with no backend taking new flows has no
 * table). The moved fraction of the table is the fraction of new flows
 * that go elsewhere; flows the data plane already tracks stay where they
 * are, as in any change. "gaining" and "losing" name the backends whose
 * share grows or shrinks; each backend's "gained" and "lost" count the
 * slots that move to it and away from it, which with Maglev includes a
 * few slots traded among backends whose share stays the same.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "log.h"
#include "snapshot.h"

/* One backend in the union of before and after, by address. */
struct dr_row {
	struct sluice_addr addr;
	const struct sluice_backend *before, *after; /* NULL: absent there */
	__u32 slots_before, slots_after;
	__u32 gained, lost;
};

struct dr_side {
	const struct sluice_backend *backends;
	size_t n;
	const __u16 *table; /* NULL: no table (no VIP, or no backend takes flows) */
	__u32 m;
	int *row;	    /* backend index -> row */
};

static int row_of(struct dr_row *rows, size_t *n, const struct sluice_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (sluice_addr_equal(&rows[i].addr, a))
			return (int)i;
	memset(&rows[*n], 0, sizeof(rows[*n]));
	rows[*n].addr = *a;
	return (int)(*n)++;
}

static int row_cmp(const void *a, const void *b)
{
	const struct dr_row *x = a, *y = b;

	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* Whether the backend is up by its health check, as the model knows it; a
 * backend the model does not have yet starts up (no check has failed). */
static bool dr_up(const struct model_vip *mv, const struct conf_backend *cb)
{
	const struct model_backend *mb = mv ? model_find_backend(mv, &cb->addr) : NULL;

	return cb->health.type == CONF_HEALTH_NONE || !mb || mb->sm.up;
}

/* The row of each slot's backend, -1 for none. */
static int slot_row(const struct dr_side *s, __u32 slot)
{
	if (!s->table || slot >= s->m || s->table[slot] >= s->n)
		return -1;
	return s->row[s->table[slot]];
}

static json_t *state_json(const struct sluice_backend *b)
{
	return b ? json_string(conf_backend_state_name(b->state)) : json_null();
}

static json_t *weight_json(const struct sluice_backend *b)
{
	return b ? json_integer(b->weight) : json_null();
}

static json_t *report(const struct sluice_vip_key *k, const struct conf_vip *cv, __u64 gen,
		      bool vip_before, struct dr_side *bs, struct dr_side *as, const char *what)
{
	size_t cap = bs->n + as->n, n = 0;
	struct dr_row *rows = calloc(cap ? cap : 1, sizeof(*rows));
	json_t *resp, *list, *gaining, *losing;
	__u32 m, moved = 0;
	bool same_size;

	if (!rows)
		return control_error("out of memory");
	/* Rows by address; each side's backends point into them. */
	for (size_t i = 0; i < bs->n; i++)
		rows[row_of(rows, &n, &bs->backends[i].addr)].before = &bs->backends[i];
	for (size_t i = 0; i < as->n; i++)
		rows[row_of(rows, &n, &as->backends[i].addr)].after = &as->backends[i];
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < bs->n; i++)
			if (rows[r].before == &bs->backends[i])
				bs->row[i] = (int)r;
		for (size_t i = 0; i < as->n; i++)
			if (rows[r].after == &as->backends[i])
				as->row[i] = (int)r;
	}
	m = bs->m > as->m ? bs->m : as->m;
	same_size = bs->m == as->m || !bs->m || !as->m;
	for (__u32 s = 0; s < m; s++) {
		int rb = slot_row(bs, s), ra = slot_row(as, s);

		if (rb >= 0)
			rows[rb].slots_before++;
		if (ra >= 0)
			rows[ra].slots_after++;
		/* Tables of two sizes share no slot: every one moves. */
		if (same_size && rb == ra)
			continue;
		moved++;
		if (rb >= 0)
			rows[rb].lost++;
		if (ra >= 0)
			rows[ra].gained++;
	}
	list = json_array();
	gaining = json_array();
	losing = json_array();
	for (size_t r = 0; r < n; r++) {
		const struct dr_row *x = &rows[r];

		json_array_append_new(
			list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", "address",
					ju_addr(&x->addr), "state_before", state_json(x->before),
					"state_after", state_json(x->after), "weight_before",
					weight_json(x->before), "weight_after", weight_json(x->after),
					"slots_before", (json_int_t)x->slots_before, "slots_after",
					(json_int_t)x->slots_after, "gained", (json_int_t)x->gained,
					"lost", (json_int_t)x->lost));
		/* By the net change: Maglev also trades a few slots among the
		 * backends that keep their share (gained and lost say so). */
		if (x->slots_after > x->slots_before)
			json_array_append_new(gaining, ju_addr(&x->addr));
		if (x->slots_after < x->slots_before)
			json_array_append_new(losing, ju_addr(&x->addr));
	}
	free(rows);
	resp = cmd_ok();
	json_object_set_new(resp, "dry_run", json_true());
	json_object_set_new(resp, "change", json_string(what));
	json_object_set_new(resp, "vip", ju_vip_key(k));
	json_object_set_new(resp, "generation", json_integer((json_int_t)gen));
	json_object_set_new(resp, "vip_before", json_boolean(vip_before));
	json_object_set_new(resp, "vip_after", json_boolean(cv != NULL));
	if (cv)
		json_object_set_new(resp, "algorithm",
				    json_string(sluice_table_algo_name(cv->algo)));
	json_object_set_new(resp, "table_size_before", json_integer(bs->m));
	json_object_set_new(resp, "table_size_after", json_integer(as->m));
	json_object_set_new(resp, "moved_slots", json_integer(moved));
	json_object_set_new(resp, "moved_fraction", json_real(m ? (double)moved / m : 0.0));
	json_object_set_new(resp, "backends", list);
	json_object_set_new(resp, "gaining", gaining);
	json_object_set_new(resp, "losing", losing);
	return resp;
}

json_t *cmd_dry_run(struct sluiced *d, struct overlay *ov, const struct sluice_vip_key *k,
		    const char *what)
{
	char msg[512], err[256];
	struct ju_err e = {msg, sizeof(msg)};
	struct dr_side bs = {0}, as = {0};
	const struct sluice_snapshot *snap;
	struct sluice_backend *after = NULL;
	const struct model_vip *mv;
	const struct conf_vip *cv;
	__u16 *table = NULL;
	json_t *resp = NULL;
	struct conf eff;
	__u64 gen = 0;
	int id = -1;

	/* What daemon_commit() checks first, with its words. */
	if (overlay_apply(ov, &d->base_conf, &eff) < 0) {
		overlay_free(ov);
		return control_error("out of memory");
	}
	overlay_free(ov);
	if (conf_validate(&eff, &e) < 0) {
		conf_free(&eff);
		return control_error("%s", msg);
	}
	/* Before: the table in force. */
	snap = daemon_current_snapshot(d, &gen);
	if (snap)
		id = sluice_vip_index_find(snap, &k->addr, htons(k->port), k->proto);
	if (id >= 0) {
		const struct sluice_vip *sv = &snap->vips[id];

		bs.backends = &snap->backends[sv->backend_first];
		bs.n = sv->backend_count;
		bs.m = sv->table_size;
		bs.table = bs.m ? &snap->tables[sv->table_offset] : NULL;
	}
	/* After: the edited configuration, compiled as the publisher would,
	 * with the health the model has now. */
	cv = conf_find_vip(&eff, k);
	mv = model_find_vip(&d->model, k);
	if (cv) {
		after = calloc(cv->n_backends ? cv->n_backends : 1, sizeof(*after));
		table = calloc(cv->table_size ? cv->table_size : 1, sizeof(*table));
		if (!after || !table)
			goto nomem;
		for (size_t i = 0; i < cv->n_backends; i++) {
			const struct conf_backend *cb = &cv->backends[i];

			after[i].addr = cb->addr;
			after[i].weight = cb->weight;
			after[i].state = cb->state == SLUICE_BACKEND_DISABLED ? SLUICE_BACKEND_DISABLED
					 : !dr_up(mv, cb)			  ? SLUICE_BACKEND_DOWN
										  : cb->state;
		}
		if (cv->n_backends &&
		    publisher_compile_table(cv, after, cv->n_backends, table, &as.m, err,
					    sizeof(err)) < 0) {
			resp = control_error("cannot compile the table: %s", err);
			goto out;
		}
		as.backends = after;
		as.n = cv->n_backends;
		as.table = as.m ? table : NULL;
	}
	bs.row = calloc(bs.n ? bs.n : 1, sizeof(int));
	as.row = calloc(as.n ? as.n : 1, sizeof(int));
	if (!bs.row || !as.row)
		goto nomem;
	resp = report(k, cv, gen, id >= 0, &bs, &as, what);
	slog(SLOG_DEBUG, "control: dry run: %s", what);
	goto out;
nomem:
	resp = control_error("out of memory");
out:
	free(bs.row);
	free(as.row);
	free(after);
	free(table);
	conf_free(&eff);
	return resp;
}
