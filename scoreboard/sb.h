/*
 * sb.h: the shared-memory scoreboard, one POSIX segment per service.
 *
 * What it is for.  Every service parent (droverd) publishes its limits,
 * its counters, its bus and queue, the state of each of its children and
 * per-method request figures in a segment named "/drover.<service>" or
 * "/drover.<service>@<instance>" (as in /dev/shm/drover.opensrf.math).
 * drover-status(8) maps it read-only and shows it to ops staff; the
 * parent reads a dead child's slot to clean up after it; tests wait on
 * slot states instead of sleeping.
 *
 * Layout version 2 (frozen by the _Static_asserts below; bump
 * SB_LAYOUT_VERSION on any change, even of a reserved field's meaning):
 *
 *	offset 0	struct sb_header	   6592	limits, counters, bus,
 *							queues, death ring
 *	6592		struct sb_slot[256]	 229376	one per possible child
 *	237568		struct sb_methods	6336512	method names, then one
 *							row of cells per slot
 *							plus the retired row
 *	total					6574080	(6.3 MiB, sparse)
 *
 * Only fixed-width integers, lock-free _Atomic words and fixed char
 * arrays: no pointers, no long, no time_t, so a reader built separately
 * (or a 32-bit one) sees the same bytes.  Times named *_us are Unix
 * wall-clock microseconds, *_mono_us CLOCK_MONOTONIC microseconds (the
 * same clock in every process of the host: mono_us() in util.h), 0 =
 * never; durations are microseconds.  The first 32 bytes (magic ..
 * flags) keep their place in every version so that any drover can tell
 * whose segment it is looking at, and which layout it has.
 *
 * Writers.  Each field has one writer at a time, named beside it:
 *	- "parent": droverd's parent process only;
 *	- "child": the child that owns the slot, between its fork and its
 *	  reaping; before the fork (sb_slot_spawn()) and once the child is
 *	  reaped (sb_slot_reaped*(), sb_slot_clear(), sb_methods_fold()) the
 *	  parent is the slot's writer;
 *	- "any": header counters are atomic adds by any process that maps
 *	  the segment (children count completed/failed/slow requests).
 *
 * Readers never block writers.  Multi-field data (a slot, the limits, a
 * death record, the service queue sample, the method figures across a
 * fold) is guarded by a sequence lock: the writer makes the word odd,
 * writes, makes it even; a reader copies the data and keeps the copy
 * only if the word was even and unchanged around it, retrying at most
 * SB_READ_RETRIES times before reporting "unstable" (-EAGAIN).  Copied
 * strings are NUL-terminated by the reader, whatever the segment holds.
 * Single words (states, pid, counters, bus words) are atomics and may be
 * read on their own without the lock.
 *
 * Per-method figures.  The parent publishes the plugin's method names
 * once, before the first fork (sb_methods_set()): cell i counts the
 * method with index i in that table; SB_METHOD_OTHER counts everything
 * else (methods past the table, unknown methods).  Each slot has its own
 * row of cells, written only by its child with plain relaxed load+store
 * pairs (one writer: no lock prefix, no fence, no syscall, no division),
 * and a bitmap of the cells it used (sb_slot.methods_used), so readers
 * and the fold touch only those.  When a child is reaped the parent
 * folds its row into the retired row and zeroes it, under the methods
 * seqlock; a reader sums every slot's used cells plus the retired row
 * inside that seqlock, so a fold is never counted twice nor missed.
 *
 * Memory.  The method rows are 257 x 24 KiB = 6 MiB of address space in
 * tmpfs, but tmpfs allocates a page only when it is first touched, and
 * reading a hole through a mapping allocates it too: that is why every
 * reader and the fold go through the bitmaps.  A child that calls k
 * distinct methods touches at most k pages of its row (21 cells share a
 * page, so the first 21 methods of the table sit on one); the slots and
 * header are 230 KiB, all touched at create.  A service of 20 methods and
 * 256 children thus holds about 256 + 57 pages, 1.2 MiB, and a typical
 * one with 10 children well under 300 KiB.
 *
 * Mappings.  The parent creates and maps read-write (sb_create()) before
 * forking; children inherit the mapping and use the same struct sb and
 * the struct sb_slot pointer the MPM hands them (worker_env.slot).
 * Readers (drover-status, tests) map read-only with sb_open().  The fd is
 * closed right after mmap(2): a struct sb holds no fd.
 *
 * Integration points, in the order they happen:
 *	parent, start	  sb_create(); sb_set_conf(); sb_set_bus(kind, ...);
 *			  sb_methods_set(names) before the first fork
 *	parent, loop	  sb_set_bus() on each bus state change;
 *			  sb_set_backlog() on each push/pop of its backlog;
 *			  sb_set_svc_queue() after each bus_queue_info() (Redis);
 *			  sb_count(RESCUED/UNSENT/...) where they happen
 *	parent, spawn	  sb_slot_spawn() before fork()
 *	child, start	  sb_slot_child_start(); sb_sampler_open();
 *			  sb_slot_set_bus() as its bus moves;
 *			  sb_slot_set_addr() once its bus is up (and after a
 *			  reconnect that changed it);
 *			  after child_init: sb_sample() + sb_slot_set_baseline()
 *	child, request	  sb_slot_begin_request() ... sb_slot_end_request();
 *			  sb_method_record(); sb_sample() + sb_slot_set_sample();
 *			  sb_slot_count(UNSENT) for a reply it could not send;
 *			  then mpm_recycle_why() (mpm_recycle.h)
 *	child, exit	  sb_slot_set_exit_reason() as soon as it decides
 *	parent, reap	  sb_read_slot() (addr, for bus_reaped()), then
 *			  sb_slot_reaped_by() (death record, recycled
 *			  counter, method fold)
 *
 * Errors: 0 or a negative errno.  The reader side distinguishes
 *	-ENOENT		no such segment (no such service running or left)
 *	-EPROTO		incompatible: not a drover scoreboard, or another
 *			layout version (sb_peek_version() says which)
 *	-EBADMSG	corrupt: right magic and version but sizes or values
 *			that cannot be (truncated segment, bad slot size)
 *	-EACCES		no permission to read it
 *	-EAGAIN		(slot, record and method copies) unstable: never
 *			read consistently within the retry bound
 * sb_create() returns -EBUSY when a live parent owns the segment.
 * sb_create() and sb_destroy() log their own failures and the reclaim of
 * a stale segment (log.h); nothing else here logs.
 *
 * Signal context: none of these functions is async-signal-safe except
 * the slot writers and sb_method_record(), which only store to memory;
 * still, call them from the main loop.
 */
