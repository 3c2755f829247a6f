/*
 * sb.c: the shared-memory scoreboard (see sb.h for the contract).
 *
 * Divisions of this file (the pure functions are in sb_logic.c):
 *	seqlock		the writer's begin/end and the reader's bounded copy
 *	parent		create (with stale reclaim), destroy, conf, counters,
 *			bus and queues, spawn, reap
 *	methods		the name table, the fold (parent) and the summing
 *			reader
 *	child		the writers of a child's own slot
 *	sampler		a child's own RSS and CPU, cheaply
 *	reader		open read-only, validate, copy header/slot/deaths,
 *			enumerate /dev/shm
 *
 * The seqlock follows Boehm's "Can seqlocks get along with programming
 * language memory models?" (2012): the writer stores the odd count, issues
 * a release fence, writes the data and publishes the even count with a
 * release store; the reader loads the count with acquire, copies, issues
 * an acquire fence and reloads the count.  The data itself is copied with
 * plain memcpy(), which is what every C seqlock does in practice.
 */
#include "sb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Where Linux shows POSIX shared memory objects, for sb_enumerate(). */
#define SB_SHM_DIR		"/dev/shm"
/* Bytes of the header every layout version keeps in place (sb.h). */
#define SB_PREFIX_LEN		32
/* Busy-wait this many reads of an odd seq before yielding the CPU. */
#define SB_SPIN_TRIES		64
/* sb_create() rounds: one stale reclaim, then give up on a racing peer. */
#define SB_CREATE_TRIES		3

struct sb {
	struct sb_segment	*seg;
	size_t			 size;		/* mapped bytes */
	int			 writable;
	char			 name[SB_SHM_NAME_MAX];
};

/* --------------------------------------------------------------- seqlock */

static uint32_t
seq_write_begin(_Atomic uint32_t *seq)
{
	uint32_t	s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return s + 1;
}

static void
seq_write_end(_Atomic uint32_t *seq, uint32_t odd)
{
	atomic_store_explicit(seq, odd + 1, memory_order_release);
}

static void
cpu_relax(unsigned try)
{
	if (try < SB_SPIN_TRIES) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else
		(void)sched_yield();	/* cannot fail on Linux */
}

/*
 * Copy len bytes at src, guarded by *seq, into dst.  0, or -EAGAIN after
 * SB_READ_RETRIES inconsistent attempts.
 */
static int
seq_read(const _Atomic uint32_t *seq, void *dst, const void *src, size_t len)
{
	uint32_t	s1, s2;
	unsigned	try;

	for (try = 0; try < SB_READ_RETRIES; try++) {
		s1 = atomic_load_explicit(seq, memory_order_acquire);
		if (s1 & 1) {
			cpu_relax(try);
			continue;
		}
		memcpy(dst, src, len);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(seq, memory_order_relaxed);
		if (s1 == s2)
			return 0;
		cpu_relax(try);
	}
	return -EAGAIN;
}

/* Relaxed single-word load of a plain field another process may write. */
#define LOAD_RELAXED(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

/* ---------------------------------------------------------------- parent */

static struct sb *
sb_alloc(const char *name)
{
	struct sb	*sb;

	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return NULL;
	(void)str_copy(sb->name, name, sizeof(sb->name));	/* fits */
	return sb;
}

/*
 * Look at an existing segment `name` that O_EXCL refused.  Returns 0 if
 * it is stale (parent gone, or too short to hold the frozen prefix: a
 * creator that died before ftruncate), -EBUSY with *owner if its parent
 * lives, -EPROTO if it is not a scoreboard, other -errno if it cannot be
 * read.  The prefix is read whatever the layout version, so a parent of
 * another drover version is recognised too.
 */
static int
inspect_existing(const char *name, pid_t *owner)
{
	struct stat	 st;
	void		*p;
	uint32_t	 magic;
	int32_t		 pid;
	int		 fd, rc;

	if ((fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0)) == -1)
		return errno == ENOENT ? 0 : -errno;	/* gone: retry */
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		fd_close(&fd);
		return rc;
	}
	if (st.st_size < SB_PREFIX_LEN) {
		fd_close(&fd);
		return 0;
	}
	p = mmap(NULL, SB_PREFIX_LEN, PROT_READ, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	fd_close(&fd);
	if (rc != 0)
		return rc;
	memcpy(&magic, p, sizeof(magic));
	pid = atomic_load(&((const struct sb_header *)p)->parent_pid);
	(void)munmap(p, SB_PREFIX_LEN);		/* only fails on bad args */
	/* Zero: a creator died before publishing the magic; judge by pid. */
	if (magic != SB_MAGIC && magic != 0)
		return -EPROTO;
	if (sb_pid_alive(pid)) {
		*owner = pid;
		return -EBUSY;
	}
	*owner = pid;
	return 0;
}

pid_t
sb_owner(const char *service, const char *instance)
{
	char	name[SB_SHM_NAME_MAX];
	pid_t	pid = 0;

	if (sb_shm_name(name, sizeof(name), service, instance) != 0 ||
	    inspect_existing(name, &pid) != -EBUSY)
		return 0;
	return pid;
}

