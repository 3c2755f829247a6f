/*
 * test_sb.c: the scoreboard (scoreboard/sb.c).
 *
 * TCases: layout (the frozen offsets, checked again at run time so a
 * failure names the field), logic (letters, names, summaries: no shared
 * memory), segment (create, open, mode, stale reclaim, refusal, foreign
 * and damaged segments, enumerate), writers (slot life cycle, counters,
 * the death ring), seqlock (a forked writer hammering a slot while the
 * reader checks every copy).  Every segment name includes getpid() and
 * every test unlinks what it made.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scoreboard/sb.h"
#include "th_sb.h"
#include "util.h"

/* ---------------------------------------------------------------- layout */

static const struct {
	const char	*field;
	size_t		 got, want;
} layout_cases[] = {
	{ "sizeof(sb_slot)", sizeof(struct sb_slot), 576 },
	{ "sizeof(sb_death)", sizeof(struct sb_death), 176 },
	{ "sizeof(sb_limits)", sizeof(struct sb_limits), 40 },
	{ "sizeof(sb_header)", sizeof(struct sb_header), 6016 },
	{ "sizeof(sb_segment)", sizeof(struct sb_segment),
	    6016 + 256 * 576 },
	{ "hdr.magic", offsetof(struct sb_header, magic), 0 },
	{ "hdr.version", offsetof(struct sb_header, version), 4 },
	{ "hdr.header_size", offsetof(struct sb_header, header_size), 8 },
	{ "hdr.slot_size", offsetof(struct sb_header, slot_size), 12 },
	{ "hdr.slot_count", offsetof(struct sb_header, slot_count), 16 },
	{ "hdr.parent_pid", offsetof(struct sb_header, parent_pid), 24 },
	{ "hdr.counters", offsetof(struct sb_header, counters), 224 },
	{ "hdr.deaths_total", offsetof(struct sb_header, deaths_total), 352 },
	{ "hdr.deaths", offsetof(struct sb_header, deaths), 384 },
	{ "slot.seq", offsetof(struct sb_slot, seq), 0 },
	{ "slot.state", offsetof(struct sb_slot, state), 4 },
	{ "slot.pid", offsetof(struct sb_slot, pid), 8 },
	{ "slot.method", offsetof(struct sb_slot, method), 88 },
	{ "slot.client", offsetof(struct sb_slot, client), 216 },
	{ "slot.thread", offsetof(struct sb_slot, thread), 408 },
	{ "slot.xid", offsetof(struct sb_slot, xid), 472 },
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
	ck_assert(atomic_is_lock_free(&h.counters[0]));
	ck_assert(atomic_is_lock_free(&h.deaths_total));
	ck_assert_uint_eq(sizeof(struct sb_header) % 64, 0);
	ck_assert_uint_eq(sizeof(struct sb_slot) % 64, 0);
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
enum damage { D_MAGIC, D_VERSION, D_SLOTSIZE, D_SHORT, D_TINY, D_ZERO };

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
};

START_TEST(test_damaged)
{
	struct sb_header	*h;
	struct sb		*sb;
	char			 svc[SB_NAME_LEN], name[SB_SHM_NAME_MAX];
	size_t			 len = sizeof(struct sb_segment);
	pid_t			 owner;

	h = xcalloc(1, sizeof(struct sb_segment));
	h->magic = SB_MAGIC;
	h->version = SB_LAYOUT_VERSION;
	h->header_size = sizeof(struct sb_header);
	h->slot_size = sizeof(struct sb_slot);
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
	atomic_store(&h->parent_pid, getpid());
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

	sb_slot_end_request(s, 250, 100, 0, SB_IDLE);
	sb_slot_set_rss(s, 5555);
	ck_assert_int_eq(sb_read_slot(rd, 17, &si), 0);
	ck_assert_uint_eq(si.state, SB_IDLE);
	ck_assert_uint_eq(si.requests, 1);
	ck_assert_uint_eq(si.errors, 1);
	ck_assert_uint_eq(si.last_dur_us, 250);
	ck_assert_uint_eq(si.last_cpu_us, 100);
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
	sb_slot_end_request(sb_slot(sb, 0), lim.slow_request_ms * 1000u,
	    0, 1, SB_IDLE);
	sb_slot_end_request(sb_slot(sb, 0), lim.slow_request_ms * 1000u - 1,
	    0, 1, SB_IDLE);

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
		sb_slot_end_request(sb_slot(sb, slot), 1, 1, 1, SB_IDLE);
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
	sb_slot_end_request(sb_slot(sb, 2), 1, 1, 1, SB_EXITING);
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
	uint64_t	 c1, c2;
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
	c1 = sb_self_cpu_us();
	for (i = 0; i < 50000000ul && sb_self_cpu_us() == c1; i++)
		spin++;
	c2 = sb_self_cpu_us();
	ck_assert_uint_gt(c2, c1);
	ck_assert_uint_gt(sb_self_rss_kb(), 0);
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

Suite *
sb_suite(void)
{
	Suite	*s = suite_create("sb");
	TCase	*tc;

	tc = tcase_create("layout");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_layout, 0, ARRAY_LEN(layout_cases));
	tcase_add_test(tc, test_layout_lockfree);
	suite_add_tcase(s, tc);

	tc = tcase_create("logic");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_state_letters, 0, ARRAY_LEN(state_cases));
	tcase_add_test(tc, test_counter_names);
	tcase_add_test(tc, test_summary_line);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("writers");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_slot_lifecycle);
	tcase_add_test(tc, test_counters_conf);
	tcase_add_test(tc, test_death_ring);
	tcase_add_test(tc, test_clean_exit_empty);
	tcase_add_test(tc, test_unstable_and_repair);
	tcase_add_test(tc, test_accessors_samples);
	suite_add_tcase(s, tc);

	tc = tcase_create("seqlock");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_seqlock_hammer);
	suite_add_tcase(s, tc);
	return s;
}