#ifndef DROVER_SB_H
#define DROVER_SB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* "DRSB" read as a big-endian word; a segment not starting so is foreign. */
#define SB_MAGIC		0x44525342u
#define SB_LAYOUT_VERSION	2u

/*
 * 256 slots: OpenSRF refuses max_children above 256 (spec 6.1) and
 * drover keeps that cap (DROVER_MAX_CHILDREN in cfg.h), so a fixed array
 * covers every child a parent can have and the compact state line fits
 * one 256-character row.
 */
#define SB_SLOTS		256
/* The last 32 deaths: enough to see a crash loop, small enough to read. */
#define SB_DEATHS		32
/* Fixed string fields, bytes including the terminating NUL. */
#define SB_NAME_LEN		64	/* service, instance */
#define SB_METHOD_LEN		128	/* OpenSRF method name */
#define SB_CLIENT_LEN		192	/* client JID (router_from) */
#define SB_THREAD_LEN		64	/* OpenSRF thread */
#define SB_XID_LEN		64	/* osrf_xid */
/*
 * A child's own bus address: an XMPP full JID or a Redis inbox key
 * "opensrf:client:<user>:<domain>:<host>:<pid>:<hex>", around 190 bytes
 * with long host names.  The parent cleans up after a dead child by this
 * address, so a cut one would leak an inbox: 256 leaves room to spare.
 */
#define SB_ADDR_LEN		256
/*
 * Reader retries before a slot is "unstable".  A writer holds a slot odd
 * for well under a microsecond, so a few hundred tries only fail when the
 * writer died mid-update or the segment is garbage.
 */
#define SB_READ_RETRIES		1000
/* Default segment mode when the config gives none: ops group may read. */
#define SB_DEFAULT_MODE		0640
/* Segment names are "/" SB_SHM_PREFIX "<service>[@<instance>]". */
#define SB_SHM_PREFIX		"drover."
/* Longest segment name: "/drover." + service + "@" + instance + NUL. */
#define SB_SHM_NAME_MAX		(8 + SB_NAME_LEN + 1 + SB_NAME_LEN)

/*
 * Method cells per row: 127 named methods and "other".  A large
 * Evergreen service registers a few dozen methods (open-ils.actor, the
 * largest, about 300 with its .atomic twins; those past the table are
 * counted as other), and 128 cells of 192 bytes make a row of exactly six
 * 4 KiB pages.
 */
#define SB_METHOD_CELLS		128
#define SB_METHOD_OTHER		(SB_METHOD_CELLS - 1)
#define SB_METHOD_NAMED		SB_METHOD_OTHER	/* most names in the table */
/* The name readers show for the other cell (no OpenSRF method has '('). */
#define SB_METHOD_OTHER_NAME	"(other)"
/*
 * Latency buckets: powers of two from 64 us to 2^24 us (16.8 s), then
 * +Inf: 19 bounds cover the "50 us to 10 s" of OpenSRF calls at a factor
 * of two, and the bucket is found with one count-leading-zeros, no
 * division (sb_method_bucket()).  As OpenMetrics `le` values, seconds:
 * 0.000064 0.000128 0.000256 0.000512 0.001024 0.002048 0.004096
 * 0.008192 0.016384 0.032768 0.065536 0.131072 0.262144 0.524288
 * 1.048576 2.097152 4.194304 8.388608 16.777216 +Inf.
 */
#define SB_METHOD_BUCKETS	20
#define SB_METHOD_LE_SHIFT	6	/* first bound 2^6 us */
/* Slot rows, then the retired row the parent folds reaped rows into. */
#define SB_METHOD_ROWS		(SB_SLOTS + 1)
#define SB_METHOD_RETIRED	SB_SLOTS
/* Method rows start on a page: a child's first 21 cells share one. */
#define SB_PAGE_ALIGN		4096

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "scoreboard needs lock-free int");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "scoreboard needs lock-free 64-bit atomics");

/*
 * Slot states.  The numbers are part of the layout; the letters are what
 * drover-status prints in its 256-character line (Apache's habit).
 */
enum sb_state {
	SB_EMPTY = 0,		/* '.'  no child has this slot */
	SB_STARTING = 1,	/* 'S'  forked, not yet ready */
	SB_IDLE = 2,		/* '_'  waiting for a request */
	SB_BUSY = 3,		/* 'W'  running a request */
	SB_SESSION = 4,		/* 'K'  held by a connected client session */
	SB_EXITING = 5,		/* 'G'  finishing: max_requests, retired, stop */
	SB_DEAD = 6,		/* 'X'  reaped after an abnormal exit; kept
				   for inspection until the slot is reused */
	SB_NSTATES = 7
};

/*
 * A bus connection's state as the scoreboard shows it: proto/bus.h's
 * enum bus_state plus one, so that 0 means "not reported" (a slot whose
 * child has no bus yet, or a parent that does not say).  Convert with
 * SB_BUS_FROM(bus_state(b)).  Letters for drover-status: '-' 'D' 'C' 'U'.
 */
enum sb_bus {
	SB_BUS_NONE = 0,
	SB_BUS_DOWN = 1,
	SB_BUS_CONNECTING = 2,
	SB_BUS_UP = 3,
	SB_NBUS = 4
};
#define SB_BUS_FROM(bus_state)	((uint32_t)(bus_state) + 1u)

/* The parent's bus kind: cfg.h's enum bus_kind plus one, 0 = unknown. */
enum sb_bus_kind {
	SB_BUSKIND_NONE = 0,
	SB_BUSKIND_XMPP = 1,
	SB_BUSKIND_REDIS = 2,
	SB_BUSKIND_LOCAL = 3,
	SB_NBUSKINDS = 4
};
#define SB_BUSKIND_FROM(bus_kind)	((uint32_t)(bus_kind) + 1u)

/*
 * Why a child exited.  The child writes its reason into its slot as soon
 * as it decides (sb_slot_set_exit_reason()); the parent copies it into
 * the death record, or picks WATCHDOG, KILLED or CRASHED when the child
 * could not say (sb_exit_reason_pick()).  The numbers are part of the
 * layout; the names (sb_exit_reason_name()) are drover-status's.
 */