static void
init_header(struct sb_segment *seg, const char *service, const char *instance)
{
	struct sb_header	*h = &seg->hdr;
	unsigned		 i;

	/* The object is fresh from ftruncate(): all zero. */
	h->version = SB_LAYOUT_VERSION;
	h->header_size = sizeof(struct sb_header);
	h->slot_size = sizeof(struct sb_slot);
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
	h->methods_offset = offsetof(struct sb_segment, methods);
	h->method_cells = SB_METHOD_CELLS;
	h->method_buckets = SB_METHOD_BUCKETS;
	atomic_store(&h->parent_pid, (int32_t)getpid());
	h->start_us = wall_us();
	(void)str_copy(h->service, service, sizeof(h->service));
	(void)str_copy(h->instance, instance != NULL ? instance : "",
	    sizeof(h->instance));
	for (i = 0; i < SB_SLOTS; i++)
		seg->slots[i].index = i;
	/* Readers check the magic first: publish it last. */
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&h->magic, SB_MAGIC, __ATOMIC_RELEASE);
}

int
sb_create(struct sb **out, const char *service, const char *instance,
    mode_t mode, pid_t *owner)
{
	char		 name[SB_SHM_NAME_MAX];
	struct sb	*sb;
	void		*p;
	pid_t		 old = 0;
	int		 fd = -1, rc, try;

	*out = NULL;
	if ((rc = sb_shm_name(name, sizeof(name), service, instance)) != 0) {
		log_warnx("scoreboard: invalid service name \"%s%s%s\"",
		    service != NULL ? service : "",
		    instance != NULL && *instance ? "@" : "",
		    instance != NULL ? instance : "");
		return rc;
	}
	for (try = 0; try < SB_CREATE_TRIES; try++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			rc = -errno;
			log_warn("shm_open(%s)", name);
			return rc;
		}
		rc = inspect_existing(name, &old);
		if (rc == -EBUSY) {
			log_warnx("scoreboard %s: in use by live parent pid "
			    "%d: is the service already running?", name,
			    (int)old);
			if (owner != NULL)
				*owner = old;
			return rc;
		}
		if (rc == -EPROTO) {
			log_warnx("scoreboard %s: exists but is not a drover "
			    "scoreboard; not touching it", name);
			return rc;
		}
		if (rc != 0) {
			log_warnx("scoreboard %s: cannot inspect existing "
			    "segment: %s", name, strerror(-rc));
			return rc;
		}
		if (old > 0)
			log_warnx("scoreboard %s: replacing stale segment of "
			    "dead parent pid %d", name, (int)old);
		else
			log_warnx("scoreboard %s: replacing a segment whose "
			    "creator died before filling it in", name);
		if (shm_unlink(name) == -1 && errno != ENOENT) {
			rc = -errno;
			log_warn("shm_unlink(%s)", name);
			return rc;
		}
	}
	if (fd < 0) {
		log_warnx("scoreboard %s: still exists after %d attempts",
		    name, SB_CREATE_TRIES);
		return -EEXIST;
	}
	if (ftruncate(fd, sizeof(struct sb_segment)) == -1) {
		rc = -errno;
		log_warn("ftruncate(%s)", name);
		goto out_unlink;
	}
	/* shm_open() honours the umask; the configured mode must win. */
	if (fchmod(fd, mode) == -1) {
		rc = -errno;
		log_warn("fchmod(%s, %04o)", name, (unsigned)mode);
		goto out_unlink;
	}
	p = mmap(NULL, sizeof(struct sb_segment), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		log_warn("mmap(%s)", name);
		goto out_unlink;
	}
	fd_close(&fd);
	if ((sb = sb_alloc(name)) == NULL) {
		rc = -ENOMEM;
		log_warnx("scoreboard %s: out of memory", name);
		(void)munmap(p, sizeof(struct sb_segment));
		goto out_unlink;
	}
	sb->seg = p;
	sb->size = sizeof(struct sb_segment);
	sb->writable = 1;
	init_header(sb->seg, service, instance);
	*out = sb;
	return 0;

out_unlink:
	fd_close(&fd);
	(void)shm_unlink(name);		/* ours; failure leaves a stale one */
	return rc;
}

int
sb_chown(struct sb *sb, uid_t uid, gid_t gid)
{
	int	fd, rc = 0;

	/* the mapping keeps no fd: open the name again, ours alone */
	if ((fd = shm_open(sb->name, O_RDWR | O_CLOEXEC, 0)) == -1) {
		rc = -errno;
		log_warn("shm_open(%s)", sb->name);
		return rc;
	}
	if (fchown(fd, uid, gid) == -1) {
		rc = -errno;
		log_warn("fchown(%s, %u, %u)", sb->name, (unsigned)uid,
		    (unsigned)gid);
	}
	fd_close(&fd);
	return rc;
}

void
sb_destroy(struct sb **sbp)
{
	struct sb	*sb;

	if (sbp == NULL || (sb = *sbp) == NULL)
		return;
	if (sb->writable &&
	    atomic_load(&sb->seg->hdr.parent_pid) == (int32_t)getpid() &&
	    shm_unlink(sb->name) == -1)
		log_warn("shm_unlink(%s)", sb->name);
	sb_close(sbp);
}

