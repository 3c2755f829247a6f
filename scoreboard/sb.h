/*
 * sb.h: the shared-memory scoreboard, one POSIX segment per service.
 *
 * What it is for.  Every service parent (droverd) publishes its limits,
 * its counters and the state of each of its children in a segment named
 * "/drover.<service>" or "/drover.<service>@<instance>" (as in
 * /dev/shm/drover.opensrf.math).  drover-status(8) maps it read-only and
 * shows it to ops staff; tests wait on slot states instead of sleeping.
 *
 * Layout (frozen by the _Static_asserts below; bump SB_LAYOUT_VERSION on
 * any change, even of a reserved field's meaning):
 *
 *	offset 0	struct sb_header	limits, counters, death ring
 *	header_size	struct sb_slot[256]	one per possible child
 *
 * Only fixed-width integers, lock-free _Atomic words and fixed char
 * arrays: no pointers, no long, no time_t, so a reader built separately
 * (or a 32-bit one) sees the same bytes.  Times are Unix wall-clock
 * microseconds (uint64_t, 0 = never); durations are microseconds.  The
 * first 32 bytes (magic .. parent_pid) keep their place in every future
 * version so that any drover can tell whose segment it is looking at.
 *
 * Writers.  One writer per slot at a time:
 *	- the parent, before fork (sb_slot_spawn()) and once the child is
 *	  reaped (sb_slot_reaped(), sb_slot_clear());
 *	- the child for its own slot in between (sb_slot_child_start(),
 *	  sb_slot_set_state(), sb_slot_begin_request(), ...).
 * The header's identity, limits and death ring are written by the parent
 * only.  Counters are atomic adds and may be bumped by any process that
 * has the segment mapped (children count completed/failed/slow requests).
 *
 * Readers never block writers.  Multi-field data (a slot, the limits, a
 * death record) is guarded by a sequence lock: the writer makes the word
 * odd, writes, makes it even; a reader copies the data and keeps the copy
 * only if the word was even and unchanged around it, retrying at most
 * SB_READ_RETRIES times before reporting the slot "unstable" (-EAGAIN).
 * Copied strings are NUL-terminated by the reader, whatever the segment
 * holds.  Single words (state, pid, counters) are atomics and may be read
 * on their own without the lock.
 *
 * Mappings.  The parent creates and maps read-write (sb_create()) before
 * forking; children inherit the mapping and use the same struct sb and
 * the struct sb_slot pointer the MPM hands them (worker_env.slot).
 * Readers (drover-status, tests) map read-only with sb_open().  The fd is
 * closed right after mmap(2): a struct sb holds no fd.
 *
 * Errors: 0 or a negative errno.  The reader side distinguishes
 *	-ENOENT		no such segment (no such service running or left)
 *	-EPROTO		incompatible: not a drover scoreboard, or another
 *			layout version
 *	-EBADMSG	corrupt: right magic and version but sizes or values
 *			that cannot be (truncated segment, bad slot size)
 *	-EACCES		no permission to read it
 *	-EAGAIN		(slot and record copies) unstable: never read
 *			consistently within the retry bound
 * sb_create() returns -EBUSY when a live parent owns the segment.
 * sb_create() and sb_destroy() log their own failures and the reclaim of
 * a stale segment (log.h); nothing else here logs.
 *
 * Signal context: none of these functions is async-signal-safe except
 * the slot writers, which only store to memory; still, call them from
 * the main loop.
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
#define SB_LAYOUT_VERSION	1u

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
 * Header counters, indices into sb_header.counters[].  Monotonic, except
 * SB_C_QUEUED (a gauge: the backlog length now) and SB_C_MAX_QUEUED (its
 * high-water mark).  The numbers are part of the layout.
 */