enum sb_exit_reason {
	SB_EXIT_NONE = 0,		/* "unknown": not said */
	SB_EXIT_NORMAL = 1,		/* "stop": the parent stops the service,
					   or exit 0 without a word */
	SB_EXIT_RETIRED = 2,		/* "retired": surplus idle child */
	SB_EXIT_MAX_REQUESTS = 3,	/* "max_requests": served its share */
	SB_EXIT_RSS_GROWTH = 4,		/* "rss_growth": over
					   max_rss_growth_kb above its baseline */
	SB_EXIT_RSS_MAX = 5,		/* "rss_max": over max_rss_kb */
	SB_EXIT_LIFETIME = 6,		/* "lifetime": over max_child_lifetime */
	SB_EXIT_BUS_LOST = 7,		/* "bus_lost": its bus connection */
	SB_EXIT_INIT_FAILED = 8,	/* "init_failed": bus open or
					   child_init failed */
	SB_EXIT_PANIC = 9,		/* "panic": the plugin asked to die */
	SB_EXIT_REQUEST_FAILED = 10,	/* "request_failed": a hard failure */
	/* Picked by the parent when the child could not say: */
	SB_EXIT_WATCHDOG = 11,		/* "watchdog": request_timeout kill */
	SB_EXIT_KILLED = 12,		/* "killed": SIGKILL or SIGTERM from
					   someone (the OOM killer, ops) */
	SB_EXIT_CRASHED = 13,		/* "crashed": another signal, or a
					   non-zero exit without a reason */
	SB_NEXIT_REASONS = 14
};

/*
 * Header counters, indices into sb_header.counters[].  Monotonic, except
 * SB_C_QUEUED (a gauge: the backlog length now) and SB_C_MAX_QUEUED (its
 * high-water mark).  The numbers are part of the layout.
 *
 * Bookkeeping: for stateless requests, once nothing is in flight,
 *	accepted = completed + failed + queued + rejected-after-accept
 * (rejected counts both the backlog-full 503s, taken from the bus first,
 * and the too-large requests refused before being accepted).  Requests
 * the parent answers itself (rescued) are failed too, so the sum holds
 * when children die: the parent counts them failed unless their child
 * did (a child that could not send its reply counted it already).  Requests of a connected session reach their child
 * directly and are completed/failed without being accepted.
 */
enum sb_counter {
	SB_C_ACCEPTED = 0,	/* requests taken from the bus (parent) */
	SB_C_COMPLETED = 1,	/* requests answered without error (child) */
	SB_C_FAILED = 2,	/* requests that ended in error (child; and
				   parent, for those it rescued) */
	SB_C_QUEUED = 3,	/* gauge: backlog length now (parent) */
	SB_C_MAX_QUEUED = 4,	/* gauge: backlog high-water mark (parent) */
	SB_C_REJECTED = 5,	/* answered 503, backlog full (parent) */
	SB_C_MAXCHILD = 6,	/* times max_children was reached (parent) */
	SB_C_SPAWNED = 7,	/* children forked (parent) */
	SB_C_ABNORMAL = 8,	/* children dead by signal or exit != 0 */
	SB_C_SLOW = 9,		/* requests >= slow_request_ms (child) */
	SB_C_RESCUED = 10,	/* requests the parent answered with an
				   error because their child died, was
				   killed by the watchdog or could not send
				   its reply (parent); sb_count() adds them
				   to SB_C_FAILED as well */
	SB_C_UNSENT = 11,	/* replies a child could not send (child) */
	SB_C_RECYCLED = 12,	/* children retired by max_requests, memory
				   or lifetime (parent, at reap) */
	SB_NCOUNTERS = 13
};
/* Room in the layout for counters added without moving anything. */
#define SB_COUNTER_ROOM		16
_Static_assert(SB_NCOUNTERS <= SB_COUNTER_ROOM, "counter room");

/*
 * The effective limits, as the parent validated them from opensrf.xml.
 * Written by the parent only, under sb_header.conf_seq.  0 = off for the
 * recycling limits.
 */
struct sb_limits {
	uint32_t	min_children;
	uint32_t	max_children;		/* configured */
	uint32_t	min_spare;
	uint32_t	max_spare;
	uint32_t	max_requests;		/* per child */
	uint32_t	keepalive_s;		/* session idle timeout */
	uint32_t	max_backlog_queue;
	uint32_t	request_timeout_s;	/* 0 = none */
	uint32_t	slow_request_ms;	/* 0 = not counted */
	uint32_t	max_requests_jitter;	/* + 0..this per child */
	uint32_t	max_rss_growth_kb;	/* over the post-init baseline */
	uint32_t	max_rss_kb;		/* absolute */
	uint32_t	max_child_lifetime_s;
	uint32_t	max_child_lifetime_jitter_s;
	uint32_t	reserved[2];
};
_Static_assert(sizeof(struct sb_limits) == 64, "sb_limits layout");
_Static_assert(offsetof(struct sb_limits, slow_request_ms) == 32,
    "sb_limits layout");
_Static_assert(offsetof(struct sb_limits, max_rss_growth_kb) == 40,
    "sb_limits layout");
_Static_assert(offsetof(struct sb_limits, max_child_lifetime_s) == 48,
    "sb_limits layout");

/* One child death.  Written by the parent under its own seq. */
struct sb_death {
	_Atomic uint32_t seq;			/* seqlock, odd while written */
	uint32_t	slot;
	int32_t		pid;
	uint32_t	generation;
	int32_t		exit_code;		/* -1 when killed by a signal */
	int32_t		signal;			/* 0 when it exited */
	uint32_t	core_dumped;		/* 0 or 1 */
	uint32_t	exit_reason;		/* enum sb_exit_reason */
	uint64_t	requests;		/* served over its life */
	uint64_t	time_us;		/* when reaped */
	uint64_t	rss_kb;			/* last sampled before death */
	uint64_t	cpu_us;			/* process CPU, last sampled */
	char		last_method[SB_METHOD_LEN];
};
_Static_assert(sizeof(struct sb_death) == 192, "sb_death layout");
_Static_assert(offsetof(struct sb_death, exit_reason) == 28,
    "sb_death layout");
_Static_assert(offsetof(struct sb_death, requests) == 32, "sb_death layout");
_Static_assert(offsetof(struct sb_death, rss_kb) == 48, "sb_death layout");
_Static_assert(offsetof(struct sb_death, last_method) == 64,
    "sb_death layout");

