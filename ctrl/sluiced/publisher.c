/* SPDX-License-Identifier: BSD-3-Clause */
/* Compile, lay out, publish, follow the acknowledgements. See publisher.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "publisher.h"
#include "snapshot.h"

/* While a generation is being acknowledged, poll this often at first (an
 * lcore acknowledges once per burst: microseconds), then back off. */
#define ACK_POLL_FAST_US 50
#define ACK_POLL_SLOW_US 1000
#define ACK_FAST_POLLS 100

static const __u32 hist_bounds_us[PUB_HIST_N] = PUB_HIST_BOUNDS_US;

/* One VIP as last compiled. While a compile job holds it (see struct
 * publisher), only the worker touches backends, table, m, cache and rc. */
struct pub_vip {
	bool present;			/* in the model, hence in snapshots */
	struct sluice_vip vip;		/* identity and settings */
	struct sluice_backend *backends; /* sorted by address (table order) */
	size_t n_backends;
	size_t cap_backends;
	struct sluice_table_params params; /* copied from the model: the worker
					    * never reads the model */
	__u16 *table;			/* m slots; m = 0: no backend takes flows */
	__u32 m;
	size_t cap_table;
	struct sluice_maglev_cache cache; /* its backends' permutations */
	int rc;				/* of the last compile */
	char err[160];
};

struct publisher {
	struct event_base *base;
	struct sluice_config_region *cfg;
	const struct model *model;
	struct publisher_hooks hooks;
	struct sluice_global_cfg global;
	__u64 stale_ns;
	struct pub_vip vips[SLUICE_MAX_VIPS];
	bool dirty[SLUICE_MAX_VIPS];	/* to recompile */
	bool any_dirty;
	bool touched;			/* publish even if no VIP changed */
	__u64 change_ns;		/* first change not yet published; 0 = none */
	__u64 seq;			/* number of the last change reported */
	__u64 done_seq;			/* number of the last change in force */
	__u64 in_flight_seq;		/* last change the generation in flight has */
	bool in_flight;			/* a generation awaits acknowledgements */
	__u64 in_flight_gen;
	__u64 in_flight_change_ns;
	unsigned int ack_polls;		/* polls of the generation in flight */
	struct event *flush_ev;		/* deferred flush, from the loop */
	struct event *ack_ev;		/* acknowledgement poll / retry timer */
	struct sluice_vip_spec specs[SLUICE_MAX_VIPS];
	struct publisher_stats st;
	/* Compiling a big table takes milliseconds (M = 655373: ~10 ms). With
	 * an event loop it is done by a worker thread, so that the loop goes
	 * on answering the control socket, probes and metrics meanwhile. A
	 * job is the list of VIPs to compile; the loop copies what they need
	 * from the model into their pub_vip first and does not touch those
	 * until the worker says done (eventfd), so the worker never reads the
	 * model and nothing reads a half-built table. Changes made meanwhile
	 * stay dirty and go into the next snapshot; the one in flight holds
	 * the model as it was at hand-over, and its change numbers only. */
	bool compiling;			/* a job is with the worker (loop side) */
	__u16 job_ids[SLUICE_MAX_VIPS];
	unsigned int job_n;
	__u64 job_seq, job_change_ns, job_t0;
	bool has_worker;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool job_posted, quit;		/* under mu */
	int done_fd;			/* eventfd: the worker finished a job */
	struct event *done_ev;
};

static struct slog_ratelimit compile_rl = SLOG_RATELIMIT_INIT(10, 5);

const __u32 *publisher_hist_bounds_us(void)
{
	return hist_bounds_us;
}

static const struct sluice_status_region *status_of(const struct publisher *p)
{
	return p->hooks.status ? p->hooks.status(p->hooks.ctx) : NULL;
}

static void *grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
	void *n;

	if (need <= *cap)
		return ptr;
	n = realloc(ptr, need * elem);
	if (n)
		*cap = need;
	return n;
}

