/*
 * test_sb.c: the scoreboard (scoreboard/sb.c).
 *
 * TCases: layout (the frozen offsets, checked again at run time so a
 * failure names the field), logic (letters, names, reasons, buckets,
 * quantiles, summaries: no shared memory), segment (create, open, mode,
 * stale reclaim, refusal, foreign, damaged and version 1 segments,
 * enumerate, sparseness), writers (slot life cycle, counters, bus and
 * queues, the death ring with reasons), methods (name table, record,
 * fold, sums), sampler (this process's real RSS and CPU), seqlock (a
 * forked writer hammering a slot, and folds under a forked reader, while
 * the reader checks every copy).  Every segment name includes getpid()
 * and every test unlinks what it made.
 */
#include <check.h>
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
#include <unistd.h>

#include "proto/bus.h"
#include "scoreboard/sb.h"
#include "th_sb.h"
#include "util.h"

/* ---------------------------------------------------------------- layout */

static const struct {
	const char	*field;
	size_t		 got, want;
} layout_cases[] = {
	{ "sizeof(sb_slot)", sizeof(struct sb_slot), 896 },
	{ "sizeof(sb_death)", sizeof(struct sb_death), 192 },
	{ "sizeof(sb_limits)", sizeof(struct sb_limits), 64 },
	{ "sizeof(sb_header)", sizeof(struct sb_header), 6592 },
	{ "sizeof(sb_method_cell)", sizeof(struct sb_method_cell), 192 },
	{ "sizeof(sb_method_row)", sizeof(struct sb_method_row), 24576 },
	{ "sizeof(sb_methods)", sizeof(struct sb_methods),
	    20480 + 257 * 24576 },
	{ "sizeof(sb_segment)", sizeof(struct sb_segment), 6574080 },
	/* the frozen prefix: the same in layout 1 */
	{ "hdr.magic", offsetof(struct sb_header, magic), 0 },
	{ "hdr.version", offsetof(struct sb_header, version), 4 },
	{ "hdr.header_size", offsetof(struct sb_header, header_size), 8 },
	{ "hdr.slot_size", offsetof(struct sb_header, slot_size), 12 },
	{ "hdr.slot_count", offsetof(struct sb_header, slot_count), 16 },
	{ "hdr.death_count", offsetof(struct sb_header, death_count), 20 },
	{ "hdr.parent_pid", offsetof(struct sb_header, parent_pid), 24 },
	{ "hdr.flags", offsetof(struct sb_header, flags), 28 },
	{ "hdr.start_us", offsetof(struct sb_header, start_us), 32 },
	{ "hdr.conf_seq", offsetof(struct sb_header, conf_seq), 168 },
	{ "hdr.limits", offsetof(struct sb_header, limits), 176 },
	{ "hdr.max_children_now",
	    offsetof(struct sb_header, max_children_now), 240 },
	{ "hdr.methods_offset", offsetof(struct sb_header, methods_offset),
	    244 },
	{ "hdr.counters", offsetof(struct sb_header, counters), 256 },
	{ "hdr.deaths_total", offsetof(struct sb_header, deaths_total), 384 },
	{ "hdr.bus_state", offsetof(struct sb_header, bus_state), 392 },
	{ "hdr.bus_kind", offsetof(struct sb_header, bus_kind), 396 },
	{ "hdr.backlog_oldest_mono_us",
	    offsetof(struct sb_header, backlog_oldest_mono_us), 400 },
	{ "hdr.queue_seq", offsetof(struct sb_header, queue_seq), 408 },
	{ "hdr.svc_queue", offsetof(struct sb_header, svc_queue), 416 },
	{ "hdr.deaths", offsetof(struct sb_header, deaths), 448 },
	{ "limits.max_requests_jitter",
	    offsetof(struct sb_limits, max_requests_jitter), 36 },
	{ "limits.max_rss_growth_kb",
	    offsetof(struct sb_limits, max_rss_growth_kb), 40 },
	{ "limits.max_rss_kb", offsetof(struct sb_limits, max_rss_kb), 44 },
	{ "limits.max_child_lifetime_s",
	    offsetof(struct sb_limits, max_child_lifetime_s), 48 },
	{ "limits.max_child_lifetime_jitter_s",
	    offsetof(struct sb_limits, max_child_lifetime_jitter_s), 52 },
	{ "death.exit_reason", offsetof(struct sb_death, exit_reason), 28 },
	{ "death.requests", offsetof(struct sb_death, requests), 32 },
	{ "death.rss_kb", offsetof(struct sb_death, rss_kb), 48 },
	{ "death.cpu_us", offsetof(struct sb_death, cpu_us), 56 },
	{ "death.last_method", offsetof(struct sb_death, last_method), 64 },
	{ "slot.seq", offsetof(struct sb_slot, seq), 0 },
	{ "slot.state", offsetof(struct sb_slot, state), 4 },
	{ "slot.pid", offsetof(struct sb_slot, pid), 8 },
	{ "slot.rss_kb", offsetof(struct sb_slot, rss_kb), 72 },
	{ "slot.bus_state", offsetof(struct sb_slot, bus_state), 84 },
	{ "slot.method", offsetof(struct sb_slot, method), 88 },
	{ "slot.client", offsetof(struct sb_slot, client), 216 },
	{ "slot.thread", offsetof(struct sb_slot, thread), 408 },
	{ "slot.xid", offsetof(struct sb_slot, xid), 472 },
	{ "slot.exit_reason", offsetof(struct sb_slot, exit_reason), 536 },
	{ "slot.req_start_mono_us",
	    offsetof(struct sb_slot, req_start_mono_us), 544 },
	{ "slot.spawn_mono_us", offsetof(struct sb_slot, spawn_mono_us),
	    552 },
	{ "slot.rss_base_kb", offsetof(struct sb_slot, rss_base_kb), 560 },
	{ "slot.cpu_us", offsetof(struct sb_slot, cpu_us), 568 },
	{ "slot.methods_used", offsetof(struct sb_slot, methods_used), 576 },
	{ "slot.addr", offsetof(struct sb_slot, addr), 640 },
	{ "cell.sum_us", offsetof(struct sb_method_cell, sum_us), 160 },
	{ "cell.err_4xx", offsetof(struct sb_method_cell, err_4xx), 168 },
	{ "cell.err_other", offsetof(struct sb_method_cell, err_other), 184 },
	{ "methods.named", offsetof(struct sb_methods, named), 4 },
	{ "methods.retired_used", offsetof(struct sb_methods, retired_used),
	    16 },
	{ "methods.names", offsetof(struct sb_methods, names), 64 },
	{ "methods.rows", offsetof(struct sb_methods, rows), 20480 },
	{ "segment.slots", offsetof(struct sb_segment, slots), 6592 },
	{ "segment.methods", offsetof(struct sb_segment, methods), 237568 },
};

START_TEST(test_layout)
{
	ck_assert_msg(layout_cases[_i].got == layout_cases[_i].want,
	    "%s is %zu, layout version %u says %zu", layout_cases[_i].field,
	    layout_cases[_i].got, SB_LAYOUT_VERSION, layout_cases[_i].want);
}
END_TEST

START_TEST(test_layout_lockfree)
{
	struct sb_slot		s;
	struct sb_header	h;

	/* Shared with other processes: the atomics must not hide a lock. */
	ck_assert(atomic_is_lock_free(&s.seq));
	ck_assert(atomic_is_lock_free(&s.state));
	ck_assert(atomic_is_lock_free(&s.bus_state));
	ck_assert(atomic_is_lock_free(&s.exit_reason));
	ck_assert(atomic_is_lock_free(&s.methods_used[0]));
	ck_assert(atomic_is_lock_free(&h.counters[0]));
	ck_assert(atomic_is_lock_free(&h.deaths_total));
	ck_assert(atomic_is_lock_free(&h.backlog_oldest_mono_us));
	ck_assert_uint_eq(sizeof(struct sb_header) % 64, 0);
	ck_assert_uint_eq(sizeof(struct sb_slot) % 64, 0);
	ck_assert_uint_eq(offsetof(struct sb_segment, methods.rows) % 4096, 0);
	ck_assert_uint_ge(SB_NCOUNTERS, 13);
	ck_assert_uint_le(SB_NCOUNTERS, SB_COUNTER_ROOM);
}
END_TEST

/* The scoreboard's bus words are proto/bus.h's and cfg.h's plus one. */
START_TEST(test_bus_enums)
{
	ck_assert_uint_eq(SB_BUS_FROM(BUS_DOWN), SB_BUS_DOWN);
	ck_assert_uint_eq(SB_BUS_FROM(BUS_CONNECTING), SB_BUS_CONNECTING);
	ck_assert_uint_eq(SB_BUS_FROM(BUS_UP), SB_BUS_UP);
	ck_assert_uint_eq(SB_BUSKIND_FROM(BUS_XMPP), SB_BUSKIND_XMPP);
	ck_assert_uint_eq(SB_BUSKIND_FROM(BUS_REDIS), SB_BUSKIND_REDIS);
	ck_assert_uint_eq(SB_BUSKIND_FROM(BUS_LOCAL), SB_BUSKIND_LOCAL);
	/* The names bus_kind_name() documents. */
	ck_assert_str_eq(sb_bus_kind_name(SB_BUSKIND_FROM(BUS_REDIS)),
	    "redis");
	ck_assert_str_eq(sb_bus_kind_name(SB_BUSKIND_FROM(BUS_XMPP)), "xmpp");
	ck_assert_str_eq(sb_bus_kind_name(SB_BUSKIND_FROM(BUS_LOCAL)),
	    "local");
	ck_assert_str_eq(sb_bus_kind_name(SB_BUSKIND_NONE), "none");
	ck_assert_str_eq(sb_bus_kind_name(SB_NBUSKINDS), "unknown");
}
END_TEST

/* ----------------------------------------------------------------- logic */

static const struct {
	uint32_t	 state;
	char		 letter;
	const char	*name;
} state_cases[] = {
	{ SB_EMPTY, '.', "empty" },
	{ SB_STARTING, 'S', "starting" },
	{ SB_IDLE, '_', "idle" },
	{ SB_BUSY, 'W', "busy" },
	{ SB_SESSION, 'K', "session" },
	{ SB_EXITING, 'G', "exiting" },
	{ SB_DEAD, 'X', "dead" },
	{ SB_NSTATES, '?', "unknown" },
	{ 0xffffffffu, '?', "unknown" },
};

