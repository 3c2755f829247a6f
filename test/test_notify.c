/*
 * test_notify.c: droverd under a service manager (sd_notify(3)).
 *
 * The test plays systemd: it binds the notification socket, at a path
 * and as an abstract name, and starts a real droverd on the local bus
 * with $NOTIFY_SOCKET pointing at it (test/th_notify.h).  Checked:
 * READY=1 is the first notification and arrives after the scoreboard
 * shows min_children children idle (the kernel's receive time against
 * the slots' own state times); the STATUS= lines tell the scoreboard's
 * truth (children, busy, queued) and come only when a figure changed;
 * a SIGHUP gives RELOADING=1, then READY=1 once the new generation's
 * children are idle; SIGTERM gives STOPPING=1.  Children that can never
 * become ready mean no READY=1 at all.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "th_droverd.h"
#include "th_notify.h"
#include "util.h"

#define WAIT_MS		15000

static struct th_droverd D;
static struct th_notify	 N = { -1, "" };

static void
teardown(void)
{
	th_droverd_cleanup(&D);
	th_notify_close(&N);
}

/*
 * At least n slots of generation gen went IDLE no later than rx_us
 * (wall clock), and are still IDLE: they were ready when the
 * notification arrived.
 */
static void
assert_idle_before(uint64_t rx_us, uint32_t gen, int n)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	int		 i, k = 0;

	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_IDLE &&
		    v->slot[i].generation == gen &&
		    v->slot[i].state_us <= rx_us)
			k++;
	free(v);
	ck_assert_msg(k >= n, "%d of %d children of generation %u idle "
	    "when READY came", k, n, gen);
}

/*
 * Read notifications until one holds `want`; every STATUS on the way
 * must differ from the one before it (sent only on a change).
 */
static void
status_until(const char *want, char *last, size_t sz)
{
	char		buf[TH_NOTE_MAX], *st;
	uint64_t	rx, end = mono_ms() + WAIT_MS;

	for (;;) {
		ck_assert_msg(mono_ms() < end, "no \"%s\"", want);
		th_notify_next(&N, buf, sizeof(buf), &rx,
		    (int)(end - mono_ms()));
		if ((st = strstr(buf, "STATUS=")) != NULL) {
			ck_assert_msg(strcmp(st, last) != 0, "STATUS told "
			    "twice: %s", st);
			str_copy(last, st, sz);
		}
		if (strstr(buf, want) != NULL)
			return;
	}
}

START_TEST(test_lifecycle)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 2,
	    .max_backlog_queue = 10 };
	struct th_view	*v = xmalloc(sizeof(*v));
	struct th_reply	 r;
	char		 buf[TH_NOTE_MAX], last[TH_NOTE_MAX];
	uint64_t	 rx;
	int		 i, st;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	th_notify_open(&N, D.dir, _i);
	th_droverd_run(&D, 2);

	/* the first word is READY, once both children were idle */
	th_notify_next(&N, buf, sizeof(buf), &rx, WAIT_MS);
	ck_assert_msg(strncmp(buf, "READY=1\n", 8) == 0, "first: %s", buf);
	ck_assert_str_eq(buf + 8, "STATUS=serving 2 children, 0 busy, "
	    "0 queued");
	assert_idle_before(rx, 1, 2);
	str_copy(last, buf + 8, sizeof(last));

	/* two busy, one waiting: told on the tick, and true */
	for (i = 0; i < 3; i++)
		th_send(&D, NULL, 1, "drover.test.sleep", "[4]", NULL);
	status_until("STATUS=serving 2 children, 2 busy, 1 queued", last,
	    sizeof(last));
	th_view(&D, v);
	ck_assert_uint_eq(v->sum.by_state[SB_BUSY], 2);
	ck_assert_uint_eq(v->info.counters[SB_C_QUEUED], 1);
	for (i = 0; i < 3; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
	}
	status_until("STATUS=serving 2 children, 0 busy, 0 queued", last,
	    sizeof(last));

	/* reload: RELOADING, then READY once generation 2 is idle */
	ck_assert_int_eq(kill(D.pid, SIGHUP), 0);
	th_notify_next(&N, buf, sizeof(buf), &rx, WAIT_MS);
	ck_assert_msg(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "after SIGHUP: %s", buf);
	th_notify_wait(&N, "READY=1", buf, sizeof(buf), &rx, WAIT_MS);
	assert_idle_before(rx, 2, 2);

	/* stop */
	ck_assert_int_eq(kill(D.pid, SIGTERM), 0);
	th_notify_wait(&N, "STOPPING=1", buf, sizeof(buf), &rx, WAIT_MS);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(v);
}
END_TEST

/* Children that never become ready: no READY, and a STOPPING at the end. */
START_TEST(test_never_ready)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1,
	    .app_settings = "<fail_child_init>1</fail_child_init>" };
	const char	*extra[] = { "-f", NULL };
	char		 buf[TH_NOTE_MAX];
	uint64_t	 rx;
	int		 st, stopping = 0;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	th_notify_open(&N, D.dir, 0);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	while (th_notify_pending(&N)) {
		th_notify_next(&N, buf, sizeof(buf), &rx, 0);
		ck_assert_msg(strstr(buf, "READY=1") == NULL, "told %s", buf);
		stopping += strstr(buf, "STOPPING=1") != NULL;
	}
	ck_assert_int_eq(stopping, 1);
}
END_TEST

Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc;

	tc = tcase_create("droverd");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	/* 0: a socket path, 1: an abstract name */
	tcase_add_loop_test(tc, test_lifecycle, 0, 2);
	tcase_add_test(tc, test_never_ready);
	suite_add_tcase(s, tc);
	return s;
}