int publisher_compile_table(const struct conf_vip *cfg, struct sluice_backend *backends, size_t n,
			    __u16 *table, __u32 *m, char *err, size_t errlen)
{
	struct sluice_table_params params;

	memset(&params, 0, sizeof(params));
	params.algo = cfg->algo;
	params.m = cfg->table_size;
	params.seed = cfg->hash_seed;
	params.ring_k = cfg->ring_k;
	return sluice_vip_compile(&params, backends, n, table, m, err, errlen);
}

/* Copy VIP id from the model into its pub_vip: identity, settings,
 * backends. Returns true when its table must be compiled. */
static bool prepare_vip(struct publisher *p, __u16 id)
{
	const struct model_vip *mv = p->model->vips[id];
	struct pub_vip *pv = &p->vips[id];
	void *n;

	pv->n_backends = 0;
	pv->m = 0;
	if (!mv) {
		pv->present = false;
		sluice_maglev_cache_free(&pv->cache);
		return false;
	}
	pv->present = true;
	memset(&pv->vip, 0, sizeof(pv->vip));
	pv->vip.addr = mv->cfg.key.addr;
	pv->vip.port = htons(mv->cfg.key.port);
	pv->vip.proto = mv->cfg.key.proto;
	pv->vip.mode = mv->cfg.mode;
	pv->vip.id = mv->id;
	pv->vip.hash_seed = mv->cfg.hash_seed;
	memset(&pv->params, 0, sizeof(pv->params));
	pv->params.algo = mv->cfg.algo;
	pv->params.m = mv->cfg.table_size;
	pv->params.seed = mv->cfg.hash_seed;
	pv->params.ring_k = mv->cfg.ring_k;
	n = grow(pv->backends, &pv->cap_backends, mv->n_backends ? mv->n_backends : 1,
		 sizeof(*pv->backends));
	if (!n) {
		slog_rl(&compile_rl, SLOG_ERR, "VIP id %u: out of memory compiling its table", id);
		return false;
	}
	pv->backends = n;
	for (size_t i = 0; i < mv->n_backends; i++) {
		const struct model_backend *mb = mv->backends[i];
		struct sluice_backend *b = &pv->backends[i];

		memset(b, 0, sizeof(*b));
		b->addr = mb->cfg.addr;
		if (mb->cfg.has_mac)
			memcpy(b->mac, mb->cfg.mac, 6);
		b->state = model_backend_state(mb);
		b->id = mb->id;
		b->vip_id = mv->id;
		b->weight = mb->cfg.weight;
	}
	pv->n_backends = mv->n_backends;
	/* No backends: nothing to compile, the VIP drops as no_backend. */
	return pv->n_backends > 0;
}

/* Compile a prepared VIP's table from its pub_vip alone (the worker runs
 * this). Errors are kept in pv and logged by the loop (report_compile). */
static void compile_prepared(struct pub_vip *pv)
{
	void *n = grow(pv->table, &pv->cap_table, pv->params.m, sizeof(*pv->table));

	pv->rc = -ENOMEM;
	snprintf(pv->err, sizeof(pv->err), "out of memory");
	if (!n)
		return;
	pv->table = n;
	pv->rc = sluice_vip_compile_cached(&pv->params, pv->backends, pv->n_backends, pv->table,
					   &pv->m, &pv->cache, pv->err, sizeof(pv->err));
	/* Validation makes a failure unreachable; if it happens anyway, the
	 * VIP drops rather than forwarding by a stale table. */
	if (pv->rc < 0)
		pv->m = 0;
}

static void report_compile(struct publisher *p, __u16 id)
{
	p->st.compiles++;
	if (p->vips[id].rc < 0)
		slog_rl(&compile_rl, SLOG_ERR, "VIP id %u: table not compiled: %s", id,
			p->vips[id].err);
}

/* Equal in every part a reader may use (generation aside). */
static bool snapshot_same(const struct sluice_snapshot *a, const struct sluice_snapshot *b)
{
	return a->n_vips == b->n_vips && a->n_backends == b->n_backends &&
	       a->table_slots_used == b->table_slots_used &&
	       memcmp(&a->global, &b->global, sizeof(a->global)) == 0 &&
	       memcmp(a->vip_index, b->vip_index, sizeof(a->vip_index)) == 0 &&
	       memcmp(a->vips, b->vips, a->n_vips * sizeof(a->vips[0])) == 0 &&
	       memcmp(a->backend_pos_by_id, b->backend_pos_by_id, sizeof(a->backend_pos_by_id)) ==
		       0 &&
	       memcmp(a->backends, b->backends, a->n_backends * sizeof(a->backends[0])) == 0 &&
	       memcmp(a->tables, b->tables, a->table_slots_used * sizeof(a->tables[0])) == 0;
}