/*
 * A Redis listener's service queue as last sampled (proto/bus.h's struct
 * bus_queue_info, field for field).  Parent, under sb_header.queue_seq.
 */
struct sb_svc_queue {
	uint64_t	depth;			/* requests waiting */
	uint64_t	oldest_ms;		/* age of the oldest, lower bound */
	uint64_t	sampled_mono_us;	/* 0 = never sampled */
};
_Static_assert(sizeof(struct sb_svc_queue) == 24, "sb_svc_queue layout");

struct sb_header {
	/* -- frozen prefix, same place in every layout version -- */
	uint32_t	magic;			/* SB_MAGIC */
	uint32_t	version;		/* SB_LAYOUT_VERSION */
	uint32_t	header_size;		/* sizeof(struct sb_header) */
	uint32_t	slot_size;		/* sizeof(struct sb_slot) */
	uint32_t	slot_count;		/* SB_SLOTS */
	uint32_t	death_count;		/* SB_DEATHS */
	_Atomic int32_t	parent_pid;		/* owner; the parent writes */
	uint32_t	flags;			/* reserved, 0 */
	/* -- identity (parent, at create) -- */
	uint64_t	start_us;		/* parent start, wall clock */
	char		service[SB_NAME_LEN];
	char		instance[SB_NAME_LEN];	/* "" when none */
	/* -- configuration (parent, under conf_seq) -- */
	_Atomic uint32_t conf_seq;		/* seqlock for the next two */
	uint32_t	generation;		/* config generation (SIGHUP) */
	struct sb_limits limits;
	/* max_children now; SIGTTIN/SIGTTOU move it within 1..256 */
	_Atomic uint32_t max_children_now;	/* parent */
	/* -- method region geometry (parent, at create; constant) -- */
	uint32_t	methods_offset;		/* offsetof(sb_segment, methods) */
	uint32_t	method_cells;		/* SB_METHOD_CELLS */
	uint32_t	method_buckets;		/* SB_METHOD_BUCKETS */
	/* -- counters (atomic adds by parent and children) -- */
	_Atomic uint64_t counters[SB_COUNTER_ROOM];	/* enum sb_counter */
	/* -- death ring head (parent) -- */
	_Atomic uint64_t deaths_total;		/* deaths ever recorded; the
						   next goes to total % 32 */
	/* -- the parent's bus and queues (parent) -- */
	_Atomic uint32_t bus_state;		/* enum sb_bus */
	_Atomic uint32_t bus_kind;		/* enum sb_bus_kind */
	/* enqueue time of the oldest request in the parent's own backlog
	   (XMPP, local: the parent queues); 0 when it is empty */
	_Atomic uint64_t backlog_oldest_mono_us;
	_Atomic uint32_t queue_seq;		/* seqlock for svc_queue */
	uint32_t	reserved0;
	struct sb_svc_queue svc_queue;		/* Redis service queue */
	uint8_t		reserved1[8];		/* ring starts on a cache line */
	/* -- death ring (parent) -- */
	struct sb_death	deaths[SB_DEATHS];
};
_Static_assert(offsetof(struct sb_header, parent_pid) == 24,
    "frozen prefix moved");
_Static_assert(offsetof(struct sb_header, start_us) == 32, "sb_header layout");
_Static_assert(offsetof(struct sb_header, conf_seq) == 168,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, limits) == 176, "sb_header layout");
_Static_assert(offsetof(struct sb_header, max_children_now) == 240,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, methods_offset) == 244,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, counters) == 256,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, deaths_total) == 384,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, bus_state) == 392,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, backlog_oldest_mono_us) == 400,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, queue_seq) == 408,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, svc_queue) == 416,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, deaths) == 448, "sb_header layout");
_Static_assert(sizeof(struct sb_header) == 448 + SB_DEATHS * 192,
    "sb_header layout");
_Static_assert(sizeof(struct sb_header) % 64 == 0,
    "slots must start on a cache line");

/*
 * One child.  All plain fields are read only through the seqlock; the
 * _Atomic words may also be read alone.  method/client/thread/xid/
 * thread_trace/req_start_us/req_start_mono_us describe the current
 * request while BUSY or SESSION, and the last one otherwise (so a DEAD
 * slot shows what its child last ran).  Writer: the child, except where
 * marked; the parent resets everything at spawn.
 */
struct sb_slot {
	_Atomic uint32_t seq;			/* seqlock, odd while written */
	_Atomic uint32_t state;			/* enum sb_state */
	_Atomic int32_t	pid;			/* 0 until the child starts */
	uint32_t	index;			/* own slot number; constant */
	uint32_t	generation;		/* config generation (parent) */
	uint32_t	errors;			/* failed requests, this child */
	uint64_t	requests;		/* served, this child */
	uint64_t	spawn_us;		/* forked at (parent) */
	uint64_t	state_us;		/* last state change */
	uint64_t	req_start_us;		/* current/last request start */
	uint64_t	last_dur_us;		/* last finished request */
	uint64_t	last_cpu_us;		/* its CPU time, user+sys
						   (sb_slot_set_sample()) */
	uint64_t	rss_kb;			/* resident set, last sampled */
	uint32_t	thread_trace;		/* OpenSRF threadTrace */
	_Atomic uint32_t bus_state;		/* enum sb_bus, its own bus */
	char		method[SB_METHOD_LEN];
	char		client[SB_CLIENT_LEN];
	char		thread[SB_THREAD_LEN];
	char		xid[SB_XID_LEN];
	_Atomic uint32_t exit_reason;		/* enum sb_exit_reason */
	uint32_t	reserved0;
	uint64_t	req_start_mono_us;	/* req_start_us, monotonic: the
						   watchdog's clock */
	uint64_t	spawn_mono_us;		/* forked at (parent) */
	uint64_t	rss_base_kb;		/* RSS right after child init */
	uint64_t	cpu_us;			/* process CPU so far, sampled */
	/* method cells this child used (bit i: cell i of its row) */
	_Atomic uint64_t methods_used[SB_METHOD_CELLS / 64];
	uint8_t		reserved1[48];		/* addr on its own line */
	char		addr[SB_ADDR_LEN];	/* its own bus address */
};
_Static_assert(offsetof(struct sb_slot, requests) == 24, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, rss_kb) == 72, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, thread_trace) == 80,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, bus_state) == 84, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, method) == 88, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, client) == 216, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, xid) == 472, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, exit_reason) == 536,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, req_start_mono_us) == 544,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, rss_base_kb) == 560,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, cpu_us) == 568, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, methods_used) == 576,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, addr) == 640, "sb_slot layout");
_Static_assert(sizeof(struct sb_slot) == 896, "sb_slot layout");