enum sb_counter {
	SB_C_ACCEPTED = 0,	/* requests taken from the bus (parent) */
	SB_C_COMPLETED = 1,	/* requests answered without error (child) */
	SB_C_FAILED = 2,	/* requests that ended in error (child) */
	SB_C_QUEUED = 3,	/* gauge: backlog length now (parent) */
	SB_C_MAX_QUEUED = 4,	/* gauge: backlog high-water mark (parent) */
	SB_C_REJECTED = 5,	/* answered 503, backlog full (parent) */
	SB_C_MAXCHILD = 6,	/* times max_children was reached (parent) */
	SB_C_SPAWNED = 7,	/* children forked (parent) */
	SB_C_ABNORMAL = 8,	/* children dead by signal or exit != 0 */
	SB_C_SLOW = 9,		/* requests >= slow_request_ms (child) */
	SB_NCOUNTERS = 10
};
/* Room in the layout for counters added without moving anything. */
#define SB_COUNTER_ROOM		16

/*
 * The effective limits, as the parent validated them from opensrf.xml.
 * Written by the parent only, under sb_header.conf_seq.
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
	uint32_t	reserved;
};
_Static_assert(sizeof(struct sb_limits) == 40, "sb_limits layout");

/* One child death.  Written by the parent under its own seq. */
struct sb_death {
	_Atomic uint32_t seq;			/* seqlock, odd while written */
	uint32_t	slot;
	int32_t		pid;
	uint32_t	generation;
	int32_t		exit_code;		/* -1 when killed by a signal */
	int32_t		signal;			/* 0 when it exited */
	uint32_t	core_dumped;		/* 0 or 1 */
	uint32_t	reserved;
	uint64_t	requests;		/* served over its life */
	uint64_t	time_us;		/* when reaped */
	char		last_method[SB_METHOD_LEN];
};
_Static_assert(sizeof(struct sb_death) == 176, "sb_death layout");
_Static_assert(offsetof(struct sb_death, requests) == 32, "sb_death layout");

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
	_Atomic uint32_t conf_seq;		/* seqlock for the next three */
	uint32_t	generation;		/* config generation (SIGHUP) */
	struct sb_limits limits;
	/* max_children now; SIGTTIN/SIGTTOU move it within 1..256 */
	_Atomic uint32_t max_children_now;
	uint32_t	reserved0;
	/* -- counters (atomic adds by parent and children) -- */
	_Atomic uint64_t counters[SB_COUNTER_ROOM];	/* enum sb_counter */
	/* -- death ring (parent) -- */
	_Atomic uint64_t deaths_total;		/* deaths ever recorded; the
						   next goes to total % 32 */
	uint8_t		reserved1[24];		/* ring starts on a cache line */
	struct sb_death	deaths[SB_DEATHS];
};
_Static_assert(offsetof(struct sb_header, parent_pid) == 24,
    "frozen prefix moved");
_Static_assert(offsetof(struct sb_header, start_us) == 32, "sb_header layout");
_Static_assert(offsetof(struct sb_header, conf_seq) == 168,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, limits) == 176, "sb_header layout");
_Static_assert(offsetof(struct sb_header, counters) == 224,
    "sb_header layout");
_Static_assert(offsetof(struct sb_header, deaths) == 384, "sb_header layout");
_Static_assert(sizeof(struct sb_header) == 384 + SB_DEATHS * 176,
    "sb_header layout");
_Static_assert(sizeof(struct sb_header) % 64 == 0,
    "slots must start on a cache line");

/*
 * One child.  All fields but seq, state and pid are plain and read only
 * through the seqlock.  method/client/thread/xid/thread_trace/req_start_us
 * describe the current request while BUSY or SESSION, and the last one
 * otherwise (so a DEAD slot shows what its child last ran).
 */
