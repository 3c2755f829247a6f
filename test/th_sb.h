/*
 * th_sb.h: test helpers for the scoreboard suites (test_sb, test_status).
 *
 * th_sb_create() makes a scoreboard with a name unique to this process
 * and test (it includes getpid()), so suites can run side by side; the
 * caller removes it with sb_destroy().  th_sb_fill() puts a known mix of
 * slots, counters, limits, deaths, bus and queue figures and method
 * calls in it: the values are the TH_* constants below, so tests compare
 * against one source.  th_sb_fake_header() fills a raw header as a
 * creator of layout `version` would, for hand-made damaged segments.
 *
 * th_run() runs a program with stdout and stderr captured (no shell),
 * waiting for it to exit; th_status_bin() is bin/drover-status from
 * $DROVER_BIN.
 *
 * Errors: the helpers fail the current Check test (ck_abort) on any
 * system error, since a test cannot go on without them.
 */
#ifndef DROVER_TH_SB_H
#define DROVER_TH_SB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scoreboard/sb.h"

/* The mix th_sb_fill() writes. */
#define TH_IDLE		3	/* slots 0-2 */
#define TH_BUSY		2	/* slots 3-4 */
#define TH_SESSION	1	/* slot 5 */
#define TH_STARTING	1	/* slot 6 */
#define TH_EXITING	1	/* slot 7 */
#define TH_DEAD		1	/* slot 9, killed by SIGSEGV with core */
/* slot 8 reaped after a clean exit: EMPTY again */
#define TH_CHILDREN	(TH_IDLE + TH_BUSY + TH_SESSION + TH_STARTING + \
    TH_EXITING)
#define TH_DEATHS	2	/* slot 8 clean, then slot 9 abnormal */
#define TH_METHOD	"opensrf.math.add"
#define TH_CLIENT	"opensrf@private.localhost/client_\"quoted\""
#define TH_THREAD	"1732480000.123456"
#define TH_XID		"1732480000123abc"
#define TH_GENERATION	7
#define TH_PID_BASE	900000	/* fake child pids: base + slot */
#define TH_ACCEPTED	1234
#define TH_REJECTED	5
#define TH_QUEUED	4
#define TH_MAX_QUEUED	17
#define TH_UNSENT	1
/* Layout 2: limits, bus, queues, samples, reasons. */
#define TH_MAX_RSS_GROWTH_KB	65536
#define TH_MAX_RSS_KB		524288
#define TH_LIFETIME_S		3600
#define TH_BACKLOG_AGE_US	1500000	/* oldest of the parent's backlog */
#define TH_SQ_DEPTH		12	/* the Redis service queue */
#define TH_SQ_OLDEST_MS		800
#define TH_BUS_NOT_UP		2	/* slot 6 connecting, slot 7 down */
#define TH_RSS_BASE_KB		8192	/* slots 0-2, after init */
#define TH_RSS_KB(i)		(10240 + (i))	/* slots 0-2 after a request */
#define TH_RSS_TOTAL_KB		(3 * 10240 + 0 + 1 + 2)
#define TH_CPU_US(i)		(5000 + (i))
#define TH_DEATH_RSS_KB		20000	/* slot 8 at its death */
#define TH_RECYCLED		1	/* slot 8 left after max_requests */
#define TH_ADDR		"opensrf:client:opensrf:private.localhost:th:%d:ab12"
/*
 * Methods: the table has TH_M_ADD, TH_M_SUB, TH_M_DIV.  add gets the
 * brief's mix over slots 0 and 1: 100 us ok, 1 s ok (the 1.048576 s
 * bucket), 50 us 404, 2 ms 500.  sub: 300 us ok on slot 2.  div: 10 ms
 * ok on slot 9, folded into the retired row when it crashes.  other:
 * one unknown method on slot 8, 404 after 70 us, folded at its clean
 * exit.
 */
#define TH_M_ADD		0
#define TH_M_SUB		1
#define TH_M_DIV		2
#define TH_METHODS		3
#define TH_M_NAMES		{ "opensrf.math.add", "opensrf.math.sub", \
	"opensrf.math.div" }
#define TH_ADD_CALLS		4
#define TH_ADD_SUM_US		(100 + 1000000 + 50 + 2000)

struct sb;

/* "th-<tag>-<pid>" into svc (SB_NAME_LEN); creates it with mode. */
struct sb *th_sb_create(const char *tag, const char *instance, mode_t mode,
	    char *svc, size_t svcsz);
void	th_sb_fill(struct sb *);
const struct sb_limits *th_sb_limits(void);
void	th_sb_fake_header(struct sb_header *h, uint32_t version);

/*
 * Unlink every /dev/shm/drover.th-*-<pid>[@instance] whose <pid> is no
 * longer alive: what a failed test (which skips its own cleanup) left.
 * For tcase_add_unchecked_fixture(), as the teardown.
 */
void	th_sb_sweep(void);

/* Write a raw segment `/drover.<svc>` of len bytes from buf (fakes). */
void	th_shm_write(const char *svc, const void *buf, size_t len);
void	th_shm_unlink(const char *svc);

/*
 * Run argv (argv[0] a path), capture stdout/stderr into malloc'd strings
 * the caller frees; returns the wait status.
 */
int	th_run(char *const argv[], char **out, char **err);
/* $DROVER_BIN/drover-status; static buffer. */
const char *th_status_bin(void);

#endif /* DROVER_TH_SB_H */