START_TEST(test_state_letters)
{
	ck_assert_int_eq(sb_state_letter(state_cases[_i].state),
	    state_cases[_i].letter);
	ck_assert_str_eq(sb_state_name(state_cases[_i].state),
	    state_cases[_i].name);
}
END_TEST

START_TEST(test_counter_names)
{
	unsigned	i, j;

	for (i = 0; i < SB_NCOUNTERS; i++) {
		ck_assert_ptr_nonnull(sb_counter_name(i));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(sb_counter_name(i),
			    sb_counter_name(j));
	}
	ck_assert_ptr_null(sb_counter_name(SB_NCOUNTERS));
	ck_assert_str_eq(sb_counter_name(SB_C_REJECTED), "rejected");
}
END_TEST

START_TEST(test_summary_line)
{
	struct sb_slot_info	s[10];
	struct sb_summary	sum;
	char			line[11];
	static const uint32_t	st[10] = { SB_IDLE, SB_BUSY, SB_BUSY,
	    SB_SESSION, SB_EMPTY, SB_STARTING, SB_EXITING, SB_DEAD, SB_IDLE,
	    SB_EMPTY };
	unsigned		i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 10; i++)
		s[i].state = st[i];
	s[8].unstable = 1;
	sb_state_line(s, 10, line);
	ck_assert_str_eq(line, "_WWK.SGX?.");
	sb_summarize(s, 10, &sum);
	ck_assert_uint_eq(sum.by_state[SB_IDLE], 1);
	ck_assert_uint_eq(sum.by_state[SB_BUSY], 2);
	ck_assert_uint_eq(sum.by_state[SB_EMPTY], 2);
	ck_assert_uint_eq(sum.by_state[SB_DEAD], 1);
	ck_assert_uint_eq(sum.unstable, 1);
	/* idle, 2 busy, session, starting, exiting: dead is not alive */
	ck_assert_uint_eq(sum.children, 6);
}
END_TEST

START_TEST(test_summary_v2)
{
	struct sb_slot_info	s[5];
	struct sb_summary	sum;

	memset(s, 0, sizeof(s));
	s[0].state = SB_IDLE;		/* up: not counted */
	s[0].bus_state = SB_BUS_UP;
	s[0].rss_kb = 1000;
	s[0].cpu_us = 10;
	s[1].state = SB_STARTING;	/* connecting: counted */
	s[1].bus_state = SB_BUS_CONNECTING;
	s[1].rss_kb = 200;
	s[2].state = SB_BUSY;		/* down: counted */
	s[2].bus_state = SB_BUS_DOWN;
	s[2].cpu_us = 5;
	s[3].state = SB_IDLE;		/* never reported: not counted */
	s[4].state = SB_DEAD;		/* down but dead: not counted */
	s[4].bus_state = SB_BUS_DOWN;
	s[4].rss_kb = 99999;
	sb_summarize(s, 5, &sum);
	ck_assert_uint_eq(sum.children, 4);
	ck_assert_uint_eq(sum.bus_not_up, 2);
	ck_assert_uint_eq(sum.rss_kb, 1200);
	ck_assert_uint_eq(sum.cpu_us, 15);
}
END_TEST

static const struct {
	uint32_t	 bus;
	char		 letter;
	const char	*name;
} bus_cases[] = {
	{ SB_BUS_NONE, '-', "none" },
	{ SB_BUS_DOWN, 'D', "down" },
	{ SB_BUS_CONNECTING, 'C', "connecting" },
	{ SB_BUS_UP, 'U', "up" },
	{ SB_NBUS, '?', "unknown" },
};

START_TEST(test_bus_names)
{
	ck_assert_int_eq(sb_bus_letter(bus_cases[_i].bus),
	    bus_cases[_i].letter);
	ck_assert_str_eq(sb_bus_name(bus_cases[_i].bus), bus_cases[_i].name);
}
END_TEST

START_TEST(test_exit_reason_names)
{
	static const char *const want[SB_NEXIT_REASONS] = {
		"unknown", "stop", "retired", "max_requests", "rss_growth",
		"rss_max", "lifetime", "bus_lost", "init_failed", "panic",
		"request_failed", "watchdog", "killed", "crashed",
	};
	unsigned	i;

	for (i = 0; i < SB_NEXIT_REASONS; i++)
		ck_assert_str_eq(sb_exit_reason_name(i), want[i]);
	ck_assert_str_eq(sb_exit_reason_name(SB_NEXIT_REASONS), "unknown");
	for (i = 0; i < SB_NEXIT_REASONS + 1; i++)
		ck_assert_int_eq(sb_exit_reason_recycles(i),
		    i == SB_EXIT_MAX_REQUESTS || i == SB_EXIT_RSS_GROWTH ||
		    i == SB_EXIT_RSS_MAX || i == SB_EXIT_LIFETIME);
}
END_TEST

/* wait statuses as the kernel builds them */
#define W_EXIT(c)	((c) << 8)
#define W_SIG(s)	(s)
#define W_CORE(s)	((s) | 0x80)

static const struct {
	uint32_t	child, parent;
	int		wstatus;
	uint32_t	want;
} pick_cases[] = {
	/* the child's word wins... */
	{ SB_EXIT_RSS_GROWTH, SB_EXIT_NONE, W_EXIT(0), SB_EXIT_RSS_GROWTH },
	{ SB_EXIT_PANIC, SB_EXIT_NONE, W_EXIT(2), SB_EXIT_PANIC },
	{ SB_EXIT_LIFETIME, SB_EXIT_KILLED, W_SIG(SIGKILL),
	    SB_EXIT_LIFETIME },
	{ SB_EXIT_REQUEST_FAILED, SB_EXIT_NONE, W_CORE(SIGSEGV),
	    SB_EXIT_REQUEST_FAILED },
	/* ...except over the watchdog's kill */
	{ SB_EXIT_MAX_REQUESTS, SB_EXIT_WATCHDOG, W_SIG(SIGKILL),
	    SB_EXIT_WATCHDOG },
	{ SB_EXIT_NONE, SB_EXIT_WATCHDOG, W_SIG(SIGKILL), SB_EXIT_WATCHDOG },
	/* the parent's word when the child said nothing */
	{ SB_EXIT_NONE, SB_EXIT_KILLED, W_SIG(SIGKILL), SB_EXIT_KILLED },
	{ SB_EXIT_NONE, SB_EXIT_RETIRED, W_EXIT(0), SB_EXIT_RETIRED },
	/* else the wait status */
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_SIG(SIGKILL), SB_EXIT_KILLED },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_SIG(SIGTERM), SB_EXIT_KILLED },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_CORE(SIGSEGV), SB_EXIT_CRASHED },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_SIG(SIGABRT), SB_EXIT_CRASHED },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_EXIT(0), SB_EXIT_NORMAL },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_EXIT(3), SB_EXIT_CRASHED },
	/* out-of-range words are ignored */
	{ 77, SB_EXIT_NONE, W_EXIT(0), SB_EXIT_NORMAL },
	{ SB_EXIT_NONE, 99, W_SIG(SIGKILL), SB_EXIT_KILLED },
};

START_TEST(test_exit_reason_pick)
{
	ck_assert_uint_eq(sb_exit_reason_pick(pick_cases[_i].child,
	    pick_cases[_i].parent, pick_cases[_i].wstatus),
	    pick_cases[_i].want);
}
END_TEST

/* Bucket k holds (le(k-1), le(k)]; le(k) = 64 us << k; 19 is +Inf. */
static const struct {
	uint64_t	dur_us;
	unsigned	bucket;
} bucket_cases[] = {
	{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 63, 0 }, { 64, 0 },
	{ 65, 1 }, { 128, 1 }, { 129, 2 }, { 1000, 4 }, { 1024, 4 },
	{ 1025, 5 }, { 2000, 5 }, { 10000, 8 }, { 999999, 14 },
	{ 1000000, 14 }, { 1048576, 14 }, { 1048577, 15 },
	{ 10000000, 18 }, { 16777216, 18 }, { 16777217, 19 },
	{ 3600000000ull, 19 }, { UINT64_MAX, 19 },
};

START_TEST(test_method_bucket)
{
	unsigned	b = sb_method_bucket(bucket_cases[_i].dur_us);

	ck_assert_msg(b == bucket_cases[_i].bucket, "%llu us: bucket %u, "
	    "want %u", (unsigned long long)bucket_cases[_i].dur_us, b,
	    bucket_cases[_i].bucket);
	/* and the bounds agree with the bucket */
	ck_assert_uint_le(bucket_cases[_i].dur_us, sb_method_le_us(b));
	if (b > 0)
		ck_assert_uint_gt(bucket_cases[_i].dur_us,
		    sb_method_le_us(b - 1));
}
END_TEST

START_TEST(test_method_le)
{
	ck_assert_uint_eq(sb_method_le_us(0), 64);
	ck_assert_uint_eq(sb_method_le_us(14), 1048576);
	ck_assert_uint_eq(sb_method_le_us(18), 16777216);
	ck_assert_uint_eq(sb_method_le_us(19), UINT64_MAX);
	ck_assert_uint_eq(sb_method_le_us(1000), UINT64_MAX);
}
END_TEST

static const struct {
	unsigned	 fill[4][2];	/* {bucket, count}, count 0 ends */
	double		 q;
	uint64_t	 want;
} quantile_cases[] = {
	{ { { 0, 0 } }, 0.5, 0 },			/* no calls */
	/* 10 calls in (64, 128]: linear inside the bucket */
	{ { { 1, 10 }, { 0, 0 } }, 0.5, 96 },
	{ { { 1, 10 }, { 0, 0 } }, 0.9, 122 },
	{ { { 1, 10 }, { 0, 0 } }, 1.0, 128 },
	/* the first bucket starts at 0 */
	{ { { 0, 4 }, { 0, 0 } }, 0.5, 32 },
	/* 90 fast, 10 at ~1 s: p50 fast, p99 in (524288, 1048576] */
	{ { { 2, 90 }, { 14, 10 }, { 0, 0 } }, 0.5, 199 },
	{ { { 2, 90 }, { 14, 10 }, { 0, 0 } }, 0.99, 996147 },
	/* a rank in +Inf says the last finite bound */
	{ { { 0, 1 }, { 19, 9 }, { 0, 0 } }, 0.9, 16777216 },
	/* q outside 0..1 is clamped */
	{ { { 1, 10 }, { 0, 0 } }, 7.0, 128 },
	{ { { 3, 10 }, { 0, 0 } }, -1.0, 256 },
};