struct sb_slot {
	_Atomic uint32_t seq;			/* seqlock, odd while written */
	_Atomic uint32_t state;			/* enum sb_state */
	_Atomic int32_t	pid;			/* 0 until the child starts */
	uint32_t	index;			/* own slot number; constant */
	uint32_t	generation;		/* config generation at spawn */
	uint32_t	errors;			/* failed requests, this child */
	uint64_t	requests;		/* served, this child */
	uint64_t	spawn_us;		/* forked at */
	uint64_t	state_us;		/* last state change */
	uint64_t	req_start_us;		/* current/last request start */
	uint64_t	last_dur_us;		/* last finished request */
	uint64_t	last_cpu_us;		/* its CPU time, user+sys */
	uint64_t	rss_kb;			/* resident set, last sampled */
	uint32_t	thread_trace;		/* OpenSRF threadTrace */
	uint32_t	reserved0;
	char		method[SB_METHOD_LEN];
	char		client[SB_CLIENT_LEN];
	char		thread[SB_THREAD_LEN];
	char		xid[SB_XID_LEN];
	uint8_t		reserved1[40];		/* pad to 9 cache lines */
};
_Static_assert(offsetof(struct sb_slot, requests) == 24, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, thread_trace) == 80,
    "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, method) == 88, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, client) == 216, "sb_slot layout");
_Static_assert(offsetof(struct sb_slot, xid) == 472, "sb_slot layout");
_Static_assert(sizeof(struct sb_slot) == 576, "sb_slot layout");

/* The whole segment. */
struct sb_segment {
	struct sb_header hdr;
	struct sb_slot	slots[SB_SLOTS];
};
_Static_assert(offsetof(struct sb_segment, slots) == sizeof(struct sb_header),
    "sb_segment layout");
_Static_assert(sizeof(struct sb_segment) ==
    sizeof(struct sb_header) + SB_SLOTS * sizeof(struct sb_slot),
    "sb_segment layout");

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
	uint64_t	state_us;
	uint64_t	req_start_us;
	uint64_t	last_dur_us;
	uint64_t	last_cpu_us;
	uint64_t	rss_kb;
	uint32_t	thread_trace;
	char		method[SB_METHOD_LEN];
	char		client[SB_CLIENT_LEN];
	char		thread[SB_THREAD_LEN];
	char		xid[SB_XID_LEN];
};

struct sb_death_info {
	uint32_t	slot;
	int32_t		pid;
	uint32_t	generation;
	int32_t		exit_code;
	int32_t		signal;
	int		core_dumped;
	uint64_t	requests;
	uint64_t	time_us;
	char		last_method[SB_METHOD_LEN];
};