static void record_latency(struct publisher *p, __u64 ns, unsigned int live)
{
	__u64 us = ns / 1000;
	unsigned int i = 0;

	p->st.last_live_lcores = live;
	/* With no live lcore nothing acknowledges: the span is compiling
	 * alone and would flatter the histogram. Count it apart. */
	if (!live) {
		p->st.no_dataplane++;
		return;
	}
	while (i < PUB_HIST_N && us > hist_bounds_us[i])
		i++;
	p->st.hist[i]++;
	p->st.hist_count++;
	p->st.hist_sum_ns += ns;
	p->st.last_latency_ns = ns;
}

/* Changes up to seq are in force: tell the owner. */
static void advance(struct publisher *p, __u64 seq)
{
	if (seq <= p->done_seq)
		return;
	p->done_seq = seq;
	if (p->hooks.done)
		p->hooks.done(p->hooks.ctx, seq);
}

bool publisher_poll_ack(struct publisher *p)
{
	unsigned int live = 0;
	__u64 now;

	if (!p->in_flight)
		return true;
	now = sluice_now_ns();
	if (!sluice_status_all_seen(status_of(p), p->in_flight_gen, now, p->stale_ns, &live))
		return false;
	p->in_flight = false;
	record_latency(p, now - p->in_flight_change_ns, live);
	advance(p, p->in_flight_seq);
	return true;
}

/* The compiled VIPs into the free slot, and publish it unless it equals
 * the snapshot in force. seq: the last change it holds; change_ns: when
 * the first of them was made; t0/t1: the compile's span. */
static int finish_flush(struct publisher *p, __u64 seq, __u64 change_ns, __u64 t0, __u64 t1)
{
	struct sluice_snapshot *next;
	const struct sluice_snapshot *cur;
	__u64 t2, gen;
	size_t n = 0;
	char err[256];
	int rc;

	for (unsigned int id = 0; id < SLUICE_MAX_VIPS; id++) {
		const struct pub_vip *pv = &p->vips[id];

		if (!pv->present)
			continue;
		p->specs[n].vip = pv->vip;
		p->specs[n].backends = pv->backends;
		p->specs[n].n_backends = pv->n_backends;
		p->specs[n].table = pv->m ? pv->table : NULL;
		p->specs[n].m = pv->m;
		n++;
	}
	next = sluice_config_next_slot(p->cfg);
	rc = sluice_snapshot_fill(next, &p->global, p->specs, n, err, sizeof(err));
	if (rc < 0) {
		/* Unreachable within the validated capacities; the changes
		 * are dropped, loudly, rather than retried forever. */
		slog(SLOG_ERR, "snapshot not published: %s", err);
		advance(p, seq);
		return rc;
	}
	t2 = sluice_now_ns();
	gen = __atomic_load_n(&p->cfg->hdr->generation, __ATOMIC_RELAXED);
	cur = gen ? p->cfg->slot[gen & 1] : NULL;
	if (cur && snapshot_same(next, cur)) {
		p->st.unchanged++;
		advance(p, seq);
		return 0;
	}
	gen = sluice_config_publish(p->cfg);
	p->in_flight = true;
	p->in_flight_gen = gen;
	p->in_flight_change_ns = change_ns;
	p->in_flight_seq = seq;
	p->ack_polls = 0;
	p->st.publishes++;
	p->st.last_compile_ns = t1 - t0;
	p->st.last_fill_ns = t2 - t1;
	if (p->hooks.published)
		p->hooks.published(p->hooks.ctx, next, gen);
	publisher_poll_ack(p);
	return 1;
}

