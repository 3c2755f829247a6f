/*
 * bench_scoreboard.c: what reading the scoreboard costs its writers.
 *
 * A scoreboard with 256 busy slots.  A writer process plays the children:
 * it runs WRITER_REQUESTS requests round-robin over the slots, each one
 * sb_slot_begin_request() plus sb_slot_end_request() (the two seqlocked
 * writes a real request makes) plus sb_method_record().  A reader process plays drover-status:
 * each "dump" copies the header, all 256 slots and the death ring, as
 * drover-status does before formatting.  Measured, best of RUNS:
 *
 *	writer alone		requests/s
 *	reader alone		dumps/s
 *	both at once		requests/s (and the writer's slowdown against
 *				alone), dumps/s, unstable slot copies
 *
 * A dump includes the per-method sums (sb_read_methods()) over the rows
 * the writer filled.  Then, in one process, the per-request costs a
 * child adds in layout 2, in ns per call, best of RUNS:
 *
 *	sb_method_record()	one call counted (cycling over 16 methods
 *				and durations from 30 us to 3 s)
 *	sb_slot_set_sample()	the sample published under the seqlock
 *	self-sampling		sb_sample() against the alternatives it was
 *				chosen over: pread of /proc/self/statm alone,
 *				the CPU clock alone, getrusage(), pread of
 *				/proc/self/stat (pre-opened, parsed),
 *				fopen+fscanf of statm (the layout 1 way) and
 *				open+read+close of statm
 *
 * Processes, not threads, because that is how drover shares the segment.
 * Timing belongs here, never in a test (STYLE.md).  Run with `make bench`;
 * record the figures in docs/benchmarks.md with the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "scoreboard/sb.h"
#include "util.h"

/* Enough requests that a run lasts around a second on a laptop core. */
#define WRITER_REQUESTS	2000000u
/* A reader-alone run does this many dumps. */
#define READER_DUMPS	20000u
#define RUNS		3
/* Calls per timed loop of the in-process measurements. */
#define RECORD_CALLS	20000000u
#define SAMPLE_CALLS	200000u
/* Methods the record loop cycles over (a typical service's share). */
#define BENCH_METHODS	16

/* Shared between the bench and its two processes (anonymous mapping). */
struct shared {
	_Atomic int		go;		/* 1: start */
	_Atomic int		writer_done;
	_Atomic uint64_t	writer_ns;
	_Atomic uint64_t	dumps;
	_Atomic uint64_t	unstable;
	_Atomic uint64_t	reader_ns;
};

static struct shared	*sh;

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
wait_go(void)
{
	while (!atomic_load(&sh->go))
		;		/* spin: both start within a few ns */
}

static void
writer(struct sb *sb)
{
	struct sb_request	r = {
		.method = "open-ils.search.biblio.multiclass.query",
		.client = "opensrf@private.localhost/_client_bench_1",
		.thread = "1732480000.123456",
		.xid = "1732480000123abc",
		.thread_trace = 1,
	};
	uint64_t		t0;
	unsigned		i;

	wait_go();
	t0 = now_ns();
	for (i = 0; i < WRITER_REQUESTS; i++) {
		struct sb_slot	*s = sb_slot(sb, i % SB_SLOTS);

		r.start_us = 1 + i;
		sb_slot_begin_request(s, &r);
		sb_slot_end_request(s, 250, 1, SB_BUSY);
		sb_method_record(s, i % BENCH_METHODS, 250, 200);
	}
	atomic_store(&sh->writer_ns, now_ns() - t0);
	atomic_store(&sh->writer_done, 1);
}

/* One dump: what drover-status copies before it formats anything. */
static uint64_t
dump(const struct sb *rd)
{
	static struct sb_slot_info	slots[SB_SLOTS];
	static struct sb_death_info	deaths[SB_DEATHS];
	static struct sb_method_info	methods[SB_METHOD_CELLS];
	struct sb_info			info;
	uint64_t			unstable = 0;
	unsigned			i;

	if (sb_read_info(rd, &info) != 0)
		unstable++;
	for (i = 0; i < SB_SLOTS; i++)
		if (sb_read_slot(rd, i, &slots[i]) != 0)
			unstable++;
	if (sb_read_deaths(rd, deaths, SB_DEATHS) < 0)
		unstable++;
	if (sb_read_methods(rd, methods) < 0)
		unstable++;
	return unstable;
}

/* Dump until the writer is done, or READER_DUMPS times without one. */
static void
reader(const char *name, int with_writer)
{
	struct sb	*rd;
	uint64_t	 t0, n = 0, unstable = 0;
	int		 rc;

	if ((rc = sb_open(&rd, name)) != 0)
		fatalx("sb_open(%s): %s", name, strerror(-rc));
	wait_go();
	t0 = now_ns();
	while (with_writer ? !atomic_load(&sh->writer_done) :
	    n < READER_DUMPS) {
		unstable += dump(rd);
		n++;
	}
	atomic_store(&sh->reader_ns, now_ns() - t0);
	atomic_store(&sh->dumps, n);
	atomic_store(&sh->unstable, unstable);
	sb_close(&rd);
}