START_TEST(test_method_quantile)
{
	uint64_t	b[SB_METHOD_BUCKETS] = { 0 };
	unsigned	i;

	for (i = 0; i < 4 && quantile_cases[_i].fill[i][1] != 0; i++)
		b[quantile_cases[_i].fill[i][0]] =
		    quantile_cases[_i].fill[i][1];
	ck_assert_uint_eq(sb_method_quantile_us(b, quantile_cases[_i].q),
	    quantile_cases[_i].want);
}
END_TEST

static const struct {
	const char	*arg;
	int		 rc;
	const char	*name;
} name_cases[] = {
	{ "opensrf.math", 0, "/drover.opensrf.math" },
	{ "open-ils.actor@2", 0, "/drover.open-ils.actor@2" },
	{ "a@b", 0, "/drover.a@b" },
	{ "", -EINVAL, NULL },
	{ "@x", -EINVAL, NULL },
	{ "x@", -EINVAL, NULL },
	{ "x@y@z", -EINVAL, NULL },
	{ "../etc", -EINVAL, NULL },
	{ "sp ace", -EINVAL, NULL },
	{ "tab\there", -EINVAL, NULL },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	    -EINVAL, NULL },		/* 64 bytes: one too many */
};

START_TEST(test_shm_name)
{
	char	buf[SB_SHM_NAME_MAX];
	int	rc;

	strcpy(buf, "untouched");
	rc = sb_shm_name_arg(buf, sizeof(buf), name_cases[_i].arg);
	ck_assert_int_eq(rc, name_cases[_i].rc);
	if (rc == 0)
		ck_assert_str_eq(buf, name_cases[_i].name);
}
END_TEST

START_TEST(test_shm_name_parts)
{
	char	buf[SB_SHM_NAME_MAX], small[12];

	ck_assert_int_eq(sb_shm_name(buf, sizeof(buf), "svc", NULL), 0);
	ck_assert_str_eq(buf, "/drover.svc");
	ck_assert_int_eq(sb_shm_name(buf, sizeof(buf), "svc", ""), 0);
	ck_assert_str_eq(buf, "/drover.svc");
	ck_assert_int_eq(sb_shm_name(buf, sizeof(buf), "svc", "i1"), 0);
	ck_assert_str_eq(buf, "/drover.svc@i1");
	ck_assert_int_eq(sb_shm_name(buf, sizeof(buf), NULL, NULL), -EINVAL);
	ck_assert_int_eq(sb_shm_name(buf, sizeof(buf), "a@b", NULL), -EINVAL);
	ck_assert_int_eq(sb_shm_name(small, sizeof(small), "longname",
	    NULL), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_pid_alive)
{
	pid_t	pid;
	int	st;

	ck_assert(sb_pid_alive(getpid()));
	ck_assert(!sb_pid_alive(0));
	ck_assert(!sb_pid_alive(-1));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(!sb_pid_alive(pid));
}
END_TEST

/* --------------------------------------------------------------- segment */

START_TEST(test_create_open)
{
	char		 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	struct sb	*sb, *rd;
	struct sb_info	 info;

	sb = th_sb_create("open", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	ck_assert_str_eq(sb_name(sb), name);
	ck_assert_int_eq(sb_open(&rd, name), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_int_eq(info.parent_pid, getpid());
	ck_assert(info.parent_alive);
	ck_assert_uint_eq(info.version, SB_LAYOUT_VERSION);
	ck_assert_str_eq(info.service, svc);
	ck_assert_str_eq(info.instance, "");
	ck_assert_uint_ne(info.start_us, 0);
	sb_close(&rd);
	ck_assert_ptr_null(rd);
	sb_close(&rd);			/* no-op on NULL */
	sb_destroy(&sb);
	ck_assert_ptr_null(sb);
	ck_assert_int_eq(sb_open(&rd, name), -ENOENT);
	ck_assert_ptr_null(rd);
}
END_TEST

START_TEST(test_create_instance)
{
	char		 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	struct sb	*sb, *rd;
	struct sb_info	 info;

	sb = th_sb_create("inst", "blue", 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, "blue"), 0);
	ck_assert_int_eq(sb_open(&rd, name), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_str_eq(info.instance, "blue");
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

static const mode_t mode_cases[] = { 0600, 0640, 0644, 0660 };

START_TEST(test_mode)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb;
	struct stat	 st;
	mode_t		 old;
	int		 fd;

	/* A strict umask must not narrow the configured mode. */
	old = umask(077);
	sb = th_sb_create("mode", NULL, mode_cases[_i], svc, sizeof(svc));
	(void)umask(old);		/* returns the previous mask */
	fd = shm_open(sb_name(sb), O_RDONLY | O_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	fd_close(&fd);
	ck_assert_uint_eq(st.st_mode & 07777, mode_cases[_i]);
	ck_assert_uint_eq((size_t)st.st_size, sizeof(struct sb_segment));
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_refuse_live_owner)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb, *sb2 = (struct sb *)1;
	pid_t		 owner = 0;

	sb = th_sb_create("live", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_create(&sb2, svc, NULL, 0600, &owner), -EBUSY);
	ck_assert_ptr_null(sb2);
	ck_assert_int_eq(owner, getpid());
	/* The refused attempt left the live segment alone. */
	ck_assert_int_eq(atomic_load(&sb_slot(sb, 0)->seq), 0);
	sb_destroy(&sb);
}
END_TEST

/* Fork a "parent" that creates the segment and dies without cleaning. */
static pid_t
make_stale(const char *svc)
{
	struct sb	*sb;
	pid_t		 pid;
	int		 st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sb_create(&sb, svc, NULL, 0600, NULL) != 0)
			_exit(1);
		sb_count(sb, SB_C_ACCEPTED, 99);
		_exit(0);			/* no sb_destroy: stale */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return pid;
}

START_TEST(test_stale_reclaim)
{
	char		 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	struct sb	*sb, *rd;
	struct sb_info	 info;
	pid_t		 dead;

	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-stale-%d",
	    (int)getpid()), (int)sizeof(svc));
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	dead = make_stale(svc);

	/* A reader still sees the dead parent's segment, and says so. */
	ck_assert_int_eq(sb_open(&rd, name), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_int_eq(info.parent_pid, dead);
	ck_assert(!info.parent_alive);
	ck_assert_uint_eq(info.counters[SB_C_ACCEPTED], 99);
	sb_close(&rd);

	ck_assert_int_eq(sb_create(&sb, svc, NULL, 0600, NULL), 0);
	ck_assert_int_eq(sb_open(&rd, name), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_int_eq(info.parent_pid, getpid());
	ck_assert_uint_eq(info.counters[SB_C_ACCEPTED], 0);	/* fresh */
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_child_destroy_keeps)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb, *rd;
	pid_t		 pid;
	int		 st;

	/* A child that inherited the mapping only unmaps on destroy. */
	sb = th_sb_create("inherit", NULL, 0600, svc, sizeof(svc));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sb_slot_child_start(sb_slot(sb, 0), getpid());
		sb_destroy(&sb);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(atomic_load(&sb_slot(sb, 0)->pid), pid);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* Damaged or foreign segments: what a reader and a creator say. */
enum damage { D_MAGIC, D_VERSION, D_SLOTSIZE, D_SHORT, D_TINY, D_ZERO,
    D_CELLS };

static const struct {
	enum damage	 what;
	int		 open_rc;
	int		 create_rc;	/* parent pid is live: ours */
} damage_cases[] = {
	{ D_MAGIC, -EPROTO, -EPROTO },
	{ D_VERSION, -EPROTO, -EBUSY },
	{ D_SLOTSIZE, -EBADMSG, -EBUSY },
	{ D_SHORT, -EBADMSG, -EBUSY },
	{ D_TINY, -EBADMSG, 0 },	/* under 32 bytes: a failed create */
	{ D_ZERO, -EBADMSG, 0 },	/* died before the magic: stale */
	{ D_CELLS, -EBADMSG, -EBUSY },	/* method geometry not ours */
};

START_TEST(test_damaged)
{
	struct sb_header	*h;
	struct sb		*sb;
	char			 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	size_t			 len = sizeof(struct sb_segment);
	pid_t			 owner;

	h = xcalloc(1, sizeof(struct sb_segment));
	th_sb_fake_header(h, SB_LAYOUT_VERSION);
	switch (damage_cases[_i].what) {
	case D_MAGIC:
		h->magic = 0x12345678;
		break;
	case D_VERSION:
		h->version = SB_LAYOUT_VERSION + 1;
		break;
	case D_SLOTSIZE:
		h->slot_size = 512;
		break;
	case D_SHORT:
		len = sizeof(struct sb_header) + 10;
		break;
	case D_TINY:
		len = 16;
		break;
	case D_ZERO:
		memset(h, 0, sizeof(*h));
		break;
	case D_CELLS:
		h->method_cells = 64;
		break;
	}
	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-dmg%d-%d", _i,
	    (int)getpid()), (int)sizeof(svc));
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	th_shm_write(svc, h, len);
	free(h);

	ck_assert_int_eq(sb_open(&sb, name), damage_cases[_i].open_rc);
	ck_assert_ptr_null(sb);
	owner = 0;
	ck_assert_int_eq(sb_create(&sb, svc, NULL, 0600, &owner),
	    damage_cases[_i].create_rc);
	if (damage_cases[_i].create_rc == -EBUSY)
		ck_assert_int_eq(owner, getpid());
	if (sb != NULL)
		sb_destroy(&sb);
	else
		th_shm_unlink(svc);
}
END_TEST