void
sb_set_conf(struct sb *sb, uint32_t generation, const struct sb_limits *lim)
{
	struct sb_header	*h = &sb->seg->hdr;
	uint32_t		 odd;

	odd = seq_write_begin(&h->conf_seq);
	h->generation = generation;
	h->limits = *lim;
	seq_write_end(&h->conf_seq, odd);
}

void
sb_set_max_children_now(struct sb *sb, uint32_t n)
{
	atomic_store_explicit(&sb->seg->hdr.max_children_now, n,
	    memory_order_relaxed);
}

static void
hdr_count(struct sb_header *h, unsigned c, uint64_t n)
{
	if (c >= SB_NCOUNTERS || c == SB_C_QUEUED || c == SB_C_MAX_QUEUED)
		return;
	atomic_fetch_add_explicit(&h->counters[c], n, memory_order_relaxed);
}

void
sb_count(struct sb *sb, enum sb_counter c, uint64_t n)
{
	hdr_count(&sb->seg->hdr, c, n);
}

void
sb_set_queued(struct sb *sb, uint64_t n)
{
	struct sb_header	*h = &sb->seg->hdr;
	uint64_t		 max;

	atomic_store_explicit(&h->counters[SB_C_QUEUED], n,
	    memory_order_relaxed);
	/* The parent is the only writer: no CAS loop needed. */
	max = atomic_load_explicit(&h->counters[SB_C_MAX_QUEUED],
	    memory_order_relaxed);
	if (n > max)
		atomic_store_explicit(&h->counters[SB_C_MAX_QUEUED], n,
		    memory_order_relaxed);
	if (n == 0)
		atomic_store_explicit(&h->backlog_oldest_mono_us, 0,
		    memory_order_relaxed);
}

void
sb_set_backlog(struct sb *sb, uint64_t n, uint64_t oldest_mono_us)
{
	sb_set_queued(sb, n);
	atomic_store_explicit(&sb->seg->hdr.backlog_oldest_mono_us,
	    n == 0 ? 0 : oldest_mono_us, memory_order_relaxed);
}

void
sb_set_bus(struct sb *sb, uint32_t kind, uint32_t state)
{
	struct sb_header	*h = &sb->seg->hdr;

	atomic_store_explicit(&h->bus_kind, kind, memory_order_relaxed);
	atomic_store_explicit(&h->bus_state, state, memory_order_relaxed);
}

void
sb_set_svc_queue(struct sb *sb, const struct sb_svc_queue *q)
{
	struct sb_header	*h = &sb->seg->hdr;
	uint32_t		 odd;

	odd = seq_write_begin(&h->queue_seq);
	h->svc_queue = *q;
	seq_write_end(&h->queue_seq, odd);
}

struct sb_slot *
sb_slot(struct sb *sb, unsigned idx)
{
	return idx < SB_SLOTS ? &sb->seg->slots[idx] : NULL;
}

struct sb_slot *
sb_slot_spawn(struct sb *sb, unsigned idx, uint32_t generation)
{
	struct sb_slot	*s;
	uint32_t	 odd;
	uint64_t	 now = wall_us();

	if ((s = sb_slot(sb, idx)) == NULL)
		return NULL;
	/* Figures a previous child left (not reaped through us) are kept. */
	sb_methods_fold(sb, idx);
	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->state, SB_STARTING, memory_order_relaxed);
	atomic_store_explicit(&s->pid, 0, memory_order_relaxed);
	atomic_store_explicit(&s->bus_state, SB_BUS_NONE,
	    memory_order_relaxed);
	atomic_store_explicit(&s->exit_reason, SB_EXIT_NONE,
	    memory_order_relaxed);
	s->generation = generation;
	s->errors = 0;
	s->requests = 0;
	s->spawn_us = now;
	s->spawn_mono_us = mono_us();
	s->state_us = now;
	s->req_start_us = 0;
	s->req_start_mono_us = 0;
	s->last_dur_us = 0;
	s->last_cpu_us = 0;
	s->rss_kb = 0;
	s->rss_base_kb = 0;
	s->cpu_us = 0;
	s->thread_trace = 0;
	memset(s->method, 0, sizeof(s->method));
	memset(s->client, 0, sizeof(s->client));
	memset(s->thread, 0, sizeof(s->thread));
	memset(s->xid, 0, sizeof(s->xid));
	memset(s->addr, 0, sizeof(s->addr));
	seq_write_end(&s->seq, odd);
	sb_count(sb, SB_C_SPAWNED, 1);
	return s;
}

void
sb_slot_reaped(struct sb *sb, unsigned idx, pid_t pid, int wstatus)
{
	sb_slot_reaped_by(sb, idx, pid, wstatus, SB_EXIT_NONE);
}