static pid_t
spawn(void (*fn)(struct sb *, const char *, int), struct sb *sb,
    const char *name, int arg)
{
	pid_t	pid;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		fn(sb, name, arg);
		_exit(0);
	}
	return pid;
}

static void
run_writer(struct sb *sb, const char *name, int arg)
{
	writer(sb);
}

static void
run_reader(struct sb *sb, const char *name, int with_writer)
{
	reader(name, with_writer);
}

static void
reap(pid_t pid)
{
	int	st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fatalx("bench process %d failed (status %d)", (int)pid, st);
}

/* One measurement; who: 1 writer, 2 reader, 3 both. */
static void
measure(struct sb *sb, int who)
{
	pid_t	w = -1, r = -1;

	memset(sh, 0, sizeof(*sh));
	if (who & 1)
		w = spawn(run_writer, sb, sb_name(sb), 0);
	if (who & 2)
		r = spawn(run_reader, sb, sb_name(sb), who & 1);
	atomic_store(&sh->go, 1);
	if (w != -1)
		reap(w);
	if (r != -1)
		reap(r);
}

static double
per_s(uint64_t n, uint64_t ns)
{
	return ns == 0 ? 0.0 : (double)n * 1e9 / (double)ns;
}

/* ------------------------------------------------ per-call costs, in-process */

/* Keeps the compiler from dropping a measured result. */
static volatile uint64_t	sink;

/* One timed loop of a measured operation; ns per call. */
typedef void	(*op_fn)(void *arg, unsigned i);

static double
time_op(op_fn fn, void *arg, unsigned n)
{
	double		best = 0, v;
	uint64_t	t0;
	unsigned	i;
	int		run;

	for (run = 0; run < RUNS; run++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			fn(arg, i);
		v = (double)(now_ns() - t0) / n;
		if (run == 0 || v < best)
			best = v;
	}
	return best;
}

/* Durations from 30 us to 3 s, so every bucket path is taken. */
static const uint64_t bench_dur[8] = {
	30, 250, 1200, 9000, 48000, 310000, 1100000, 3000000
};

static void
op_record(void *arg, unsigned i)
{
	sb_method_record(arg, i % BENCH_METHODS, bench_dur[i % 8],
	    i % 64 == 0 ? 404 : 200);
}

static void
op_set_sample(void *arg, unsigned i)
{
	struct sb_sample	x = { .rss_kb = 20000 + i % 7, .cpu_us = i };

	sb_slot_set_sample(arg, &x);
}

static void
op_sample(void *arg, unsigned i)
{
	struct sb_sample	x;

	if (sb_sample(arg, &x) != 0)
		fatalx("sb_sample failed");
	sink += x.rss_kb + x.cpu_us;
}

/* The pieces of sb_sample() alone, and the alternatives. */
static void
op_pread_statm(void *arg, unsigned i)
{
	char	buf[128];

	if (pread(*(int *)arg, buf, sizeof(buf), 0) <= 0)
		fatal("pread(statm)");
	sink += (uint64_t)buf[0];
}

static void
op_cpu_clock(void *arg, unsigned i)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
		fatal("clock_gettime");
	sink += (uint64_t)ts.tv_nsec;
}

static void
op_getrusage(void *arg, unsigned i)
{
	struct rusage	ru;

	/* CPU yes, but ru_maxrss is the peak, not the current RSS */
	if (getrusage(RUSAGE_SELF, &ru) == -1)
		fatal("getrusage");
	sink += (uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_maxrss;
}

static void
op_pread_stat(void *arg, unsigned i)
{
	char			 buf[1024];
	unsigned long long	 ut, st;
	long long		 rss;
	const char		*p;
	ssize_t			 n;

	/* utime, stime (fields 14, 15, in clock ticks) and rss (24) */
	if ((n = pread(*(int *)arg, buf, sizeof(buf) - 1, 0)) <= 0)
		fatal("pread(stat)");
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %*u %*u %lld", &ut, &st,
	    &rss) != 3)
		fatalx("/proc/self/stat: unexpected");
	sink += ut + st + (uint64_t)rss;
}

static void
op_fopen_statm(void *arg, unsigned i)
{
	unsigned long long	 size, res;
	FILE			*f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		fatal("fopen(statm)");
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		fatalx("statm: unexpected");
	(void)fclose(f);		/* read-only */
	sink += res;
}

static void
op_open_statm(void *arg, unsigned i)
{
	char	buf[128];
	int	fd;

	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("open(statm)");
	if (read(fd, buf, sizeof(buf)) <= 0)
		fatal("read(statm)");
	fd_close(&fd);
	sink += (uint64_t)buf[0];
}