/*
 * An older droverd (layout 1) still running: refused with -EPROTO, and
 * sb_peek_version() says which version it is; its parent is alive, so
 * sb_create() leaves it alone; dead, the segment is replaced.
 */
START_TEST(test_version1_segment)
{
	struct sb_header	*h;
	struct sb		*sb;
	char			 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	uint32_t		 version = 0;
	pid_t			 owner = 0;
	/* a layout 1 segment: 6016 + 256 * 576 bytes */
	const size_t		 v1_len = 6016 + 256 * 576;

	h = xcalloc(1, v1_len);
	h->magic = SB_MAGIC;
	h->version = 1;
	h->header_size = 6016;
	h->slot_size = 576;
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
	atomic_store(&h->parent_pid, getpid());
	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-v1-%d",
	    (int)getpid()), (int)sizeof(svc));
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	th_shm_write(svc, h, v1_len);
	free(h);

	ck_assert_int_eq(sb_open(&sb, name), -EPROTO);
	ck_assert_ptr_null(sb);
	ck_assert_int_eq(sb_peek_version(name, &version), 0);
	ck_assert_uint_eq(version, 1);
	ck_assert_int_eq(sb_create(&sb, svc, NULL, 0600, &owner), -EBUSY);
	ck_assert_int_eq(owner, getpid());
	th_shm_unlink(svc);
	ck_assert_int_eq(sb_peek_version(name, &version), -ENOENT);
}
END_TEST

START_TEST(test_peek_version)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb;
	uint32_t	 version = 0, junk = 0x7f454c46;

	sb = th_sb_create("peek", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_peek_version(sb_name(sb), &version), 0);
	ck_assert_uint_eq(version, SB_LAYOUT_VERSION);
	sb_destroy(&sb);
	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-peekx-%d",
	    (int)getpid()), (int)sizeof(svc));
	th_shm_write(svc, &junk, sizeof(junk));		/* too short */
	{
		char name[SB_SHM_NAME_MAX];

		ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL),
		    0);
		ck_assert_int_eq(sb_peek_version(name, &version), -EBADMSG);
	}
	th_shm_unlink(svc);
}
END_TEST

/*
 * 6 MiB of method rows cost nothing until written: after a fill and a
 * full read (drover-status's), the segment holds far fewer pages than
 * its size.
 */
START_TEST(test_segment_sparse)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_method_info	*mi;
	struct sb_slot_info	 si;
	struct sb_death_info	 d[SB_DEATHS];
	struct stat		 st;
	unsigned		 i;
	int			 fd;

	sb = th_sb_create("sparse", NULL, 0600, svc, sizeof(svc));
	th_sb_fill(sb);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	mi = xcalloc(SB_METHOD_CELLS, sizeof(*mi));
	ck_assert_int_eq(sb_read_methods(rd, mi), TH_METHODS);
	for (i = 0; i < SB_SLOTS; i++)
		ck_assert_int_eq(sb_read_slot(rd, i, &si), 0);
	ck_assert_int_eq(sb_read_deaths(rd, d, SB_DEATHS), TH_DEATHS);
	fd = shm_open(sb_name(sb), O_RDONLY | O_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	fd_close(&fd);
	ck_assert_uint_eq((size_t)st.st_size, sizeof(struct sb_segment));
	/*
	 * Header + slots: 236 KiB; names: 1 page; rows used: slots 0, 1,
	 * 2, 8, 9 and the retired one, one or two pages each.  512 KiB is
	 * generous and still a twelfth of the size.
	 */
	ck_assert_msg((uint64_t)st.st_blocks * 512 < 512 * 1024,
	    "%lld bytes allocated of %lld", (long long)st.st_blocks * 512,
	    (long long)st.st_size);
	free(mi);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

struct seen {
	const char	*want[2];
	int		 found[2];
};

static int
enum_cb(const char *name, void *arg)
{
	struct seen	*s = arg;
	int		 i;

	ck_assert_int_eq(strncmp(name, "/drover.", 8), 0);
	for (i = 0; i < 2; i++)
		if (strcmp(name, s->want[i]) == 0)
			s->found[i]++;
	return 0;
}

static int
enum_stop(const char *name, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

START_TEST(test_enumerate)
{
	char		 a[SB_NAME_LEN], b[SB_NAME_LEN];
	struct sb	*sa, *sbb;
	struct seen	 s = { { NULL, NULL }, { 0, 0 } };
	int		 calls = 0;

	sa = th_sb_create("enuma", NULL, 0600, a, sizeof(a));
	sbb = th_sb_create("enumb", "x", 0600, b, sizeof(b));
	s.want[0] = sb_name(sa);
	s.want[1] = sb_name(sbb);
	ck_assert_int_eq(sb_enumerate(enum_cb, &s), 0);
	ck_assert_int_eq(s.found[0], 1);
	ck_assert_int_eq(s.found[1], 1);
	/* A non-zero callback result stops the walk and is returned. */
	ck_assert_int_eq(sb_enumerate(enum_stop, &calls), 42);
	ck_assert_int_eq(calls, 1);
	sb_destroy(&sa);
	sb_destroy(&sbb);
}
END_TEST

/* --------------------------------------------------------------- writers */

START_TEST(test_slot_lifecycle)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_slot		*s;
	struct sb_slot_info	 si;
	struct sb_info		 info;
	struct sb_request	 r = { 0 };
	char			 longm[300];

	sb = th_sb_create("life", NULL, 0600, svc, sizeof(svc));
	ck_assert_ptr_null(sb_slot(sb, SB_SLOTS));
	ck_assert_ptr_null(sb_slot_spawn(sb, SB_SLOTS, 1));
	s = sb_slot_spawn(sb, 17, 4);
	ck_assert_ptr_eq(s, sb_slot(sb, 17));
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);

	ck_assert_int_eq(sb_read_slot(rd, 17, &si), 0);
	ck_assert_uint_eq(si.index, 17);
	ck_assert_uint_eq(si.state, SB_STARTING);
	ck_assert_int_eq(si.pid, 0);
	ck_assert_uint_eq(si.generation, 4);
	ck_assert_uint_ne(si.spawn_us, 0);

	sb_slot_child_start(s, 4242);
	sb_slot_set_state(s, SB_IDLE);
	memset(longm, 'm', sizeof(longm) - 1);
	longm[sizeof(longm) - 1] = '\0';
	r.method = longm;		/* truncated, still terminated */
	r.client = "c@d/e";
	r.thread_trace = 9;
	r.start_us = 1000;
	sb_slot_begin_request(s, &r);
	ck_assert_int_eq(sb_read_slot(rd, 17, &si), 0);
	ck_assert_uint_eq(si.state, SB_BUSY);
	ck_assert_int_eq(si.pid, 4242);
	ck_assert_uint_eq(strlen(si.method), SB_METHOD_LEN - 1);
	ck_assert_str_eq(si.client, "c@d/e");
	ck_assert_str_eq(si.thread, "");	/* NULL given */
	ck_assert_uint_eq(si.thread_trace, 9);
	ck_assert_uint_eq(si.req_start_us, 1000);

	sb_slot_end_request(s, 250, 0, SB_IDLE);
	sb_slot_set_rss(s, 5555);
	ck_assert_int_eq(sb_read_slot(rd, 17, &si), 0);
	ck_assert_uint_eq(si.state, SB_IDLE);
	ck_assert_uint_eq(si.requests, 1);
	ck_assert_uint_eq(si.errors, 1);
	ck_assert_uint_eq(si.last_dur_us, 250);
	ck_assert_uint_eq(si.last_cpu_us, 0);	/* comes with a sample */
	ck_assert_uint_eq(si.rss_kb, 5555);

	sb_slot_clear(sb, 17);
	ck_assert_int_eq(sb_read_slot(rd, 17, &si), 0);
	ck_assert_uint_eq(si.state, SB_EMPTY);
	ck_assert_int_eq(sb_read_slot(rd, SB_SLOTS, &si), -EINVAL);

	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.counters[SB_C_SPAWNED], 1);
	ck_assert_uint_eq(info.counters[SB_C_FAILED], 1);
	ck_assert_uint_eq(info.counters[SB_C_COMPLETED], 0);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_counters_conf)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_info		 info;
	struct sb_limits	 lim = *th_sb_limits();

	sb = th_sb_create("count", NULL, 0600, svc, sizeof(svc));
	sb_set_conf(sb, 3, &lim);
	sb_set_max_children_now(sb, 11);
	sb_count(sb, SB_C_ACCEPTED, 5);
	sb_count(sb, SB_C_ACCEPTED, 2);
	sb_count(sb, SB_C_QUEUED, 100);		/* gauges: ignored here */
	sb_count(sb, SB_NCOUNTERS, 1);		/* out of range: ignored */
	sb_set_queued(sb, 8);
	sb_set_queued(sb, 3);
	/* Slow: at or over slow_request_ms, counted by the child's end. */
	sb_slot_spawn(sb, 0, 3);
	sb_slot_end_request(sb_slot(sb, 0), lim.slow_request_ms * 1000u, 1,
	    SB_IDLE);
	sb_slot_end_request(sb_slot(sb, 0), lim.slow_request_ms * 1000u - 1,
	    1, SB_IDLE);

	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.generation, 3);
	ck_assert_mem_eq(&info.limits, &lim, sizeof(lim));
	ck_assert_uint_eq(info.max_children_now, 11);
	ck_assert_uint_eq(info.counters[SB_C_ACCEPTED], 7);
	ck_assert_uint_eq(info.counters[SB_C_QUEUED], 3);
	ck_assert_uint_eq(info.counters[SB_C_MAX_QUEUED], 8);
	ck_assert_uint_eq(info.counters[SB_C_COMPLETED], 2);
	ck_assert_uint_eq(info.counters[SB_C_SLOW], 1);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_death_ring)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_death_info	 d[SB_DEATHS];
	struct sb_slot_info	 si;
	struct sb_info		 info;
	const unsigned		 total = SB_DEATHS + 9;	/* wraps once */
	unsigned		 i, slot;
	int			 n, k, st;

	sb = th_sb_create("ring", NULL, 0600, svc, sizeof(svc));
	for (i = 0; i < total; i++) {
		slot = i % 5;
		sb_slot_spawn(sb, slot, i);
		sb_slot_child_start(sb_slot(sb, slot), 10000 + (pid_t)i);
		sb_slot_end_request(sb_slot(sb, slot), 1, 1, SB_IDLE);
		/* every third death by SIGKILL, the others exit(i % 3) */
		st = i % 3 == 0 ? SIGKILL : (int)(i % 3) << 8;
		sb_slot_reaped(sb, slot, 10000 + (pid_t)i, st);
	}
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.deaths_total, total);
	ck_assert_uint_eq(info.counters[SB_C_ABNORMAL], total);

	n = sb_read_deaths(rd, d, SB_DEATHS);
	ck_assert_int_eq(n, SB_DEATHS);
	for (k = 0; k < n; k++) {
		i = total - 1 - (unsigned)k;	/* newest first */
		ck_assert_int_eq(d[k].pid, 10000 + (int)i);
		ck_assert_uint_eq(d[k].slot, i % 5);
		ck_assert_uint_eq(d[k].generation, i);
		ck_assert_uint_eq(d[k].requests, 1);
		if (i % 3 == 0) {
			ck_assert_int_eq(d[k].signal, SIGKILL);
			ck_assert_int_eq(d[k].exit_code, -1);
		} else {
			ck_assert_int_eq(d[k].signal, 0);
			ck_assert_int_eq(d[k].exit_code, (int)(i % 3));
		}
		ck_assert(!d[k].core_dumped);
	}
	/* A short buffer gets the newest ones only. */
	ck_assert_int_eq(sb_read_deaths(rd, d, 2), 2);
	ck_assert_int_eq(d[0].pid, 10000 + (int)total - 1);
	/* Abnormal deaths leave the slot DEAD with the pid shown. */
	ck_assert_int_eq(sb_read_slot(rd, (total - 1) % 5, &si), 0);
	ck_assert_uint_eq(si.state, SB_DEAD);
	ck_assert_int_eq(si.pid, 10000 + (int)total - 1);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_clean_exit_empty)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_slot_info	 si;
	struct sb_death_info	 d[SB_DEATHS];
	struct sb_request	 r = { .method = "opensrf.system.echo" };

	sb = th_sb_create("clean", NULL, 0600, svc, sizeof(svc));
	sb_slot_spawn(sb, 2, 1);
	sb_slot_child_start(sb_slot(sb, 2), 31337);
	sb_slot_begin_request(sb_slot(sb, 2), &r);
	sb_slot_end_request(sb_slot(sb, 2), 1, 1, SB_EXITING);
	sb_slot_reaped(sb, 2, 31337, 0);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_slot(rd, 2, &si), 0);
	ck_assert_uint_eq(si.state, SB_EMPTY);
	ck_assert_int_eq(si.pid, 0);
	ck_assert_int_eq(sb_read_deaths(rd, d, SB_DEATHS), 1);
	ck_assert_int_eq(d[0].exit_code, 0);
	ck_assert_str_eq(d[0].last_method, "opensrf.system.echo");
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_unstable_and_repair)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_slot_info	 si;

	sb = th_sb_create("unstable", NULL, 0600, svc, sizeof(svc));
	sb_slot_spawn(sb, 1, 1);
	/* A child killed between its odd and even store. */
	atomic_fetch_add(&sb_slot(sb, 1)->seq, 1);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_slot(rd, 1, &si), -EAGAIN);
	ck_assert_int_eq(si.unstable, 1);
	ck_assert_uint_eq(si.index, 1);
	/* Reaping repairs the word; the slot reads again. */
	sb_slot_reaped(sb, 1, 777, SIGKILL);
	ck_assert_int_eq(sb_read_slot(rd, 1, &si), 0);
	ck_assert_uint_eq(si.state, SB_DEAD);
	ck_assert_int_eq(si.unstable, 0);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_accessors_samples)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb;
	struct sb_sampler sp;
	struct sb_sample x1, x2;
	uint64_t	 c1;
	volatile unsigned long spin = 0;
	unsigned long	 i;

	sb = th_sb_create("acc", NULL, 0600, svc, sizeof(svc));
	ck_assert_uint_eq(sb_slot_state(sb_slot(sb, 3)), SB_EMPTY);
	sb_slot_spawn(sb, 3, 1);
	sb_slot_child_start(sb_slot(sb, 3), 4321);
	sb_slot_set_state(sb_slot(sb, 3), SB_SESSION);
	ck_assert_uint_eq(sb_slot_state(sb_slot(sb, 3)), SB_SESSION);
	ck_assert_int_eq(sb_slot_pid(sb_slot(sb, 3)), 4321);
	sb_destroy(&sb);

	/* CPU time never goes back; some work makes it move. */
	ck_assert_int_eq(sb_sampler_open(&sp), 0);
	ck_assert_int_eq(sb_sample(&sp, &x1), 0);
	c1 = x1.cpu_us;
	for (i = 0; i < 50000000ul && x1.cpu_us == c1; i++) {
		spin++;
		ck_assert_int_eq(sb_sample(&sp, &x1), 0);
	}
	ck_assert_int_eq(sb_sample(&sp, &x2), 0);
	ck_assert_uint_gt(x2.cpu_us, c1);
	ck_assert_uint_gt(x2.rss_kb, 0);
	sb_sampler_close(&sp);
	ck_assert_int_eq(sp.fd, -1);
	sb_sampler_close(&sp);			/* no-op when closed */
	ck_assert_int_eq(sb_sample(&sp, &x2), -EBADF);
}
END_TEST

