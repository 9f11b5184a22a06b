/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared-memory regions between sluiced and sluice-dp: naming, creation,
 * attachment with validation, publish and quiescent-state reclamation.
 * The layout and the hot-path reader functions are in include/sluice/shm.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/shm.h"
#include "errmsg.h"

#define CONFIG_SNAPSHOT_ALIGN 4096u

__u64 sluice_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

bool sluice_instance_valid(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n == 0 || n > SLUICE_INSTANCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = instance[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

int sluice_instance_check(const char *instance, char *err, size_t errlen)
{
	if (sluice_instance_valid(instance))
		return 0;
	return sluice_errf(err, errlen, -EINVAL,
			   "invalid instance name \"%s\": " SLUICE_INSTANCE_RULE,
			   instance ? instance : "");
}

int sluice_shm_name(const char *instance, const char *kind, char *out, size_t outlen)
{
	if (!sluice_instance_valid(instance))
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, "/sluice-%s-%s", instance, kind) >= outlen)
		return -EINVAL;
	return 0;
}

/* The name of one of the instance's regions into name[REGION_NAME_MAX];
 * -EINVAL with the rule in err for a bad instance. */
#define REGION_NAME_MAX 64 /* "/sluice-" + 32 + "-status" fits */
static int region_name(const char *instance, const char *kind, char *name, char *err,
		       size_t errlen)
{
	int rc = sluice_instance_check(instance, err, errlen);

	return rc < 0 ? rc : sluice_shm_name(instance, kind, name, REGION_NAME_MAX);
}

static size_t config_snapshot_offset(unsigned int slot)
{
	size_t stride = (sizeof(struct sluice_snapshot) + CONFIG_SNAPSHOT_ALIGN - 1) &
			~(size_t)(CONFIG_SNAPSHOT_ALIGN - 1);

	return CONFIG_SNAPSHOT_ALIGN + slot * stride;
}

static size_t config_region_size(void)
{
	return config_snapshot_offset(2);
}

static size_t status_ports_offset(void)
{
	return sizeof(struct sluice_status_header) +
	       (size_t)SLUICE_MAX_LCORES * sizeof(struct sluice_lcore_status);
}

static size_t status_region_size(void)
{
	return status_ports_offset() + (size_t)SLUICE_MAX_PORTS * sizeof(struct sluice_port_status);
}

/* Both headers start with magic and ABI version; check those and the size
 * of the header itself, naming the region in the message. */
static int validate_identity(const char *what, const void *mem, size_t size, size_t hdr_size,
			     __u64 magic, char *err, size_t errlen)
{
	__u64 have_magic;
	__u32 have_version;

	if (size < hdr_size)
		return sluice_errf(err, errlen, -EPROTO,
				   "%s region is %zu bytes, smaller than its header (%zu)", what,
				   size, hdr_size);
	memcpy(&have_magic, mem, sizeof(have_magic));
	memcpy(&have_version, (const char *)mem + 8, sizeof(have_version));
	/* The creator sets the magic last: zero means "not finished yet". */
	if (have_magic == 0)
		return sluice_errf(err, errlen, -EAGAIN,
				   "%s region is still being created; try again", what);
	if (have_magic != magic)
		return sluice_errf(err, errlen, -EPROTO,
				   "%s region has magic 0x%016llx, expected 0x%016llx: not a "
				   "sluice %s region",
				   what, (unsigned long long)have_magic, (unsigned long long)magic,
				   what);
	if (have_version != SLUICE_ABI_VERSION)
		return sluice_errf(err, errlen, -EPROTO,
				   "%s region has ABI version %u, this build speaks %u: restart "
				   "sluiced and sluice-dp from the same release",
				   what, have_version, SLUICE_ABI_VERSION);
	return 0;
}