static void post_job(struct publisher *p)
{
	pthread_mutex_lock(&p->mu);
	p->job_posted = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
	struct publisher *p = arg;
	__u64 one = 1;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->job_posted && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->job_posted = false;
		pthread_mutex_unlock(&p->mu);
		for (unsigned int i = 0; i < p->job_n; i++)
			compile_prepared(&p->vips[p->job_ids[i]]);
		/* The write orders the job's results before the loop's read. */
		while (write(p->done_fd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
}

int publisher_flush(struct publisher *p)
{
	__u64 t0, seq, change_ns;

	if (p->compiling)
		return -EINPROGRESS;
	if (p->in_flight && !publisher_poll_ack(p))
		return -EAGAIN;
	if (!p->any_dirty && !p->touched) {
		advance(p, p->seq);
		return 0;
	}
	/* The slot to fill last held generation - 1: free once every live
	 * lcore is on the current one. Never wait here: the loop retries. */
	if (sluice_config_wait_reclaim(p->cfg, status_of(p), p->stale_ns, 0) < 0)
		return -EAGAIN;
	t0 = sluice_now_ns();
	/* Every change so far goes into this snapshot; later ones start the
	 * next span. */
	change_ns = p->change_ns ? p->change_ns : t0;
	p->change_ns = 0;
	seq = p->seq;
	p->job_n = 0;
	for (unsigned int id = 0; p->any_dirty && id < SLUICE_MAX_VIPS; id++)
		if (p->dirty[id]) {
			p->dirty[id] = false;
			if (prepare_vip(p, (__u16)id))
				p->job_ids[p->job_n++] = (__u16)id;
		}
	p->any_dirty = false;
	p->touched = false;
	if (p->has_worker && p->job_n) {
		p->compiling = true;
		p->job_seq = seq;
		p->job_change_ns = change_ns;
		p->job_t0 = t0;
		post_job(p);
		return -EINPROGRESS;
	}
	for (unsigned int i = 0; i < p->job_n; i++) {
		compile_prepared(&p->vips[p->job_ids[i]]);
		report_compile(p, p->job_ids[i]);
	}
	return finish_flush(p, seq, change_ns, t0, sluice_now_ns());
}

static void arm_ack_timer(struct publisher *p)
{
	long us = p->ack_polls++ < ACK_FAST_POLLS ? ACK_POLL_FAST_US : ACK_POLL_SLOW_US;
	struct timeval tv = {.tv_sec = 0, .tv_usec = us};

	event_add(p->ack_ev, &tv);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct publisher *p = arg;
	int rc;

	(void)fd, (void)what;
	rc = publisher_flush(p);
	if (rc == -EINPROGRESS)
		return; /* the worker's done_cb carries on */
	if (rc == -EAGAIN || p->in_flight)
		arm_ack_timer(p); /* it flushes again once the lcores caught up */
	else if (p->any_dirty || p->touched)
		event_active(p->flush_ev, EV_TIMEOUT, 0);
}

/* The worker compiled the job: publish it, then go on as flush_cb does. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct publisher *p = arg;
	__u64 v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 || !p->compiling)
		return;
	p->compiling = false;
	for (unsigned int i = 0; i < p->job_n; i++)
		report_compile(p, p->job_ids[i]);
	/* A failure is logged there; the loop goes on either way. */
	finish_flush(p, p->job_seq, p->job_change_ns, p->job_t0, sluice_now_ns());
	if (p->in_flight)
		arm_ack_timer(p);
	else if (p->any_dirty || p->touched)
		event_active(p->flush_ev, EV_TIMEOUT, 0);
}

static void ack_cb(evutil_socket_t fd, short what, void *arg)
{
	struct publisher *p = arg;

	(void)fd, (void)what;
	if (p->in_flight && !publisher_poll_ack(p)) {
		arm_ack_timer(p);
		return;
	}
	flush_cb(-1, 0, p);
}

static void schedule(struct publisher *p)
{
	p->seq++;
	if (!p->change_ns)
		p->change_ns = sluice_now_ns();
	if (!p->flush_ev)
		return; /* no event loop: the caller flushes */
	/* While a generation is in flight the ack timer flushes when done;
	 * while one compiles, done_cb does. */
	if (!p->in_flight && !p->compiling && !event_pending(p->ack_ev, EV_TIMEOUT, NULL))
		event_active(p->flush_ev, EV_TIMEOUT, 0);
}

void publisher_vip_changed(struct publisher *p, __u16 vip_id)
{
	if (vip_id >= SLUICE_MAX_VIPS)
		return;
	p->dirty[vip_id] = true;
	p->any_dirty = true;
	schedule(p);
}

void publisher_touch(struct publisher *p)
{
	p->touched = true;
	schedule(p);
}

void publisher_set_global(struct publisher *p, const struct sluice_global_cfg *g)
{
	if (memcmp(&p->global, g, sizeof(*g)) == 0)
		return;
	p->global = *g;
	publisher_touch(p);
}

void publisher_set_stale_ns(struct publisher *p, __u64 stale_ns)
{
	p->stale_ns = stale_ns;
}

static int start_worker(struct publisher *p)
{
	sigset_t all, old;
	int rc;

	p->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->done_fd < 0)
		return -errno;
	p->done_ev = event_new(p->base, p->done_fd, EV_READ | EV_PERSIST, done_cb, p);
	if (!p->done_ev || event_add(p->done_ev, NULL) < 0)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* Signals (SIGTERM, SIGHUP) are the loop's: the worker blocks them
	 * all, so the kernel never picks it to run a handler. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->worker, NULL, worker_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	p->has_worker = true;
	return 0;
}