START_TEST(test_slot_v2)
{
	char			 svc[SB_NAME_LEN], longa[400];
	struct sb		*sb, *rd;
	struct sb_slot		*s;
	struct sb_slot_info	 si;
	struct sb_request	 r = { .method = "m" };
	struct sb_sample	 x = { .rss_kb = 30000, .cpu_us = 4000 };
	uint64_t		 t0 = mono_us();

	sb = th_sb_create("v2", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	s = sb_slot_spawn(sb, 5, 2);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_ge(si.spawn_mono_us, t0);
	ck_assert_uint_le(si.spawn_mono_us, mono_us());
	ck_assert_uint_eq(si.bus_state, SB_BUS_NONE);
	ck_assert_uint_eq(si.exit_reason, SB_EXIT_NONE);
	ck_assert_str_eq(si.addr, "");

	sb_slot_child_start(s, 777);
	sb_slot_set_bus(s, SB_BUS_CONNECTING);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_eq(si.bus_state, SB_BUS_CONNECTING);
	sb_slot_set_bus(s, SB_BUS_UP);
	sb_slot_set_addr(s, "opensrf:client:u:d:h:777:0a1b");
	sb_slot_set_baseline(s, &x);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_eq(si.bus_state, SB_BUS_UP);
	ck_assert_str_eq(si.addr, "opensrf:client:u:d:h:777:0a1b");
	ck_assert_uint_eq(si.rss_kb, 30000);
	ck_assert_uint_eq(si.rss_base_kb, 30000);
	ck_assert_uint_eq(si.cpu_us, 4000);

	/* a request: wall and monotonic starts, given or now */
	t0 = mono_us();
	sb_slot_begin_request(s, &r);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_ge(si.req_start_mono_us, t0);
	ck_assert_uint_le(si.req_start_mono_us, mono_us());
	r.start_mono_us = 123;
	r.start_us = 456;
	sb_slot_begin_request(s, &r);
	x.rss_kb = 31000;
	x.cpu_us = 4500;
	sb_slot_end_request(s, 10, 1, SB_IDLE);
	sb_slot_set_sample(s, &x);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_eq(si.req_start_mono_us, 123);
	ck_assert_uint_eq(si.req_start_us, 456);
	ck_assert_uint_eq(si.rss_kb, 31000);
	ck_assert_uint_eq(si.rss_base_kb, 30000);	/* kept */
	ck_assert_uint_eq(si.cpu_us, 4500);
	ck_assert_uint_eq(si.last_cpu_us, 500);	/* since the baseline */

	/* a long address is cut, still terminated */
	memset(longa, 'a', sizeof(longa) - 1);
	longa[sizeof(longa) - 1] = '\0';
	sb_slot_set_addr(s, longa);
	sb_slot_set_exit_reason(s, SB_EXIT_RSS_GROWTH);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_uint_eq(strlen(si.addr), SB_ADDR_LEN - 1);
	ck_assert_uint_eq(si.exit_reason, SB_EXIT_RSS_GROWTH);
	sb_slot_set_addr(s, NULL);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_str_eq(si.addr, "");

	/* a new child in the slot starts clean */
	sb_slot_set_addr(s, "x@y/z");
	sb_slot_reaped(sb, 5, 777, 0);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_str_eq(si.addr, "x@y/z");	/* kept for the parent */
	ck_assert_uint_eq(si.exit_reason, SB_EXIT_RSS_GROWTH);
	sb_slot_spawn(sb, 5, 3);
	ck_assert_int_eq(sb_read_slot(rd, 5, &si), 0);
	ck_assert_str_eq(si.addr, "");
	ck_assert_uint_eq(si.rss_kb, 0);
	ck_assert_uint_eq(si.rss_base_kb, 0);
	ck_assert_uint_eq(si.cpu_us, 0);
	ck_assert_uint_eq(si.req_start_mono_us, 0);
	ck_assert_uint_eq(si.bus_state, SB_BUS_NONE);
	ck_assert_uint_eq(si.exit_reason, SB_EXIT_NONE);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_header_v2)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_info		 info;
	struct sb_svc_queue	 q = { 40, 1500, 0 };
	uint64_t		 t = mono_us();

	sb = th_sb_create("hdr2", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.bus_state, SB_BUS_NONE);
	ck_assert_uint_eq(info.bus_kind, SB_BUSKIND_NONE);
	ck_assert_uint_eq(info.svc_queue.sampled_mono_us, 0);
	ck_assert_uint_eq(info.backlog_oldest_mono_us, 0);
	ck_assert_uint_eq(info.methods_named, 0);

	sb_set_bus(sb, SB_BUSKIND_XMPP, SB_BUS_CONNECTING);
	q.sampled_mono_us = t;
	sb_set_svc_queue(sb, &q);
	sb_set_backlog(sb, 3, t - 5000);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.bus_state, SB_BUS_CONNECTING);
	ck_assert_uint_eq(info.bus_kind, SB_BUSKIND_XMPP);
	ck_assert_uint_eq(info.svc_queue.depth, 40);
	ck_assert_uint_eq(info.svc_queue.oldest_ms, 1500);
	ck_assert_uint_eq(info.svc_queue.sampled_mono_us, t);
	ck_assert_uint_eq(info.counters[SB_C_QUEUED], 3);
	ck_assert_uint_eq(info.counters[SB_C_MAX_QUEUED], 3);
	ck_assert_uint_eq(info.backlog_oldest_mono_us, t - 5000);
	/* the version 1 call keeps the age until the backlog empties */
	sb_set_queued(sb, 2);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.backlog_oldest_mono_us, t - 5000);
	sb_set_queued(sb, 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.backlog_oldest_mono_us, 0);
	sb_set_backlog(sb, 0, t);		/* empty: no age */
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.backlog_oldest_mono_us, 0);

	/* each counter alone: the parent counts a rescue failed itself */
	sb_count(sb, SB_C_FAILED, 3);
	sb_count(sb, SB_C_RESCUED, 2);
	sb_count(sb, SB_C_UNSENT, 4);
	sb_slot_count(sb_slot(sb, 9), SB_C_UNSENT, 1);	/* from a child */
	sb_slot_count(sb_slot(sb, 9), SB_C_QUEUED, 1);	/* gauge: ignored */
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.counters[SB_C_RESCUED], 2);
	ck_assert_uint_eq(info.counters[SB_C_FAILED], 3);
	ck_assert_uint_eq(info.counters[SB_C_UNSENT], 5);
	ck_assert_uint_eq(info.counters[SB_C_QUEUED], 0);
	ck_assert_uint_eq(info.counters[SB_C_RECYCLED], 0);
	ck_assert_str_eq(sb_counter_name(SB_C_RESCUED), "rescued");
	ck_assert_str_eq(sb_counter_name(SB_C_UNSENT), "unsent");
	ck_assert_str_eq(sb_counter_name(SB_C_RECYCLED), "recycled");
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