/*
 * One method's figures in one row.  Counts per latency bucket (not
 * cumulative; calls = their sum, so _count always equals the +Inf
 * bucket), the sum of durations and the errors by status class.  Every
 * field has one writer: the row's child, or the parent during a fold.
 */
struct sb_method_cell {
	_Atomic uint64_t buckets[SB_METHOD_BUCKETS];
	_Atomic uint64_t sum_us;
	_Atomic uint64_t err_4xx;	/* OpenSRF status 400-499 */
	_Atomic uint64_t err_5xx;	/* 500-599 */
	_Atomic uint64_t err_other;	/* failed with another code or none */
};
_Static_assert(sizeof(struct sb_method_cell) == 192, "sb_method_cell layout");

struct sb_method_row {
	struct sb_method_cell cells[SB_METHOD_CELLS];
};
_Static_assert(sizeof(struct sb_method_row) == 6 * 4096, "sb_method_row");

/* The method region, after the slots. */
struct sb_methods {
	_Atomic uint32_t seq;		/* fold seqlock (parent) */
	_Atomic uint32_t named;		/* names in the table (parent) */
	uint32_t	reserved0[2];
	_Atomic uint64_t retired_used[SB_METHOD_CELLS / 64];	/* parent */
	uint8_t		reserved1[32];
	/* parent, once before the first fork; names[OTHER] stays "" */
	char		names[SB_METHOD_CELLS][SB_METHOD_LEN];
	/* rows[i]: slot i's child; rows[SB_METHOD_RETIRED]: parent */
	_Alignas(SB_PAGE_ALIGN) struct sb_method_row rows[SB_METHOD_ROWS];
};
_Static_assert(offsetof(struct sb_methods, retired_used) == 16,
    "sb_methods layout");
_Static_assert(offsetof(struct sb_methods, names) == 64, "sb_methods layout");
_Static_assert(offsetof(struct sb_methods, rows) == 5 * 4096,
    "sb_methods layout");
_Static_assert(sizeof(struct sb_methods) ==
    5 * 4096 + SB_METHOD_ROWS * sizeof(struct sb_method_row),
    "sb_methods layout");

/* The whole segment. */
struct sb_segment {
	struct sb_header hdr;
	struct sb_slot	slots[SB_SLOTS];
	struct sb_methods methods;
};
_Static_assert(offsetof(struct sb_segment, slots) == sizeof(struct sb_header),
    "sb_segment layout");
_Static_assert(offsetof(struct sb_segment, methods) == 237568,
    "sb_segment layout");
_Static_assert(offsetof(struct sb_segment, methods.rows) % SB_PAGE_ALIGN == 0,
    "method rows start on a page");
_Static_assert(sizeof(struct sb_segment) == 6574080, "sb_segment layout");

/* ------------------------------------------------ plain reader copies */

/* A consistent copy of the header (counters loaded one by one). */
struct sb_info {
	uint32_t	version;
	int32_t		parent_pid;
	int		parent_alive;		/* kill(pid, 0) at read time */
	uint64_t	start_us;
	char		service[SB_NAME_LEN];
	char		instance[SB_NAME_LEN];
	uint32_t	generation;
	struct sb_limits limits;
	uint32_t	max_children_now;
	uint64_t	counters[SB_NCOUNTERS];
	uint64_t	deaths_total;
	uint32_t	bus_state;		/* enum sb_bus */
	uint32_t	bus_kind;		/* enum sb_bus_kind */
	uint64_t	backlog_oldest_mono_us;	/* 0: backlog empty */
	struct sb_svc_queue svc_queue;		/* sampled_mono_us 0: none */
	uint32_t	methods_named;		/* names in the method table */
};

struct sb_slot_info {
	uint32_t	index;
	uint32_t	state;			/* enum sb_state */
	int		unstable;		/* 1: the copy failed; only
						   index is meaningful */
	int32_t		pid;
	uint32_t	generation;
	uint32_t	errors;
	uint64_t	requests;
	uint64_t	spawn_us;
	uint64_t	spawn_mono_us;
	uint64_t	state_us;
	uint64_t	req_start_us;
	uint64_t	req_start_mono_us;
	uint64_t	last_dur_us;
	uint64_t	last_cpu_us;
	uint64_t	rss_kb;
	uint64_t	rss_base_kb;
	uint64_t	cpu_us;
	uint32_t	thread_trace;
	uint32_t	bus_state;		/* enum sb_bus */
	uint32_t	exit_reason;		/* enum sb_exit_reason */
	char		method[SB_METHOD_LEN];
	char		client[SB_CLIENT_LEN];
	char		thread[SB_THREAD_LEN];
	char		xid[SB_XID_LEN];
	char		addr[SB_ADDR_LEN];
};

struct sb_death_info {
	uint32_t	slot;
	int32_t		pid;
	uint32_t	generation;
	int32_t		exit_code;
	int32_t		signal;
	int		core_dumped;
	uint32_t	exit_reason;		/* enum sb_exit_reason */
	uint64_t	requests;
	uint64_t	time_us;
	uint64_t	rss_kb;
	uint64_t	cpu_us;
	char		last_method[SB_METHOD_LEN];
};

/* Counts per state over a set of slots, for summaries and metrics. */
struct sb_summary {
	uint32_t	by_state[SB_NSTATES];
	uint32_t	children;		/* starting+idle+busy+session+
						   exiting: processes alive */
	uint32_t	unstable;
	/* live children whose own bus reported down or connecting (not
	   those that never reported: SB_BUS_NONE) */
	uint32_t	bus_not_up;
	uint64_t	rss_kb;			/* sum over live children */
	uint64_t	cpu_us;			/* sum over live children */
};

/* One method's figures summed over every row, for readers. */
struct sb_method_info {
	char		name[SB_METHOD_LEN];	/* SB_METHOD_OTHER_NAME for
						   the other cell */
	uint64_t	calls;			/* sum of buckets[] */
	uint64_t	err_4xx;
	uint64_t	err_5xx;
	uint64_t	err_other;
	uint64_t	sum_us;
	uint64_t	buckets[SB_METHOD_BUCKETS];	/* per bucket */
};