static void
per_call_costs(struct sb *sb)
{
	static const char *const names[BENCH_METHODS] = {
		"m.0", "m.1", "m.2", "m.3", "m.4", "m.5", "m.6", "m.7",
		"m.8", "m.9", "m.10", "m.11", "m.12", "m.13", "m.14", "m.15",
	};
	struct sb_sampler	 sp;
	struct sb_slot		*s = sb_slot(sb, 7);
	int			 statm, stat;

	if (sb_methods_set(sb, names, BENCH_METHODS) != BENCH_METHODS)
		fatalx("sb_methods_set");
	if (sb_sampler_open(&sp) != 0)
		fatalx("sb_sampler_open");
	if ((statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (stat = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("open(/proc/self)");

	printf("per request, one child (ns per call, best of %d runs):\n",
	    RUNS);
	printf("  sb_method_record():        %8.1f ns (%u calls, %d "
	    "methods)\n", time_op(op_record, s, RECORD_CALLS), RECORD_CALLS,
	    BENCH_METHODS);
	printf("  sb_slot_set_sample():      %8.1f ns\n",
	    time_op(op_set_sample, s, RECORD_CALLS / 4));
	printf("self-sampling (%u calls each):\n", SAMPLE_CALLS);
	printf("  sb_sample() (chosen):      %8.1f ns  RSS exact, CPU in ns\n",
	    time_op(op_sample, &sp, SAMPLE_CALLS));
	printf("    pread(statm) alone:      %8.1f ns\n",
	    time_op(op_pread_statm, &statm, SAMPLE_CALLS));
	printf("    CPU clock alone:         %8.1f ns\n",
	    time_op(op_cpu_clock, NULL, SAMPLE_CALLS));
	printf("  getrusage():               %8.1f ns  no current RSS (peak "
	    "only)\n", time_op(op_getrusage, NULL, SAMPLE_CALLS));
	printf("  pread(/proc/self/stat):    %8.1f ns  CPU in 10 ms ticks\n",
	    time_op(op_pread_stat, &stat, SAMPLE_CALLS));
	printf("  fopen+fscanf(statm):       %8.1f ns  (layout 1's "
	    "sb_self_rss_kb)\n", time_op(op_fopen_statm, NULL, SAMPLE_CALLS));
	printf("  open+read+close(statm):    %8.1f ns\n",
	    time_op(op_open_statm, NULL, SAMPLE_CALLS));
	fd_close(&statm);
	fd_close(&stat);
	sb_sampler_close(&sp);
}

int
main(void)
{
	struct sb		*sb;
	struct sb_limits	 lim = { .max_children = SB_SLOTS };
	char			 svc[SB_NAME_LEN];
	double			 w_alone = 0, r_alone = 0, w_both = 0,
				 r_both = 0, v;
	uint64_t		 unstable = 0, dumps = 0;
	unsigned		 i;
	int			 run, rc;

	log_init("bench_scoreboard");
	(void)snprintf(svc, sizeof(svc), "bench-%d", (int)getpid());
	if ((rc = sb_create(&sb, svc, NULL, 0600, NULL)) != 0)
		return 1;
	sb_set_conf(sb, 1, &lim);
	for (i = 0; i < SB_SLOTS; i++) {
		sb_slot_spawn(sb, i, 1);
		sb_slot_child_start(sb_slot(sb, i), 100000 + (pid_t)i);
		sb_slot_set_state(sb_slot(sb, i), SB_BUSY);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fatal("mmap");

	for (run = 0; run < RUNS; run++) {
		measure(sb, 1);
		if ((v = per_s(WRITER_REQUESTS, sh->writer_ns)) > w_alone)
			w_alone = v;
		measure(sb, 2);
		if ((v = per_s(sh->dumps, sh->reader_ns)) > r_alone)
			r_alone = v;
		measure(sb, 3);
		if ((v = per_s(WRITER_REQUESTS, sh->writer_ns)) > w_both) {
			w_both = v;
			r_both = per_s(sh->dumps, sh->reader_ns);
			unstable = sh->unstable;
			dumps = sh->dumps;
		}
	}
	printf("scoreboard: %u busy slots, %u requests (begin+end+method "
	    "record) per writer run, best of %d runs\n", SB_SLOTS,
	    WRITER_REQUESTS, RUNS);
	printf("  writer alone:        %10.0f requests/s\n", w_alone);
	printf("  reader alone:        %10.0f dumps/s (%.1f us/dump)\n",
	    r_alone, r_alone > 0 ? 1e6 / r_alone : 0.0);
	printf("  writer with reader:  %10.0f requests/s (slowdown %.1f%%)\n",
	    w_both, w_alone > 0 ? 100.0 * (1.0 - w_both / w_alone) : 0.0);
	printf("  reader with writer:  %10.0f dumps/s, %" PRIu64
	    " unstable slot copies in %" PRIu64 " dumps\n", r_both, unstable,
	    dumps);
	per_call_costs(sb);
	(void)munmap(sh, sizeof(*sh));	/* at exit; failure changes nothing */
	sb_destroy(&sb);
	return 0;
}
