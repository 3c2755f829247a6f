/*
 * bench_scoreboard.c: what reading the scoreboard costs its writers.
 *
 * A scoreboard with 256 busy slots.  A writer process plays the children:
 * it runs WRITER_REQUESTS requests round-robin over the slots, each one
 * sb_slot_begin_request() plus sb_slot_end_request() (the two seqlocked
 * writes a real request makes).  A reader process plays drover-status:
 * each "dump" copies the header, all 256 slots and the death ring, as
 * drover-status does before formatting.  Measured, best of RUNS:
 *
 *	writer alone		requests/s
 *	reader alone		dumps/s
 *	both at once		requests/s (and the writer's slowdown against
 *				alone), dumps/s, unstable slot copies
 *
 * Processes, not threads, because that is how drover shares the segment.
 * Timing belongs here, never in a test (STYLE.md).  Run with `make bench`;
 * record the figures in docs/benchmarks.md with the machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
		sb_slot_end_request(s, 250, 200, 1, SB_BUSY);
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
	printf("scoreboard: %u busy slots, %u requests (begin+end) per "
	    "writer run, best of %d runs\n", SB_SLOTS, WRITER_REQUESTS, RUNS);
	printf("  writer alone:        %10.0f requests/s\n", w_alone);
	printf("  reader alone:        %10.0f dumps/s (%.1f us/dump)\n",
	    r_alone, r_alone > 0 ? 1e6 / r_alone : 0.0);
	printf("  writer with reader:  %10.0f requests/s (slowdown %.1f%%)\n",
	    w_both, w_alone > 0 ? 100.0 * (1.0 - w_both / w_alone) : 0.0);
	printf("  reader with writer:  %10.0f dumps/s, %" PRIu64
	    " unstable slot copies in %" PRIu64 " dumps\n", r_both, unstable,
	    dumps);
	(void)munmap(sh, sizeof(*sh));	/* at exit; failure changes nothing */
	sb_destroy(&sb);
	return 0;
}