int sluice_config_validate(const void *mem, size_t size, char *err, size_t errlen)
{
	const struct sluice_config_header *h = mem;
	int rc = validate_identity("config", mem, size, sizeof(*h), SLUICE_CONFIG_MAGIC, err,
				   errlen);

	if (rc < 0)
		return rc;
	if (h->header_size != sizeof(*h) || h->snapshot_size != sizeof(struct sluice_snapshot) ||
	    h->max_vips != SLUICE_MAX_VIPS || h->max_backends != SLUICE_MAX_BACKENDS ||
	    h->table_pool_slots != SLUICE_TABLE_POOL_SLOTS ||
	    h->vip_index_size != SLUICE_VIP_INDEX_SIZE)
		return sluice_errf(err, errlen, -EPROTO,
			    "config region sizes differ from this build (header %u/%zu, snapshot "
			    "%llu/%zu bytes): built with other limits",
			    h->header_size, sizeof(*h), (unsigned long long)h->snapshot_size,
			    sizeof(struct sluice_snapshot));
	if (h->region_size != size || size != config_region_size())
		return sluice_errf(err, errlen, -EPROTO,
			    "config region is %zu bytes, its header says %llu, expected %zu", size,
			    (unsigned long long)h->region_size, config_region_size());
	for (unsigned int i = 0; i < 2; i++)
		if (h->snapshot_offset[i] != config_snapshot_offset(i))
			return sluice_errf(err, errlen, -EPROTO,
				    "config region snapshot %u at offset %llu, expected %zu", i,
				    (unsigned long long)h->snapshot_offset[i],
				    config_snapshot_offset(i));
	return 0;
}

int sluice_status_validate(const void *mem, size_t size, char *err, size_t errlen)
{
	const struct sluice_status_header *h = mem;
	int rc = validate_identity("status", mem, size, sizeof(*h), SLUICE_STATUS_MAGIC, err,
				   errlen);

	if (rc < 0)
		return rc;
	if (h->header_size != sizeof(*h) ||
	    h->lcore_status_size != sizeof(struct sluice_lcore_status) ||
	    h->max_lcores != SLUICE_MAX_LCORES || h->lcores_offset != sizeof(*h) ||
	    h->port_status_size != sizeof(struct sluice_port_status) ||
	    h->max_ports != SLUICE_MAX_PORTS || h->ports_offset != status_ports_offset())
		return sluice_errf(err, errlen, -EPROTO,
			    "status region sizes differ from this build: built with other limits");
	if (h->n_lcores > SLUICE_MAX_LCORES)
		return sluice_errf(err, errlen, -EPROTO, "status region claims %u lcores, at most %u",
			    h->n_lcores, SLUICE_MAX_LCORES);
	if (h->n_ports > SLUICE_MAX_PORTS)
		return sluice_errf(err, errlen, -EPROTO, "status region claims %u ports, at most %u",
			    h->n_ports, SLUICE_MAX_PORTS);
	if (h->region_size != size || size != status_region_size())
		return sluice_errf(err, errlen, -EPROTO,
			    "status region is %zu bytes, its header says %llu, expected %zu", size,
			    (unsigned long long)h->region_size, status_region_size());
	return 0;
}

/* Map an existing region read-only or read-write; returns its size. */
static int map_existing(const char *name, bool writable, void **mem, size_t *size, char *err,
			size_t errlen)
{
	struct stat sb;
	int fd = shm_open(name, writable ? O_RDWR : O_RDONLY, 0);

	if (fd < 0)
		return sluice_errf(err, errlen, -errno, "cannot open shared memory %s: %s", name,
			    strerror(errno));
	if (fstat(fd, &sb) < 0) {
		int rc = -errno;

		close(fd);
		return sluice_errf(err, errlen, rc, "cannot stat %s: %s", name, strerror(-rc));
	}
	if (sb.st_size <= 0) {
		close(fd);
		return sluice_errf(err, errlen, -EPROTO, "shared memory %s is empty", name);
	}
	*size = (size_t)sb.st_size;
	*mem = mmap(NULL, *size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (*mem == MAP_FAILED)
		return sluice_errf(err, errlen, -errno, "cannot map %s: %s", name, strerror(errno));
	return 0;
}

static int map_new(const char *name, size_t size, void **mem, char *err, size_t errlen)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

	if (fd < 0)
		return sluice_errf(err, errlen, -errno, "cannot create shared memory %s: %s", name,
			    strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		int rc = -errno;

		close(fd);
		shm_unlink(name);
		return sluice_errf(err, errlen, rc, "cannot size %s to %zu bytes: %s", name, size,
			    strerror(-rc));
	}
	*mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*mem == MAP_FAILED) {
		shm_unlink(name);
		return sluice_errf(err, errlen, -errno, "cannot map %s: %s", name, strerror(errno));
	}
	return 0;
}

static void config_fill_handle(struct sluice_config_region *cfg, void *mem, size_t size,
			       bool writable)
{
	cfg->hdr = mem;
	cfg->slot[0] = (struct sluice_snapshot *)((char *)mem + config_snapshot_offset(0));
	cfg->slot[1] = (struct sluice_snapshot *)((char *)mem + config_snapshot_offset(1));
	cfg->size = size;
	cfg->writable = writable;
}