/* The process-local handle: address, size, name.  Opaque. */
struct sb;

/* ---------------------------------------------------------- pure logic */

/* '.', 'S', '_', 'W', 'K', 'G', 'X'; '?' for an unknown state. */
char	 sb_state_letter(uint32_t state);
/* "empty", "starting", "idle", "busy", "session", "exiting", "dead";
 * "unknown" otherwise.  These are also the JSON and OpenMetrics names. */
const char *sb_state_name(uint32_t state);
/* Stable key of a counter ("accepted", "completed", ...), or NULL. */
const char *sb_counter_name(unsigned counter);
/* "none", "down", "connecting", "up"; "unknown" otherwise. */
const char *sb_bus_name(uint32_t bus_state);
/* '-', 'D', 'C', 'U'; '?' otherwise. */
char	 sb_bus_letter(uint32_t bus_state);
/* "none", "xmpp", "redis", "local"; "unknown" otherwise. */
const char *sb_bus_kind_name(uint32_t bus_kind);
/* The names listed at enum sb_exit_reason; "unknown" out of range. */
const char *sb_exit_reason_name(uint32_t reason);
/* 1 for max_requests, rss_growth, rss_max and lifetime: "recycled". */
int	 sb_exit_reason_recycles(uint32_t reason);
/*
 * The reason a death record gets: WATCHDOG when the parent says so (its
 * kill is the cause, whatever the child was doing); else what the child
 * said; else what the parent says (KILLED for its own SIGKILL, say);
 * else from the wait status: SIGKILL/SIGTERM "killed", other signals
 * "crashed", exit 0 "stop", other exits "crashed".
 */
uint32_t sb_exit_reason_pick(uint32_t child_said, uint32_t parent_says,
	    int wstatus);
/*
 * The compact line: one letter per slot, unstable slots as '?'; `line`
 * must hold n + 1 bytes and is NUL-terminated.
 */
void	 sb_state_line(const struct sb_slot_info *, size_t n, char *line);
void	 sb_summarize(const struct sb_slot_info *, size_t n,
	    struct sb_summary *);
/* Upper bound of latency bucket k in us; UINT64_MAX for +Inf (and past). */
uint64_t sb_method_le_us(unsigned k);
/*
 * Estimate quantile q (0..1) in us from per-bucket counts, as
 * Prometheus's histogram_quantile(): linear within the bucket that holds
 * the rank, from its lower to its upper bound; a rank in +Inf gives the
 * last finite bound.  0 when there are no calls.
 */
uint64_t sb_method_quantile_us(const uint64_t buckets[SB_METHOD_BUCKETS],
	    double q);
/*
 * "/drover.<service>" or "/drover.<service>@<instance>" into buf.  The
 * service must be 1..63 bytes without '/' or '@' and not "." or "..";
 * the instance (NULL or "" for none) 1..63 bytes without '/'.
 * -EINVAL otherwise, -ENAMETOOLONG if buf is short.
 */
int	 sb_shm_name(char *buf, size_t bufsz, const char *service,
	    const char *instance) MUST_CHECK;
/*
 * Split "SERVICE[@INSTANCE]" (as drover-status takes it) and build the
 * segment name.  Same errors as sb_shm_name().
 */
int	 sb_shm_name_arg(char *buf, size_t bufsz, const char *arg) MUST_CHECK;
/* Is pid a live process (kill(pid, 0) succeeds or fails with EPERM)? */
int	 sb_pid_alive(pid_t pid);

/* --------------------------------------------------------- parent side */

/*
 * Create, size (ftruncate), fchmod to `mode` (umask does not apply) and
 * map the segment read-write, then fill the header: identity, parent pid
 * = getpid(), start time, every slot EMPTY with its index.  O_CREAT|
 * O_EXCL; if the name exists and its parent_pid is dead, the stale
 * segment is unlinked (logged) and created anew, whatever its layout
 * version; if its parent is alive returns -EBUSY and stores that pid in
 * *owner (may be NULL); a segment that is not a drover scoreboard is left
 * alone, -EPROTO.  Logs every failure itself.  The caller owns *out and
 * releases it with sb_destroy() (clean exit) or sb_close().
 */
int	 sb_create(struct sb **out, const char *service, const char *instance,
	    mode_t mode, pid_t *owner) MUST_CHECK;
/*
 * Clean exit: unmap and shm_unlink, the latter only if this process is
 * still the segment's parent (a child calling it unmaps only).  NULL and
 * *sbp == NULL are no-ops; *sbp is reset.
 */
void	 sb_destroy(struct sb **sbp);
/*
 * Give the segment to uid:gid (parent, before it switches to that user:
 * priv.h), so that the parent can still unlink it at exit.  0 or -errno
 * (logged).
 */
int	 sb_chown(struct sb *, uid_t, gid_t) MUST_CHECK;
/* Limits and generation, together under conf_seq. */
void	 sb_set_conf(struct sb *, uint32_t generation, const struct sb_limits *);
void	 sb_set_max_children_now(struct sb *, uint32_t);
/* Atomic add to a counter; SB_C_QUEUED and SB_C_MAX_QUEUED excluded. */
void	 sb_count(struct sb *, enum sb_counter, uint64_t n);
/*
 * The parent's own backlog: its length (the SB_C_QUEUED gauge, raising
 * SB_C_MAX_QUEUED when exceeded) and the mono_us() at which its oldest
 * entry was received (bus_frame.rx_us; 0 when empty).  Call after every
 * push and pop.  sb_set_queued() is the older form without the age: it
 * clears the age when n is 0 and leaves it otherwise.
 */
void	 sb_set_backlog(struct sb *, uint64_t n, uint64_t oldest_mono_us);
void	 sb_set_queued(struct sb *, uint64_t n);
/* The parent's bus: kind (SB_BUSKIND_FROM()) and state (SB_BUS_FROM()). */
void	 sb_set_bus(struct sb *, uint32_t kind, uint32_t state);
/* A Redis listener's service queue sample (from bus_queue_info()). */
void	 sb_set_svc_queue(struct sb *, const struct sb_svc_queue *);

/*
 * Publish the plugin's method names, once, in the parent before the
 * first fork: name i gets cell i, for i < SB_METHOD_NAMED; names past
 * that, and any method not in the table, count as SB_METHOD_OTHER.  The
 * runtime keeps its own index per method (its registration order) and
 * passes it to sb_method_record(), which maps indices past the table to
 * other.  Names longer than SB_METHOD_LEN - 1 are cut.  Returns the
 * number of names given a cell (>= 0); calling it again with the same
 * names returns that again, with other names -EBUSY (the children's
 * indices are fixed for the segment's life).
 */