/* Counts per state over a set of slots, for summaries and metrics. */
struct sb_summary {
	uint32_t	by_state[SB_NSTATES];
	uint32_t	children;		/* starting+idle+busy+session+
						   exiting: processes alive */
	uint32_t	unstable;
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
/*
 * The compact line: one letter per slot, unstable slots as '?'; `line`
 * must hold n + 1 bytes and is NUL-terminated.
 */
void	 sb_state_line(const struct sb_slot_info *, size_t n, char *line);
void	 sb_summarize(const struct sb_slot_info *, size_t n,
	    struct sb_summary *);
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
 * segment is unlinked (logged) and created anew; if its parent is alive
 * returns -EBUSY and stores that pid in *owner (may be NULL); a segment
 * that is not a drover scoreboard is left alone, -EPROTO.  Logs every
 * failure itself.  The caller owns *out and releases it with
 * sb_destroy() (clean exit) or sb_close().
 */
int	 sb_create(struct sb **out, const char *service, const char *instance,
	    mode_t mode, pid_t *owner) MUST_CHECK;
/*
 * Clean exit: unmap and shm_unlink, the latter only if this process is
 * still the segment's parent (a child calling it unmaps only).  NULL and
 * *sbp == NULL are no-ops; *sbp is reset.
 */
void	 sb_destroy(struct sb **sbp);
/* Limits and generation, together under conf_seq. */
void	 sb_set_conf(struct sb *, uint32_t generation, const struct sb_limits *);
void	 sb_set_max_children_now(struct sb *, uint32_t);
/* Atomic add to a counter; SB_C_QUEUED and SB_C_MAX_QUEUED excluded. */
void	 sb_count(struct sb *, enum sb_counter, uint64_t n);
/* Set the queue gauge; raises SB_C_MAX_QUEUED when exceeded. */
void	 sb_set_queued(struct sb *, uint64_t n);

/* Slot `idx` (0..255), or NULL when out of range. */
struct sb_slot *sb_slot(struct sb *, unsigned idx);
/*
 * Parent, before fork: claim slot idx for a new child: STARTING, pid 0,
 * generation, spawn time now, counters and strings cleared; counts
 * SB_C_SPAWNED.  Returns the slot to put in worker_env.slot.
 */
struct sb_slot *sb_slot_spawn(struct sb *, unsigned idx, uint32_t generation);
/*
 * Parent, after waitpid(): record the death of slot idx's child (pid,
 * wait status) in the ring with the slot's generation, requests and last
 * method; count SB_C_ABNORMAL for a signal or non-zero exit; leave the
 * slot DEAD (abnormal) or EMPTY (clean).  Repairs a seq a child left odd
 * when it died mid-update.  The parent is the slot's writer from here.
 */
void	 sb_slot_reaped(struct sb *, unsigned idx, pid_t pid, int wstatus);
/* Parent: back to EMPTY (fork failed, or reuse of a DEAD slot). */
void	 sb_slot_clear(struct sb *, unsigned idx);

/* ---------------------------------------------- child side (own slot) */

/* First thing in the child: publish the pid; state stays STARTING. */
void	 sb_slot_child_start(struct sb_slot *, pid_t pid);
/* Change state and stamp state_us. */
void	 sb_slot_set_state(struct sb_slot *, enum sb_state);

struct sb_request {
	const char	*method;	/* NULL = "" */
	const char	*client;
	const char	*thread;
	const char	*xid;
	uint32_t	 thread_trace;
	uint64_t	 start_us;	/* 0 = now */
};
/* Copy the request (strings truncated to their fields) and go BUSY. */
void	 sb_slot_begin_request(struct sb_slot *, const struct sb_request *);
/*
 * The request finished: requests++, errors++ unless ok, last duration and
 * CPU time; counts SB_C_COMPLETED or SB_C_FAILED, and SB_C_SLOW when the
 * duration reaches limits.slow_request_ms (if non-zero).  Then moves to
 * next_state (SB_IDLE, SB_SESSION or SB_EXITING).
 */
void	 sb_slot_end_request(struct sb_slot *, uint64_t dur_us,
	    uint64_t cpu_us, int ok, enum sb_state next_state);
void	 sb_slot_set_rss(struct sb_slot *, uint64_t rss_kb);
/* The two single words anyone mapping the segment may read unlocked. */
uint32_t sb_slot_state(const struct sb_slot *);
pid_t	 sb_slot_pid(const struct sb_slot *);
/*
 * Samples for the slot writers: this process's CPU time (user+system) in
 * microseconds, and its resident set in KiB from /proc/self/statm; 0 when
 * unavailable.  Not async-signal-safe (stdio).
 */
uint64_t sb_self_cpu_us(void);
uint64_t sb_self_rss_kb(void);

/* ---------------------------------------------------------- reader side */

/*
 * Map `shm_name` ("/drover....") read-only and validate magic, version,
 * sizes and segment length.  Errors as listed at the top.  The caller
 * releases *out with sb_close().
 */
int	 sb_open(struct sb **out, const char *shm_name) MUST_CHECK;
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
 * Every "drover.*" segment in /dev/shm, sorted by name: calls cb with
 * the shm name ("/drover.x@y") until it returns non-zero, which is then
 * returned.  0 when done (also when /dev/shm has none), -errno if the
 * directory cannot be read.
 */
int	 sb_enumerate(int (*cb)(const char *shm_name, void *arg),
	    void *arg) MUST_CHECK;

#endif /* DROVER_SB_H */