static int config_attach_mode(const char *instance, bool writable, struct sluice_config_region *cfg,
			      char *err, size_t errlen)
{
	char name[REGION_NAME_MAX];
	void *mem;
	size_t size;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = region_name(instance, "config", name, err, errlen);
	if (rc < 0)
		return rc;
	rc = map_existing(name, writable, &mem, &size, err, errlen);
	if (rc < 0)
		return rc;
	rc = sluice_config_validate(mem, size, err, errlen);
	if (rc < 0) {
		munmap(mem, size);
		return rc;
	}
	config_fill_handle(cfg, mem, size, writable);
	return 0;
}

int sluice_config_attach(const char *instance, struct sluice_config_region *cfg, char *err,
			 size_t errlen)
{
	return config_attach_mode(instance, false, cfg, err, errlen);
}

int sluice_config_create(const char *instance, struct sluice_config_region *cfg, char *err,
			 size_t errlen)
{
	struct sluice_config_header *h;
	char name[REGION_NAME_MAX];
	void *mem;
	int rc;

	rc = config_attach_mode(instance, true, cfg, err, errlen);
	if (rc != -ENOENT) {
		if (rc == 0)
			__atomic_store_n(&cfg->hdr->writer_pid, (__u32)getpid(), __ATOMIC_RELAXED);
		return rc;
	}
	sluice_shm_name(instance, "config", name, sizeof(name));
	rc = map_new(name, config_region_size(), &mem, err, errlen);
	if (rc == -EEXIST) /* another writer raced us: attach to its region */
		return config_attach_mode(instance, true, cfg, err, errlen);
	if (rc < 0)
		return rc;
	h = mem;
	h->abi_version = SLUICE_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->region_size = config_region_size();
	h->snapshot_size = sizeof(struct sluice_snapshot);
	h->snapshot_offset[0] = config_snapshot_offset(0);
	h->snapshot_offset[1] = config_snapshot_offset(1);
	h->max_vips = SLUICE_MAX_VIPS;
	h->max_backends = SLUICE_MAX_BACKENDS;
	h->table_pool_slots = SLUICE_TABLE_POOL_SLOTS;
	h->vip_index_size = SLUICE_VIP_INDEX_SIZE;
	h->writer_pid = (__u32)getpid();
	h->generation = 0;
	/* The magic goes last: a reader that sees it sees a whole header. */
	__atomic_store_n(&h->magic, SLUICE_CONFIG_MAGIC, __ATOMIC_RELEASE);
	config_fill_handle(cfg, mem, config_region_size(), true);
	return 0;
}

void sluice_config_close(struct sluice_config_region *cfg)
{
	if (cfg && cfg->hdr)
		munmap(cfg->hdr, cfg->size);
	if (cfg)
		memset(cfg, 0, sizeof(*cfg));
}

struct sluice_snapshot *sluice_config_next_slot(struct sluice_config_region *cfg)
{
	__u64 gen = __atomic_load_n(&cfg->hdr->generation, __ATOMIC_RELAXED);

	return cfg->slot[(gen + 1) & 1];
}