int	 sb_methods_set(struct sb *, const char *const *names, size_t n)
	    MUST_CHECK;
/* The cell of `name` in the table, or SB_METHOD_OTHER (linear search:
 * for callers without an index, not for the request path). */
unsigned sb_method_index(const struct sb *, const char *name);
/*
 * Parent, once slot idx's child is reaped: add its method row to the
 * retired row and zero it, under the methods seqlock.  Idempotent (an
 * empty row is a no-op); sb_slot_reaped*() and sb_slot_spawn() call it,
 * so callers of those need not.
 */
void	 sb_methods_fold(struct sb *, unsigned idx);

/* Slot `idx` (0..255), or NULL when out of range. */
struct sb_slot *sb_slot(struct sb *, unsigned idx);
/*
 * Parent, before fork: claim slot idx for a new child: STARTING, pid 0,
 * generation, spawn times now, counters, samples, bus state, exit reason
 * and strings cleared, method row folded; counts SB_C_SPAWNED.  Returns
 * the slot to put in worker_env.slot.
 */
struct sb_slot *sb_slot_spawn(struct sb *, unsigned idx, uint32_t generation);
/*
 * Parent, after waitpid(): record the death of slot idx's child (pid,
 * wait status) in the ring with the slot's generation, requests, last
 * method, last RSS and CPU samples, and the exit reason picked by
 * sb_exit_reason_pick() from what the child wrote and `parent_says`
 * (SB_EXIT_WATCHDOG after a watchdog kill, SB_EXIT_KILLED after another
 * kill of its own, SB_EXIT_NONE otherwise); count SB_C_ABNORMAL for a
 * signal or a non-zero exit (except the exit of a child that said it
 * recycled itself: sb_exit_reason_recycles()) and SB_C_RECYCLED for a
 * recycling reason; fold
 * the method row; leave the slot DEAD (abnormal) or EMPTY (clean), its
 * last request, address and samples kept.  Repairs a seq a child left
 * odd when it died mid-update.  The parent is the slot's writer from
 * here.  Read the slot first if you need its addr (bus_reaped()).
 */
void	 sb_slot_reaped_by(struct sb *, unsigned idx, pid_t pid, int wstatus,
	    uint32_t parent_says);
/* sb_slot_reaped_by(..., SB_EXIT_NONE): the version 1 call. */
void	 sb_slot_reaped(struct sb *, unsigned idx, pid_t pid, int wstatus);
/* Parent: back to EMPTY (fork failed, or reuse of a DEAD slot). */
void	 sb_slot_clear(struct sb *, unsigned idx);

/* ---------------------------------------------- child side (own slot) */

/* First thing in the child: publish the pid; state stays STARTING. */
void	 sb_slot_child_start(struct sb_slot *, pid_t pid);
/* Change state and stamp state_us. */
void	 sb_slot_set_state(struct sb_slot *, enum sb_state);
/* Its own bus connection moved (SB_BUS_FROM(bus_state(b))). */
void	 sb_slot_set_bus(struct sb_slot *, uint32_t bus_state);
/* Its own bus address, once up (cut to SB_ADDR_LEN - 1; NULL = ""). */
void	 sb_slot_set_addr(struct sb_slot *, const char *addr);
/*
 * Why it is about to exit (enum sb_exit_reason).  Write it as soon as
 * the decision is taken, before the cleanup that might hang or crash.
 */
void	 sb_slot_set_exit_reason(struct sb_slot *, uint32_t reason);

struct sb_request {
	const char	*method;	/* NULL = "" */
	const char	*client;
	const char	*thread;
	const char	*xid;
	uint32_t	 thread_trace;
	uint64_t	 start_us;	/* 0 = now (wall clock) */
	uint64_t	 start_mono_us;	/* 0 = now (mono_us()) */
};
/* Copy the request (strings truncated to their fields) and go BUSY. */
void	 sb_slot_begin_request(struct sb_slot *, const struct sb_request *);
/*
 * The request finished: requests++, errors++ unless ok, last duration;
 * counts SB_C_COMPLETED or SB_C_FAILED, and SB_C_SLOW when the duration
 * reaches limits.slow_request_ms (if non-zero).  Then moves to
 * next_state (SB_IDLE, SB_SESSION or SB_EXITING).  Its CPU time comes
 * with the next sample (sb_slot_set_sample()).
 */
void	 sb_slot_end_request(struct sb_slot *, uint64_t dur_us, int ok,
	    enum sb_state next_state);
/*
 * A header counter bumped from a child that holds only its slot (the
 * runtime): as sb_count() on the slot's segment.  SB_C_UNSENT when a
 * reply could not be sent.
 */
void	 sb_slot_count(struct sb_slot *, enum sb_counter, uint64_t n);
/* The two single words anyone mapping the segment may read unlocked. */
uint32_t sb_slot_state(const struct sb_slot *);
pid_t	 sb_slot_pid(const struct sb_slot *);

/*
 * Self-sampling, in the child.  sb_sampler_open() right after fork (not
 * before: /proc/self is resolved at open, so a sampler opened in the
 * parent would read the parent) opens /proc/self/statm once, O_CLOEXEC;
 * sb_sample() then costs one pread(2) of it (the resident set, exact to
 * the page) and one clock_gettime(CLOCK_PROCESS_CPUTIME_ID) (user+system
 * CPU to the nanosecond), about 0.8 us together (docs/benchmarks.md;
 * getrusage() has no current RSS, /proc/self/stat counts CPU in 10 ms
 * ticks and costs three times more, reopening statm each time too).  The sampler is process-local (not in the
 * segment); sb_sampler_close() closes its fd and is a no-op when closed.
 */