void
sb_slot_reaped_by(struct sb *sb, unsigned idx, pid_t pid, int wstatus,
    uint32_t parent_says)
{
	struct sb_header	*h = &sb->seg->hdr;
	struct sb_slot		*s;
	struct sb_death		*d;
	uint64_t		 total, now = wall_us();
	uint32_t		 seq, odd, reason;
	int			 abnormal;

	if ((s = sb_slot(sb, idx)) == NULL)
		return;
	/* A child killed between the odd and even store left it odd. */
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	if (seq & 1)
		atomic_store_explicit(&s->seq, seq + 1, memory_order_release);

	total = atomic_load_explicit(&h->deaths_total, memory_order_relaxed);
	d = &h->deaths[total % SB_DEATHS];
	odd = seq_write_begin(&d->seq);
	d->slot = idx;
	d->pid = (int32_t)pid;
	d->generation = s->generation;
	if (WIFSIGNALED(wstatus)) {
		d->exit_code = -1;
		d->signal = WTERMSIG(wstatus);
		d->core_dumped = WCOREDUMP(wstatus) ? 1 : 0;
		abnormal = 1;
	} else {
		d->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
		d->signal = 0;
		d->core_dumped = 0;
		abnormal = d->exit_code != 0;
	}
	reason = sb_exit_reason_pick(atomic_load_explicit(&s->exit_reason,
	    memory_order_relaxed), parent_says, wstatus);
	/* a child that retired itself exits with a code of its own
	 * (droverd's "recycle"), which is no failure */
	if (!WIFSIGNALED(wstatus) && sb_exit_reason_recycles(reason))
		abnormal = 0;
	d->exit_reason = reason;
	d->requests = s->requests;
	d->time_us = now;
	d->rss_kb = s->rss_kb;
	d->cpu_us = s->cpu_us;
	memcpy(d->last_method, s->method, sizeof(d->last_method));
	d->last_method[sizeof(d->last_method) - 1] = '\0';
	seq_write_end(&d->seq, odd);
	atomic_store_explicit(&h->deaths_total, total + 1,
	    memory_order_release);
	if (abnormal)
		sb_count(sb, SB_C_ABNORMAL, 1);
	if (sb_exit_reason_recycles(reason))
		sb_count(sb, SB_C_RECYCLED, 1);
	sb_methods_fold(sb, idx);

	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->state, abnormal ? SB_DEAD : SB_EMPTY,
	    memory_order_relaxed);
	if (!abnormal)
		atomic_store_explicit(&s->pid, 0, memory_order_relaxed);
	else
		atomic_store_explicit(&s->pid, (int32_t)pid,
		    memory_order_relaxed);
	atomic_store_explicit(&s->exit_reason, reason, memory_order_relaxed);
	s->state_us = now;
	seq_write_end(&s->seq, odd);
}

void
sb_slot_clear(struct sb *sb, unsigned idx)
{
	struct sb_slot	*s;
	uint32_t	 odd;

	if ((s = sb_slot(sb, idx)) == NULL)
		return;
	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->state, SB_EMPTY, memory_order_relaxed);
	atomic_store_explicit(&s->pid, 0, memory_order_relaxed);
	s->state_us = wall_us();
	seq_write_end(&s->seq, odd);
}

/* --------------------------------------------------------------- methods */

int
sb_methods_set(struct sb *sb, const char *const *names, size_t n)
{
	struct sb_methods	*m = &sb->seg->methods;
	char			 cut[SB_METHOD_LEN];
	uint32_t		 named, odd;
	size_t			 i;

	if (n > SB_METHOD_NAMED)
		n = SB_METHOD_NAMED;
	named = atomic_load_explicit(&m->named, memory_order_relaxed);
	if (named != 0) {
		/* Again: fine if it is the same table, else indices moved. */
		if (named != n)
			return -EBUSY;
		for (i = 0; i < n; i++) {
			(void)str_copy(cut, names[i] != NULL ? names[i] : "",
			    sizeof(cut));	/* cut as stored */
			if (strncmp(cut, m->names[i], sizeof(cut)) != 0)
				return -EBUSY;
		}
		return (int)n;
	}
	odd = seq_write_begin(&m->seq);
	for (i = 0; i < n; i++) {
		memset(m->names[i], 0, sizeof(m->names[i]));
		(void)str_copy(m->names[i], names[i] != NULL ? names[i] : "",
		    sizeof(m->names[i]));
	}
	atomic_store_explicit(&m->named, (uint32_t)n, memory_order_relaxed);
	seq_write_end(&m->seq, odd);
	return (int)n;
}

unsigned
sb_method_index(const struct sb *sb, const char *name)
{
	const struct sb_methods	*m = &sb->seg->methods;
	uint32_t		 i, n;

	n = atomic_load_explicit(&m->named, memory_order_acquire);
	if (name == NULL || n > SB_METHOD_NAMED)
		return SB_METHOD_OTHER;
	for (i = 0; i < n; i++)
		if (strncmp(m->names[i], name, SB_METHOD_LEN) == 0)
			return i;
	return SB_METHOD_OTHER;
}

/* dst += src, field by field; src = 0.  The parent, during a fold. */
static void
cell_move(struct sb_method_cell *dst, struct sb_method_cell *src)
{
	unsigned	k;

	for (k = 0; k < SB_METHOD_BUCKETS; k++) {
		sb_cell_add(&dst->buckets[k], atomic_load_explicit(
		    &src->buckets[k], memory_order_relaxed));
		atomic_store_explicit(&src->buckets[k], 0,
		    memory_order_relaxed);
	}
#define MOVE(f)	do {							\
	sb_cell_add(&dst->f, atomic_load_explicit(&src->f,		\
	    memory_order_relaxed));					\
	atomic_store_explicit(&src->f, 0, memory_order_relaxed);	\
} while (0)
	MOVE(sum_us);
	MOVE(err_4xx);
	MOVE(err_5xx);
	MOVE(err_other);