__u64 sluice_config_publish(struct sluice_config_region *cfg)
{
	__u64 gen = __atomic_load_n(&cfg->hdr->generation, __ATOMIC_RELAXED) + 1;

	cfg->slot[gen & 1]->generation = gen;
	__atomic_store_n(&cfg->hdr->generation, gen, __ATOMIC_RELEASE);
	/* Store-load ordering against a worker coming online (it stores its
	 * state, fences, then loads the generation): whichever of the two
	 * fences comes second, its side sees the other's store, so the writer
	 * never counts a worker as absent while that worker reads an older
	 * generation's slot. A release store alone lets x86 satisfy our later
	 * loads of the lcore states first. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&cfg->hdr->writer_heartbeat_ns, sluice_now_ns(), __ATOMIC_RELAXED);
	return gen;
}

int sluice_status_create(const char *instance, unsigned int n_lcores,
			 struct sluice_status_region *st, char *err, size_t errlen)
{
	struct sluice_status_header *h;
	char name[REGION_NAME_MAX];
	void *mem;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = region_name(instance, "status", name, err, errlen);
	if (rc < 0)
		return rc;
	if (n_lcores == 0 || n_lcores > SLUICE_MAX_LCORES)
		return sluice_errf(err, errlen, -EINVAL, "%u lcores: this build supports 1 to %u",
			    n_lcores, SLUICE_MAX_LCORES);
	/* A new data plane starts with fresh counters; sluiced re-attaches. */
	shm_unlink(name);
	rc = map_new(name, status_region_size(), &mem, err, errlen);
	if (rc < 0)
		return rc;
	h = mem;
	h->abi_version = SLUICE_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->region_size = status_region_size();
	h->lcore_status_size = sizeof(struct sluice_lcore_status);
	h->lcores_offset = sizeof(*h);
	h->max_lcores = SLUICE_MAX_LCORES;
	h->n_lcores = n_lcores;
	h->writer_pid = (__u32)getpid();
	h->port_status_size = sizeof(struct sluice_port_status);
	h->ports_offset = status_ports_offset();
	h->max_ports = SLUICE_MAX_PORTS;
	__atomic_store_n(&h->magic, SLUICE_STATUS_MAGIC, __ATOMIC_RELEASE);
	st->hdr = h;
	st->lcores = (struct sluice_lcore_status *)((char *)mem + sizeof(*h));
	st->ports = (struct sluice_port_status *)((char *)mem + status_ports_offset());
	st->size = status_region_size();
	st->writable = true;
	return 0;
}

int sluice_status_attach(const char *instance, struct sluice_status_region *st, char *err,
			 size_t errlen)
{
	char name[REGION_NAME_MAX];
	void *mem;
	size_t size;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = region_name(instance, "status", name, err, errlen);
	if (rc < 0)
		return rc;
	rc = map_existing(name, false, &mem, &size, err, errlen);
	if (rc < 0)
		return rc;
	rc = sluice_status_validate(mem, size, err, errlen);
	if (rc < 0) {
		munmap(mem, size);
		return rc;
	}
	st->hdr = mem;
	st->lcores = (struct sluice_lcore_status *)((char *)mem + sizeof(*st->hdr));
	st->ports = (struct sluice_port_status *)((char *)mem + status_ports_offset());
	st->size = size;
	st->writable = false;
	return 0;
}

void sluice_status_close(struct sluice_status_region *st)
{
	if (st && st->hdr)
		munmap(st->hdr, st->size);
	if (st)
		memset(st, 0, sizeof(*st));
}

bool sluice_lcore_is_live(const struct sluice_lcore_status *l, __u64 now_ns, __u64 stale_ns)
{
	__u32 state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	__u64 hb = __atomic_load_n(&l->heartbeat_ns, __ATOMIC_RELAXED);

	if (state != SLUICE_LCORE_ONLINE)
		return false;
	/* A heartbeat from the future (clock read before ours) is fresh. */
	return hb >= now_ns || now_ns - hb <= stale_ns;
}

bool sluice_status_all_seen(const struct sluice_status_region *st, __u64 gen, __u64 now_ns,
			    __u64 stale_ns, unsigned int *n_live)
{
	unsigned int live = 0, n;
	bool all = true;

	if (st && st->hdr) {
		n = __atomic_load_n(&st->hdr->n_lcores, __ATOMIC_RELAXED);
		if (n > SLUICE_MAX_LCORES)
			n = SLUICE_MAX_LCORES;
		for (unsigned int i = 0; i < n; i++) {
			const struct sluice_lcore_status *l = &st->lcores[i];

			if (!sluice_lcore_is_live(l, now_ns, stale_ns))
				continue;
			live++;
			if (__atomic_load_n(&l->seen_generation, __ATOMIC_ACQUIRE) < gen)
				all = false;
		}
	}
	if (n_live)
		*n_live = live;
	return all;
}

int sluice_config_wait_reclaim(const struct sluice_config_region *cfg,
			       const struct sluice_status_region *st, __u64 stale_ns,
			       __u64 timeout_ns)
{
	__u64 gen = __atomic_load_n(&cfg->hdr->generation, __ATOMIC_RELAXED);
	__u64 start = sluice_now_ns(), now = start;
	unsigned int spins = 0;

	/* The next slot holds gen - 1: free once every live lcore is on gen. */
	while (!sluice_status_all_seen(st, gen, now, stale_ns, NULL)) {
		if (now - start >= timeout_ns)
			return -ETIMEDOUT;
		if (++spins > 64)
			sched_yield();
		now = sluice_now_ns();
	}
	/* Acquire above orders the lcores' reads before our writes. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return 0;
}