static const struct {
	uint32_t	 child_said;
	uint32_t	 parent_says;
	int		 wstatus;
	uint32_t	 reason;
	int		 recycled, abnormal;
} reap_cases[] = {
	{ SB_EXIT_MAX_REQUESTS, SB_EXIT_NONE, W_EXIT(0),
	    SB_EXIT_MAX_REQUESTS, 1, 0 },
	{ SB_EXIT_RSS_GROWTH, SB_EXIT_NONE, W_EXIT(0),
	    SB_EXIT_RSS_GROWTH, 1, 0 },
	{ SB_EXIT_RSS_MAX, SB_EXIT_KILLED, W_SIG(SIGKILL),
	    SB_EXIT_RSS_MAX, 1, 1 },
	{ SB_EXIT_LIFETIME, SB_EXIT_NONE, W_EXIT(0), SB_EXIT_LIFETIME, 1, 0 },
	{ SB_EXIT_NONE, SB_EXIT_WATCHDOG, W_SIG(SIGKILL), SB_EXIT_WATCHDOG,
	    0, 1 },
	{ SB_EXIT_BUS_LOST, SB_EXIT_NONE, W_EXIT(1), SB_EXIT_BUS_LOST, 0, 1 },
	{ SB_EXIT_NONE, SB_EXIT_NONE, W_CORE(SIGBUS), SB_EXIT_CRASHED, 0, 1 },
	{ SB_EXIT_RETIRED, SB_EXIT_NONE, W_EXIT(0), SB_EXIT_RETIRED, 0, 0 },
};

START_TEST(test_death_reasons)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_slot		*s;
	struct sb_death_info	 d[SB_DEATHS];
	struct sb_slot_info	 si;
	struct sb_info		 info;
	struct sb_sample	 x = { .rss_kb = 54321, .cpu_us = 999 };

	sb = th_sb_create("reason", NULL, 0600, svc, sizeof(svc));
	s = sb_slot_spawn(sb, 11, 1);
	sb_slot_child_start(s, 4444);
	sb_slot_set_sample(s, &x);
	sb_slot_set_exit_reason(s, reap_cases[_i].child_said);
	sb_slot_reaped_by(sb, 11, 4444, reap_cases[_i].wstatus,
	    reap_cases[_i].parent_says);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_deaths(rd, d, SB_DEATHS), 1);
	ck_assert_uint_eq(d[0].exit_reason, reap_cases[_i].reason);
	ck_assert_uint_eq(d[0].rss_kb, 54321);
	ck_assert_uint_eq(d[0].cpu_us, 999);
	ck_assert_int_eq(d[0].pid, 4444);
	ck_assert_int_eq(sb_read_slot(rd, 11, &si), 0);
	ck_assert_uint_eq(si.exit_reason, reap_cases[_i].reason);
	ck_assert_uint_eq(si.state, reap_cases[_i].abnormal ? SB_DEAD :
	    SB_EMPTY);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.counters[SB_C_RECYCLED],
	    reap_cases[_i].recycled);
	ck_assert_uint_eq(info.counters[SB_C_ABNORMAL],
	    reap_cases[_i].abnormal);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* ------------------------------------------------------------- methods */

/* The figures of method i as read, for short asserts. */
static const struct sb_method_info *
read_methods(struct sb *rd, struct sb_method_info *mi, int want_n)
{
	ck_assert_int_eq(sb_read_methods(rd, mi), want_n);
	return mi;
}