#undef MOVE
}

void
sb_methods_fold(struct sb *sb, unsigned idx)
{
	struct sb_methods	*m = &sb->seg->methods;
	struct sb_slot		*s;
	uint64_t		 used[SB_METHOD_CELLS / 64], bits;
	uint32_t		 odd;
	unsigned		 w, i;
	int			 any = 0;

	if ((s = sb_slot(sb, idx)) == NULL)
		return;
	for (w = 0; w < ARRAY_LEN(used); w++) {
		used[w] = atomic_load_explicit(&s->methods_used[w],
		    memory_order_relaxed);
		any |= used[w] != 0;
	}
	if (!any)
		return;
	odd = seq_write_begin(&m->seq);
	for (w = 0; w < ARRAY_LEN(used); w++) {
		for (bits = used[w]; bits != 0; bits &= bits - 1) {
			i = w * 64 + (unsigned)__builtin_ctzll(bits);
			cell_move(&m->rows[SB_METHOD_RETIRED].cells[i],
			    &m->rows[idx].cells[i]);
		}
		atomic_fetch_or_explicit(&m->retired_used[w], used[w],
		    memory_order_relaxed);
		atomic_store_explicit(&s->methods_used[w], 0,
		    memory_order_relaxed);
	}
	seq_write_end(&m->seq, odd);
}

/* ----------------------------------------------------------------- child */

/* The header of the segment a slot lives in (slots know their index). */
static struct sb_header *
slot_header(struct sb_slot *s)
{
	struct sb_slot	*first = s - s->index;

	return (struct sb_header *)(void *)((char *)first -
	    offsetof(struct sb_segment, slots));
}

void
sb_slot_child_start(struct sb_slot *s, pid_t pid)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->pid, (int32_t)pid, memory_order_relaxed);
	s->state_us = wall_us();
	seq_write_end(&s->seq, odd);
}

void
sb_slot_set_state(struct sb_slot *s, enum sb_state state)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->state, state, memory_order_relaxed);
	s->state_us = wall_us();
	seq_write_end(&s->seq, odd);
}

void
sb_slot_set_bus(struct sb_slot *s, uint32_t bus_state)
{
	atomic_store_explicit(&s->bus_state, bus_state, memory_order_relaxed);
}

void
sb_slot_set_exit_reason(struct sb_slot *s, uint32_t reason)
{
	atomic_store_explicit(&s->exit_reason, reason, memory_order_relaxed);
}

/* Copy a possibly NULL string into a fixed field, zero-padding the rest. */
static void
field_set(char *dst, size_t dstsz, const char *src)
{
	size_t	n = 0;

	if (src != NULL) {
		n = strnlen(src, dstsz - 1);
		memcpy(dst, src, n);
	}
	memset(dst + n, 0, dstsz - n);
}

void
sb_slot_set_addr(struct sb_slot *s, const char *addr)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	field_set(s->addr, sizeof(s->addr), addr);
	seq_write_end(&s->seq, odd);
}

void
sb_slot_begin_request(struct sb_slot *s, const struct sb_request *r)
{
	uint64_t	now = wall_us();
	uint64_t	mono = r->start_mono_us != 0 ? r->start_mono_us :
			    mono_us();
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	atomic_store_explicit(&s->state, SB_BUSY, memory_order_relaxed);
	s->state_us = now;
	s->req_start_us = r->start_us != 0 ? r->start_us : now;
	s->req_start_mono_us = mono;
	s->thread_trace = r->thread_trace;
	field_set(s->method, sizeof(s->method), r->method);
	field_set(s->client, sizeof(s->client), r->client);
	field_set(s->thread, sizeof(s->thread), r->thread);
	field_set(s->xid, sizeof(s->xid), r->xid);
	seq_write_end(&s->seq, odd);
}

void
sb_slot_end_request(struct sb_slot *s, uint64_t dur_us, int ok,
    enum sb_state next_state)
{
	struct sb_header	*h = slot_header(s);
	uint32_t		 odd, slow_ms;

	odd = seq_write_begin(&s->seq);
	s->requests++;
	if (!ok)
		s->errors++;
	s->last_dur_us = dur_us;
	atomic_store_explicit(&s->state, next_state, memory_order_relaxed);
	s->state_us = wall_us();
	seq_write_end(&s->seq, odd);

	hdr_count(h, ok ? SB_C_COMPLETED : SB_C_FAILED, 1);
	slow_ms = LOAD_RELAXED(&h->limits.slow_request_ms);
	if (slow_ms != 0 && dur_us >= (uint64_t)slow_ms * 1000u)
		hdr_count(h, SB_C_SLOW, 1);
}

void
sb_slot_set_rss(struct sb_slot *s, uint64_t rss_kb)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	s->rss_kb = rss_kb;
	seq_write_end(&s->seq, odd);
}

void
sb_slot_count(struct sb_slot *s, enum sb_counter c, uint64_t n)
{
	hdr_count(slot_header(s), c, n);
}

uint32_t
sb_slot_state(const struct sb_slot *s)
{
	return atomic_load_explicit(&s->state, memory_order_relaxed);
}

pid_t
sb_slot_pid(const struct sb_slot *s)
{
	return atomic_load_explicit(&s->pid, memory_order_relaxed);
}