struct sb_sampler {
	int		fd;		/* /proc/self/statm, or -1 */
	uint32_t	page_kb;	/* page size in KiB */
};
struct sb_sample {
	uint64_t	rss_kb;		/* resident set now */
	uint64_t	cpu_us;		/* process CPU, user+system */
};
int	 sb_sampler_open(struct sb_sampler *) MUST_CHECK;
/* 0, or -errno (-EBADF when not open, -EPROTO on an unreadable line). */
int	 sb_sample(struct sb_sampler *, struct sb_sample *) MUST_CHECK;
void	 sb_sampler_close(struct sb_sampler *);
/* After child init: the sample becomes rss_kb, cpu_us and rss_base_kb. */
void	 sb_slot_set_baseline(struct sb_slot *, const struct sb_sample *);
/*
 * After each request: rss_kb and cpu_us, under the slot's seqlock, and
 * last_cpu_us, the CPU since the previous sample: the request's (a
 * session's requests together), with the few microseconds its child
 * spent taking it from the pipe.  One sample serves both, so a request
 * costs no CPU clock reads of its own.
 */
void	 sb_slot_set_sample(struct sb_slot *, const struct sb_sample *);
/* rss_kb alone (the version 1 writer; sb_slot_set_sample() supersedes). */
void	 sb_slot_set_rss(struct sb_slot *, uint64_t rss_kb);

/*
 * Latency bucket of a duration: the smallest k with dur_us <=
 * 2^(SB_METHOD_LE_SHIFT + k), SB_METHOD_BUCKETS - 1 (+Inf) past the last
 * bound.  One clz and a min: no loop, no division.
 */
static inline unsigned
sb_method_bucket(uint64_t dur_us)
{
	uint64_t	v = (dur_us - (dur_us != 0)) |
			    (((uint64_t)1 << SB_METHOD_LE_SHIFT) - 1);
	unsigned	k = 64u - SB_METHOD_LE_SHIFT -
			    (unsigned)__builtin_clzll(v);

	return k < SB_METHOD_BUCKETS - 1 ? k : SB_METHOD_BUCKETS - 1;
}

/* The method row of a slot's child (found from the slot's own index). */
static inline struct sb_method_row *
sb_slot_method_row(struct sb_slot *s)
{
	struct sb_segment	*seg = (struct sb_segment *)(void *)
				    ((char *)(s - s->index) -
				    offsetof(struct sb_segment, slots));

	return &seg->methods.rows[s->index];
}

/* Add to a cell of our own row: its only writer, so no lock prefix. */
static inline void
sb_cell_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

/*
 * Child, after each request (its own slot only): count one call of
 * method cell `idx` (the runtime's method index; anything past the table
 * counts as other) that took dur_us and ended with OpenSRF status
 * `status`: 100-399 success, 400-499 and 500-599 errors by class, any
 * other value (0 or negative for "failed without a status") an other
 * error.  No syscall, lock, fence or division: 3 to 5 ns
 * (docs/benchmarks.md).
 */
static inline void
sb_method_record(struct sb_slot *s, unsigned idx, uint64_t dur_us,
    int status)
{
	struct sb_method_cell	*c;
	_Atomic uint64_t	*used;
	uint64_t		 bit;

	if (idx > SB_METHOD_OTHER)
		idx = SB_METHOD_OTHER;
	used = &s->methods_used[idx / 64];
	bit = (uint64_t)1 << (idx % 64);
	/* Mark the cell first: readers and the fold skip unmarked ones. */
	if ((atomic_load_explicit(used, memory_order_relaxed) & bit) == 0)
		atomic_fetch_or_explicit(used, bit, memory_order_relaxed);
	c = &sb_slot_method_row(s)->cells[idx];
	sb_cell_add(&c->buckets[sb_method_bucket(dur_us)], 1);
	sb_cell_add(&c->sum_us, dur_us);
	if ((unsigned)status - 400u < 100u)
		sb_cell_add(&c->err_4xx, 1);
	else if ((unsigned)status - 500u < 100u)
		sb_cell_add(&c->err_5xx, 1);
	else if ((unsigned)status - 100u >= 300u)
		sb_cell_add(&c->err_other, 1);
}

/* ---------------------------------------------------------- reader side */

/*
 * Map `shm_name` ("/drover....") read-only and validate magic, version,
 * sizes and segment length.  Errors as listed at the top.  The caller
 * releases *out with sb_close().
 */
int	 sb_open(struct sb **out, const char *shm_name) MUST_CHECK;
/*
 * The live parent that holds the scoreboard of service[@instance]: its
 * pid, or 0 when there is no segment, its parent is gone or it cannot
 * be read.  Any layout version (the frozen prefix only).  For saying
 * who serves a service before trying to: sb_create() decides.
 */
pid_t	 sb_owner(const char *service, const char *instance);
/*
 * Read only the frozen prefix of `shm_name`: 0 with *version set for a
 * drover scoreboard of any layout version, -EPROTO for a foreign one,
 * -EBADMSG if too short or zero, other -errno from shm_open/mmap.  For
 * saying which version an -EPROTO segment has.
 */
int	 sb_peek_version(const char *shm_name, uint32_t *version) MUST_CHECK;
/* Unmap; NULL and *sbp == NULL are no-ops; *sbp is reset. */
void	 sb_close(struct sb **sbp);
/* The segment name this handle maps ("/drover.x"). */
const char *sb_name(const struct sb *);

/* Header copy; -EAGAIN if the configuration never read stably. */
int	 sb_read_info(const struct sb *, struct sb_info *) MUST_CHECK;
/* Slot copy; -EAGAIN (info->unstable = 1) if never stable. */
int	 sb_read_slot(const struct sb *, unsigned idx,
	    struct sb_slot_info *) MUST_CHECK;
/*
 * The recorded deaths, newest first, at most max (<= SB_DEATHS) into
 * out[]; returns how many were copied.  Unstable records are skipped.
 */
int	 sb_read_deaths(const struct sb *, struct sb_death_info *out,
	    size_t max) MUST_CHECK;
/*
 * Every method's figures, summed over the slot rows and the retired row
 * within one even period of the fold seqlock: out[] must hold
 * SB_METHOD_CELLS entries; out[i] for i < the returned count n is named
 * method i, out[SB_METHOD_OTHER] the other cell, the rest zero.  Returns
 * n (>= 0), or -EAGAIN if never stable.  Touches only cells marked used.
 */
int	 sb_read_methods(const struct sb *, struct sb_method_info *out)
	    MUST_CHECK;

/*
 * Every "drover.*" segment in /dev/shm, sorted by name: calls cb with
 * the shm name ("/drover.x@y") until it returns non-zero, which is then
 * returned.  0 when done (also when /dev/shm has none), -errno if the
 * directory cannot be read.
 */
int	 sb_enumerate(int (*cb)(const char *shm_name, void *arg),
	    void *arg) MUST_CHECK;

#endif /* DROVER_SB_H */