struct publisher *publisher_create(struct event_base *base, struct sluice_config_region *cfg,
				   const struct model *m, const struct publisher_hooks *hooks)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->done_fd = -1;
	p->base = base;
	p->cfg = cfg;
	p->model = m;
	if (hooks)
		p->hooks = *hooks;
	p->stale_ns = (__u64)CONF_DEFAULT_HEARTBEAT_MS * 1000000u;
	if (base) {
		p->flush_ev = event_new(base, -1, 0, flush_cb, p);
		p->ack_ev = evtimer_new(base, ack_cb, p);
		if (!p->flush_ev || !p->ack_ev || start_worker(p) < 0) {
			publisher_destroy(p);
			return NULL;
		}
	}
	return p;
}

void publisher_destroy(struct publisher *p)
{
	if (!p)
		return;
	if (p->has_worker) {
		pthread_mutex_lock(&p->mu);
		p->quit = true; /* after the job in hand, if any */
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->worker, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	if (p->done_ev)
		event_free(p->done_ev);
	if (p->done_fd >= 0)
		close(p->done_fd);
	if (p->flush_ev)
		event_free(p->flush_ev);
	if (p->ack_ev)
		event_free(p->ack_ev);
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		free(p->vips[i].backends);
		free(p->vips[i].table);
		sluice_maglev_cache_free(&p->vips[i].cache);
	}
	free(p);
}

__u64 publisher_seq(const struct publisher *p)
{
	return p->seq;
}

__u64 publisher_done_seq(const struct publisher *p)
{
	return p->done_seq;
}

bool publisher_pending(const struct publisher *p, __u64 seq, __u64 *gen, __u32 *ids,
		       unsigned int max, unsigned int *n)
{
	const struct sluice_status_region *st = status_of(p);
	__u64 now = sluice_now_ns();
	unsigned int nl;

	*gen = p->in_flight ? p->in_flight_gen
			    : __atomic_load_n(&p->cfg->hdr->generation, __ATOMIC_RELAXED);
	*n = 0;
	nl = st && st->hdr ? __atomic_load_n(&st->hdr->n_lcores, __ATOMIC_RELAXED) : 0;
	for (unsigned int i = 0; i < nl && i < SLUICE_MAX_LCORES && *n < max; i++) {
		const struct sluice_lcore_status *l = &st->lcores[i];

		if (sluice_lcore_is_live(l, now, p->stale_ns) &&
		    __atomic_load_n(&l->seen_generation, __ATOMIC_ACQUIRE) < *gen)
			ids[(*n)++] = l->lcore_id;
	}
	return p->in_flight && seq <= p->in_flight_seq;
}

void publisher_get_stats(const struct publisher *p, struct publisher_stats *out)
{
	*out = p->st;
	out->generation = __atomic_load_n(&p->cfg->hdr->generation, __ATOMIC_RELAXED);
	out->busy = p->in_flight || p->compiling || p->any_dirty || p->touched;
}