START_TEST(test_methods_table)
{
	char			 svc[SB_NAME_LEN], longm[300];
	struct sb		*sb, *rd;
	struct sb_info		 info;
	struct sb_method_info	*mi;
	const char		*names[200], *same[2], *other[2];
	char			 buf[200][16];
	unsigned		 i;

	sb = th_sb_create("mtab", NULL, 0600, svc, sizeof(svc));
	ck_assert_uint_eq(sb_method_index(sb, "a.b"), SB_METHOD_OTHER);
	memset(longm, 'x', sizeof(longm) - 1);
	longm[sizeof(longm) - 1] = '\0';
	same[0] = "opensrf.math.add";
	same[1] = longm;		/* cut to 127 bytes */
	ck_assert_int_eq(sb_methods_set(sb, same, 2), 2);
	ck_assert_uint_eq(sb_method_index(sb, "opensrf.math.add"), 0);
	ck_assert_uint_eq(sb_method_index(sb, "nope"), SB_METHOD_OTHER);
	ck_assert_uint_eq(sb_method_index(sb, NULL), SB_METHOD_OTHER);
	/* again with the same names: fine; with others: refused */
	ck_assert_int_eq(sb_methods_set(sb, same, 2), 2);
	other[0] = "opensrf.math.sub";
	other[1] = longm;
	ck_assert_int_eq(sb_methods_set(sb, other, 2), -EBUSY);
	ck_assert_int_eq(sb_methods_set(sb, same, 1), -EBUSY);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(sb_read_info(rd, &info), 0);
	ck_assert_uint_eq(info.methods_named, 2);
	mi = xcalloc(SB_METHOD_CELLS, sizeof(*mi));
	read_methods(rd, mi, 2);
	ck_assert_str_eq(mi[0].name, "opensrf.math.add");
	ck_assert_uint_eq(strlen(mi[1].name), SB_METHOD_LEN - 1);
	ck_assert_str_eq(mi[SB_METHOD_OTHER].name, SB_METHOD_OTHER_NAME);
	ck_assert_uint_eq(mi[0].calls, 0);
	sb_close(&rd);
	sb_destroy(&sb);

	/* 200 names: 127 get a cell, the rest count as other */
	for (i = 0; i < 200; i++) {
		(void)snprintf(buf[i], sizeof(buf[i]), "m.%u", i);
		names[i] = buf[i];
	}
	sb = th_sb_create("mtab2", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_methods_set(sb, names, 200), SB_METHOD_NAMED);
	ck_assert_uint_eq(sb_method_index(sb, "m.126"), 126);
	ck_assert_uint_eq(sb_method_index(sb, "m.127"), SB_METHOD_OTHER);
	sb_slot_spawn(sb, 0, 1);
	sb_method_record(sb_slot(sb, 0), 126, 10, 200);
	sb_method_record(sb_slot(sb, 0), 127, 10, 200);
	sb_method_record(sb_slot(sb, 0), 199, 10, 200);
	sb_method_record(sb_slot(sb, 0), 100000, 10, 200);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	read_methods(rd, mi, SB_METHOD_NAMED);
	ck_assert_str_eq(mi[126].name, "m.126");
	ck_assert_uint_eq(mi[126].calls, 1);
	ck_assert_uint_eq(mi[SB_METHOD_OTHER].calls, 3);
	ck_assert_str_eq(mi[SB_METHOD_OTHER].name, SB_METHOD_OTHER_NAME);
	free(mi);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* add's figures from th_sb_fill(), wherever they are kept. */
static void
check_add(const struct sb_method_info *m)
{
	uint64_t	total = 0;
	unsigned	k;

	ck_assert_str_eq(m->name, "opensrf.math.add");
	ck_assert_uint_eq(m->calls, TH_ADD_CALLS);
	ck_assert_uint_eq(m->err_4xx, 1);
	ck_assert_uint_eq(m->err_5xx, 1);
	ck_assert_uint_eq(m->err_other, 0);
	ck_assert_uint_eq(m->sum_us, TH_ADD_SUM_US);
	/* 50 us, 100 us, 2 ms, 1 s */
	ck_assert_uint_eq(m->buckets[0], 1);
	ck_assert_uint_eq(m->buckets[1], 1);
	ck_assert_uint_eq(m->buckets[5], 1);
	ck_assert_uint_eq(m->buckets[14], 1);
	for (k = 0; k < SB_METHOD_BUCKETS; k++)
		total += m->buckets[k];
	ck_assert_uint_eq(total, TH_ADD_CALLS);
}

START_TEST(test_methods_mix)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_method_info	*mi;

	sb = th_sb_create("mix", NULL, 0600, svc, sizeof(svc));
	th_sb_fill(sb);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	mi = xcalloc(SB_METHOD_CELLS, sizeof(*mi));
	read_methods(rd, mi, TH_METHODS);
	check_add(&mi[TH_M_ADD]);
	ck_assert_uint_eq(mi[TH_M_SUB].calls, 1);
	ck_assert_uint_eq(mi[TH_M_SUB].sum_us, 300);
	ck_assert_uint_eq(mi[TH_M_SUB].buckets[3], 1);	/* (256, 512] */
	/* div and other live in the retired row: their slots were reaped */
	ck_assert_uint_eq(mi[TH_M_DIV].calls, 1);
	ck_assert_uint_eq(mi[TH_M_DIV].buckets[8], 1);	/* 10 ms */
	ck_assert_uint_eq(mi[SB_METHOD_OTHER].calls, 1);
	ck_assert_uint_eq(mi[SB_METHOD_OTHER].err_4xx, 1);
	ck_assert_uint_eq(atomic_load(&sb_slot(sb, 9)->methods_used[0]), 0);
	ck_assert_uint_eq(atomic_load(&sb_slot(sb, 8)->methods_used[1]), 0);
	ck_assert_uint_ne(atomic_load(&sb_slot(sb, 0)->methods_used[0]), 0);

	/* add's children die in turn: the sums do not move */
	sb_slot_reaped(sb, 0, TH_PID_BASE, 0);
	read_methods(rd, mi, TH_METHODS);
	check_add(&mi[TH_M_ADD]);
	sb_methods_fold(sb, 0);			/* twice: a no-op */
	sb_slot_reaped(sb, 1, TH_PID_BASE + 1, SIGKILL);
	read_methods(rd, mi, TH_METHODS);
	check_add(&mi[TH_M_ADD]);
	ck_assert_uint_eq(atomic_load(&sb_slot(sb, 1)->methods_used[0]), 0);
	ck_assert_uint_eq(atomic_load(
	    &sb_slot_method_row(sb_slot(sb, 1))->cells[TH_M_ADD].sum_us), 0);

	/* a new child in slot 0 adds to them */
	sb_slot_spawn(sb, 0, TH_GENERATION);
	sb_method_record(sb_slot(sb, 0), TH_M_ADD, 64, -1);
	read_methods(rd, mi, TH_METHODS);
	ck_assert_uint_eq(mi[TH_M_ADD].calls, TH_ADD_CALLS + 1);
	ck_assert_uint_eq(mi[TH_M_ADD].err_other, 1);
	ck_assert_uint_eq(mi[TH_M_ADD].buckets[0], 2);
	ck_assert_uint_eq(mi[TH_M_ADD].sum_us, TH_ADD_SUM_US + 64);
	free(mi);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* status -> which error class, if any */
static const struct {
	int		status;
	int		e4, e5, eo;
} status_cases[] = {
	{ 200, 0, 0, 0 }, { 205, 0, 0, 0 }, { 100, 0, 0, 0 },
	{ 399, 0, 0, 0 }, { 400, 1, 0, 0 }, { 404, 1, 0, 0 },
	{ 499, 1, 0, 0 }, { 500, 0, 1, 0 }, { 503, 0, 1, 0 },
	{ 599, 0, 1, 0 }, { 600, 0, 0, 1 }, { 99, 0, 0, 1 },
	{ 0, 0, 0, 1 }, { -1, 0, 0, 1 }, { -22, 0, 0, 1 },
};

START_TEST(test_method_status)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_method_info	*mi;
	static const char *const names[] = { "x" };

	sb = th_sb_create("mstat", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_methods_set(sb, names, 1), 1);
	sb_slot_spawn(sb, 250, 1);
	sb_method_record(sb_slot(sb, 250), 0, 1, status_cases[_i].status);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	mi = xcalloc(SB_METHOD_CELLS, sizeof(*mi));
	read_methods(rd, mi, 1);
	ck_assert_uint_eq(mi[0].calls, 1);
	ck_assert_uint_eq(mi[0].err_4xx, status_cases[_i].e4);
	ck_assert_uint_eq(mi[0].err_5xx, status_cases[_i].e5);
	ck_assert_uint_eq(mi[0].err_other, status_cases[_i].eo);
	free(mi);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* ------------------------------------------------------------- sampler */

/* VmRSS from /proc/self/status, in kB: an independent witness. */
static uint64_t
status_rss_kb(void)
{
	char		 line[256];
	FILE		*f = fopen("/proc/self/status", "re");
	unsigned long long kb = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	(void)fclose(f);		/* read-only */
	ck_assert_uint_gt(kb, 0);
	return kb;
}

#define SAMPLER_MIB	32

START_TEST(test_sampler_rss)
{
	struct sb_sampler	 sp;
	struct sb_sample	 x0, x1, x2;
	uint64_t		 witness;
	size_t			 len = (size_t)SAMPLER_MIB << 20;
	char			*p;

	ck_assert_int_eq(sb_sampler_open(&sp), 0);
	ck_assert_int_gt(sp.fd, STDERR_FILENO);
	ck_assert_int_eq(fcntl(sp.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(sb_sample(&sp, &x0), 0);
	/* Fresh anonymous pages, touched: RSS grows by all of them. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	memset(p, 0x5a, len);
	ck_assert_int_eq(sb_sample(&sp, &x1), 0);
	witness = status_rss_kb();
	ck_assert_msg(x1.rss_kb >= x0.rss_kb + SAMPLER_MIB * 1024,
	    "RSS %llu kB -> %llu kB after touching %d MiB",
	    (unsigned long long)x0.rss_kb, (unsigned long long)x1.rss_kb,
	    SAMPLER_MIB);
	/* the same figure the kernel reports elsewhere, give or take */
	ck_assert_uint_le(x1.rss_kb, witness + 1024);
	ck_assert_uint_ge(x1.rss_kb + 1024, witness);
	ck_assert_uint_ge(x1.cpu_us, x0.cpu_us);
	ck_assert_int_eq(munmap(p, len), 0);
	ck_assert_int_eq(sb_sample(&sp, &x2), 0);
	ck_assert_uint_le(x2.rss_kb + SAMPLER_MIB * 1024, x1.rss_kb + 1024);
	sb_sampler_close(&sp);
}
END_TEST

/* A child's sampler reads the child (opened after fork). */
START_TEST(test_sampler_child)
{
	struct sb_sampler	 sp;
	struct sb_sample	 xp, xp2, xc;
	size_t			 len = (size_t)SAMPLER_MIB << 20;
	int			 p[2], st;
	pid_t			 pid;
	char			*m;

	ck_assert_int_eq(sb_sampler_open(&sp), 0);
	ck_assert_int_eq(sb_sample(&sp, &xp), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sb_sampler cs;

		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || sb_sampler_open(&cs) != 0)
			_exit(1);
		memset(m, 1, len);
		if (sb_sample(&cs, &xc) != 0 ||
		    write_full(p[1], &xc, sizeof(xc)) != 0)
			_exit(1);
		_exit(0);
	}
	fd_close(&p[1]);
	ck_assert_int_eq(read_full(p[0], &xc, sizeof(xc)), 0);
	fd_close(&p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_ge(xc.rss_kb, SAMPLER_MIB * 1024);
	/* the parent did not grow: the child's sampler read the child */
	ck_assert_int_eq(sb_sample(&sp, &xp2), 0);
	ck_assert_uint_lt(xp2.rss_kb, xp.rss_kb + SAMPLER_MIB * 1024 / 2);
	sb_sampler_close(&sp);
}
END_TEST

/* --------------------------------------------------------------- seqlock */

/* Updates the writer makes; the reader reads until it sees the last. */
#define HAMMER_UPDATES	200000
/* Reader cap, far above what it needs: a bound, not a timeout. */
#define HAMMER_READS	50000000

/* Everything in an update derives from n, so a torn copy shows. */
static void
hammer_request(unsigned n, char *method, char *client, char *xid,
    struct sb_request *r)
{
	size_t	mlen = 1 + n % (SB_METHOD_LEN - 2);
	size_t	clen = 1 + (n * 7) % (SB_CLIENT_LEN - 2);

	memset(method, 'a' + (int)(n % 26), mlen);
	method[mlen] = '\0';
	memset(client, 'A' + (int)(n % 26), clen);
	client[clen] = '\0';
	(void)snprintf(xid, SB_XID_LEN, "%u", n);
	r->method = method;
	r->client = client;
	r->thread = xid;
	r->xid = xid;
	r->thread_trace = n;
	r->start_us = ((uint64_t)n + 1) * 1000003u;	/* 0 means now */
}

static void
hammer_check(const struct sb_slot_info *si)
{
	char			 m[SB_METHOD_LEN], c[SB_CLIENT_LEN];
	char			 x[SB_XID_LEN];
	struct sb_request	 r;
	unsigned		 n = si->thread_trace;

	hammer_request(n, m, c, x, &r);
	ck_assert_uint_eq(si->req_start_us, r.start_us);
	ck_assert_str_eq(si->method, m);
	ck_assert_str_eq(si->client, c);
	ck_assert_str_eq(si->thread, x);
	ck_assert_str_eq(si->xid, x);
	ck_assert_uint_eq(si->state, SB_BUSY);
}

START_TEST(test_seqlock_hammer)
{
	char			 svc[SB_NAME_LEN];
	char			 m[SB_METHOD_LEN], c[SB_CLIENT_LEN];
	char			 x[SB_XID_LEN];
	struct sb		*sb, *rd;
	struct sb_slot_info	 si;
	struct sb_request	 r;
	unsigned long		 reads, ok = 0, unstable = 0;
	unsigned		 n, last = 0;
	pid_t			 pid;
	int			 go[2], st;
	char			 byte = 'g';

	sb = th_sb_create("hammer", NULL, 0600, svc, sizeof(svc));
	sb_slot_spawn(sb, 200, 1);
	hammer_request(0, m, c, x, &r);
	sb_slot_begin_request(sb_slot(sb, 200), &r);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd_close(&go[1]);
		/* Start together with the reader, not before. */
		if (read_full(go[0], &byte, 1) != 0)
			_exit(1);
		for (n = 1; n <= HAMMER_UPDATES; n++) {
			hammer_request(n, m, c, x, &r);
			sb_slot_begin_request(sb_slot(sb, 200), &r);
		}
		_exit(0);
	}
	fd_close(&go[0]);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(write_full(go[1], &byte, 1), 0);
	fd_close(&go[1]);
	for (reads = 0; reads < HAMMER_READS; reads++) {
		if (sb_read_slot(rd, 200, &si) != 0) {
			unstable++;
			continue;
		}
		ok++;
		hammer_check(&si);
		last = si.thread_trace;
		if (last == HAMMER_UPDATES)
			break;
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(last, HAMMER_UPDATES);
	ck_assert_uint_gt(ok, 0);
	/* Unstable copies are allowed, but rare: one write is ~100 ns. */
	ck_assert_msg(unstable * 10 < reads + 1, "%lu of %lu reads unstable",
	    unstable, reads);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/*
 * Samples are published under the slot's seqlock: a forked writer
 * publishes rss = n, cpu = 3n + 1 while the reader checks every copy
 * keeps the pair together.
 */
START_TEST(test_sample_hammer)
{
	char			 svc[SB_NAME_LEN];
	struct sb		*sb, *rd;
	struct sb_slot_info	 si;
	struct sb_sample	 x;
	unsigned long		 reads;
	uint64_t		 last = 0;
	unsigned		 n;
	pid_t			 pid;
	int			 go[2], st;
	char			 byte = 'g';

	sb = th_sb_create("shammer", NULL, 0600, svc, sizeof(svc));
	sb_slot_spawn(sb, 77, 1);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd_close(&go[1]);
		if (read_full(go[0], &byte, 1) != 0)
			_exit(1);
		for (n = 1; n <= HAMMER_UPDATES; n++) {
			x.rss_kb = n;
			x.cpu_us = 3 * (uint64_t)n + 1;
			sb_slot_set_sample(sb_slot(sb, 77), &x);
		}
		_exit(0);
	}
	fd_close(&go[0]);
	ck_assert_int_eq(sb_open(&rd, sb_name(sb)), 0);
	ck_assert_int_eq(write_full(go[1], &byte, 1), 0);
	fd_close(&go[1]);
	for (reads = 0; reads < HAMMER_READS && last < HAMMER_UPDATES;
	    reads++) {
		if (sb_read_slot(rd, 77, &si) != 0 || si.rss_kb == 0)
			continue;
		ck_assert_uint_eq(si.cpu_us, 3 * si.rss_kb + 1);
		ck_assert_uint_ge(si.rss_kb, last);	/* never back */
		last = si.rss_kb;
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(last, HAMMER_UPDATES);
	sb_close(&rd);
	sb_destroy(&sb);
}
END_TEST

/* Folds the writer makes under the reader. */
#define FOLD_ROUNDS	20000
/* Calls recorded into a row per round, and into every row at first. */
#define FOLD_CALLS	20
#define FOLD_PREFILL	50

/* Shared between the fold test and its reader (anonymous mapping). */
struct fold_shared {
	/* calls announced: raised before each call is recorded, so the
	   calls visible in the segment never exceed it */
	_Atomic uint64_t	recorded;
	_Atomic int		done;
	_Atomic uint64_t	reads, unstable;
};

/* One call, announced first (see fold_shared.recorded). */
static void
fold_record(struct sb *sb, unsigned slot, struct fold_shared *fs)
{
	atomic_fetch_add(&fs->recorded, 1);
	atomic_thread_fence(memory_order_seq_cst);
	sb_method_record(sb_slot(sb, slot), 0, 100, 200);
}

/* Reader child: exits 0 if every sum was possible, else a code. */
static int
fold_reader(const char *name, struct fold_shared *fs)
{
	struct sb		*rd;
	struct sb_method_info	*mi;
	uint64_t		 prev = 0, total, rec;
	int			 n, finished;

	if (sb_open(&rd, name) != 0 ||
	    (mi = calloc(SB_METHOD_CELLS, sizeof(*mi))) == NULL)
		return 10;
	for (;;) {
		finished = atomic_load(&fs->done);
		n = sb_read_methods(rd, mi);
		atomic_fetch_add(&fs->reads, 1);
		if (n == -EAGAIN) {
			atomic_fetch_add(&fs->unstable, 1);
			continue;
		}
		if (n != 1)
			return 11;
		/*
		 * A fold counted twice shows a whole row (>= FOLD_CALLS)
		 * above what was announced, which runs at most one call
		 * ahead of the segment; a fold missed makes the sum fall.
		 */
		total = mi[0].calls;
		rec = atomic_load(&fs->recorded);
		if (total > rec)
			return 12;
		if (total < prev)
			return 13;
		prev = total;
		if (finished)
			break;
	}
	/* Quiet now: everything there, each field in step. */
	n = prev == rec && mi[0].sum_us == rec * 100 &&
	    mi[0].buckets[1] == rec ? 0 : 14;
	free(mi);
	sb_close(&rd);
	return n;
}

START_TEST(test_fold_hammer)
{
	static const char *const names[] = { "m" };
	char			 svc[SB_NAME_LEN];
	struct fold_shared	*fs;
	struct sb		*sb;
	unsigned		 i, k, slot;
	pid_t			 pid;
	int			 st, reaped = 0;

	sb = th_sb_create("fold", NULL, 0600, svc, sizeof(svc));
	ck_assert_int_eq(sb_methods_set(sb, names, 1), 1);
	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(fs != MAP_FAILED);
	memset(fs, 0, sizeof(*fs));
	/* Every row holds calls, so each fold moves many at once. */
	for (i = 0; i < SB_SLOTS; i++) {
		sb_slot_spawn(sb, i, 1);
		for (k = 0; k < FOLD_PREFILL; k++)
			fold_record(sb, i, fs);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fold_reader(sb_name(sb), fs));
	/* the hammer must overlap the reader: wait for its first read */
	while (atomic_load(&fs->reads) == 0) {
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0,
		    "fold reader exited before reading: status %d", st);
		(void)sched_yield();
	}
	/*
	 * Each round: the "child" of one slot records calls, and the row
	 * of another slot, reaped, is folded into the retired row.  On a
	 * busy machine the reader may not run again during FOLD_ROUNDS:
	 * then the rounds go on until it has read once more.
	 */
	for (i = 0; i < FOLD_ROUNDS || (atomic_load(&fs->reads) < 2 &&
	    !(reaped = waitpid(pid, &st, WNOHANG) == pid)); i++) {
		slot = i % SB_SLOTS;
		for (k = 0; k < FOLD_CALLS; k++)
			fold_record(sb, slot, fs);
		sb_methods_fold(sb, (slot + SB_SLOTS / 2) % SB_SLOTS);
	}
	atomic_store(&fs->done, 1);
	if (!reaped)
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fold reader failed: status %d after %llu reads", st,
	    (unsigned long long)atomic_load(&fs->reads));
	ck_assert_uint_gt(atomic_load(&fs->reads), 1);
	ck_assert_int_eq(munmap(fs, sizeof(*fs)), 0);
	sb_destroy(&sb);
}
END_TEST

Suite *
sb_suite(void)
{
	Suite	*s = suite_create("sb");
	TCase	*tc;

	tc = tcase_create("layout");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_layout, 0, ARRAY_LEN(layout_cases));
	tcase_add_test(tc, test_layout_lockfree);
	tcase_add_test(tc, test_bus_enums);
	suite_add_tcase(s, tc);

	tc = tcase_create("logic");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_state_letters, 0, ARRAY_LEN(state_cases));
	tcase_add_test(tc, test_counter_names);
	tcase_add_test(tc, test_summary_line);
	tcase_add_test(tc, test_summary_v2);
	tcase_add_loop_test(tc, test_bus_names, 0, ARRAY_LEN(bus_cases));
	tcase_add_test(tc, test_exit_reason_names);
	tcase_add_loop_test(tc, test_exit_reason_pick, 0,
	    ARRAY_LEN(pick_cases));
	tcase_add_loop_test(tc, test_method_bucket, 0,
	    ARRAY_LEN(bucket_cases));
	tcase_add_test(tc, test_method_le);
	tcase_add_loop_test(tc, test_method_quantile, 0,
	    ARRAY_LEN(quantile_cases));
	tcase_add_loop_test(tc, test_shm_name, 0, ARRAY_LEN(name_cases));
	tcase_add_test(tc, test_shm_name_parts);
	tcase_add_test(tc, test_pid_alive);
	suite_add_tcase(s, tc);

	tc = tcase_create("segment");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_create_open);
	tcase_add_test(tc, test_create_instance);
	tcase_add_loop_test(tc, test_mode, 0, ARRAY_LEN(mode_cases));
	tcase_add_test(tc, test_refuse_live_owner);
	tcase_add_test(tc, test_stale_reclaim);
	tcase_add_test(tc, test_child_destroy_keeps);
	tcase_add_loop_test(tc, test_damaged, 0, ARRAY_LEN(damage_cases));
	tcase_add_test(tc, test_enumerate);
	tcase_add_test(tc, test_version1_segment);
	tcase_add_test(tc, test_peek_version);
	tcase_add_test(tc, test_segment_sparse);
	suite_add_tcase(s, tc);

	tc = tcase_create("writers");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_slot_lifecycle);
	tcase_add_test(tc, test_counters_conf);
	tcase_add_test(tc, test_death_ring);
	tcase_add_test(tc, test_clean_exit_empty);
	tcase_add_test(tc, test_unstable_and_repair);
	tcase_add_test(tc, test_accessors_samples);
	tcase_add_test(tc, test_slot_v2);
	tcase_add_test(tc, test_header_v2);
	tcase_add_loop_test(tc, test_death_reasons, 0, ARRAY_LEN(reap_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("methods");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_methods_table);
	tcase_add_test(tc, test_methods_mix);
	tcase_add_loop_test(tc, test_method_status, 0,
	    ARRAY_LEN(status_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("sampler");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_sampler_rss);
	tcase_add_test(tc, test_sampler_child);
	suite_add_tcase(s, tc);

	tc = tcase_create("seqlock");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_seqlock_hammer);
	tcase_add_test(tc, test_sample_hammer);
	tcase_add_test(tc, test_fold_hammer);
	suite_add_tcase(s, tc);
	return s;
}