void
sb_slot_set_baseline(struct sb_slot *s, const struct sb_sample *x)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	s->rss_kb = x->rss_kb;
	s->rss_base_kb = x->rss_kb;
	s->cpu_us = x->cpu_us;
	seq_write_end(&s->seq, odd);
}

void
sb_slot_set_sample(struct sb_slot *s, const struct sb_sample *x)
{
	uint32_t	odd;

	odd = seq_write_begin(&s->seq);
	s->rss_kb = x->rss_kb;
	if (s->cpu_us != 0 && x->cpu_us >= s->cpu_us)
		s->last_cpu_us = x->cpu_us - s->cpu_us;
	s->cpu_us = x->cpu_us;
	seq_write_end(&s->seq, odd);
}

/* --------------------------------------------------------------- sampler */

/*
 * /proc/self/statm is "size resident shared text lib data dt" in pages:
 * the kernel prints counters it keeps per mm, no page-table walk, so a
 * pread() at offset 0 of the file opened once costs one short syscall.
 * The CPU clock is a syscall too (not in the vDSO), but exact.
 */
#define SB_STATM	"/proc/self/statm"
/* statm's seven numbers fit easily; only the first two are read. */
#define SB_STATM_BUF	128

int
sb_sampler_open(struct sb_sampler *sp)
{
	long	page = sysconf(_SC_PAGESIZE);

	sp->fd = -1;
	sp->page_kb = 0;
	if (page < 1024)
		return -EINVAL;		/* Linux pages are 4 KiB or more */
	if ((sp->fd = open(SB_STATM, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	sp->page_kb = (uint32_t)(page / 1024);
	return 0;
}

int
sb_sample(struct sb_sampler *sp, struct sb_sample *out)
{
	char		 buf[SB_STATM_BUF];
	const char	*p, *end;
	struct timespec	 ts;
	uint64_t	 pages = 0;
	ssize_t		 n;

	if (sp->fd < 0)
		return -EBADF;
	if ((n = pread(sp->fd, buf, sizeof(buf), 0)) == -1)
		return -errno;
	/* Skip "size ", then the resident page count. */
	end = buf + n;
	for (p = buf; p < end && *p != ' '; p++)
		;
	if (++p >= end || *p < '0' || *p > '9')
		return -EPROTO;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
		return -errno;
	out->rss_kb = pages * sp->page_kb;
	out->cpu_us = (uint64_t)ts.tv_sec * 1000000u +
	    (uint64_t)ts.tv_nsec / 1000u;
	return 0;
}

void
sb_sampler_close(struct sb_sampler *sp)
{
	fd_close(&sp->fd);
}

/* ---------------------------------------------------------------- reader */

/* Check a mapped header against this build's layout; see sb.h errors. */
static int
validate(const struct sb_header *h, size_t size)
{
	uint32_t	magic = LOAD_RELAXED(&h->magic);

	if (magic == 0)
		return -EBADMSG;	/* zero-filled: half created, or junk */
	if (magic != SB_MAGIC || h->version != SB_LAYOUT_VERSION)
		return -EPROTO;
	if (h->header_size != sizeof(struct sb_header) ||
	    h->slot_size != sizeof(struct sb_slot) ||
	    h->slot_count != SB_SLOTS || h->death_count != SB_DEATHS ||
	    h->methods_offset != offsetof(struct sb_segment, methods) ||
	    h->method_cells != SB_METHOD_CELLS ||
	    h->method_buckets != SB_METHOD_BUCKETS ||
	    size < sizeof(struct sb_segment))
		return -EBADMSG;
	return 0;
}

int
sb_peek_version(const char *shm_name, uint32_t *version)
{
	struct stat	 st;
	const uint32_t	*w;
	void		*p;
	int		 fd, rc;

	if ((fd = shm_open(shm_name, O_RDONLY | O_CLOEXEC, 0)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		fd_close(&fd);
		return rc;
	}
	if (st.st_size < SB_PREFIX_LEN) {
		fd_close(&fd);
		return -EBADMSG;
	}
	p = mmap(NULL, SB_PREFIX_LEN, PROT_READ, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	fd_close(&fd);
	if (rc != 0)
		return rc;
	w = p;
	if (w[0] == SB_MAGIC)
		*version = w[1];
	rc = w[0] == SB_MAGIC ? 0 : w[0] == 0 ? -EBADMSG : -EPROTO;
	(void)munmap(p, SB_PREFIX_LEN);		/* only fails on bad args */
	return rc;
}

int
sb_open(struct sb **out, const char *shm_name)
{
	struct stat	 st;
	struct sb	*sb;
	void		*p;
	size_t		 len;
	int		 fd, rc;

	*out = NULL;
	if (shm_name == NULL || shm_name[0] != '/' ||
	    strlen(shm_name) >= SB_SHM_NAME_MAX)
		return -EINVAL;
	if ((fd = shm_open(shm_name, O_RDONLY | O_CLOEXEC, 0)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		fd_close(&fd);
		return rc;
	}
	if (st.st_size < SB_PREFIX_LEN) {
		fd_close(&fd);
		return -EBADMSG;
	}
	/* Map what this layout needs, or all of a shorter object. */
	len = (size_t)st.st_size < sizeof(struct sb_segment) ?
	    (size_t)st.st_size : sizeof(struct sb_segment);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	fd_close(&fd);
	if (rc != 0)
		return rc;
	/* A short object is refused before any field past the prefix. */
	if (len < sizeof(struct sb_header)) {
		const uint32_t *w = p;

		rc = w[0] == SB_MAGIC && w[1] == SB_LAYOUT_VERSION ?
		    -EBADMSG : w[0] == 0 ? -EBADMSG : -EPROTO;
	} else
		rc = validate(p, len);
	if (rc == 0 && (sb = sb_alloc(shm_name)) == NULL)
		rc = -ENOMEM;
	if (rc != 0) {
		(void)munmap(p, len);	/* only fails on bad args */
		return rc;
	}
	sb->seg = p;
	sb->size = len;
	sb->writable = 0;
	*out = sb;
	return 0;
}

void
sb_close(struct sb **sbp)
{
	struct sb	*sb;

	if (sbp == NULL || (sb = *sbp) == NULL)
		return;
	if (munmap(sb->seg, sb->size) == -1)
		log_warn("munmap(%s)", sb->name);
	free(sb);
	*sbp = NULL;
}

const char *
sb_name(const struct sb *sb)
{
	return sb->name;
}

/* Copy a fixed field and terminate it, whatever the segment holds. */
static void
field_get(char *dst, const char *src, size_t sz)
{
	memcpy(dst, src, sz);
	dst[sz - 1] = '\0';
}

int
sb_read_info(const struct sb *sb, struct sb_info *info)
{
	const struct sb_header	*h = &sb->seg->hdr;
	struct {
		uint32_t	 generation;
		struct sb_limits limits;
	} conf;
	unsigned		 i;
	int			 rc;

	/* generation + limits: 4 + 64 bytes, no padding in between. */
	_Static_assert(sizeof(conf) == 4 + sizeof(struct sb_limits),
	    "conf block");

	memset(info, 0, sizeof(*info));
	/* generation and limits are adjacent, so one copy takes both. */
	_Static_assert(offsetof(struct sb_header, limits) ==
	    offsetof(struct sb_header, generation) + 4, "conf block");
	rc = seq_read(&h->conf_seq, &conf, &h->generation,
	    sizeof(uint32_t) + sizeof(struct sb_limits));
	if (rc != 0)
		return rc;
	info->version = h->version;
	info->parent_pid = atomic_load_explicit(&h->parent_pid,
	    memory_order_relaxed);
	info->parent_alive = sb_pid_alive(info->parent_pid);
	info->start_us = h->start_us;
	field_get(info->service, h->service, sizeof(info->service));
	field_get(info->instance, h->instance, sizeof(info->instance));
	info->generation = conf.generation;
	info->limits = conf.limits;
	info->max_children_now = atomic_load_explicit(&h->max_children_now,
	    memory_order_relaxed);
	for (i = 0; i < SB_NCOUNTERS; i++)
		info->counters[i] = atomic_load_explicit(&h->counters[i],
		    memory_order_relaxed);
	info->deaths_total = atomic_load_explicit(&h->deaths_total,
	    memory_order_acquire);
	info->bus_state = atomic_load_explicit(&h->bus_state,
	    memory_order_relaxed);
	info->bus_kind = atomic_load_explicit(&h->bus_kind,
	    memory_order_relaxed);
	info->backlog_oldest_mono_us = atomic_load_explicit(
	    &h->backlog_oldest_mono_us, memory_order_relaxed);
	info->methods_named = atomic_load_explicit(&sb->seg->methods.named,
	    memory_order_acquire);
	if (info->methods_named > SB_METHOD_NAMED)
		info->methods_named = SB_METHOD_NAMED;
	return seq_read(&h->queue_seq, &info->svc_queue, &h->svc_queue,
	    sizeof(info->svc_queue));
}

int
sb_read_slot(const struct sb *sb, unsigned idx, struct sb_slot_info *info)
{
	const struct sb_slot	*s;
	struct sb_slot		 c;

	memset(info, 0, sizeof(*info));
	info->index = idx;
	if (idx >= SB_SLOTS)
		return -EINVAL;
	s = &sb->seg->slots[idx];
	if (seq_read(&s->seq, &c, s, sizeof(c)) != 0) {
		info->unstable = 1;
		return -EAGAIN;
	}
	info->state = atomic_load_explicit(&c.state, memory_order_relaxed);
	info->pid = atomic_load_explicit(&c.pid, memory_order_relaxed);
	info->generation = c.generation;
	info->errors = c.errors;
	info->requests = c.requests;
	info->spawn_us = c.spawn_us;
	info->spawn_mono_us = c.spawn_mono_us;
	info->state_us = c.state_us;
	info->req_start_us = c.req_start_us;
	info->req_start_mono_us = c.req_start_mono_us;
	info->last_dur_us = c.last_dur_us;
	info->last_cpu_us = c.last_cpu_us;
	info->rss_kb = c.rss_kb;
	info->rss_base_kb = c.rss_base_kb;
	info->cpu_us = c.cpu_us;
	info->thread_trace = c.thread_trace;
	info->bus_state = atomic_load_explicit(&c.bus_state,
	    memory_order_relaxed);
	info->exit_reason = atomic_load_explicit(&c.exit_reason,
	    memory_order_relaxed);
	field_get(info->method, c.method, sizeof(info->method));
	field_get(info->client, c.client, sizeof(info->client));
	field_get(info->thread, c.thread, sizeof(info->thread));
	field_get(info->xid, c.xid, sizeof(info->xid));
	field_get(info->addr, c.addr, sizeof(info->addr));
	return 0;
}

int
sb_read_deaths(const struct sb *sb, struct sb_death_info *out, size_t max)
{
	const struct sb_header	*h = &sb->seg->hdr;
	struct sb_death		 c;
	uint64_t		 total, k, n;
	int			 got = 0;

	total = atomic_load_explicit(&h->deaths_total, memory_order_acquire);
	n = total < SB_DEATHS ? total : SB_DEATHS;
	if (n > max)
		n = max;
	for (k = 0; k < n; k++) {
		const struct sb_death *d = &h->deaths[(total - 1 - k) %
		    SB_DEATHS];

		if (seq_read(&d->seq, &c, d, sizeof(c)) != 0)
			continue;
		out[got].slot = c.slot;
		out[got].pid = c.pid;
		out[got].generation = c.generation;
		out[got].exit_code = c.exit_code;
		out[got].signal = c.signal;
		out[got].core_dumped = c.core_dumped != 0;
		out[got].exit_reason = c.exit_reason;
		out[got].requests = c.requests;
		out[got].time_us = c.time_us;
		out[got].rss_kb = c.rss_kb;
		out[got].cpu_us = c.cpu_us;
		field_get(out[got].last_method, c.last_method,
		    sizeof(out[got].last_method));
		got++;
	}
	return got;
}

/* out[i] += the used cells of one row. */
static void
add_row(struct sb_method_info *out, const struct sb_method_row *row,
    const _Atomic uint64_t *used)
{
	const struct sb_method_cell	*c;
	struct sb_method_info		*o;
	uint64_t			 bits;
	unsigned			 w, i, k;

	for (w = 0; w < SB_METHOD_CELLS / 64; w++) {
		bits = atomic_load_explicit(&used[w], memory_order_relaxed);
		for (; bits != 0; bits &= bits - 1) {
			i = w * 64 + (unsigned)__builtin_ctzll(bits);
			c = &row->cells[i];
			o = &out[i];
			for (k = 0; k < SB_METHOD_BUCKETS; k++)
				o->buckets[k] += atomic_load_explicit(
				    &c->buckets[k], memory_order_relaxed);
			o->sum_us += atomic_load_explicit(&c->sum_us,
			    memory_order_relaxed);
			o->err_4xx += atomic_load_explicit(&c->err_4xx,
			    memory_order_relaxed);
			o->err_5xx += atomic_load_explicit(&c->err_5xx,
			    memory_order_relaxed);
			o->err_other += atomic_load_explicit(&c->err_other,
			    memory_order_relaxed);
		}
	}
}

int
sb_read_methods(const struct sb *sb, struct sb_method_info *out)
{
	const struct sb_segment	*seg = sb->seg;
	const struct sb_methods	*m = &seg->methods;
	uint32_t		 s1, s2, n;
	unsigned		 try, i, k;

	for (try = 0; try < SB_READ_RETRIES; try++) {
		s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
		if (s1 & 1) {
			cpu_relax(try);
			continue;
		}
		memset(out, 0, SB_METHOD_CELLS * sizeof(*out));
		n = atomic_load_explicit(&m->named, memory_order_relaxed);
		if (n > SB_METHOD_NAMED)
			n = SB_METHOD_NAMED;
		for (i = 0; i < n; i++)
			field_get(out[i].name, m->names[i],
			    sizeof(out[i].name));
		for (i = 0; i < SB_SLOTS; i++)
			add_row(out, &m->rows[i], seg->slots[i].methods_used);
		add_row(out, &m->rows[SB_METHOD_RETIRED], m->retired_used);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&m->seq, memory_order_relaxed);
		if (s1 != s2) {
			cpu_relax(try);
			continue;
		}
		(void)str_copy(out[SB_METHOD_OTHER].name,
		    SB_METHOD_OTHER_NAME, sizeof(out[0].name));
		for (i = 0; i < SB_METHOD_CELLS; i++)
			for (k = 0; k < SB_METHOD_BUCKETS; k++)
				out[i].calls += out[i].buckets[k];
		return (int)n;
	}
	return -EAGAIN;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sb_enumerate(int (*cb)(const char *, void *), void *arg)
{
	DIR		 *dir;
	struct dirent	 *de;
	char		**names = NULL, **tmp, name[SB_SHM_NAME_MAX];
	size_t		  n = 0, cap = 0, i;
	int		  rc = 0;

	if ((dir = opendir(SB_SHM_DIR)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, SB_SHM_PREFIX,
		    sizeof(SB_SHM_PREFIX) - 1) != 0 ||
		    strlen(de->d_name) + 2 > sizeof(name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((tmp = reallocarray(names, cap,
			    sizeof(*names))) == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			names = tmp;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && rc == 0; i++) {
		(void)snprintf(name, sizeof(name), "/%s", names[i]); /* fits */
		rc = cb(name, arg);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	(void)closedir(dir);		/* read-only directory stream */
	return rc;
}
